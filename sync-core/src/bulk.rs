//! Bulk actions on products, as the products table offers them: on the
//! rows selected, or on every product matching the table's filter.

use crate::domain::{Actor, DomainError, ProductId};
use crate::storage::{EventResult, NewEvent, ProductFilter};
use crate::{Result, Storage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    AutoSyncOn,
    AutoSyncOff,
    Activate,
    Deactivate,
}

impl BulkAction {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim() {
            "auto_sync_on" => Ok(Self::AutoSyncOn),
            "auto_sync_off" => Ok(Self::AutoSyncOff),
            "activate" => Ok(Self::Activate),
            "deactivate" => Ok(Self::Deactivate),
            other => Err(DomainError::new(
                "action",
                format!("{other:?} is not a bulk action; use auto_sync_on, auto_sync_off, activate or deactivate"),
            )),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::AutoSyncOn => "Auto Sync turned on",
            Self::AutoSyncOff => "Auto Sync turned off",
            Self::Activate => "Activated",
            Self::Deactivate => "Deactivated",
        }
    }
}

/// Which products a bulk action applies to.
#[derive(Debug, Clone)]
pub enum BulkTarget {
    Selected(Vec<ProductId>),
    AllMatching(ProductFilter),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOutcome {
    pub products: usize,
    pub changed: u64,
    /// Quantity pushes queued (Auto Sync turned on).
    pub queued: u64,
    /// The confirmation to show, e.g. "Auto Sync turned on for 250 products; 412 quantities queued".
    pub message: String,
}

impl Storage {
    /// Applies `action` to `target` and records who did it in the Sync History.
    pub async fn bulk_products(&self, actor: &Actor, action: BulkAction, target: BulkTarget) -> Result<BulkOutcome> {
        let ids = match target {
            BulkTarget::Selected(ids) if ids.is_empty() => {
                return Err(DomainError::new("ids", "select at least one product").into());
            }
            BulkTarget::Selected(ids) => ids,
            BulkTarget::AllMatching(filter) => self.product_ids_matching(&filter).await?,
        };
        let (changed, queued) = match action {
            BulkAction::AutoSyncOn | BulkAction::AutoSyncOff => {
                let change = self.set_auto_sync(&ids, action == BulkAction::AutoSyncOn).await?;
                (change.changed, change.queued)
            }
            BulkAction::Activate | BulkAction::Deactivate => {
                (self.set_active(&ids, action == BulkAction::Activate).await?, 0)
            }
        };
        let noun = if ids.len() == 1 { "product" } else { "products" };
        let mut message = format!("{} for {} {noun}", action.describe(), ids.len());
        if queued > 0 {
            message.push_str(&format!("; {queued} quantities queued"));
        }
        let event = NewEvent {
            product_id: None,
            variant_id: None,
            action: "bulk action".into(),
            before: None,
            after: Some(message.clone()),
            result: EventResult::Succeeded,
            error: None,
            attempt: 1,
        };
        self.record_events(None, None, &actor.label(), &[event]).await?;
        Ok(BulkOutcome {
            products: ids.len(),
            changed,
            queued,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_actions_parse_from_the_menu_values() {
        assert_eq!(BulkAction::parse("auto_sync_on"), Ok(BulkAction::AutoSyncOn));
        assert!(
            BulkAction::parse("delete_everything")
                .unwrap_err()
                .message
                .contains("not a bulk action")
        );
    }
}
