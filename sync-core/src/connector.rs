//! Channel connectors: the only code that speaks a channel's protocol.
//! The sync workers see channels only through the `Connector` trait.

mod http;
mod sandbox;
pub mod shopify;
pub mod vendure;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

pub use sandbox::SandboxConnector;
pub use shopify::{ShopifyConnector, ShopifySettings};
pub use vendure::{VendureConnector, VendureSettings};

use crate::domain::{ChannelKind, Money, ProductId, Timestamp, VariantId};
use crate::storage::{ChannelConfig, Storage};
use crate::vault::Vault;

/// Why a channel call failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// Timeouts, dropped connections, 5xx: try again later.
    #[error("the channel did not answer properly: {0}")]
    Transient(String),
    #[error("the channel asked us to slow down")]
    RateLimited { retry_after: Duration },
    #[error("the channel refused our credentials: {0}")]
    Unauthorized(String),
    /// The channel understood and refused: retrying the same will not help.
    #[error("the channel refused the request: {0}")]
    Permanent(String),
}

impl ConnectorError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Transient(_) | Self::RateLimited { .. } | Self::Unauthorized(_)
        )
    }
}

/// A variant found in the channel by its SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundItem {
    pub sku: String,
    pub product_id: String,
    pub variant_id: String,
    pub inventory_item_id: String,
    /// The sellable quantity at the channel's location; None when the item
    /// is not stocked there yet.
    pub quantity: Option<i64>,
}

/// A product as the channel should show it: the seed 004 fields that sync,
/// never the ones that do not (handle, supplier, reorder, tax, tags).
#[derive(Debug, Clone)]
pub struct ProductToList {
    pub product_id: ProductId,
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    /// Active in Tillbridge and sold online in this channel: off hides the
    /// product from shoppers (Shopify: DRAFT; Vendure: disabled).
    pub active: bool,
    pub option_names: Vec<String>,
    /// In order. `None` on an update leaves the channel's images alone
    /// (they did not change; sending them again would fetch them again).
    pub images: Option<Vec<ImageToList>>,
    pub variants: Vec<VariantToList>,
    /// SKUs of variants removed in Tillbridge since its last write there:
    /// the channel removes them. Other variants of the channel product that
    /// Tillbridge does not hold (added in the channel) are kept.
    pub removed_skus: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageToList {
    pub url: String,
    pub alt: String,
}

/// What a product write left in the channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductWritten {
    /// The product's variants in the channel.
    pub items: Vec<FoundItem>,
    /// Images the channel could not fetch; the rest of the product went through.
    pub failed_images: Vec<FailedImage>,
    /// What was left as it is in the channel, and why (for the history).
    pub left: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedImage {
    pub url: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct VariantToList {
    pub variant_id: VariantId,
    pub sku: String,
    pub barcode: Option<String>,
    pub option_values: Vec<String>,
    pub price: Money,
    pub weight_grams: Option<i64>,
    /// The quantity to stock it with at the channel's location.
    pub quantity: i64,
}

impl ProductToList {
    /// Our product as a channel should show it; `quantities` stock new
    /// variants; `selling` is the channel's "sell online" switch.
    pub fn from_detail(
        product: &crate::storage::ProductDetail,
        quantities: &HashMap<VariantId, i64>,
        selling: bool,
    ) -> Self {
        ProductToList {
            product_id: product.id,
            name: product.name.clone(),
            description: product.description.clone(),
            brand: product.brand.clone(),
            category: product.category.clone(),
            active: product.active && selling,
            option_names: product.option_names().into_iter().map(str::to_owned).collect(),
            images: Some(
                product
                    .images
                    .iter()
                    .map(|i| ImageToList {
                        url: i.url.clone(),
                        alt: i.alt.clone(),
                    })
                    .collect(),
            ),
            removed_skus: Vec::new(),
            variants: product
                .variants
                .iter()
                .filter_map(|v| {
                    Some(VariantToList {
                        variant_id: v.id,
                        sku: v.sku.clone(),
                        barcode: v.barcode.clone(),
                        option_values: v.option_values().into_iter().map(str::to_owned).collect(),
                        price: v.price()?,
                        weight_grams: v.weight_grams,
                        quantity: quantities.get(&v.id).copied().unwrap_or(0),
                    })
                })
                .collect(),
        }
    }

    /// A digest of the fields that sync (not quantities): when it changes,
    /// the channel's copy is out of date.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let fields = [&self.name, &self.description, &self.brand, &self.category];
        for f in fields {
            h.update(f.as_bytes());
            h.update([0]);
        }
        h.update([u8::from(self.active)]);
        for o in &self.option_names {
            h.update(o.as_bytes());
            h.update([1]);
        }
        for i in self.images.iter().flatten() {
            h.update(i.url.as_bytes());
            h.update([3]);
            h.update(i.alt.as_bytes());
            h.update([3]);
        }
        for v in &self.variants {
            let line = format!(
                "{}|{}|{}|{}|{}|{:?}",
                v.sku,
                v.barcode.as_deref().unwrap_or_default(),
                v.option_values.join("/"),
                v.price.minor,
                v.price.currency.as_str(),
                v.weight_grams
            );
            h.update(line.as_bytes());
            h.update([2]);
        }
        hex::encode(h.finalize())
    }
}

/// One quantity to set: `change_from` is the figure last seen in the channel
/// (compare-and-set), so a sale made there meanwhile is never erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantitySet {
    pub inventory_item_id: String,
    pub quantity: i64,
    pub change_from: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOutcome {
    Applied,
    /// The channel's figure was not `change_from`; nothing was set.
    Stale {
        current: Option<i64>,
    },
    /// This item cannot be set (unknown, not stocked…); the rest went through.
    Rejected {
        code: String,
        message: String,
    },
}

/// A variant as it stands in the channel, for force-sync previews and
/// clean-ups of items found only there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelItem {
    /// Empty when the channel's variant has no SKU.
    pub sku: String,
    /// The product's title in the channel.
    pub title: String,
    pub product_id: String,
    pub variant_id: String,
}

