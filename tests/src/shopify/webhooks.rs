//! Webhook delivery, as shopify.dev describes it
//! (`docs/apps/build/webhooks/delivery-structure`, `…/verify-deliveries`,
//! `…/ignore-duplicates`, the changelog `updates-to-webhook-retry-mechanism`):
//!
//! - an HTTP POST of the REST-shaped resource as JSON, to each subscription of
//!   the topic (`include_fields` keeps only the named top-level fields);
//! - headers `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256` (base64 of the
//!   HMAC-SHA256 of the raw body keyed with the app's client secret),
//!   `X-Shopify-Shop-Domain`, `X-Shopify-API-Version`, `X-Shopify-Webhook-Id`
//!   (one per delivery, the same on a retry or a duplicate),
//!   `X-Shopify-Event-Id` (one per event, the same for every subscription it
//!   is delivered to and on a duplicate) and `X-Shopify-Triggered-At`;
//! - a delivery succeeds on a 2xx within the timeout (Shopify: 5 s);
//!   otherwise it is retried with exponential backoff (Shopify: 8 retries
//!   over 4 hours, here a configurable, much shorter schedule), each retry
//!   carrying the original payload and `Triggered-At` to the address the
//!   subscription had when the event was triggered; after the last failed
//!   retry a subscription made through the Admin API is deleted.
//!
//! Deliveries leave in the order their events happened (one at a time, each
//! first attempt awaited); retries and faulted (delayed) deliveries run on
//! their own, so they can arrive out of order, as on Shopify.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, FixedOffset, Utc};
use rand::Rng;
use tokio::sync::{mpsc, watch};

use super::json::OVal;
use super::store::{Order, Store, gid};

/// How deliveries are attempted and retried.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// A delivery not answered 2xx within this time failed (Shopify: 5 s).
    pub timeout: Duration,
    /// Time allowed to open the connection (Shopify: 1 s).
    pub connect_timeout: Duration,
    /// Retries after a failed first attempt (Shopify: 8).
    pub retries: u32,
    /// Wait before the first retry; doubled for each following one
    /// (Shopify spreads its 8 retries over 4 hours).
    pub backoff: Duration,
    /// The longest wait between two retries.
    pub max_backoff: Duration,
    /// Delete a subscription whose delivery failed every retry (Shopify does
    /// for subscriptions made through the Admin API).
    pub delete_failing_subscriptions: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
            retries: 8,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            delete_failing_subscriptions: true,
        }
    }
}

impl WebhookSettings {
    /// The wait before retry `n` (1-based).
    pub fn backoff_before(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// What became of one attempt to deliver a webhook.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The receiver answered with this HTTP status (2xx is a success).
    Answered(u16),
    /// No answer within the timeout.
    TimedOut,
    /// The connection failed (refused, reset, no TLS for `https://`...).
    Failed(String),
    /// Never sent: lost by the `lose_next` fault.
    Lost,
    /// Never sent: the address is on loopback and loopback webhooks are not
    /// allowed (see `ShopifyTestServer::allow_loopback_webhooks`).
    Refused,
}

/// One attempt to deliver a webhook, in the order attempts were made.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// `orders/create`, `orders/updated`, `orders/cancelled`, `orders/edited`.
    pub topic: String,
    /// The order's GID.
    pub order_id: String,
    /// The subscription's GID.
    pub subscription_id: String,
    pub uri: String,
    /// `X-Shopify-Webhook-Id`: the same on every retry and duplicate.
    pub webhook_id: String,
    /// `X-Shopify-Event-Id`.
    pub event_id: String,
    /// `X-Shopify-Triggered-At`.
    pub triggered_at: String,
    /// 1 for the first attempt, 2 for the first retry...
    pub attempt: u32,
    /// Sent a second time by the `duplicate_next` fault.
    pub duplicate: bool,
    pub outcome: DeliveryOutcome,
    /// The raw JSON body (what the HMAC covers).
    pub body: String,
    pub at: Instant,
}

