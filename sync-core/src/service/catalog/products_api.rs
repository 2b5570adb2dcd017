//! Products written through the JSON API: a product document checked by
//! the catalog file's own rules (`import::catalog_rules`), every problem
//! named by its path in the request body, and written all or nothing
//! through `write_catalog`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::Catalog;
use crate::domain::{ProductId, Sku, VariantId};
use crate::import::catalog_rules::{
    Given, ImageGiven, OPTION_NAMES, OPTION_VALUES, Part, Problem, ProductGiven, VariantGiven, check_handle,
    free_handle, plan_product, sku_taken,
};
use crate::storage::{CatalogWrite, IdempotencyKey, ProductDetail, product_handle};
use crate::{Error, Result};

/// A product as the API sends it. A field left `None` keeps what is stored
/// (on an update) or takes its default (on a create); text is as sent, for
/// the catalog's rules to read, and an empty text clears the field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductInput {
    /// Set once, when the product is created; made from the name if not given.
    pub handle: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
    /// The option names, in order (at most 3); replaces them all.
    pub options: Option<Vec<String>>,
    pub active: Option<bool>,
    pub auto_sync: Option<bool>,
    pub supplier: Option<String>,
    pub supplier_code: Option<String>,
    /// A decimal amount such as "12.50".
    pub supplier_price: Option<String>,
    pub supplier_currency: Option<String>,
    /// `Some(None)` clears it.
    pub reorder_point: Option<Option<i64>>,
    pub reorder_quantity: Option<Option<i64>>,
    pub tax_class: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Replaces the product's images, in this order.
    pub images: Option<Vec<ImageInput>>,
    /// Variants to change (with their id) or add (without).
    pub variants: Vec<VariantInput>,
    /// Variants to remove (an update only).
    pub remove_variant_ids: Vec<VariantId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariantInput {
    /// The variant to change; none for a new variant.
    pub id: Option<VariantId>,
    /// A new SKU for an existing variant renames it.
    pub sku: Option<String>,
    pub barcode: Option<String>,
    /// In the order of the product's options.
    pub option_values: Option<Vec<String>>,
    /// A decimal amount such as "29.90".
    pub price: Option<String>,
    pub currency: Option<String>,
    pub weight_grams: Option<Option<i64>>,
    pub length_mm: Option<Option<i64>>,
    pub width_mm: Option<Option<i64>>,
    pub height_mm: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInput {
    pub url: String,
    /// None keeps the alt text of an image the product already has.
    pub alt: Option<String>,
}

/// A refused field, named by its path in the request body, e.g.
/// `variants[2].price`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub path: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.path.as_str() {
            "" => f.write_str(&self.message),
            path => write!(f, "{path}: {}", self.message),
        }
    }
}

/// What a SKU or a handle names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    Live(Box<ProductDetail>),
    /// A deleted product's: its SKUs and handle stay taken.
    Deleted,
    Nothing,
}

/// How a product write went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductWrite {
    /// Written in one transaction, or (`replayed`) written before by a
    /// request with the same idempotency key; the product as it is now.
    Saved {
        product: Box<ProductDetail>,
        replayed: bool,
    },
    /// Nothing was written: every problem found.
    Refused(Vec<FieldProblem>),
}

fn number(n: &Option<Option<i64>>) -> Option<Cow<'_, str>> {
    n.as_ref()
        .map(|n| n.map_or(Cow::Borrowed(""), |n| Cow::Owned(n.to_string())))
}

fn text(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

fn nth(list: &Option<Vec<String>>, i: usize) -> Option<Cow<'_, str>> {
    list.as_ref()
        .map(|l| Cow::Borrowed(l.get(i).map_or("", String::as_str)))
}

