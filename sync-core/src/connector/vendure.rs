//! Vendure 3 over its Admin GraphQL API, the only place that knows Vendure's
//! protocol: the `vendure-api-key` header, ids as strings, prices in minor
//! units, option groups, stock per stock location, and orders by `updatedAt`.
//!
//! What a shopper can buy in Vendure is `stockOnHand - stockAllocated` at a
//! location (placed orders allocate, fulfilment then takes both down), so a
//! quantity Tillbridge pushes is written as `stockOnHand = quantity +
//! allocated`, and the quantity this connector reports is the saleable one.
//! Vendure turns an absolute stock write into a delta against a read made
//! outside its lock, so writes to one variant are serialized here: a
//! per-variant async mutex covers the read, the compare and the write.
//!
//! Products (`catalog`) carry every seed 004 field Vendure can hold: name,
//! description, enabled, SKU, price and options as Vendure has them, brand
//! and category as facet values (`facets`), barcode and weight as variant
//! custom fields when the store declares them (`custom_fields`), and images
//! as assets this connector downloads and uploads itself (`images`).

mod catalog;
mod custom_fields;
mod facets;
mod images;
mod options;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http;
use super::{
    ChannelItem, ChannelOrder, ChannelOrderLine, Connector, ConnectorError, FoundItem, KnownOrders, ProductToList,
    ProductWritten, PulledOrders, QuantitySet, Retire, SetOutcome,
};
use crate::domain::Timestamp;

/// Variants per read or write call (Vendure's list queries take up to 100
/// by default, and a call of 100 stock writes answers in well under a second).
const MAX_BATCH: usize = 100;
/// Variants created per `createProductVariants` call.
const CREATE_CHUNK: usize = 50;
/// Orders per page of the orders query.
const ORDERS_PER_PAGE: usize = 50;
/// Stock writes a second Vendure takes on in-memory SQLite (200 variants
/// answer in about 0.5 s): what progress estimates are computed from.
pub const QUANTITIES_PER_SECOND: f64 = 300.0;
const LANGUAGE: &str = "en";

/// What is stored for a Vendure channel (the API key is stored apart, encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendureSettings {
    /// e.g. `https://shop.example` (the Admin API is `{base}/admin-api`).
    pub api_base_url: String,
    pub stock_location_id: String,
    pub stock_location_name: String,
}

impl VendureSettings {
    fn endpoint(&self) -> String {
        format!("{}/admin-api", self.api_base_url.trim_end_matches('/'))
    }
}

/// A stock location in the Vendure store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLocation {
    pub id: String,
    pub name: String,
}

/// One lock per Vendure variant, shared by every connector in the process,
/// so two pushes to one variant never interleave their read and write.
static VARIANT_LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn variant_lock(key: String) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = VARIANT_LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    // Forget locks nobody holds, so the map stays as small as the work in flight.
    if locks.len() > 10_000 {
        locks.retain(|_, l| Arc::strong_count(l) > 1);
    }
    locks.entry(key).or_default().clone()
}

pub struct VendureConnector {
    settings: VendureSettings,
    api_key: String,
    http: reqwest::Client,
    /// Which variant custom fields the store has, asked once.
    custom_fields: Mutex<Option<custom_fields::VariantFields>>,
}

impl std::fmt::Debug for VendureConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendureConnector")
            .field("api_base_url", &self.settings.api_base_url)
            .finish_non_exhaustive()
    }
}

/// A variant's stock at the channel's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Level {
    on_hand: i64,
    allocated: i64,
}

impl Level {
    fn saleable(self) -> i64 {
        self.on_hand - self.allocated
    }
}