impl WebhookDelivery {
    /// The HTTP status answered, if any.
    pub fn status(&self) -> Option<u16> {
        match self.outcome {
            DeliveryOutcome::Answered(s) => Some(s),
            _ => None,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }

    /// Whether a request was actually sent.
    pub fn sent(&self) -> bool {
        !matches!(self.outcome, DeliveryOutcome::Lost | DeliveryOutcome::Refused)
    }
}

/// Switches for webhook delivery faults, effective for the deliveries
/// queued from then on.
#[derive(Default)]
pub struct WebhookFaults {
    lose_next: AtomicU32,
    /// Share of deliveries lost, as f64 bits.
    lose_rate: AtomicU64,
    duplicate_next: AtomicU32,
    delay_next: AtomicU32,
    delay_ms: AtomicU64,
}

impl WebhookFaults {
    /// The next `n` deliveries are never sent (logged as `Lost`), and never
    /// retried: Shopify's delivery is at-least-once in principle, but a
    /// connector must survive a webhook that never comes.
    pub fn lose_next(&self, n: u32) {
        self.lose_next.store(n, Ordering::SeqCst);
    }

    /// Share (0.0..=1.0) of deliveries lost like [`lose_next`](Self::lose_next)'s.
    pub fn set_lose_rate(&self, rate: f64) {
        self.lose_rate.store(rate.clamp(0.0, 1.0).to_bits(), Ordering::SeqCst);
    }

