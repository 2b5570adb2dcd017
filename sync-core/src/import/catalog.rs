//! Catalog files: one row per variant, the product's fields repeated on
//! each of its rows, grouped by handle. Importing creates the products
//! that do not exist and updates those that do (matched by handle, or by
//! SKU), all or nothing; it never deletes. A column left out of the file
//! leaves that field as it is. The export writes exactly this format.

use std::collections::{HashMap, HashSet};

use super::table::{Record, read_table};
use super::{ApplyOutcome, ImportPreview, RowError, whole_number};
use crate::Result;
use crate::domain::{Barcode, Currency, Money, ProductId, Sku};
use crate::storage::{
    CatalogWrite, ProductDetail, ProductFilter, ProductImage, Storage, VariantDetail, VariantWrite, product_handle,
};

/// The columns of a catalog file, in the order the export writes them.
pub const CATALOG_COLUMNS: [&str; 30] = [
    "handle",
    "name",
    "description",
    "category",
    "brand",
    "active",
    "auto_sync",
    "tags",
    "tax_class",
    "supplier",
    "supplier_code",
    "supplier_price",
    "supplier_currency",
    "reorder_point",
    "reorder_quantity",
    "image_urls",
    "option1_name",
    "option1_value",
    "option2_name",
    "option2_value",
    "option3_name",
    "option3_value",
    "sku",
    "barcode",
    "price",
    "currency",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
];

/// The product's own fields: the same on every row of a product.
const PRODUCT_FIELDS: [&str; 19] = [
    "handle",
    "name",
    "description",
    "category",
    "brand",
    "active",
    "auto_sync",
    "tags",
    "tax_class",
    "supplier",
    "supplier_code",
    "supplier_price",
    "supplier_currency",
    "reorder_point",
    "reorder_quantity",
    "image_urls",
    "option1_name",
    "option2_name",
    "option3_name",
];

/// What importing a file does to one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogChange {
    /// The product's first line in the file.
    pub line: u64,
    pub handle: String,
    pub name: String,
    pub created: bool,
    /// Each change, e.g. "price of TEE-1: 29.00 NZD → 31.00 NZD".
    pub details: Vec<String>,
}

/// Where each column is.
struct Columns(HashMap<String, usize>);

impl Columns {
    fn at(&self, name: &str) -> Option<usize> {
        self.0.get(name).copied()
    }

    /// The cell, or none when the file has no such column. Descriptions keep their spacing.
    fn cell<'r>(&self, r: &'r Record, name: &str) -> Option<&'r str> {
        let at = self.at(name)?;
        Some(if name == "description" {
            r.raw(Some(at))
        } else {
            r.get(Some(at))
        })
    }
}

struct Group<'a> {
    /// `h:<handle>` or `n:<name>` for a new product without a handle.
    key: String,
    rows: Vec<(&'a Record, Sku)>,
}

/// Reads and checks a catalog file against the catalog, without writing anything.
pub async fn preview_catalog(storage: &Storage, bytes: &[u8]) -> Result<ImportPreview<CatalogChange>> {
    Ok(plan(storage, bytes).await?.0)
}

/// Previews the file again and, if no row is bad, writes every product in
/// one transaction.
pub async fn apply_catalog(storage: &Storage, bytes: &[u8]) -> Result<ApplyOutcome<CatalogChange>> {
    let (preview, writes) = plan(storage, bytes).await?;
    if !preview.is_clean() {
        return Ok(ApplyOutcome::Refused(preview));
    }
    if !writes.is_empty() {
        storage.write_catalog(&writes).await?;
    }
    Ok(ApplyOutcome::Applied {
        preview,
        replayed: false,
    })
}