impl VendureConnector {
    pub fn new(settings: VendureSettings, api_key: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Tillbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            settings,
            api_key,
            http,
            custom_fields: Mutex::new(None),
        }
    }

    /// The store's stock locations; also proves the address and key work.
    pub async fn stock_locations(base_url: &str, api_key: &str) -> Result<Vec<StockLocation>, ConnectorError> {
        let probe = Self::new(
            VendureSettings {
                api_base_url: base_url.to_owned(),
                stock_location_id: String::new(),
                stock_location_name: String::new(),
            },
            api_key.to_owned(),
        );
        let data = probe
            .graphql(
                "query StockLocations { stockLocations(options: { take: 100 }) { items { id name } } }",
                json!({}),
            )
            .await?;
        Ok(data["stockLocations"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some(StockLocation {
                    id: id_of(&l["id"])?,
                    name: l["name"].as_str()?.to_owned(),
                })
            })
            .collect())
    }

    /// One Admin API call. GraphQL errors: FORBIDDEN is a refused key,
    /// anything else is a refusal that retrying will not change.
    async fn graphql(&self, query: &str, variables: Value) -> Result<Value, ConnectorError> {
        let request = self
            .http
            .post(self.settings.endpoint())
            .json(&json!({ "query": query, "variables": variables }));
        self.send(request).await
    }

    /// Sends an Admin API request (JSON or a multipart upload) with our key
    /// and reads its answer as `graphql` describes.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, ConnectorError> {
        let (status, answer) = self.answer(request).await?;
        if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
            let text = error_text(errors);
            if errors.iter().any(|e| e["extensions"]["code"] == "FORBIDDEN") {
                return Err(ConnectorError::Unauthorized(text));
            }
            if errors
                .iter()
                .any(|e| e["extensions"]["code"] == "INTERNAL_SERVER_ERROR")
            {
                return Err(ConnectorError::Transient(text));
            }
            return Err(ConnectorError::Permanent(text));
        }
        if !status.is_success() {
            return Err(ConnectorError::Permanent(format!(
                "HTTP {status}: {}",
                http::excerpt(&answer.to_string())
            )));
        }
        Ok(answer["data"].clone())
    }

    /// The whole JSON answer, GraphQL errors included; Err only for what
    /// HTTP says (no answer, refused key, slow down, 5xx, not JSON).
    async fn answer(&self, request: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, Value), ConnectorError> {
        let response = request
            .header("vendure-api-key", &self.api_key)
            .send()
            .await
            .map_err(|e| ConnectorError::Transient(http::describe(&e)))?;
        if let Some(e) = http::status_error(&response, &self.settings.api_base_url) {
            return Err(e);
        }
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| ConnectorError::Transient(http::describe(&e)))?;
        let answer: Value = serde_json::from_str(&text).map_err(|_| {
            if status.is_success() {
                ConnectorError::Transient(format!("not JSON: {}", http::excerpt(&text)))
            } else {
                ConnectorError::Permanent(format!("HTTP {status}: {}", http::excerpt(&text)))
            }
        })?;
        Ok((status, answer))
    }

    fn level_of(&self, variant: &Value) -> Option<Level> {
        variant["stockLevels"]
            .as_array()?
            .iter()
            .find(|l| id_of(&l["stockLocationId"]).as_deref() == Some(self.settings.stock_location_id.as_str()))
            .map(|l| Level {
                on_hand: l["stockOnHand"].as_i64().unwrap_or(0),
                allocated: l["stockAllocated"].as_i64().unwrap_or(0),
            })
    }

    /// Variants by SKU, with their product and stock at our location.
    async fn variants_by_sku(&self, skus: &[String]) -> Result<Vec<Value>, ConnectorError> {
        let mut out = Vec::new();
        for chunk in skus.chunks(MAX_BATCH) {
            let data = self
                .graphql(
                    "query VariantsBySku($skus: [String!]!, $take: Int!) {
                       productVariants(options: { filter: { sku: { in: $skus } }, take: $take }) {
                         items { id sku product { id } stockLevels { stockLocationId stockOnHand stockAllocated } }
                       }
                     }",
                    json!({ "skus": chunk, "take": MAX_BATCH }),
                )
                .await?;
            out.extend(data["productVariants"]["items"].as_array().cloned().unwrap_or_default());
        }
        Ok(out)
    }

    /// Stock levels of variants by id; ids Vendure does not know are absent.
    async fn levels(&self, ids: &[String]) -> Result<HashMap<String, Option<Level>>, ConnectorError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(MAX_BATCH) {
            let data = self
                .graphql(
                    "query VariantLevels($ids: [String!]!, $take: Int!) {
                       productVariants(options: { filter: { id: { in: $ids } }, take: $take }) {
                         items { id stockLevels { stockLocationId stockOnHand stockAllocated } }
                       }
                     }",
                    json!({ "ids": chunk, "take": MAX_BATCH }),
                )
                .await?;
            // Results come in no particular order: match them by id.
            for v in data["productVariants"]["items"].as_array().into_iter().flatten() {
                if let Some(id) = id_of(&v["id"]) {
                    out.insert(id, self.level_of(v));
                }
            }
        }
        Ok(out)
    }

    fn found(&self, variant: &Value) -> Option<FoundItem> {
        let id = id_of(&variant["id"])?;
        Some(FoundItem {
            sku: variant["sku"].as_str()?.trim().to_owned(),
            product_id: id_of(&variant["product"]["id"])?,
            variant_id: id.clone(),
            inventory_item_id: id,
            quantity: self.level_of(variant).map(Level::saleable),
        })
    }

    /// Reads, compares and writes one batch while holding its variants' locks.
    async fn set_locked(&self, sets: &[QuantitySet]) -> Result<Vec<SetOutcome>, ConnectorError> {
        let ids: Vec<String> = sets.iter().map(|s| s.inventory_item_id.clone()).collect();
        let levels = self.levels(&ids).await?;
        let mut outcomes = Vec::with_capacity(sets.len());
        let mut writes: Vec<Value> = Vec::new();
        let mut written: HashMap<String, i64> = HashMap::new();
        for s in sets {
            let Some(level) = levels.get(&s.inventory_item_id) else {
                outcomes.push(SetOutcome::Rejected {
                    code: "NOT_FOUND".into(),
                    message: format!("variant {} is not in the Vendure store", s.inventory_item_id),
                });
                continue;
            };
            let level = level.unwrap_or(Level {
                on_hand: 0,
                allocated: 0,
            });
            let current = level.saleable();
            // A placed order allocates at once, so saleable moves like
            // Shopify's `available`: a figure other than the one we last saw
            // is answered stale (even if it is the one we want), and the
            // worker pulls the orders behind it before raising anything.
            if let Some(expected) = s.change_from
                && expected != current
            {
                outcomes.push(SetOutcome::Stale { current: Some(current) });
                continue;
            }
            if current == s.quantity {
                outcomes.push(SetOutcome::Applied);
                continue;
            }
            // A variant listed twice in one batch: the later figure wins.
            if written.insert(s.inventory_item_id.clone(), s.quantity).is_some() {
                writes.retain(|w| w["id"] != json!(s.inventory_item_id));
            }
            writes.push(json!({
                "id": s.inventory_item_id,
                "stockLevels": [{
                    "stockLocationId": self.settings.stock_location_id,
                    "stockOnHand": s.quantity + level.allocated,
                }],
            }));
            outcomes.push(SetOutcome::Applied);
        }
        if !writes.is_empty() {
            self.graphql(
                "mutation SetStock($input: [UpdateProductVariantInput!]!) {
                   updateProductVariants(input: $input) { id }
                 }",
                json!({ "input": writes }),
            )
            .await?;
        }
        Ok(outcomes)
    }
}

