//! Pushing to channels: the per-channel worker that drains the outbox, and
//! the engine that runs one worker per channel in the server process.

mod backoff;
mod engine;
mod worker;

pub use backoff::retry_delay;
pub use engine::SyncEngine;
pub use worker::{BatchReport, ChannelWorker};
