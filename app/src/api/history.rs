//! The Sync History: runs, their item events, and a chart of pushes.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Runs per page of the Sync History.
pub const RUNS_PER_PAGE: i64 = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub channel: Option<i64>,
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Only runs started in the last this many hours.
    pub hours: Option<i64>,
    pub before: Option<i64>,
    /// Show this product's item events instead of runs.
    pub product: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub trigger: String,
    pub who: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub succeeded: i64,
    pub failed: i64,
    pub log: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub at: String,
    pub action: String,
    pub change: String,
    pub result: String,
    pub error: String,
    pub attempt: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    pub runs: Vec<RunView>,
    pub next_before: Option<i64>,
    pub channels: Vec<(i64, String)>,
    /// (hour, pushed, failed) over the last 24 hours; the hour's local
    /// start, e.g. "15:00 CET".
    pub chart: Vec<(String, i64, i64)>,
    /// A product's events, when the history is of one product.
    pub product_events: Option<(String, Vec<EventView>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetailView {
    pub run: RunView,
    pub events: Vec<EventView>,
}

#[server(endpoint = "list_history", input = GetUrl)]
pub async fn list_history(
    // An Option: no filter is sent as no field (see list_products).
    query: Option<HistoryQuery>,
) -> Result<HistoryView, AppError> {
    let query = query.unwrap_or_default();
    crate::api::ssr::require(sync_core::domain::Permission::Read).await?;
    let product = query.product.map(sync_core::domain::ProductId::new);
    let services = crate::api::ssr::services()?;
    let page = services.history.page(&query.filter(), product).await?;
    Ok(HistoryView::new(page, services.store.zone().await?))
}

#[cfg(feature = "ssr")]
impl HistoryQuery {
    /// The runs the query asks for, a page at a time.
    fn filter(&self) -> sync_core::service::RunFilter {
        use sync_core::domain::{ChannelId, Timestamp};
        sync_core::service::RunFilter {
            channel: self.channel.map(ChannelId::new),
            status: self.status.clone().filter(|s| !s.is_empty()),
            kind: self.kind.clone().filter(|s| !s.is_empty()),
            since: self.hours.map(|h| Timestamp::hours_ago(h.clamp(1, 24 * 366))),
            before: self.before.map(sync_core::service::RunId::new),
            limit: RUNS_PER_PAGE,
        }
    }
}

#[cfg(feature = "ssr")]
impl HistoryView {
    /// The page, its times in the store's time zone.
    fn new(page: sync_core::service::HistoryPage, zone: sync_core::domain::StoreZone) -> Self {
        let names: std::collections::HashMap<_, _> = page.channels.iter().cloned().collect();
        HistoryView {
            runs: page.runs.iter().map(|r| run_view(r, &names, zone)).collect(),
            next_before: page.next_before.map(|r| r.get()),
            channels: page
                .channels
                .iter()
                .map(|(id, name)| (id.get(), name.clone()))
                .collect(),
            chart: page
                .chart
                .into_iter()
                .map(|h| (zone.show_hour(&h.hour), h.succeeded, h.failed))
                .collect(),
            product_events: page
                .product
                .map(|(name, events)| (name, events.iter().map(|e| event_view(e, zone)).collect())),
        }
    }
}

#[server(endpoint = "get_run", input = GetUrl)]
pub async fn get_run(id: i64) -> Result<RunDetailView, AppError> {
    crate::api::ssr::require(sync_core::domain::Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let zone = services.store.zone().await?;
    match services.history.run_page(sync_core::service::RunId::new(id)).await? {
        Some((run, events, channels)) => Ok(RunDetailView {
            run: run_view(&run, &channels.into_iter().collect(), zone),
            events: events.iter().map(|e| event_view(e, zone)).collect(),
        }),
        None => crate::api::ssr::fail(AppError::NotFound(format!("Run {id}"))),
    }
}

#[cfg(feature = "ssr")]
fn run_view(
    r: &sync_core::service::RunRow,
    names: &std::collections::HashMap<sync_core::domain::ChannelId, String>,
    zone: sync_core::domain::StoreZone,
) -> RunView {
    RunView {
        id: r.id.get(),
        channel: r
            .channel_id
            .and_then(|c| names.get(&c).cloned())
            .unwrap_or_else(|| match r.kind {
                // Feeds change stock, not one channel: their pushes follow as auto runs.
                sync_core::service::RunKind::Feed => "Inventory feed".into(),
                _ => "All channels".into(),
            }),
        kind: r.kind.to_string(),
        trigger: r.trigger.as_str().replace('_', " "),
        who: r.actor_label.clone(),
        status: r.status.as_str().replace('_', " "),
        started_at: zone.show(r.started_at),
        finished_at: r.finished_at.map(|t| zone.show(t)).unwrap_or_default(),
        succeeded: r.items_succeeded,
        failed: r.items_failed,
        log: r.log.clone(),
    }
}

#[cfg(feature = "ssr")]
fn event_view(e: &sync_core::service::EventRow, zone: sync_core::domain::StoreZone) -> EventView {
    let change = match (&e.before_value, &e.after_value) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, Some(a)) => a.clone(),
        (Some(b), None) => format!("{b} → ?"),
        (None, None) => String::new(),
    };
    EventView {
        at: zone.show(e.created_at),
        action: e.action.clone(),
        change,
        result: e.result.to_string(),
        error: e.error.clone().unwrap_or_default(),
        attempt: e.attempt,
    }
}
