//! Inventory feeds: a URL serving a CSV of stock, fetched with a timeout
//! and a size limit, checked like an uploaded file and applied all or
//! nothing. Every fetch is a run in the Sync History; a feed that fails or
//! sends something other than CSV (a web page, JSON, nothing) changes
//! nothing and shows up as a failed run.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::feed_guard::{self, AllowedNetworks};
use super::stock::{StockFileOptions, StockMode, apply_stock};
use super::{ApplyOutcome, MAX_FILE_BYTES};
use crate::Result;
use crate::domain::{Actor, MovementReason, OutletCode, Timestamp};
use crate::storage::{EventResult, FeedRow, NewEvent, RunId, RunKind, RunTrigger, Storage};
use crate::sync::Waker;

/// How often the scheduler looks for feeds that are due.
const TICK: Duration = Duration::from_secs(5);

/// Redirects a feed may take before it counts as broken.
const MAX_REDIRECTS: usize = 5;

/// How long a fetch may take, how much it may bring, and where it may go.
#[derive(Debug, Clone)]
pub struct FeedLimits {
    pub timeout: Duration,
    pub max_bytes: usize,
    /// Networks besides public addresses a feed may reach (the operator's
    /// `TILLBRIDGE_FEED_ALLOW_NETWORKS`).
    pub allowed: Arc<AllowedNetworks>,
}

impl Default for FeedLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_bytes: MAX_FILE_BYTES,
            allowed: Arc::new(AllowedNetworks::from_env()),
        }
    }
}

/// How one fetch of a feed went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRun {
    pub run: RunId,
    pub succeeded: bool,
    /// The run's log line: what changed, or why nothing did.
    pub message: String,
    /// Stock figures changed.
    pub changes: usize,
}

/// Fetches `url` and returns its body if it is plausibly CSV; otherwise
/// says what came back instead.
pub async fn fetch_feed(url: &str, limits: &FeedLimits) -> std::result::Result<Vec<u8>, String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| format!("{url:?} is not an address"))?;
    // Written as an address, no resolver sees it: checked here, and at
    // every redirect; names are checked by the resolver.
    if let Some(ip) = feed_guard::literal_ip(&parsed)
        && !limits.allowed.permits(ip)
    {
        return Err(feed_guard::refusal(parsed.host_str().unwrap_or_default(), ip));
    }
    let allowed = limits.allowed.clone();
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        let refused = feed_guard::literal_ip(attempt.url())
            .filter(|ip| !allowed.permits(*ip))
            .map(|ip| feed_guard::refusal(attempt.url().host_str().unwrap_or_default(), ip));
        match refused {
            Some(reason) => attempt.error(reason),
            None if attempt.previous().len() >= MAX_REDIRECTS => {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            }
            None => attempt.follow(),
        }
    });
    let client = reqwest::Client::builder()
        .timeout(limits.timeout)
        .connect_timeout(limits.timeout.min(Duration::from_secs(10)))
        .redirect(redirects)
        .dns_resolver(Arc::new(feed_guard::GuardedResolver {
            allowed: limits.allowed.clone(),
        }))
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot prepare the request: {e}"))?;
    let mut response = client
        .get(parsed)
        .header(reqwest::header::ACCEPT, "text/csv, text/plain;q=0.5")
        .send()
        .await
        .map_err(|e| describe(&e, limits))?;
    // The address actually connected to, checked once more.
    if let Some(peer) = response.remote_addr()
        && !limits.allowed.permits(peer.ip())
    {
        return Err(feed_guard::refusal(
            response.url().host_str().unwrap_or_default(),
            peer.ip(),
        ));
    }
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the feed answered HTTP {status}, not the CSV"));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_lowercase();
    if let Some(what) = not_csv_type(&content_type) {
        return Err(format!("the feed sent {what} ({content_type}), not CSV"));
    }
    if response.content_length().is_some_and(|n| n > limits.max_bytes as u64) {
        return Err(too_large(limits));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e, limits))? {
        if body.len() + chunk.len() > limits.max_bytes {
            return Err(too_large(limits));
        }
        body.extend_from_slice(&chunk);
    }
    if let Some(what) = not_csv_content(&body) {
        return Err(format!("the feed sent {what}, not CSV"));
    }
    Ok(body)
}

/// At most EXCERPT_CHARS printable characters of `text`.
fn excerpt(text: &str) -> String {
    const EXCERPT_CHARS: usize = 300;
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS + 1)
        .collect();
    match clean.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    }
}

fn too_large(limits: &FeedLimits) -> String {
    format!("the feed is larger than the {} MB limit", limits.max_bytes / 1_048_576)
}

fn describe(e: &reqwest::Error, limits: &FeedLimits) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", limits.timeout.as_secs_f64());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.contains("scheme is not http") {
        return "only http:// and https:// addresses can be fetched".into();
    }
    text
}

/// A content type that is surely not CSV, named for the person reading the log.
fn not_csv_type(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    match essence {
        ""
        | "text/csv"
        | "text/plain"
        | "application/csv"
        | "text/comma-separated-values"
        | "application/vnd.ms-excel"
        | "application/octet-stream" => None,
        e if e.contains("html") => Some("a web page"),
        e if e.contains("json") => Some("JSON"),
        e if e.contains("xml") => Some("XML"),
        e if e.starts_with("text/") => None,
        _ => Some("something else"),
    }
}