impl Given for ProductInput {
    fn get(&self, field: &str) -> Option<Cow<'_, str>> {
        let flag = |b: Option<bool>| b.map(|b| Cow::Borrowed(if b { "true" } else { "false" }));
        match field {
            "name" => text(&self.name),
            "description" => text(&self.description),
            "brand" => text(&self.brand),
            "category" => text(&self.category),
            "active" => flag(self.active),
            "auto_sync" => flag(self.auto_sync),
            "supplier" => text(&self.supplier),
            "supplier_code" => text(&self.supplier_code),
            "supplier_price" => text(&self.supplier_price),
            "supplier_currency" => text(&self.supplier_currency),
            "reorder_point" => number(&self.reorder_point),
            "reorder_quantity" => number(&self.reorder_quantity),
            "tax_class" => text(&self.tax_class),
            "tags" => self.tags.as_ref().map(|t| Cow::Owned(t.join(", "))),
            f => OPTION_NAMES
                .iter()
                .position(|n| *n == f)
                .and_then(|i| nth(&self.options, i)),
        }
    }
}

impl Given for VariantInput {
    fn get(&self, field: &str) -> Option<Cow<'_, str>> {
        match field {
            "barcode" => text(&self.barcode),
            "price" => text(&self.price),
            "currency" => text(&self.currency),
            "weight_grams" => number(&self.weight_grams),
            "length_mm" => number(&self.length_mm),
            "width_mm" => number(&self.width_mm),
            "height_mm" => number(&self.height_mm),
            f => OPTION_VALUES
                .iter()
                .position(|n| *n == f)
                .and_then(|i| nth(&self.option_values, i)),
        }
    }
}

/// The request body's path of a field the catalog's rules refused.
fn path_of(problem: &Problem) -> String {
    let field = |f: &str| {
        if let Some(i) = OPTION_NAMES.iter().position(|n| *n == f) {
            format!("options[{i}]")
        } else if let Some(i) = OPTION_VALUES.iter().position(|n| *n == f) {
            format!("option_values[{i}]")
        } else {
            f.to_owned()
        }
    };
    match problem.part {
        Part::Product => field(problem.field),
        Part::Variant(i) => format!("variants[{i}].{}", field(problem.field)),
        Part::Image(i) if problem.field == "image_alt" => format!("images[{i}].alt"),
        Part::Image(i) => format!("images[{i}].url"),
    }
}

/// A tag is kept in a comma-separated list, so it cannot hold a comma.
fn tag_problem(tag: &str) -> Option<&'static str> {
    if tag.trim().is_empty() {
        Some("a tag cannot be empty")
    } else if tag.contains(',') {
        Some("a tag cannot contain a comma")
    } else {
        None
    }
}

impl Catalog {
    /// Every problem `input` has as a new product (`id` none) or as a change
    /// to product `id`, without writing anything.
    pub async fn check_product(&self, id: Option<ProductId>, input: &ProductInput) -> Result<Vec<FieldProblem>> {
        let current = match id {
            Some(id) => Some(self.live_product(id).await?),
            None => None,
        };
        Ok(self.plan_input(current.as_ref(), input).await?.1)
    }

    /// Creates a product with its variants, all or nothing. With a key, a
    /// retry of the same request answers with the product the first created.
    pub async fn create_product(&self, input: &ProductInput, key: Option<&IdempotencyKey>) -> Result<ProductWrite> {
        let storage = &self.core.storage;
        if let Some(k) = key
            && let Some((hash, body)) = storage.idempotency_answer(&k.key).await?
        {
            let ids = crate::storage::replayed_products(&k.key, &k.request_hash, &hash, &body)?;
            return self.replayed(&ids).await;
        }
        let (write, problems) = self.plan_input(None, input).await?;
        let Some(write) = write.filter(|_| problems.is_empty()) else {
            return Ok(ProductWrite::Refused(problems));
        };
        let done = storage.write_catalog_once(&[write], key).await?;
        if done.replayed {
            return self.replayed(&done.products).await;
        }
        self.core.queued(done.written.queued + done.written.catalog_queued);
        let id = done
            .products
            .first()
            .copied()
            .ok_or_else(|| Error::NotFound("the product just created".into()))?;
        Ok(ProductWrite::Saved {
            product: Box::new(self.live_product(id).await?),
            replayed: false,
        })
    }