    fn lose_this_one(&self) -> bool {
        let rate = f64::from_bits(self.lose_rate.load(Ordering::SeqCst));
        Self::take(&self.lose_next) || (rate > 0.0 && rand::thread_rng().r#gen::<f64>() < rate)
    }

    /// The next `n` deliveries are sent twice, with the same webhook id,
    /// event id, body and signature.
    pub fn duplicate_next(&self, n: u32) {
        self.duplicate_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` deliveries are held back for `delay` while the ones
    /// after them go out: e.g. `orders/create` arrives after
    /// `orders/updated` of the same order.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
        self.delay_next.store(n, Ordering::SeqCst);
    }

    fn take(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// One webhook to deliver to one subscription.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub topic: String,
    pub order_id: String,
    pub subscription: u64,
    pub uri: String,
    pub body: Arc<String>,
    pub hmac: String,
    pub webhook_id: String,
    pub event_id: String,
    pub triggered_at: String,
    pub api_version: String,
    pub shop_domain: String,
}

/// The delivery side of a test shop.
pub(super) struct Hooks {
    pub settings: WebhookSettings,
    pub faults: WebhookFaults,
    pub log: Mutex<Vec<WebhookDelivery>>,
    /// Deliveries queued and not yet finished (retries included).
    pub pending: AtomicUsize,
    pub secret: Mutex<String>,
    pub api_version: String,
    pub utc_offset_minutes: i32,
    pub queue: mpsc::UnboundedSender<Job>,
    client: reqwest::Client,
}

impl Hooks {
    pub fn new(
        settings: WebhookSettings,
        secret: String,
        api_version: String,
        utc_offset_minutes: i32,
    ) -> (Hooks, mpsc::UnboundedReceiver<Job>) {
        let (queue, rx) = mpsc::unbounded_channel();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a webhook HTTP client");
        (
            Hooks {
                settings,
                faults: WebhookFaults::default(),
                log: Mutex::new(Vec::new()),
                pending: AtomicUsize::new(0),
                secret: Mutex::new(secret),
                api_version,
                utc_offset_minutes,
                queue,
                client,
            },
            rx,
        )
    }

    fn record(&self, job: &Job, attempt: u32, duplicate: bool, outcome: DeliveryOutcome) {
        super::lock(&self.log).push(WebhookDelivery {
            topic: job.topic.clone(),
            order_id: job.order_id.clone(),
            subscription_id: gid("WebhookSubscription", job.subscription),
            uri: job.uri.clone(),
            webhook_id: job.webhook_id.clone(),
            event_id: job.event_id.clone(),
            triggered_at: job.triggered_at.clone(),
            attempt,
            duplicate,
            outcome,
            body: (*job.body).clone(),
            at: Instant::now(),
        });
    }

    /// Sends one attempt.
    async fn attempt(&self, job: &Job) -> DeliveryOutcome {
        let request = self
            .client
            .post(&job.uri)
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", &job.topic)
            .header("X-Shopify-Hmac-Sha256", &job.hmac)
            .header("X-Shopify-Shop-Domain", &job.shop_domain)
            .header("X-Shopify-API-Version", &job.api_version)
            .header("X-Shopify-Webhook-Id", &job.webhook_id)
            .header("X-Shopify-Event-Id", &job.event_id)
            .header("X-Shopify-Triggered-At", &job.triggered_at)
            .body((*job.body).clone());
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                // The answer must arrive whole within the timeout too.
                match response.bytes().await {
                    Ok(_) => DeliveryOutcome::Answered(status),
                    Err(e) if e.is_timeout() => DeliveryOutcome::TimedOut,
                    Err(_) => DeliveryOutcome::Answered(status),
                }
            }
            Err(e) if e.is_timeout() => DeliveryOutcome::TimedOut,
            Err(e) => DeliveryOutcome::Failed(e.to_string()),
        }
    }
}

fn success(outcome: &DeliveryOutcome) -> bool {
    matches!(outcome, DeliveryOutcome::Answered(s) if (200..300).contains(s))
}

/// The delivery worker: takes jobs in order until the server stops.
pub(super) async fn run(
    inner: Arc<super::Inner>,
    mut rx: mpsc::UnboundedReceiver<Job>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let job = tokio::select! {
            job = rx.recv() => match job {
                Some(j) => j,
                None => return,
            },
            _ = stop.changed() => return,
        };
        let hooks = &inner.hooks;
        if hooks.faults.lose_this_one() {
            hooks.record(&job, 1, false, DeliveryOutcome::Lost);
            hooks.pending.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let duplicate = WebhookFaults::take(&hooks.faults.duplicate_next);
        if WebhookFaults::take(&hooks.faults.delay_next) {
            let delay = Duration::from_millis(hooks.faults.delay_ms.load(Ordering::SeqCst));
            let inner = inner.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                deliver(inner, job, duplicate).await;
            });
            continue;
        }
        deliver(inner.clone(), job, duplicate).await;
    }
}

/// The first attempt (and the duplicate); retries continue in their own task.
async fn deliver(inner: Arc<super::Inner>, job: Job, duplicate: bool) {
    let hooks = &inner.hooks;
    if !loopback_allowed(&inner, &job.uri) {
        hooks.record(&job, 1, false, DeliveryOutcome::Refused);
        hooks.pending.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let outcome = hooks.attempt(&job).await;
    let ok = success(&outcome);
    hooks.record(&job, 1, false, outcome);
    if duplicate {
        let again = hooks.attempt(&job).await;
        hooks.record(&job, 1, true, again);
    }
    if ok {
        hooks.pending.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    tokio::spawn(retry(inner.clone(), job));
}

async fn retry(inner: Arc<super::Inner>, job: Job) {
    let hooks = &inner.hooks;
    for n in 1..=hooks.settings.retries {
        tokio::time::sleep(hooks.settings.backoff_before(n)).await;
        if !loopback_allowed(&inner, &job.uri) {
            hooks.record(&job, n + 1, false, DeliveryOutcome::Refused);
            hooks.pending.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let outcome = hooks.attempt(&job).await;
        let ok = success(&outcome);
        hooks.record(&job, n + 1, false, outcome);
        if ok {
            hooks.pending.fetch_sub(1, Ordering::SeqCst);
            return;
        }
    }
    if hooks.settings.delete_failing_subscriptions {
        super::lock(&inner.store).webhooks.remove(&job.subscription);
    }
    hooks.pending.fetch_sub(1, Ordering::SeqCst);
}

fn loopback_allowed(inner: &super::Inner, uri: &str) -> bool {
    !is_loopback(uri) || super::lock(&inner.store).allow_loopback_webhooks
}

/// Whether a URI's host is a loopback address.
pub fn is_loopback(uri: &str) -> bool {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let name = if host.starts_with('[') {
        host.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default().to_owned()
    };
    matches!(name.as_str(), "localhost" | "[::1]") || name.starts_with("127.")
}

/// The REST topic (`orders/create`) of a `WebhookSubscriptionTopic` value.
pub fn rest_topic(graphql_topic: &str) -> String {
    const PREFIXES: [&str; 7] = [
        "INVENTORY_ITEMS",
        "INVENTORY_LEVELS",
        "LOCATIONS",
        "ORDERS",
        "PRODUCTS",
        "REFUNDS",
        "SHOP",
    ];
    for p in PREFIXES {
        if let Some(rest) = graphql_topic.strip_prefix(p).and_then(|r| r.strip_prefix('_')) {
            return format!("{}/{}", p.to_lowercase(), rest.to_lowercase());
        }
    }
    match graphql_topic.split_once('_') {
        Some((a, b)) => format!("{}/{}", a.to_lowercase(), b.to_lowercase()),
        None => graphql_topic.to_lowercase(),
    }
}

/// A random version-4 UUID, the form of Shopify's webhook and event ids.
pub fn uuid() -> String {
    let mut b: [u8; 16] = rand::thread_rng().r#gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A REST timestamp in the shop's time zone: `2026-11-25T03:00:00-05:00`.
pub fn rest_time(t: &DateTime<Utc>, utc_offset_minutes: i32) -> String {
    let offset =
        FixedOffset::east_opt(utc_offset_minutes * 60).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    t.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn money_set(amount: &str, currency: &str) -> OVal {
    let money = || OVal::obj([("amount", OVal::str(amount)), ("currency_code", OVal::str(currency))]);
    OVal::obj([("shop_money", money()), ("presentment_money", money())])
}

fn opt_time(t: &Option<DateTime<Utc>>, offset: i32) -> OVal {
    t.as_ref().map_or(OVal::Null, |t| OVal::Str(rest_time(t, offset)))
}

/// The REST order resource, as the `orders/*` topics carry it (the fields of
/// Shopify's payload that this shop models; money in the shop currency).
pub fn order_payload(store: &Store, o: &Order, offset: i32) -> OVal {
    let currency = store.currency;
    let total = o.total();
    let current = o.current_total();
    let financial_status = if o.cancelled_at.is_some() { "voided" } else { "paid" };
    let lines: Vec<OVal> = o
        .lines
        .iter()
        .map(|l| {
            let product_exists = l.product_id.is_some_and(|p| store.products.contains_key(&p));
            OVal::obj([
                ("id", OVal::Int(l.id as i64)),
                ("admin_graphql_api_id", OVal::Str(gid("LineItem", l.id))),
                ("current_quantity", OVal::Int(l.current_quantity)),
                ("fulfillable_quantity", OVal::Int(l.current_quantity)),
                ("fulfillment_service", OVal::str("manual")),
                ("fulfillment_status", OVal::Null),
                ("gift_card", OVal::Bool(false)),
                ("grams", OVal::Int(0)),
                ("name", OVal::Str(l.name.clone())),
                ("price", OVal::Str(l.price.clone())),
                ("price_set", money_set(&l.price, currency)),
                ("product_exists", OVal::Bool(product_exists)),
                ("product_id", l.product_id.map_or(OVal::Null, |p| OVal::Int(p as i64))),
                ("properties", OVal::List(Vec::new())),
                ("quantity", OVal::Int(l.quantity)),
                ("requires_shipping", OVal::Bool(true)),
                ("sku", l.sku.clone().map_or(OVal::Null, OVal::Str)),
                ("taxable", OVal::Bool(true)),
                ("title", OVal::Str(l.title.clone())),
                ("total_discount", OVal::str("0.00")),
                ("total_discount_set", money_set("0.00", currency)),
                ("variant_id", l.variant_id.map_or(OVal::Null, |v| OVal::Int(v as i64))),
                ("variant_inventory_management", OVal::str("shopify")),
                ("variant_title", l.variant_title.clone().map_or(OVal::Null, OVal::Str)),
                ("vendor", OVal::Str(l.vendor.clone())),
                ("tax_lines", OVal::List(Vec::new())),
                ("duties", OVal::List(Vec::new())),
                ("discount_allocations", OVal::List(Vec::new())),
            ])
        })
        .collect();
    OVal::obj([
        ("id", OVal::Int(o.id as i64)),
        ("admin_graphql_api_id", OVal::Str(gid("Order", o.id))),
        ("app_id", OVal::Null),
        ("buyer_accepts_marketing", OVal::Bool(false)),
        ("cancel_reason", o.cancel_reason.clone().map_or(OVal::Null, OVal::Str)),
        ("cancelled_at", opt_time(&o.cancelled_at, offset)),
        ("closed_at", OVal::Null),
        ("confirmed", OVal::Bool(true)),
        ("contact_email", OVal::Null),
        ("created_at", OVal::Str(rest_time(&o.created_at, offset))),
        ("currency", OVal::str(currency)),
        ("current_subtotal_price", OVal::Str(current.clone())),
        ("current_subtotal_price_set", money_set(&current, currency)),
        ("current_total_discounts", OVal::str("0.00")),
        ("current_total_price", OVal::Str(current.clone())),
        ("current_total_price_set", money_set(&current, currency)),
        ("current_total_tax", OVal::str("0.00")),
        ("email", OVal::str("")),
        ("financial_status", OVal::str(financial_status)),
        ("fulfillment_status", OVal::Null),
        ("location_id", OVal::Int(o.location_id as i64)),
        ("name", OVal::Str(o.name.clone())),
        ("note", OVal::Null),
        ("number", OVal::Int(o.number as i64 - 1000)),
        ("order_number", OVal::Int(o.number as i64)),
        ("presentment_currency", OVal::str(currency)),
        ("processed_at", OVal::Str(rest_time(&o.created_at, offset))),
        ("source_name", OVal::str("web")),
        ("subtotal_price", OVal::Str(total.clone())),
        ("subtotal_price_set", money_set(&total, currency)),
        ("tags", OVal::str("")),
        ("taxes_included", OVal::Bool(false)),
        ("test", OVal::Bool(false)),
        ("total_discounts", OVal::str("0.00")),
        ("total_line_items_price", OVal::Str(total.clone())),
        ("total_line_items_price_set", money_set(&total, currency)),
        ("total_price", OVal::Str(total.clone())),
        ("total_price_set", money_set(&total, currency)),
        ("total_tax", OVal::str("0.00")),
        ("updated_at", OVal::Str(rest_time(&o.updated_at, offset))),
        ("line_items", OVal::List(lines)),
        ("fulfillments", OVal::List(Vec::new())),
        ("refunds", OVal::List(Vec::new())),
        ("shipping_lines", OVal::List(Vec::new())),
    ])
}

/// The `orders/edited` payload: the committed order edit, with the line
/// items it removed (`{id, delta}`).
pub fn order_edit_payload(edit_id: u64, o: &Order, removals: &[(u64, i64)], offset: i32) -> OVal {
    let now = rest_time(&o.updated_at, offset);
    let changes =
        |removed: Vec<OVal>| OVal::obj([("additions", OVal::List(Vec::new())), ("removals", OVal::List(removed))]);
    OVal::obj([(
        "order_edit",
        OVal::obj([
            ("id", OVal::Int(edit_id as i64)),
            ("app_id", OVal::Null),
            ("created_at", OVal::Str(now.clone())),
            ("committed_at", OVal::Str(now)),
            ("notify_customer", OVal::Bool(false)),
            ("order_id", OVal::Int(o.id as i64)),
            ("staff_note", OVal::str("")),
            ("user_id", OVal::Null),
            (
                "line_items",
                changes(
                    removals
                        .iter()
                        .map(|(id, delta)| OVal::obj([("id", OVal::Int(*id as i64)), ("delta", OVal::Int(*delta))]))
                        .collect(),
                ),
            ),
            (
                "discounts",
                OVal::obj([("line_item", changes(Vec::new())), ("order", changes(Vec::new()))]),
            ),
            ("shipping_lines", changes(Vec::new())),
        ]),
    )])
}

/// Keeps only the listed top-level fields (a subscription's `includeFields`).
pub fn include_fields(payload: &OVal, fields: &[String]) -> OVal {
    match payload {
        OVal::Obj(pairs) if !fields.is_empty() => OVal::Obj(
            pairs
                .iter()
                .filter(|(k, _)| fields.iter().any(|f| f == k))
                .cloned()
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `X-Shopify-Hmac-Sha256`: base64 of HMAC-SHA256(body) keyed with the
/// app's client secret.
pub fn hmac_sha256_base64(secret: &[u8], body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret, body))
}

/// HMAC-SHA256 (RFC 2104 over FIPS 180-4 SHA-256).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&sha256(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Vec::with_capacity(BLOCK + message.len());
    inner.extend(k.iter().map(|b| b ^ 0x36));
    inner.extend_from_slice(message);
    let inner_hash = sha256(&inner);
    let mut outer = Vec::with_capacity(BLOCK + 32);
    outer.extend(k.iter().map(|b| b ^ 0x5c));
    outer.extend_from_slice(&inner_hash);
    sha256(&outer)
}

/// SHA-256 (FIPS 180-4).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn sha256_and_hmac_match_the_published_vectors() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 4231 test cases 2 and 6 (a key longer than a block).
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn topics_map_to_their_rest_names() {
        assert_eq!(rest_topic("ORDERS_CREATE"), "orders/create");
        assert_eq!(rest_topic("ORDERS_PARTIALLY_FULFILLED"), "orders/partially_fulfilled");
        assert_eq!(rest_topic("INVENTORY_LEVELS_UPDATE"), "inventory_levels/update");
        assert!(is_loopback("http://127.0.0.1:9/hook"));
        assert!(is_loopback("http://localhost/x"));
        assert!(!is_loopback("https://hooks.example.com/x"));
    }
}
