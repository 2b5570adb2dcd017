//! Options as Vendure has them: option groups on the product (one per
//! option name, matched by name), an option per value, and every variant
//! carrying one option of each group. More than one variant needs options
//! in Vendure; a product of several variants but no options gets a
//! "Variant" group whose values are the SKUs.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::{LANGUAGE, VendureConnector, id_of, slug};
use crate::connector::{ConnectorError, ProductToList};

/// The group a product of several variants but no options gets.
const SKU_GROUP: &str = "Variant";

/// An option group on a product, as Vendure has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OptionGroup {
    pub id: String,
    pub name: String,
    pub options: Vec<ProductOption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ProductOption {
    pub id: String,
    pub code: String,
    pub name: String,
}

impl OptionGroup {
    /// Reads a group from an answer's `{ id name options { id code name } }`.
    pub(super) fn from_answer(g: &Value) -> Option<Self> {
        Some(OptionGroup {
            id: id_of(&g["id"])?,
            name: g["name"].as_str().unwrap_or_default().to_owned(),
            options: g["options"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| {
                    Some(ProductOption {
                        id: id_of(&o["id"])?,
                        code: o["code"].as_str().unwrap_or_default().to_owned(),
                        name: o["name"].as_str().unwrap_or_default().to_owned(),
                    })
                })
                .collect(),
        })
    }
}

/// The option names a product has in Vendure and each variant's values
/// (by SKU), in the names' order.
pub(super) fn wanted_options(product: &ProductToList) -> (Vec<String>, HashMap<String, Vec<String>>) {
    if product.option_names.is_empty() && product.variants.len() > 1 {
        let values = product
            .variants
            .iter()
            .map(|v| (v.sku.clone(), vec![v.sku.clone()]))
            .collect();
        return (vec![SKU_GROUP.to_owned()], values);
    }
    let names = product.option_names.clone();
    let values = product
        .variants
        .iter()
        .map(|v| {
            (
                v.sku.clone(),
                v.option_values.iter().take(names.len()).cloned().collect(),
            )
        })
        .collect();
    (names, values)
}

/// For each wanted name, the index of the group that serves it (same name,
/// exactly or ignoring case), or None; and the groups no name wants.
fn match_groups(groups: &[OptionGroup], names: &[String]) -> (Vec<Option<usize>>, Vec<usize>) {
    let mut taken = HashSet::new();
    let mut chosen = Vec::with_capacity(names.len());
    for name in names {
        let exact = groups
            .iter()
            .enumerate()
            .position(|(i, g)| !taken.contains(&i) && g.name == *name);
        let any_case = || {
            groups
                .iter()
                .enumerate()
                .position(|(i, g)| !taken.contains(&i) && g.name.eq_ignore_ascii_case(name))
        };
        let at = exact.or_else(any_case);
        if let Some(i) = at {
            taken.insert(i);
        }
        chosen.push(at);
    }
    let unwanted = (0..groups.len()).filter(|i| !taken.contains(i)).collect();
    (chosen, unwanted)
}