    /// Changes product `id`: the fields given, the variants given (by id, or
    /// added without), the variants removed; all or nothing.
    pub async fn update_product(&self, id: ProductId, input: &ProductInput) -> Result<ProductWrite> {
        let current = self.live_product(id).await?;
        let (write, problems) = self.plan_input(Some(&current), input).await?;
        let Some(write) = write.filter(|_| problems.is_empty()) else {
            return Ok(ProductWrite::Refused(problems));
        };
        let written = self.core.storage.write_catalog(&[write]).await?;
        self.core.queued(written.queued + written.catalog_queued);
        Ok(ProductWrite::Saved {
            product: Box::new(self.live_product(id).await?),
            replayed: false,
        })
    }

    /// The product that has the SKU `sku`, exactly.
    pub async fn named_by_sku(&self, sku: &Sku) -> Result<Named> {
        let owners = self.core.storage.variant_owners(std::slice::from_ref(sku)).await?;
        self.named(owners.get(sku.as_str()).map(|(_, p)| *p)).await
    }

    /// The product with the handle `handle`, exactly.
    pub async fn named_by_handle(&self, handle: &str) -> Result<Named> {
        let wanted = [handle.trim().to_owned()];
        let ids = self.core.storage.product_ids_by_handle(&wanted).await?;
        self.named(ids.get(&wanted[0]).copied()).await
    }

    async fn named(&self, id: Option<ProductId>) -> Result<Named> {
        Ok(match id {
            None => Named::Nothing,
            Some(id) => self
                .core
                .storage
                .get_product(id)
                .await?
                .map_or(Named::Deleted, |p| Named::Live(Box::new(p))),
        })
    }