/// An order as the channel reports it now: applying it again, or an older
/// state of it after a newer one, must change nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOrder {
    pub external_id: String,
    /// What the merchant calls it, e.g. "#1042".
    pub number: String,
    pub placed_at: Timestamp,
    pub updated_at: Timestamp,
    pub cancelled: bool,
    pub currency: String,
    /// The order's current total in minor units.
    pub total_minor: i64,
    pub lines: Vec<ChannelOrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOrderLine {
    pub external_id: String,
    /// As the channel has it; may be empty or malformed.
    pub sku: String,
    pub title: String,
    /// Units still on the order (removed or refunded units are gone).
    pub quantity: i64,
    /// Unit price in minor units.
    pub price_minor: i64,
}

/// Orders already applied: the channel's order id → the `updated_at` of the
/// state applied.
pub type KnownOrders = HashMap<String, Timestamp>;

/// What a pull of orders found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PulledOrders {
    pub orders: Vec<ChannelOrder>,
    /// Orders listed but left out: already applied in the state listed.
    pub unchanged: usize,
    /// The newest update the channel listed, when orders are listed before
    /// they are read: a checkpoint must not pass it.
    pub listed_through: Option<Timestamp>,
    /// Orders updated before this could not be read (Shopify shows an app
    /// the last 60 days): a gap to reconcile by hand.
    pub unreadable_before: Option<Timestamp>,
}

/// What to do with a product found only in the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retire {
    /// Hide it from shoppers, keep it in the channel (Shopify: status DRAFT).
    Unpublish,
    Delete,
}

pub trait Connector: Send + Sync {
    /// Most quantities one call may carry.
    fn max_batch(&self) -> usize;

    /// Finds variants in the channel by SKU.
    fn find_by_sku(
        &self,
        skus: &[String],
    ) -> impl Future<Output = Result<HashMap<String, FoundItem>, ConnectorError>> + Send;

