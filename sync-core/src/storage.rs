//! One storage API over two engines: SQLite (the embedded default) and
//! PostgreSQL. SQL that both dialects accept is written once and run on
//! whichever pool is open (`on_pool!`); where the dialects differ, each
//! engine gets its own statement. Placeholders are `$N` on both.

// Some items are only used by the test harnesses (the `testing` feature).
#![cfg_attr(not(feature = "testing"), allow(dead_code, unused_imports))]

mod balance;
mod catalog;
pub(crate) mod catalog_outbox;
mod channels;
mod feeds;
mod history;
mod import;
mod listings;
mod orders;
mod outbox;
mod pool;
pub(crate) mod sandbox;
mod sessions;
mod stock;
mod store_settings;
mod users;

pub use balance::{BalanceExplanation, OutletFigure};
pub(crate) use catalog::handle_for;
pub use catalog::{
    AutoSyncChange, ChannelFilter, NewProduct, NewVariant, Outlet, ProductDetail, ProductFilter, ProductImage,
    ProductPage, ProductSort, ProductSummary, StockStatus, VariantDetail, VariantStock,
};
pub use catalog_outbox::{CatalogTarget, ClaimedProduct};
pub use channels::{ChannelConfig, ChannelSettings, ChannelSummary, NewChannel};
pub use feeds::{FeedId, FeedRow, NewFeed};
pub use history::{
    ChartFilter, ConflictAction, ConflictKind, ConflictRow, EventResult, EventRow, HourCount, NewConflict, NewEvent,
    RunCause, RunDelta, RunFilter, RunId, RunKind, RunRow, RunStatus, RunTrigger,
};
pub(crate) use import::replayed_products;
pub use import::{
    CatalogWrite, CatalogWritten, CatalogWrittenOnce, NewUpload, Upload, VariantWrite, content_hash, product_handle,
};
pub use listings::{
    ChannelProduct, Figure, Listing, ListingIds, NewListing, PushTarget, PushedQuantity, SellOnlineChange,
};
pub use orders::{FeedLine, FeedOrder, OrderLineRow, OrderLineToSave, OrderRow, OrderToSave, StoredOrder};
pub use outbox::{ClaimedRow, PushLatency, RowOutcome};
pub use sandbox::SandboxItem;
pub use sessions::SessionRow;
pub use stock::{
    IdempotencyKey, MAX_MOVEMENTS_PER_REQUEST, MAX_NOTE_CHARS, MovementBatch, MovementInput, MovementRecord,
    NewMovement,
};
pub use users::{ApiToken, OwnerGuarded, User};

pub use pool::{DEFAULT_DATABASE_URL, Engine, Storage, redact_url};
pub(crate) use pool::{Pool, like_pattern, on_pool, placeholders};
