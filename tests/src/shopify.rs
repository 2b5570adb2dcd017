//! A Shopify Admin GraphQL test server: a real HTTP server on 127.0.0.1
//! that answers `POST /admin/api/{version}/graphql.json` the way Shopify
//! does, so Tillbridge's connector can be tested against it over the wire.
//!
//! What it enforces, as Shopify's Admin API documentation and captured
//! answers of real stores describe it:
//! - the `X-Shopify-Access-Token` header (401 with Shopify's body otherwise)
//!   and known API versions (404 otherwise);
//! - parsing with a real GraphQL parser, validation against the served schema
//!   slice (graphql-ruby's messages: `undefinedField`, `selectionMismatch`,
//!   `PARSE_ERROR`, `INVALID_VARIABLE`...), answers holding exactly the
//!   selected fields with aliases;
//! - calculated query cost and the leaky bucket (`extensions.cost` on every
//!   executed answer, `THROTTLED`, `MAX_COST_EXCEEDED`,
//!   `MAX_INPUT_SIZE_EXCEEDED`);
//! - the inventory rules of 2026-04+: `@idempotent(key:)` and
//!   `changeFromQuantity` required, compare-and-set, idempotent replay,
//!   all-or-nothing `inventorySetQuantities`;
//! - `productSet` list semantics and its captured user errors;
//! - product images through `productSet(input: {files})`, `Product.media`
//!   and asynchronous processing: each image is downloaded from its source
//!   over real HTTP and becomes `READY` or `FAILED` (see `media.rs`).
//!
//! Choices where the documentation is silent (each kept close to the
//! captured live answers):
//! - one invalid quantity rejects the whole `inventorySetQuantities` call:
//!   every captured answer with `userErrors` has `inventoryAdjustmentGroup:
//!   null`, and nothing is applied; the errors name the row
//!   (`["input", "quantities", "3", "inventoryItemId"]`) so the caller can
//!   retry the others under a new idempotency key;
//! - a key reused with the same parameters replays a success; after a failed
//!   attempt it answers `IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED`;
//! - `inventoryActivate` also needs `@idempotent` from 2026-04 (its reference
//!   page says so), and an item must be stocked at a location before
//!   `inventorySetQuantities` can set it there (`ITEM_NOT_STOCKED_AT_LOCATION`);
//! - a sale (`place_order`) moves units from `available` to `committed`;
//!   `on_hand` = `available` + `committed`;
//! - GIDs of each kind live in their own large numeric range, so ids of two
//!   kinds never coincide;
//! - an order's `totalPriceSet` (REST `total_price`) counts every unit
//!   ordered, `currentTotalPriceSet` (`current_total_price`) only the units
//!   still on it after edits and cancellation; cancelling or reducing a line
//!   without restock takes the units out of `committed` and `on_hand`;
//! - the 60-day window counts from an order's creation, and an order out of
//!   it is absent from `orders` and `null` from `order(id:)`;
//! - webhook deliveries leave one at a time in the order of their events;
//!   only retries and the delay fault make them overtake one another.
//!
//! - webhook delivery for the subscriptions made with
//!   `webhookSubscriptionCreate` (see `webhooks.rs`): signed REST payloads,
//!   Shopify's headers, retries with backoff, and the `orders/*` topics
//!   raised by the order helpers (`orders/create` and `orders/updated` when
//!   an order is placed, `orders/cancelled` + `orders/updated` when it is
//!   cancelled, `orders/edited` + `orders/updated` when a line is reduced);
//! - the 60-day order window without `read_all_orders`;
//! - `productUpdate` (2026-04 shape) and `productDelete`.
//!
//! Faults (down, 500s, dropped connections, delays, throttle settings) can be
//! switched while it runs, through [`ShopifyTestServer::faults`]; webhook
//! faults (lost, duplicated, delayed deliveries) through
//! [`ShopifyTestServer::webhook_faults`].

mod cost;
mod exec;
mod input;
mod json;
mod media;
mod mutations;
mod schema;
mod search;
mod store;
mod validate;
mod webhooks;

pub use media::{ImageInfo, sample_png};
pub use webhooks::{DeliveryOutcome, WebhookDelivery, WebhookFaults, WebhookSettings};

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use graphql_parser::query::{Definition, OperationDefinition};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::Rng;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use json::{OVal, gql_error};
use store::{Store, gid, parse_gid};

/// Settings of a test shop.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    /// Leaky-bucket size in cost points (Shopify's standard plan: 2000).
    pub bucket_size: f64,
    /// Points restored per second (standard plan: 100).
    pub restore_rate: f64,
    /// The version the connector is expected to call; informational, every
    /// known version is served with its own rules.
    pub api_version: String,
    pub shop_domain: String,
    /// The app's client secret: the key of `X-Shopify-Hmac-Sha256`.
    pub client_secret: String,
    /// Whether the app holds `read_all_orders`; without it only orders
    /// created in the last 60 days can be read.
    pub read_all_orders: bool,
    /// The shop's offset from UTC in minutes: REST webhook payloads print
    /// times in the shop's zone (`2026-11-24T22:00:00-05:00`); GraphQL
    /// answers stay in UTC.
    pub utc_offset_minutes: i32,
    /// Webhook timeouts and retry schedule.
    pub webhooks: WebhookSettings,
}

/// The client secret a test shop signs webhooks with unless told otherwise.
pub const DEFAULT_CLIENT_SECRET: &str = "shpss_tillbridge_test_client_secret";

impl Default for ShopConfig {
    fn default() -> Self {
        ShopConfig {
            bucket_size: 2000.0,
            restore_rate: 100.0,
            api_version: "2026-10".to_owned(),
            shop_domain: "tillbridge-test.myshopify.com".to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            read_all_orders: false,
            utc_offset_minutes: -300,
            webhooks: WebhookSettings::default(),
        }
    }
}

