//! The Sync History, its conflicts, and the orders pulled from channels.

mod order_feed;

use super::Core;
use crate::Result;
use crate::domain::{ChannelId, ProductId, Timestamp};

pub use crate::storage::{
    ChartFilter, ConflictAction, ConflictRow, EventResult, EventRow, HourCount, NewEvent, OrderLineRow, OrderRow,
    RunCause, RunFilter, RunId, RunKind, RunRow, RunStatus, RunTrigger,
};
pub use order_feed::{FeedLine, FeedOrder, MAX_ORDER_PAGE, OrderCursor, OrderFeedPage, OrderFeedQuery};

#[derive(Clone)]
pub struct History {
    core: Core,
}

/// One page of the Sync History: its runs, the chart, and a product's own
/// item events when the history is of one product.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// (id, name) of every channel, for names and the filter.
    pub channels: Vec<(ChannelId, String)>,
    pub runs: Vec<RunRow>,
    /// The oldest run shown, when there may be more.
    pub next_before: Option<RunId>,
    pub chart: Vec<HourCount>,
    /// The product's name and events.
    pub product: Option<(String, Vec<EventRow>)>,
}

/// An order with what it did to stock, as the Orders page lists it.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    pub order: OrderRow,
    pub lines: Vec<OrderLineRow>,
    pub channel: String,
    /// Where it takes stock from.
    pub outlet: String,
    /// Units it takes from stock now.
    pub taken: i64,
}

impl History {
    pub(super) fn new(core: Core) -> Self {
        Self { core }
    }

    /// A page of runs (`filter`), the chart of the events `chart` counts,
    /// and one product's item events when `product` is given.
    pub async fn page(
        &self,
        filter: &RunFilter,
        chart_filter: &ChartFilter,
        product: Option<ProductId>,
    ) -> Result<HistoryPage> {
        let storage = &self.core.storage;
        // Disconnected channels too: their runs stay in the history.
        let (channels, runs, chart) = tokio::try_join!(
            storage.channel_names(),
            storage.list_runs(filter),
            storage.events_over_time(chart_filter),
        )?;
        let chart = every_bucket(chart, chart_filter);
        let next_before = (runs.len() as i64 == filter.limit)
            .then(|| runs.last().map(|r| r.id))
            .flatten();
        let product = match product {
            Some(id) => {
                let name = storage
                    .get_product(id)
                    .await?
                    .map_or_else(|| format!("product {id}"), |p| p.name);
                Some((name, storage.events_of(None, Some(id), 500).await?))
            }
            None => None,
        };
        Ok(HistoryPage {
            channels,
            runs,
            next_before,
            chart,
            product,
        })
    }

    /// A product's latest item events across channels, newest first.
    pub async fn product_events(&self, product: ProductId, limit: i64) -> Result<Vec<EventRow>> {
        self.core.storage.events_of(None, Some(product), limit).await
    }

    /// One run with its item events and every channel's (id, name), or None.
    pub async fn run_page(&self, id: RunId) -> Result<Option<(RunRow, Vec<EventRow>, Vec<(ChannelId, String)>)>> {
        let storage = &self.core.storage;
        let Some(run) = storage.run(id).await? else {
            return Ok(None);
        };
        let channels = storage.channel_names().await?;
        Ok(Some((run, storage.events_of(Some(id), None, 1000).await?, channels)))
    }

    /// Open conflicts, each with its channel's name.
    pub async fn open_conflicts(&self) -> Result<Vec<(ConflictRow, String)>> {
        let channels = self.core.storage.channel_names().await?;
        let name = |id: ChannelId| {
            channels
                .iter()
                .find(|(c, _)| *c == id)
                .map(|(_, name)| name.clone())
                .unwrap_or_default()
        };
        Ok(self
            .core
            .storage
            .open_conflicts(None)
            .await?
            .into_iter()
            .map(|c| {
                let channel = name(c.channel_id);
                (c, channel)
            })
            .collect())
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

    /// The newest orders of every channel, with what each takes from stock.
    pub async fn recent_orders(&self, limit: i64) -> Result<Vec<OrderSummary>> {
        let storage = &self.core.storage;
        let (outlets, channels, names) =
            tokio::try_join!(storage.list_outlets(), storage.list_channels(), storage.channel_names())?;
        Ok(storage
            .recent_orders(None, limit)
            .await?
            .into_iter()
            .map(|(order, lines)| {
                let channel = channels.iter().find(|c| c.id == order.channel_id);
                let outlet = channel
                    .and_then(|c| c.order_outlet_id)
                    .and_then(|id| outlets.iter().find(|x| x.id == id))
                    .map_or_else(|| "the order outlet".to_owned(), |x| x.name.clone());
                OrderSummary {
                    taken: lines.iter().map(|l| l.applied_quantity).sum(),
                    // A disconnected channel's orders still name it.
                    channel: names
                        .iter()
                        .find(|(id, _)| *id == order.channel_id)
                        .map(|(_, name)| name.clone())
                        .unwrap_or_default(),
                    outlet,
                    order,
                    lines,
                }
            })
            .collect())
    }
}

/// The chart's counts with every hour (or day) since the filter's start,
/// empty ones as zeros, so its axis reads as time.
fn every_bucket(counts: Vec<HourCount>, f: &ChartFilter) -> Vec<HourCount> {
    let (step, format) = if f.daily {
        (chrono::TimeDelta::days(1), "%Y-%m-%d")
    } else {
        (chrono::TimeDelta::hours(1), "%Y-%m-%dT%H")
    };
    let end = Timestamp::now().as_datetime();
    let mut buckets: Vec<String> = Vec::new();
    let mut at = f.since.as_datetime();
    // At most a month of hours or a couple of years of days.
    while at <= end && buckets.len() < 800 {
        buckets.push(at.format(format).to_string());
        at += step;
    }
    let now = end.format(format).to_string();
    if buckets.last() != Some(&now) {
        buckets.push(now);
    }
    buckets
        .into_iter()
        .map(|hour| {
            let found = counts.iter().find(|c| c.hour == hour);
            HourCount {
                succeeded: found.map_or(0, |c| c.succeeded),
                failed: found.map_or(0, |c| c.failed),
                hour,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_every_hour_of_its_range_with_the_counts_found() {
        let since = Timestamp::hours_ago(3);
        let this_hour = Timestamp::now().as_datetime().format("%Y-%m-%dT%H").to_string();
        let counts = vec![HourCount {
            hour: this_hour.clone(),
            succeeded: 5,
            failed: 1,
        }];
        let filter = ChartFilter {
            channel: None,
            kind: None,
            status: None,
            since,
            daily: false,
        };
        let chart = every_bucket(counts, &filter);
        assert_eq!(chart.len(), 4, "three hours ago to this hour: {chart:?}");
        let last = chart.last().expect("this hour");
        assert_eq!(
            (last.hour.as_str(), last.succeeded, last.failed),
            (this_hour.as_str(), 5, 1)
        );
        assert!(chart[..3].iter().all(|h| h.succeeded == 0 && h.failed == 0));
    }
}