/// A body that is surely not CSV whatever its content type says.
fn not_csv_content(body: &[u8]) -> Option<&'static str> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| body[i]) {
        None => Some("an empty body"),
        Some(b'<') => Some("HTML or XML"),
        Some(b'{' | b'[') => Some("JSON"),
        Some(_) => None,
    }
}

/// Fetches `feed` and applies it, recording the fetch as a run in the Sync
/// History (kind `feed`) with an event per changed figure, or a failed run
/// with the reason when nothing could be applied.
pub async fn run_feed(
    storage: &Storage,
    feed: &FeedRow,
    trigger: RunTrigger,
    actor: &Actor,
    limits: &FeedLimits,
) -> Result<FeedRun> {
    let label = crate::storage::RunCause::by(trigger, actor).who;
    let run = storage.start_run(None, RunKind::Feed, trigger, &label).await?;
    let outcome = match fetch_feed(&feed.url, limits).await {
        Err(reason) => Err(reason),
        Ok(body) => {
            let options = StockFileOptions {
                mode: StockMode::parse(&feed.mode).ok(),
                outlet: OutletCode::parse(&feed.outlet_code).ok(),
                reason: MovementReason::InventoryFeed,
                reference: format!("feed {}", feed.name),
            };
            match apply_stock(storage, actor, &body, &options, None).await {
                Ok(ApplyOutcome::Applied { preview, .. }) => Ok(preview),
                // What a feed answered is never echoed at length into the
                // history viewers read: a few reasons, each cut short.
                Ok(ApplyOutcome::Refused(preview)) => Err(excerpt(&preview.describe_errors(3))),
                Err(e) => {
                    tracing::error!(feed = %feed.name, error.cause_chain = ?e, "applying a feed failed");
                    Err("Tillbridge could not apply it (see the server log)".to_owned())
                }
            }
        }
    };
    let (succeeded, message, changes) = match outcome {
        Ok(preview) => {
            let events: Vec<NewEvent> = preview
                .changes
                .iter()
                .map(|c| NewEvent {
                    product_id: Some(c.product_id),
                    variant_id: Some(c.variant_id),
                    action: format!("stock at {}", c.outlet),
                    before: Some(c.before.to_string()),
                    after: Some(c.after.to_string()),
                    result: EventResult::Succeeded,
                    error: None,
                    attempt: 1,
                })
                .collect();
            storage.record_events(Some(run), None, &label, &events).await?;
            let message = format!(
                "Feed {:?}: {} rows read, {} stock figures changed at {}, {} already right.",
                feed.name,
                preview.rows,
                preview.changes.len(),
                feed.outlet_code,
                preview.unchanged
            );
            storage
                .finish_run(run, preview.changes.len() as i64, 0, &message)
                .await?;
            (true, message, preview.changes.len())
        }
        Err(reason) => {
            let message = format!("Feed {:?} failed, so nothing changed: {reason}", feed.name);
            let event = NewEvent {
                product_id: None,
                variant_id: None,
                action: "fetch feed".into(),
                before: None,
                after: Some(feed.url.clone()),
                result: EventResult::Failed,
                error: Some(reason),
                attempt: 1,
            };
            storage.record_events(Some(run), None, &label, &[event]).await?;
            storage.finish_run(run, 0, 1, &message).await?;
            (false, message, 0)
        }
    };
    storage.finish_feed(feed.id, succeeded, &message).await?;
    Ok(FeedRun {
        run,
        succeeded,
        message,
        changes,
    })
}

/// Fetches scheduled feeds when they are due, inside `tillbridge serve`.
/// With several processes on one database each due fetch happens once.
pub struct FeedScheduler {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FeedScheduler {
    /// Starts the scheduler; `waker` tells the sync workers when a feed changed stock.
    pub fn start(storage: Storage, waker: Waker) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(schedule(storage, waker, stopped));
        Self { stop, task }
    }

    /// Stops it; a fetch under way is abandoned and changes nothing.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn schedule(storage: Storage, waker: Waker, mut stopped: watch::Receiver<bool>) {
    loop {
        let work = async {
            match storage.claim_due_feeds(Timestamp::now()).await {
                Ok(feeds) => {
                    for feed in feeds {
                        match run_feed(
                            &storage,
                            &feed,
                            RunTrigger::Schedule,
                            &Actor::System,
                            &FeedLimits::default(),
                        )
                        .await
                        {
                            Ok(r) if r.succeeded => {
                                if r.changes > 0 {
                                    waker.wake();
                                }
                                tracing::info!(feed = %feed.name, changes = r.changes, "fetched an inventory feed");
                            }
                            Ok(r) => tracing::warn!(feed = %feed.name, "{}", r.message),
                            Err(e) => tracing::warn!(feed = %feed.name, error = %e, "could not run an inventory feed"),
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the inventory feeds"),
            }
        };
        tokio::select! {
            () = work => {}
            _ = stopped.changed() => break,
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stopped.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_pages_json_and_nothing_are_not_csv() {
        assert_eq!(not_csv_type("text/html; charset=utf-8"), Some("a web page"));
        assert_eq!(not_csv_type("application/json"), Some("JSON"));
        assert_eq!(not_csv_type("text/csv; charset=utf-8"), None);
        assert_eq!(not_csv_type(""), None);
        assert_eq!(not_csv_content(b"  \n<!doctype html><html>"), Some("HTML or XML"));
        assert_eq!(not_csv_content(b"{\"sku\": 1}"), Some("JSON"));
        assert_eq!(not_csv_content(b" \r\n"), Some("an empty body"));
        assert_eq!(not_csv_content(b"\xEF\xBB\xBFsku,count\n"), None);
    }
}
