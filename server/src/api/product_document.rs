//! The product document: what `GET /api/v1/products/{id}` answers and what
//! `POST` and `PATCH` take, field for field the catalog file's (seed 004's
//! fields). Reading a body checks its JSON types and names each field at
//! fault by its path; the values go to the catalog's rules in sync-core.

use serde::Serialize;
use serde_json::{Map, Value};
use sync_core::domain::{ProductId, VariantId};
use sync_core::service::{FieldProblem, ImageInput, ProductDetail, ProductInput, VariantInput};
use utoipa::ToSchema;

/// A product as `GET /api/v1/products/{id}` answers it: the document `POST`
/// takes (without the ids) and `PATCH` takes back.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDocument {
    /// Assigned by Tillbridge. A `PATCH` may send it back unchanged.
    #[schema(read_only)]
    pub id: i64,
    /// The URL handle, e.g. `merino-crew-tee`: lowercase letters, digits and
    /// '-'; set when the product is created (made from the name if not
    /// given), then fixed.
    pub handle: String,
    /// 1 to 255 characters.
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    /// Option names in order, e.g. `["Size", "Colour"]`; at most 3.
    pub options: Vec<String>,
    pub active: bool,
    pub auto_sync: bool,
    pub supplier: String,
    pub supplier_code: String,
    /// A decimal amount such as `"12.50"`.
    pub supplier_price: Option<String>,
    pub supplier_currency: Option<String>,
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub tax_class: String,
    /// Each without commas.
    pub tags: Vec<String>,
    pub images: Vec<ImageDocument>,
    pub variants: Vec<VariantDocument>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageDocument {
    /// An http:// or https:// address.
    pub url: String,
    pub alt: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VariantDocument {
    /// Assigned by Tillbridge; in a `PATCH`, names the variant to change.
    #[schema(read_only)]
    pub id: i64,
    /// Unique across all variants, deleted products' included.
    pub sku: String,
    /// UPC/EAN/GTIN: 8, 12, 13 or 14 digits.
    pub barcode: Option<String>,
    /// One per product option, in its order.
    pub option_values: Vec<String>,
    /// A decimal amount such as `"29.90"`: a point for decimals; a comma
    /// only groups thousands. A JSON number is read the same way.
    pub price: String,
    /// ISO 4217, e.g. `NZD`.
    pub currency: String,
    pub weight_grams: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
}

/// The body of `PATCH /api/v1/products/{id}`: any of the document's
/// fields. A field left out is kept; `null` clears it (`name` cannot be
/// cleared). `options`, `tags` and `images` replace the lists they name.
/// `variants` lists the variants to change, each by its `id` (its fields
/// left out are kept; a new `sku` renames it), and the variants to add,
/// without an `id`; the product's other variants are kept.
/// `remove_variant_ids` lists the variants to remove. `handle` and `id`
/// may be sent back unchanged.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ProductChanges {
    id: Option<i64>,
    handle: Option<String>,
    name: Option<String>,
    description: Option<String>,
    brand: Option<String>,
    category: Option<String>,
    options: Option<Vec<String>>,
    active: Option<bool>,
    auto_sync: Option<bool>,
    supplier: Option<String>,
    supplier_code: Option<String>,
    supplier_price: Option<String>,
    supplier_currency: Option<String>,
    reorder_point: Option<i64>,
    reorder_quantity: Option<i64>,
    tax_class: Option<String>,
    tags: Option<Vec<String>>,
    images: Option<Vec<ImageDocument>>,
    variants: Option<Vec<VariantChanges>>,
    /// Variants of this product to remove.
    remove_variant_ids: Option<Vec<i64>>,
}

/// A variant in a `PATCH`: with `id` to change one, without to add one
/// (then `sku`, `price` and `currency` are needed).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VariantChanges {
    id: Option<i64>,
    sku: Option<String>,
    barcode: Option<String>,
    option_values: Option<Vec<String>>,
    price: Option<String>,
    currency: Option<String>,
    weight_grams: Option<i64>,
    length_mm: Option<i64>,
    width_mm: Option<i64>,
    height_mm: Option<i64>,
}

