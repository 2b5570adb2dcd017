//! Executes a validated operation against the store: resolves each selected
//! field (aliases, fragments, `@skip`/`@include` honoured), renders exactly
//! the selection, and counts the actual query cost as it goes.

mod media;

use std::collections::HashMap;

use base64::Engine as _;
use graphql_parser::Pos;
use graphql_parser::query::{Directive, Field, Selection, SelectionSet, TypeCondition, Value};
use serde_json::{Map, Value as J};

use super::cost::{MUTATION_COST, product_set_input_cost};
use super::input::{Vars, field_args, literal_to_json};
use super::json::{OVal, runtime_error};
use super::mutations::{self, Idem, Payload, TopError, UserErr};
use super::schema::{Schema, TypeRef};
use super::search::{self, Cmp, Expr, Term};
use super::store::{SortVal, Store, gid, parse_gid, timestamp};
use super::validate::Fragments;

/// The fields of `set` that apply to an object of type `concrete`, grouped
/// by response key in selection order.
pub fn collect_fields<'q>(
    schema: &Schema,
    concrete: &str,
    set: &'q SelectionSet<'q, &'q str>,
    fragments: &Fragments<'q>,
    vars: &Vars,
) -> Vec<(String, Vec<&'q Field<'q, &'q str>>)> {
    let mut out: Vec<(String, Vec<&'q Field<'q, &'q str>>)> = Vec::new();
    collect_into(schema, concrete, set, fragments, vars, &mut out, 0);
    out
}

fn collect_into<'q>(
    schema: &Schema,
    concrete: &str,
    set: &'q SelectionSet<'q, &'q str>,
    fragments: &Fragments<'q>,
    vars: &Vars,
    out: &mut Vec<(String, Vec<&'q Field<'q, &'q str>>)>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for sel in &set.items {
        match sel {
            Selection::Field(f) => {
                if !included(&f.directives, vars) {
                    continue;
                }
                let key = f.alias.unwrap_or(f.name).to_owned();
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, list)) => list.push(f),
                    None => out.push((key, vec![f])),
                }
            }
            Selection::InlineFragment(frag) => {
                if !included(&frag.directives, vars) {
                    continue;
                }
                let applies = match &frag.type_condition {
                    Some(TypeCondition::On(c)) => schema.type_applies(c, concrete),
                    None => true,
                };
                if applies {
                    collect_into(schema, concrete, &frag.selection_set, fragments, vars, out, depth + 1);
                }
            }
            Selection::FragmentSpread(spread) => {
                if !included(&spread.directives, vars) {
                    continue;
                }
                if let Some(frag) = fragments.get(spread.fragment_name) {
                    let TypeCondition::On(c) = &frag.type_condition;
                    if schema.type_applies(c, concrete) {
                        collect_into(schema, concrete, &frag.selection_set, fragments, vars, out, depth + 1);
                    }
                }
            }
        }
    }
}

fn included<'a>(dirs: &[Directive<'a, &'a str>], vars: &Vars) -> bool {
    for d in dirs {
        let cond = d
            .arguments
            .iter()
            .find(|(n, _)| *n == "if")
            .and_then(|(_, v)| literal_to_json(v, vars))
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        match d.name {
            "skip" if cond => return false,
            "include" if !cond => return false,
            _ => {}
        }
    }
    true
}

