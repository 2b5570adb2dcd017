//! Products and their variants written to Vendure. Tillbridge is the system
//! of record: a write overwrites every synced field, keeps each Vendure
//! variant it maps to (a SKU changed here changes that same variant
//! there), deletes the product's variants Tillbridge no longer has, and
//! creates the new ones stocked with their quantity.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::facets::other_facet_values;
use super::options::{OptionGroup, wanted_options};
use super::{CREATE_CHUNK, LANGUAGE, Level, MAX_BATCH, VendureConnector, id_of, slug};
use crate::connector::{ConnectorError, FoundItem, ProductToList, ProductWritten, VariantToList};

/// A product as Vendure has it before a write.
#[derive(Debug, Default)]
struct Current {
    variants: Vec<CurrentVariant>,
    groups: Vec<OptionGroup>,
    /// Facet values of facets other than brand and category.
    other_facet_values: Vec<String>,
    asset_ids: Vec<String>,
}

#[derive(Debug)]
struct CurrentVariant {
    id: String,
    sku: String,
}

/// Where each of our variants goes in Vendure.
enum Target {
    /// A Vendure variant of the product: ours by the mapping, or found by
    /// SKU (`adopted`, e.g. made by a write that failed half-way).
    Existing {
        id: String,
        adopted: bool,
    },
    New,
}

impl VendureConnector {
    pub(super) async fn create(&self, product: &ProductToList) -> Result<ProductWritten, ConnectorError> {
        let unique = unique(product);
        let facet_value_ids = self
            .facet_value_ids(Vec::new(), &product.brand, &product.category)
            .await?;
        let uploaded = match &product.images {
            Some(images) => self.upload_images(images).await?,
            None => Default::default(),
        };
        let data = self
            .graphql(
                "mutation CreateProduct($input: CreateProductInput!) { createProduct(input: $input) { id } }",
                json!({ "input": {
                    "enabled": product.active,
                    "translations": [{
                        "languageCode": LANGUAGE,
                        "name": product.name,
                        "slug": format!("{}-{unique}", slug(&product.name)),
                        "description": product.description,
                    }],
                    "facetValueIds": facet_value_ids,
                    "assetIds": uploaded.asset_ids,
                    "featuredAssetId": uploaded.asset_ids.first(),
                }}),
            )
            .await?;
        let product_id = id_of(&data["createProduct"]["id"])
            .ok_or_else(|| ConnectorError::Permanent(format!("product {:?} was not created", product.name)))?;
        let items = self
            .write_variants(product, &product_id, Current::default(), &HashMap::new())
            .await?;
        Ok(ProductWritten {
            items,
            failed_images: uploaded.failed,
            left: None,
        })
    }

