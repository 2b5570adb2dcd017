//! What a channel is doing now, for its page's live progress.

use super::manual::RunningSyncs;
use crate::connector::push_rate;
use crate::domain::{ChannelId, Timestamp};
use crate::storage::{RunId, RunRow, RunStatus, Storage};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct ChannelProgress {
    pub pending: i64,
    /// A button- or CLI-started sync is running in this process.
    pub running: bool,
    pub last_push_at: Option<Timestamp>,
    /// Seconds left at the channel's rate limit: of the followed run while
    /// it goes on, else of the pushes pending.
    pub eta_seconds: Option<f64>,
    /// The run the page follows (the one its button started), or the
    /// channel's latest.
    pub latest_run: Option<RunRow>,
}

/// `follow`: the run a page started and follows to its end; a run of
/// another channel is not followed.
pub async fn channel_progress(
    storage: &Storage,
    running: &RunningSyncs,
    channel: ChannelId,
    follow: Option<RunId>,
) -> Result<ChannelProgress> {
    let Some(summary) = storage.list_channels().await?.into_iter().find(|c| c.id == channel) else {
        return Err(Error::NotFound(format!("channel {}", channel.get())));
    };
    let pending = storage.pending_pushes(channel).await?;
    let rate = push_rate(summary.kind);
    let followed = match follow {
        Some(id) => storage.run(id).await?.filter(|r| r.channel_id == Some(channel)),
        None => None,
    };
    let latest_run = match followed {
        Some(run) => Some(run),
        None => storage.recent_runs(Some(channel), 1).await?.into_iter().next(),
    };
    let eta_seconds = match &latest_run {
        Some(r) if follow.is_some() && r.status == RunStatus::Running && r.quantities_total > 0 => {
            let left = (r.quantities_total - r.quantities_done).max(0);
            Some(left as f64 / rate)
        }
        _ => (pending > 0).then(|| pending as f64 / rate),
    };
    Ok(ChannelProgress {
        pending,
        running: running.is_running(channel),
        last_push_at: summary.last_push_at,
        eta_seconds,
        latest_run,
    })
}
