//! What a channel is doing now, for its page's live progress.

use super::manual::RunningSyncs;
use crate::connector::push_rate;
use crate::domain::{ChannelId, Timestamp};
use crate::storage::{RunRow, Storage};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct ChannelProgress {
    pub pending: i64,
    /// A button- or CLI-started sync is running in this process.
    pub running: bool,
    pub last_push_at: Option<Timestamp>,
    /// Seconds left at the channel's rate limit, while pushes are pending.
    pub eta_seconds: Option<f64>,
    pub latest_run: Option<RunRow>,
}

pub async fn channel_progress(
    storage: &Storage,
    running: &RunningSyncs,
    channel: ChannelId,
) -> Result<ChannelProgress> {
    let Some(summary) = storage.list_channels().await?.into_iter().find(|c| c.id == channel) else {
        return Err(Error::NotFound(format!("channel {}", channel.get())));
    };
    let pending = storage.pending_pushes(channel).await?;
    let rate = push_rate(summary.kind);
    Ok(ChannelProgress {
        pending,
        running: running.is_running(channel),
        last_push_at: summary.last_push_at,
        eta_seconds: (pending > 0).then(|| pending as f64 / rate),
        latest_run: storage.recent_runs(Some(channel), 1).await?.into_iter().next(),
    })
}
