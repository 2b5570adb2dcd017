//! The catalog's field rules, in one place for every way a product is
//! written: a catalog file's cells and the JSON API's fields both come here
//! as text, named by the catalog file's columns. A field not given (`None`)
//! keeps what is stored, or takes its default on a new product; an empty
//! one clears it.

use std::borrow::Cow;
use std::collections::HashSet;

use super::whole_number;
use crate::Result;
use crate::domain::{Barcode, Currency, Money, Sku, VariantId};
use crate::storage::{CatalogWrite, ProductDetail, ProductImage, Storage, VariantDetail, VariantWrite};

/// The longest product name, option name or value, brand, category,
/// supplier, supplier code and tax class.
pub(crate) const MAX_TEXT: usize = 255;
pub(crate) const MAX_DESCRIPTION: usize = 65_535;
pub(crate) const MAX_TAGS: usize = 1_000;
pub(crate) const MAX_IMAGE_URL: usize = 2_048;
pub(crate) const MAX_IMAGE_ALT: usize = 512;

pub(crate) const OPTION_NAMES: [&str; 3] = ["option1_name", "option2_name", "option3_name"];
pub(crate) const OPTION_VALUES: [&str; 3] = ["option1_value", "option2_value", "option3_value"];

/// Where the fields come from: a catalog file's row, an API body.
pub(crate) trait Given {
    /// The text given for `field` (a catalog file column), or None when it was not given.
    fn get(&self, field: &str) -> Option<Cow<'_, str>>;
}

/// The part of the product a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Product,
    /// The variant at this position of `ProductGiven::variants`.
    Variant(usize),
    /// The image at this position of `ProductGiven::images`.
    Image(usize),
}

/// A refused field: its part, its column (`price`, `option2_name`, or
/// `options` for the product's options as a whole), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub part: Part,
    pub field: &'static str,
    pub message: String,
}

pub(crate) struct VariantGiven<'a> {
    pub fields: &'a dyn Given,
    /// None when the SKU was refused already (the caller reports why).
    pub sku: Option<Sku>,
    /// The stored variant this writes, if any.
    pub current: Option<&'a VariantDetail>,
}

/// An image as given: its address and, if given, its alt text (else an
/// image kept from before keeps its own).
pub(crate) struct ImageGiven {
    pub url: String,
    pub alt: Option<String>,
}

pub(crate) struct ProductGiven<'a> {
    pub fields: &'a dyn Given,
    /// None leaves the images as they are.
    pub images: Option<Vec<ImageGiven>>,
    /// The variants written; the product's others are kept unless removed.
    pub variants: Vec<VariantGiven<'a>>,
    /// Variants of the product to remove.
    pub remove: Vec<VariantId>,
}

/// A handle is lowercase letters, digits and dashes.
pub(crate) fn check_handle(h: &str) -> Result<(), String> {
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

/// `base`, or `base-2`, `base-3`, … if taken in the catalog or `planned`.
pub(crate) async fn free_handle(storage: &Storage, base: &str, planned: &HashSet<String>) -> Result<String> {
    let taken: HashSet<String> = storage.handles_like(base).await?.into_iter().collect();
    let mut candidate = base.to_owned();
    let mut n = 1;
    while taken.contains(&candidate) || planned.contains(&candidate) {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}

/// Why a SKU cannot be written to a product: it is another live product's
/// (with that handle) or a deleted product's (`None`).
pub(crate) fn sku_taken(sku: &Sku, owner_handle: Option<&str>) -> String {
    match owner_handle {
        Some(handle) => {
            format!("SKU {sku} belongs to the product with handle {handle:?}; a variant cannot move to another product")
        }
        None => format!("SKU {sku} belongs to a deleted product"),
    }
}

pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "on" => Some(true),
        "false" | "no" | "n" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// Collects problems for one part of the product.
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, part: Part, field: &'static str, message: impl Into<String>) {
        self.0.push(Problem {
            part,
            field,
            message: message.into(),
        });
    }
}

fn too_long(text: &str, max: usize) -> Option<String> {
    (text.chars().count() > max).then(|| format!("is longer than {max} characters"))
}

