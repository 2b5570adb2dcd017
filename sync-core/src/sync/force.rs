//! Force sync (seed 000) with its preview, and "Clear all data and sync"
//! (seed 002): what would change is shown first, and the merchant chooses
//! what happens to products that exist only in the channel.

use std::collections::{BTreeMap, HashSet};

use super::manual::{SyncSummary, sync_channel};
use super::run::OpenRun;
use crate::connector::{AnyConnector, Connector, Retire};
use crate::domain::ChannelOnlyPolicy;
use crate::storage::{ChannelConfig, EventResult, NewEvent, Storage};
use crate::vault::Vault;
use crate::{Error, Result};

/// A product found only in the channel: none of its SKUs is ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelOnlyProduct {
    pub external_id: String,
    pub title: String,
    pub skus: Vec<String>,
}

/// What a force sync of one channel would do, read from the channel now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForcePreview {
    /// Our products not in the channel yet: created there.
    pub create: usize,
    /// Our products already there (found by SKU): overwritten with our data.
    pub update: usize,
    /// Quantities set, one per Auto Sync variant.
    pub quantities: usize,
    pub channel_only: Vec<ChannelOnlyProduct>,
}

impl ForcePreview {
    /// One line for a page or a terminal.
    pub fn describe(&self, policy: ChannelOnlyPolicy) -> String {
        let only = self.channel_only.len();
        let fate = fate(policy);
        format!(
            "{} products created, {} updated, {} quantities set; {only} products only in the channel {fate}",
            self.create, self.update, self.quantities
        )
    }
}

fn fate(policy: ChannelOnlyPolicy) -> &'static str {
    match policy {
        ChannelOnlyPolicy::Keep => "kept",
        ChannelOnlyPolicy::Unpublish => "unpublished",
        ChannelOnlyPolicy::Delete => "deleted",
    }
}

fn connector_for(storage: &Storage, vault: &Vault, config: &ChannelConfig) -> Result<AnyConnector> {
    AnyConnector::for_channel(storage, vault, config).map_err(|e| Error::Conflict(e.to_string()))
}

/// Reads the channel's items and compares them with what a force sync pushes.
pub async fn preview_force(storage: &Storage, vault: &Vault, config: &ChannelConfig) -> Result<ForcePreview> {
    let connector = connector_for(storage, vault, config)?;
    let items = connector
        .list_items()
        .await
        .map_err(|e| Error::Conflict(format!("cannot read {}'s items: {e}", config.name)))?;
    let in_channel: HashSet<&str> = items.iter().map(|i| i.sku.as_str()).filter(|s| !s.is_empty()).collect();
    let ours = storage.syncable_variants(config.id).await?;
    let mut products: BTreeMap<_, bool> = BTreeMap::new();
    for (product, sku) in &ours {
        *products.entry(*product).or_default() |= in_channel.contains(sku.as_str());
    }
    let update = products.values().filter(|found| **found).count();
    let skus: Vec<String> = in_channel.iter().map(|s| (*s).to_owned()).collect();
    let known = storage.known_skus(&skus).await?;
    // A channel product is "only in the channel" when none of its SKUs is ours.
    let mut by_product: BTreeMap<&str, (ChannelOnlyProduct, bool)> = BTreeMap::new();
    for item in &items {
        let entry = by_product.entry(item.product_id.as_str()).or_insert_with(|| {
            (
                ChannelOnlyProduct {
                    external_id: item.product_id.clone(),
                    title: item.title.clone(),
                    skus: Vec::new(),
                },
                false,
            )
        });
        if !item.sku.is_empty() {
            entry.0.skus.push(item.sku.clone());
        }
        entry.1 |= known.contains(&item.sku);
    }
    Ok(ForcePreview {
        create: products.len() - update,
        update,
        quantities: ours.len(),
        channel_only: by_product
            .into_values()
            .filter(|(_, ours)| !ours)
            .map(|(p, _)| p)
            .collect(),
    })
}

/// How a force sync was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForceOptions {
    pub channel_only: ChannelOnlyPolicy,
    /// "Clear all data and sync": forget the channel mapping first, then
    /// relink by SKU.
    pub clear_first: bool,
}

/// Runs a force sync, then applies the choice for channel-only products,
/// all recorded in `run` (a force run; closed here with the sync's log).
pub async fn force_sync(
    storage: &Storage,
    vault: &Vault,
    config: &ChannelConfig,
    options: ForceOptions,
    run: &OpenRun,
    worker_id: &str,
) -> Result<SyncSummary> {
    let outcome = force_in(storage, vault, config, options, run, worker_id).await;
    match &outcome {
        Ok((summary, retire)) => {
            let log = match retire {
                Some(retire) => {
                    // Said once, in the choice's own word ("deleted").
                    let shown = SyncSummary {
                        retired: 0,
                        ..summary.clone()
                    };
                    format!("{}; {retire}", shown.log())
                }
                None => summary.log(),
            };
            run.close_with(&log).await?;
        }
        Err(e) => {
            run.fail_with(&format!("The force sync stopped: {e}")).await?;
        }
    }
    outcome.map(|(summary, _)| summary)
}

/// The force sync itself, with what became of the products only in the
/// channel when they were unpublished or deleted.
async fn force_in(
    storage: &Storage,
    vault: &Vault,
    config: &ChannelConfig,
    options: ForceOptions,
    run: &OpenRun,
    worker_id: &str,
) -> Result<(SyncSummary, Option<String>)> {
    if options.clear_first {
        let cleared = storage.clear_channel_mapping(config.id).await?;
        tracing::info!(channel = %config.name, cleared, "channel mapping cleared before a force sync");
    }
    let mut summary = sync_channel(storage, vault, config, run, worker_id).await?;
    let how = match options.channel_only {
        ChannelOnlyPolicy::Keep => return Ok((summary, None)),
        ChannelOnlyPolicy::Unpublish => Retire::Unpublish,
        ChannelOnlyPolicy::Delete => Retire::Delete,
    };
    let preview = preview_force(storage, vault, config).await?;
    let connector = connector_for(storage, vault, config)?;
    let action = format!("{} product only in the channel", options.channel_only.as_str());
    let mut events = Vec::with_capacity(preview.channel_only.len());
    let (mut done, mut failed) = (0i64, 0i64);
    for product in &preview.channel_only {
        let result = connector.retire_product(&product.external_id, how).await;
        if result.is_ok() {
            done += 1;
        } else {
            failed += 1;
        }
        events.push(NewEvent {
            product_id: None,
            variant_id: None,
            action: action.clone(),
            before: Some(format!("{} ({})", product.title, product.skus.join(", "))),
            after: None,
            result: if result.is_ok() {
                EventResult::Succeeded
            } else {
                EventResult::Failed
            },
            error: result.err().map(|e| e.to_string()),
            attempt: 1,
        });
    }
    run.record_events(&events).await?;
    let retired = format!(
        "{done} products only in the channel {}, {failed} failed",
        fate(options.channel_only)
    );
    summary.failed += failed as usize;
    summary.retired = done as usize;
    summary.errors.extend(
        events
            .into_iter()
            .filter_map(|e| e.error.map(|err| format!("{action}: {err}"))),
    );
    Ok((summary, Some(retired)))
}
