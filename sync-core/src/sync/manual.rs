//! Syncs run on request (a button, the CLI): queue what the kind of sync
//! needs, then drain the channel's outbox now and report.

use std::time::{Duration, Instant};

use std::collections::HashSet;
use std::sync::Mutex;

use super::run::OpenRun;
use super::worker::ChannelWorker;
use crate::Result;
use crate::connector::AnyConnector;
use crate::domain::{ChannelId, Timestamp};
use crate::storage::{ChannelConfig, EventResult, RunKind, RunTrigger, Storage};
use crate::vault::Vault;

/// The longest a sync waits for rows in their cooldown (just pushed).
const COOLDOWN_WAIT: Duration = Duration::from_secs(2);

/// Channels with a button-started sync under way in this process.
#[derive(Default)]
pub struct RunningSyncs(Mutex<HashSet<ChannelId>>);

impl RunningSyncs {
    /// Marks `channel` as running; false if it already was.
    pub fn start(&self, channel: ChannelId) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(channel)
    }

    pub fn finish(&self, channel: ChannelId) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&channel);
    }

    pub fn is_running(&self, channel: ChannelId) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).contains(&channel)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    pub channel: String,
    pub kind: RunKind,
    /// Products whose synced fields were written to the channel.
    pub products_updated: usize,
    pub queued: u64,
    pub pushed: usize,
    /// Quantities the channel showed already: not pushed, not failed.
    pub unchanged: usize,
    pub failed: usize,
    pub retrying: usize,
    pub batches: usize,
    /// Products only in the channel unpublished or deleted (force sync).
    pub retired: usize,
    /// The first errors met, with the item they concern.
    pub errors: Vec<String>,
    pub elapsed: Duration,
}

impl SyncSummary {
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.retrying == 0
    }

    /// The run's log, as printed after a sync (seed 000's "sync log").
    pub fn log(&self) -> String {
        let mut log = format!(
            "{} of {:?}: {} products updated, {} quantities queued, {} pushed, {} already up to date, {} failed, {} left to retry, in {} batches, {:.1} s",
            self.kind.label(),
            self.channel,
            self.products_updated,
            self.queued,
            self.pushed,
            self.unchanged,
            self.failed,
            self.retrying,
            self.batches,
            self.elapsed.as_secs_f64()
        );
        if self.retired > 0 {
            log.push_str(&format!("; {} products only in the channel retired", self.retired));
        }
        for e in &self.errors {
            log.push_str("\n  ");
            log.push_str(e);
        }
        log
    }
}

