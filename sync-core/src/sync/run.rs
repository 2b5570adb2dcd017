//! A run in the Sync History that several batches record into. A sync a
//! person started is one run, its product writes and every batch of
//! quantities inside; the engine's worker records its batches into one run
//! for as long as work keeps coming, so a bulk action's thousand quantities
//! (four batches or forty) are one run, not one per batch.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::worker::BatchReport;
use crate::Result;
use crate::domain::ChannelId;
use crate::storage::{EventResult, NewEvent, RunCause, RunDelta, RunId, RunKind, RunTrigger, Storage};

/// The longest a worker's run stays open while work keeps coming: a busy
/// shop's stream of sales is a run every few minutes, not one forever.
const LONGEST_OPEN: Duration = Duration::from_secs(300);

/// What a batch pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Quantities,
    Products,
}

pub struct OpenRun {
    storage: Storage,
    channel: Option<ChannelId>,
    kind: RunKind,
    cause: RunCause,
    state: Mutex<Tally>,
}

/// What the run's batches did so far.
#[derive(Debug, Default, Clone)]
struct Tally {
    id: Option<RunId>,
    opened: Option<Instant>,
    batches: usize,
    pushed: usize,
    unchanged: usize,
    failed: usize,
    retrying: usize,
    awaiting_pull: usize,
    /// Products a quantity push created in the channel first.
    created: usize,
    products_written: usize,
    products_failed: usize,
}

impl OpenRun {
    pub fn new(storage: Storage, channel: Option<ChannelId>, kind: RunKind, cause: RunCause) -> Self {
        Self {
            storage,
            channel,
            kind,
            cause,
            state: Mutex::new(Tally::default()),
        }
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who the run names.
    pub fn who(&self) -> &str {
        &self.cause.who
    }

    pub fn kind(&self) -> RunKind {
        self.kind
    }

    pub fn trigger(&self) -> RunTrigger {
        self.cause.trigger
    }

    pub fn cause(&self) -> &RunCause {
        &self.cause
    }

    /// Records item events that are no batch's (a force sync's products
    /// only in the channel) in the run, with their counts.
    pub async fn record_events(&self, events: &[NewEvent]) -> Result<()> {
        let id = self.id().await?;
        self.storage
            .record_events(Some(id), self.channel, &self.cause.who, events)
            .await?;
        self.storage.add_to_run(id, RunDelta::of_events(events)).await
    }

    /// The run's id, starting it in the history on first use.
    pub async fn id(&self) -> Result<RunId> {
        if let Some(id) = self.tally().id {
            return Ok(id);
        }
        let id = self
            .storage
            .start_run(self.channel, self.kind, self.cause.trigger, &self.cause.who)
            .await?;
        let mut tally = self.tally();
        tally.id = Some(id);
        tally.opened = Some(Instant::now());
        Ok(id)
    }

    /// Records a batch's item events in the run and adds its counts.
    pub(crate) async fn record(&self, events: &[NewEvent], report: &BatchReport, part: Part) -> Result<()> {
        let id = self.id().await?;
        self.storage
            .record_events(Some(id), self.channel, &self.cause.who, events)
            .await?;
        let mut delta = RunDelta::of_events(events);
        {
            let mut t = self.tally();
            t.batches += 1;
            match part {
                Part::Quantities => {
                    t.pushed += report.pushed;
                    t.unchanged += report.unchanged;
                    t.failed += report.failed;
                    t.retrying += report.retrying;
                    t.awaiting_pull += report.awaiting_pull;
                    t.created += events
                        .iter()
                        .filter(|e| e.action == "create product" && e.result == EventResult::Succeeded)
                        .count();
                    delta.quantities_done = (report.pushed + report.unchanged + report.failed) as i64;
                }
                Part::Products => {
                    t.products_written += report.pushed;
                    t.products_failed += report.failed;
                    delta.products_done = (report.pushed + report.failed) as i64;
                }
            }
        }
        self.storage.add_to_run(id, delta).await
    }

    /// Whether the run has been open long enough to close and start afresh.
    pub(crate) fn is_old(&self) -> bool {
        self.tally().opened.is_some_and(|t| t.elapsed() > LONGEST_OPEN)
    }

    /// Closes the run, if it was started, with what its batches did as its
    /// log; the next batch starts a new one.
    pub async fn close(&self) -> Result<Option<RunId>> {
        let log = self.tally().log();
        self.close_with(&log).await
    }

    /// Closes the run as failed (its sync stopped short), if it was started.
    pub async fn fail_with(&self, log: &str) -> Result<Option<RunId>> {
        let tally = std::mem::take(&mut *self.tally());
        let Some(id) = tally.id else { return Ok(None) };
        self.storage.fail_run(id, log).await?;
        Ok(Some(id))
    }

    /// Closes the run, if it was started, with `log`.
    pub async fn close_with(&self, log: &str) -> Result<Option<RunId>> {
        let tally = std::mem::take(&mut *self.tally());
        let Some(id) = tally.id else { return Ok(None) };
        self.storage.close_run(id, log).await?;
        Ok(Some(id))
    }
}

impl Tally {
    /// "40 quantities pushed, 3 already up to date, … in 2 batches".
    fn log(&self) -> String {
        let mut parts = Vec::new();
        if self.created > 0 {
            parts.push(format!("{} products created in the channel", self.created));
        }
        if self.pushed + self.unchanged + self.failed + self.retrying + self.awaiting_pull > 0 {
            parts.push(format!(
                "{} quantities pushed, {} already up to date, {} failed, {} to retry",
                self.pushed, self.unchanged, self.failed, self.retrying
            ));
            if self.awaiting_pull > 0 {
                parts.push(format!(
                    "{} waiting for the channel's orders to be pulled",
                    self.awaiting_pull
                ));
            }
        }
        if self.products_written + self.products_failed > 0 || parts.is_empty() {
            parts.push(format!(
                "{} products written, {} failed",
                self.products_written, self.products_failed
            ));
        }
        let batches = if self.batches == 1 { "batch" } else { "batches" };
        format!("{} in {} {batches}", parts.join(", "), self.batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_log_counts_what_its_batches_did() {
        let tally = Tally {
            batches: 4,
            pushed: 900,
            unchanged: 100,
            failed: 1,
            retrying: 2,
            ..Tally::default()
        };
        assert_eq!(
            tally.log(),
            "900 quantities pushed, 100 already up to date, 1 failed, 2 to retry in 4 batches"
        );
        let products = Tally {
            batches: 1,
            products_written: 3,
            ..Tally::default()
        };
        assert_eq!(products.log(), "3 products written, 0 failed in 1 batch");
        let created = Tally {
            batches: 2,
            created: 2,
            unchanged: 5,
            ..Tally::default()
        };
        assert_eq!(
            created.log(),
            "2 products created in the channel, 0 quantities pushed, 5 already up to date, 0 failed, 0 to retry in 2 batches"
        );
    }
}
