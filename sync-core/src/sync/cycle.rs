//! The sync cycle (seed 001): pull every channel's orders and apply them,
//! then push to every channel. Pulls run on request (a webhook, a sign-in,
//! a button), on each channel's schedule, and once at start-up, never two
//! at once for a channel; a request that arrives during a pull runs it again
//! after, so no order announced meanwhile is left for the next schedule.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::manual::{RunningSyncs, SyncSummary, sync_channel};
use super::orders::{PullSummary, is_event, pull_orders};
use super::run::OpenRun;
use super::signals::{PullRequests, Waker};
use crate::Result;
use crate::domain::{ChannelId, Timestamp};
use crate::storage::{ChannelConfig, RunCause, RunKind, RunTrigger, Storage};
use crate::vault::Vault;

/// How often the cycle looks for channels whose schedule is due.
const TICK: Duration = Duration::from_secs(5);
/// The least time between two pulls of a channel that events asked for:
/// a rush of orders (two webhooks each) becomes a pull every half second
/// that reads them all, not a pull per webhook that spends the channel's
/// rate limit on reading the same orders again.
const EVENT_PULL_INTERVAL: Duration = Duration::from_millis(500);

/// After a failed pull, the next one an event asks for waits 1 s, then 2,
/// 4... up to this, so a channel that keeps refusing (credentials revoked,
/// a missing scope) is not asked twice a second forever.
const FAILED_PULL_BACKOFF_CAP: Duration = Duration::from_secs(300);

/// The least time from the start of a channel's last pull to the next one
/// an event asks for, after `failures` failed pulls in a row.
fn event_pull_gap(failures: u32) -> Duration {
    match failures {
        0 => EVENT_PULL_INTERVAL,
        n => Duration::from_secs(1u64 << (n - 1).min(16)).min(FAILED_PULL_BACKOFF_CAP),
    }
}

/// One channel's part of a sync cycle.
#[derive(Debug)]
pub struct CycleOutcome {
    /// The orders pulled first: None when the sync pulls none (force), or
    /// why the pull failed (the push went ahead).
    pub pulled: Option<std::result::Result<PullSummary, String>>,
    pub pushed: SyncSummary,
}

impl CycleOutcome {
    pub fn pull_log(&self) -> String {
        match &self.pulled {
            Some(Ok(p)) => p.log(),
            Some(Err(e)) => format!("{}: orders not pulled: {e}", self.pushed.channel),
            None => "orders not pulled".into(),
        }
    }

    /// Nothing failed and nothing was left for a person.
    pub fn ok(&self) -> bool {
        let pulled = match &self.pulled {
            Some(Ok(p)) => p.conflicts == 0 && p.gap_before.is_none(),
            Some(Err(_)) => false,
            None => true,
        };
        pulled && self.pushed.ok()
    }
}

/// Seed 001's cycle, the one way a sync is run (buttons, the command line,
/// the schedule): every channel's orders pulled first, then every channel
/// pushed to. A failed pull is reported and the push goes ahead.
pub async fn sync_all(
    storage: &Storage,
    vault: &Vault,
    configs: &[ChannelConfig],
    cause: &RunCause,
    worker_id: &str,
) -> Result<Vec<CycleOutcome>> {
    let mut pulls = Vec::with_capacity(configs.len());
    for config in configs {
        pulls.push(match pull_orders(storage, vault, config, cause).await {
            Ok(p) => Ok(p),
            Err(e) => {
                tracing::warn!(channel = %config.name, error = %e, "pulling orders failed; pushing anyway");
                Err(e.to_string())
            }
        });
    }
    let mut out = Vec::with_capacity(configs.len());
    for (config, pulled) in configs.iter().zip(pulls) {
        // The push is one run, its product writes and every batch inside.
        let run = OpenRun::new(storage.clone(), Some(config.id), RunKind::Standard, cause.clone());
        let pushed = match sync_channel(storage, vault, config, &run, worker_id).await {
            Ok(pushed) => {
                run.close_with(&pushed.log()).await?;
                pushed
            }
            Err(e) => {
                run.fail_with(&format!("The sync stopped: {e}")).await?;
                return Err(e);
            }
        };
        out.push(CycleOutcome {
            pulled: Some(pulled),
            pushed,
        });
    }
    Ok(out)
}

