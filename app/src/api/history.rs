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
    /// (hour, pushed, failed) over the last 24 hours.
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
pub async fn list_history(#[server(default)] query: HistoryQuery) -> Result<HistoryView, AppError> {
    use sync_core::domain::{ChannelId, Permission, Timestamp};
    use sync_core::service::{RunFilter, RunId};
    crate::api::ssr::require(Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let hours_ago = |h: i64| Timestamp::hours_ago(h.clamp(1, 24 * 366));
    let filter = RunFilter {
        channel: query.channel.map(ChannelId::new),
        status: query.status.filter(|s| !s.is_empty()),
        kind: query.kind.filter(|s| !s.is_empty()),
        since: query.hours.map(hours_ago),
        before: query.before.map(RunId::new),
        limit: RUNS_PER_PAGE,
    };
    // Independent queries side by side: the chart reads a day of events.
    let (channels, runs, chart) = futures::try_join!(
        services.channels.list(),
        services.history.runs(&filter),
        services.history.per_hour(filter.channel, hours_ago(24)),
    )?;
    let next_before = (runs.len() as i64 == RUNS_PER_PAGE)
        .then(|| runs.last().map(|r| r.id.get()))
        .flatten();
    let names: std::collections::HashMap<_, _> = channels.iter().map(|c| (c.id, c.name.clone())).collect();
    let product_events = match query.product {
        Some(id) => {
            let pid = sync_core::domain::ProductId::new(id);
            let name = services
                .catalog
                .product(pid)
                .await?
                .map(|p| p.name)
                .unwrap_or_else(|| format!("product {id}"));
            let events = services.history.events(None, Some(pid), 500).await?;
            Some((name, events.iter().map(event_view).collect()))
        }
        None => None,
    };
    Ok(HistoryView {
        runs: runs.iter().map(|r| run_view(r, &names)).collect(),
        next_before,
        channels: channels.iter().map(|c| (c.id.get(), c.name.clone())).collect(),
        chart: chart.into_iter().map(|h| (h.hour, h.succeeded, h.failed)).collect(),
        product_events,
    })
}

#[server(endpoint = "get_run", input = GetUrl)]
pub async fn get_run(id: i64) -> Result<RunDetailView, AppError> {
    use sync_core::domain::Permission;
    crate::api::ssr::require(Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let run_id = sync_core::service::RunId::new(id);
    let Some(run) = services.history.run(run_id).await? else {
        return crate::api::ssr::fail(AppError::NotFound(format!("Run {id}")));
    };
    let names = services
        .channels
        .list()
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let events = services.history.events(Some(run_id), None, 1000).await?;
    Ok(RunDetailView {
        run: run_view(&run, &names),
        events: events.iter().map(event_view).collect(),
    })
}

#[cfg(feature = "ssr")]
fn run_view(
    r: &sync_core::service::RunRow,
    names: &std::collections::HashMap<sync_core::domain::ChannelId, String>,
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
        started_at: r.started_at.to_string(),
        finished_at: r.finished_at.map(|t| t.to_string()).unwrap_or_default(),
        succeeded: r.items_succeeded,
        failed: r.items_failed,
        log: r.log.clone(),
    }
}

#[cfg(feature = "ssr")]
fn event_view(e: &sync_core::service::EventRow) -> EventView {
    let change = match (&e.before_value, &e.after_value) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, Some(a)) => a.clone(),
        (Some(b), None) => format!("{b} → ?"),
        (None, None) => String::new(),
    };
    EventView {
        at: e.created_at.to_string(),
        action: e.action.clone(),
        change,
        result: e.result.to_string(),
        error: e.error.clone().unwrap_or_default(),
        attempt: e.attempt,
    }
}