impl VendureConnector {
    /// Makes the product's option groups exactly `names` (in Vendure's
    /// terms) with an option for each value used, and returns each SKU's
    /// option ids in the names' order. Groups no name wants are taken off
    /// the product first (their options leave its variants with them).
    pub(super) async fn arrange_options(
        &self,
        product_id: &str,
        unique: &str,
        mut groups: Vec<OptionGroup>,
        names: &[String],
        values: &HashMap<String, Vec<String>>,
    ) -> Result<HashMap<String, Vec<String>>, ConnectorError> {
        let (chosen, unwanted) = match_groups(&groups, names);
        for &i in &unwanted {
            let data = self
                .graphql(
                    "mutation RemoveOptionGroup($productId: ID!, $groupId: ID!) {
                       removeOptionGroupFromProduct(productId: $productId, optionGroupId: $groupId, force: true) {
                         __typename ... on ErrorResult { message }
                       }
                     }",
                    json!({ "productId": product_id, "groupId": groups[i].id }),
                )
                .await?;
            let answer = &data["removeOptionGroupFromProduct"];
            if answer["__typename"] != "Product" {
                return Err(ConnectorError::Permanent(format!(
                    "option group {:?} not removed: {}",
                    groups[i].name,
                    answer["message"].as_str().unwrap_or("refused")
                )));
            }
        }
        let mut slots = Vec::with_capacity(names.len());
        for (i, (name, found)) in names.iter().zip(chosen).enumerate() {
            let slot = match found {
                Some(at) => at,
                None => {
                    let used = distinct_values(values, i);
                    groups.push(self.create_group(product_id, unique, name, &used).await?);
                    groups.len() - 1
                }
            };
            slots.push(slot);
        }
        let mut out = HashMap::new();
        for (sku, vals) in values {
            let mut ids = Vec::with_capacity(slots.len());
            for (&slot, value) in slots.iter().zip(vals) {
                let group = &mut groups[slot];
                let id = match group.options.iter().find(|o| o.name == *value) {
                    Some(o) => o.id.clone(),
                    None => {
                        let option = self.create_option(group, value).await?;
                        let id = option.id.clone();
                        group.options.push(option);
                        id
                    }
                };
                ids.push(id);
            }
            out.insert(sku.clone(), ids);
        }
        Ok(out)
    }

    /// Makes a group with options for `used` and puts it on the product.
    async fn create_group(
        &self,
        product_id: &str,
        unique: &str,
        name: &str,
        used: &[&str],
    ) -> Result<OptionGroup, ConnectorError> {
        let codes = distinct_codes(used);
        let data = self
            .graphql(
                "mutation CreateOptionGroup($input: CreateProductOptionGroupInput!) {
                   createProductOptionGroup(input: $input) { id name options { id code name } }
                 }",
                json!({ "input": {
                    "code": format!("{}-{unique}", slug(name)),
                    "translations": [{ "languageCode": LANGUAGE, "name": name }],
                    "options": used.iter().zip(&codes).map(|(v, c)| json!({
                        "code": c, "translations": [{ "languageCode": LANGUAGE, "name": v }]
                    })).collect::<Vec<_>>(),
                }}),
            )
            .await?;
        let group = OptionGroup::from_answer(&data["createProductOptionGroup"])
            .ok_or_else(|| ConnectorError::Permanent(format!("option group {name:?} was not created")))?;
        self.graphql(
            "mutation AddOptionGroup($productId: ID!, $groupId: ID!) {
               addOptionGroupToProduct(productId: $productId, optionGroupId: $groupId) { id }
             }",
            json!({ "productId": product_id, "groupId": group.id }),
        )
        .await?;
        Ok(group)
    }

    async fn create_option(&self, group: &OptionGroup, value: &str) -> Result<ProductOption, ConnectorError> {
        let taken: HashSet<&str> = group.options.iter().map(|o| o.code.as_str()).collect();
        let mut code = slug(value);
        let mut n = 2;
        while taken.contains(code.as_str()) {
            code = format!("{}-{n}", slug(value));
            n += 1;
        }
        let data = self
            .graphql(
                "mutation CreateOption($input: CreateProductOptionInput!) {
                   createProductOption(input: $input) { id code name }
                 }",
                json!({ "input": {
                    "productOptionGroupId": group.id,
                    "code": code,
                    "translations": [{ "languageCode": LANGUAGE, "name": value }],
                }}),
            )
            .await?;
        let id = id_of(&data["createProductOption"]["id"])
            .ok_or_else(|| ConnectorError::Permanent(format!("option {value:?} was not created")))?;
        Ok(ProductOption {
            id,
            code,
            name: value.to_owned(),
        })
    }
}

/// The values used at position `i`, each once, in a stable order.
fn distinct_values(values: &HashMap<String, Vec<String>>, i: usize) -> Vec<&str> {
    let mut skus: Vec<&String> = values.keys().collect();
    skus.sort();
    let mut out: Vec<&str> = Vec::new();
    for sku in skus {
        if let Some(v) = values[sku].get(i)
            && !out.contains(&v.as_str())
        {
            out.push(v);
        }
    }
    out
}

/// Codes for `values`, distinct even where two values slug alike.
pub(super) fn distinct_codes(values: &[&str]) -> Vec<String> {
    let mut taken = HashSet::new();
    values
        .iter()
        .map(|v| {
            let base = slug(v);
            let mut code = base.clone();
            let mut n = 2;
            while !taken.insert(code.clone()) {
                code = format!("{base}-{n}");
                n += 1;
            }
            code
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, name: &str) -> OptionGroup {
        OptionGroup {
            id: id.into(),
            name: name.into(),
            options: vec![],
        }
    }

    #[test]
    fn groups_are_matched_by_name_and_the_rest_are_unwanted() {
        let groups = [group("1", "size"), group("2", "Colour"), group("3", "Variant")];
        let names = ["Colour".to_owned(), "Size".to_owned(), "Fit".to_owned()];
        assert_eq!(match_groups(&groups, &names), (vec![Some(1), Some(0), None], vec![2]));
        assert_eq!(match_groups(&groups, &[]), (vec![], vec![0, 1, 2]));
    }

    #[test]
    fn codes_are_distinct() {
        assert_eq!(distinct_codes(&["S", "s", "M"]), vec!["s", "s-2", "m"]);
    }
}
