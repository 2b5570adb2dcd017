//! Runs one worker per channel inside `tillbridge serve`, wakes them when
//! stock changes, stops a channel's worker when the channel is
//! disconnected and restarts it when its credentials change, and on
//! shutdown lets each finish its batch and give back whatever it still holds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::manual::RunningSyncs;
use super::run::OpenRun;
use super::signals::{PullRequests, Waker};
use super::worker::ChannelWorker;
use crate::connector::AnyConnector;
use crate::domain::ChannelId;
use crate::storage::{ChannelConfig, RunKind, RunTrigger, Storage};
use crate::vault::Vault;

/// How often idle workers look for work other processes may have queued.
const POLL: Duration = Duration::from_millis(200);
const CHANNEL_REFRESH: Duration = Duration::from_secs(2);
/// How soon a worker stopped for new credentials is looked at again.
const RESTART_CHECK: Duration = Duration::from_millis(100);

pub struct SyncEngine {
    waker: Waker,
    stop: watch::Sender<bool>,
    supervisor: JoinHandle<()>,
}

impl SyncEngine {
    /// `pulls` is where a worker asks for a pull of its channel's orders
    /// when a push finds the channel's figure moved; `waker` is what the
    /// services ring after queueing pushes or changing a channel; `held`,
    /// the channels a sync a person started is pushing to itself (their
    /// workers wait until it ends).
    pub fn start(
        storage: Storage,
        vault: Vault,
        worker_id: String,
        pulls: PullRequests,
        waker: Waker,
        held: Arc<RunningSyncs>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let supervisor = tokio::spawn(supervise(
            storage,
            vault,
            worker_id,
            pulls,
            waker.clone(),
            held,
            stopped,
        ));
        Self {
            waker,
            stop,
            supervisor,
        }
    }

    /// Wakes idle workers: stock changed and the outbox has new rows.
    pub fn notify(&self) {
        self.waker.wake();
    }

    /// A handle that wakes the workers, for request handlers.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// Stops every worker after its current batch and releases its claims.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.supervisor.await;
    }
}

/// The worker driving one channel, with the configuration it was built
/// from and its own stop (the engine's stop reaches it too).
struct Running {
    config: ChannelConfig,
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

async fn supervise(
    storage: Storage,
    vault: Vault,
    worker_id: String,
    pulls: PullRequests,
    waker: Waker,
    held: Arc<RunningSyncs>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut workers: HashMap<ChannelId, Running> = HashMap::new();
    loop {
        match storage.channel_configs().await {
            Ok(configs) => {
                // A disconnected channel is no longer listed: its worker stops
                // at once (its queued pushes went with it).
                workers.retain(|id, running| {
                    let listed = configs.iter().any(|c| c.id == *id);
                    if !listed {
                        running.handle.abort();
                        tracing::info!(channel = %running.config.name, "channel disconnected; its worker stopped");
                    }
                    listed
                });
                for config in configs {
                    if let Some(running) = workers.get(&config.id)
                        && !running.handle.is_finished()
                    {
                        if running.config != config {
                            // New credentials or settings: finish the batch, then
                            // start again with them (on a later round).
                            let _ = running.stop.send(true);
                        }
                        continue;
                    }
                    match AnyConnector::for_channel(&storage, &vault, &config) {
                        Ok(connector) => {
                            let worker = ChannelWorker::new(storage.clone(), config.id, connector, worker_id.clone())
                                .with_pull_requests(pulls.clone());
                            let (stop, own) = watch::channel(false);
                            let handle = tokio::spawn(drive(
                                worker,
                                storage.clone(),
                                held.clone(),
                                waker.work.clone(),
                                stopped.clone(),
                                own,
                            ));
                            workers.insert(config.id, Running { config, stop, handle });
                        }
                        Err(e) => {
                            tracing::warn!(channel = %config.name, error = %e, "cannot drive this channel yet")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the channels"),
        }
        // A worker told to stop for new credentials is restarted soon after.
        let restarting = workers.values().any(|r| *r.stop.borrow());
        let refresh = if restarting { RESTART_CHECK } else { CHANNEL_REFRESH };
        tokio::select! {
            _ = tokio::time::sleep(refresh) => {}
            _ = waker.channels.notified() => {}
            _ = stopped.changed() => break,
        }
    }
    for (_, running) in workers {
        let _ = running.handle.await;
    }
    match storage.release_outbox(&worker_id).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "released claimed pushes for other workers"),
        Err(e) => {
            tracing::warn!(error = %e, "could not release claimed pushes; their leases will expire")
        }
    }
}

async fn drive(
    worker: ChannelWorker<AnyConnector>,
    storage: Storage,
    held: Arc<RunningSyncs>,
    notify: Arc<Notify>,
    stopped: watch::Receiver<bool>,
    own: watch::Receiver<bool>,
) {
    // Quantities and product fields run in loops of their own: a product
    // write waiting for the channel to fetch its images never holds up a
    // sale's figure. Each loop records its batches into one run for as long
    // as it keeps finding work: one bulk action is one run, whatever the
    // number of batches it takes.
    let channel = worker.channel();
    let open = || {
        OpenRun::new(
            storage.clone(),
            Some(channel),
            RunKind::Auto,
            RunTrigger::StockChange.into(),
        )
    };
    let (quantity_run, product_run) = (open(), open());
    // While a sync a person started pushes to the channel itself, it does
    // the work (its run holds it all) and these loops wait.
    let quantities = pace(&notify, stopped.clone(), own.clone(), channel, || async {
        if held.is_running(channel) {
            quantity_run.close().await?;
            return Ok(0);
        }
        let claimed = worker.run_once_in(&quantity_run).await?.claimed;
        if claimed == 0 || quantity_run.is_old() {
            quantity_run.close().await?;
        }
        Ok(claimed)
    });
    let products = pace(&notify, stopped, own, channel, || async {
        if held.is_running(channel) {
            product_run.close().await?;
            return Ok(0);
        }
        let claimed = worker.run_catalog_in(&product_run).await?.claimed;
        if claimed == 0 || product_run.is_old() {
            product_run.close().await?;
        }
        Ok(claimed)
    });
    tokio::join!(quantities, products);
    for run in [quantity_run, product_run] {
        if let Err(e) = run.close().await {
            tracing::warn!(channel = %channel, error = %e, "could not close a run on stopping");
        }
    }
}

/// Runs `batch` while it finds work, then waits for a wake-up or the poll.
async fn pace<F, Fut>(
    notify: &Notify,
    mut stopped: watch::Receiver<bool>,
    mut own: watch::Receiver<bool>,
    channel: ChannelId,
    mut batch: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::Result<usize>>,
{
    loop {
        if *stopped.borrow() || *own.borrow() {
            break;
        }
        // Register interest before claiming, so a change committed meanwhile still wakes us.
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match batch().await {
            Ok(claimed) if claimed > 0 => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(channel = %channel, error = %e, "sync batch failed; retrying shortly");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stopped.changed() => break,
            _ = own.changed() => break,
        }
    }
}
