//! Processing after the answer: each new image is downloaded from its
//! source over real HTTP in a background task, checked, and turned `READY`
//! (served by the test server's CDN path) or `FAILED`.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};

use super::files::extension;
use super::format::{ImageFormat, Sniffed, sniff};
use super::model::{MediaFailure, MediaImage, MediaJob, MediaState, ReadyImage};
use crate::shopify::store::Store;
use crate::shopify::{Inner, lock};

/// Shopify's limits for product images: 20 MB and 25 megapixels.
const MAX_BYTES: usize = 20 * 1024 * 1024;
const MAX_PIXELS: u64 = 25_000_000;

/// Where the CDN serves files (Shopify: `cdn.shopify.com/s/files/1/…/files/`).
const CDN_PREFIX: &str = "/s/files/1/0000/0001/files/";

/// How processing behaves; changed through the server's setters.
pub struct MediaSettings {
    delay_ms: AtomicU64,
    timeout_ms: AtomicU64,
    allow_internal: AtomicBool,
    client: reqwest::Client,
}

impl MediaSettings {
    /// 50 ms before `PROCESSING` and again before the outcome, a 5 s
    /// download timeout, internal addresses refused.
    pub fn new() -> MediaSettings {
        MediaSettings {
            delay_ms: AtomicU64::new(50),
            timeout_ms: AtomicU64::new(5_000),
            allow_internal: AtomicBool::new(false),
            client: reqwest::Client::builder()
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
        }
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn set_timeout(&self, timeout: Duration) {
        self.timeout_ms.store(timeout.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn set_allow_internal(&self, allow: bool) {
        self.allow_internal.store(allow, Ordering::SeqCst);
    }

    fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(Ordering::SeqCst))
    }
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings::new()
    }
}

/// Starts the downloads the last mutations queued.
pub fn spawn_pending(inner: &Arc<Inner>) {
    let jobs = std::mem::take(&mut lock(&inner.store).media_jobs);
    for job in jobs {
        tokio::spawn(process(inner.clone(), job));
    }
}

enum Outcome {
    Image(ImageFormat, Bytes),
    Failed(MediaFailure),
}

async fn process(inner: Arc<Inner>, job: MediaJob) {
    let delay = inner.media.delay();
    tokio::time::sleep(delay).await;
    if !mark_processing(&inner, &job) {
        return;
    }
    let outcome = match download(&inner.media, &job.source).await {
        Ok((bytes, content_type)) => examine(bytes, content_type.as_deref()),
        Err(failure) => Outcome::Failed(failure),
    };
    tokio::time::sleep(delay).await;
    settle(&inner, &job, outcome);
}

/// The job's file, if it still waits for this job (not removed, not given
/// a newer source, not settled).
fn waiting<'s>(store: &'s mut Store, job: &MediaJob) -> Option<&'s mut MediaImage> {
    store
        .media
        .get_mut(&job.media_id)
        .filter(|m| m.generation == job.generation && !m.state.is_settled())
}

fn mark_processing(inner: &Inner, job: &MediaJob) -> bool {
    let mut store = lock(&inner.store);
    let Some(m) = waiting(&mut store, job) else {
        return false;
    };
    m.state = MediaState::Processing;
    m.updated_at = Utc::now();
    true
}

fn settle(inner: &Inner, job: &MediaJob, outcome: Outcome) {
    let mut store = lock(&inner.store);
    let Some(m) = waiting(&mut store, job) else {
        return;
    };
    let now = Utc::now();
    m.state = match outcome {
        Outcome::Failed(failure) => MediaState::Failed(failure),
        Outcome::Image(format, bytes) => {
            if extension(&m.filename).is_none() {
                m.filename = format!("{}.{}", m.filename, format.extension);
            }
            let path = format!("{CDN_PREFIX}{}", url_escape(&m.filename));
            MediaState::Ready(ReadyImage {
                url: format!("http://{}{path}?v={}", inner.addr, now.timestamp()),
                path,
                mime: format.mime,
                width: format.width,
                height: format.height,
                bytes,
            })
        }
    };
    m.updated_at = now;
}

/// The body and `Content-Type` of a 2xx answer within the timeout.
async fn download(settings: &MediaSettings, source: &str) -> Result<(Bytes, Option<String>), MediaFailure> {
    let url = reqwest::Url::parse(source).map_err(|_| MediaFailure::Download)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(MediaFailure::Download);
    }
    if is_internal(&url) && !settings.allow_internal.load(Ordering::SeqCst) {
        return Err(MediaFailure::Download);
    }
    let fetch = async {
        let mut response = settings
            .client
            .get(url)
            .send()
            .await
            .map_err(|_| MediaFailure::Download)?;
        if !response.status().is_success() {
            return Err(MediaFailure::Download);
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| MediaFailure::Download)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BYTES {
                return Err(MediaFailure::TooLarge);
            }
        }
        Ok((Bytes::from(body), content_type))
    };
    tokio::time::timeout(settings.timeout(), fetch)
        .await
        .map_err(|_| MediaFailure::Download)?
}

/// Loopback, private, link-local and `localhost`/`.internal` hosts: what
/// Shopify's servers can't (or won't) reach.
fn is_internal(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default().to_lowercase();
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified(),
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback() || ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Err(_) => {
            host == "localhost"
                || host.ends_with(".localhost")
                || host.ends_with(".internal")
                || host.ends_with(".local")
        }
    }
}

fn examine(bytes: Bytes, content_type: Option<&str>) -> Outcome {
    match sniff(&bytes) {
        Sniffed::Image(f) if u64::from(f.width) * u64::from(f.height) > MAX_PIXELS => {
            Outcome::Failed(MediaFailure::Resolution)
        }
        Sniffed::Image(f) => Outcome::Image(f, bytes),
        Sniffed::Broken => Outcome::Failed(MediaFailure::Processing),
        Sniffed::Unknown if content_type.is_some_and(|t| t.trim().to_lowercase().starts_with("image/")) => {
            Outcome::Failed(MediaFailure::Processing)
        }
        Sniffed::Unknown => Outcome::Failed(MediaFailure::UnsupportedType),
    }
}

/// Percent-escapes what may not stand in a URL path segment.
fn url_escape(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Answers a GET on the CDN path: the bytes of a ready image, else 404.
pub fn serve_file(inner: &Inner, path: &str) -> Response<Full<Bytes>> {
    let store = lock(&inner.store);
    let found = store
        .media
        .values()
        .filter_map(|m| m.state.ready())
        .find(|r| r.path == path);
    let builder = Response::builder();
    let response = match found {
        Some(r) => builder
            .status(StatusCode::OK)
            .header("content-type", r.mime)
            .body(Full::new(r.bytes.clone())),
        None => builder
            .status(StatusCode::NOT_FOUND)
            .header("content-type", "text/plain")
            .body(Full::new(Bytes::from_static(b"Not Found"))),
    };
    response.unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
