//! Pushing to channels: the per-channel worker that drains the outbox, and
//! the engine that runs one worker per channel in the server process.

mod backoff;
mod conflicts;
mod engine;
mod force;
mod manual;
mod progress;
mod worker;

pub use backoff::retry_delay;
pub use conflicts::settle_conflict;
pub use engine::{SyncEngine, Waker};
pub use force::{ChannelOnlyProduct, ForceOptions, ForcePreview, force_sync, preview_force};
pub use manual::{RunningSyncs, SyncSummary, sync_channel};
pub use progress::{ChannelProgress, channel_progress};
pub use worker::{BatchReport, ChannelWorker};