#[derive(Debug, Clone)]
pub struct Page {
    pub has_next: bool,
    pub has_prev: bool,
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Conn {
    pub node_type: &'static str,
    pub items: Vec<(Obj, String)>,
    pub page: Page,
}

#[derive(Debug, Clone)]
pub enum Obj {
    Shop,
    Location(u64),
    Product(u64),
    ProductOption(u64, usize),
    OptionValue(u64, usize, usize),
    Variant(u64),
    SelectedOption(u64, usize),
    Item(u64),
    Measurement(u64),
    Weight(f64, String),
    Level(u64, u64),
    Quantity(u64, u64, String),
    Group(u64),
    Change(u64, usize),
    Order(u64),
    LineItem(u64, usize),
    MoneyBag(String),
    Money(String),
    Webhook(u64),
    /// A `MediaImage` and the objects under it, by media id.
    MediaImage(u64),
    Image(u64),
    MediaPreview(u64),
    MediaSource(u64),
    /// A failed image's error as `MediaError` or `FileError`.
    MediaError(u64, &'static str),
    SetOperation(u64),
    /// A `ProductDeleteOperation`; `true` as the mutation answers it (not yet run).
    DeleteOperation(u64, bool),
    PageInfo(Page),
    Connection(Box<Conn>),
    Edge(Box<Obj>, String, &'static str),
    Count(i64),
    UserError(UserErr, &'static str),
    Payload(Payload),
}

impl Obj {
    pub fn type_name(&self) -> String {
        match self {
            Obj::Shop => "Shop".into(),
            Obj::Location(_) => "Location".into(),
            Obj::Product(_) => "Product".into(),
            Obj::ProductOption(..) => "ProductOption".into(),
            Obj::OptionValue(..) => "ProductOptionValue".into(),
            Obj::Variant(_) => "ProductVariant".into(),
            Obj::SelectedOption(..) => "SelectedOption".into(),
            Obj::Item(_) => "InventoryItem".into(),
            Obj::Measurement(_) => "InventoryItemMeasurement".into(),
            Obj::Weight(..) => "Weight".into(),
            Obj::Level(..) => "InventoryLevel".into(),
            Obj::Quantity(..) => "InventoryQuantity".into(),
            Obj::Group(_) => "InventoryAdjustmentGroup".into(),
            Obj::Change(..) => "InventoryChange".into(),
            Obj::Order(_) => "Order".into(),
            Obj::LineItem(..) => "LineItem".into(),
            Obj::MoneyBag(_) => "MoneyBag".into(),
            Obj::Money(_) => "MoneyV2".into(),
            Obj::Webhook(_) => "WebhookSubscription".into(),
            Obj::MediaImage(_) => "MediaImage".into(),
            Obj::Image(_) => "Image".into(),
            Obj::MediaPreview(_) => "MediaPreviewImage".into(),
            Obj::MediaSource(_) => "MediaImageOriginalSource".into(),
            Obj::MediaError(_, t) => (*t).into(),
            Obj::SetOperation(_) => "ProductSetOperation".into(),
            Obj::DeleteOperation(..) => "ProductDeleteOperation".into(),
            Obj::PageInfo(_) => "PageInfo".into(),
            Obj::Connection(c) => format!("{}Connection", c.node_type),
            Obj::Edge(_, _, t) => format!("{t}Edge"),
            Obj::Count(_) => "Count".into(),
            Obj::UserError(_, t) => (*t).into(),
            Obj::Payload(p) => match p {
                Payload::SetQuantities { .. } => "InventorySetQuantitiesPayload".into(),
                Payload::Activate { .. } => "InventoryActivatePayload".into(),
                Payload::ProductSet { .. } => "ProductSetPayload".into(),
                Payload::WebhookCreate { .. } => "WebhookSubscriptionCreatePayload".into(),
                Payload::ProductUpdate { .. } => "ProductUpdatePayload".into(),
                Payload::ProductDelete { .. } => "ProductDeletePayload".into(),
            },
        }
    }
}

pub enum R {
    Null,
    Leaf(OVal),
    Obj(Obj),
    List(Vec<R>),
}

fn leaf_str(s: impl Into<String>) -> R {
    R::Leaf(OVal::Str(s.into()))
}

fn leaf_opt(s: Option<String>) -> R {
    s.map_or(R::Null, leaf_str)
}

fn leaf_int(i: i64) -> R {
    R::Leaf(OVal::Int(i))
}

fn leaf_bool(b: bool) -> R {
    R::Leaf(OVal::Bool(b))
}

fn micros(t: &chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn encode_cursor(id: u64, value: &SortVal) -> String {
    let json = OVal::obj([("last_id", OVal::Int(id as i64)), ("last_value", value.to_oval())]);
    base64::engine::general_purpose::STANDARD.encode(json.to_string_json())
}

fn decode_cursor(cursor: &str) -> Option<(u64, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(cursor.trim()).ok()?;
    let v: J = serde_json::from_slice(&bytes).ok()?;
    let id = v.get("last_id")?.as_u64()?;
    let value = match v.get("last_value")? {
        J::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some((id, value))
}

/// The modern inventory mutations that require `@idempotent` from 2026-04.
const IDEMPOTENT_MUTATIONS: [&str; 2] = ["inventorySetQuantities", "inventoryActivate"];

pub struct Exec<'a, 'q> {
    pub store: &'a mut Store,
    pub schema: &'a Schema,
    pub vars: &'a Vars,
    pub fragments: &'a Fragments<'q>,
    pub variable_positions: HashMap<String, Pos>,
    pub errors: Vec<OVal>,
    pub calls: Vec<String>,
    pub replays: u64,
    pub applied_mutation: bool,
}

impl<'a, 'q> Exec<'a, 'q> {
    /// Runs a query; returns (data, actual cost). `data` is `Null` when a
    /// non-null root field failed.
    pub fn query(&mut self, set: &'q SelectionSet<'q, &'q str>) -> (OVal, f64) {
        let mut data = OVal::Obj(Vec::new());
        let mut cost = 0.0;
        let mut null_data = false;
        for (key, fs) in collect_fields(self.schema, "QueryRoot", set, self.fragments, self.vars) {
            let f = fs[0];
            if f.name == "__typename" {
                data.push(&key, OVal::str("QueryRoot"));
                continue;
            }
            self.calls.push(f.name.to_owned());
            let Some(def) = self.schema.field("QueryRoot", f.name).cloned() else {
                continue;
            };
            let args = field_args(f, &def, self.vars, self.schema);
            match self.root_query(f.name, &args) {
                Ok(r) => {
                    let sum = f.name == "nodes";
                    let (v, c) = self.complete(r, &def.ty, &fs, sum);
                    cost += c;
                    data.push(&key, v);
                }
                Err(message) => {
                    self.errors.push(runtime_error(
                        message,
                        &[f.position],
                        OVal::obj([("code", OVal::str("BAD_REQUEST"))]),
                        vec![OVal::str(key.clone())],
                    ));
                    cost += if self.schema.is_connection(def.ty.named()) {
                        2.0
                    } else {
                        1.0
                    };
                    if def.ty.is_non_null() {
                        null_data = true;
                    }
                    data.push(&key, OVal::Null);
                }
            }
        }
        (if null_data { OVal::Null } else { data }, cost)
    }

    /// Runs a mutation's root fields one after the other.
    pub fn mutation(&mut self, set: &'q SelectionSet<'q, &'q str>) -> (OVal, f64) {
        let mut data = OVal::Obj(Vec::new());
        let mut cost = 0.0;
        for (key, fs) in collect_fields(self.schema, "Mutation", set, self.fragments, self.vars) {
            let f = fs[0];
            if f.name == "__typename" {
                data.push(&key, OVal::str("Mutation"));
                continue;
            }
            self.calls.push(f.name.to_owned());
            let Some(def) = self.schema.field("Mutation", f.name).cloned() else {
                continue;
            };
            let args = field_args(f, &def, self.vars, self.schema);
            cost += MUTATION_COST;
            if f.name == "productSet" {
                // Charged by input size too (see `cost::Coster::input_cost`).
                cost += product_set_input_cost(args.get("input"));
            }
            match self.mutate(f, &args) {
                Ok(payload) => {
                    let (v, c) = self.complete(R::Obj(Obj::Payload(payload)), &def.ty, &fs, false);
                    // The payload object itself is part of the mutation's 10.
                    cost += (c - 1.0).max(0.0);
                    data.push(&key, v);
                }
                Err(top) => {
                    let mut locations = vec![f.position];
                    if top.with_variable_location
                        && let Some((_, Value::Variable(v))) = f.arguments.iter().find(|(n, _)| *n == "input")
                        && let Some(p) = self.variable_positions.get(*v)
                    {
                        locations.push(*p);
                    }
                    self.errors.push(runtime_error(
                        top.message,
                        &locations,
                        OVal::obj([("code", OVal::str(top.code))]),
                        vec![OVal::str(key.clone())],
                    ));
                    data.push(&key, OVal::Null);
                }
            }
        }
        (data, cost)
    }

    fn idempotency_key(&self, f: &Field<'q, &'q str>) -> Option<String> {
        f.directives
            .iter()
            .find(|d| d.name == "idempotent")
            .and_then(|d| d.arguments.iter().find(|(n, _)| *n == "key"))
            .and_then(|(_, v)| literal_to_json(v, self.vars))
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    fn mutate(&mut self, f: &Field<'q, &'q str>, args: &Map<String, J>) -> Result<Payload, TopError> {
        let modern = self.schema.modern_inventory;
        if f.name == "inventorySetQuantities" && modern {
            let missing = args
                .get("input")
                .and_then(|i| i.get("quantities"))
                .and_then(J::as_array)
                .is_some_and(|qs| qs.iter().any(|q| q.get("changeFromQuantity").is_none()));
            if missing {
                return Err(TopError {
                    message: "InventoryQuantityInput must include the following argument: changeFromQuantity.".into(),
                    code: "INVALID_FIELD_ARGUMENTS",
                    with_variable_location: true,
                });
            }
        }
        let key = self.idempotency_key(f);
        if modern && key.is_none() && IDEMPOTENT_MUTATIONS.contains(&f.name) {
            return Err(TopError {
                message: "The @idempotent directive is required for this mutation but was not provided.".into(),
                code: "BAD_REQUEST",
                with_variable_location: false,
            });
        }
        let fingerprint = J::Object(args.clone()).to_string();
        if let Some(k) = &key {
            match mutations::idempotency_check(self.store, k, f.name, &fingerprint) {
                Idem::Fresh => {}
                Idem::Replay(p) => {
                    self.replays += 1;
                    return Ok(p);
                }
                Idem::Mismatch => {
                    return Ok(idempotency_failure(
                        f.name,
                        "The same idempotency key cannot be used with different operation parameters.",
                        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                    ));
                }
                Idem::PreviouslyFailed => {
                    return Ok(idempotency_failure(
                        f.name,
                        "A previous request with this idempotency key failed. Retry with a new idempotency key.",
                        "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                    ));
                }
            }
        }
        let empty = Map::new();
        let payload = match f.name {
            "inventorySetQuantities" => {
                let input = args.get("input").and_then(J::as_object).unwrap_or(&empty);
                mutations::set_quantities(self.store, input, modern, key.as_deref())
            }
            "inventoryActivate" => mutations::activate(self.store, args),
            "productSet" => mutations::product_set(self.store, args),
            "webhookSubscriptionCreate" => mutations::webhook_create(self.store, args),
            "productUpdate" => {
                mutations::product_update_arguments(args)?;
                mutations::product_update(self.store, args)
            }
            "productDelete" => mutations::product_delete(self.store, args),
            other => {
                return Err(TopError {
                    message: format!("{other} is not supported by this test server"),
                    code: "INTERNAL_SERVER_ERROR",
                    with_variable_location: false,
                });
            }
        };
        if !payload.has_errors() {
            self.applied_mutation = true;
        }
        if let Some(k) = &key {
            mutations::remember(self.store, k, f.name, &fingerprint, &payload);
        }
        Ok(payload)
    }

    /// Completes a resolved value against the field type; returns the JSON
    /// and its actual cost. `sum_list` makes a list cost the sum of its
    /// elements (connection `nodes`/`edges`, root `nodes`).
    fn complete(&mut self, r: R, ty: &TypeRef, fs: &[&'q Field<'q, &'q str>], sum_list: bool) -> (OVal, f64) {
        match r {
            R::Null => (OVal::Null, 0.0),
            R::Leaf(v) => (v, 0.0),
            R::List(items) => {
                let inner = match ty.nullable() {
                    TypeRef::List(inner) => (**inner).clone(),
                    other => other.clone(),
                };
                let mut out = Vec::with_capacity(items.len());
                let mut total = 0.0;
                let mut max: f64 = 0.0;
                for item in items {
                    let (v, c) = self.complete(item, &inner, fs, false);
                    total += c;
                    max = max.max(c);
                    out.push(v);
                }
                (OVal::List(out), if sum_list { total } else { max })
            }
            R::Obj(obj) => {
                let type_name = obj.type_name();
                let sets: Vec<&'q SelectionSet<'q, &'q str>> = fs.iter().map(|f| &f.selection_set).collect();
                let (v, children) = self.execute(&obj, &type_name, &sets);
                let cost = if matches!(obj, Obj::Connection(_) | Obj::Edge(..)) {
                    children
                } else {
                    1.0 + children
                };
                (v, cost)
            }
        }
    }

    fn execute(&mut self, obj: &Obj, type_name: &str, sets: &[&'q SelectionSet<'q, &'q str>]) -> (OVal, f64) {
        let mut fields: Vec<(String, Vec<&'q Field<'q, &'q str>>)> = Vec::new();
        for set in sets {
            for (k, fs) in collect_fields(self.schema, type_name, set, self.fragments, self.vars) {
                match fields.iter_mut().find(|(key, _)| *key == k) {
                    Some((_, list)) => list.extend(fs),
                    None => fields.push((k, fs)),
                }
            }
        }
        let is_connection = matches!(obj, Obj::Connection(_));
        let is_payload = matches!(obj, Obj::Payload(_));
        let mut out = OVal::Obj(Vec::with_capacity(fields.len()));
        let mut cost = 0.0;
        let mut node_cost: f64 = 0.0;
        for (key, fs) in fields {
            let f = fs[0];
            if f.name == "__typename" {
                out.push(&key, OVal::str(type_name));
                continue;
            }
            let Some(def) = self.schema.field(type_name, f.name).cloned() else {
                continue;
            };
            let args = field_args(f, &def, self.vars, self.schema);
            let sum = is_connection && matches!(f.name, "nodes" | "edges");
            match self.resolve(obj, f.name, &args) {
                Ok(r) => {
                    let composite = matches!(r, R::Obj(_) | R::List(_));
                    let (v, c) = self.complete(r, &def.ty, &fs, sum);
                    if is_connection {
                        if sum {
                            node_cost = node_cost.max(c);
                        }
                    } else if is_payload && composite && !self.schema.is_connection(def.ty.named()) {
                        cost += (c - 1.0).max(0.0);
                    } else {
                        cost += c;
                    }
                    out.push(&key, v);
                }
                Err(message) => {
                    self.errors.push(runtime_error(
                        message,
                        &[f.position],
                        OVal::obj([("code", OVal::str("BAD_REQUEST"))]),
                        vec![OVal::str(key.clone())],
                    ));
                    out.push(&key, OVal::Null);
                }
            }
        }
        if is_connection {
            cost = 2.0 + node_cost;
        }
        (out, cost)
    }

    fn root_query(&mut self, name: &str, args: &Map<String, J>) -> Result<R, String> {
        let id = args.get("id").and_then(J::as_str).unwrap_or_default().to_owned();
        Ok(match name {
            "shop" => R::Obj(Obj::Shop),
            "node" => self.node_by_gid(&id),
            "nodes" => R::List(
                args.get("ids")
                    .and_then(J::as_array)
                    .map(|ids| {
                        ids.iter()
                            .map(|i| self.node_by_gid(i.as_str().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            "location" => match args.get("id").and_then(J::as_str) {
                Some(g) => self.typed(g, "Location"),
                None => self
                    .store
                    .primary_location()
                    .map_or(R::Null, |l| R::Obj(Obj::Location(l))),
            },
            "product" => self.typed(&id, "Product"),
            "productVariant" => self.typed(&id, "ProductVariant"),
            "inventoryItem" => self.typed(&id, "InventoryItem"),
            "inventoryLevel" => self
                .store
                .parse_level_gid(&id)
                .map_or(R::Null, |(i, l)| R::Obj(Obj::Level(i, l))),
            "order" => self.typed(&id, "Order"),
            "webhookSubscription" => self.typed(&id, "WebhookSubscription"),
            "productOperation" => match self.node_by_gid(&id) {
                R::Obj(o @ (Obj::SetOperation(_) | Obj::DeleteOperation(..))) => R::Obj(o),
                _ => R::Null,
            },
            "locations" => self.locations(args)?,
            "products" => self.products(args)?,
            "productVariants" => self.product_variants(args)?,
            "orders" => self.orders(args)?,
            "webhookSubscriptions" => self.webhooks(args)?,
            _ => R::Null,
        })
    }

    fn typed(&self, g: &str, kind: &str) -> R {
        match self.node_by_gid(g) {
            R::Obj(o) if o.type_name() == kind => R::Obj(o),
            _ => R::Null,
        }
    }

    fn node_by_gid(&self, g: &str) -> R {
        let s = &*self.store;
        let kind = g
            .strip_prefix("gid://shopify/")
            .and_then(|r| r.split('/').next())
            .unwrap_or_default();
        let obj = match kind {
            "Location" => parse_gid(g, kind)
                .filter(|i| s.locations.contains_key(i))
                .map(Obj::Location),
            "Product" => parse_gid(g, kind)
                .filter(|i| s.products.contains_key(i))
                .map(Obj::Product),
            "ProductVariant" => parse_gid(g, kind)
                .filter(|i| s.variants.contains_key(i))
                .map(Obj::Variant),
            "InventoryItem" => parse_gid(g, kind).filter(|i| s.items.contains_key(i)).map(Obj::Item),
            "InventoryLevel" => s.parse_level_gid(g).map(|(i, l)| Obj::Level(i, l)),
            "InventoryAdjustmentGroup" => parse_gid(g, kind).filter(|i| s.groups.contains_key(i)).map(Obj::Group),
            "Order" => parse_gid(g, kind)
                .filter(|i| s.orders.get(i).is_some_and(|o| s.order_visible(o)))
                .map(Obj::Order),
            "WebhookSubscription" => parse_gid(g, kind)
                .filter(|i| s.webhooks.contains_key(i))
                .map(Obj::Webhook),
            "MediaImage" => parse_gid(g, kind)
                .filter(|i| s.media.contains_key(i))
                .map(Obj::MediaImage),
            "ProductSetOperation" => parse_gid(g, kind)
                .filter(|i| s.operations.contains_key(i))
                .map(Obj::SetOperation),
            "ProductDeleteOperation" => parse_gid(g, kind)
                .filter(|i| s.delete_operations.contains_key(i))
                .map(|i| Obj::DeleteOperation(i, false)),
            "Shop" => Some(Obj::Shop),
            _ => None,
        };
        obj.map_or(R::Null, R::Obj)
    }

    /// Pages through `rows` (already filtered and in ascending sort order).
    fn paginate(
        &self,
        node_type: &'static str,
        mut rows: Vec<(SortVal, u64, Obj)>,
        args: &Map<String, J>,
    ) -> Result<R, String> {
        let first = args.get("first").and_then(J::as_i64);
        let last = args.get("last").and_then(J::as_i64);
        match (first, last) {
            (Some(_), Some(_)) => return Err("providing both first and last is not supported".into()),
            (None, None) => return Err("you must provide one of first or last".into()),
            _ => {}
        }
        if first.or(last).is_some_and(|n| !(0..=250).contains(&n)) {
            return Err("The page size must be between 0 and 250.".into());
        }
        if args.get("reverse").and_then(J::as_bool).unwrap_or(false) {
            rows.reverse();
        }
        let reverse = args.get("reverse").and_then(J::as_bool).unwrap_or(false);
        let position = |cursor: &str| -> Result<usize, String> {
            let (id, value) = decode_cursor(cursor).ok_or_else(|| "Malformed cursor".to_owned())?;
            // The first row after the cursor in the current order.
            let key_of = |sv: &SortVal| match sv {
                SortVal::Int(_) => SortVal::Int(value.parse::<i64>().unwrap_or_default()),
                SortVal::Str(_) => SortVal::Str(value.clone()),
            };
            Ok(rows
                .iter()
                .position(|(sv, rid, _)| {
                    let ck = (key_of(sv), id);
                    let rk = (sv.clone(), *rid);
                    if reverse { rk < ck } else { rk > ck }
                })
                .unwrap_or(rows.len()))
        };
        let mut lo = 0;
        let mut hi = rows.len();
        if let Some(after) = args.get("after").and_then(J::as_str) {
            lo = position(after)?;
        }
        if let Some(before) = args.get("before").and_then(J::as_str) {
            let (id, _) = decode_cursor(before).ok_or_else(|| "Malformed cursor".to_owned())?;
            hi = rows
                .iter()
                .position(|(_, rid, _)| *rid == id)
                .map_or_else(|| position(before).map(|p| p.saturating_sub(1)), Ok)?;
        }
        let hi = hi.max(lo);
        let (start, end) = match (first, last) {
            (Some(n), _) => (lo, (lo + n as usize).min(hi)),
            (_, Some(n)) => (hi.saturating_sub(n as usize).max(lo), hi),
            _ => (lo, hi),
        };
        let total = rows.len();
        let items: Vec<(Obj, String)> = rows
            .drain(start..end)
            .map(|(sv, id, obj)| (obj, encode_cursor(id, &sv)))
            .collect();
        let page = Page {
            has_next: end < total,
            has_prev: start > 0,
            start: items.first().map(|(_, c)| c.clone()),
            end: items.last().map(|(_, c)| c.clone()),
        };
        Ok(R::Obj(Obj::Connection(Box::new(Conn { node_type, items, page }))))
    }

    fn query_expr(args: &Map<String, J>) -> Expr {
        args.get("query").and_then(J::as_str).map_or(Expr::All, search::parse)
    }

    fn locations(&self, args: &Map<String, J>) -> Result<R, String> {
        let include_inactive = args.get("includeInactive").and_then(J::as_bool).unwrap_or(false);
        let expr = Self::query_expr(args);
        let by_name = args.get("sortKey").and_then(J::as_str) == Some("NAME");
        let mut rows: Vec<(SortVal, u64, Obj)> = self
            .store
            .locations
            .values()
            .filter(|l| include_inactive || l.active)
            .filter(|l| {
                expr.matches(&mut |t: &Term| match t.field.as_deref() {
                    Some("name") | None => search::text_matches(t, &l.name),
                    Some("id") => id_matches(t, l.id),
                    Some("active") => t.value.eq_ignore_ascii_case(&l.active.to_string()),
                    _ => true,
                })
            })
            .map(|l| {
                let key = if by_name {
                    SortVal::Str(l.name.to_lowercase())
                } else {
                    SortVal::Int(l.id as i64)
                };
                (key, l.id, Obj::Location(l.id))
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        self.paginate("Location", rows, args)
    }

    fn products(&self, args: &Map<String, J>) -> Result<R, String> {
        let expr = Self::query_expr(args);
        check_times(&expr, &["created_at", "updated_at"])?;
        let sort = args.get("sortKey").and_then(J::as_str).unwrap_or("ID");
        let s = &*self.store;
        let mut rows: Vec<(SortVal, u64, Obj)> = s
            .products
            .values()
            .filter(|p| {
                expr.matches(&mut |t: &Term| match t.field.as_deref() {
                    Some("title") => search::text_matches(t, &p.title),
                    Some("handle") => t.value.split(',').any(|h| h.eq_ignore_ascii_case(&p.handle)),
                    Some("status") => t.value.split(',').any(|x| x.eq_ignore_ascii_case(&p.status)),
                    Some("vendor") => search::text_matches(t, &p.vendor),
                    Some("product_type") => search::text_matches(t, &p.product_type),
                    Some("id") => id_matches(t, p.id),
                    Some("sku") => p
                        .variant_ids
                        .iter()
                        .any(|v| s.sku_of_variant(*v).is_some_and(|sku| search::text_matches(t, &sku))),
                    Some("updated_at") => time_matches(t, &p.updated_at),
                    Some("created_at") => time_matches(t, &p.created_at),
                    None => p.title.to_lowercase().contains(&t.value.to_lowercase()),
                    _ => true,
                })
            })
            .map(|p| {
                let key = match sort {
                    "TITLE" => SortVal::Str(p.title.to_lowercase()),
                    "UPDATED_AT" => SortVal::Int(micros(&p.updated_at)),
                    "CREATED_AT" => SortVal::Int(micros(&p.created_at)),
                    "VENDOR" => SortVal::Str(p.vendor.to_lowercase()),
                    "PRODUCT_TYPE" => SortVal::Str(p.product_type.to_lowercase()),
                    _ => SortVal::Int(p.id as i64),
                };
                (key, p.id, Obj::Product(p.id))
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        self.paginate("Product", rows, args)
    }

    fn product_variants(&self, args: &Map<String, J>) -> Result<R, String> {
        let expr = Self::query_expr(args);
        check_times(&expr, &["created_at", "updated_at"])?;
        let s = &*self.store;
        // `sku:A OR sku:B ...` goes through the SKU index.
        let candidates: Vec<u64> = match expr.exact_values("sku") {
            Some(skus) => {
                let mut ids: Vec<u64> = skus.iter().flat_map(|k| s.variants_by_sku(k)).collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            }
            None => s.variants.keys().copied().collect(),
        };
        let sort = args.get("sortKey").and_then(J::as_str).unwrap_or("ID");
        let mut rows: Vec<(SortVal, u64, Obj)> = candidates
            .into_iter()
            .filter_map(|vid| {
                let v = s.variants.get(&vid)?;
                let item = s.items.get(&v.item_id)?;
                let product = s.products.get(&v.product_id)?;
                let ok = expr.matches(&mut |t: &Term| match t.field.as_deref() {
                    Some("sku") => item.sku.as_deref().is_some_and(|sku| search::text_matches(t, sku)),
                    Some("barcode") => v.barcode.as_deref().is_some_and(|b| search::text_matches(t, b)),
                    Some("title") => search::text_matches(t, &v.title()),
                    Some("product_id") => id_matches(t, v.product_id),
                    Some("id") => id_matches(t, v.id),
                    Some("inventory_item_id") => id_matches(t, item.id),
                    Some("product_status") => t.value.split(',').any(|x| x.eq_ignore_ascii_case(&product.status)),
                    Some("vendor") => search::text_matches(t, &product.vendor),
                    Some("updated_at") => time_matches(t, &v.updated_at),
                    Some("created_at") => time_matches(t, &v.created_at),
                    None => {
                        let needle = t.value.to_lowercase();
                        item.sku.as_deref().is_some_and(|x| x.to_lowercase().contains(&needle))
                            || v.title().to_lowercase().contains(&needle)
                            || product.title.to_lowercase().contains(&needle)
                    }
                    _ => true,
                });
                if !ok {
                    return None;
                }
                let key = match sort {
                    "SKU" => SortVal::Str(item.sku.clone().unwrap_or_default().to_lowercase()),
                    "TITLE" | "FULL_TITLE" | "NAME" => {
                        SortVal::Str(format!("{} {}", product.title, v.title()).to_lowercase())
                    }
                    "POSITION" => SortVal::Int(product.variant_ids.iter().position(|x| *x == vid).unwrap_or(0) as i64),
                    _ => SortVal::Int(vid as i64),
                };
                Some((key, vid, Obj::Variant(vid)))
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        self.paginate("ProductVariant", rows, args)
    }

    fn orders(&self, args: &Map<String, J>) -> Result<R, String> {
        let expr = Self::query_expr(args);
        check_times(&expr, &["created_at", "updated_at", "processed_at"])?;
        let sort = args.get("sortKey").and_then(J::as_str).unwrap_or("PROCESSED_AT");
        let s = &*self.store;
        let mut rows: Vec<(SortVal, u64, Obj)> = s
            .orders
            .values()
            .filter(|o| s.order_visible(o))
            .filter(|o| {
                expr.matches(&mut |t: &Term| match t.field.as_deref() {
                    Some("updated_at") => time_matches(t, &o.updated_at),
                    Some("created_at") | Some("processed_at") => time_matches(t, &o.created_at),
                    Some("id") => id_matches(t, o.id),
                    Some("name") => {
                        let want = t.value.trim_start_matches('#');
                        o.name.trim_start_matches('#').eq_ignore_ascii_case(want)
                    }
                    Some("sku") => o
                        .lines
                        .iter()
                        .any(|l| l.sku.as_deref().is_some_and(|x| search::text_matches(t, x))),
                    Some("status") => match t.value.to_lowercase().as_str() {
                        "cancelled" => o.cancelled_at.is_some(),
                        "open" | "not_closed" => o.cancelled_at.is_none(),
                        "closed" => false,
                        _ => true,
                    },
                    Some("financial_status") => {
                        let status = if o.cancelled_at.is_some() { "voided" } else { "paid" };
                        t.value.eq_ignore_ascii_case(status)
                    }
                    Some("location_id") => id_matches(t, o.location_id),
                    None => o.name.trim_start_matches('#') == t.value.trim_start_matches('#'),
                    _ => true,
                })
            })
            .map(|o| {
                let key = match sort {
                    "UPDATED_AT" => SortVal::Int(micros(&o.updated_at)),
                    "ID" | "ORDER_NUMBER" => SortVal::Int(o.id as i64),
                    _ => SortVal::Int(micros(&o.created_at)),
                };
                (key, o.id, Obj::Order(o.id))
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        self.paginate("Order", rows, args)
    }

    fn webhooks(&self, args: &Map<String, J>) -> Result<R, String> {
        let topics: Option<Vec<String>> = args
            .get("topics")
            .and_then(J::as_array)
            .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect());
        let rows: Vec<(SortVal, u64, Obj)> = self
            .store
            .webhooks
            .values()
            .filter(|w| topics.as_ref().is_none_or(|t| t.contains(&w.topic)))
            .map(|w| (SortVal::Int(w.id as i64), w.id, Obj::Webhook(w.id)))
            .collect();
        self.paginate("WebhookSubscription", rows, args)
    }

    fn resolve(&mut self, obj: &Obj, field: &str, args: &Map<String, J>) -> Result<R, String> {
        let s = &*self.store;
        let arg_str = |k: &str| args.get(k).and_then(J::as_str).map(str::to_owned);
        Ok(match obj {
            Obj::Shop => match field {
                "id" => leaf_str("gid://shopify/Shop/1"),
                "name" => leaf_str("Tillbridge Test Shop"),
                "myshopifyDomain" => leaf_str(s.shop_domain.clone()),
                "currencyCode" => leaf_str(s.currency),
                _ => R::Null,
            },
            Obj::Location(id) => {
                let Some(l) = s.locations.get(id) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("Location", l.id)),
                    "legacyResourceId" => leaf_str(l.id.to_string()),
                    "name" => leaf_str(l.name.clone()),
                    "isActive" => leaf_bool(l.active),
                    "createdAt" | "updatedAt" => leaf_str(timestamp(&l.created_at)),
                    _ => R::Null,
                }
            }
            Obj::Product(id) => {
                let Some(p) = s.products.get(id) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("Product", p.id)),
                    "legacyResourceId" => leaf_str(p.id.to_string()),
                    "title" => leaf_str(p.title.clone()),
                    "handle" => leaf_str(p.handle.clone()),
                    "status" => leaf_str(p.status.clone()),
                    "vendor" => leaf_str(p.vendor.clone()),
                    "productType" => leaf_str(p.product_type.clone()),
                    "descriptionHtml" => leaf_str(p.description_html.clone()),
                    "tags" => R::Leaf(OVal::List(p.tags.iter().map(|t| OVal::str(t.clone())).collect())),
                    "createdAt" => leaf_str(timestamp(&p.created_at)),
                    "updatedAt" => leaf_str(timestamp(&p.updated_at)),
                    "totalInventory" => leaf_int(
                        p.variant_ids
                            .iter()
                            .filter_map(|v| s.variants.get(v))
                            .filter_map(|v| s.items.get(&v.item_id))
                            .filter(|i| i.tracked)
                            .flat_map(|i| i.levels.values().filter(|l| l.active).map(|l| l.available))
                            .sum(),
                    ),
                    "tracksInventory" => leaf_bool(
                        p.variant_ids
                            .iter()
                            .filter_map(|v| s.variants.get(v))
                            .any(|v| s.items.get(&v.item_id).is_some_and(|i| i.tracked)),
                    ),
                    "hasOnlyDefaultVariant" => leaf_bool(
                        p.variant_ids.len() == 1
                            && p.options.len() == 1
                            && p.options[0].values.len() == 1
                            && p.options[0].values[0].1 == "Default Title",
                    ),
                    "options" => {
                        let n = args
                            .get("first")
                            .and_then(J::as_i64)
                            .map_or(p.options.len(), |n| n.max(0) as usize);
                        R::List(
                            (0..p.options.len().min(n))
                                .map(|i| R::Obj(Obj::ProductOption(p.id, i)))
                                .collect(),
                        )
                    }
                    "variants" => {
                        let rows: Vec<(SortVal, u64, Obj)> = p
                            .variant_ids
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (SortVal::Int(i as i64), *v, Obj::Variant(*v)))
                            .collect();
                        return self.paginate("ProductVariant", rows, args);
                    }
                    "variantsCount" => R::Obj(Obj::Count(p.variant_ids.len() as i64)),
                    "media" => {
                        let rows = media::product_media_rows(s, p, args);
                        return self.paginate("Media", rows, args);
                    }
                    "mediaCount" => R::Obj(Obj::Count(p.media_ids.len() as i64)),
                    "featuredMedia" => p.media_ids.first().map_or(R::Null, |m| R::Obj(Obj::MediaImage(*m))),
                    _ => R::Null,
                }
            }
            Obj::ProductOption(pid, idx) => {
                let Some(o) = s.products.get(pid).and_then(|p| p.options.get(*idx)) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("ProductOption", o.id)),
                    "name" => leaf_str(o.name.clone()),
                    "position" => leaf_int(*idx as i64 + 1),
                    "values" => R::Leaf(OVal::List(o.values.iter().map(|(_, v)| OVal::str(v.clone())).collect())),
                    "optionValues" => R::List(
                        (0..o.values.len())
                            .map(|vi| R::Obj(Obj::OptionValue(*pid, *idx, vi)))
                            .collect(),
                    ),
                    _ => R::Null,
                }
            }
            Obj::OptionValue(pid, oi, vi) => {
                let Some(p) = s.products.get(pid) else {
                    return Ok(R::Null);
                };
                let Some((id, name)) = p.options.get(*oi).and_then(|o| o.values.get(*vi)) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("ProductOptionValue", *id)),
                    "name" => leaf_str(name.clone()),
                    "hasVariants" => leaf_bool(p.variant_ids.iter().any(|v| {
                        s.variants
                            .get(v)
                            .is_some_and(|v| v.option_values.get(*oi) == Some(name))
                    })),
                    _ => R::Null,
                }
            }
            Obj::Variant(id) => {
                let Some(v) = s.variants.get(id) else {
                    return Ok(R::Null);
                };
                let item = s.items.get(&v.item_id);
                match field {
                    "id" => leaf_str(gid("ProductVariant", v.id)),
                    "legacyResourceId" => leaf_str(v.id.to_string()),
                    "title" => leaf_str(v.title()),
                    "displayName" => {
                        let pt = s
                            .products
                            .get(&v.product_id)
                            .map(|p| p.title.clone())
                            .unwrap_or_default();
                        leaf_str(format!("{pt} - {}", v.title()))
                    }
                    "sku" => leaf_opt(item.and_then(|i| i.sku.clone())),
                    "barcode" => leaf_opt(v.barcode.clone()),
                    "price" => leaf_str(v.price.clone()),
                    "compareAtPrice" => leaf_opt(v.compare_at_price.clone()),
                    "position" => leaf_int(
                        s.products
                            .get(&v.product_id)
                            .and_then(|p| p.variant_ids.iter().position(|x| x == id))
                            .map_or(1, |i| i as i64 + 1),
                    ),
                    "inventoryQuantity" => {
                        leaf_int(item.map_or(0, |i| i.levels.values().filter(|l| l.active).map(|l| l.available).sum()))
                    }
                    "createdAt" => leaf_str(timestamp(&v.created_at)),
                    "updatedAt" => leaf_str(timestamp(&v.updated_at)),
                    "product" => R::Obj(Obj::Product(v.product_id)),
                    "inventoryItem" => R::Obj(Obj::Item(v.item_id)),
                    "selectedOptions" => R::List(
                        (0..v.option_values.len())
                            .map(|i| R::Obj(Obj::SelectedOption(v.id, i)))
                            .collect(),
                    ),
                    _ => R::Null,
                }
            }
            Obj::SelectedOption(vid, idx) => {
                let Some(v) = s.variants.get(vid) else {
                    return Ok(R::Null);
                };
                let Some(p) = s.products.get(&v.product_id) else {
                    return Ok(R::Null);
                };
                let name = p.options.get(*idx).map(|o| o.name.clone()).unwrap_or_default();
                let value = v.option_values.get(*idx).cloned().unwrap_or_default();
                match field {
                    "name" => leaf_str(name),
                    "value" => leaf_str(value.clone()),
                    "optionValue" => {
                        let vi = p
                            .options
                            .get(*idx)
                            .and_then(|o| o.values.iter().position(|(_, x)| *x == value))
                            .unwrap_or(0);
                        R::Obj(Obj::OptionValue(p.id, *idx, vi))
                    }
                    _ => R::Null,
                }
            }
            Obj::Item(id) => {
                let Some(i) = s.items.get(id) else { return Ok(R::Null) };
                match field {
                    "id" => leaf_str(gid("InventoryItem", i.id)),
                    "legacyResourceId" => leaf_str(i.id.to_string()),
                    "sku" => leaf_opt(i.sku.clone()),
                    "tracked" => leaf_bool(i.tracked),
                    "requiresShipping" => leaf_bool(i.requires_shipping),
                    "createdAt" => leaf_str(timestamp(&i.created_at)),
                    "updatedAt" => leaf_str(timestamp(&i.updated_at)),
                    "measurement" => R::Obj(Obj::Measurement(i.id)),
                    "variant" => R::Obj(Obj::Variant(i.variant_id)),
                    "inventoryLevel" => {
                        let include_inactive = args.get("includeInactive").and_then(J::as_bool).unwrap_or(false);
                        let loc = arg_str("locationId").and_then(|g| parse_gid(&g, "Location"));
                        match loc.and_then(|l| i.levels.get(&l).map(|lv| (l, lv))) {
                            Some((l, lv)) if lv.active || include_inactive => R::Obj(Obj::Level(i.id, l)),
                            _ => R::Null,
                        }
                    }
                    "inventoryLevels" => {
                        let include_inactive = args.get("includeInactive").and_then(J::as_bool).unwrap_or(false);
                        let rows: Vec<(SortVal, u64, Obj)> = i
                            .levels
                            .iter()
                            .filter(|(_, lv)| lv.active || include_inactive)
                            .map(|(l, _)| (SortVal::Int(*l as i64), *l, Obj::Level(i.id, *l)))
                            .collect();
                        return self.paginate("InventoryLevel", rows, args);
                    }
                    _ => R::Null,
                }
            }
            Obj::Measurement(item) => match field {
                "id" => leaf_str(gid("InventoryItemMeasurement", *item)),
                "weight" => {
                    let (value, unit) = s
                        .items
                        .get(item)
                        .and_then(|i| i.weight.clone())
                        .unwrap_or((0.0, "KILOGRAMS".to_owned()));
                    R::Obj(Obj::Weight(value, unit))
                }
                _ => R::Null,
            },
            Obj::Weight(value, unit) => match field {
                "value" => R::Leaf(OVal::Float(*value)),
                "unit" => leaf_str(unit.clone()),
                _ => R::Null,
            },
            Obj::Level(item, loc) => {
                let Some(level) = s.items.get(item).and_then(|i| i.levels.get(loc)) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(s.level_gid(*item, *loc)),
                    "isActive" => leaf_bool(level.active),
                    "createdAt" => leaf_str(timestamp(&level.created_at)),
                    "updatedAt" => leaf_str(timestamp(&level.updated_at)),
                    "item" => R::Obj(Obj::Item(*item)),
                    "location" => R::Obj(Obj::Location(*loc)),
                    "quantities" => {
                        let names: Vec<String> = args
                            .get("names")
                            .and_then(J::as_array)
                            .map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default();
                        const KNOWN: [&str; 8] = [
                            "available",
                            "on_hand",
                            "committed",
                            "incoming",
                            "reserved",
                            "damaged",
                            "quality_control",
                            "safety_stock",
                        ];
                        if let Some(bad) = names.iter().find(|n| !KNOWN.contains(&n.as_str())) {
                            return Err(format!(
                                "The quantity name '{bad}' is not valid. Valid names are: {}.",
                                KNOWN.join(", ")
                            ));
                        }
                        R::List(
                            names
                                .into_iter()
                                .map(|n| R::Obj(Obj::Quantity(*item, *loc, n)))
                                .collect(),
                        )
                    }
                    _ => R::Null,
                }
            }
            Obj::Quantity(item, loc, name) => {
                let Some(level) = s.items.get(item).and_then(|i| i.levels.get(loc)) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(
                        format!("{}&name={name}", s.level_gid(*item, *loc))
                            .replace("InventoryLevel", "InventoryQuantity"),
                    ),
                    "name" => leaf_str(name.clone()),
                    "quantity" => leaf_int(level.quantity(name)),
                    "updatedAt" => {
                        if name == "available" {
                            leaf_str(timestamp(&level.updated_at))
                        } else {
                            R::Null
                        }
                    }
                    _ => R::Null,
                }
            }
            Obj::Group(id) => {
                let Some(g) = s.groups.get(id) else { return Ok(R::Null) };
                match field {
                    "id" => leaf_str(gid("InventoryAdjustmentGroup", g.id)),
                    "createdAt" => leaf_str(timestamp(&g.created_at)),
                    "reason" => leaf_str(g.reason.clone()),
                    "referenceDocumentUri" => leaf_opt(g.reference_document_uri.clone()),
                    "changes" => {
                        let list = |k: &str| -> Option<Vec<String>> {
                            args.get(k)
                                .and_then(J::as_array)
                                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                        };
                        let items = list("inventoryItemIds");
                        let locs = list("locationIds");
                        let names = list("quantityNames");
                        R::List(
                            g.changes
                                .iter()
                                .enumerate()
                                .filter(|(_, c)| {
                                    items
                                        .as_ref()
                                        .is_none_or(|v| v.contains(&gid("InventoryItem", c.item_id)))
                                        && locs
                                            .as_ref()
                                            .is_none_or(|v| v.contains(&gid("Location", c.location_id)))
                                        && names.as_ref().is_none_or(|v| v.iter().any(|n| n == c.name))
                                })
                                .map(|(i, _)| R::Obj(Obj::Change(g.id, i)))
                                .collect(),
                        )
                    }
                    _ => R::Null,
                }
            }
            Obj::Change(gid_, idx) => {
                let Some(c) = s.groups.get(gid_).and_then(|g| g.changes.get(*idx)) else {
                    return Ok(R::Null);
                };
                match field {
                    "name" => leaf_str(c.name),
                    "delta" => leaf_int(c.delta),
                    "quantityAfterChange" | "ledgerDocumentUri" => R::Null,
                    "item" => {
                        if s.items.contains_key(&c.item_id) {
                            R::Obj(Obj::Item(c.item_id))
                        } else {
                            R::Null
                        }
                    }
                    "location" => R::Obj(Obj::Location(c.location_id)),
                    _ => R::Null,
                }
            }
            Obj::Order(id) => {
                let Some(o) = s.orders.get(id) else { return Ok(R::Null) };
                match field {
                    "id" => leaf_str(gid("Order", o.id)),
                    "legacyResourceId" => leaf_str(o.id.to_string()),
                    "name" => leaf_str(o.name.clone()),
                    "createdAt" | "processedAt" => leaf_str(timestamp(&o.created_at)),
                    "updatedAt" => leaf_str(timestamp(&o.updated_at)),
                    "cancelledAt" => leaf_opt(o.cancelled_at.as_ref().map(timestamp)),
                    "closed" => leaf_bool(false),
                    "displayFinancialStatus" => leaf_str(if o.cancelled_at.is_some() { "VOIDED" } else { "PAID" }),
                    "displayFulfillmentStatus" => leaf_str("UNFULFILLED"),
                    "currencyCode" => leaf_str(s.currency),
                    "cancelReason" => leaf_opt(o.cancel_reason.as_ref().map(|r| r.to_uppercase())),
                    "totalPriceSet" | "subtotalPriceSet" => R::Obj(Obj::MoneyBag(o.total())),
                    "currentTotalPriceSet" | "currentSubtotalPriceSet" => R::Obj(Obj::MoneyBag(o.current_total())),
                    "lineItems" => {
                        let rows: Vec<(SortVal, u64, Obj)> = o
                            .lines
                            .iter()
                            .enumerate()
                            .map(|(i, l)| (SortVal::Int(i as i64), l.id, Obj::LineItem(o.id, i)))
                            .collect();
                        return self.paginate("LineItem", rows, args);
                    }
                    _ => R::Null,
                }
            }
            Obj::LineItem(oid, idx) => {
                let Some(l) = s.orders.get(oid).and_then(|o| o.lines.get(*idx)) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("LineItem", l.id)),
                    "name" => leaf_str(l.name.clone()),
                    "title" => leaf_str(l.title.clone()),
                    "sku" => leaf_opt(l.sku.clone()),
                    "quantity" => leaf_int(l.quantity),
                    "currentQuantity" => leaf_int(l.current_quantity),
                    "variant" => l
                        .variant_id
                        .filter(|v| s.variants.contains_key(v))
                        .map_or(R::Null, |v| R::Obj(Obj::Variant(v))),
                    "product" => l
                        .product_id
                        .filter(|p| s.products.contains_key(p))
                        .map_or(R::Null, |p| R::Obj(Obj::Product(p))),
                    "originalUnitPriceSet" => R::Obj(Obj::MoneyBag(l.price.clone())),
                    _ => R::Null,
                }
            }
            Obj::MoneyBag(amount) => match field {
                "shopMoney" | "presentmentMoney" => R::Obj(Obj::Money(amount.clone())),
                _ => R::Null,
            },
            Obj::Money(amount) => match field {
                "amount" => leaf_str(amount.clone()),
                "currencyCode" => leaf_str(s.currency),
                _ => R::Null,
            },
            Obj::Webhook(id) => {
                let Some(w) = s.webhooks.get(id) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("WebhookSubscription", w.id)),
                    "legacyResourceId" => leaf_str(w.id.to_string()),
                    "topic" => leaf_str(w.topic.clone()),
                    "uri" | "callbackUrl" => leaf_str(w.uri.clone()),
                    "format" => leaf_str(w.format.clone()),
                    "filter" => leaf_opt(w.filter.clone()),
                    "includeFields" => R::Leaf(OVal::List(
                        w.include_fields.iter().map(|f| OVal::str(f.clone())).collect(),
                    )),
                    "metafieldNamespaces" => R::Leaf(OVal::List(Vec::new())),
                    "name" => leaf_opt(w.name.clone()),
                    "createdAt" | "updatedAt" => leaf_str(timestamp(&w.created_at)),
                    _ => R::Null,
                }
            }
            Obj::SetOperation(id) => {
                let Some(op) = s.operations.get(id) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("ProductSetOperation", op.id)),
                    "product" => op
                        .product_id
                        .filter(|p| s.products.contains_key(p))
                        .map_or(R::Null, |p| R::Obj(Obj::Product(p))),
                    "status" => leaf_str("COMPLETE"),
                    "userErrors" => R::List(Vec::new()),
                    _ => R::Null,
                }
            }
            Obj::DeleteOperation(id, created) => {
                let Some(product) = s.delete_operations.get(id) else {
                    return Ok(R::Null);
                };
                match field {
                    "id" => leaf_str(gid("ProductDeleteOperation", *id)),
                    "deletedProductId" if *created => R::Null,
                    "deletedProductId" => leaf_str(gid("Product", *product)),
                    "status" => leaf_str(if *created { "CREATED" } else { "COMPLETE" }),
                    "userErrors" => R::List(Vec::new()),
                    _ => R::Null,
                }
            }
            Obj::MediaImage(_) | Obj::Image(_) | Obj::MediaPreview(_) | Obj::MediaSource(_) | Obj::MediaError(..) => {
                media::resolve(s, obj, field)
            }
            Obj::PageInfo(p) => match field {
                "hasNextPage" => leaf_bool(p.has_next),
                "hasPreviousPage" => leaf_bool(p.has_prev),
                "startCursor" => leaf_opt(p.start.clone()),
                "endCursor" => leaf_opt(p.end.clone()),
                _ => R::Null,
            },
            Obj::Connection(c) => match field {
                "nodes" => R::List(c.items.iter().map(|(o, _)| R::Obj(o.clone())).collect()),
                "edges" => R::List(
                    c.items
                        .iter()
                        .map(|(o, cur)| R::Obj(Obj::Edge(Box::new(o.clone()), cur.clone(), c.node_type)))
                        .collect(),
                ),
                "pageInfo" => R::Obj(Obj::PageInfo(c.page.clone())),
                _ => R::Null,
            },
            Obj::Edge(node, cursor, _) => match field {
                "cursor" => leaf_str(cursor.clone()),
                "node" => R::Obj((**node).clone()),
                _ => R::Null,
            },
            Obj::Count(n) => match field {
                "count" => leaf_int(*n),
                "precision" => leaf_str("EXACT"),
                _ => R::Null,
            },
            Obj::UserError(e, _) => match field {
                "field" => e.field.as_ref().map_or(R::Null, |f| {
                    R::Leaf(OVal::List(f.iter().map(|x| OVal::str(x.clone())).collect()))
                }),
                "message" => leaf_str(e.message.clone()),
                "code" => leaf_opt(e.code.clone()),
                _ => R::Null,
            },
            Obj::Payload(p) => payload_field(p, field),
        })
    }
}

fn user_errors(errors: &[UserErr], type_name: &'static str) -> R {
    R::List(
        errors
            .iter()
            .map(|e| R::Obj(Obj::UserError(e.clone(), type_name)))
            .collect(),
    )
}

fn payload_field(p: &Payload, field: &str) -> R {
    match p {
        Payload::SetQuantities { group, errors } => match field {
            "inventoryAdjustmentGroup" => group.map_or(R::Null, |g| R::Obj(Obj::Group(g))),
            "userErrors" => user_errors(errors, "InventorySetQuantitiesUserError"),
            _ => R::Null,
        },
        Payload::Activate { level, errors } => match field {
            "inventoryLevel" => level.map_or(R::Null, |(i, l)| R::Obj(Obj::Level(i, l))),
            "userErrors" => user_errors(errors, "UserError"),
            _ => R::Null,
        },
        Payload::ProductSet {
            product,
            operation,
            errors,
        } => match field {
            "product" => product.map_or(R::Null, |p| R::Obj(Obj::Product(p))),
            "productSetOperation" => operation.map_or(R::Null, |o| R::Obj(Obj::SetOperation(o))),
            "userErrors" => user_errors(errors, "ProductSetUserError"),
            _ => R::Null,
        },
        Payload::WebhookCreate { subscription, errors } => match field {
            "webhookSubscription" => subscription.map_or(R::Null, |w| R::Obj(Obj::Webhook(w))),
            "userErrors" => user_errors(errors, "UserError"),
            _ => R::Null,
        },
        Payload::ProductUpdate { product, errors } => match field {
            "product" => product.map_or(R::Null, |p| R::Obj(Obj::Product(p))),
            "userErrors" => user_errors(errors, "UserError"),
            _ => R::Null,
        },
        Payload::ProductDelete {
            deleted,
            operation,
            errors,
        } => match field {
            "deletedProductId" => deleted.map_or(R::Null, |p| leaf_str(gid("Product", p))),
            "productDeleteOperation" => operation.map_or(R::Null, |o| R::Obj(Obj::DeleteOperation(o, true))),
            "shop" => R::Obj(Obj::Shop),
            "userErrors" => user_errors(errors, "UserError"),
            _ => R::Null,
        },
    }
}

fn idempotency_failure(field: &str, message: &str, code: &str) -> Payload {
    let e = UserErr {
        field: None,
        message: message.to_owned(),
        code: Some(code.to_owned()),
    };
    match field {
        "inventoryActivate" => Payload::Activate {
            level: None,
            errors: vec![UserErr { code: None, ..e }],
        },
        _ => Payload::SetQuantities {
            group: None,
            errors: vec![e],
        },
    }
}

fn id_matches(t: &Term, id: u64) -> bool {
    let raw = t.value.rsplit('/').next().unwrap_or_default();
    match raw.parse::<u64>() {
        Ok(want) => search::compare(&t.cmp, &id, &want),
        Err(_) => false,
    }
}

fn time_matches(t: &Term, at: &chrono::DateTime<chrono::Utc>) -> bool {
    match search::parse_time(&t.value) {
        Some(want) => {
            // Search timestamps have one-second precision.
            let at = at.timestamp();
            let want = want.timestamp();
            match t.cmp {
                Cmp::Eq => at == want,
                _ => search::compare(&t.cmp, &at, &want),
            }
        }
        None => false,
    }
}

fn check_times(expr: &Expr, fields: &[&str]) -> Result<(), String> {
    for t in expr.terms() {
        if let Some(f) = t.field.as_deref()
            && fields.contains(&f)
            && search::parse_time(&t.value).is_none()
        {
            return Err(format!("Invalid timestamp for query filter `{f}`."));
        }
    }
    Ok(())
}