/// GraphQL errors' messages, joined.
fn error_text(errors: &[Value]) -> String {
    let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
    messages.join("; ")
}

/// Vendure's ids are strings, though some answers carry numbers.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn time(v: &Value) -> Option<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| Timestamp::from(t.with_timezone(&chrono::Utc)))
}

/// A placed order in our terms; carts (never placed) are None.
fn order_from(node: &Value) -> Option<ChannelOrder> {
    let placed_at = time(&node["orderPlacedAt"])?;
    Some(ChannelOrder {
        external_id: id_of(&node["id"])?,
        number: node["code"].as_str().unwrap_or_default().to_owned(),
        placed_at,
        updated_at: time(&node["updatedAt"]).unwrap_or(placed_at),
        cancelled: node["state"] == "Cancelled",
        currency: node["currencyCode"].as_str()?.to_owned(),
        total_minor: node["totalWithTax"].as_i64().unwrap_or(0),
        lines: node["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some(ChannelOrderLine {
                    external_id: id_of(&l["id"])?,
                    sku: l["productVariant"]["sku"]
                        .as_str()
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                    title: l["productVariant"]["name"].as_str().unwrap_or_default().to_owned(),
                    quantity: l["quantity"].as_i64()?,
                    price_minor: l["unitPrice"].as_i64().unwrap_or(0),
                })
            })
            .collect(),
    })
}