/// A whole number of 0 or more, or none; `now` when not given.
fn count(given: Option<Cow<'_, str>>, now: Option<i64>) -> Result<Option<i64>, String> {
    match given.as_deref() {
        None => Ok(now),
        Some("") => Ok(None),
        Some(v) => match whole_number(v) {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err(format!("{v:?} is not a whole number of 0 or more")),
        },
    }
}

/// The product `given` leaves, checked against every rule of the catalog:
/// created when `current` is none, else every field not given kept.
/// Every problem is returned, none written. A variant without a SKU fails
/// the plan (its caller has said why).
pub(crate) fn plan_product(
    given: &ProductGiven,
    current: Option<&ProductDetail>,
    handle: String,
) -> Result<CatalogWrite, Vec<Problem>> {
    let mut problems = Problems(Vec::new());
    let p = Part::Product;
    let fields = given.fields;

    let name = match fields.get("name").as_deref() {
        Some("") => {
            problems.push(p, "name", "a product needs a name");
            String::new()
        }
        Some(n) if n.chars().count() > MAX_TEXT => {
            problems.push(p, "name", format!("a product name is at most {MAX_TEXT} characters"));
            String::new()
        }
        Some(n) => n.to_owned(),
        None => match current {
            Some(c) => c.name.clone(),
            None => {
                problems.push(p, "name", "a new product needs a name");
                String::new()
            }
        },
    };
    let mut text = |field: &'static str, now: Option<&String>, max: usize| -> String {
        let value = fields
            .get(field)
            .map(Cow::into_owned)
            .or_else(|| now.cloned())
            .unwrap_or_default();
        if let Some(e) = too_long(&value, max) {
            problems.push(p, field, e);
        }
        value
    };
    let description = text("description", current.map(|c| &c.description), MAX_DESCRIPTION);
    let brand = text("brand", current.map(|c| &c.brand), MAX_TEXT);
    let category = text("category", current.map(|c| &c.category), MAX_TEXT);
    let supplier = text("supplier", current.map(|c| &c.supplier), MAX_TEXT);
    let supplier_code = text("supplier_code", current.map(|c| &c.supplier_code), MAX_TEXT);
    let tax_class = text("tax_class", current.map(|c| &c.tax_class), MAX_TEXT);
    let tags = text("tags", current.map(|c| &c.tags), MAX_TAGS);

    let mut flag = |field: &'static str, now: Option<bool>, default: bool| -> bool {
        match fields.get(field).as_deref().unwrap_or_default() {
            "" => now.unwrap_or(default),
            v => parse_bool(v).unwrap_or_else(|| {
                problems.push(p, field, format!("{v:?} is not true or false"));
                default
            }),
        }
    };
    let active = flag("active", current.map(|c| c.active), true);
    let auto_sync = flag("auto_sync", current.map(|c| c.auto_sync), false);

    let reorder_point = count(fields.get("reorder_point"), current.and_then(|c| c.reorder_point)).unwrap_or_else(|e| {
        problems.push(p, "reorder_point", e);
        None
    });
    let reorder_quantity = count(fields.get("reorder_quantity"), current.and_then(|c| c.reorder_quantity))
        .unwrap_or_else(|e| {
            problems.push(p, "reorder_quantity", e);
            None
        });

    // The supplier's price is in its own currency, else the one stored,
    // else the first variant's.
    let current_supplier_price = current.and_then(|c| {
        let currency = Currency::parse(c.supplier_price_currency.as_deref()?).ok()?;
        Some(Money::new(c.supplier_price_minor?, currency))
    });
    let supplier_price = match fields.get("supplier_price").as_deref() {
        None => current_supplier_price,
        Some("") => None,
        Some(amount) => {
            let currency = match fields.get("supplier_currency").filter(|c| !c.is_empty()) {
                Some(c) => Currency::parse(&c).map(Some).map_err(|e| e.message),
                None => Ok(current_supplier_price.map(|m| m.currency).or_else(|| {
                    let first = given.variants.first()?;
                    first
                        .fields
                        .get("currency")
                        .and_then(|c| Currency::parse(&c).ok())
                        .or_else(|| first.current.and_then(|v| Currency::parse(&v.price_currency).ok()))
                })),
            };
            match currency {
                Ok(Some(c)) => Money::parse(amount, c).map(Some).unwrap_or_else(|e| {
                    problems.push(p, "supplier_price", e.message);
                    None
                }),
                Ok(None) => {
                    problems.push(p, "supplier_price", "needs a supplier_currency");
                    None
                }
                Err(e) => {
                    problems.push(p, "supplier_currency", e);
                    None
                }
            }
        }
    };

    let images = given.images.as_ref().map(|images| {
        images
            .iter()
            .enumerate()
            .map(|(i, image)| {
                let u = &image.url;
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    problems.push(
                        Part::Image(i),
                        "image_urls",
                        format!("{u:?} is not an http:// or https:// address"),
                    );
                } else if let Some(e) = too_long(u, MAX_IMAGE_URL) {
                    problems.push(Part::Image(i), "image_urls", format!("an image address {e}"));
                }
                let alt = image.alt.clone().unwrap_or_else(|| {
                    // An image kept from before keeps its alt text.
                    current
                        .and_then(|c| c.images.iter().find(|i| i.url == *u))
                        .map(|i| i.alt.clone())
                        .unwrap_or_default()
                });
                if let Some(e) = too_long(&alt, MAX_IMAGE_ALT) {
                    problems.push(Part::Image(i), "image_alt", e);
                }
                ProductImage { url: u.clone(), alt }
            })
            .collect()
    });

    let mut option_names: Vec<String> = OPTION_NAMES
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = fields
                .get(f)
                .map(Cow::into_owned)
                .or_else(|| current.and_then(|c| c.option_names().get(i).map(|s| (*s).to_owned())))
                .unwrap_or_default();
            if let Some(e) = too_long(&name, MAX_TEXT) {
                problems.push(p, f, e);
            }
            name
        })
        .collect();
    while option_names.last().is_some_and(String::is_empty) {
        option_names.pop();
    }
    if let Some(gap) = option_names.iter().position(String::is_empty) {
        problems.push(p, OPTION_NAMES[gap], "is empty while a later option is named");
    }

    let mut variants = Vec::with_capacity(given.variants.len());
    let mut complete = true;
    for (i, v) in given.variants.iter().enumerate() {
        match plan_variant(v, option_names.len(), Part::Variant(i), &mut problems) {
            Some(w) => variants.push(w),
            None => complete = false,
        }
    }
    // The variants left as they are must still fit the product's options.
    if let Some(c) = current {
        let written: HashSet<VariantId> = given.variants.iter().filter_map(|v| v.current.map(|c| c.id)).collect();
        for v in c
            .variants
            .iter()
            .filter(|v| !written.contains(&v.id) && !given.remove.contains(&v.id))
        {
            if v.option_values().len() != option_names.len() {
                problems.push(
                    p,
                    "options",
                    format!(
                        "the product would have {} options, but its variant {} has {} option values; give that variant's option values too",
                        option_names.len(),
                        v.sku,
                        v.option_values().len()
                    ),
                );
            }
        }
    }
    if !problems.0.is_empty() || !complete {
        return Err(problems.0);
    }
    Ok(CatalogWrite {
        existing: current.map(|c| c.id),
        handle,
        name,
        description,
        brand,
        category,
        option_names,
        active,
        auto_sync,
        supplier,
        supplier_code,
        supplier_price,
        reorder_point,
        reorder_quantity,
        tax_class,
        tags,
        images,
        variants,
        remove_variants: given.remove.clone(),
    })
}

