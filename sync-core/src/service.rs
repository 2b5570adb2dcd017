//! The one door into the sync core. The dashboard, the JSON API and the
//! command line call these services, one per area a merchant knows; each
//! owns its rules and transactions, and each that queues pushes wakes the
//! sync workers itself. The storage underneath is private to sync-core.

mod accounts;
mod catalog;
mod channels;
mod files;
mod history;
mod stock;
mod store;

use std::sync::Arc;

use crate::Result;
use crate::domain::Timestamp;
use crate::storage::{Engine, Storage};
use crate::sync::{OrderCycle, PullRequests, RunningSyncs, SyncEngine, Waker};
use crate::vault::Vault;

pub use accounts::{Accounts, ApiToken, NewToken, NewUser, SessionRow, ShownOnce, User};
pub use catalog::{
    AutoSyncChange, Catalog, ChannelCell, ChannelFilter, ImageEditForm, Outlet, ProductDetail, ProductEditForm,
    ProductFilter, ProductOverview, ProductSort, ProductsTable, VariantDetail, VariantEditForm, VariantStock,
};
pub use catalog::{FieldProblem, ImageInput, Named, ProductInput, ProductWrite, VariantInput};
pub use channels::{
    ChannelConfig, ChannelHealth, ChannelPage, ChannelSettings, ChannelSummary, Channels, ForcePage, NewChannel,
    SettingsSaved, ShopifyDelivery, SyncRequest, SyncStarted, WebhookVerdict,
};
pub use files::{AppliedUpload, FeedId, FeedRow, Files, ImportPage, NewFeed, NewUpload, Upload, too_large};
pub use history::{
    ChartFilter, ConflictAction, ConflictRow, EventResult, EventRow, History, HistoryPage, HourCount, NewEvent,
    OrderLineRow, OrderRow, OrderSummary, RunCause, RunFilter, RunId, RunKind, RunRow, RunStatus, RunTrigger,
};
pub use history::{FeedLine, FeedOrder, MAX_ORDER_PAGE, OrderCursor, OrderFeedPage, OrderFeedQuery};
pub use stock::{
    BalanceExplanation, IdempotencyKey, MAX_MOVEMENTS_PER_REQUEST, MAX_NOTE_CHARS, MovementBatch, MovementInput,
    MovementRecord, SkuStock, StockLedger,
};
pub use store::StoreSettings;

/// The default database: a SQLite file beside the working directory.
pub const DEFAULT_DATABASE_URL: &str = crate::storage::DEFAULT_DATABASE_URL;

/// An open, migrated database: what the services are built on.
#[derive(Clone)]
pub struct Database {
    storage: Storage,
}

impl Database {
    /// Opens the database at `url` (`sqlite://path` or `postgres://…`) and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self> {
        let storage = Storage::connect(url).await?;
        storage.migrate().await?;
        Ok(Self { storage })
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        self.storage.ping().await
    }

    pub async fn is_empty(&self) -> Result<bool> {
        self.storage.is_empty().await
    }

    pub async fn load_demo(&self) -> Result<crate::demo::DemoSummary> {
        crate::demo::load_demo(&self.storage).await
    }

    pub async fn load_demo_with(&self, size: crate::demo::DemoSize) -> Result<crate::demo::DemoSummary> {
        crate::demo::load_demo_with(&self.storage, size).await
    }

    pub async fn close(&self) {
        self.storage.close().await
    }
}

/// What every service shares.
#[derive(Clone)]
pub(crate) struct Core {
    pub(crate) storage: Storage,
    pub(crate) vault: Vault,
    /// Wakes the sync workers after pushes were queued.
    pub(crate) waker: Waker,
    /// Asks the order cycle to pull a channel.
    pub(crate) pulls: PullRequests,
    /// Button- and CLI-started syncs running in this process.
    pub(crate) running: Arc<RunningSyncs>,
    /// Channels whose pushes a sync a person started is doing itself: the
    /// engine's worker leaves them alone meanwhile, so that sync's run
    /// holds every push and its progress counts them all.
    pub(crate) held: Arc<RunningSyncs>,
    /// Set once this process runs the engine (`tillbridge serve`). A
    /// command-line process exits when its command is done, which would
    /// cut an action's background pushes off mid-flight: there, the
    /// serving processes' engines push what it queued.
    pub(crate) serving: Arc<std::sync::atomic::AtomicBool>,
}

impl Core {
    /// Wakes the workers when `queued` pushes are new.
    pub(crate) fn queued(&self, queued: u64) {
        if queued > 0 {
            self.waker.wake();
        }
    }