/// Runs a `Standard` (products changed since their last push, new products
/// and pending quantities) or `Force` (every product and every Auto Sync
/// quantity) sync of one channel to completion, every batch recorded in
/// `run` (of that kind; the caller closes it). A sync a person started is in
/// the history even when it finds nothing to do.
pub async fn sync_channel(
    storage: &Storage,
    vault: &Vault,
    config: &ChannelConfig,
    run: &OpenRun,
    worker_id: &str,
) -> Result<SyncSummary> {
    let (kind, trigger) = (run.kind(), run.trigger());
    let started = Instant::now();
    let since = Timestamp::now();
    let connector =
        AnyConnector::for_channel(storage, vault, config).map_err(|e| crate::Error::Conflict(e.to_string()))?;
    let (queued, products) = match kind {
        RunKind::Force => {
            // Every listed product's fields are written again, as the force preview says.
            let listed = storage.listed_products(config.id).await?;
            storage.enqueue_catalog(&listed, Some(config.id)).await?;
            (storage.enqueue_channel(config.id).await?, listed.len())
        }
        _ => {
            // Fields that changed with no push queued (or one given up) go too.
            let stale = super::products::stale_products(storage, config.id).await?;
            storage.enqueue_catalog(&stale, Some(config.id)).await?;
            (storage.enqueue_unlinked(config.id).await?, stale.len())
        }
    };
    let person = matches!(trigger, RunTrigger::Button | RunTrigger::Cli | RunTrigger::Api);
    if person || kind == RunKind::Force {
        // What the run sets out to do, for its live progress.
        let quantities = storage.pending_pushes(config.id).await?;
        storage
            .expect_in_run(run.id().await?, quantities, products as i64)
            .await?;
    }
    let worker = ChannelWorker::new(storage.clone(), config.id, connector, worker_id.to_owned());
    // Product fields first (changes queued and, in a force sync, every
    // listed product), then quantities.
    let (mut products_updated, mut products_failed) = (0, 0);
    loop {
        let report = worker.run_catalog_in(run).await?;
        if report.claimed == 0 {
            break;
        }
        products_updated += report.pushed;
        products_failed += report.failed;
    }
    let mut summary = SyncSummary {
        channel: config.name.clone(),
        kind,
        products_updated,
        queued,
        pushed: 0,
        unchanged: 0,
        failed: products_failed,
        retrying: 0,
        batches: 0,
        retired: 0,
        errors: Vec::new(),
        elapsed: Duration::ZERO,
    };
    // Pull, then push: figures that moved in the channel wait for its
    // orders, so this sync pulls them and pushes again (a few rounds at most;
    // what still waits is left to the order cycle).
    let mut pulls_left = 3;
    // At most about ten seconds of waiting for other workers, for a person
    // who asked (the schedule does not hold its channel that long).
    let mut waits_left = if matches!(trigger, RunTrigger::Button | RunTrigger::Cli) {
        100
    } else {
        0
    };
    loop {
        let report = worker.run_once_in(run).await?;
        if report.claimed == 0 {
            // Rows another worker is pushing, or pushed a moment ago (their
            // short cooldown): a sync a person started waits for them, not past them.
            if waits_left > 0 {
                let soon = match storage.next_due(config.id).await? {
                    Some(due) => (due.as_datetime() - Timestamp::now().as_datetime())
                        .to_std()
                        .is_ok_and(|wait| wait <= COOLDOWN_WAIT),
                    None => false,
                };
                if soon || storage.pushes_in_flight(config.id).await? > 0 {
                    waits_left -= 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
            if pulls_left == 0 || storage.pushes_awaiting_pull(config.id).await? == 0 {
                break;
            }
            pulls_left -= 1;
            if let Err(e) = super::orders::pull_orders(storage, vault, config, run.cause()).await {
                tracing::warn!(channel = %config.name, error = %e, "pulling orders before pushing again failed");
                break;
            }
            continue;
        }
        summary.batches += 1;
        summary.pushed += report.pushed;
        summary.unchanged += report.unchanged;
        summary.failed += report.failed;
        summary.retrying = report.retrying;
    }
    summary.retrying = storage.pending_pushes(config.id).await? as usize;
    let failures = storage
        .recent_events(Some(config.id), Some(EventResult::Failed), 10)
        .await?;
    summary.errors = failures
        .into_iter()
        .filter(|e| e.created_at >= since)
        .map(|e| format!("{} (attempt {}): {}", e.action, e.attempt, e.error.unwrap_or_default()))
        .collect();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The most batches `push_queued` runs: what is left is the engine's.
const MOST_BATCHES: usize = 2_000;

/// Pushes what is queued for `config` now (product writes, then
/// quantities), every batch recorded in `run`: a bulk action's pushes as
/// one run of the person who asked. What is left to retry later is the
/// engine's.
pub async fn push_queued(
    storage: &Storage,
    vault: &Vault,
    config: &ChannelConfig,
    run: &OpenRun,
    worker_id: &str,
) -> Result<()> {
    let connector =
        AnyConnector::for_channel(storage, vault, config).map_err(|e| crate::Error::Conflict(e.to_string()))?;
    let worker = ChannelWorker::new(storage.clone(), config.id, connector, worker_id.to_owned());
    for _ in 0..MOST_BATCHES {
        if worker.run_catalog_in(run).await?.claimed == 0 {
            break;
        }
    }
    for _ in 0..MOST_BATCHES {
        if worker.run_once_in(run).await?.claimed == 0 {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_runs_one_sync_a_person_started_at_a_time() {
        let running = RunningSyncs::default();
        assert!(running.start(ChannelId::new(1)));
        assert!(!running.start(ChannelId::new(1)), "already running");
        assert!(running.start(ChannelId::new(2)), "other channels are free");
        running.finish(ChannelId::new(1));
        assert!(running.start(ChannelId::new(1)));
    }
}
