use super::DomainError;
use serde::{Deserialize, Serialize};

/// Why stock moved (DESIGN.md section 3). Stored as text with a CHECK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementReason {
    SalesOrder,
    PurchaseOrder,
    WorkOrder,
    ManualAdjustment,
    FileUpload,
    InventoryFeed,
    ChannelOrder,
    Transfer,
}

impl MovementReason {
    pub const ALL: [MovementReason; 8] = [
        MovementReason::SalesOrder,
        MovementReason::PurchaseOrder,
        MovementReason::WorkOrder,
        MovementReason::ManualAdjustment,
        MovementReason::FileUpload,
        MovementReason::InventoryFeed,
        MovementReason::ChannelOrder,
        MovementReason::Transfer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MovementReason::SalesOrder => "sales_order",
            MovementReason::PurchaseOrder => "purchase_order",
            MovementReason::WorkOrder => "work_order",
            MovementReason::ManualAdjustment => "manual_adjustment",
            MovementReason::FileUpload => "file_upload",
            MovementReason::InventoryFeed => "inventory_feed",
            MovementReason::ChannelOrder => "channel_order",
            MovementReason::Transfer => "transfer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw.trim()).ok_or_else(|| {
            let known: Vec<_> = Self::ALL.iter().map(|r| r.as_str()).collect();
            DomainError::new(
                "reason",
                format!("{raw:?} is not a reason; use one of {}", known.join(", ")),
            )
        })
    }
}

/// A change to one variant's stock at one outlet: relative, or an absolute
/// count from a stocktake. A zero delta or a negative count means nothing
/// and is refused when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockChange {
    Delta(i64),
    Count(i64),
}

impl StockChange {
    pub fn delta(delta: i64) -> Result<Self, DomainError> {
        if delta == 0 {
            return Err(DomainError::new("delta", "a delta of 0 changes nothing"));
        }
        if delta.unsigned_abs() > 1_000_000_000 {
            return Err(DomainError::new(
                "delta",
                format!("{delta} is beyond any real stock movement"),
            ));
        }
        Ok(Self::Delta(delta))
    }

    pub fn count(count: i64) -> Result<Self, DomainError> {
        if !(0..=1_000_000_000).contains(&count) {
            return Err(DomainError::new(
                "count",
                format!("a count must be between 0 and 1000000000, not {count}"),
            ));
        }
        Ok(Self::Count(count))
    }

    /// The on-hand figure after applying this change to `on_hand`.
    pub fn apply(self, on_hand: i64) -> i64 {
        match self {
            StockChange::Delta(d) => on_hand + d,
            StockChange::Count(c) => c,
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            StockChange::Delta(_) => "delta",
            StockChange::Count(_) => "count",
        }
    }

    pub fn amount(self) -> i64 {
        match self {
            StockChange::Delta(v) | StockChange::Count(v) => v,
        }
    }
}

/// The kinds of web channel Tillbridge can keep in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Shopify,
    #[default]
    Sandbox,
    Vendure,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [ChannelKind::Shopify, ChannelKind::Sandbox, ChannelKind::Vendure];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Shopify => "shopify",
            ChannelKind::Sandbox => "sandbox",
            ChannelKind::Vendure => "vendure",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw.trim()).ok_or_else(|| {
            DomainError::new(
                "kind",
                format!("{raw:?} is not a channel kind; use shopify, sandbox or vendure"),
            )
        })
    }
}

impl TryFrom<String> for ChannelKind {
    type Error = DomainError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a force sync does with products found only in the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelOnlyPolicy {
    /// Leave them as they are.
    #[default]
    Keep,
    /// Hide them from shoppers.
    Unpublish,
    Delete,
}

impl ChannelOnlyPolicy {
    pub const ALL: [ChannelOnlyPolicy; 3] = [Self::Keep, Self::Unpublish, Self::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Unpublish => "unpublish",
            Self::Delete => "delete",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw.trim()).ok_or_else(|| {
            DomainError::new(
                "channel_only",
                format!("{raw:?} is not a choice for items only in the channel; use keep, unpublish or delete"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_and_unknown_ones_list_the_choices() {
        for r in MovementReason::ALL {
            assert_eq!(MovementReason::parse(r.as_str()), Ok(r));
        }
        let err = MovementReason::parse("theft").unwrap_err();
        assert!(err.message.contains("sales_order"), "{err}");
    }

    #[test]
    fn zero_deltas_and_negative_counts_are_refused() {
        assert!(StockChange::delta(0).is_err());
        assert!(StockChange::count(-1).is_err());
        assert_eq!(StockChange::count(0), Ok(StockChange::Count(0)));
    }

    #[test]
    fn a_count_replaces_and_a_delta_adds() {
        assert_eq!(StockChange::Delta(-2).apply(5), 3);
        assert_eq!(StockChange::Count(7).apply(5), 7);
    }
}