    async fn live_product(&self, id: ProductId) -> Result<ProductDetail> {
        self.core
            .storage
            .get_product(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("product {id}")))
    }

    async fn replayed(&self, ids: &[ProductId]) -> Result<ProductWrite> {
        let id = ids
            .first()
            .copied()
            .ok_or_else(|| Error::Conflict("this Idempotency-Key's first request created no product".into()))?;
        let product = self.core.storage.get_product(id).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "product {id}, which this Idempotency-Key's first request created (it has been deleted since),"
            ))
        })?;
        Ok(ProductWrite::Saved {
            product: Box::new(product),
            replayed: true,
        })
    }

    /// The write `input` makes of `current` (or of a new product), and
    /// every problem; the write is none when there are problems.
    async fn plan_input(
        &self,
        current: Option<&ProductDetail>,
        input: &ProductInput,
    ) -> Result<(Option<CatalogWrite>, Vec<FieldProblem>)> {
        let storage = &self.core.storage;
        let mut problems: Vec<FieldProblem> = Vec::new();
        let mut problem = |path: String, message: String| problems.push(FieldProblem::new(path, message));

        // The product's shape.
        if let Some(options) = &input.options {
            if options.len() > 3 {
                problem(
                    "options".into(),
                    format!("a product has at most 3 options, not {}", options.len()),
                );
            }
            for (i, _) in options.iter().enumerate().filter(|(_, o)| o.trim().is_empty()) {
                problem(format!("options[{i}]"), "an option needs a name".into());
            }
        }
        for (i, tag) in input.tags.iter().flatten().enumerate() {
            if let Some(why) = tag_problem(tag) {
                problem(format!("tags[{i}]"), why.into());
            }
        }
        for (i, v) in input.variants.iter().enumerate() {
            if v.option_values.as_ref().is_some_and(|o| o.len() > 3) {
                problem(
                    format!("variants[{i}].option_values"),
                    "a variant has at most 3 option values".into(),
                );
            }
        }

        // Which variants: the stored ones by id, the rest new.
        let stored: HashMap<VariantId, &crate::storage::VariantDetail> = current
            .map(|p| p.variants.iter().map(|v| (v.id, v)).collect())
            .unwrap_or_default();
        let mut seen_ids: HashMap<VariantId, usize> = HashMap::new();
        let mut matched = Vec::with_capacity(input.variants.len());
        for (i, v) in input.variants.iter().enumerate() {
            let Some(id) = v.id else {
                matched.push(None);
                continue;
            };
            if current.is_none() {
                problem(
                    format!("variants[{i}].id"),
                    "a new product's variants have no id yet; leave it out".into(),
                );
            } else if !stored.contains_key(&id) {
                problem(format!("variants[{i}].id"), format!("this product has no variant {id}"));
            } else if let Some(first) = seen_ids.insert(id, i) {
                problem(
                    format!("variants[{i}].id"),
                    format!("variant {id} is also given as variants[{first}]"),
                );
            } else if input.remove_variant_ids.contains(&id) {
                problem(
                    format!("variants[{i}].id"),
                    format!("variant {id} is also in remove_variant_ids"),
                );
            }
            matched.push(stored.get(&id).copied());
        }
        let mut remove: Vec<VariantId> = Vec::new();
        for (i, id) in input.remove_variant_ids.iter().enumerate() {
            if current.is_none() {
                problem(
                    format!("remove_variant_ids[{i}]"),
                    "a new product has no variants to remove".into(),
                );
            } else if !stored.contains_key(id) {
                problem(
                    format!("remove_variant_ids[{i}]"),
                    format!("this product has no variant {id}"),
                );
            } else if !remove.contains(id) {
                remove.push(*id);
            }
        }
        let new_variants = matched.iter().filter(|m| m.is_none()).count();
        match current {
            None if input.variants.is_empty() => {
                problem("variants".into(), "a new product needs at least one variant".into());
            }
            Some(p) if p.variants.len() - remove.len() + new_variants == 0 => {
                problem(
                    "remove_variant_ids".into(),
                    "a product keeps at least one variant; delete the product instead".into(),
                );
            }
            _ => {}
        }

        // SKUs: valid, once in the request, and no other variant's.
        let mut skus: Vec<Option<Sku>> = Vec::with_capacity(input.variants.len());
        let mut first_of: HashMap<String, usize> = HashMap::new();
        for (i, (v, stored)) in input.variants.iter().zip(&matched).enumerate() {
            let raw = match (&v.sku, stored) {
                (Some(s), _) => s.as_str(),
                (None, Some(s)) => s.sku.as_str(),
                (None, None) => {
                    problem(format!("variants[{i}].sku"), "a new variant needs a SKU".into());
                    skus.push(None);
                    continue;
                }
            };
            let sku = match Sku::parse(raw) {
                Ok(sku) => sku,
                Err(e) => {
                    problem(format!("variants[{i}].sku"), e.message);
                    skus.push(None);
                    continue;
                }
            };
            if let Some(first) = first_of.insert(sku.to_string(), i) {
                problem(
                    format!("variants[{i}].sku"),
                    format!("SKU {sku} is also given for variants[{first}]"),
                );
                skus.push(None);
                continue;
            }
            skus.push(Some(sku));
        }
        let wanted: Vec<Sku> = skus.iter().flatten().cloned().collect();
        let owners = storage.variant_owners(&wanted).await?;
        let mut other_products: Vec<ProductId> = owners
            .values()
            .map(|(_, p)| *p)
            .filter(|p| Some(*p) != current.map(|c| c.id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        other_products.sort_unstable();
        let handles: HashMap<ProductId, String> = storage
            .products_by_ids(&other_products)
            .await?
            .into_iter()
            .map(|p| (p.id, p.handle))
            .collect();
        for (i, (sku, stored)) in skus.iter_mut().zip(&matched).enumerate() {
            let Some(s) = sku.as_ref() else { continue };
            let Some((owner_variant, owner_product)) = owners.get(s.as_str()) else {
                continue;
            };
            if stored.is_some_and(|v| v.id == *owner_variant) {
                continue;
            }
            let why = if Some(*owner_product) == current.map(|c| c.id) {
                format!(
                    "SKU {s} is already variant {owner_variant}'s in this product; change that variant by its id, or free the SKU in an earlier request"
                )
            } else {
                sku_taken(s, handles.get(owner_product).map(String::as_str))
            };
            problem(format!("variants[{i}].sku"), why);
            *sku = None;
        }

        // The handle: set once.
        let handle = match (current, &input.handle) {
            (Some(p), Some(h)) if *h != p.handle => {
                problem(
                    "handle".into(),
                    format!(
                        "a handle is set when the product is created and cannot change (it is {:?})",
                        p.handle
                    ),
                );
                p.handle.clone()
            }
            (Some(p), _) => p.handle.clone(),
            (None, Some(h)) => {
                if let Err(why) = check_handle(h) {
                    problem("handle".into(), why);
                } else if storage
                    .product_ids_by_handle(std::slice::from_ref(h))
                    .await?
                    .contains_key(h)
                {
                    problem(
                        "handle".into(),
                        format!("the handle {h:?} is taken by another product (or a deleted one)"),
                    );
                }
                h.clone()
            }
            (None, None) => {
                let name = input.name.as_deref().unwrap_or_default();
                free_handle(storage, &product_handle(name), &HashSet::new()).await?
            }
        };

        // Every field by the catalog's rules.
        let given = ProductGiven {
            fields: input,
            images: input.images.as_ref().map(|images| {
                images
                    .iter()
                    .map(|i| ImageGiven {
                        url: i.url.clone(),
                        alt: i.alt.clone(),
                    })
                    .collect()
            }),
            variants: input
                .variants
                .iter()
                .zip(&matched)
                .zip(skus)
                .map(|((v, stored), sku)| VariantGiven {
                    fields: v,
                    sku,
                    current: *stored,
                })
                .collect(),
            remove,
        };
        let write = match plan_product(&given, current, handle) {
            Ok(write) => Some(write),
            Err(refused) => {
                problems.extend(refused.iter().map(|p| FieldProblem::new(path_of(p), p.message.clone())));
                None
            }
        };
        Ok((write, problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_problems_are_named_by_their_path_in_the_body() {
        let at = |part, field| {
            path_of(&Problem {
                part,
                field,
                message: String::new(),
            })
        };
        assert_eq!(at(Part::Product, "option2_name"), "options[1]");
        assert_eq!(at(Part::Variant(2), "price"), "variants[2].price");
        assert_eq!(at(Part::Variant(0), "option3_value"), "variants[0].option_values[2]");
        assert_eq!(at(Part::Image(1), "image_urls"), "images[1].url");
        assert_eq!(at(Part::Product, "reorder_point"), "reorder_point");
    }

    #[test]
    fn the_input_reads_as_the_catalog_file_s_cells() {
        let input = ProductInput {
            options: Some(vec!["Size".into()]),
            reorder_point: Some(None),
            tags: Some(vec!["wool".into(), "winter".into()]),
            active: Some(false),
            ..ProductInput::default()
        };
        assert_eq!(input.get("option1_name").as_deref(), Some("Size"));
        assert_eq!(
            input.get("option2_name").as_deref(),
            Some(""),
            "the list replaces every option"
        );
        assert_eq!(input.get("reorder_point").as_deref(), Some(""), "null clears");
        assert_eq!(input.get("reorder_quantity"), None, "not given: kept");
        assert_eq!(input.get("tags").as_deref(), Some("wool, winter"));
        assert_eq!(input.get("active").as_deref(), Some("false"));
        assert_eq!(tag_problem("a,b"), Some("a tag cannot contain a comma"));
    }
}