/// One variant as given, over the stored one; None when refused.
fn plan_variant(v: &VariantGiven, options: usize, part: Part, problems: &mut Problems) -> Option<VariantWrite> {
    let before = problems.0.len();
    let (fields, current) = (v.fields, v.current);
    let barcode = match fields.get("barcode").as_deref() {
        None => current
            .and_then(|c| c.barcode.as_deref())
            .and_then(|b| Barcode::parse(b).ok()),
        Some("") => None,
        Some(b) => Barcode::parse(b)
            .map_err(|e| problems.push(part, "barcode", e.message))
            .ok(),
    };
    let mut option_values: Vec<String> = Vec::new();
    for (i, f) in OPTION_VALUES.iter().enumerate() {
        let value = fields
            .get(f)
            .map(Cow::into_owned)
            .or_else(|| current.and_then(|c| c.option_values().get(i).map(|s| (*s).to_owned())))
            .unwrap_or_default();
        match (i < options, value.is_empty()) {
            (true, true) => problems.push(part, f, format!("is empty, but the product has {options} option(s)")),
            (false, false) => problems.push(
                part,
                f,
                format!("is {value:?}, but the product has {options} option(s)"),
            ),
            (true, false) => match too_long(&value, MAX_TEXT) {
                Some(e) => problems.push(part, f, e),
                None => option_values.push(value),
            },
            (false, true) => {}
        }
    }
    let currency = match fields.get("currency").filter(|c| !c.is_empty()) {
        Some(c) => Currency::parse(&c)
            .map_err(|e| problems.push(part, "currency", e.message))
            .ok(),
        None => match current.and_then(|c| Currency::parse(&c.price_currency).ok()) {
            Some(c) => Some(c),
            None => {
                problems.push(part, "currency", "a variant needs a currency, e.g. NZD");
                None
            }
        },
    };
    let price = match (fields.get("price").as_deref(), currency) {
        (Some(""), _) => {
            problems.push(part, "price", "a variant needs a price");
            None
        }
        (_, None) => None,
        (Some(raw), Some(c)) => Money::parse(raw, c)
            .map_err(|e| problems.push(part, "price", e.message))
            .ok(),
        (None, Some(c)) => match current {
            Some(cv) => Some(Money::new(cv.price_minor, c)),
            None => {
                problems.push(part, "price", "a new variant needs a price");
                None
            }
        },
    };
    let mut measure = |f: &'static str, now: Option<i64>| {
        count(fields.get(f), now).unwrap_or_else(|e| {
            problems.push(part, f, e);
            None
        })
    };
    let weight_grams = measure("weight_grams", current.and_then(|c| c.weight_grams));
    let length_mm = measure("length_mm", current.and_then(|c| c.length_mm));
    let width_mm = measure("width_mm", current.and_then(|c| c.width_mm));
    let height_mm = measure("height_mm", current.and_then(|c| c.height_mm));
    if problems.0.len() > before {
        return None;
    }
    Some(VariantWrite {
        existing: current.map(|c| c.id),
        sku: v.sku.clone()?,
        barcode,
        option_values,
        price: price?,
        weight_grams,
        length_mm,
        width_mm,
        height_mm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    impl Given for HashMap<&'static str, &'static str> {
        fn get(&self, field: &str) -> Option<Cow<'_, str>> {
            HashMap::get(self, field).map(|v| Cow::Borrowed(*v))
        }
    }

    fn plan(product: &[(&'static str, &'static str)], variant: &[(&'static str, &'static str)]) -> Vec<Problem> {
        let product: HashMap<_, _> = product.iter().copied().collect();
        let variant: HashMap<_, _> = variant.iter().copied().collect();
        let given = ProductGiven {
            fields: &product,
            images: Some(vec![ImageGiven {
                url: "ftp://x/y.jpg".into(),
                alt: None,
            }]),
            variants: vec![VariantGiven {
                fields: &variant,
                sku: Sku::parse("TEE-S").ok(),
                current: None,
            }],
            remove: Vec::new(),
        };
        plan_product(&given, None, "tee".into()).expect_err("refused")
    }

    #[test]
    fn every_refused_field_is_named_with_its_part() {
        let problems = plan(
            &[("name", ""), ("active", "maybe"), ("option1_name", "Size")],
            &[("price", "12,50"), ("currency", "NZD"), ("weight_grams", "-5")],
        );
        let named: Vec<(Part, &str)> = problems.iter().map(|p| (p.part, p.field)).collect();
        assert_eq!(
            named,
            [
                (Part::Product, "name"),
                (Part::Product, "active"),
                (Part::Image(0), "image_urls"),
                (Part::Variant(0), "option1_value"),
                (Part::Variant(0), "price"),
                (Part::Variant(0), "weight_grams"),
            ]
        );
    }

    #[test]
    fn a_new_variant_needs_a_price_and_a_currency() {
        let problems = plan(&[("name", "Tee")], &[]);
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            messages.contains(&"a variant needs a currency, e.g. NZD"),
            "{messages:?}"
        );
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
}
