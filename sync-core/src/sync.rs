//! Pushing to channels: the per-channel worker that drains the outbox, and
//! the engine that runs one worker per channel in the server process.

mod backoff;
mod engine;
mod manual;
mod worker;

pub use backoff::retry_delay;
pub use engine::{SyncEngine, Waker};
pub use manual::{RunningSyncs, SyncSummary, sync_channel};
pub use worker::{BatchReport, ChannelWorker};
