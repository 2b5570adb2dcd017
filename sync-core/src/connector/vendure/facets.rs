//! Brand and category as Vendure facets: a facet with the code `brand` and
//! one with `category`, made when first needed, and a value per brand or
//! category name, also made on demand. A product write replaces the
//! product's values of these two facets and keeps every other facet value
//! a person gave it in Vendure.

use serde_json::{Value, json};

use super::{LANGUAGE, VendureConnector, id_of, slug};
use crate::connector::ConnectorError;

/// The facets this connector owns: (code, name shown in Vendure).
const BRAND: (&str, &str) = ("brand", "Brand");
const CATEGORY: (&str, &str) = ("category", "Category");

impl VendureConnector {
    /// The facet value ids a product should carry: `kept` (its values of
    /// other facets, as read from Vendure) and the values named `brand`
    /// and `category`, created if missing; an empty name means none.
    pub(super) async fn facet_value_ids(
        &self,
        kept: Vec<String>,
        brand: &str,
        category: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        let wanted: Vec<((&str, &str), &str)> = [(BRAND, brand.trim()), (CATEGORY, category.trim())]
            .into_iter()
            .filter(|(_, name)| !name.is_empty())
            .collect();
        let mut ids = kept;
        if wanted.is_empty() {
            return Ok(ids);
        }
        // The two facets and any value already named so, in one read.
        let data = self
            .graphql(
                "query BrandAndCategory($codes: [String!]!, $brand: String!, $category: String!) {
                   facets(options: { filter: { code: { in: $codes } }, take: 10 }) { items { id code } }
                   brand: facetValues(options: { filter: { name: { eq: $brand } }, take: 100 }) {
                     items { id facet { id } } }
                   category: facetValues(options: { filter: { name: { eq: $category } }, take: 100 }) {
                     items { id facet { id } } }
                 }",
                json!({ "codes": [BRAND.0, CATEGORY.0], "brand": brand.trim(), "category": category.trim() }),
            )
            .await?;
        for ((code, facet_name), value) in wanted {
            let facet = data["facets"]["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| f["code"] == code)
                .and_then(|f| id_of(&f["id"]));
            let id = match facet {
                None => self.create_facet(code, facet_name, value).await?,
                Some(facet) => {
                    let found = data[code]["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|v| id_of(&v["facet"]["id"]).as_deref() == Some(facet.as_str()))
                        .and_then(|v| id_of(&v["id"]));
                    match found {
                        Some(id) => id,
                        None => self.create_facet_value(&facet, value).await?,
                    }
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    /// Makes the facet with its first value; returns the value's id.
    async fn create_facet(&self, code: &str, name: &str, value: &str) -> Result<String, ConnectorError> {
        let data = self
            .graphql(
                "mutation CreateFacet($input: CreateFacetInput!) {
                   createFacet(input: $input) { id values { id } }
                 }",
                json!({ "input": {
                    "code": code,
                    "isPrivate": false,
                    "translations": [{ "languageCode": LANGUAGE, "name": name }],
                    "values": [{ "code": slug(value), "translations": [{ "languageCode": LANGUAGE, "name": value }] }],
                }}),
            )
            .await?;
        id_of(&data["createFacet"]["values"][0]["id"])
            .ok_or_else(|| ConnectorError::Permanent(format!("the {code} facet was not created")))
    }

    async fn create_facet_value(&self, facet: &str, value: &str) -> Result<String, ConnectorError> {
        let data = self
            .graphql(
                "mutation CreateFacetValue($input: CreateFacetValueInput!) { createFacetValue(input: $input) { id } }",
                json!({ "input": {
                    "facetId": facet,
                    "code": slug(value),
                    "translations": [{ "languageCode": LANGUAGE, "name": value }],
                }}),
            )
            .await?;
        id_of(&data["createFacetValue"]["id"])
            .ok_or_else(|| ConnectorError::Permanent(format!("the facet value {value:?} was not created")))
    }
}

/// The ids of a product's facet values that belong to neither of our facets.
pub(super) fn other_facet_values(facet_values: &Value) -> Vec<String> {
    facet_values
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["facet"]["code"] != BRAND.0 && v["facet"]["code"] != CATEGORY.0)
        .filter_map(|v| id_of(&v["id"]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_products_other_facet_values_are_kept_and_brand_and_category_replaced() {
        let values = json!([
            { "id": "1", "facet": { "code": "brand" } },
            { "id": "7", "facet": { "code": "colour" } },
            { "id": 9, "facet": { "code": "category" } },
            { "id": "12", "facet": { "code": "season" } },
        ]);
        assert_eq!(other_facet_values(&values), vec!["7", "12"]);
    }
}