/// An order as the test shop holds it (see [`ShopifyTestServer::orders`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderInfo {
    /// The order's GID.
    pub id: String,
    /// The numeric id (REST `id`, GraphQL `legacyResourceId`).
    pub legacy_id: u64,
    /// `#1001`...
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The location whose stock the order committed.
    pub location_id: String,
    pub lines: Vec<OrderLineInfo>,
}

/// A line of an [`OrderInfo`].
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLineInfo {
    /// The line item's GID.
    pub id: String,
    pub sku: Option<String>,
    /// Units ordered, including removed and refunded ones.
    pub quantity: i64,
    /// Units still on the order.
    pub current_quantity: i64,
    /// The variant's GID.
    pub variant_id: Option<String>,
}

/// `X-Shopify-Hmac-Sha256` for `body`: base64 of its HMAC-SHA256 keyed with
/// `secret`; a receiver compares it with the header (in constant time).
pub fn webhook_hmac(secret: &str, body: &[u8]) -> String {
    webhooks::hmac_sha256_base64(secret.as_bytes(), body)
}

/// Counters of what the server saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Authenticated GraphQL requests received (including faulted ones).
    pub requests: u64,
    /// Executed root fields by name (`inventorySetQuantities`, `productVariants`...).
    pub calls: BTreeMap<String, u64>,
    /// Executed root fields in the order they ran.
    pub call_log: Vec<String>,
    /// Requests answered `THROTTLED`.
    pub throttled: u64,
    /// Requests answered 500 by the `error_rate` / `fail_next` faults.
    pub injected_errors: u64,
    /// Connections closed without an answer by the drop faults.
    pub dropped: u64,
    /// Requests refused with 401.
    pub unauthorized: u64,
    /// `@idempotent` mutations answered from an earlier result.
    pub idempotent_replays: u64,
    /// `inventorySetQuantities` answers carrying a stale compare value.
    pub stale_answers: u64,
    /// Each stale item: what the mutation expected and what it found.
    pub stale_log: Vec<String>,
    /// Quantities `inventorySetQuantities` applied that raised `available`.
    pub raises: u64,
    /// `actualQueryCost` charged for the latest request that ran
    /// `inventorySetQuantities`.
    pub last_cost: Option<f64>,
}

impl Stats {
    pub fn calls_to(&self, field: &str) -> u64 {
        self.calls.get(field).copied().unwrap_or(0)
    }
}

/// One quantity that `inventorySetQuantities` applied (a successful,
/// non-replayed call), in order.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedSet {
    pub sku: String,
    /// The inventory item's GID.
    pub inventory_item_id: String,
    /// The location's GID.
    pub location_id: String,
    /// `available` or `on_hand`.
    pub name: String,
    pub quantity: i64,
    /// The change it made (0 when the quantity already had that value).
    pub delta: i64,
    /// The `changeFromQuantity` sent (`None` for an explicit null).
    pub change_from: Option<i64>,
    pub idempotency_key: Option<String>,
    pub at: Instant,
}

/// A webhook subscription created through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSubscriptionInfo {
    pub id: String,
    pub topic: String,
    pub uri: String,
    pub format: String,
}

struct Bucket {
    max: f64,
    rate: f64,
    available: f64,
    last: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.available = (self.available + dt * self.rate).min(self.max);
        self.last = now;
    }

    fn status(&self) -> OVal {
        OVal::obj([
            ("maximumAvailable", OVal::number(self.max)),
            ("currentlyAvailable", OVal::Int(self.available.floor() as i64)),
            ("restoreRate", OVal::number(self.rate)),
        ])
    }
}

/// Switches that change how the server answers, effective immediately.
pub struct Faults {
    down: watch::Sender<bool>,
    error_rate: AtomicU64,
    drop_rate: AtomicU64,
    drop_after_apply_rate: AtomicU64,
    fail_next: AtomicU32,
    drop_next: AtomicU32,
    drop_after_apply_next: AtomicU32,
    delay_ms: AtomicU64,
    bucket: Mutex<Bucket>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Faults {
    /// `true` closes the listener (connections are refused) and cuts open
    /// connections; `false` listens again on the same port.
    pub fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }

    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Share (0.0..=1.0) of requests answered HTTP 500
    /// `{"errors":"An unexpected error occurred"}` before anything runs.
    pub fn set_error_rate(&self, rate: f64) {
        self.error_rate.store(rate.clamp(0.0, 1.0).to_bits(), Ordering::SeqCst);
    }

    /// Share of requests whose connection is closed without an answer
    /// before anything runs.
    pub fn set_drop_rate(&self, rate: f64) {
        self.drop_rate.store(rate.clamp(0.0, 1.0).to_bits(), Ordering::SeqCst);
    }

    /// Share of requests that run (mutations apply) but whose answer is
    /// lost: the connection closes instead. The case idempotency keys exist for.
    pub fn set_drop_after_apply_rate(&self, rate: f64) {
        self.drop_after_apply_rate
            .store(rate.clamp(0.0, 1.0).to_bits(), Ordering::SeqCst);
    }

    /// The next `n` requests are answered 500 before anything runs.
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` requests lose their connection before anything runs.
    pub fn drop_next(&self, n: u32) {
        self.drop_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` requests run, then lose their connection.
    pub fn drop_after_apply_next(&self, n: u32) {
        self.drop_after_apply_next.store(n, Ordering::SeqCst);
    }

    /// Time the server waits after processing a request before answering
    /// (a mutation is applied even if the client gives up).
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Changes the leaky bucket's size and restore rate.
    pub fn set_throttle(&self, bucket_size: f64, restore_rate: f64) {
        let mut b = lock(&self.bucket);
        b.refill(Instant::now());
        b.max = bucket_size;
        b.rate = restore_rate;
        b.available = b.available.min(bucket_size);
    }

    /// Sets the points currently in the bucket (e.g. 0 to force throttling).
    pub fn set_bucket_available(&self, points: f64) {
        let mut b = lock(&self.bucket);
        b.refill(Instant::now());
        b.available = points.clamp(0.0, b.max);
    }