async fn plan(storage: &Storage, bytes: &[u8]) -> Result<(ImportPreview<CatalogChange>, Vec<CatalogWrite>)> {
    let refused = |e| Ok((ImportPreview::refused(e), Vec::new()));
    let (table, mut errors) = match read_table(bytes) {
        Ok(t) => t,
        Err(e) => return refused(e),
    };
    let rows = table.records.len() + errors.len();
    let expected = CATALOG_COLUMNS.join(", ");
    let missing: &[&str] = if table.column("sku").is_none() { &["sku"] } else { &[] };
    if let Err(e) = table.check_columns(|c| CATALOG_COLUMNS.contains(&c), missing, &expected) {
        return refused(e);
    }
    let cols = Columns(table.header.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect());

    // Every SKU once.
    let mut first_of_sku: HashMap<String, u64> = HashMap::new();
    let mut rows_ok: Vec<(&Record, Sku)> = Vec::new();
    for r in &table.records {
        match Sku::parse(r.get(cols.at("sku"))) {
            Err(e) => errors.push(RowError::new(r.line, e.message)),
            Ok(sku) => match first_of_sku.get(sku.as_str()) {
                Some(first) => errors.push(RowError::new(r.line, format!("SKU {sku} is already on line {first}"))),
                None => {
                    first_of_sku.insert(sku.to_string(), r.line);
                    rows_ok.push((r, sku));
                }
            },
        }
    }

    // What exists already.
    let skus: Vec<Sku> = rows_ok.iter().map(|(_, s)| s.clone()).collect();
    let owners = storage.variant_owners(&skus).await?;
    let handles: Vec<String> = rows_ok
        .iter()
        .filter_map(|(r, _)| cols.cell(r, "handle").filter(|h| !h.is_empty()).map(str::to_owned))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let by_handle = storage.product_ids_by_handle(&handles).await?;
    let mut ids: Vec<ProductId> = owners
        .values()
        .map(|(_, p)| *p)
        .chain(by_handle.values().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let existing: HashMap<ProductId, ProductDetail> = storage
        .products_by_ids(&ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();

    // Rows into products.
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (r, sku) in rows_ok {
        let handle = cols.cell(r, "handle").unwrap_or_default();
        let owner = owners.get(sku.as_str()).map(|(_, p)| existing.get(p));
        let key = match (handle, owner) {
            (_, Some(None)) => {
                errors.push(RowError::new(r.line, format!("SKU {sku} belongs to a deleted product")));
                continue;
            }
            ("", Some(Some(p))) => format!("h:{}", p.handle),
            (h, Some(Some(p))) if h != p.handle => {
                errors.push(RowError::new(
                    r.line,
                    format!(
                        "SKU {sku} belongs to the product with handle {:?}, not {h:?}; a variant cannot move to another product",
                        p.handle
                    ),
                ));
                continue;
            }
            ("", None) => match cols.cell(r, "name").unwrap_or_default() {
                "" => {
                    errors.push(RowError::new(
                        r.line,
                        format!("SKU {sku} is new: give its product a handle or a name"),
                    ));
                    continue;
                }
                name => format!("n:{name}"),
            },
            (h, _) => {
                if let Err(reason) = check_handle(h) {
                    errors.push(RowError::new(r.line, reason));
                    continue;
                }
                format!("h:{h}")
            }
        };
        let at = *group_of.entry(key.clone()).or_insert_with(|| {
            groups.push(Group { key, rows: Vec::new() });
            groups.len() - 1
        });
        groups[at].rows.push((r, sku));
    }

    let mut planned_handles: HashSet<String> = HashSet::new();
    let mut changes = Vec::new();
    let mut writes = Vec::new();
    let mut unchanged = 0;
    for g in &groups {
        let (current, handle) = match g.key.split_once(':') {
            Some(("h", h)) => match by_handle.get(h) {
                Some(id) => match existing.get(id) {
                    Some(p) => (Some(p), h.to_owned()),
                    None => {
                        errors.push(RowError::new(
                            g.rows[0].0.line,
                            format!("the handle {h:?} belonged to a deleted product; choose another"),
                        ));
                        continue;
                    }
                },
                None => (None, h.to_owned()),
            },
            _ => {
                let name = g.key.trim_start_matches("n:");
                (
                    None,
                    free_handle(storage, &product_handle(name), &planned_handles).await?,
                )
            }
        };
        if current.is_none() && !planned_handles.insert(handle.clone()) {
            errors.push(RowError::new(
                g.rows[0].0.line,
                format!("the handle {handle:?} is used by two products in this file"),
            ));
            continue;
        }
        match plan_product(&cols, g, current, handle) {
            Ok((write, change)) => {
                match change {
                    Some(c) => changes.push(c),
                    None => unchanged += 1,
                }
                if let Some(w) = write {
                    writes.push(w);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok((
        ImportPreview {
            rows,
            changes,
            unchanged,
            errors,
        },
        writes,
    ))
}

/// A handle is lowercase letters, digits and dashes.
fn check_handle(h: &str) -> Result<(), String> {
    let ok = (1..=255).contains(&h.len())
        && h.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !h.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "handle {h:?} is not a handle: lowercase letters, digits and '-', e.g. merino-crew-tee"
        ))
    }
}

/// `base`, or `base-2`, `base-3`, … if taken in the catalog or this file.
async fn free_handle(storage: &Storage, base: &str, planned: &HashSet<String>) -> Result<String> {
    let taken: HashSet<String> = storage.handles_like(base).await?.into_iter().collect();
    let mut candidate = base.to_owned();
    let mut n = 1;
    while taken.contains(&candidate) || planned.contains(&candidate) {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}

/// The product a group of rows leaves, and what changes; `None` for a
/// product already as the file says.
fn plan_product(
    cols: &Columns,
    g: &Group,
    current: Option<&ProductDetail>,
    handle: String,
) -> Result<(Option<CatalogWrite>, Option<CatalogChange>), Vec<RowError>> {
    let (first, _) = g.rows[0];
    let mut errors = Vec::new();
    // Later rows repeat the product's fields or leave them empty.
    for (r, _) in &g.rows[1..] {
        for f in PRODUCT_FIELDS {
            let (Some(v), Some(v0)) = (cols.cell(r, f), cols.cell(first, f)) else {
                continue;
            };
            if !v.is_empty() && v != v0 {
                errors.push(RowError::new(
                    r.line,
                    format!(
                        "{f} {v:?} differs from line {} ({v0:?}) for the same product",
                        first.line
                    ),
                ));
            }
        }
    }
    let mut err = |field: &str, reason: String| errors.push(RowError::new(first.line, format!("{field}: {reason}")));
    let text = |f: &str, now: Option<&String>| {
        cols.cell(first, f)
            .map(str::to_owned)
            .or_else(|| now.cloned())
            .unwrap_or_default()
    };

    let name = match cols.cell(first, "name") {
        Some("") => {
            err("name", "a product needs a name".into());
            String::new()
        }
        Some(n) if n.chars().count() > 255 => {
            err("name", "a product name is at most 255 characters".into());
            String::new()
        }
        Some(n) => n.to_owned(),
        None => match current {
            Some(p) => p.name.clone(),
            None => {
                err("name", "a new product needs a name".into());
                String::new()
            }
        },
    };
    let flag = |f: &str, now: Option<bool>, default: bool| -> Result<bool, String> {
        match cols.cell(first, f).unwrap_or_default() {
            "" => Ok(now.unwrap_or(default)),
            v => parse_bool(v).ok_or_else(|| format!("{v:?} is not true or false")),
        }
    };
    let active = flag("active", current.map(|p| p.active), true).unwrap_or_else(|e| {
        err("active", e);
        true
    });
    let auto_sync = flag("auto_sync", current.map(|p| p.auto_sync), false).unwrap_or_else(|e| {
        err("auto_sync", e);
        false
    });
    let count = |f: &str, now: Option<i64>| -> Result<Option<i64>, String> {
        match cols.cell(first, f) {
            None => Ok(now),
            Some("") => Ok(None),
            Some(v) => match whole_number(v) {
                Some(n) if n >= 0 => Ok(Some(n)),
                _ => Err(format!("{v:?} is not a whole number of 0 or more")),
            },
        }
    };
    let reorder_point = count("reorder_point", current.and_then(|p| p.reorder_point)).unwrap_or_else(|e| {
        err("reorder_point", e);
        None
    });
    let reorder_quantity = count("reorder_quantity", current.and_then(|p| p.reorder_quantity)).unwrap_or_else(|e| {
        err("reorder_quantity", e);
        None
    });
    let current_supplier_price = current.and_then(|p| {
        let currency = Currency::parse(p.supplier_price_currency.as_deref()?).ok()?;
        Some(Money::new(p.supplier_price_minor?, currency))
    });
    let supplier_price = match cols.cell(first, "supplier_price") {
        None => current_supplier_price,
        Some("") => None,
        Some(amount) => {
            let currency = match cols.cell(first, "supplier_currency").filter(|c| !c.is_empty()) {
                Some(c) => Currency::parse(c).map(Some).map_err(|e| e.message),
                None => Ok(current_supplier_price
                    .map(|m| m.currency)
                    .or_else(|| cols.cell(first, "currency").and_then(|c| Currency::parse(c).ok()))),
            };
            match currency {
                Ok(Some(c)) => Money::parse(amount, c).map(Some).unwrap_or_else(|e| {
                    err("supplier_price", e.message);
                    None
                }),
                Ok(None) => {
                    err("supplier_price", "needs a supplier_currency".into());
                    None
                }
                Err(e) => {
                    err("supplier_currency", e);
                    None
                }
            }
        }
    };
    let image_urls = cols.cell(first, "image_urls").map(|cell| {
        let urls: Vec<String> = cell.split_whitespace().map(str::to_owned).collect();
        for u in &urls {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                err("image_urls", format!("{u:?} is not an http:// or https:// address"));
            }
        }
        urls
    });
    let mut option_names: Vec<String> = (0..3)
        .map(|i| {
            let f = format!("option{}_name", i + 1);
            cols.cell(first, &f)
                .map(str::to_owned)
                .or_else(|| current.and_then(|p| p.option_names().get(i).map(|s| (*s).to_owned())))
                .unwrap_or_default()
        })
        .collect();
    while option_names.last().is_some_and(String::is_empty) {
        option_names.pop();
    }
    if let Some(gap) = option_names.iter().position(String::is_empty) {
        err(
            &format!("option{}_name", gap + 1),
            "is empty while a later option is named".into(),
        );
    }
    let mut product = CatalogWrite {
        existing: current.map(|p| p.id),
        handle: handle.clone(),
        name,
        description: text("description", current.map(|p| &p.description)),
        brand: text("brand", current.map(|p| &p.brand)),
        category: text("category", current.map(|p| &p.category)),
        option_names,
        active,
        auto_sync,
        supplier: text("supplier", current.map(|p| &p.supplier)),
        supplier_code: text("supplier_code", current.map(|p| &p.supplier_code)),
        supplier_price,
        reorder_point,
        reorder_quantity,
        tax_class: text("tax_class", current.map(|p| &p.tax_class)),
        tags: text("tags", current.map(|p| &p.tags)),
        // An image kept from before keeps its alt text.
        images: image_urls.map(|urls| {
            urls.into_iter()
                .map(|url| {
                    let alt = current
                        .and_then(|p| p.images.iter().find(|i| i.url == url))
                        .map(|i| i.alt.clone())
                        .unwrap_or_default();
                    ProductImage { url, alt }
                })
                .collect()
        }),
        remove_variants: Vec::new(),
        variants: Vec::new(),
    };

    // The variants.
    let by_sku: HashMap<&str, &VariantDetail> = current
        .map(|p| p.variants.iter().map(|v| (v.sku.as_str(), v)).collect())
        .unwrap_or_default();
    for (r, sku) in &g.rows {
        match plan_variant(
            cols,
            r,
            sku,
            by_sku.get(sku.as_str()).copied(),
            product.option_names.len(),
        ) {
            Ok(v) => product.variants.push(v),
            Err(reason) => errors.push(RowError::new(r.line, reason)),
        }
    }
    if let Some(p) = current {
        let in_file: HashSet<&str> = g.rows.iter().map(|(_, s)| s.as_str()).collect();
        for v in p.variants.iter().filter(|v| !in_file.contains(v.sku.as_str())) {
            if v.option_values().len() != product.option_names.len() {
                errors.push(RowError::new(
                    first.line,
                    format!(
                        "the product would have {} options, but its variant {} (not in this file) has {} option values; list it in the file too",
                        product.option_names.len(),
                        v.sku,
                        v.option_values().len()
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let details = match current {
        None => vec![format!(
            "new product with {} variant{}",
            product.variants.len(),
            if product.variants.len() == 1 { "" } else { "s" }
        )],
        Some(p) => differences(p, &product),
    };
    if details.is_empty() {
        return Ok((None, None));
    }
    let change = CatalogChange {
        line: first.line,
        handle,
        name: product.name.clone(),
        created: current.is_none(),
        details,
    };
    Ok((Some(product), Some(change)))
}

fn plan_variant(
    cols: &Columns,
    r: &Record,
    sku: &Sku,
    current: Option<&VariantDetail>,
    options: usize,
) -> Result<VariantWrite, String> {
    let mut problems = Vec::new();
    let barcode = match cols.cell(r, "barcode") {
        None => current
            .and_then(|v| v.barcode.as_deref())
            .and_then(|b| Barcode::parse(b).ok()),
        Some("") => None,
        Some(b) => Barcode::parse(b).map_err(|e| problems.push(e.message)).ok(),
    };
    let mut values: Vec<String> = Vec::new();
    for i in 0..3 {
        let f = format!("option{}_value", i + 1);
        let v = cols
            .cell(r, &f)
            .map(str::to_owned)
            .or_else(|| current.and_then(|v| v.option_values().get(i).map(|s| (*s).to_owned())))
            .unwrap_or_default();
        match (i < options, v.is_empty()) {
            (true, true) => problems.push(format!("{f} is empty, but the product has {options} option(s)")),
            (false, false) => problems.push(format!("{f} is {v:?}, but the product has {options} option(s)")),
            (true, false) => values.push(v),
            (false, true) => {}
        }
    }
    let currency = match cols.cell(r, "currency").filter(|c| !c.is_empty()) {
        Some(c) => Currency::parse(c).map_err(|e| problems.push(e.message)).ok(),
        None => match current.and_then(|v| Currency::parse(&v.price_currency).ok()) {
            Some(c) => Some(c),
            None => {
                problems.push("currency is empty".into());
                None
            }
        },
    };
    let price = match (cols.cell(r, "price"), currency) {
        (_, None) => None,
        (Some(""), _) => {
            problems.push("price is empty".into());
            None
        }
        (Some(p), Some(c)) => Money::parse(p, c).map_err(|e| problems.push(e.message)).ok(),
        (None, Some(c)) => match current {
            Some(v) => Some(Money::new(v.price_minor, c)),
            None => {
                problems.push(format!("the new variant {sku} needs a price"));
                None
            }
        },
    };
    let mut measure = |f: &str, now: Option<i64>| match cols.cell(r, f) {
        None => now,
        Some("") => None,
        Some(v) => match whole_number(v) {
            Some(n) if n >= 0 => Some(n),
            _ => {
                problems.push(format!("{f} {v:?} is not a whole number of 0 or more"));
                None
            }
        },
    };
    let weight_grams = measure("weight_grams", current.and_then(|v| v.weight_grams));
    let length_mm = measure("length_mm", current.and_then(|v| v.length_mm));
    let width_mm = measure("width_mm", current.and_then(|v| v.width_mm));
    let height_mm = measure("height_mm", current.and_then(|v| v.height_mm));
    match price {
        Some(price) if problems.is_empty() => Ok(VariantWrite {
            existing: current.map(|v| v.id),
            sku: sku.clone(),
            barcode,
            option_values: values,
            price,
            weight_grams,
            length_mm,
            width_mm,
            height_mm,
        }),
        _ => Err(problems.join("; ")),
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "on" => Some(true),
        "false" | "no" | "n" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// What changes from `p` to `w`, field by field.
fn differences(p: &ProductDetail, w: &CatalogWrite) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |label: &str, before: String, after: String| {
        if before != after {
            out.push(format!("{label}: {before:?} → {after:?}"));
        }
    };
    field("name", p.name.clone(), w.name.clone());
    field("category", p.category.clone(), w.category.clone());
    field("brand", p.brand.clone(), w.brand.clone());
    field("active", p.active.to_string(), w.active.to_string());
    field("auto_sync", p.auto_sync.to_string(), w.auto_sync.to_string());
    field("tags", p.tags.clone(), w.tags.clone());
    field("tax_class", p.tax_class.clone(), w.tax_class.clone());
    field("supplier", p.supplier.clone(), w.supplier.clone());
    field("supplier_code", p.supplier_code.clone(), w.supplier_code.clone());
    let supplier_price = |minor: Option<i64>, currency: Option<&str>| match (minor, currency) {
        (Some(m), Some(c)) => Currency::parse(c)
            .map(|c| Money::new(m, c).to_string())
            .unwrap_or_default(),
        _ => "none".to_owned(),
    };
    field(
        "supplier_price",
        supplier_price(p.supplier_price_minor, p.supplier_price_currency.as_deref()),
        supplier_price(
            w.supplier_price.map(|m| m.minor),
            w.supplier_price.as_ref().map(|m| m.currency.as_str()),
        ),
    );
    let number = |n: Option<i64>| n.map_or_else(|| "none".to_owned(), |n| n.to_string());
    field("reorder_point", number(p.reorder_point), number(w.reorder_point));
    field(
        "reorder_quantity",
        number(p.reorder_quantity),
        number(w.reorder_quantity),
    );
    field("options", p.option_names().join(", "), w.option_names.join(", "));
    if let Some(images) = &w.images {
        let urls: Vec<&str> = images.iter().map(|i| i.url.as_str()).collect();
        field("image_urls", p.image_urls().join(" "), urls.join(" "));
    }
    if p.description != w.description {
        out.push("description changed".into());
    }
    let current: HashMap<&str, &VariantDetail> = p.variants.iter().map(|v| (v.sku.as_str(), v)).collect();
    for v in &w.variants {
        let Some(c) = current.get(v.sku.as_str()) else {
            out.push(format!("new variant {}", v.sku));
            continue;
        };
        let mut field = |label: &str, before: String, after: String| {
            if before != after {
                out.push(format!("{label} of {}: {before} → {after}", v.sku));
            }
        };
        field(
            "barcode",
            c.barcode.clone().unwrap_or_else(|| "none".into()),
            v.barcode.as_ref().map_or_else(|| "none".into(), |b| b.to_string()),
        );
        field("options", c.option_values().join(" / "), v.option_values.join(" / "));
        field(
            "price",
            c.price().map_or_else(|| "none".into(), |m| m.to_string()),
            v.price.to_string(),
        );
        field("weight_grams", number(c.weight_grams), number(v.weight_grams));
        field(
            "dimensions_mm",
            format!("{}×{}×{}", number(c.length_mm), number(c.width_mm), number(c.height_mm)),
            format!("{}×{}×{}", number(v.length_mm), number(v.width_mm), number(v.height_mm)),
        );
    }
    out
}

/// An amount in its currency's decimals, without the currency: "29.00".
fn amount(minor: i64, currency: &str) -> String {
    let digits = Currency::parse(currency).map_or(2, |c| c.minor_digits());
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = digits as usize
    )
}

/// One row of the export per variant, in `CATALOG_COLUMNS` order.
fn export_row(p: &ProductDetail, v: &VariantDetail) -> Vec<String> {
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    vec![
        p.handle.clone(),
        p.name.clone(),
        p.description.clone(),
        p.category.clone(),
        p.brand.clone(),
        p.active.to_string(),
        p.auto_sync.to_string(),
        p.tags.clone(),
        p.tax_class.clone(),
        p.supplier.clone(),
        p.supplier_code.clone(),
        match (p.supplier_price_minor, &p.supplier_price_currency) {
            (Some(m), Some(c)) => amount(m, c),
            _ => String::new(),
        },
        match p.supplier_price_minor {
            Some(_) => text(&p.supplier_price_currency),
            None => String::new(),
        },
        number(p.reorder_point),
        number(p.reorder_quantity),
        p.image_urls().join(" "),
        text(&p.option1_name),
        text(&v.option1_value),
        text(&p.option2_name),
        text(&v.option2_value),
        text(&p.option3_name),
        text(&v.option3_value),
        v.sku.clone(),
        text(&v.barcode),
        amount(v.price_minor, &v.price_currency),
        v.price_currency.clone(),
        number(v.weight_grams),
        number(v.length_mm),
        number(v.width_mm),
        number(v.height_mm),
    ]
}

/// The whole catalog as a catalog file, products by name, each variant a
/// row: `import catalog` takes it back.
pub async fn export_catalog(storage: &Storage) -> Result<Vec<u8>> {
    let io = |e: csv::Error| crate::Error::Io {
        context: "cannot write the catalog CSV".into(),
        source: std::io::Error::other(e),
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CATALOG_COLUMNS).map_err(io)?;
    let mut filter = ProductFilter {
        limit: 500,
        ..ProductFilter::default()
    };
    loop {
        let page = storage.list_products(&filter).await?;
        for p in &page.items {
            for v in &p.variants {
                out.write_record(export_row(p, v)).map_err(io)?;
            }
        }
        match page.next_after {
            Some(after) => filter.after = Some(after),
            None => break,
        }
    }
    out.into_inner().map_err(|e| crate::Error::Io {
        context: "cannot write the catalog CSV".into(),
        source: std::io::Error::other(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_their_currency_s_decimals() {
        assert_eq!(amount(2900, "NZD"), "29.00");
        assert_eq!(amount(5, "NZD"), "0.05");
        assert_eq!(amount(500, "JPY"), "500");
    }

    #[test]
    fn handles_are_lowercase_slugs() {
        assert!(check_handle("merino-crew-tee-2").is_ok());
        assert!(check_handle("Merino").is_err());
        assert!(check_handle("a b").is_err());
        assert!(check_handle("-x").is_err());
    }

    #[test]
    fn booleans_read_as_spreadsheets_write_them() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("no"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn the_export_row_has_a_value_per_column() {
        let nzd = || "NZD".to_owned();
        let p = ProductDetail {
            id: ProductId::new(1),
            name: "Tee".into(),
            handle: "tee".into(),
            description: "Soft, \"heavy\"\ncotton".into(),
            brand: String::new(),
            category: String::new(),
            option1_name: Some("Size".into()),
            option2_name: None,
            option3_name: None,
            active: true,
            auto_sync: false,
            supplier: String::new(),
            supplier_code: String::new(),
            supplier_price_minor: None,
            supplier_price_currency: None,
            reorder_point: None,
            reorder_quantity: None,
            tax_class: String::new(),
            tags: String::new(),
            created_at: crate::domain::Timestamp::now(),
            updated_at: crate::domain::Timestamp::now(),
            variants: Vec::new(),
            images: Vec::new(),
        };
        let v = VariantDetail {
            id: crate::domain::VariantId::new(1),
            product_id: p.id,
            sku: "TEE-S".into(),
            barcode: None,
            option1_value: Some("S".into()),
            option2_value: None,
            option3_value: None,
            price_minor: 2900,
            price_currency: nzd(),
            weight_grams: Some(180),
            length_mm: None,
            width_mm: None,
            height_mm: None,
            stock: Vec::new(),
        };
        let row = export_row(&p, &v);
        assert_eq!(row.len(), CATALOG_COLUMNS.len());
        let at = |c: &str| &row[CATALOG_COLUMNS.iter().position(|x| *x == c).expect("column")];
        assert_eq!(at("price"), "29.00");
        assert_eq!(at("option1_value"), "S");
        assert_eq!(at("weight_grams"), "180");
    }
}