    pub(super) async fn update(
        &self,
        product: &ProductToList,
        product_id: &str,
        existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        let mut current = self.current(product_id).await?;
        let facet_value_ids = self
            .facet_value_ids(
                std::mem::take(&mut current.other_facet_values),
                &product.brand,
                &product.category,
            )
            .await?;
        let mut input = json!({
            "id": product_id,
            "enabled": product.active,
            "translations": [{
                "languageCode": LANGUAGE,
                "name": product.name,
                "description": product.description,
            }],
            "facetValueIds": facet_value_ids,
        });
        // None: the images did not change, so they are neither fetched nor touched.
        let mut failed_images = Vec::new();
        let mut replaced_assets = Vec::new();
        if let Some(images) = &product.images {
            let uploaded = self.upload_images(images).await?;
            input["assetIds"] = json!(uploaded.asset_ids);
            input["featuredAssetId"] = json!(uploaded.asset_ids.first());
            replaced_assets = std::mem::take(&mut current.asset_ids);
            replaced_assets.retain(|id| !uploaded.asset_ids.contains(id));
            failed_images = uploaded.failed;
        }
        self.graphql(
            "mutation UpdateProduct($input: UpdateProductInput!) { updateProduct(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await?;
        self.delete_assets(&replaced_assets).await;
        let items = self.write_variants(product, product_id, current, existing).await?;
        Ok(ProductWritten {
            items,
            failed_images,
            left: None,
        })
    }

    /// The product's variants, option groups, facet values and images in
    /// Vendure; Permanent when it is not there.
    async fn current(&self, product_id: &str) -> Result<Current, ConnectorError> {
        let data = self
            .graphql(
                "query CurrentProduct($id: ID!) {
                   product(id: $id) {
                     id
                     optionGroups { id name options { id code name } }
                     variants { id sku stockLevels { stockLocationId stockOnHand stockAllocated } }
                     facetValues { id facet { code } }
                     assets { id }
                   }
                 }",
                json!({ "id": product_id }),
            )
            .await?;
        let p = &data["product"];
        if p.is_null() {
            return Err(ConnectorError::Permanent(format!(
                "product {product_id} is not in the Vendure store"
            )));
        }
        Ok(Current {
            variants: p["variants"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    Some(CurrentVariant {
                        id: id_of(&v["id"])?,
                        sku: v["sku"].as_str().unwrap_or_default().trim().to_owned(),
                    })
                })
                .collect(),
            groups: p["optionGroups"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(OptionGroup::from_answer)
                .collect(),
            other_facet_values: other_facet_values(&p["facetValues"]),
            asset_ids: p["assets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| id_of(&a["id"]))
                .collect(),
        })
    }

    /// Makes the product's variants in Vendure `product.variants`: deletes
    /// the ones Tillbridge removed (others added in Vendure stay), arranges the options, overwrites the kept ones
    /// and creates the new ones; returns them as Vendure now has them.
    async fn write_variants(
        &self,
        product: &ProductToList,
        product_id: &str,
        current: Current,
        existing: &HashMap<String, String>,
    ) -> Result<Vec<FoundItem>, ConnectorError> {
        let targets = targets(product, &current.variants, existing);
        let kept: HashSet<&str> = targets
            .values()
            .filter_map(|t| match t {
                Target::Existing { id, .. } => Some(id.as_str()),
                Target::New => None,
            })
            .collect();
        // Only what Tillbridge removed: variants added in Vendure stay.
        let removed: Vec<&str> = current
            .variants
            .iter()
            .filter(|v| !kept.contains(v.id.as_str()) && product.removed_skus.contains(&v.sku))
            .map(|v| v.id.as_str())
            .collect();
        // First, so their options neither block a group's removal nor clash with a new variant's.
        if !removed.is_empty() {
            let data = self
                .graphql(
                    "mutation DeleteVariants($ids: [ID!]!) { deleteProductVariants(ids: $ids) { result message } }",
                    json!({ "ids": removed }),
                )
                .await?;
            if let Some(refused) = data["deleteProductVariants"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["result"] != "DELETED")
            {
                return Err(ConnectorError::Permanent(format!(
                    "variants not deleted: {}",
                    refused["message"].as_str().unwrap_or("refused")
                )));
            }
        }
        let (names, values) = wanted_options(product);
        let option_ids = self
            .arrange_options(product_id, &unique(product), current.groups, &names, &values)
            .await?;
        let fields = self.variant_fields().await?;
        let mut updates = Vec::new();
        let mut creates = Vec::new();
        for v in &product.variants {
            let mut input = json!({
                "sku": v.sku,
                "price": v.price.minor,
                "enabled": product.active,
                "optionIds": option_ids.get(&v.sku).cloned().unwrap_or_default(),
                "translations": [{ "languageCode": LANGUAGE, "name": variant_name(product, v) }],
            });
            if let Some(custom) = fields.values(v) {
                input["customFields"] = custom;
            }
            match &targets[&v.sku] {
                Target::Existing { id, adopted } => {
                    // Found by SKU or not, its figure is left to the quantity
                    // pushes, which compare before they write (no un-selling).
                    if *adopted {
                        tracing::debug!(sku = %v.sku, variant = %id, "a Vendure variant with this SKU is taken over");
                    }
                    input["id"] = json!(id);
                    updates.push(input);
                }
                Target::New => {
                    input["productId"] = json!(product_id);
                    input["trackInventory"] = json!("TRUE");
                    input["stockLevels"] = json!([{
                        "stockLocationId": self.settings.stock_location_id,
                        "stockOnHand": v.quantity.max(0),
                    }]);
                    creates.push(input);
                }
            }
        }
        for chunk in updates.chunks(MAX_BATCH) {
            self.graphql(
                "mutation UpdateVariants($input: [UpdateProductVariantInput!]!) {
                   updateProductVariants(input: $input) { id }
                 }",
                json!({ "input": chunk }),
            )
            .await?;
        }
        for chunk in creates.chunks(CREATE_CHUNK) {
            self.graphql(
                "mutation CreateVariants($input: [CreateProductVariantInput!]!) {
                   createProductVariants(input: $input) { id }
                 }",
                json!({ "input": chunk }),
            )
            .await?;
        }
        self.variants_of(product_id).await
    }

    /// The product's variants with their stock at our location.
    async fn variants_of(&self, product_id: &str) -> Result<Vec<FoundItem>, ConnectorError> {
        let data = self
            .graphql(
                "query ProductVariants($id: ID!) {
                   product(id: $id) { id variants { id sku stockLevels { stockLocationId stockOnHand stockAllocated } } }
                 }",
                json!({ "id": product_id }),
            )
            .await?;
        Ok(data["product"]["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| {
                let id = id_of(&v["id"])?;
                Some(FoundItem {
                    sku: v["sku"].as_str()?.trim().to_owned(),
                    product_id: product_id.to_owned(),
                    variant_id: id.clone(),
                    inventory_item_id: id,
                    quantity: self.level_of(v).map(Level::saleable),
                })
            })
            .collect())
    }
}

