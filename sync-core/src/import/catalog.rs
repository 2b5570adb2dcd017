//! Catalog files: one row per variant, the product's fields repeated on
//! each of its rows, grouped by handle. Importing creates the products
//! that do not exist and updates those that do (matched by handle, or by
//! SKU), all or nothing; it never deletes. A column left out of the file
//! leaves that field as it is. The export writes exactly this format.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::catalog_rules::{
    Given, ImageGiven, Part, ProductGiven, VariantGiven, check_handle, free_handle, plan_product as plan_rules,
    sku_taken,
};
use super::formula::to_spreadsheet;
use super::table::{Record, read_table};
use super::{ApplyOutcome, ImportPreview, RowError};
use crate::Result;
use crate::domain::{Currency, Money, ProductId, Sku};
use crate::storage::{CatalogWrite, ProductDetail, ProductFilter, Storage, VariantDetail, product_handle};

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
                errors.push(RowError::new(r.line, sku_taken(&sku, None)));
                continue;
            }
            ("", Some(Some(p))) => format!("h:{}", p.handle),
            (h, Some(Some(p))) if h != p.handle => {
                errors.push(RowError::new(r.line, sku_taken(&sku, Some(&p.handle))));
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

/// A row's cells, as the catalog's rules read them.
struct Cells<'a> {
    cols: &'a Columns,
    row: &'a Record,
}

impl Given for Cells<'_> {
    fn get(&self, field: &str) -> Option<Cow<'_, str>> {
        self.cols.cell(self.row, field).map(Cow::Borrowed)
    }
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
    let by_sku: HashMap<&str, &VariantDetail> = current
        .map(|p| p.variants.iter().map(|v| (v.sku.as_str(), v)).collect())
        .unwrap_or_default();
    let rows: Vec<Cells> = g.rows.iter().map(|(r, _)| Cells { cols, row: r }).collect();
    let given = ProductGiven {
        fields: &rows[0],
        images: cols.cell(first, "image_urls").map(|cell| {
            cell.split_whitespace()
                .map(|url| ImageGiven {
                    url: url.to_owned(),
                    alt: None,
                })
                .collect()
        }),
        variants: g
            .rows
            .iter()
            .zip(&rows)
            .map(|((_, sku), cells)| VariantGiven {
                fields: cells,
                sku: Some(sku.clone()),
                current: by_sku.get(sku.as_str()).copied(),
            })
            .collect(),
        remove: Vec::new(),
    };
    let product = match plan_rules(&given, current, handle.clone()) {
        Ok(product) if errors.is_empty() => product,
        Ok(_) => return Err(errors),
        Err(problems) => {
            // The product's problems on its first line; each variant's on its own, together.
            let mut by_line: Vec<(u64, Vec<String>)> = Vec::new();
            for p in problems {
                let (line, text) = match p.part {
                    Part::Variant(i) => (g.rows[i].0.line, format!("{}: {}", p.field, p.message)),
                    Part::Product | Part::Image(_) => {
                        errors.push(RowError::new(first.line, format!("{}: {}", p.field, p.message)));
                        continue;
                    }
                };
                match by_line.iter_mut().find(|(l, _)| *l == line) {
                    Some((_, texts)) => texts.push(text),
                    None => by_line.push((line, vec![text])),
                }
            }
            errors.extend(
                by_line
                    .into_iter()
                    .map(|(line, texts)| RowError::new(line, texts.join("; "))),
            );
            return Err(errors);
        }
    };
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
                out.write_record(export_row(p, v).iter().map(|c| to_spreadsheet(c).into_owned()))
                    .map_err(io)?;
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
