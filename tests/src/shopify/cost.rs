//! Calculated query cost, as shopify.dev's rate-limit page describes it:
//! scalars and enums cost 0, an object 1, an interface the maximum over its
//! possible types, a connection 2 plus `first`/`last` times the cost of one
//! node, and a mutation 10. Inside a mutation's payload the payload's own
//! objects (`product`, `inventoryAdjustmentGroup`, `userErrors`...) are part
//! of the 10 and what they contain is added, which reproduces the captured
//! costs (`inventorySetQuantities { inventoryAdjustmentGroup { id } userErrors
//! {...} }` = 10, with `changes { item { id } location { id } }` = 13,
//! `productCreate` with `variants(first: 1) { nodes { inventoryItem {...} } }`
//! = 14, `inventoryActivate { inventoryLevel { quantities {...} } }` = 11).

use graphql_parser::query::{Field, SelectionSet};
use serde_json::Value as J;

use super::exec::collect_fields;
use super::input::{Vars, literal_to_json};
use super::schema::Schema;
use super::validate::Fragments;

pub const MUTATION_COST: f64 = 10.0;

/// `productSet` also costs by the size of its input, as the schema's
/// descriptions say: 0.2 per variant and 1.9 per file (rounded). The
/// captured 2,049-variant call asked 420 = 10 + 2,049 x 0.2, while one or
/// two variants stay at 10.
pub fn product_set_input_cost(input: Option<&J>) -> f64 {
    let count = |key: &str| input.and_then(|i| i.get(key)).and_then(J::as_array).map_or(0, Vec::len) as f64;
    (count("variants") * 0.2 + count("files") * 1.9).round()
}

pub struct Coster<'a, 'q> {
    pub schema: &'a Schema,
    pub fragments: &'a Fragments<'q>,
    pub vars: &'a Vars,
}

impl<'a, 'q> Coster<'a, 'q> {
    pub fn operation(&self, is_mutation: bool, root: &str, set: &'q SelectionSet<'q, &'q str>) -> f64 {
        if is_mutation {
            let fields = collect_fields(self.schema, root, set, self.fragments, self.vars);
            fields
                .iter()
                .map(|(_, fs)| {
                    let f = fs[0];
                    let Some(def) = self.schema.field(root, f.name) else {
                        return 0.0;
                    };
                    MUTATION_COST + self.payload(def.ty.named(), fs) + self.input_cost(f)
                })
                .sum()
        } else {
            self.selection(root, &[set])
        }
    }

    fn input_cost(&self, f: &Field<'q, &'q str>) -> f64 {
        if f.name != "productSet" {
            return 0.0;
        }
        product_set_input_cost(self.arg(f, "input").as_ref())
    }

    /// A mutation payload: its direct object fields are covered by the 10.
    fn payload(&self, payload_type: &str, fields: &[&'q Field<'q, &'q str>]) -> f64 {
        let sets: Vec<&SelectionSet<'q, &'q str>> = fields.iter().map(|f| &f.selection_set).collect();
        let mut total = 0.0;
        for set in sets {
            for (_, fs) in collect_fields(self.schema, payload_type, set, self.fragments, self.vars) {
                let c = self.field(payload_type, &fs);
                let Some(def) = self.schema.field(payload_type, fs[0].name) else {
                    continue;
                };
                let ret = def.ty.named();
                let own = if self.schema.is_composite(ret) && !self.schema.is_connection(ret) {
                    1.0
                } else {
                    0.0
                };
                total += (c - own).max(0.0);
            }
        }
        total
    }

    /// The cost of the selections on a value of type `type_name`.
    pub fn selection(&self, type_name: &str, sets: &[&'q SelectionSet<'q, &'q str>]) -> f64 {
        self.schema
            .possible_types(type_name)
            .iter()
            .map(|concrete| {
                let mut sum = 0.0;
                for set in sets {
                    for (_, fs) in collect_fields(self.schema, concrete, set, self.fragments, self.vars) {
                        sum += self.field(concrete, &fs);
                    }
                }
                sum
            })
            .fold(0.0, f64::max)
    }

    fn arg(&self, f: &Field<'q, &'q str>, name: &str) -> Option<J> {
        f.arguments
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| literal_to_json(v, self.vars))
    }

    fn field(&self, parent: &str, fs: &[&'q Field<'q, &'q str>]) -> f64 {
        let f = fs[0];
        let Some(def) = self.schema.field(parent, f.name) else {
            return 0.0;
        };
        let ret = def.ty.named();
        if self.schema.is_leaf(ret) {
            return 0.0;
        }
        let sets: Vec<&SelectionSet<'q, &'q str>> = fs.iter().map(|f| &f.selection_set).collect();
        if self.schema.is_connection(ret) {
            let n = self
                .arg(f, "first")
                .or_else(|| self.arg(f, "last"))
                .and_then(|v| v.as_i64())
                .unwrap_or(0)
                .max(0) as f64;
            return 2.0 + n * self.connection_node(ret, &sets);
        }
        if parent == "QueryRoot" && f.name == "nodes" {
            let ids = self.arg(f, "ids").and_then(|v| v.as_array().map(Vec::len)).unwrap_or(0) as f64;
            return ids * (1.0 + self.selection(ret, &sets));
        }
        1.0 + self.selection(ret, &sets)
    }

    /// The cost of one node of a connection (edges and nodes select the same
    /// objects, so the larger of the two counts).
    fn connection_node(&self, connection: &str, sets: &[&'q SelectionSet<'q, &'q str>]) -> f64 {
        let node_type = connection.trim_end_matches("Connection").to_owned();
        let mut best: f64 = 0.0;
        for set in sets {
            for (_, fs) in collect_fields(self.schema, connection, set, self.fragments, self.vars) {
                let inner: Vec<&SelectionSet<'q, &'q str>> = fs.iter().map(|f| &f.selection_set).collect();
                match fs[0].name {
                    "nodes" => best = best.max(1.0 + self.selection(&node_type, &inner)),
                    "edges" => {
                        let edge = format!("{node_type}Edge");
                        for eset in &inner {
                            for (_, efs) in collect_fields(self.schema, &edge, eset, self.fragments, self.vars) {
                                if efs[0].name == "node" {
                                    let nsets: Vec<&SelectionSet<'q, &'q str>> =
                                        efs.iter().map(|f| &f.selection_set).collect();
                                    best = best.max(1.0 + self.selection(&node_type, &nsets));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        best
    }
}
