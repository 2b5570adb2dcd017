//! Domain types: parsed once at the edge, trusted everywhere after.

mod balance;
mod ids;
mod money;
mod role;
mod stock;
mod text;
mod timestamp;
mod zone;

pub use balance::{BalanceRules, BalanceStep, RULE_LIMIT};
pub use ids::{ApiTokenId, ChannelId, MovementId, OutletId, ProductId, UserId, VariantId};
pub use money::{Currency, Money};
pub use role::{Actor, Permission, Role};
pub use stock::{ChannelKind, ChannelOnlyPolicy, MovementReason, StockChange};
pub use text::{Barcode, Email, OutletCode, Sku};
pub use timestamp::Timestamp;
pub use zone::StoreZone;

/// Why a value was refused. The message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
