//! The Sync History: runs, their item events, a chart of pushes, and a
//! product's own history.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Runs per page of the Sync History.
pub const RUNS_PER_PAGE: i64 = 50;

/// Events in a product page's own Sync History.
pub const PRODUCT_EVENTS: i64 = 10;

/// The Kind filter's choices: (value, words).
pub const KINDS: &[(&str, &str)] = &[
    ("auto", "Auto"),
    ("standard", "Standard sync"),
    ("force", "Force sync"),
    ("sync_all", "Sync all"),
    ("pull_orders", "Order pull"),
    ("import", "Import"),
    ("feed", "Feed"),
];

/// The Status filter's choices: (value, words).
pub const STATUSES: &[(&str, &str)] = &[
    ("succeeded", "Succeeded"),
    ("partially_failed", "Partly failed"),
    ("failed", "Failed"),
    ("interrupted", "Interrupted"),
    ("running", "Running"),
];

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

impl HistoryQuery {
    /// Whether any filter narrows the runs.
    pub fn is_filtered(&self) -> bool {
        self.channel.is_some() || self.status.is_some() || self.kind.is_some() || self.hours.is_some()
    }

    /// The page's address with these filters and `before`.
    pub fn url(&self, before: Option<i64>) -> String {
        let mut parts = Vec::new();
        let pairs = [
            ("channel", self.channel.map(|c| c.to_string())),
            ("status", self.status.clone()),
            ("kind", self.kind.clone()),
            ("hours", self.hours.map(|h| h.to_string())),
            ("before", before.map(|b| b.to_string())),
        ];
        for (k, v) in pairs {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        if parts.is_empty() {
            "/history".into()
        } else {
            format!("/history?{}", parts.join("&"))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub channel: String,
    /// The kind in words ("Order pull").
    pub kind: String,
    pub trigger: String,
    pub who: String,
    /// The status as stored (`partially_failed`), for styles and tests.
    pub status_key: String,
    /// The status in words ("Partly failed").
    pub status: String,
    pub started_at: String,
    pub finished_at: String,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub log: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub at: String,
    /// The SKU, or the product's name for a product's own fields.
    pub item: String,
    pub product_id: Option<i64>,
    pub channel: String,
    pub action: String,
    pub change: String,
    pub result: String,
    pub result_key: String,
    pub error: String,
    pub attempt: i64,
    pub who: String,
    pub run_id: Option<i64>,
}

/// One bar of the chart: its label ("14:00" or "7 Dec"), pushes and failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartBar {
    pub label: String,
    pub pushed: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    pub runs: Vec<RunView>,
    pub next_before: Option<i64>,
    pub channels: Vec<(i64, String)>,
    pub chart: Vec<ChartBar>,
    /// What the chart shows, e.g. "Items pushed and failed per hour, last 24 hours (CET)".
    pub chart_caption: String,
    /// A product's name and events, when the history is of one product.
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
    let zone = services.store.zone().await?;
    let page = services.history.page(&query.filter(), &query.chart(), product).await?;
    Ok(HistoryView::new(page, query.chart_caption(zone), zone))
}

/// A product's latest item events across channels, for its page.
#[server(endpoint = "product_history", input = GetUrl)]
pub async fn product_history(id: i64) -> Result<Vec<EventView>, AppError> {
    crate::api::ssr::require(sync_core::domain::Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let zone = services.store.zone().await?;
    let events = services
        .history
        .product_events(sync_core::domain::ProductId::new(id), PRODUCT_EVENTS)
        .await?;
    Ok(events.iter().map(|e| event_view(e, zone)).collect())
}

#[cfg(feature = "ssr")]
impl HistoryQuery {
    /// Hours the chart covers: the time filter's, or the last day.
    fn chart_hours(&self) -> i64 {
        self.hours.unwrap_or(24).clamp(1, 24 * 366)
    }

    /// What the chart shows; hours are the store's, days are UTC days.
    fn chart_caption(&self, zone: sync_core::domain::StoreZone) -> String {
        let hours = self.chart_hours();
        let range = match hours {
            1 => "last hour".to_owned(),
            h if h <= 48 => format!("last {h} hours"),
            h => format!("last {} days", h / 24),
        };
        let per = if hours > 48 { "day" } else { "hour" };
        let zone = if hours > 48 { "UTC".to_owned() } else { zone.to_string() };
        format!("Items pushed and failed per {per}, {range} ({zone})")
    }
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

    /// The chart's events: those of the runs the filters list.
    fn chart(&self) -> sync_core::service::ChartFilter {
        use sync_core::domain::{ChannelId, Timestamp};
        let hours = self.chart_hours();
        sync_core::service::ChartFilter {
            channel: self.channel.map(ChannelId::new),
            kind: self.kind.clone().filter(|s| !s.is_empty()),
            status: self.status.clone().filter(|s| !s.is_empty()),
            since: Timestamp::hours_ago(hours),
            daily: hours > 48,
        }
    }
}

#[cfg(feature = "ssr")]
impl HistoryView {
    /// The page, its times in the store's time zone.
    fn new(page: sync_core::service::HistoryPage, chart_caption: String, zone: sync_core::domain::StoreZone) -> Self {
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
                .map(|h| ChartBar {
                    // Hours in the store's zone; days as UTC days.
                    label: if h.hour.contains('T') {
                        zone.show_hour(&h.hour)
                    } else {
                        bucket_label(&h.hour)
                    },
                    pushed: h.succeeded,
                    failed: h.failed,
                })
                .collect(),
            chart_caption,
            product_events: page
                .product
                .map(|(name, events)| (name, events.iter().map(|e| event_view(e, zone)).collect())),
        }
    }
}

/// "2026-12-07T14" → "14:00"; "2026-12-07" → "7 Dec".
#[cfg(feature = "ssr")]
fn bucket_label(bucket: &str) -> String {
    if let Some((_, hour)) = bucket.split_once('T') {
        return format!("{hour}:00");
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = bucket.split('-').skip(1);
    match (
        parts.next().and_then(|m| m.parse::<usize>().ok()),
        parts.next().and_then(|d| d.parse::<u32>().ok()),
    ) {
        (Some(m @ 1..=12), Some(d)) => format!("{d} {}", MONTHS[m - 1]),
        _ => bucket.to_owned(),
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
        kind: r.kind.label().to_owned(),
        trigger: r.trigger.label().to_owned(),
        who: r.actor_label.clone(),
        status_key: r.status.as_str().to_owned(),
        status: r.status.label().to_owned(),
        started_at: zone.show(r.started_at),
        finished_at: r.finished_at.map(|t| zone.show(t)).unwrap_or_default(),
        succeeded: r.items_succeeded,
        failed: r.items_failed,
        skipped: r.items_skipped,
        log: r.log.clone(),
    }
}

#[cfg(feature = "ssr")]
fn event_view(e: &sync_core::service::EventRow, zone: sync_core::domain::StoreZone) -> EventView {
    let change = match (&e.before_value, &e.after_value) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, Some(a)) => a.clone(),
        (Some(b), None) => b.clone(),
        (None, None) => String::new(),
    };
    let result = match e.result {
        sync_core::service::EventResult::Succeeded => "Succeeded",
        sync_core::service::EventResult::Failed => "Failed",
        sync_core::service::EventResult::Skipped => "Skipped",
    };
    EventView {
        at: zone.show(e.created_at),
        item: e
            .sku
            .clone()
            .or_else(|| e.product_name.clone())
            .unwrap_or_else(|| "—".into()),
        product_id: e.product_id.map(|p| p.get()),
        channel: e.channel_name.clone().unwrap_or_else(|| "All channels".into()),
        action: capitalised(&e.action),
        change,
        result: result.into(),
        result_key: e.result.as_str().into(),
        error: e.error.clone().unwrap_or_default(),
        attempt: e.attempt,
        who: e.actor_label.clone(),
        run_id: e.run_id.map(|r| r.get()),
    }
}

/// "quantity" → "Quantity".
#[cfg(feature = "ssr")]
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_runs_keep_the_filters_and_an_unfiltered_page_is_plain() {
        let q = HistoryQuery {
            kind: Some("pull_orders".into()),
            hours: Some(24),
            ..HistoryQuery::default()
        };
        assert!(q.is_filtered());
        assert_eq!(q.url(Some(40)), "/history?kind=pull_orders&hours=24&before=40");
        assert_eq!(HistoryQuery::default().url(None), "/history");
        assert!(!HistoryQuery::default().is_filtered());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn chart_buckets_read_as_hours_or_days() {
        assert_eq!(bucket_label("2026-12-07T09"), "09:00");
        assert_eq!(bucket_label("2026-12-07"), "7 Dec");
        assert_eq!(
            HistoryQuery::default().chart_caption(sync_core::domain::StoreZone::default()),
            "Items pushed and failed per hour, last 24 hours (UTC)"
        );
        let kolkata = sync_core::domain::StoreZone::parse("Asia/Kolkata").expect("a zone");
        assert_eq!(
            HistoryQuery::default().chart_caption(kolkata),
            "Items pushed and failed per hour, last 24 hours (Asia/Kolkata)"
        );
        let week = HistoryQuery {
            hours: Some(168),
            ..HistoryQuery::default()
        };
        assert_eq!(
            week.chart_caption(kolkata),
            "Items pushed and failed per day, last 7 days (UTC)"
        );
    }
}