    /// Creates a product with its variants, stocked at the channel's location.
    fn create_product(
        &self,
        product: &ProductToList,
    ) -> impl Future<Output = Result<ProductWritten, ConnectorError>> + Send;

    /// Overwrites a product's synced fields in the channel (Tillbridge is the
    /// system of record); `existing` maps our current SKUs to the channel's
    /// variant ids, so a SKU changed here changes that same variant there.
    /// Variants not in `existing` are added, stocked with their quantity;
    /// the product's variants in the channel that are not in `product` are
    /// removed; quantities of existing ones are left to the quantity pushes.
    /// Channel-only fields (compare-at price, subtitle, low-stock
    /// threshold) are never sent.
    fn update_product(
        &self,
        product: &ProductToList,
        external_product_id: &str,
        existing: &HashMap<String, String>,
    ) -> impl Future<Output = Result<ProductWritten, ConnectorError>> + Send;

    /// Sets quantities; one outcome per input, in order. `idempotency_key`
    /// makes a retry of the same call apply once; `reference` names the run.
    fn set_quantities(
        &self,
        sets: &[QuantitySet],
        idempotency_key: &str,
        reference: &str,
    ) -> impl Future<Output = Result<Vec<SetOutcome>, ConnectorError>> + Send;

    /// Reads current quantities at the channel's location.
    fn read_quantities(
        &self,
        items: &[String],
    ) -> impl Future<Output = Result<HashMap<String, i64>, ConnectorError>> + Send;

    /// Every variant in the channel, page by page.
    fn list_items(&self) -> impl Future<Output = Result<Vec<ChannelItem>, ConnectorError>> + Send;

    /// Orders updated at or after `since` (all of them when `None`), oldest
    /// update first. `known` holds the orders already applied, at the update
    /// they were applied from: a connector whose channel charges for reads
    /// may list the orders cheaply and leave those out.
    fn pull_orders(
        &self,
        since: Option<Timestamp>,
        known: &KnownOrders,
    ) -> impl Future<Output = Result<PulledOrders, ConnectorError>> + Send;

    /// Asks the channel to post order events to `callback_url`.
    fn register_order_webhooks(&self, callback_url: &str) -> impl Future<Output = Result<(), ConnectorError>> + Send;

    /// Unpublishes or deletes one product in the channel.
    fn retire_product(&self, product_id: &str, how: Retire) -> impl Future<Output = Result<(), ConnectorError>> + Send;
}

/// Quantities per second a channel of this kind takes, from its rate limit:
/// what progress estimates are computed from.
pub fn push_rate(kind: ChannelKind) -> f64 {
    match kind {
        ChannelKind::Shopify => shopify::QUANTITIES_PER_SECOND,
        ChannelKind::Vendure => vendure::QUANTITIES_PER_SECOND,
        // Our own tables: bounded by the database, far above any shop.
        ChannelKind::Sandbox => 5_000.0,
    }
}

/// The connector of any channel kind, chosen from its stored configuration.
pub enum AnyConnector {
    Shopify(ShopifyConnector),
    Sandbox(SandboxConnector),
    Vendure(VendureConnector),
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("channel {0:?} has no credentials stored")]
    MissingCredentials(String),
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    #[error("channel {name:?} has unreadable settings: {reason}")]
    Settings { name: String, reason: String },
    #[error("channel {0:?} is of a kind this version cannot drive")]
    Unsupported(String),
}