/// Where each SKU of ours goes: the variant the mapping names if it is
/// still the product's, else one of the product's unclaimed variants with
/// that SKU, else a new variant.
fn targets(
    product: &ProductToList,
    current: &[CurrentVariant],
    existing: &HashMap<String, String>,
) -> HashMap<String, Target> {
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut out = HashMap::new();
    // Mapped ones first, so adoption by SKU never takes a mapped variant.
    for v in &product.variants {
        if let Some(c) = existing.get(&v.sku).and_then(|id| current.iter().find(|c| c.id == *id))
            && claimed.insert(c.id.as_str())
        {
            out.insert(
                v.sku.clone(),
                Target::Existing {
                    id: c.id.clone(),
                    adopted: false,
                },
            );
        }
    }
    for v in &product.variants {
        if out.contains_key(&v.sku) {
            continue;
        }
        let target = match current
            .iter()
            .find(|c| c.sku == v.sku && !claimed.contains(c.id.as_str()))
        {
            Some(c) => {
                claimed.insert(c.id.as_str());
                Target::Existing {
                    id: c.id.clone(),
                    adopted: true,
                }
            }
            None => Target::New,
        };
        out.insert(v.sku.clone(), target);
    }
    out
}

/// A tag for codes and slugs this product's writes make.
fn unique(product: &ProductToList) -> String {
    format!("tb{}", product.product_id.get())
}

fn variant_name(product: &ProductToList, v: &VariantToList) -> String {
    let values: Vec<&str> = v
        .option_values
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    if values.is_empty() {
        product.name.clone()
    } else {
        format!("{} {}", product.name, values.join(" / "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::VariantToList;
    use crate::domain::{Currency, Money, ProductId, VariantId};

    #[test]
    fn slugs_are_plain() {
        assert_eq!(slug("Alpine Canvas Sock, 3-Pack!"), "alpine-canvas-sock-3-pack");
        assert_eq!(slug("ÉÉ"), "x");
    }

    fn product(skus: &[&str]) -> ProductToList {
        ProductToList {
            product_id: ProductId::new(1),
            name: "Tee".into(),
            description: String::new(),
            brand: String::new(),
            category: String::new(),
            active: true,
            option_names: vec![],
            images: None,
            removed_skus: Vec::new(),
            variants: skus
                .iter()
                .enumerate()
                .map(|(i, sku)| VariantToList {
                    variant_id: VariantId::new(i as i64 + 1),
                    sku: (*sku).to_owned(),
                    barcode: None,
                    option_values: vec![],
                    price: Money::new(100, Currency::parse("USD").expect("currency")),
                    weight_grams: None,
                    quantity: 1,
                })
                .collect(),
        }
    }

    fn in_vendure(id: &str, sku: &str) -> CurrentVariant {
        CurrentVariant {
            id: id.into(),
            sku: sku.into(),
        }
    }

    fn summary(t: &HashMap<String, Target>) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = t
            .iter()
            .map(|(sku, t)| {
                let to = match t {
                    Target::Existing { id, adopted: false, .. } => id.clone(),
                    Target::Existing { id, adopted: true, .. } => format!("{id} by SKU"),
                    Target::New => "new".into(),
                };
                (sku.clone(), to)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_changed_sku_keeps_its_variant_a_lost_mapping_is_found_by_sku_and_the_rest_is_new() {
        let p = product(&["A-2", "B", "C"]);
        let current = [in_vendure("10", "A"), in_vendure("11", "B"), in_vendure("12", "Z")];
        // A was renamed A-2 here; B's mapping was never saved; C is new; Z was removed.
        let existing = HashMap::from([("A-2".to_owned(), "10".to_owned())]);
        assert_eq!(
            summary(&targets(&p, &current, &existing)),
            [
                ("A-2".to_owned(), "10".to_owned()),
                ("B".to_owned(), "11 by SKU".to_owned()),
                ("C".to_owned(), "new".to_owned()),
            ]
        );
    }

    #[test]
    fn a_mapping_to_a_variant_no_longer_in_the_product_makes_a_new_one() {
        let p = product(&["A"]);
        let existing = HashMap::from([("A".to_owned(), "99".to_owned())]);
        assert_eq!(
            summary(&targets(&p, &[in_vendure("10", "B")], &existing)),
            [("A".to_owned(), "new".to_owned())]
        );
        // Two SKUs swapped here: each keeps its own variant, neither is adopted.
        let p = product(&["A", "B"]);
        let existing = HashMap::from([("A".to_owned(), "11".to_owned()), ("B".to_owned(), "10".to_owned())]);
        let current = [in_vendure("10", "A"), in_vendure("11", "B")];
        assert_eq!(
            summary(&targets(&p, &current, &existing)),
            [("A".to_owned(), "11".to_owned()), ("B".to_owned(), "10".to_owned())]
        );
    }
}