/// Runs the pulls of `tillbridge serve`.
pub struct OrderCycle {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl OrderCycle {
    /// `running` is shared with the sync buttons: a channel runs one sync at a time.
    pub fn start(
        storage: Storage,
        vault: Vault,
        requests: PullRequests,
        waker: Waker,
        running: Arc<RunningSyncs>,
        worker_id: String,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let handle = tokio::spawn(run(storage, vault, requests, waker, running, worker_id, stopped));
        Self { stop, handle }
    }

    /// Lets running pulls finish, then stops.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

/// Channels whose schedule says a sync is due now.
fn due(configs: &[(ChannelConfig, Option<i64>, Option<Timestamp>)], now: Timestamp) -> Vec<ChannelId> {
    configs
        .iter()
        .filter_map(|(c, every, last)| {
            let every = chrono::TimeDelta::minutes((*every)?);
            match last {
                Some(t) if t.as_datetime() + every > now.as_datetime() => None,
                _ => Some(c.id),
            }
        })
        .collect()
}

async fn run(
    storage: Storage,
    vault: Vault,
    requests: PullRequests,
    waker: Waker,
    running: Arc<RunningSyncs>,
    worker_id: String,
    mut stopped: watch::Receiver<bool>,
) {
    // Orders placed while we were stopped are applied now, not at the next schedule.
    if let Ok(configs) = storage.channel_configs().await {
        for c in configs {
            requests.request(c.id, RunTrigger::Startup);
        }
    }
    // Asked for while the channel was busy: tried again once it is free.
    let mut again: HashMap<ChannelId, RunTrigger> = HashMap::new();
    // When each channel's last pull started, its failed pulls in a row, and
    // the event pulls held back until event_pull_gap has passed.
    let mut last_start: HashMap<ChannelId, tokio::time::Instant> = HashMap::new();
    let mut failures: HashMap<ChannelId, u32> = HashMap::new();
    let mut held: HashMap<ChannelId, RunTrigger> = HashMap::new();
    let mut tasks: JoinSet<(ChannelId, bool)> = JoinSet::new();
    let mut task_channels: HashMap<tokio::task::Id, ChannelId> = HashMap::new();
    let mut checks: std::collections::HashSet<ChannelId> = std::collections::HashSet::new();
    loop {
        let mut wanted = requests.take();
        for (id, trigger) in again.drain() {
            wanted.entry(id).or_insert(trigger);
        }
        // Pushes that found a channel's figure moved wait for its orders;
        // their worker asks at once, this catches any other process's.
        match storage.channels_awaiting_pull().await {
            Ok(ids) => {
                for id in ids {
                    wanted.entry(id).or_insert(RunTrigger::StockChange);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the pushes waiting for a pull"),
        }
        match storage.channel_schedules().await {
            Ok(schedules) => {
                // Channels swept before get the schedule's check of what
                // drifted; a channel's first sweep is its first full pull.
                checks = schedules
                    .iter()
                    .filter(|(_, _, last)| last.is_some())
                    .map(|(c, _, _)| c.id)
                    .collect();
                for id in due(&schedules, Timestamp::now()) {
                    // The schedule's sweep (and the push after it) wins over
                    // an event's pull: it looks further back.
                    if wanted.get(&id).is_none_or(|t| is_event(*t)) {
                        wanted.insert(id, RunTrigger::Schedule);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the channels' schedules"),
        }
        for (id, trigger) in held.drain() {
            wanted.entry(id).or_insert(trigger);
        }
        let now = tokio::time::Instant::now();
        let gap = |id: &ChannelId| event_pull_gap(failures.get(id).copied().unwrap_or(0));
        for (id, trigger) in wanted {
            if is_event(trigger) && last_start.get(&id).is_some_and(|t| now < *t + gap(&id)) {
                held.insert(id, trigger);
                continue;
            }
            if !running.start(id) {
                again.entry(id).or_insert(trigger);
                continue;
            }
            last_start.insert(id, now);
            let Ok(Some(config)) = storage.channel(id).await else {
                running.finish(id);
                continue;
            };
            // The scheduled push claims under its own name: the engine's worker
            // for the channel runs beside it, and a claim or a product
            // creation lease must never be taken by both.
            let worker = format!("{worker_id}/schedule");
            let (storage, vault, waker) = (storage.clone(), vault.clone(), waker.clone());
            let check = trigger == RunTrigger::Schedule && checks.contains(&id);
            let task = tasks.spawn(async move {
                let started = std::time::Instant::now();
                if check {
                    match super::sweep::check(&storage, &vault, &config, &worker).await {
                        Ok(sweep) => tracing::info!(channel = %config.name, ?sweep, "scheduled check"),
                        Err(e) => tracing::warn!(channel = %config.name, error = %e, "the scheduled check failed"),
                    }
                }
                // A scheduled sync is a whole cycle: the standard push follows the pull.
                let pulled = if trigger == RunTrigger::Schedule {
                    match sync_all(
                        &storage,
                        &vault,
                        std::slice::from_ref(&config),
                        &trigger.into(),
                        &worker,
                    )
                    .await
                    {
                        Ok(mut done) => done
                            .pop()
                            .and_then(|o| o.pulled)
                            .unwrap_or_else(|| Err("no pull".into())),
                        Err(e) => Err(format!("the scheduled sync failed: {e}")),
                    }
                } else {
                    pull_orders(&storage, &vault, &config, &trigger.into())
                        .await
                        .map_err(|e| e.to_string())
                };
                let ok = match pulled {
                    Ok(summary) => {
                        tracing::info!(
                            log = %summary.log(),
                            trigger = trigger.as_str(),
                            ms = started.elapsed().as_millis() as u64,
                            "pulled orders"
                        );
                        true
                    }
                    Err(e) => {
                        tracing::warn!(channel = %config.name, error = %e, "pulling orders failed");
                        false
                    }
                };
                waker.wake();
                (config.id, ok)
            });
            task_channels.insert(task.id(), id);
        }
        // Held pulls fall due when their channel's gap ends.
        let next = held
            .keys()
            .filter_map(|id| last_start.get(id).map(|t| *t + gap(id)))
            .min()
            .unwrap_or(now + TICK)
            .min(now + TICK);
        tokio::select! {
            _ = requests.asked() => {}
            Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                // A pull that panicked frees its channel like one that failed.
                let (task, id, ok) = match joined {
                    Ok((task, (id, ok))) => (task, id, ok),
                    Err(e) => match task_channels.get(&e.id()) {
                        Some(id) => (e.id(), *id, false),
                        None => continue,
                    },
                };
                task_channels.remove(&task);
                running.finish(id);
                if ok {
                    failures.remove(&id);
                } else {
                    *failures.entry(id).or_default() += 1;
                }
                if let Some(trigger) = again.remove(&id) {
                    requests.request(id, trigger);
                }
            }
            _ = tokio::time::sleep_until(next) => {}
            _ = stopped.changed() => break,
        }
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: i64) -> ChannelConfig {
        ChannelConfig {
            id: ChannelId::new(id),
            name: format!("c{id}"),
            kind: crate::domain::ChannelKind::Sandbox,
            settings: "{}".into(),
            credentials: None,
            order_outlet_id: None,
        }
    }

    #[test]
    fn a_schedule_is_due_when_its_interval_has_passed_since_the_last_pull() {
        let now = Timestamp::now();
        let ago = |m: i64| Some(Timestamp::from(now.as_datetime() - chrono::TimeDelta::minutes(m)));
        let schedules = vec![
            (config(1), Some(30), ago(31)),
            (config(2), Some(30), ago(5)),
            (config(3), None, ago(999)),
            (config(4), Some(30), None),
        ];
        assert_eq!(due(&schedules, now), vec![ChannelId::new(1), ChannelId::new(4)]);
    }

    #[test]
    fn event_pulls_back_off_after_failures_up_to_five_minutes() {
        assert_eq!(event_pull_gap(0), EVENT_PULL_INTERVAL);
        assert_eq!(event_pull_gap(1), Duration::from_secs(1));
        assert_eq!(event_pull_gap(4), Duration::from_secs(8));
        assert_eq!(event_pull_gap(40), FAILED_PULL_BACKOFF_CAP);
    }

    #[test]
    fn requests_for_one_channel_are_coalesced() {
        let r = PullRequests::default();
        r.request(ChannelId::new(1), RunTrigger::Webhook);
        r.request(ChannelId::new(1), RunTrigger::Webhook);
        r.request(ChannelId::new(2), RunTrigger::SignIn);
        let taken = r.take();
        assert_eq!(taken.len(), 2);
        assert!(r.take().is_empty());
    }
}
