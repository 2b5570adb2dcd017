//! What a product push wrote to a channel, kept (as JSON) so the next
//! push can tell the Sync History what changed.

use serde::{Deserialize, Serialize};

use crate::connector::ProductToList;

/// What a product push wrote, kept so the next one can say what changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Written {
    name: String,
    description: String,
    brand: String,
    category: String,
    active: bool,
    options: Vec<String>,
    images: Vec<(String, String)>,
    variants: Vec<WrittenVariant>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct WrittenVariant {
    id: i64,
    sku: String,
    barcode: Option<String>,
    options: Vec<String>,
    price: String,
    weight_grams: Option<i64>,
}

impl Written {
    pub(crate) fn of(product: &ProductToList) -> Self {
        Written {
            name: product.name.clone(),
            description: product.description.clone(),
            brand: product.brand.clone(),
            category: product.category.clone(),
            active: product.active,
            options: product.option_names.clone(),
            images: product
                .images
                .iter()
                .flatten()
                .map(|i| (i.url.clone(), i.alt.clone()))
                .collect(),
            variants: product
                .variants
                .iter()
                .map(|v| WrittenVariant {
                    id: v.variant_id.get(),
                    sku: v.sku.clone(),
                    barcode: v.barcode.clone(),
                    options: v.option_values.clone(),
                    price: v.price.to_string(),
                    weight_grams: v.weight_grams,
                })
                .collect(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn has_images(&self) -> bool {
        !self.images.is_empty()
    }

    pub(crate) fn same_images(&self, other: &Written) -> bool {
        self.images == other.images
    }

    /// SKUs of variants written before that `new` no longer has.
    pub(crate) fn removed_skus(&self, new: &Written) -> Vec<String> {
        self.variants
            .iter()
            .filter(|old| !new.variants.iter().any(|v| v.id == old.id))
            .map(|old| old.sku.clone())
            .collect()
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn from_json(raw: Option<&str>) -> Option<Self> {
        serde_json::from_str(raw?).ok()
    }

    /// What changed from `self` to `new`, as the Sync History tells it.
    pub(crate) fn changes_to(&self, new: &Written) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: &str, old: &str, new: &str| {
            if old != new {
                out.push(format!("{name}: {} → {}", quote(old), quote(new)));
            }
        };
        field("name", &self.name, &new.name);
        field("brand", &self.brand, &new.brand);
        field("category", &self.category, &new.category);
        if self.description != new.description {
            out.push("description changed".into());
        }
        if self.active != new.active {
            out.push(
                if new.active {
                    "made available"
                } else {
                    "made unavailable"
                }
                .into(),
            );
        }
        if self.options != new.options {
            out.push(format!(
                "options: {} → {}",
                self.options.join(" / "),
                new.options.join(" / ")
            ));
        }
        if self.images != new.images {
            let old_urls: Vec<&str> = self.images.iter().map(|(u, _)| u.as_str()).collect();
            let new_urls: Vec<&str> = new.images.iter().map(|(u, _)| u.as_str()).collect();
            let added = new_urls.iter().filter(|u| !old_urls.contains(u)).count();
            let removed = old_urls.iter().filter(|u| !new_urls.contains(u)).count();
            let mut parts = Vec::new();
            if added > 0 {
                parts.push(format!("{added} added"));
            }
            if removed > 0 {
                parts.push(format!("{removed} removed"));
            }
            if parts.is_empty() {
                parts.push("reordered or retitled".into());
            }
            out.push(format!("images: {}", parts.join(", ")));
        }
        for v in &new.variants {
            let Some(old) = self.variants.iter().find(|o| o.id == v.id) else {
                out.push(format!("variant {} added", v.sku));
                continue;
            };
            if old.sku != v.sku {
                out.push(format!("SKU {} → {}", old.sku, v.sku));
            }
            let sku = &v.sku;
            if old.price != v.price {
                out.push(format!("price of {sku}: {} → {}", old.price, v.price));
            }
            if old.barcode != v.barcode {
                out.push(format!(
                    "barcode of {sku}: {} → {}",
                    old.barcode.as_deref().unwrap_or("none"),
                    v.barcode.as_deref().unwrap_or("none")
                ));
            }
            if old.weight_grams != v.weight_grams {
                let grams = |g: Option<i64>| g.map_or_else(|| "none".to_owned(), |g| format!("{g} g"));
                out.push(format!(
                    "weight of {sku}: {} → {}",
                    grams(old.weight_grams),
                    grams(v.weight_grams)
                ));
            }
            if old.options != v.options {
                out.push(format!(
                    "options of {sku}: {} → {}",
                    old.options.join(" / "),
                    v.options.join(" / ")
                ));
            }
        }
        for old in &self.variants {
            if !new.variants.iter().any(|v| v.id == old.id) {
                out.push(format!("variant {} removed", old.sku));
            }
        }
        out
    }
}

fn quote(s: &str) -> String {
    if s.is_empty() { "none".into() } else { format!("{s:?}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written() -> Written {
        Written {
            name: "Tee".into(),
            description: "Soft".into(),
            brand: "Acme".into(),
            category: "Shirts".into(),
            active: true,
            options: vec!["Size".into()],
            images: vec![("https://img.example/a.jpg".into(), String::new())],
            variants: vec![WrittenVariant {
                id: 1,
                sku: "TEE-S".into(),
                barcode: None,
                options: vec!["S".into()],
                price: "19.00 NZD".into(),
                weight_grams: Some(200),
            }],
        }
    }

    #[test]
    fn the_history_says_what_changed_field_by_field() {
        let old = written();
        let mut new = written();
        assert!(old.changes_to(&new).is_empty());
        new.name = "Tee 2".into();
        new.active = false;
        new.variants[0].sku = "TEE-SM".into();
        new.variants[0].price = "21.00 NZD".into();
        new.images.push(("https://img.example/b.jpg".into(), "back".into()));
        new.variants.push(WrittenVariant {
            id: 2,
            sku: "TEE-M".into(),
            ..WrittenVariant::default()
        });
        let changes = old.changes_to(&new);
        assert_eq!(
            changes,
            [
                "name: \"Tee\" → \"Tee 2\"",
                "made unavailable",
                "images: 1 added",
                "SKU TEE-S → TEE-SM",
                "price of TEE-SM: 19.00 NZD → 21.00 NZD",
                "variant TEE-M added",
            ]
        );
        let removed = new.changes_to(&old);
        assert!(removed.contains(&"variant TEE-M removed".to_owned()), "{removed:?}");
    }

    #[test]
    fn what_was_written_round_trips_through_its_json() {
        let w = written();
        assert_eq!(Written::from_json(Some(&w.to_json())), Some(w));
        assert_eq!(Written::from_json(Some("not json")), None);
        assert_eq!(Written::from_json(None), None);
    }
}