impl AnyConnector {
    pub fn for_channel(storage: &Storage, vault: &Vault, config: &ChannelConfig) -> Result<Self, SetupError> {
        match config.kind {
            ChannelKind::Sandbox => Ok(Self::Sandbox(SandboxConnector::new(storage.clone(), config.id))),
            ChannelKind::Shopify => {
                let sealed = config
                    .credentials
                    .as_deref()
                    .ok_or_else(|| SetupError::MissingCredentials(config.name.clone()))?;
                let token = vault.open(sealed)?;
                let settings: ShopifySettings =
                    serde_json::from_str(&config.settings).map_err(|e| SetupError::Settings {
                        name: config.name.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(Self::Shopify(ShopifyConnector::new(settings, token)))
            }
            ChannelKind::Vendure => {
                let sealed = config
                    .credentials
                    .as_deref()
                    .ok_or_else(|| SetupError::MissingCredentials(config.name.clone()))?;
                let api_key = vault.open(sealed)?;
                let settings: VendureSettings =
                    serde_json::from_str(&config.settings).map_err(|e| SetupError::Settings {
                        name: config.name.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(Self::Vendure(VendureConnector::new(settings, api_key)))
            }
        }
    }
}

impl Connector for AnyConnector {
    fn max_batch(&self) -> usize {
        match self {
            Self::Shopify(c) => c.max_batch(),
            Self::Sandbox(c) => c.max_batch(),
            Self::Vendure(c) => c.max_batch(),
        }
    }

    async fn find_by_sku(&self, skus: &[String]) -> Result<HashMap<String, FoundItem>, ConnectorError> {
        match self {
            Self::Shopify(c) => c.find_by_sku(skus).await,
            Self::Sandbox(c) => c.find_by_sku(skus).await,
            Self::Vendure(c) => c.find_by_sku(skus).await,
        }
    }

    async fn create_product(&self, product: &ProductToList) -> Result<ProductWritten, ConnectorError> {
        match self {
            Self::Shopify(c) => c.create_product(product).await,
            Self::Sandbox(c) => c.create_product(product).await,
            Self::Vendure(c) => c.create_product(product).await,
        }
    }

    async fn update_product(
        &self,
        product: &ProductToList,
        external_product_id: &str,
        existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        match self {
            Self::Shopify(c) => c.update_product(product, external_product_id, existing).await,
            Self::Sandbox(c) => c.update_product(product, external_product_id, existing).await,
            Self::Vendure(c) => c.update_product(product, external_product_id, existing).await,
        }
    }

    async fn set_quantities(
        &self,
        sets: &[QuantitySet],
        key: &str,
        reference: &str,
    ) -> Result<Vec<SetOutcome>, ConnectorError> {
        match self {
            Self::Shopify(c) => c.set_quantities(sets, key, reference).await,
            Self::Sandbox(c) => c.set_quantities(sets, key, reference).await,
            Self::Vendure(c) => c.set_quantities(sets, key, reference).await,
        }
    }

    async fn read_quantities(&self, items: &[String]) -> Result<HashMap<String, i64>, ConnectorError> {
        match self {
            Self::Shopify(c) => c.read_quantities(items).await,
            Self::Sandbox(c) => c.read_quantities(items).await,
            Self::Vendure(c) => c.read_quantities(items).await,
        }
    }

    async fn list_items(&self) -> Result<Vec<ChannelItem>, ConnectorError> {
        match self {
            Self::Shopify(c) => c.list_items().await,
            Self::Sandbox(c) => c.list_items().await,
            Self::Vendure(c) => c.list_items().await,
        }
    }

    async fn retire_product(&self, product_id: &str, how: Retire) -> Result<(), ConnectorError> {
        match self {
            Self::Shopify(c) => c.retire_product(product_id, how).await,
            Self::Sandbox(c) => c.retire_product(product_id, how).await,
            Self::Vendure(c) => c.retire_product(product_id, how).await,
        }
    }

    async fn pull_orders(&self, since: Option<Timestamp>, known: &KnownOrders) -> Result<PulledOrders, ConnectorError> {
        match self {
            Self::Shopify(c) => c.pull_orders(since, known).await,
            Self::Sandbox(c) => c.pull_orders(since, known).await,
            Self::Vendure(c) => c.pull_orders(since, known).await,
        }
    }

    async fn register_order_webhooks(&self, callback_url: &str) -> Result<(), ConnectorError> {
        match self {
            Self::Shopify(c) => c.register_order_webhooks(callback_url).await,
            Self::Sandbox(c) => c.register_order_webhooks(callback_url).await,
            Self::Vendure(c) => c.register_order_webhooks(callback_url).await,
        }
    }
}
