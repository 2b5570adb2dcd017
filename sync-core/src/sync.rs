//! Pushing to channels: the per-channel worker that drains the outbox, and
//! the engine that runs one worker per channel in the server process.

mod backoff;
mod clock;
mod conflicts;
mod cycle;
mod engine;
mod force;
mod manual;
mod orders;
mod products;
mod progress;
mod run;
mod signals;
mod sweep;
mod worker;
mod written;

pub use backoff::{MAX_PUSH_ATTEMPTS, retry_delay};
pub use clock::{Clock, ManualClock, SystemClock};
pub use conflicts::settle_conflict;
pub use cycle::{CycleOutcome, OrderCycle, sync_all};
pub use engine::SyncEngine;
pub use force::{ChannelOnlyProduct, ForceOptions, ForcePreview, force_sync, preview_force};
pub use manual::{RunningSyncs, SyncSummary, push_queued, sync_channel};
pub use orders::{PullSummary, pull_orders};
pub use progress::{ChannelProgress, channel_progress};
pub use run::OpenRun;
pub use signals::{PullRequests, Waker};
pub use sweep::Sweep;
pub use worker::{BatchReport, ChannelWorker};
