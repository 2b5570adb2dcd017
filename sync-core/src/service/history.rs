//! The Sync History, its conflicts, and the orders pulled from channels.

use super::Core;
use crate::Result;
use crate::domain::{ChannelId, ProductId, Timestamp};

pub use crate::storage::{
    ConflictAction, ConflictRow, EventResult, EventRow, HourCount, NewEvent, OrderLineRow, OrderRow, RunFilter, RunId,
    RunKind, RunRow, RunStatus, RunTrigger,
};

#[derive(Clone)]
pub struct History {
    core: Core,
}

impl History {
    pub(super) fn new(core: Core) -> Self {
        Self { core }
    }

    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRow>> {
        self.core.storage.list_runs(filter).await
    }

    pub async fn recent_runs(&self, channel: Option<ChannelId>, limit: i64) -> Result<Vec<RunRow>> {
        self.core.storage.recent_runs(channel, limit).await
    }

    pub async fn run(&self, id: RunId) -> Result<Option<RunRow>> {
        self.core.storage.run(id).await
    }

    /// Item events of a run or of a product, newest first.
    pub async fn events(&self, run: Option<RunId>, product: Option<ProductId>, limit: i64) -> Result<Vec<EventRow>> {
        self.core.storage.events_of(run, product, limit).await
    }

    /// Pushes and failures per hour since `since`, for the chart.
    pub async fn per_hour(&self, channel: Option<ChannelId>, since: Timestamp) -> Result<Vec<HourCount>> {
        self.core.storage.events_per_hour(channel, since).await
    }

    pub async fn open_conflicts(&self) -> Result<Vec<ConflictRow>> {
        self.core.storage.open_conflicts(None).await
    }

    pub async fn count_open_conflicts(&self) -> Result<i64> {
        self.core.storage.count_open_conflicts().await
    }

    /// Settles a conflict as a person chose; what it queues is pushed at once.
    pub async fn settle(&self, id: i64, action: ConflictAction, who: &str) -> Result<String> {
        let done = crate::sync::settle_conflict(&self.core.storage, &self.core.vault, id, action, who).await?;
        self.core.waker.wake();
        Ok(done)
    }

    /// The newest orders of every channel, with their lines.
    pub async fn recent_orders(&self, limit: i64) -> Result<Vec<(OrderRow, Vec<OrderLineRow>)>> {
        self.core.storage.recent_orders(None, limit).await
    }
}