    /// The points currently in the bucket.
    pub fn bucket_available(&self) -> f64 {
        let mut b = lock(&self.bucket);
        b.refill(Instant::now());
        b.available
    }

    fn roll(rate: &AtomicU64) -> bool {
        let r = f64::from_bits(rate.load(Ordering::SeqCst));
        r > 0.0 && rand::thread_rng().r#gen::<f64>() < r
    }

    fn take(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

struct Inner {
    token: String,
    addr: SocketAddr,
    store: Mutex<Store>,
    stats: Mutex<Stats>,
    faults: Faults,
    hooks: webhooks::Hooks,
    media: media::MediaSettings,
    /// Bumped to cut every open connection (when going down).
    cut: watch::Sender<u64>,
    listening: AtomicBool,
}

/// Stops the server task when the last handle is dropped.
struct Guard {
    stop: watch::Sender<bool>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// A running Shopify test server; clones share the same shop.
#[derive(Clone)]
pub struct ShopifyTestServer {
    inner: Arc<Inner>,
    _guard: Arc<Guard>,
}

const UNEXPECTED_ERROR: &str = r#"{"errors":"An unexpected error occurred"}"#;
const INVALID_TOKEN: &str =
    r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;

impl ShopifyTestServer {
    /// Starts a server on 127.0.0.1 with a free port.
    pub async fn start(config: ShopConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Shopify test server");
        let addr = listener.local_addr().expect("local address");
        let token = format!("shpat_{:032x}", rand::thread_rng().r#gen::<u128>());
        let (down, _) = watch::channel(false);
        let (cut, _) = watch::channel(0u64);
        let (stop, stop_rx) = watch::channel(false);
        let (hooks, jobs) = webhooks::Hooks::new(
            config.webhooks.clone(),
            config.client_secret.clone(),
            config.api_version.clone(),
            config.utc_offset_minutes,
        );
        let mut store = Store::new(&config.shop_domain);
        store.read_all_orders = config.read_all_orders;
        let inner = Arc::new(Inner {
            token,
            addr,
            store: Mutex::new(store),
            stats: Mutex::new(Stats::default()),
            hooks,
            media: media::MediaSettings::new(),
            faults: Faults {
                down,
                error_rate: AtomicU64::new(0f64.to_bits()),
                drop_rate: AtomicU64::new(0f64.to_bits()),
                drop_after_apply_rate: AtomicU64::new(0f64.to_bits()),
                fail_next: AtomicU32::new(0),
                drop_next: AtomicU32::new(0),
                drop_after_apply_next: AtomicU32::new(0),
                delay_ms: AtomicU64::new(0),
                bucket: Mutex::new(Bucket {
                    max: config.bucket_size,
                    rate: config.restore_rate,
                    available: config.bucket_size,
                    last: Instant::now(),
                }),
            },
            cut,
            listening: AtomicBool::new(true),
        });
        tokio::spawn(webhooks::run(inner.clone(), jobs, stop_rx.clone()));
        tokio::spawn(serve(inner.clone(), listener, stop_rx));
        ShopifyTestServer {
            inner,
            _guard: Arc::new(Guard { stop }),
        }
    }

    /// `http://127.0.0.1:PORT`; the connector appends
    /// `/admin/api/2026-10/graphql.json`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The full GraphQL endpoint for `version`.
    pub fn graphql_url(&self, version: &str) -> String {
        format!("{}/admin/api/{version}/graphql.json", self.base_url())
    }

    /// The access token to send in `X-Shopify-Access-Token`.
    pub fn token(&self) -> &str {
        &self.inner.token
    }

    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.inner.store)
    }

    /// Adds an active location; returns its GID. The first one is primary.
    pub fn add_location(&self, name: &str) -> String {
        gid("Location", self.store().add_location(name))
    }

    /// A product that already exists in the shop, one variant per
    /// `(sku, available)`, stocked at `location_gid`. Returns the product GID.
    pub fn add_product(&self, title: &str, variants: &[(&str, i64)], location_gid: &str) -> String {
        let loc = parse_gid(location_gid, "Location").expect("a Location GID");
        let mut s = self.store();
        assert!(s.locations.contains_key(&loc), "unknown location {location_gid}");
        gid("Product", s.seed_product(title, variants, loc))
    }

    /// `available` of the (first) variant with `sku` at a location.
    pub fn available(&self, sku: &str, location_gid: &str) -> Option<i64> {
        let loc = parse_gid(location_gid, "Location")?;
        let s = self.store();
        s.item_of_sku(sku)?.levels.get(&loc).map(|l| l.available)
    }

    /// `on_hand` of the (first) variant with `sku` at a location.
    pub fn on_hand(&self, sku: &str, location_gid: &str) -> Option<i64> {
        let loc = parse_gid(location_gid, "Location")?;
        let s = self.store();
        s.item_of_sku(sku)?.levels.get(&loc).map(|l| l.on_hand())
    }

    /// An edit made in Shopify behind Tillbridge's back: sets `available`
    /// (stocking the item at the location if it was not).
    pub fn set_available(&self, sku: &str, location_gid: &str, qty: i64) {
        let loc = parse_gid(location_gid, "Location").expect("a Location GID");
        let mut s = self.store();
        let item = s
            .item_of_sku_mut(sku)
            .unwrap_or_else(|| panic!("no variant has SKU {sku}"));
        let now = chrono::Utc::now();
        let level = item.levels.entry(loc).or_insert_with(|| store::Level::new(now));
        level.available = qty;
        level.active = true;
        level.updated_at = now;
    }

    /// A sale in the channel: creates an order and lowers `available` of each
    /// line's SKU at the location (the units become `committed`). Delivers
    /// `orders/create` and `orders/updated` (Shopify raises `orders/updated`
    /// for every change of an order, its creation included). Returns the
    /// order GID.
    pub fn place_order(&self, location_gid: &str, lines: &[(&str, i64)]) -> String {
        let loc = parse_gid(location_gid, "Location").expect("a Location GID");
        let id = self
            .store()
            .place_order_at(loc, lines, Utc::now())
            .unwrap_or_else(|e| panic!("place_order: {e}"));
        self.emit_order(id, &["orders/create", "orders/updated"], None);
        gid("Order", id)
    }

    /// A shopper's checkout: like [`place_order`](Self::place_order), but
    /// refused (None) when a line asks for more than is `available`, as a
    /// shop that does not sell out of stock refuses it.
    pub fn try_place_order(&self, location_gid: &str, lines: &[(&str, i64)]) -> Option<String> {
        let loc = parse_gid(location_gid, "Location").expect("a Location GID");
        let id = {
            let mut store = self.store();
            let enough = lines.iter().all(|(sku, qty)| {
                store
                    .item_of_sku(sku)
                    .and_then(|i| i.levels.get(&loc))
                    .is_some_and(|l| l.available >= *qty)
            });
            if !enough {
                return None;
            }
            store
                .place_order_at(loc, lines, Utc::now())
                .unwrap_or_else(|e| panic!("try_place_order: {e}"))
        };
        self.emit_order(id, &["orders/create", "orders/updated"], None);
        Some(gid("Order", id))
    }

    /// An order placed at `at` (e.g. 70 days ago), created and last updated
    /// then, as history the shop already had: its stock is committed like
    /// [`place_order`](Self::place_order)'s, but no webhook is delivered.
    pub fn place_order_at(&self, location_gid: &str, lines: &[(&str, i64)], at: DateTime<Utc>) -> String {
        let loc = parse_gid(location_gid, "Location").expect("a Location GID");
        let id = self
            .store()
            .place_order_at(loc, lines, at)
            .unwrap_or_else(|e| panic!("place_order_at: {e}"));
        gid("Order", id)
    }

    /// Cancels an order as `orderCancel(restock: true)` does: its units
    /// return to `available`, every line's `currentQuantity` becomes 0,
    /// `cancelledAt` and `updatedAt` are set. Delivers `orders/cancelled`
    /// and `orders/updated`. Cancelling a cancelled order changes nothing.
    pub fn cancel_order(&self, order_gid: &str) {
        self.cancel_order_with(order_gid, true);
    }

    /// [`cancel_order`](Self::cancel_order) with `orderCancel`'s `restock`:
    /// without it the units leave `committed` and `on_hand` instead of
    /// returning to `available`.
    pub fn cancel_order_with(&self, order_gid: &str, restock: bool) {
        let id = parse_gid(order_gid, "Order").expect("an Order GID");
        let changed = self
            .store()
            .cancel_order(id, restock, "customer")
            .unwrap_or_else(|e| panic!("cancel_order: {e}"));
        if changed {
            self.emit_order(id, &["orders/cancelled", "orders/updated"], None);
        }
    }

    /// An order edit lowering the line holding `sku` to `quantity` units
    /// (`currentQuantity`; `quantity` stays as ordered); `restock` returns
    /// the removed units to `available`, otherwise they leave `on_hand`.
    /// Bumps `updatedAt` and delivers `orders/edited` and `orders/updated`.
    pub fn reduce_line_item(&self, order_gid: &str, sku: &str, quantity: i64, restock: bool) {
        let id = parse_gid(order_gid, "Order").expect("an Order GID");
        let (line, removed) = self
            .store()
            .reduce_line(id, sku, quantity, restock)
            .unwrap_or_else(|e| panic!("reduce_line_item: {e}"));
        self.emit_order(id, &["orders/edited", "orders/updated"], Some(&[(line, removed)]));
    }

    /// Removes the line holding `sku` from an order (an edit to 0 units).
    pub fn remove_line_item(&self, order_gid: &str, sku: &str, restock: bool) {
        self.reduce_line_item(order_gid, sku, 0, restock);
    }

    /// Any other change to an order (a note, a tag...): bumps `updatedAt`
    /// and delivers `orders/updated`.
    pub fn touch_order(&self, order_gid: &str) {
        let id = parse_gid(order_gid, "Order").expect("an Order GID");
        {
            let mut s = self.store();
            let o = s.orders.get_mut(&id).unwrap_or_else(|| panic!("no order {order_gid}"));
            o.updated_at = Utc::now();
        }
        self.emit_order(id, &["orders/updated"], None);
    }

    /// Sets an order's `updatedAt` without delivering anything (to build a
    /// history with known timestamps).
    pub fn set_order_updated_at(&self, order_gid: &str, at: DateTime<Utc>) {
        let id = parse_gid(order_gid, "Order").expect("an Order GID");
        let mut s = self.store();
        let o = s.orders.get_mut(&id).unwrap_or_else(|| panic!("no order {order_gid}"));
        o.updated_at = at;
    }

    /// Every order of the shop (whatever the 60-day window), oldest first.
    pub fn orders(&self) -> Vec<OrderInfo> {
        let s = self.store();
        let mut list: Vec<OrderInfo> = s.orders.values().map(order_info).collect();
        list.sort_by_key(|o| (o.created_at, o.legacy_id));
        list
    }

    pub fn order(&self, order_gid: &str) -> Option<OrderInfo> {
        let id = parse_gid(order_gid, "Order")?;
        self.store().orders.get(&id).map(order_info)
    }

    /// Grants or revokes `read_all_orders` (orders older than 60 days).
    pub fn set_read_all_orders(&self, granted: bool) {
        self.store().read_all_orders = granted;
    }

    /// The client secret webhooks are signed with.
    pub fn client_secret(&self) -> String {
        lock(&self.inner.hooks.secret).clone()
    }

    /// Changes the client secret (e.g. a rotated secret): deliveries queued
    /// from then on are signed with it.
    pub fn set_client_secret(&self, secret: &str) {
        *lock(&self.inner.hooks.secret) = secret.to_owned();
    }

    /// Lost, duplicated and delayed webhook deliveries.
    pub fn webhook_faults(&self) -> &WebhookFaults {
        &self.inner.hooks.faults
    }

    /// Every delivery attempt so far, in the order they were made.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        lock(&self.inner.hooks.log).clone()
    }

    /// Deliveries queued and not finished (first attempts and retries).
    pub fn pending_webhooks(&self) -> usize {
        self.inner.hooks.pending.load(Ordering::SeqCst)
    }

    /// Waits until every queued delivery has finished (delivered, lost or
    /// out of retries); `false` if that takes longer than `timeout`.
    pub async fn wait_for_webhooks(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.pending_webhooks() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Queues the `topics` of an order change for every matching
    /// subscription, with the order as it is now (retries resend this
    /// snapshot). `removals` makes the `orders/edited` payload.
    fn emit_order(&self, order: u64, topics: &[&str], removals: Option<&[(u64, i64)]>) {
        let hooks = &self.inner.hooks;
        let mut s = self.store();
        let Some(o) = s.orders.get(&order).cloned() else {
            return;
        };
        let offset = hooks.utc_offset_minutes;
        let order_payload = webhooks::order_payload(&s, &o, offset);
        let secret = lock(&hooks.secret).clone();
        let mut edit_payload = None;
        for topic in topics {
            let subscriptions: Vec<store::Webhook> = s
                .webhooks
                .values()
                .filter(|w| webhooks::rest_topic(&w.topic) == *topic)
                .cloned()
                .collect();
            if subscriptions.is_empty() {
                continue;
            }
            let payload = if *topic == "orders/edited" {
                edit_payload
                    .get_or_insert_with(|| {
                        let edit = s.next_order_edit_id();
                        webhooks::order_edit_payload(edit, &o, removals.unwrap_or_default(), offset)
                    })
                    .clone()
            } else {
                order_payload.clone()
            };
            let event_id = webhooks::uuid();
            let triggered_at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
            for w in subscriptions {
                let body = webhooks::include_fields(&payload, &w.include_fields).to_string_json();
                let job = webhooks::Job {
                    topic: (*topic).to_owned(),
                    order_id: gid("Order", order),
                    subscription: w.id,
                    uri: w.uri.clone(),
                    hmac: webhooks::hmac_sha256_base64(secret.as_bytes(), body.as_bytes()),
                    body: Arc::new(body),
                    webhook_id: webhooks::uuid(),
                    event_id: event_id.clone(),
                    triggered_at: triggered_at.clone(),
                    api_version: hooks.api_version.clone(),
                    shop_domain: s.shop_domain.clone(),
                };
                hooks.pending.fetch_add(1, Ordering::SeqCst);
                if hooks.queue.send(job).is_err() {
                    hooks.pending.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
    }

    /// The product holding `sku` as JSON: `id`, `title`, `handle`, `vendor`,
    /// `productType`, `status`, `descriptionHtml`, `tags`, `options`
    /// (`name`, `values`), `variant` (this SKU's) / `variants` with `sku`,
    /// `price`, `compareAtPrice`, `barcode`, `selectedOptions`,
    /// `inventoryItem { id tracked requiresShipping weight levels }`, and
    /// `media` (`id`, `alt`, `source`, `status`).
    pub fn product_by_sku(&self, sku: &str) -> Option<serde_json::Value> {
        self.store().product_json(sku)
    }

    /// A product as [`product_by_sku`](Self::product_by_sku) describes it
    /// (`variant` is null), found by GID.
    pub fn product(&self, product_gid: &str) -> Option<serde_json::Value> {
        let id = parse_gid(product_gid, "Product")?;
        self.store().product_json_by_id(id, None)
    }

    /// Whether the product exists (false once deleted).
    pub fn product_exists(&self, product_gid: &str) -> bool {
        parse_gid(product_gid, "Product").is_some_and(|id| self.store().products.contains_key(&id))
    }

    /// An edit made in Shopify behind Tillbridge's back: sets (or with
    /// `None` clears) the `compareAtPrice` of the (first) variant with
    /// `sku`, normalised like the Money scalar, and bumps `updatedAt`.
    pub fn set_compare_at_price(&self, sku: &str, price: Option<&str>) {
        let mut s = self.store();
        let vid = s
            .variant_by_sku(sku)
            .unwrap_or_else(|| panic!("no variant has SKU {sku}"));
        let now = Utc::now();
        let product = s.variants.get_mut(&vid).map(|v| {
            v.compare_at_price = price.map(store::normalize_money);
            v.updated_at = now;
            v.product_id
        });
        if let Some(p) = product.and_then(|p| s.products.get_mut(&p)) {
            p.updated_at = now;
        }
    }

    /// The inventory item GID of the (first) variant with `sku`.
    pub fn inventory_item_id(&self, sku: &str) -> Option<String> {
        self.store().item_of_sku(sku).map(|i| gid("InventoryItem", i.id))
    }

    /// A product's `status` (`ACTIVE`, `DRAFT`, `ARCHIVED`...), `None` once
    /// deleted.
    pub fn product_status(&self, product_gid: &str) -> Option<String> {
        let id = parse_gid(product_gid, "Product")?;
        self.store().products.get(&id).map(|p| p.status.clone())
    }

    pub fn product_count(&self) -> usize {
        self.store().products.len()
    }

    pub fn variant_count(&self) -> usize {
        self.store().variants.len()
    }

    pub fn stats(&self) -> Stats {
        let mut stats = lock(&self.inner.stats).clone();
        let store = self.store();
        stats.stale_answers = store.stale_answers;
        stats.stale_log = store.stale_log.clone();
        stats.raises = store.raises;
        stats
    }

    pub fn applied_sets(&self) -> Vec<AppliedSet> {
        self.store().applied.clone()
    }

    pub fn webhook_subscriptions(&self) -> Vec<WebhookSubscriptionInfo> {
        self.store()
            .webhooks
            .values()
            .map(|w| WebhookSubscriptionInfo {
                id: gid("WebhookSubscription", w.id),
                topic: w.topic.clone(),
                uri: w.uri.clone(),
                format: w.format.clone(),
            })
            .collect()
    }

    /// Shopify refuses `http://` and internal addresses for webhooks; a test
    /// receiver on loopback needs this set to `true`.
    pub fn allow_loopback_webhooks(&self, allow: bool) {
        self.store().allow_loopback_webhooks = allow;
    }

    /// Whether the listener is currently accepting connections.
    pub fn is_listening(&self) -> bool {
        self.inner.listening.load(Ordering::SeqCst)
    }
}

fn order_info(o: &store::Order) -> OrderInfo {
    OrderInfo {
        id: gid("Order", o.id),
        legacy_id: o.id,
        name: o.name.clone(),
        created_at: o.created_at,
        updated_at: o.updated_at,
        cancelled_at: o.cancelled_at,
        location_id: gid("Location", o.location_id),
        lines: o
            .lines
            .iter()
            .map(|l| OrderLineInfo {
                id: gid("LineItem", l.id),
                sku: l.sku.clone(),
                quantity: l.quantity,
                current_quantity: l.current_quantity,
                variant_id: l.variant_id.map(|v| gid("ProductVariant", v)),
            })
            .collect(),
    }
}

async fn serve(inner: Arc<Inner>, listener: TcpListener, stop: watch::Receiver<bool>) {
    accept_loop(&inner, listener, stop).await;
    // Stopped: close the connections still open too.
    inner.listening.store(false, Ordering::SeqCst);
    inner.cut.send_modify(|n| *n += 1);
}

async fn accept_loop(inner: &Arc<Inner>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let mut down = inner.faults.down.subscribe();
    let mut listener = Some(listener);
    loop {
        if *stop.borrow() {
            return;
        }
        if *down.borrow_and_update() {
            listener = None;
            inner.listening.store(false, Ordering::SeqCst);
            inner.cut.send_modify(|n| *n += 1);
            tokio::select! {
                r = down.changed() => if r.is_err() { return },
                _ = stop.changed() => return,
            }
            continue;
        }
        let l = match listener.take() {
            Some(l) => l,
            None => {
                // Listen again on the same port.
                let mut tries = 0;
                loop {
                    match TcpListener::bind(inner.addr).await {
                        Ok(l) => break l,
                        Err(_) if tries < 100 => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Err(e) => panic!("cannot listen again on {}: {e}", inner.addr),
                    }
                }
            }
        };
        inner.listening.store(true, Ordering::SeqCst);
        loop {
            tokio::select! {
                accepted = l.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(connection(inner.clone(), stream));
                    }
                }
                r = down.changed() => {
                    if r.is_err() { return }
                    break;
                }
                _ = stop.changed() => return,
            }
        }
        // Went down: `l` is dropped at the top of the loop.
        drop(l);
    }
}

async fn connection(inner: Arc<Inner>, stream: tokio::net::TcpStream) {
    let kill = Arc::new(Notify::new());
    let mut cut = inner.cut.subscribe();
    let svc_inner = inner.clone();
    let svc_kill = kill.clone();
    let service = hyper::service::service_fn(move |req| {
        let inner = svc_inner.clone();
        let kill = svc_kill.clone();
        async move { Ok::<_, Infallible>(handle(inner, kill, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = cut.changed() => {}
    }
}

fn response(status: StatusCode, body: String, version: Option<&str>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8");
    if let Some(v) = version {
        builder = builder.header("x-shopify-api-version", v);
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"{}"))))
}

/// Closes the connection without an answer: the connection task is told to
/// stop, and this request never completes.
async fn drop_connection(inner: &Inner, kill: &Notify) -> Response<Full<Bytes>> {
    lock(&inner.stats).dropped += 1;
    kill.notify_one();
    std::future::pending::<()>().await;
    response(StatusCode::INTERNAL_SERVER_ERROR, String::new(), None)
}

async fn handle(inner: Arc<Inner>, kill: Arc<Notify>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if inner.faults.is_down() {
        kill.notify_one();
        std::future::pending::<()>().await;
    }
    let path = req.uri().path().to_owned();
    if req.method() == hyper::Method::GET && path.starts_with("/s/files/") {
        return media::serve_file(&inner, &path);
    }
    let version = path
        .strip_prefix("/admin/api/")
        .and_then(|rest| rest.strip_suffix("/graphql.json"))
        .map(str::to_owned);
    let Some(version) = version.filter(|v| schema::for_version(v).is_some()) else {
        return response(StatusCode::NOT_FOUND, r#"{"errors":"Not Found"}"#.to_owned(), None);
    };
    if req.method() != hyper::Method::POST {
        return response(StatusCode::NOT_FOUND, r#"{"errors":"Not Found"}"#.to_owned(), None);
    }
    let token_ok = req
        .headers()
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        == Some(inner.token.as_str());
    if !token_ok {
        lock(&inner.stats).unauthorized += 1;
        return response(StatusCode::UNAUTHORIZED, INVALID_TOKEN.to_owned(), None);
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return response(StatusCode::BAD_REQUEST, String::new(), None),
    };
    lock(&inner.stats).requests += 1;
    let f = &inner.faults;
    if Faults::take(&f.drop_next) || Faults::roll(&f.drop_rate) {
        return drop_connection(&inner, &kill).await;
    }
    if Faults::take(&f.fail_next) || Faults::roll(&f.error_rate) {
        lock(&inner.stats).injected_errors += 1;
        return response(
            StatusCode::INTERNAL_SERVER_ERROR,
            UNEXPECTED_ERROR.to_owned(),
            Some(&version),
        );
    }
    let (status, answer) = process(&inner, &version, &body);
    media::spawn_pending(&inner);
    if Faults::take(&f.drop_after_apply_next) || Faults::roll(&f.drop_after_apply_rate) {
        return drop_connection(&inner, &kill).await;
    }
    let delay = f.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    response(status, answer, Some(&version))
}

fn errors_only(errors: Vec<OVal>) -> String {
    OVal::Obj(vec![("errors".to_owned(), OVal::List(errors))]).to_string_json()
}

fn cost_extension(requested: f64, actual: Option<f64>, bucket: &Bucket) -> OVal {
    OVal::obj([(
        "cost",
        OVal::obj([
            ("requestedQueryCost", OVal::number(requested.ceil())),
            ("actualQueryCost", actual.map_or(OVal::Null, |a| OVal::number(a.ceil()))),
            ("throttleStatus", bucket.status()),
        ]),
    )])
}

/// Turns graphql-parser's message into graphql-ruby's
/// `syntax error, unexpected X at [line, column]`.
fn parse_error(message: &str) -> OVal {
    let (line, column) = message
        .split("at ")
        .nth(1)
        .and_then(|rest| {
            let pos: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == ':').collect();
            let (l, c) = pos.split_once(':')?;
            Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?))
        })
        .unwrap_or((1, 1));
    let unexpected = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("Unexpected "))
        .map(|u| ruby_token(u.trim_matches('`')))
        .unwrap_or_else(|| "end of file".to_owned());
    let pos = graphql_parser::Pos { line, column };
    gql_error(
        format!("syntax error, unexpected {unexpected} at [{line}, {column}]"),
        &[pos],
        None,
        OVal::obj([("code", OVal::str("PARSE_ERROR"))]),
    )
}

/// graphql-parser's `value[Kind]` token as graphql-ruby names it, e.g.
/// `RCURLY ("}")` or `IDENTIFIER ("shop")`.
fn ruby_token(token: &str) -> String {
    let Some((value, kind)) = token.strip_suffix(']').and_then(|t| t.rsplit_once('[')) else {
        return "end of file".to_owned();
    };
    let name = match (kind, value) {
        ("Punctuator", "{") => "LCURLY",
        ("Punctuator", "}") => "RCURLY",
        ("Punctuator", "(") => "LPAREN",
        ("Punctuator", ")") => "RPAREN",
        ("Punctuator", "[") => "LBRACKET",
        ("Punctuator", "]") => "RBRACKET",
        ("Punctuator", ":") => "COLON",
        ("Punctuator", "$") => "VAR_SIGN",
        ("Punctuator", "!") => "BANG",
        ("Punctuator", "=") => "EQUALS",
        ("Punctuator", "@") => "DIR_SIGN",
        ("Punctuator", "...") => "ELLIPSIS",
        ("Punctuator", "|") => "PIPE",
        ("Punctuator", "&") => "AMP",
        ("Name", _) => "IDENTIFIER",
        ("IntValue", _) => "INT",
        ("FloatValue", _) => "FLOAT",
        ("StringValue" | "BlockString", _) => "STRING",
        _ => "UNKNOWN_CHAR",
    };
    format!("{name} ({value:?})")
}

/// Handles one GraphQL request body; returns the HTTP status and JSON.
fn process(inner: &Inner, version: &str, body: &[u8]) -> (StatusCode, String) {
    let Some(schema) = schema::for_version(version) else {
        return (StatusCode::NOT_FOUND, r#"{"errors":"Not Found"}"#.to_owned());
    };
    let request: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                r#"{"errors":{"query":"Required parameter missing or invalid"}}"#.to_owned(),
            );
        }
    };
    let Some(query) = request.get("query").and_then(|q| q.as_str()) else {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"errors":{"query":"Required parameter missing or invalid"}}"#.to_owned(),
        );
    };
    let empty = serde_json::Map::new();
    let provided = request.get("variables").and_then(|v| v.as_object()).unwrap_or(&empty);
    let operation_name = request.get("operationName").and_then(|v| v.as_str());

    let doc = match graphql_parser::parse_query::<&str>(query) {
        Ok(d) => d,
        Err(e) => return (StatusCode::OK, errors_only(vec![parse_error(&e.to_string())])),
    };
    let mut fragments: validate::Fragments<'_> = HashMap::new();
    let mut operations = Vec::new();
    for def in &doc.definitions {
        match def {
            Definition::Fragment(f) => {
                fragments.insert(f.name, f);
            }
            Definition::Operation(op) => operations.push(op),
        }
    }
    fn op_name<'a>(op: &OperationDefinition<'a, &'a str>) -> Option<&'a str> {
        match op {
            OperationDefinition::Query(q) => q.name,
            OperationDefinition::Mutation(m) => m.name,
            OperationDefinition::Subscription(s) => s.name,
            OperationDefinition::SelectionSet(_) => None,
        }
    }
    let op = match operation_name {
        Some(name) => operations.iter().find(|op| op_name(op) == Some(name)).copied(),
        None if operations.len() == 1 => operations.first().copied(),
        None => {
            return (
                StatusCode::OK,
                errors_only(vec![gql_error(
                    "An operation name is required",
                    &[],
                    None,
                    OVal::obj([("code", OVal::str("OPERATION_NAME_REQUIRED"))]),
                )]),
            );
        }
    };
    let Some(op) = op else {
        return (
            StatusCode::OK,
            errors_only(vec![gql_error(
                format!("No operation named \"{}\"", operation_name.unwrap_or_default()),
                &[],
                None,
                OVal::obj([("code", OVal::str("OPERATION_NOT_FOUND"))]),
            )]),
        );
    };
    let (is_mutation, name, var_defs, set) = match op {
        OperationDefinition::Query(q) => (false, q.name, &q.variable_definitions[..], &q.selection_set),
        OperationDefinition::Mutation(m) => (true, m.name, &m.variable_definitions[..], &m.selection_set),
        OperationDefinition::SelectionSet(s) => (false, None, &[][..], s),
        OperationDefinition::Subscription(s) => {
            return (
                StatusCode::OK,
                errors_only(vec![gql_error(
                    "Subscriptions are not supported",
                    &[s.position],
                    None,
                    OVal::obj([("code", OVal::str("BAD_REQUEST"))]),
                )]),
            );
        }
    };
    let kind = if is_mutation { "mutation" } else { "query" };
    let head = match name {
        Some(n) => format!("{kind} {n}"),
        None => kind.to_owned(),
    };
    let root = if is_mutation { "Mutation" } else { "QueryRoot" };

    // Static validation.
    let declared: Vec<(&str, graphql_parser::Pos)> = var_defs.iter().map(|d| (d.name, d.position)).collect();
    let mut validator = validate::Validator::new(schema, &fragments);
    validator.operation(head, root, set, &declared);
    if !validator.errors.is_empty() {
        return (StatusCode::OK, errors_only(validator.errors));
    }
    for d in var_defs {
        let ty = schema::TypeRef::from_query_ast(&d.var_type);
        if !schema.types.contains_key(ty.named()) {
            return (
                StatusCode::OK,
                errors_only(vec![gql_error(
                    format!("{} isn't a defined input type (on ${})", ty.display(), d.name),
                    &[d.position],
                    None,
                    OVal::obj([
                        ("code", OVal::str("variableRequiresValidType")),
                        ("typeName", OVal::str(ty.named())),
                        ("variableName", OVal::str(d.name)),
                    ]),
                )]),
            );
        }
    }
    let vars = match input::coerce_variables(var_defs, provided, schema) {
        Ok(v) => v,
        Err(errors) => return (StatusCode::OK, errors_only(errors)),
    };

    // Cost and the bucket.
    let coster = cost::Coster {
        schema,
        fragments: &fragments,
        vars: &vars,
    };
    let requested = coster.operation(is_mutation, root, set).ceil();
    let mut bucket = lock(&inner.faults.bucket);
    bucket.refill(Instant::now());
    if requested > 1000.0 {
        let status = cost_extension(requested, None, &bucket);
        drop(bucket);
        let error = gql_error(
            format!(
                "Query cost is {requested}, which exceeds the single query max cost limit (1000).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
            ),
            &[],
            None,
            OVal::obj([
                ("code", OVal::str("MAX_COST_EXCEEDED")),
                ("cost", OVal::number(requested)),
                ("maxCost", OVal::Int(1000)),
                ("documentation", OVal::str("https://shopify.dev/api/usage/rate-limits")),
            ]),
        );
        let body = OVal::Obj(vec![
            ("errors".to_owned(), OVal::List(vec![error])),
            ("extensions".to_owned(), status),
        ]);
        return (StatusCode::OK, body.to_string_json());
    }
    if requested > bucket.available {
        let ext = cost_extension(requested, None, &bucket);
        drop(bucket);
        lock(&inner.stats).throttled += 1;
        let error = gql_error(
            "Throttled",
            &[],
            None,
            OVal::obj([
                ("code", OVal::str("THROTTLED")),
                ("documentation", OVal::str("https://shopify.dev/api/usage/rate-limits")),
            ]),
        );
        let body = OVal::Obj(vec![
            ("errors".to_owned(), OVal::List(vec![error])),
            ("extensions".to_owned(), ext),
        ]);
        return (StatusCode::OK, body.to_string_json());
    }
    bucket.available -= requested;
    drop(bucket);

    // Input arrays over Shopify's limits: charged, nothing runs.
    let root_fields = exec::collect_fields(schema, root, set, &fragments, &vars);
    for (_, fs) in &root_fields {
        let f = fs[0];
        let Some(def) = schema.field(root, f.name) else {
            continue;
        };
        let args = input::field_args(f, def, &vars, schema);
        if let Some((path, len, limit)) = input::oversized_array(f.name, &args) {
            let mut p = vec![OVal::str(f.name)];
            p.extend(path.into_iter().map(OVal::Str));
            let error = gql_error(
                format!("The input array size of {len} is greater than the maximum allowed of {limit}."),
                &[f.position],
                Some(p),
                OVal::obj([("code", OVal::str("MAX_INPUT_SIZE_EXCEEDED"))]),
            );
            let bucket = lock(&inner.faults.bucket);
            let body = OVal::Obj(vec![
                ("errors".to_owned(), OVal::List(vec![error])),
                ("extensions".to_owned(), cost_extension(requested, None, &bucket)),
            ]);
            return (StatusCode::OK, body.to_string_json());
        }
    }

    // Execute.
    let mut store = lock(&inner.store);
    let mut ex = exec::Exec {
        store: &mut store,
        schema,
        vars: &vars,
        fragments: &fragments,
        variable_positions: var_defs.iter().map(|d| (d.name.to_owned(), d.position)).collect(),
        errors: Vec::new(),
        calls: Vec::new(),
        replays: 0,
        applied_mutation: false,
    };
    let (data, actual) = if is_mutation { ex.mutation(set) } else { ex.query(set) };
    let errors = std::mem::take(&mut ex.errors);
    let calls = std::mem::take(&mut ex.calls);
    let ran_set_quantities = calls.iter().any(|c| c == "inventorySetQuantities");
    let replays = ex.replays;
    drop(store);
    {
        let mut stats = lock(&inner.stats);
        for c in calls {
            *stats.calls.entry(c.clone()).or_default() += 1;
            stats.call_log.push(c);
        }
        stats.idempotent_replays += replays;
        if ran_set_quantities {
            stats.last_cost = Some(actual.ceil().min(requested));
        }
    }
    let actual = actual.ceil().min(requested);
    let mut bucket = lock(&inner.faults.bucket);
    bucket.refill(Instant::now());
    bucket.available = (bucket.available + (requested - actual)).min(bucket.max);
    let ext = cost_extension(requested, Some(actual), &bucket);
    drop(bucket);
    let mut body = OVal::Obj(Vec::new());
    if !errors.is_empty() {
        body.push("errors", OVal::List(errors));
    }
    body.push("data", data);
    body.push("extensions", ext);
    (StatusCode::OK, body.to_string_json())
}
