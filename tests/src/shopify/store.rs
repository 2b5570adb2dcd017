//! The shop's state: locations, products, variants, inventory items and
//! levels, product media, adjustment groups, orders and webhook
//! subscriptions, indexed by
//! numeric id (GID tail) and by SKU so that large catalogues stay fast.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::AppliedSet;
use super::json::OVal;
use super::media::{MediaImage, MediaJob};

/// Numeric ranges per resource, so that ids of different kinds never
/// coincide (a connector that mixes up a variant id and an inventory item id
/// fails here as it would on Shopify) and exceed 32 bits.
const BASE_LOCATION: u64 = 70_000_000_000;
const BASE_LEVEL: u64 = 143_000_000_000;
const BASE_PRODUCT: u64 = 9_000_000_000_000;
const BASE_VARIANT: u64 = 45_000_000_000_000;
const BASE_ITEM: u64 = 47_000_000_000_000;
const BASE_OPTION: u64 = 11_000_000_000_000;
const BASE_OPTION_VALUE: u64 = 5_000_000_000_000;
const BASE_GROUP: u64 = 54_000_000_000_000;
const BASE_ORDER: u64 = 6_000_000_000_000;
const BASE_LINE_ITEM: u64 = 15_000_000_000_000;
const BASE_WEBHOOK: u64 = 1_900_000_000_000;
const BASE_OPERATION: u64 = 3_000_000_000;
const BASE_ORDER_EDIT: u64 = 27_000_000_000;
const BASE_MEDIA: u64 = 44_000_000_000_000;

pub fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The numeric id of a GID of the given kind (query strings are ignored).
pub fn parse_gid(s: &str, kind: &str) -> Option<u64> {
    let rest = s
        .strip_prefix("gid://shopify/")?
        .strip_prefix(kind)?
        .strip_prefix('/')?;
    let digits = rest.split('?').next()?;
    digits.parse().ok()
}

pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Debug, Clone)]
pub struct Location {
    pub id: u64,
    pub name: String,
    pub active: bool,
    pub level_key: u64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ProductOption {
    pub id: u64,
    pub name: String,
    pub values: Vec<(u64, String)>,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: u64,
    pub title: String,
    pub handle: String,
    pub status: String,
    pub vendor: String,
    pub product_type: String,
    pub description_html: String,
    pub tags: Vec<String>,
    pub options: Vec<ProductOption>,
    pub variant_ids: Vec<u64>,
    /// The product's media (`MediaImage` ids), in display order.
    pub media_ids: Vec<u64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub id: u64,
    pub product_id: u64,
    pub item_id: u64,
    /// One value per product option, in option order.
    pub option_values: Vec<String>,
    pub price: String,
    pub compare_at_price: Option<String>,
    pub barcode: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Variant {
    pub fn title(&self) -> String {
        if self.option_values.is_empty() {
            "Default Title".to_owned()
        } else {
            self.option_values.join(" / ")
        }
    }
}

#[derive(Debug, Clone)]
pub struct Level {
    pub available: i64,
    /// Reserved for open orders: part of `on_hand`, not of `available`.
    pub committed: i64,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Level {
    pub fn new(now: DateTime<Utc>) -> Level {
        Level {
            available: 0,
            committed: 0,
            active: true,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn on_hand(&self) -> i64 {
        self.available + self.committed
    }

    pub fn quantity(&self, name: &str) -> i64 {
        match name {
            "available" => self.available,
            "on_hand" => self.on_hand(),
            "committed" => self.committed,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: u64,
    pub variant_id: u64,
    pub sku: Option<String>,
    pub tracked: bool,
    pub requires_shipping: bool,
    pub weight: Option<(f64, String)>,
    pub levels: BTreeMap<u64, Level>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub name: &'static str,
    pub delta: i64,
    pub item_id: u64,
    pub location_id: u64,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: u64,
    pub created_at: DateTime<Utc>,
    pub reason: String,
    pub reference_document_uri: Option<String>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone)]
pub struct LineItem {
    pub id: u64,
    pub sku: Option<String>,
    pub title: String,
    pub name: String,
    pub quantity: i64,
    pub current_quantity: i64,
    pub variant_id: Option<u64>,
    pub product_id: Option<u64>,
    pub price: String,
    /// The variant's title when it is not `Default Title`.
    pub variant_title: Option<String>,
    pub vendor: String,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: u64,
    /// The order number (`name` is `#{number}`).
    pub number: u64,
    pub name: String,
    pub location_id: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// `customer`, `other`... (REST spelling) once cancelled.
    pub cancel_reason: Option<String>,
    pub lines: Vec<LineItem>,
}

impl Order {
    /// The total before returns and refunds (`totalPriceSet`, REST
    /// `total_price`): every unit ordered.
    pub fn total(&self) -> String {
        let cents: i64 = self.lines.iter().map(|l| money_cents(&l.price) * l.quantity).sum();
        cents_to_money(cents)
    }

    /// The total after removals, refunds and cancellation
    /// (`currentTotalPriceSet`, REST `current_total_price`).
    pub fn current_total(&self) -> String {
        let cents: i64 = self
            .lines
            .iter()
            .map(|l| money_cents(&l.price) * l.current_quantity)
            .sum();
        cents_to_money(cents)
    }
}

/// How many days of orders an app reads without `read_all_orders`.
pub const ORDER_WINDOW_DAYS: i64 = 60;

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: u64,
    pub topic: String,
    pub uri: String,
    pub format: String,
    pub filter: Option<String>,
    pub include_fields: Vec<String>,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct SetOperation {
    pub id: u64,
    pub product_id: Option<u64>,
}

/// What an `@idempotent` mutation answered the first time its key was used.
#[derive(Debug, Clone)]
pub struct IdemRecord {
    pub field: String,
    pub fingerprint: String,
    pub outcome: super::mutations::Payload,
    pub failed: bool,
}

pub fn money_cents(s: &str) -> i64 {
    let s = s.trim();
    let negative = s.starts_with('-');
    let s = s.trim_start_matches('-');
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let whole: i64 = whole.parse().unwrap_or(0);
    let mut frac: String = frac.chars().take(2).collect();
    while frac.len() < 2 {
        frac.push('0');
    }
    let cents = whole * 100 + frac.parse::<i64>().unwrap_or(0);
    if negative { -cents } else { cents }
}

pub fn cents_to_money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// Shopify's Money scalar: a decimal string normalised to two places.
pub fn normalize_money(s: &str) -> String {
    cents_to_money(money_cents(s))
}

#[derive(Default)]
pub struct Seq {
    location: u64,
    product: u64,
    variant: u64,
    item: u64,
    option: u64,
    option_value: u64,
    group: u64,
    order: u64,
    line_item: u64,
    webhook: u64,
    operation: u64,
    order_edit: u64,
    media: u64,
}

pub struct Store {
    pub shop_domain: String,
    pub currency: &'static str,
    pub seq: Seq,
    pub locations: BTreeMap<u64, Location>,
    pub products: BTreeMap<u64, Product>,
    pub handles: HashMap<String, u64>,
    pub variants: BTreeMap<u64, Variant>,
    pub items: HashMap<u64, Item>,
    pub sku_index: HashMap<String, BTreeSet<u64>>,
    pub groups: HashMap<u64, Group>,
    pub orders: BTreeMap<u64, Order>,
    pub webhooks: BTreeMap<u64, Webhook>,
    /// The shop's files (only images are modelled), by id; products list
    /// the ones they show in `Product::media_ids`.
    pub media: BTreeMap<u64, MediaImage>,
    /// Downloads the last mutation queued; the server spawns them once the
    /// answer is computed (see `media::spawn_pending`).
    pub media_jobs: Vec<MediaJob>,
    pub operations: HashMap<u64, SetOperation>,
    pub idempotency: HashMap<String, IdemRecord>,
    pub applied: Vec<AppliedSet>,
    pub allow_loopback_webhooks: bool,
    /// The app holds `read_all_orders`: orders older than 60 days are readable.
    pub read_all_orders: bool,
    /// `ProductDeleteOperation` id -> the product it deleted.
    pub delete_operations: HashMap<u64, u64>,
    /// `inventorySetQuantities` answers that carried a stale compare value.
    pub stale_answers: u64,
    /// Each stale item: what the mutation expected and what it found.
    pub stale_log: Vec<String>,
    /// Quantities `inventorySetQuantities` applied that raised `available`:
    /// each one offers units again (an un-selling if they had been sold).
    pub raises: u64,
}

impl Store {
    pub fn new(shop_domain: &str) -> Store {
        Store {
            shop_domain: shop_domain.to_owned(),
            currency: "USD",
            seq: Seq::default(),
            locations: BTreeMap::new(),
            products: BTreeMap::new(),
            handles: HashMap::new(),
            variants: BTreeMap::new(),
            items: HashMap::new(),
            sku_index: HashMap::new(),
            groups: HashMap::new(),
            orders: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            media: BTreeMap::new(),
            media_jobs: Vec::new(),
            operations: HashMap::new(),
            idempotency: HashMap::new(),
            applied: Vec::new(),
            allow_loopback_webhooks: false,
            read_all_orders: false,
            delete_operations: HashMap::new(),
            stale_answers: 0,
            stale_log: Vec::new(),
            raises: 0,
        }
    }

    pub fn next_product_id(&mut self) -> u64 {
        self.seq.product += 1;
        BASE_PRODUCT + self.seq.product
    }
    pub fn next_variant_id(&mut self) -> u64 {
        self.seq.variant += 1;
        BASE_VARIANT + self.seq.variant
    }
    pub fn next_item_id(&mut self) -> u64 {
        self.seq.item += 1;
        BASE_ITEM + self.seq.item
    }
    pub fn next_option_id(&mut self) -> u64 {
        self.seq.option += 1;
        BASE_OPTION + self.seq.option
    }
    pub fn next_option_value_id(&mut self) -> u64 {
        self.seq.option_value += 1;
        BASE_OPTION_VALUE + self.seq.option_value
    }
    pub fn next_group_id(&mut self) -> u64 {
        self.seq.group += 1;
        BASE_GROUP + self.seq.group
    }
    pub fn next_webhook_id(&mut self) -> u64 {
        self.seq.webhook += 1;
        BASE_WEBHOOK + self.seq.webhook
    }
    pub fn next_operation_id(&mut self) -> u64 {
        self.seq.operation += 1;
        BASE_OPERATION + self.seq.operation
    }
    pub fn next_order_edit_id(&mut self) -> u64 {
        self.seq.order_edit += 1;
        BASE_ORDER_EDIT + self.seq.order_edit
    }
    pub fn next_media_id(&mut self) -> u64 {
        self.seq.media += 1;
        BASE_MEDIA + self.seq.media
    }

    pub fn add_location(&mut self, name: &str) -> u64 {
        self.seq.location += 1;
        let id = BASE_LOCATION + self.seq.location;
        self.locations.insert(
            id,
            Location {
                id,
                name: name.to_owned(),
                active: true,
                level_key: BASE_LEVEL + self.seq.location,
                created_at: Utc::now(),
            },
        );
        id
    }

    /// The shop's primary location: the first active one created.
    pub fn primary_location(&self) -> Option<u64> {
        self.locations.values().find(|l| l.active).map(|l| l.id)
    }

    pub fn level_gid(&self, item: u64, location: u64) -> String {
        let key = self.locations.get(&location).map_or(location, |l| l.level_key);
        format!("gid://shopify/InventoryLevel/{key}?inventory_item_id={item}")
    }

    /// Parses `gid://shopify/InventoryLevel/{key}?inventory_item_id={item}`.
    pub fn parse_level_gid(&self, s: &str) -> Option<(u64, u64)> {
        let key = parse_gid(s, "InventoryLevel")?;
        let item: u64 = s.split("inventory_item_id=").nth(1)?.parse().ok()?;
        let loc = self.locations.values().find(|l| l.level_key == key)?.id;
        self.items.get(&item)?.levels.get(&loc)?;
        Some((item, loc))
    }

    pub fn index_sku(&mut self, sku: &Option<String>, variant: u64) {
        if let Some(s) = sku {
            self.sku_index.entry(s.to_lowercase()).or_default().insert(variant);
        }
    }

    pub fn unindex_sku(&mut self, sku: &Option<String>, variant: u64) {
        if let Some(s) = sku {
            let key = s.to_lowercase();
            if let Some(set) = self.sku_index.get_mut(&key) {
                set.remove(&variant);
                if set.is_empty() {
                    self.sku_index.remove(&key);
                }
            }
        }
    }

    /// Variants whose SKU equals `sku` (case-insensitive), by id.
    pub fn variants_by_sku(&self, sku: &str) -> Vec<u64> {
        self.sku_index
            .get(&sku.to_lowercase())
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The exact-case match first, else any case-insensitive match.
    pub fn variant_by_sku(&self, sku: &str) -> Option<u64> {
        let ids = self.variants_by_sku(sku);
        ids.iter()
            .copied()
            .find(|id| self.sku_of_variant(*id).as_deref() == Some(sku))
            .or_else(|| ids.first().copied())
    }

    pub fn sku_of_variant(&self, variant: u64) -> Option<String> {
        let v = self.variants.get(&variant)?;
        self.items.get(&v.item_id)?.sku.clone()
    }

    pub fn item_of_sku(&self, sku: &str) -> Option<&Item> {
        let v = self.variant_by_sku(sku)?;
        self.items.get(&self.variants.get(&v)?.item_id)
    }

    pub fn item_of_sku_mut(&mut self, sku: &str) -> Option<&mut Item> {
        let v = self.variant_by_sku(sku)?;
        let item = self.variants.get(&v)?.item_id;
        self.items.get_mut(&item)
    }

    /// Removes a variant with its inventory item and levels.
    pub fn delete_variant(&mut self, variant: u64) {
        if let Some(v) = self.variants.remove(&variant)
            && let Some(item) = self.items.remove(&v.item_id)
        {
            self.unindex_sku(&item.sku, variant);
        }
    }

    /// A handle derived from a title or given explicitly, normalised the way
    /// Shopify does: lower case, runs of anything but letters and digits
    /// become one hyphen, no leading or trailing hyphen; `product` when
    /// nothing is left.
    pub fn normalize_handle(raw: &str) -> String {
        let mut out = String::new();
        let mut pending_dash = false;
        for c in raw.trim().chars() {
            if c.is_alphanumeric() {
                if pending_dash && !out.is_empty() {
                    out.push('-');
                }
                pending_dash = false;
                out.extend(c.to_lowercase());
            } else {
                pending_dash = true;
            }
        }
        if out.is_empty() { "product".to_owned() } else { out }
    }

    /// Makes an auto-generated handle unique: a trailing number is
    /// incremented, otherwise `-1`, `-2`... is appended.
    pub fn unique_handle(&self, base: &str, except: Option<u64>) -> String {
        let taken = |h: &str| self.handles.get(h).is_some_and(|id| Some(*id) != except);
        if !taken(base) {
            return base.to_owned();
        }
        let (stem, start) = match base.rsplit_once('-') {
            Some((stem, digits))
                if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && digits.len() < 19 =>
            {
                (stem.to_owned(), digits.parse::<u64>().unwrap_or(0) + 1)
            }
            _ => (base.to_owned(), 1),
        };
        let mut n = start;
        loop {
            let candidate = format!("{stem}-{n}");
            if !taken(&candidate) {
                return candidate;
            }
            n += 1;
        }
    }

    /// Creates a product as the shop already has it (the test helper
    /// behind `ShopifyTestServer::add_product`).
    pub fn seed_product(&mut self, title: &str, variants: &[(&str, i64)], location: u64) -> u64 {
        let now = Utc::now();
        let id = self.next_product_id();
        let handle = self.unique_handle(&Self::normalize_handle(title), None);
        let option_values: Vec<String> = if variants.len() <= 1 {
            vec!["Default Title".to_owned()]
        } else {
            variants.iter().map(|(sku, _)| (*sku).to_owned()).collect()
        };
        let option_id = self.next_option_id();
        let values = option_values
            .iter()
            .map(|v| (self.next_option_value_id(), v.clone()))
            .collect();
        let mut product = Product {
            id,
            title: title.to_owned(),
            handle: handle.clone(),
            status: "ACTIVE".to_owned(),
            vendor: String::new(),
            product_type: String::new(),
            description_html: String::new(),
            tags: Vec::new(),
            options: vec![ProductOption {
                id: option_id,
                name: "Title".to_owned(),
                values,
            }],
            variant_ids: Vec::new(),
            media_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        for (i, (sku, available)) in variants.iter().enumerate() {
            let vid = self.next_variant_id();
            let item_id = self.next_item_id();
            let mut levels = BTreeMap::new();
            let mut level = Level::new(now);
            level.available = *available;
            levels.insert(location, level);
            let sku = Some((*sku).to_owned());
            self.items.insert(
                item_id,
                Item {
                    id: item_id,
                    variant_id: vid,
                    sku: sku.clone(),
                    tracked: true,
                    requires_shipping: true,
                    weight: None,
                    levels,
                    created_at: now,
                    updated_at: now,
                },
            );
            self.variants.insert(
                vid,
                Variant {
                    id: vid,
                    product_id: id,
                    item_id,
                    option_values: vec![option_values.get(i).cloned().unwrap_or_default()],
                    price: "10.00".to_owned(),
                    compare_at_price: None,
                    barcode: None,
                    created_at: now,
                    updated_at: now,
                },
            );
            self.index_sku(&sku, vid);
            product.variant_ids.push(vid);
        }
        self.handles.insert(handle, id);
        self.products.insert(id, product);
        id
    }

    /// A sale in the channel: lowers `available` (the units become
    /// `committed`, still on hand) at the location. The order is created
    /// (and last updated) at `at`.
    pub fn place_order_at(&mut self, location: u64, lines: &[(&str, i64)], at: DateTime<Utc>) -> Result<u64, String> {
        let mut items = Vec::new();
        for (sku, qty) in lines {
            let vid = self
                .variant_by_sku(sku)
                .ok_or_else(|| format!("no variant has SKU {sku}"))?;
            let v = &self.variants[&vid];
            let item = &self.items[&v.item_id];
            if !item.levels.contains_key(&location) {
                return Err(format!("SKU {sku} is not stocked at location {location}"));
            }
            if *qty <= 0 {
                return Err(format!("the quantity of {sku} must be positive"));
            }
            items.push((vid, v.item_id, v.product_id, (*sku).to_owned(), *qty, v.price.clone()));
        }
        if items.is_empty() {
            return Err("an order needs at least one line".into());
        }
        self.seq.order += 1;
        let number = 1000 + self.seq.order;
        let id = BASE_ORDER + self.seq.order;
        let mut order_lines = Vec::new();
        for (vid, item_id, product_id, sku, qty, price) in items {
            if let Some(level) = self.items.get_mut(&item_id).and_then(|i| i.levels.get_mut(&location)) {
                level.available -= qty;
                level.committed += qty;
                level.updated_at = at;
            }
            self.seq.line_item += 1;
            let (product_title, vendor) = self
                .products
                .get(&product_id)
                .map(|p| (p.title.clone(), p.vendor.clone()))
                .unwrap_or_default();
            let variant_title = self.variants.get(&vid).map(Variant::title).unwrap_or_default();
            let (name, variant_title) = if variant_title == "Default Title" {
                (product_title.clone(), None)
            } else {
                (format!("{product_title} - {variant_title}"), Some(variant_title))
            };
            order_lines.push(LineItem {
                id: BASE_LINE_ITEM + self.seq.line_item,
                sku: Some(sku),
                title: product_title,
                name,
                quantity: qty,
                current_quantity: qty,
                variant_id: Some(vid),
                product_id: Some(product_id),
                price,
                variant_title,
                vendor,
            });
        }
        self.orders.insert(
            id,
            Order {
                id,
                number,
                name: format!("#{number}"),
                location_id: location,
                created_at: at,
                updated_at: at,
                cancelled_at: None,
                cancel_reason: None,
                lines: order_lines,
            },
        );
        Ok(id)
    }

    /// Moves `qty` units of a line's variant at the order's location out of
    /// `committed`: back to `available` when restocked, otherwise they leave
    /// `on_hand`.
    fn release_committed(&mut self, variant: Option<u64>, location: u64, qty: i64, restock: bool, now: DateTime<Utc>) {
        let Some(item_id) = variant.and_then(|v| self.variants.get(&v)).map(|v| v.item_id) else {
            return;
        };
        if let Some(level) = self.items.get_mut(&item_id).and_then(|i| i.levels.get_mut(&location)) {
            level.committed -= qty;
            if restock {
                level.available += qty;
            }
            level.updated_at = now;
        }
    }

    /// Cancels an order (as `orderCancel` with `restock`): its lines'
    /// remaining units leave `committed`, back to `available` when
    /// restocked; `currentQuantity` becomes 0. `Ok(false)` when it was
    /// already cancelled (nothing changes).
    pub fn cancel_order(&mut self, order: u64, restock: bool, reason: &str) -> Result<bool, String> {
        let now = Utc::now();
        let o = self.orders.get(&order).ok_or("no such order")?.clone();
        if o.cancelled_at.is_some() {
            return Ok(false);
        }
        for line in &o.lines {
            self.release_committed(line.variant_id, o.location_id, line.current_quantity, restock, now);
        }
        if let Some(o) = self.orders.get_mut(&order) {
            o.cancelled_at = Some(now);
            o.cancel_reason = Some(reason.to_owned());
            o.updated_at = now;
            for l in &mut o.lines {
                l.current_quantity = 0;
            }
        }
        Ok(true)
    }

    /// An order edit (`orderEditSetQuantity` + `orderEditCommit`) lowering
    /// the current quantity of the line holding `sku` to `quantity` (0
    /// removes it). Returns the line item id and the units removed.
    pub fn reduce_line(&mut self, order: u64, sku: &str, quantity: i64, restock: bool) -> Result<(u64, i64), String> {
        let now = Utc::now();
        let o = self.orders.get(&order).ok_or("no such order")?;
        if o.cancelled_at.is_some() {
            return Err("a cancelled order can't be edited".into());
        }
        let idx = o
            .lines
            .iter()
            .position(|l| l.sku.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(sku)))
            .ok_or_else(|| format!("the order has no line with SKU {sku}"))?;
        let line = &o.lines[idx];
        if quantity < 0 || quantity >= line.current_quantity {
            return Err(format!(
                "the new quantity {quantity} must be between 0 and {} (exclusive)",
                line.current_quantity
            ));
        }
        let removed = line.current_quantity - quantity;
        let (line_id, variant, location) = (line.id, line.variant_id, o.location_id);
        self.release_committed(variant, location, removed, restock, now);
        if let Some(o) = self.orders.get_mut(&order) {
            o.lines[idx].current_quantity = quantity;
            o.updated_at = now;
        }
        Ok((line_id, removed))
    }

    /// Whether the app may read `order`: without `read_all_orders` only the
    /// last 60 days of orders are accessible.
    pub fn order_visible(&self, order: &Order) -> bool {
        self.read_all_orders || order.created_at >= Utc::now() - chrono::Duration::days(ORDER_WINDOW_DAYS)
    }

    /// Deletes a product with its variants, inventory items and levels.
    pub fn delete_product(&mut self, product: u64) -> bool {
        let Some(p) = self.products.remove(&product) else {
            return false;
        };
        for v in &p.variant_ids {
            self.delete_variant(*v);
        }
        if self.handles.get(&p.handle) == Some(&product) {
            self.handles.remove(&p.handle);
        }
        true
    }

    /// The product holding `sku`, as JSON for field-by-field comparisons.
    pub fn product_json(&self, sku: &str) -> Option<serde_json::Value> {
        let vid = self.variant_by_sku(sku)?;
        let product = self.variants.get(&vid)?.product_id;
        self.product_json_by_id(product, Some(vid))
    }

    /// A product as JSON (see [`product_json`](Self::product_json)); `variant`
    /// is the one put under `"variant"` (null without one).
    pub fn product_json_by_id(&self, product: u64, variant: Option<u64>) -> Option<serde_json::Value> {
        let p = self.products.get(&product)?;
        let variant_json = |vid: u64| -> Option<serde_json::Value> {
            let v = self.variants.get(&vid)?;
            let item = self.items.get(&v.item_id)?;
            let selected: Vec<serde_json::Value> = p
                .options
                .iter()
                .zip(&v.option_values)
                .map(|(o, val)| serde_json::json!({"name": o.name, "value": val}))
                .collect();
            let levels: serde_json::Map<String, serde_json::Value> = item
                .levels
                .iter()
                .map(|(loc, l)| {
                    (
                        gid("Location", *loc),
                        serde_json::json!({"available": l.available, "onHand": l.on_hand()}),
                    )
                })
                .collect();
            Some(serde_json::json!({
                "id": gid("ProductVariant", v.id),
                "title": v.title(),
                "sku": item.sku,
                "price": v.price,
                "compareAtPrice": v.compare_at_price,
                "barcode": v.barcode,
                "selectedOptions": selected,
                "inventoryItem": {
                    "id": gid("InventoryItem", item.id),
                    "tracked": item.tracked,
                    "requiresShipping": item.requires_shipping,
                    "weight": item.weight.as_ref().map(|(value, unit)| serde_json::json!({"value": value, "unit": unit})),
                    "levels": levels,
                },
            }))
        };
        Some(serde_json::json!({
            "id": gid("Product", p.id),
            "title": p.title,
            "handle": p.handle,
            "status": p.status,
            "vendor": p.vendor,
            "productType": p.product_type,
            "descriptionHtml": p.description_html,
            "tags": p.tags,
            "options": p.options.iter().map(|o| serde_json::json!({
                "name": o.name,
                "values": o.values.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "variant": variant.and_then(variant_json),
            "variants": p.variant_ids.iter().filter_map(|id| variant_json(*id)).collect::<Vec<_>>(),
            "media": p.media_ids.iter().filter_map(|id| self.media.get(id)).map(|m| serde_json::json!({
                "id": gid("MediaImage", m.id),
                "alt": m.alt,
                "source": m.source,
                "status": m.state.status(),
            })).collect::<Vec<_>>(),
        }))
    }
}

/// An `Instant` for `AppliedSet::at`.
pub fn now_instant() -> Instant {
    Instant::now()
}

/// Sort keys for cursor pagination.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortVal {
    Int(i64),
    Str(String),
}

impl SortVal {
    pub fn to_oval(&self) -> OVal {
        match self {
            SortVal::Int(i) => OVal::Str(i.to_string()),
            SortVal::Str(s) => OVal::Str(s.clone()),
        }
    }
}
