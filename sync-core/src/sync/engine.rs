//! Runs one worker per channel inside `tillbridge serve`, wakes them when
//! stock changes, and on shutdown lets each finish its batch and give back
//! whatever it still holds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::signals::{PullRequests, Waker};
use super::worker::ChannelWorker;
use crate::connector::AnyConnector;
use crate::domain::ChannelId;
use crate::storage::Storage;
use crate::vault::Vault;

/// How often idle workers look for work other processes may have queued.
const POLL: Duration = Duration::from_millis(200);
const CHANNEL_REFRESH: Duration = Duration::from_secs(2);

pub struct SyncEngine {
    notify: Arc<Notify>,
    stop: watch::Sender<bool>,
    supervisor: JoinHandle<()>,
}

impl SyncEngine {
    /// `pulls` is where a worker asks for a pull of its channel's orders
    /// when a push finds the channel's figure moved; `waker` is what the
    /// services ring after queueing pushes.
    pub fn start(storage: Storage, vault: Vault, worker_id: String, pulls: PullRequests, waker: Waker) -> Self {
        let notify = waker.0;
        let (stop, stopped) = watch::channel(false);
        let supervisor = tokio::spawn(supervise(storage, vault, worker_id, pulls, notify.clone(), stopped));
        Self {
            notify,
            stop,
            supervisor,
        }
    }

    /// Wakes idle workers: stock changed and the outbox has new rows.
    pub fn notify(&self) {
        self.notify.notify_waiters();
    }

    /// A handle that wakes the workers, for request handlers.
    pub fn waker(&self) -> Waker {
        Waker(self.notify.clone())
    }

    /// Stops every worker after its current batch and releases its claims.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.supervisor.await;
    }
}

async fn supervise(
    storage: Storage,
    vault: Vault,
    worker_id: String,
    pulls: PullRequests,
    notify: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut workers: HashMap<ChannelId, JoinHandle<()>> = HashMap::new();
    loop {
        match storage.channel_configs().await {
            Ok(configs) => {
                for config in configs {
                    if workers.get(&config.id).is_some_and(|h| !h.is_finished()) {
                        continue;
                    }
                    match AnyConnector::for_channel(&storage, &vault, &config) {
                        Ok(connector) => {
                            let worker = ChannelWorker::new(storage.clone(), config.id, connector, worker_id.clone())
                                .with_pull_requests(pulls.clone());
                            let handle = tokio::spawn(drive(worker, notify.clone(), stopped.clone()));
                            workers.insert(config.id, handle);
                        }
                        Err(e) => {
                            tracing::warn!(channel = %config.name, error = %e, "cannot drive this channel yet")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the channels"),
        }
        tokio::select! {
            _ = tokio::time::sleep(CHANNEL_REFRESH) => {}
            _ = stopped.changed() => break,
        }
    }
    for (_, handle) in workers {
        let _ = handle.await;
    }
    match storage.release_outbox(&worker_id).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, "released claimed pushes for other workers"),
        Err(e) => {
            tracing::warn!(error = %e, "could not release claimed pushes; their leases will expire")
        }
    }
}

async fn drive(worker: ChannelWorker<AnyConnector>, notify: Arc<Notify>, mut stopped: watch::Receiver<bool>) {
    loop {
        if *stopped.borrow() {
            break;
        }
        // Register interest before claiming, so a change committed meanwhile still wakes us.
        let woken = notify.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        // Quantities first (they sell), then product fields.
        let work = async {
            Ok::<_, crate::Error>(worker.run_once().await?.claimed + worker.run_catalog_once().await?.claimed)
        };
        match work.await {
            Ok(claimed) if claimed > 0 => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(channel = %worker.channel(), error = %e, "sync batch failed; retrying shortly");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stopped.changed() => break,
        }
    }
}