impl Connector for VendureConnector {
    fn max_batch(&self) -> usize {
        MAX_BATCH
    }

    async fn find_by_sku(&self, skus: &[String]) -> Result<HashMap<String, FoundItem>, ConnectorError> {
        let variants = self.variants_by_sku(skus).await?;
        Ok(variants
            .iter()
            .filter_map(|v| self.found(v))
            .filter(|f| skus.contains(&f.sku))
            .map(|f| (f.sku.clone(), f))
            .collect())
    }

    async fn create_product(&self, product: &ProductToList) -> Result<ProductWritten, ConnectorError> {
        self.create(product).await
    }

    async fn update_product(
        &self,
        product: &ProductToList,
        external_product_id: &str,
        existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        self.update(product, external_product_id, existing).await
    }

    async fn set_quantities(
        &self,
        sets: &[QuantitySet],
        _idempotency_key: &str,
        _reference: &str,
    ) -> Result<Vec<SetOutcome>, ConnectorError> {
        // No idempotency keys in Vendure: a retry compares against the
        // figure it finds, so a write that landed is not applied twice.
        // Locks are taken in one order (sorted ids), so batches never deadlock.
        let mut keys: Vec<String> = sets
            .iter()
            .map(|s| format!("{}|{}", self.settings.api_base_url, s.inventory_item_id))
            .collect();
        keys.sort();
        keys.dedup();
        let locks: Vec<Arc<tokio::sync::Mutex<()>>> = keys.into_iter().map(variant_lock).collect();
        let mut guards = Vec::with_capacity(locks.len());
        for lock in &locks {
            guards.push(lock.lock().await);
        }
        let outcomes = self.set_locked(sets).await;
        drop(guards);
        outcomes
    }

    async fn read_quantities(&self, items: &[String]) -> Result<HashMap<String, i64>, ConnectorError> {
        Ok(self
            .levels(items)
            .await?
            .into_iter()
            .filter_map(|(id, level)| Some((id, level?.saleable())))
            .collect())
    }

