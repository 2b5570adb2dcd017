//! The schedule's safety net: however many webhooks and sign-ins pulled in
//! between, each scheduled sync compares the channel with Tillbridge and
//! fixes any drift: every quantity is read back there, and every listed
//! product's synced fields are written again (Tillbridge is the system of
//! record; a change made in the channel is overwritten).

use std::collections::HashMap;

use super::worker::ChannelWorker;
use crate::Result;
use crate::connector::{AnyConnector, Connector};
use crate::domain::VariantId;
use crate::storage::{ChannelConfig, Storage};
use crate::storage::{EventResult, NewEvent, RunKind, RunTrigger};
use crate::vault::Vault;

/// What a sweep found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Quantities read back in the channel.
    pub read: usize,
    /// Quantities that were not what Tillbridge last saw there: queued to be fixed.
    pub drifted: usize,
    /// Products queued to have their synced fields written again.
    pub products: u64,
}

/// The schedule's check of `config`, before its scheduled sync pulls and
/// pushes what it queued.
pub(super) async fn check(storage: &Storage, vault: &Vault, config: &ChannelConfig, worker_id: &str) -> Result<Sweep> {
    let connector =
        AnyConnector::for_channel(storage, vault, config).map_err(|e| crate::Error::Conflict(e.to_string()))?;
    ChannelWorker::new(storage.clone(), config.id, connector, worker_id.to_owned())
        .sweep()
        .await
}

/// How long in all a sweep lets due pushes go first: the channel's order
/// pulls wait while it runs, and a channel whose queue never empties must
/// still be checked.
const SWEEP_YIELD: std::time::Duration = std::time::Duration::from_secs(30);

impl<C: Connector> ChannelWorker<C> {
    /// Pushes go first: the sweep's reads spend the channel's rate limit
    /// too (reading 100,000 quantities back costs Shopify's bucket far more
    /// than pushing them), so it reads only while no push is due, until
    /// `until`.
    async fn yield_to_pushes(&self, until: tokio::time::Instant) -> Result<()> {
        while tokio::time::Instant::now() < until {
            match self.storage.next_due(self.channel).await? {
                Some(due) if due <= crate::domain::Timestamp::now() => {
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Reads every listed quantity back and queues the products' fields;
    /// the pushes that follow fix what drifted (with the usual rules: a
    /// figure read lower is raised only after the channel's orders are
    /// pulled). Records what it found in the Sync History.
    pub async fn sweep(&self) -> Result<Sweep> {
        let run = self
            .storage
            .start_run(
                Some(self.channel),
                RunKind::Standard,
                RunTrigger::Schedule,
                RunTrigger::Schedule.who(),
            )
            .await?;
        let listings = self.storage.listings(self.channel).await?;
        let by_item: HashMap<String, (VariantId, Option<i64>)> = listings
            .iter()
            .filter_map(|l| {
                Some((
                    l.external_inventory_item_id.clone()?,
                    (l.variant_id, l.last_seen_quantity),
                ))
            })
            .collect();
        let items: Vec<String> = by_item.keys().cloned().collect();
        let mut sweep = Sweep::default();
        let mut events = Vec::new();
        let mut drifted = Vec::new();
        let mut failure = None;
        let yield_until = tokio::time::Instant::now() + SWEEP_YIELD;
        for chunk in items.chunks(self.connector.max_batch().max(1)) {
            self.yield_to_pushes(yield_until).await?;
            let read = match self.connector.read_quantities(chunk).await {
                Ok(read) => read,
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            };
            sweep.read += read.len();
            for (item, quantity) in read {
                let Some((variant, seen)) = by_item.get(&item) else {
                    continue;
                };
                if *seen == Some(quantity) {
                    continue;
                }
                self.storage.record_seen(self.channel, *variant, quantity).await?;
                drifted.push(*variant);
                events.push(NewEvent {
                    product_id: None,
                    variant_id: Some(*variant),
                    action: "quantity".into(),
                    before: seen.map(|q| q.to_string()),
                    after: Some(quantity.to_string()),
                    result: EventResult::Skipped,
                    error: Some(format!(
                        "the scheduled check found {quantity} in the channel where {} was last seen: queued to be fixed",
                        seen.map_or_else(|| "nothing".to_owned(), |q| q.to_string())
                    )),
                    attempt: 1,
                });
            }
        }
        sweep.drifted = drifted.len();
        if !drifted.is_empty() {
            self.storage.enqueue_variants(self.channel, &drifted).await?;
        }
        let listed = self.storage.listed_products(self.channel).await?;
        sweep.products = self.storage.enqueue_catalog(&listed, Some(self.channel)).await?;
        self.storage
            .record_events(Some(run), Some(self.channel), RunTrigger::Schedule.who(), &events)
            .await?;
        let mut log = format!(
            "scheduled check: {} quantities read, {} not as last seen (queued to be fixed), {} products' fields queued to be written again",
            sweep.read, sweep.drifted, sweep.products
        );
        if let Some(e) = &failure {
            log.push_str(&format!("; reading quantities failed: {e}"));
        }
        let failed = i64::from(failure.is_some());
        self.storage.finish_run(run, sweep.drifted as i64, failed, &log).await?;
        Ok(sweep)
    }
}
