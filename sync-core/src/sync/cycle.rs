//! The sync cycle (seed 001): pull every channel's orders and apply them,
//! then push to every channel. Pulls run on request (a webhook, a sign-in,
//! a button), on each channel's schedule, and once at start-up, never two
//! at once for a channel; a request that arrives during a pull runs it again
//! after, so no order announced meanwhile is left for the next schedule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::engine::Waker;
use super::manual::{RunningSyncs, SyncSummary, sync_channel};
use super::orders::{PullSummary, pull_orders};
use crate::Result;
use crate::domain::{ChannelId, Timestamp};
use crate::storage::{ChannelConfig, RunKind, RunTrigger, Storage};
use crate::vault::Vault;

/// How often the cycle looks for channels whose schedule is due.
const TICK: Duration = Duration::from_secs(5);
/// The least time between two pulls of a channel that events asked for:
/// a rush of orders (two webhooks each) becomes a pull every half second
/// that reads them all, not a pull per webhook that spends the channel's
/// rate limit on reading the same orders again.
const EVENT_PULL_INTERVAL: Duration = Duration::from_millis(500);

/// Pulls asked for by an event rather than by a schedule or a person.
fn is_event(trigger: RunTrigger) -> bool {
    matches!(
        trigger,
        RunTrigger::Webhook | RunTrigger::StockChange | RunTrigger::SignIn
    )
}

/// Pulls asked for, coalesced per channel.
#[derive(Clone, Default)]
pub struct PullRequests {
    wanted: Arc<Mutex<HashMap<ChannelId, RunTrigger>>>,
    notify: Arc<Notify>,
}

impl PullRequests {
    pub fn request(&self, channel: ChannelId, trigger: RunTrigger) {
        self.wanted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(channel)
            .or_insert(trigger);
        self.notify.notify_one();
    }

    fn take(&self) -> HashMap<ChannelId, RunTrigger> {
        std::mem::take(&mut *self.wanted.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Pulls then pushes `configs`, in seed 001's order: every pull first.
pub async fn sync_all(
    storage: &Storage,
    vault: &Vault,
    configs: &[ChannelConfig],
    trigger: RunTrigger,
    worker_id: &str,
) -> Result<Vec<(Option<PullSummary>, SyncSummary)>> {
    let mut pulls = Vec::with_capacity(configs.len());
    for config in configs {
        pulls.push(match pull_orders(storage, vault, config, trigger).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(channel = %config.name, error = %e, "pulling orders failed; pushing anyway");
                None
            }
        });
    }
    let mut out = Vec::with_capacity(configs.len());
    for (config, pull) in configs.iter().zip(pulls) {
        let push = sync_channel(storage, vault, config, RunKind::Standard, trigger, worker_id).await?;
        out.push((pull, push));
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
    // When each channel's last pull started, and event pulls held back until
    // EVENT_PULL_INTERVAL has passed since.
    let mut last_start: HashMap<ChannelId, tokio::time::Instant> = HashMap::new();
    let mut held: HashMap<ChannelId, RunTrigger> = HashMap::new();
    let mut tasks: JoinSet<ChannelId> = JoinSet::new();
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
                for id in due(&schedules, Timestamp::now()) {
                    wanted.entry(id).or_insert(RunTrigger::Schedule);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the channels' schedules"),
        }
        for (id, trigger) in held.drain() {
            wanted.entry(id).or_insert(trigger);
        }
        let now = tokio::time::Instant::now();
        for (id, trigger) in wanted {
            if is_event(trigger) && last_start.get(&id).is_some_and(|t| now < *t + EVENT_PULL_INTERVAL) {
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
            let (storage, vault, waker, worker) = (storage.clone(), vault.clone(), waker.clone(), worker_id.clone());
            tasks.spawn(async move {
                let started = std::time::Instant::now();
                match pull_orders(&storage, &vault, &config, trigger).await {
                    Ok(summary) => tracing::info!(
                        log = %summary.log(),
                        trigger = trigger.as_str(),
                        ms = started.elapsed().as_millis() as u64,
                        "pulled orders"
                    ),
                    Err(e) => tracing::warn!(channel = %config.name, error = %e, "pulling orders failed"),
                }
                // A scheduled sync is a whole cycle: the standard push follows.
                if trigger == RunTrigger::Schedule
                    && let Err(e) = sync_channel(&storage, &vault, &config, RunKind::Standard, trigger, &worker).await
                {
                    tracing::warn!(channel = %config.name, error = %e, "scheduled sync failed");
                }
                waker.wake();
                config.id
            });
        }
        // Held pulls fall due when their channel's interval ends.
        let next = held
            .keys()
            .filter_map(|id| last_start.get(id))
            .map(|t| *t + EVENT_PULL_INTERVAL)
            .min()
            .unwrap_or(now + TICK)
            .min(now + TICK);
        tokio::select! {
            _ = requests.notify.notified() => {}
            Some(Ok(id)) = tasks.join_next(), if !tasks.is_empty() => {
                running.finish(id);
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
            kind: "sandbox".into(),
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