    async fn list_items(&self) -> Result<Vec<ChannelItem>, ConnectorError> {
        let mut items = Vec::new();
        let mut skip = 0usize;
        loop {
            let data = self
                .graphql(
                    "query ListVariants($skip: Int!, $take: Int!) {
                       productVariants(options: { skip: $skip, take: $take, sort: { id: ASC } }) {
                         totalItems items { id sku product { id name } }
                       }
                     }",
                    json!({ "skip": skip, "take": MAX_BATCH }),
                )
                .await?;
            let page = data["productVariants"]["items"].as_array().cloned().unwrap_or_default();
            for v in &page {
                let (Some(variant_id), Some(product_id)) = (id_of(&v["id"]), id_of(&v["product"]["id"])) else {
                    continue;
                };
                items.push(ChannelItem {
                    sku: v["sku"].as_str().unwrap_or_default().trim().to_owned(),
                    title: v["product"]["name"].as_str().unwrap_or_default().to_owned(),
                    product_id,
                    variant_id,
                });
            }
            skip += page.len();
            let total = data["productVariants"]["totalItems"].as_u64().unwrap_or(0) as usize;
            if page.is_empty() || skip >= total {
                return Ok(items);
            }
        }
    }

    /// Vendure charges nothing for reads: every order is read whole.
    async fn pull_orders(
        &self,
        since: Option<Timestamp>,
        _known: &KnownOrders,
    ) -> Result<PulledOrders, ConnectorError> {
        let since = since.map_or_else(
            || "1970-01-01T00:00:00.000Z".to_owned(),
            |s| s.as_datetime().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        let mut by_id: HashMap<String, ChannelOrder> = HashMap::new();
        let mut skip = 0usize;
        loop {
            // Placed orders only (`active: false` leaves carts out), oldest update first.
            let data = self
                .graphql(
                    "query OrdersSince($since: DateTime!, $skip: Int!, $take: Int!) {
                       orders(options: {
                         filter: { updatedAt: { after: $since }, active: { eq: false } }
                         sort: { updatedAt: ASC }, skip: $skip, take: $take
                       }) {
                         totalItems
                         items { id code state orderPlacedAt updatedAt currencyCode totalWithTax
                           lines { id quantity unitPrice productVariant { id sku name } } }
                       }
                     }",
                    json!({ "since": since, "skip": skip, "take": ORDERS_PER_PAGE }),
                )
                .await?;
            let page = data["orders"]["items"].as_array().cloned().unwrap_or_default();
            for node in &page {
                if let Some(order) = order_from(node) {
                    // Seen twice while paging (it moved on): keep its latest state.
                    match by_id.get(&order.external_id) {
                        Some(seen) if seen.updated_at > order.updated_at => {}
                        _ => {
                            by_id.insert(order.external_id.clone(), order);
                        }
                    }
                }
            }
            skip += page.len();
            let total = data["orders"]["totalItems"].as_u64().unwrap_or(0) as usize;
            if page.is_empty() || skip >= total {
                break;
            }
        }
        let mut orders: Vec<ChannelOrder> = by_id.into_values().collect();
        orders.sort_by_key(|o| o.updated_at);
        Ok(PulledOrders {
            orders,
            unchanged: 0,
            listed_through: None,
            unreadable_before: None,
        })
    }

    async fn register_order_webhooks(&self, _callback_url: &str) -> Result<(), ConnectorError> {
        // Vendure core sends no webhooks; the store's order-webhook plugin is
        // pointed at the callback address in its own configuration
        // (VENDURE_ORDER_WEBHOOK_URL). Pulls are the reliable path anyway.
        Ok(())
    }

    async fn retire_product(&self, product_id: &str, how: Retire) -> Result<(), ConnectorError> {
        match how {
            Retire::Unpublish => {
                self.graphql(
                    "mutation Unpublish($input: UpdateProductInput!) { updateProduct(input: $input) { id enabled } }",
                    json!({ "input": { "id": product_id, "enabled": false } }),
                )
                .await?;
                Ok(())
            }
            Retire::Delete => {
                let data = self
                    .graphql(
                        "mutation Delete($id: ID!) { deleteProduct(id: $id) { result message } }",
                        json!({ "id": product_id }),
                    )
                    .await;
                match data {
                    Ok(d) if d["deleteProduct"]["result"] == "DELETED" => Ok(()),
                    Ok(d) => Err(ConnectorError::Permanent(format!(
                        "deleteProduct: {}",
                        d["deleteProduct"]["message"].as_str().unwrap_or("refused")
                    ))),
                    // Deleting what is already gone is what was asked for.
                    Err(ConnectorError::Permanent(m)) if m.contains("No Product with the id") => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

/// A lower-case, dash-separated code or slug.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "x".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saleable_is_on_hand_minus_allocated() {
        let l = Level {
            on_hand: 10,
            allocated: 3,
        };
        assert_eq!(l.saleable(), 7);
    }

    #[test]
    fn carts_are_not_orders_and_cancelled_ones_say_so() {
        let cart = json!({ "id": "1", "code": "A", "state": "Cancelled", "orderPlacedAt": null,
            "updatedAt": "2026-11-24T14:38:13.000Z", "currencyCode": "USD", "lines": [] });
        assert!(order_from(&cart).is_none());
        let order = json!({ "id": 2, "code": "B", "state": "Cancelled", "orderPlacedAt": "2026-11-24T14:38:13.643Z",
            "updatedAt": "2026-11-24T14:38:15.000Z", "currencyCode": "USD", "totalWithTax": 6987,
            "lines": [{ "id": "1", "quantity": 0, "unitPrice": 1899, "productVariant": { "sku": " S-1 ", "name": "Tee S" } }] });
        let o = order_from(&order).expect("a placed order");
        assert!(o.cancelled);
        assert_eq!(o.external_id, "2");
        assert_eq!(o.lines[0].sku, "S-1");
        assert_eq!(o.total_minor, 6987);
    }
}
