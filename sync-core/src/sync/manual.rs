//! Syncs run on request (a button, the CLI): queue what the kind of sync
//! needs, then drain the channel's outbox now and report.

use std::time::{Duration, Instant};

use super::worker::ChannelWorker;
use crate::Result;
use crate::connector::AnyConnector;
use crate::domain::Timestamp;
use crate::storage::{ChannelConfig, EventResult, RunKind, Storage};
use crate::vault::Vault;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    pub channel: String,
    pub kind: RunKind,
    pub queued: u64,
    pub pushed: usize,
    pub failed: usize,
    pub retrying: usize,
    pub batches: usize,
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
            "{} sync of {:?}: {} queued, {} pushed, {} failed, {} left to retry, in {} batches, {:.1} s",
            self.kind.as_str(),
            self.channel,
            self.queued,
            self.pushed,
            self.failed,
            self.retrying,
            self.batches,
            self.elapsed.as_secs_f64()
        );
        for e in &self.errors {
            log.push_str("\n  ");
            log.push_str(e);
        }
        log
    }
}

/// Runs a `Standard` (new products and pending quantities) or `Force`
/// (every Auto Sync quantity) sync of one channel to completion.
pub async fn sync_channel(
    storage: &Storage,
    vault: &Vault,
    config: &ChannelConfig,
    kind: RunKind,
    worker_id: &str,
) -> Result<SyncSummary> {
    let started = Instant::now();
    let since = Timestamp::now();
    let queued = match kind {
        RunKind::Force => storage.enqueue_channel(config.id).await?,
        _ => storage.enqueue_unlinked(config.id).await?,
    };
    let connector =
        AnyConnector::for_channel(storage, vault, config).map_err(|e| crate::Error::Conflict(e.to_string()))?;
    let worker = ChannelWorker::new(storage.clone(), config.id, connector, worker_id.to_owned());
    let mut summary = SyncSummary {
        channel: config.name.clone(),
        kind,
        queued,
        pushed: 0,
        failed: 0,
        retrying: 0,
        batches: 0,
        errors: Vec::new(),
        elapsed: Duration::ZERO,
    };
    loop {
        let report = worker.run_once().await?;
        if report.claimed == 0 {
            break;
        }
        summary.batches += 1;
        summary.pushed += report.pushed;
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
