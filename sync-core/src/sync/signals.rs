//! The two ways work is asked for inside `tillbridge serve`: waking the
//! push workers after pushes were queued, and asking the order cycle to
//! pull a channel. Handles only; the engine and the cycle listen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::domain::ChannelId;
use crate::storage::RunTrigger;

/// Wakes idle workers after a change was committed, and the engine after
/// a channel was disconnected or given new credentials.
#[derive(Clone, Default)]
pub struct Waker {
    pub(super) work: Arc<Notify>,
    pub(super) channels: Arc<Notify>,
}

impl Waker {
    pub fn wake(&self) {
        self.work.notify_waiters();
    }

    /// The channels changed: the engine reads them again now, stopping the
    /// workers of channels disconnected and restarting those whose
    /// credentials changed.
    pub fn channels_changed(&self) {
        self.channels.notify_one();
    }
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

    /// Every pull asked for since the last take.
    pub(super) fn take(&self) -> HashMap<ChannelId, RunTrigger> {
        std::mem::take(&mut *self.wanted.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Resolves when a pull is asked for.
    pub(super) async fn asked(&self) {
        self.notify.notified().await
    }
}
