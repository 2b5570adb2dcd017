//! Barcode and weight: Vendure has neither, so a store that wants them
//! declares variant custom fields named `barcode` (string) and `weight`
//! (int, grams). Whether it did is read once from its schema (the custom
//! fields inputs of `CreateProductVariantInput` and
//! `UpdateProductVariantInput`), and only the fields it has are sent: a
//! store without them takes the rest of the product.

use serde_json::{Value, json};

use super::VendureConnector;
use crate::connector::{ConnectorError, VariantToList};

/// The custom field names this connector writes.
const BARCODE: &str = "barcode";
const WEIGHT: &str = "weight";

/// Which of the fields the store's variants take, on create and on update.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct VariantFields {
    barcode: bool,
    weight: bool,
}

impl VariantFields {
    /// The `customFields` of a variant write, or None when the store has none of them.
    pub(super) fn values(self, v: &VariantToList) -> Option<Value> {
        let mut fields = serde_json::Map::new();
        if self.barcode {
            fields.insert(BARCODE.into(), json!(v.barcode));
        }
        if self.weight {
            fields.insert(WEIGHT.into(), json!(v.weight_grams));
        }
        (!fields.is_empty()).then_some(Value::Object(fields))
    }

    /// Reads an introspection answer: a field counts when both inputs take
    /// it with the type we send (a string barcode, a numeric weight).
    fn from_schema(data: &Value) -> Self {
        let takes = |input: &str, name: &str, types: &[&str]| {
            data[input]["inputFields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["name"] == "customFields")
                .flat_map(|f| f["type"]["inputFields"].as_array().into_iter().flatten())
                .any(|f| {
                    // Nullable scalars are named at once; required ones inside NON_NULL.
                    let t = &f["type"];
                    let scalar = t["name"].as_str().or_else(|| t["ofType"]["name"].as_str());
                    f["name"] == name && scalar.is_some_and(|s| types.contains(&s))
                })
        };
        let both = |name: &str, types: &[&str]| takes("create", name, types) && takes("update", name, types);
        VariantFields {
            barcode: both(BARCODE, &["String"]),
            weight: both(WEIGHT, &["Int", "Float"]),
        }
    }
}

impl VendureConnector {
    /// The store's variant custom fields, asked once per connector. A store
    /// that refuses introspection is taken to have none of them.
    pub(super) async fn variant_fields(&self) -> Result<VariantFields, ConnectorError> {
        if let Some(known) = *self.custom_fields.lock().unwrap_or_else(|p| p.into_inner()) {
            return Ok(known);
        }
        let answer = self
            .graphql(
                "query VariantCustomFields {
                   create: __type(name: \"CreateProductVariantInput\") { ...customFields }
                   update: __type(name: \"UpdateProductVariantInput\") { ...customFields }
                 }
                 fragment customFields on __Type {
                   inputFields { name type { name inputFields { name type { name kind ofType { name } } } } }
                 }",
                json!({}),
            )
            .await;
        let fields = match answer {
            Ok(data) => VariantFields::from_schema(&data),
            Err(ConnectorError::Permanent(why)) => {
                tracing::warn!(store = %self.settings.api_base_url, %why,
                    "cannot read the Vendure schema; barcodes and weights are not sent");
                VariantFields::default()
            }
            Err(e) => return Err(e),
        };
        *self.custom_fields.lock().unwrap_or_else(|p| p.into_inner()) = Some(fields);
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(fields: Value) -> Value {
        json!({ "inputFields": [
            { "name": "sku", "type": { "name": "String", "inputFields": null } },
            { "name": "customFields", "type": { "name": "X", "inputFields": fields } },
        ]})
    }

    #[test]
    fn only_fields_both_inputs_take_with_our_types_are_sent() {
        let both = json!([
            { "name": "barcode", "type": { "name": "String", "kind": "SCALAR", "ofType": null } },
            { "name": "weight", "type": { "name": null, "kind": "NON_NULL", "ofType": { "name": "Int" } } },
        ]);
        let fields = VariantFields::from_schema(&json!({ "create": input(both.clone()), "update": input(both) }));
        assert_eq!(
            fields,
            VariantFields {
                barcode: true,
                weight: true
            }
        );

        let text_weight = json!([{ "name": "weight", "type": { "name": "String", "kind": "SCALAR" } }]);
        let barcode_on_update_only = json!([{ "name": "barcode", "type": { "name": "String", "kind": "SCALAR" } }]);
        let fields = VariantFields::from_schema(&json!({
            "create": input(text_weight),
            "update": input(barcode_on_update_only),
        }));
        assert_eq!(fields, VariantFields::default());
        // A store without custom fields has no customFields input at all.
        let plain = json!({ "inputFields": [{ "name": "sku", "type": { "name": "String" } }] });
        assert_eq!(
            VariantFields::from_schema(&json!({ "create": plain.clone(), "update": plain })),
            VariantFields::default()
        );
    }

    #[test]
    fn values_carry_only_the_fields_the_store_has_and_clear_empty_ones() {
        let v = VariantToList {
            variant_id: crate::domain::VariantId::new(1),
            sku: "S-1".into(),
            barcode: None,
            option_values: vec![],
            price: crate::domain::Money::new(100, crate::domain::Currency::parse("USD").expect("currency")),
            weight_grams: Some(250),
            quantity: 0,
        };
        assert_eq!(VariantFields::default().values(&v), None);
        let all = VariantFields {
            barcode: true,
            weight: true,
        };
        assert_eq!(all.values(&v), Some(json!({ "barcode": null, "weight": 250 })));
        let weight_only = VariantFields {
            barcode: false,
            weight: true,
        };
        assert_eq!(weight_only.values(&v), Some(json!({ "weight": 250 })));
    }
}
