//! Bulk actions on products, as the products table offers them: on the
//! rows selected, or on every product matching the table's filter.

use crate::Result;
use crate::domain::{Actor, ChannelId, DomainError, ProductId};
use crate::storage::Storage;
use crate::storage::{EventResult, NewEvent, ProductFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    AutoSyncOn,
    AutoSyncOff,
    Activate,
    Deactivate,
    /// Sell online in one channel, or stop (the channel then shows 0).
    SellOnline {
        channel: ChannelId,
        on: bool,
    },
}

impl BulkAction {
    /// The menu's values: `auto_sync_on`, …, and `sell_online:<channel id>:on|off`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("sell_online:") {
            let parsed = rest.split_once(':').and_then(|(id, state)| {
                let on = match state {
                    "on" => true,
                    "off" => false,
                    _ => return None,
                };
                Some((id.parse::<i64>().ok()?, on))
            });
            return match parsed {
                Some((id, on)) => Ok(Self::SellOnline {
                    channel: ChannelId::new(id),
                    on,
                }),
                None => Err(DomainError::new(
                    "action",
                    format!("{raw:?} is not a bulk action; sell online takes sell_online:<channel id>:on or :off"),
                )),
            };
        }
        match raw {
            "auto_sync_on" => Ok(Self::AutoSyncOn),
            "auto_sync_off" => Ok(Self::AutoSyncOff),
            "activate" => Ok(Self::Activate),
            "deactivate" => Ok(Self::Deactivate),
            other => Err(DomainError::new(
                "action",
                format!(
                    "{other:?} is not a bulk action; use auto_sync_on, auto_sync_off, activate, deactivate or sell_online:<channel id>:on|off"
                ),
            )),
        }
    }

    fn describe(self, channel_name: &str) -> String {
        match self {
            Self::AutoSyncOn => "Auto Sync turned on".into(),
            Self::AutoSyncOff => "Auto Sync turned off".into(),
            Self::Activate => "Activated".into(),
            Self::Deactivate => "Deactivated".into(),
            Self::SellOnline { on: true, .. } => format!("Selling online in {channel_name}"),
            Self::SellOnline { on: false, .. } => format!("Stopped selling online in {channel_name}"),
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
    /// Product pushes queued (availability in the channels that list them).
    pub catalog_queued: u64,
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
            BulkTarget::Selected(ids) => {
                let unknown = self.unknown_products(&ids).await?;
                if !unknown.is_empty() {
                    let named: Vec<String> = unknown.iter().take(10).map(|id| id.get().to_string()).collect();
                    let more = if unknown.len() > 10 { ", …" } else { "" };
                    return Err(DomainError::new(
                        "ids",
                        format!(
                            "no product has the id {}{more}; nothing was changed",
                            named.join(", or ")
                        ),
                    )
                    .into());
                }
                ids
            }
            BulkTarget::AllMatching(filter) => self.product_ids_matching(&filter).await?,
        };
        let mut channel_name = String::new();
        let mut catalog_queued = 0;
        let (changed, queued) = match action {
            BulkAction::AutoSyncOn | BulkAction::AutoSyncOff => {
                let change = self.set_auto_sync(&ids, action == BulkAction::AutoSyncOn).await?;
                (change.changed, change.queued)
            }
            BulkAction::Activate | BulkAction::Deactivate => {
                let (changed, catalog) = self.set_active(&ids, action == BulkAction::Activate).await?;
                catalog_queued = catalog;
                (changed, 0)
            }
            BulkAction::SellOnline { channel, on } => {
                let Some(config) = self.channel(channel).await? else {
                    return Err(DomainError::new("action", format!("there is no channel {}", channel.get())).into());
                };
                channel_name = config.name;
                let change = self.set_sell_online(channel, &ids, on).await?;
                catalog_queued = change.catalog_queued;
                (change.changed, change.queued)
            }
        };
        let noun = if ids.len() == 1 { "product" } else { "products" };
        let mut message = format!("{} for {} {noun}", action.describe(&channel_name), ids.len());
        if queued > 0 {
            let to = if channel_name.is_empty() {
                let names: Vec<String> = self.channel_configs().await?.into_iter().map(|c| c.name).collect();
                names.join(" and ")
            } else {
                channel_name.clone()
            };
            let units = if queued == 1 { "quantity" } else { "quantities" };
            message.push_str(&format!(" · {queued} {units} queued for {to}"));
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
            catalog_queued,
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
        assert_eq!(
            BulkAction::parse("sell_online:7:off"),
            Ok(BulkAction::SellOnline {
                channel: ChannelId::new(7),
                on: false
            })
        );
        for bad in ["sell_online:x:on", "sell_online:7", "sell_online:7:maybe"] {
            assert!(
                BulkAction::parse(bad)
                    .unwrap_err()
                    .message
                    .contains("sell_online:<channel id>"),
                "{bad}"
            );
        }
        assert!(
            BulkAction::parse("delete_everything")
                .unwrap_err()
                .message
                .contains("not a bulk action")
        );
    }
}