/// The body of `POST /api/v1/products`: the product document without ids.
/// `name` and at least one variant (with `sku`, `price` and `currency`) are
/// needed; `active` defaults to true, `auto_sync` to false.
#[derive(ToSchema)]
#[schema(example = json!({"name": "Wool Socks", "options": ["Size"], "variants": [
    {"sku": "SOCK-M", "option_values": ["M"], "price": "12.50", "currency": "NZD"}
]}))]
#[allow(dead_code)]
pub struct NewProductDocument {
    handle: Option<String>,
    name: String,
    description: Option<String>,
    brand: Option<String>,
    category: Option<String>,
    options: Option<Vec<String>>,
    active: Option<bool>,
    auto_sync: Option<bool>,
    supplier: Option<String>,
    supplier_code: Option<String>,
    supplier_price: Option<String>,
    supplier_currency: Option<String>,
    reorder_point: Option<i64>,
    reorder_quantity: Option<i64>,
    tax_class: Option<String>,
    tags: Option<Vec<String>>,
    images: Option<Vec<ImageDocument>>,
    variants: Vec<NewVariantDocument>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewVariantDocument {
    sku: String,
    barcode: Option<String>,
    option_values: Option<Vec<String>>,
    price: String,
    currency: String,
    weight_grams: Option<i64>,
    length_mm: Option<i64>,
    width_mm: Option<i64>,
    height_mm: Option<i64>,
}

/// An amount in its currency's decimals, without the currency: "29.00".
pub(super) fn decimal(minor: i64, currency: &str) -> String {
    let digits = sync_core::domain::Currency::parse(currency).map_or(2, |c| c.minor_digits());
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10_u64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = digits as usize)
}

impl From<ProductDetail> for ProductDocument {
    fn from(p: ProductDetail) -> Self {
        ProductDocument {
            id: p.id.get(),
            options: p.option_names().into_iter().map(str::to_owned).collect(),
            supplier_price: match (p.supplier_price_minor, &p.supplier_price_currency) {
                (Some(m), Some(c)) => Some(decimal(m, c)),
                _ => None,
            },
            supplier_currency: p.supplier_price_minor.and(p.supplier_price_currency.clone()),
            tags: p
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            images: p
                .images
                .iter()
                .map(|i| ImageDocument {
                    url: i.url.clone(),
                    alt: i.alt.clone(),
                })
                .collect(),
            variants: p
                .variants
                .iter()
                .map(|v| VariantDocument {
                    id: v.id.get(),
                    sku: v.sku.clone(),
                    barcode: v.barcode.clone(),
                    option_values: v.option_values().into_iter().map(str::to_owned).collect(),
                    price: decimal(v.price_minor, &v.price_currency),
                    currency: v.price_currency.clone(),
                    weight_grams: v.weight_grams,
                    length_mm: v.length_mm,
                    width_mm: v.width_mm,
                    height_mm: v.height_mm,
                })
                .collect(),
            handle: p.handle,
            name: p.name,
            description: p.description,
            brand: p.brand,
            category: p.category,
            active: p.active,
            auto_sync: p.auto_sync,
            supplier: p.supplier,
            supplier_code: p.supplier_code,
            reorder_point: p.reorder_point,
            reorder_quantity: p.reorder_quantity,
            tax_class: p.tax_class,
        }
    }
}

/// Which request a body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    New,
    Existing(ProductId),
}

const PRODUCT_FIELDS: [&str; 20] = [
    "id",
    "handle",
    "name",
    "description",
    "brand",
    "category",
    "options",
    "active",
    "auto_sync",
    "supplier",
    "supplier_code",
    "supplier_price",
    "supplier_currency",
    "reorder_point",
    "reorder_quantity",
    "tax_class",
    "tags",
    "images",
    "variants",
    "remove_variant_ids",
];

const VARIANT_FIELDS: [&str; 10] = [
    "id",
    "sku",
    "barcode",
    "option_values",
    "price",
    "currency",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
];

/// A JSON value in a message: short, whatever was sent.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A member's path: `variants[0].sku`, or `variants[0]["odd key"]`.
fn member(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let name = if plain {
        key.to_owned()
    } else {
        let mut quoted = Value::String(key.chars().take(40).collect()).to_string();
        if key.chars().count() > 40 {
            quoted.insert(quoted.len() - 1, '…');
        }
        format!("[{quoted}]")
    };
    match (parent.is_empty(), plain) {
        (true, _) => name,
        (false, true) => format!("{parent}.{name}"),
        (false, false) => format!("{parent}{name}"),
    }
}

/// Reads a body, collecting every field whose JSON type is wrong.
struct Reader {
    problems: Vec<FieldProblem>,
}

impl Reader {
    fn refuse(&mut self, path: String, message: impl Into<String>) {
        self.problems.push(FieldProblem::new(path, message));
    }