    /// Pushes what a person's action queued now, in the background, as one
    /// run per channel naming `cause` (a bulk action of a thousand
    /// quantities is one run of its person, not batches of "Auto Sync").
    /// A channel a sync is pushing to already is left to that sync; the
    /// buttons stay free (the outbox's claims keep two pushers apart).
    pub(crate) fn push_for(&self, cause: crate::storage::RunCause) {
        if !self.serving.load(std::sync::atomic::Ordering::SeqCst) {
            self.waker.wake();
            return;
        }
        let configs = {
            let core = self.clone();
            async move { core.storage.channel_configs().await }
        };
        let core = self.clone();
        tokio::spawn(async move {
            let configs = match configs.await {
                Ok(configs) => configs,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the channels to push an action's changes");
                    core.waker.wake();
                    return;
                }
            };
            let worker = format!("{}:{}", cause.trigger.as_str(), std::process::id());
            for config in configs {
                // A sync already pushing to the channel takes these too.
                if !core.held.start(config.id) {
                    continue;
                }
                let run = crate::sync::OpenRun::new(
                    core.storage.clone(),
                    Some(config.id),
                    crate::storage::RunKind::Auto,
                    cause.clone(),
                );
                let pushed = crate::sync::push_queued(&core.storage, &core.vault, &config, &run, &worker).await;
                let closed = match &pushed {
                    Ok(()) => run.close().await,
                    Err(e) => run.fail_with(&format!("The pushes stopped: {e}")).await,
                };
                core.held.finish(config.id);
                if let Err(e) = pushed.and(closed) {
                    tracing::warn!(channel = %config.name, error = %e, "an action's pushes failed; the engine takes them over");
                }
            }
            // Whatever is left (retries) is the engine's.
            core.waker.wake();
        });
    }
}

/// The services, built once at start-up and cloned into every handler.
#[derive(Clone)]
pub struct Services {
    pub catalog: Catalog,
    pub stock: StockLedger,
    pub channels: Channels,
    pub history: History,
    pub files: Files,
    pub accounts: Accounts,
    pub store: StoreSettings,
    core: Core,
}

impl Services {
    pub fn new(database: &Database, vault: Vault) -> Self {
        let core = Core {
            storage: database.storage.clone(),
            vault,
            waker: Waker::default(),
            pulls: PullRequests::default(),
            running: Arc::new(RunningSyncs::default()),
            held: Arc::new(RunningSyncs::default()),
            serving: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        Self {
            catalog: Catalog::new(core.clone()),
            stock: StockLedger::new(core.clone()),
            channels: Channels::new(core.clone()),
            history: History::new(core.clone()),
            files: Files::new(core.clone()),
            accounts: Accounts::new(core.clone()),
            store: StoreSettings::new(core.clone()),
            core,
        }
    }
}

/// The background work of `tillbridge serve`: a push worker per channel,
/// the order cycle and the inventory feeds.
pub struct Runtime {
    engine: SyncEngine,
    cycle: OrderCycle,
    feeds: crate::import::FeedScheduler,
}

/// What start-up found left over from the last stop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recovered {
    /// Pushes a crash left claimed, due again.
    pub pushes: u64,
    /// Runs cut short, marked interrupted.
    pub runs: u64,
}

impl Runtime {
    /// Makes work a crash left in flight due again, then starts the workers.
    /// `worker_id` names this process's claims, unique across processes.
    pub async fn start(services: &Services, worker_id: &str) -> Result<(Self, Recovered)> {
        let core = &services.core;
        core.serving.store(true, std::sync::atomic::Ordering::SeqCst);
        let pushes = core.storage.recover_outbox_after_crash().await?;
        // On PostgreSQL other live processes may be mid-run, so only SQLite (one process) marks them.
        let runs = match core.storage.engine() {
            Engine::Sqlite => core.storage.mark_interrupted_runs(Timestamp::now()).await?,
            Engine::Postgres => 0,
        };
        let engine = SyncEngine::start(
            core.storage.clone(),
            core.vault.clone(),
            worker_id.to_owned(),
            core.pulls.clone(),
            core.waker.clone(),
            core.held.clone(),
        );
        let cycle = OrderCycle::start(
            core.storage.clone(),
            core.vault.clone(),
            core.pulls.clone(),
            core.waker.clone(),
            core.running.clone(),
            worker_id.to_owned(),
        );
        let feeds = crate::import::FeedScheduler::start(core.storage.clone(), core.waker.clone());
        Ok((Self { engine, cycle, feeds }, Recovered { pushes, runs }))
    }

    /// Lets running pulls and batches finish, gives back claims, then stops.
    pub async fn shutdown(self) {
        self.cycle.shutdown().await;
        self.feeds.shutdown().await;
        self.engine.shutdown().await;
    }
}