    /// The fields of an object, refusing the unknown ones.
    fn object<'v>(&mut self, v: &'v Value, path: &str, known: &[&str], what: &str) -> Option<&'v Map<String, Value>> {
        let Some(object) = v.as_object() else {
            self.refuse(
                path.to_owned(),
                format!("must be a JSON object ({what}), not {}", shown(v)),
            );
            return None;
        };
        for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
            self.refuse(
                member(path, key),
                format!("unknown field; {what} has {}", known.join(", ")),
            );
        }
        Some(object)
    }

    /// Text, trimmed unless `raw`; `null` is empty.
    fn text(&mut self, o: &Map<String, Value>, path: &str, key: &str, raw: bool) -> Option<String> {
        match o.get(key)? {
            Value::Null => Some(String::new()),
            Value::String(s) if raw => Some(s.clone()),
            Value::String(s) => Some(s.trim().to_owned()),
            other => {
                self.refuse(member(path, key), format!("must be a string, not {}", shown(other)));
                None
            }
        }
    }

    fn flag(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<bool> {
        match o.get(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.refuse(
                    member(path, key),
                    format!("must be true or false, not {}", shown(other)),
                );
                None
            }
        }
    }

    /// A whole number, or `null` to clear it.
    fn number(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<Option<i64>> {
        match o.get(key)? {
            Value::Null => Some(None),
            Value::Number(n) if n.as_i64().is_some() => Some(n.as_i64()),
            other => {
                self.refuse(
                    member(path, key),
                    format!("must be a whole number, not {}", shown(other)),
                );
                None
            }
        }
    }

    /// An amount: a decimal string, or a JSON number read as written.
    fn amount(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<String> {
        match o.get(key)? {
            Value::Null => Some(String::new()),
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                self.refuse(
                    member(path, key),
                    format!("must be a decimal amount such as \"12.50\", not {}", shown(other)),
                );
                None
            }
        }
    }

    /// A list, `null` being empty.
    fn list<'v>(&mut self, o: &'v Map<String, Value>, path: &str, key: &str) -> Option<&'v [Value]> {
        match o.get(key)? {
            Value::Null => Some(&[]),
            Value::Array(items) => Some(items),
            other => {
                self.refuse(member(path, key), format!("must be a list, not {}", shown(other)));
                None
            }
        }
    }

    fn strings(&mut self, o: &Map<String, Value>, path: &str, key: &str) -> Option<Vec<String>> {
        let items = self.list(o, path, key)?;
        let at = member(path, key);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.trim().to_owned()),
                other => self.refuse(format!("{at}[{i}]"), format!("must be a string, not {}", shown(other))),
            }
        }
        (out.len() == items.len()).then_some(out)
    }

    fn images(&mut self, o: &Map<String, Value>) -> Option<Vec<ImageInput>> {
        let items = self.list(o, "", "images")?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("images[{i}]");
            let Some(image) = self.object(item, &path, &["url", "alt"], "an image") else {
                continue;
            };
            let alt = self.text(image, &path, "alt", false);
            match self.text(image, &path, "url", false) {
                Some(url) => out.push(ImageInput { url, alt }),
                None if !image.contains_key("url") => self.refuse(format!("{path}.url"), "is required"),
                None => {}
            }
        }
        (out.len() == items.len()).then_some(out)
    }

    fn variant(&mut self, item: &Value, path: &str) -> VariantInput {
        let Some(v) = self.object(item, path, &VARIANT_FIELDS, "a variant") else {
            return VariantInput::default();
        };
        let id = match v.get("id") {
            None => None,
            Some(Value::Number(n)) if n.as_i64().is_some_and(|id| id > 0) => n.as_i64().map(VariantId::new),
            Some(other) => {
                self.refuse(
                    format!("{path}.id"),
                    format!("must be a variant id, not {}", shown(other)),
                );
                None
            }
        };
        VariantInput {
            id,
            sku: self.text(v, path, "sku", false),
            barcode: self.text(v, path, "barcode", false),
            option_values: self.strings(v, path, "option_values"),
            price: self.amount(v, path, "price"),
            currency: self.text(v, path, "currency", false),
            weight_grams: self.number(v, path, "weight_grams"),
            length_mm: self.number(v, path, "length_mm"),
            width_mm: self.number(v, path, "width_mm"),
            height_mm: self.number(v, path, "height_mm"),
        }
    }
}

/// Orders problems as the document does: its fields in order, each list's
/// items by position (a stable sort, so one item's problems keep theirs).
pub fn sort_problems(problems: &mut [FieldProblem]) {
    problems.sort_by_key(|p| {
        let head = p.path.split(['.', '[']).next().unwrap_or_default();
        let field = PRODUCT_FIELDS.iter().position(|f| *f == head).map_or(0, |i| i + 1);
        let item = p
            .path
            .strip_prefix(head)
            .and_then(|rest| rest.strip_prefix('['))
            .and_then(|rest| rest.split(']').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        (field, item)
    });
}

/// Reads a product body for `target`: what it asks for, and every field
/// whose JSON type or name is wrong (each by its path).
pub fn read_product(body: &Value, target: Target) -> (ProductInput, Vec<FieldProblem>) {
    let mut r = Reader { problems: Vec::new() };
    let Some(o) = r.object(body, "", &PRODUCT_FIELDS, "a product") else {
        return (ProductInput::default(), r.problems);
    };
    if let Some(stock) = r.problems.iter_mut().find(|p| p.path == "stock") {
        stock.message = "is not part of the product document; record stock with POST /api/v1/stock/movements".into();
    }
    match (target, o.get("id")) {
        (_, None) => {}
        (Target::New, Some(_)) => r.refuse("id".into(), "is assigned by Tillbridge; leave it out"),
        (Target::Existing(id), Some(sent)) if sent.as_i64() != Some(id.get()) => r.refuse(
            "id".into(),
            format!("is {}, but this is product {id}; leave it out", shown(sent)),
        ),
        (Target::Existing(_), Some(_)) => {}
    }
    let mut input = ProductInput {
        handle: r.text(o, "", "handle", false),
        name: r.text(o, "", "name", false),
        description: r.text(o, "", "description", true),
        brand: r.text(o, "", "brand", false),
        category: r.text(o, "", "category", false),
        options: r.strings(o, "", "options"),
        active: r.flag(o, "", "active"),
        auto_sync: r.flag(o, "", "auto_sync"),
        supplier: r.text(o, "", "supplier", false),
        supplier_code: r.text(o, "", "supplier_code", false),
        supplier_price: r.amount(o, "", "supplier_price"),
        supplier_currency: r.text(o, "", "supplier_currency", false),
        reorder_point: r.number(o, "", "reorder_point"),
        reorder_quantity: r.number(o, "", "reorder_quantity"),
        tax_class: r.text(o, "", "tax_class", false),
        tags: r.strings(o, "", "tags"),
        images: r.images(o),
        variants: Vec::new(),
        remove_variant_ids: Vec::new(),
    };
    input.variants = match r.list(o, "", "variants") {
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| r.variant(item, &format!("variants[{i}]")))
            .collect(),
        None => Vec::new(),
    };
    input.remove_variant_ids = match r.list(o, "", "remove_variant_ids") {
        Some(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item.as_i64().filter(|id| *id > 0) {
                Some(id) => Some(VariantId::new(id)),
                None => {
                    r.refuse(
                        format!("remove_variant_ids[{i}]"),
                        format!("must be a variant id, not {}", shown(item)),
                    );
                    None
                }
            })
            .collect(),
        None => Vec::new(),
    };
    (input, r.problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(body: Value, target: Target) -> Vec<String> {
        read_product(&body, target).1.into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_named_by_their_path() {
        let body = json!({
            "name": 12,
            "active": "yes",
            "colour": "red",
            "tags": ["ok", 3],
            "variants": [
                {"sku": "A", "price": "1.00", "currency": "NZD"},
                {"sku": "B", "price": true, "weight_grams": 1.5, "size": "M"}
            ],
            "images": [{"alt": "x"}]
        });
        assert_eq!(
            paths(body, Target::New),
            [
                "colour",
                "name",
                "active",
                "tags[1]",
                "images[0].url",
                "variants[1].size",
                "variants[1].price",
                "variants[1].weight_grams"
            ]
        );
    }

    #[test]
    fn ids_are_refused_on_create_and_must_match_on_update() {
        assert_eq!(paths(json!({"id": 5}), Target::New), ["id"]);
        assert!(paths(json!({"id": 5}), Target::Existing(ProductId::new(5))).is_empty());
        assert_eq!(paths(json!({"id": 6}), Target::Existing(ProductId::new(5))), ["id"]);
        assert_eq!(paths(json!([1, 2]), Target::New), [""]);
    }

    #[test]
    fn null_clears_and_numbers_are_read_as_written() {
        let (input, problems) = read_product(
            &json!({"reorder_point": null, "brand": null, "variants": [{"id": 3, "price": 12.5}]}),
            Target::Existing(ProductId::new(1)),
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(input.reorder_point, Some(None));
        assert_eq!(input.brand.as_deref(), Some(""));
        assert_eq!(input.variants[0].price.as_deref(), Some("12.5"));
        assert_eq!(input.variants[0].id, Some(VariantId::new(3)));
        assert_eq!(input.name, None, "not given: kept");
    }

    #[test]
    fn problems_are_sorted_as_the_document_is() {
        let mut problems: Vec<FieldProblem> = [
            "variants[10].sku",
            "variants[2].price",
            "name",
            "colour",
            "variants[2].sku",
            "handle",
        ]
        .into_iter()
        .map(|p| FieldProblem::new(p, ""))
        .collect();
        sort_problems(&mut problems);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "colour",
                "handle",
                "name",
                "variants[2].price",
                "variants[2].sku",
                "variants[10].sku"
            ]
        );
    }

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        assert_eq!(member("variants[0]", "size"), "variants[0].size");
        assert_eq!(member("", "a b"), "[\"a b\"]");
        assert_eq!(decimal(2990, "NZD"), "29.90");
        assert_eq!(decimal(500, "JPY"), "500");
    }
}
