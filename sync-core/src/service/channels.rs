//! Channels: connecting, disconnecting and re-keying them, their settings
//! and health, and the syncs a person starts (buttons, the command line). Every sync a person starts
//! goes through `sync_all`, seed 001's cycle: every channel's orders are
//! pulled, then every channel is pushed to.

mod webhook_guard;

use std::sync::Arc;

use self::webhook_guard::WebhookGuard;
use super::Core;
use crate::Result;
use crate::connect::{ConnectError, Connected, ShopifyConnection, VendureConnection};
use crate::domain::{Actor, ChannelId, ChannelKind, DomainError, Timestamp};
use crate::sync::{ChannelProgress, CycleOutcome, ForceOptions, ForcePreview, RunningSyncs, SyncSummary};

use crate::storage::Outlet;
pub use crate::storage::{ChannelConfig, ChannelSettings, ChannelSummary, NewChannel, PushLatency};
use crate::storage::{EventResult, NewEvent, RunCause, RunKind, RunTrigger};
use crate::sync::OpenRun;

#[derive(Clone)]
pub struct Channels {
    core: Core,
    webhooks: WebhookGuard,
}

/// A channel as the Channels page lists it.
#[derive(Debug, Clone)]
pub struct ChannelHealth {
    pub channel: ChannelSummary,
    /// The outlets combined for the channel.
    pub outlets: Vec<Outlet>,
    pub pending: i64,
    pub failures_24h: i64,
    /// Stock change to acknowledgement over the last hour.
    pub latency: Option<PushLatency>,
}

/// A channel's settings page: the channel, its settings, every outlet to
/// choose from and what it is doing now.
#[derive(Debug, Clone)]
pub struct ChannelPage {
    pub config: ChannelConfig,
    pub settings: ChannelSettings,
    pub outlets: Vec<Outlet>,
    pub progress: ChannelProgress,
}

/// What a force sync of a channel would change, and its saved choice for
/// the products found only in the channel.
#[derive(Debug, Clone)]
pub struct ForcePage {
    pub config: ChannelConfig,
    pub preview: ForcePreview,
    pub policy: crate::domain::ChannelOnlyPolicy,
}

/// What saving a channel's settings did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingsSaved {
    /// Quantities queued because the balance may have changed.
    pub queued: u64,
    /// The order outlet was unticked and stays included (seed 004).
    pub order_outlet_kept: bool,
}

/// A sync a person asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRequest {
    /// "Sync new data": orders pulled, then changes pushed.
    Standard,
    /// Every product and quantity overwritten in the channel.
    Force(ForceOptions),
}

/// What became of a channel's webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookVerdict {
    /// A pull of the channel's orders was asked for.
    Accepted,
    /// The signature was missing or wrong; counted, and reported in the
    /// Sync History at most once a minute per channel.
    Refused(&'static str),
    /// Validly signed but stale or a repeat (see `ShopifyDelivery`):
    /// acknowledged, so Shopify stops retrying it, and nothing pulled.
    Ignored(&'static str),
    NoSuchChannel,
    /// The channel has no webhook secret.
    NotTaken,
}

/// A Shopify webhook delivery as it came: the raw body and the headers
/// that matter (`X-Shopify-Topic`, `-Hmac-Sha256`, `-Webhook-Id`,
/// `-Triggered-At`). Only the body is signed.
#[derive(Debug, Clone, Copy)]
pub struct ShopifyDelivery<'a> {
    pub topic: &'a str,
    pub body: &'a [u8],
    pub signature: Option<&'a str>,
    pub webhook_id: Option<&'a str>,
    pub triggered_at: Option<&'a str>,
}

/// The longest header value kept in the Sync History.
const MAX_HEADER_CHARS: usize = 100;

/// A header as the Sync History keeps it: at most `MAX_HEADER_CHARS`
/// characters, control characters dropped.
fn header_excerpt(value: &str) -> String {
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    match clean.char_indices().nth(MAX_HEADER_CHARS) {
        Some((cut, _)) => format!("{}…", &clean[..cut]),
        None => clean,
    }
}

/// Which channels' syncs started, and which were already running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStarted {
    pub started: Vec<String>,
    pub busy: Vec<String>,
    /// The runs of the force syncs started, in the order of `started`,
    /// so the page that started one follows that run.
    pub runs: Vec<crate::storage::RunId>,
}

impl Channels {
    pub(super) fn new(core: Core) -> Self {
        Self {
            core,
            webhooks: WebhookGuard::default(),
        }
    }

    pub async fn list(&self) -> Result<Vec<ChannelSummary>> {
        self.core.storage.list_channels().await
    }

    pub async fn get(&self, id: ChannelId) -> Result<Option<ChannelConfig>> {
        self.core.storage.channel(id).await
    }

    pub async fn by_name(&self, name: &str) -> Result<Option<ChannelConfig>> {
        self.core.storage.channel_by_name(name).await
    }

    pub async fn configs(&self) -> Result<Vec<ChannelConfig>> {
        self.core.storage.channel_configs().await
    }

    /// Every channel with its outlets, queue, failures and latency.
    pub async fn health(&self) -> Result<Vec<ChannelHealth>> {
        let storage = &self.core.storage;
        let outlets = storage.list_outlets().await?;
        let mut out = Vec::new();
        for channel in storage.list_channels().await? {
            let ids = storage.channel_outlets(channel.id).await?;
            out.push(ChannelHealth {
                outlets: outlets.iter().filter(|o| ids.contains(&o.id)).cloned().collect(),
                pending: storage.pending_pushes(channel.id).await?,
                failures_24h: storage.failures_since(channel.id, Timestamp::hours_ago(24)).await?,
                latency: storage.push_latency(channel.id, Timestamp::hours_ago(1)).await?,
                channel,
            });
        }
        Ok(out)
    }

    /// The settings page of a channel, or None when there is no such channel.
    pub async fn page(&self, id: ChannelId) -> Result<Option<ChannelPage>> {
        let Some(config) = self.get(id).await? else {
            return Ok(None);
        };
        Ok(Some(ChannelPage {
            config,
            settings: self.settings(id).await?,
            outlets: self.core.storage.list_outlets().await?,
            progress: self.progress(id).await?,
        }))
    }

    /// A force sync's preview page, read from the channel now.
    pub async fn force_page(&self, id: ChannelId) -> Result<Option<ForcePage>> {
        let Some(config) = self.get(id).await? else {
            return Ok(None);
        };
        Ok(Some(ForcePage {
            preview: self.force_preview(&config).await?,
            policy: self.settings(id).await?.channel_only,
            config,
        }))
    }

    pub async fn settings(&self, id: ChannelId) -> Result<ChannelSettings> {
        self.core.storage.channel_settings(id).await
    }

    /// Saves the settings and queues the quantities they may change. The
    /// outlet that takes the channel's orders is always offered (seed 004).
    pub async fn save_settings(&self, id: ChannelId, settings: &ChannelSettings) -> Result<SettingsSaved> {
        let order_outlet_kept = settings.order_outlet.is_some_and(|o| !settings.outlets.contains(&o));
        let queued = self.core.storage.update_channel_settings(id, settings).await?;
        self.core.waker.wake();
        Ok(SettingsSaved {
            queued,
            order_outlet_kept,
        })
    }

    /// Adds a channel that needs no connection check (the Sandbox store).
    pub async fn create(&self, new: &NewChannel) -> Result<ChannelId> {
        let id = self.core.storage.create_channel(new).await?;
        self.core.waker.wake();
        Ok(id)
    }

    pub async fn connect_shopify(&self, conn: &ShopifyConnection, token: &str) -> Result<Connected, ConnectError> {
        let connected = crate::connect::connect_shopify(&self.core.storage, &self.core.vault, conn, token).await?;
        self.core.waker.wake();
        Ok(connected)
    }

    pub async fn connect_vendure(&self, conn: &VendureConnection, api_key: &str) -> Result<Connected, ConnectError> {
        let connected = crate::connect::connect_vendure(&self.core.storage, &self.core.vault, conn, api_key).await?;
        self.core.waker.wake();
        Ok(connected)
    }

    /// Disconnects a channel: its worker stops at once and nothing more is
    /// pushed there; its credentials and queued pushes are dropped, its
    /// products stay in the channel as they are, and its Sync History stays
    /// (recording who disconnected it). Returns the channel's name.
    pub async fn disconnect(&self, actor: &Actor, id: ChannelId) -> Result<String> {
        if self.core.running.is_running(id) {
            return Err(crate::Error::Conflict(
                "a sync of this channel is running; disconnect it once the sync ends".into(),
            ));
        }
        let Some(name) = self.core.storage.disconnect_channel(id, &actor.label()).await? else {
            return Err(crate::Error::NotFound(format!("channel {}", id.get())));
        };
        self.core.waker.channels_changed();
        let event = NewEvent {
            product_id: None,
            variant_id: None,
            action: "disconnect channel".into(),
            before: Some(name.clone()),
            after: None,
            result: EventResult::Succeeded,
            error: Some(
                "disconnected: nothing more is pushed there; its products stay in the channel as they are".into(),
            ),
            attempt: 1,
        };
        self.core
            .storage
            .record_events(None, Some(id), &actor.label(), &[event])
            .await?;
        Ok(name)
    }

    /// Replaces a Shopify token or a Vendure API key. The new one is checked
    /// against the channel first (as Test connection does) and saved only
    /// if it works there and still reaches the channel's location; a
    /// refusal names the field `secret` and leaves the old one in place.
    /// The channel's worker starts again with it.
    pub async fn replace_credentials(
        &self,
        actor: &Actor,
        id: ChannelId,
        secret: &str,
    ) -> Result<String, ConnectError> {
        let Some(config) = self.core.storage.channel(id).await? else {
            return Err(crate::Error::NotFound(format!("channel {}", id.get())).into());
        };
        let checked = check_credentials(&config, secret.trim()).await?;
        let sealed = self.core.vault.seal(secret.trim())?;
        if !self.core.storage.set_channel_credentials(id, &sealed).await? {
            return Err(crate::Error::NotFound(format!("channel {}", id.get())).into());
        }
        self.core.waker.channels_changed();
        let event = NewEvent {
            product_id: None,
            variant_id: None,
            action: "replace credentials".into(),
            before: None,
            after: None,
            result: EventResult::Succeeded,
            error: Some(checked.clone()),
            attempt: 1,
        };
        self.core
            .storage
            .record_events(None, Some(id), &actor.label(), &[event])
            .await?;
        Ok(checked)
    }

    /// Asks the channel who it is with the stored credentials.
    pub async fn test(&self, id: ChannelId) -> Result<String, ConnectError> {
        crate::connect::test_connection(&self.core.storage, &self.core.vault, id).await
    }

    /// What the channel is doing now, for its live progress.
    pub async fn progress(&self, id: ChannelId) -> Result<ChannelProgress> {
        crate::sync::channel_progress(&self.core.storage, &self.core.running, id, None).await
    }

    /// What the channel is doing now, following `run` (the one a page's
    /// button started) to its end rather than the channel's latest run.
    pub async fn progress_of(&self, id: ChannelId, run: Option<crate::storage::RunId>) -> Result<ChannelProgress> {
        crate::sync::channel_progress(&self.core.storage, &self.core.running, id, run).await
    }

    /// What a force sync of the channel would change, read from the channel now.
    pub async fn force_preview(&self, config: &ChannelConfig) -> Result<ForcePreview> {
        crate::sync::preview_force(&self.core.storage, &self.core.vault, config).await
    }

    /// A Shopify webhook: a good signature on a fresh delivery asks for a
    /// pull of the channel's orders (the pull reads them, so duplicates and
    /// late deliveries are harmless); refusals are counted and reported in
    /// the Sync History at most once a minute per channel.
    pub async fn receive_shopify_webhook(
        &self,
        id: ChannelId,
        delivery: &ShopifyDelivery<'_>,
    ) -> Result<WebhookVerdict> {
        let signature = delivery.signature;
        match crate::webhook::verify_delivery(&self.core.storage, &self.core.vault, id, delivery.body, signature).await
        {
            Ok(true) => {
                let now = Timestamp::now().as_datetime();
                if let Some(reason) =
                    self.webhooks
                        .stale_or_repeated(id, delivery.webhook_id, delivery.triggered_at, now)
                {
                    return Ok(WebhookVerdict::Ignored(reason));
                }
                self.core.pulls.request(id, RunTrigger::Webhook);
                Ok(WebhookVerdict::Accepted)
            }
            Ok(false) => {
                let reason = if signature.is_none() {
                    "no signature"
                } else {
                    "a signature that does not match"
                };
                if let Some(count) = self.webhooks.refused(id) {
                    let error = match count {
                        1 => format!("a webhook came with {reason}; it was ignored"),
                        n => format!(
                            "{n} webhooks were refused since the last report, the latest with {reason}; they were ignored"
                        ),
                    };
                    self.report_refused(id, Some(header_excerpt(delivery.topic)), error)
                        .await?;
                }
                Ok(WebhookVerdict::Refused(reason))
            }
            Err(crate::Error::NotFound(_)) => Ok(WebhookVerdict::NoSuchChannel),
            Err(e) => {
                tracing::warn!(channel = id.get(), error = %e, "cannot check a webhook");
                Ok(WebhookVerdict::NotTaken)
            }
        }
    }

    /// A Vendure order event, posted to the channel's webhook address.
    /// Vendure signs nothing, so the address carries a secret (compared by
    /// hash, in constant time) and the body is never trusted: a delivery only
    /// asks for a pull of the channel's orders, coalesced per channel.
    /// Refusals are counted like Shopify's.
    pub async fn receive_vendure_event(&self, id: ChannelId, secret: &str) -> Result<WebhookVerdict> {
        match self.core.storage.channel(id).await? {
            Some(config) if config.kind == ChannelKind::Vendure => {}
            _ => return Ok(WebhookVerdict::NoSuchChannel),
        }
        let Some(stored) = self.core.storage.webhook_secret(id).await? else {
            return Ok(WebhookVerdict::NotTaken);
        };
        if crate::webhook::vendure_secret_matches(&stored, secret) {
            self.core.pulls.request(id, RunTrigger::Webhook);
            return Ok(WebhookVerdict::Accepted);
        }
        if let Some(count) = self.webhooks.refused(id) {
            let error = match count {
                1 => "an order event came to a webhook address with the wrong secret; it was ignored".to_owned(),
                n => format!(
                    "{n} order events came to a webhook address with the wrong secret since the last report; they were ignored"
                ),
            };
            self.report_refused(id, None, error).await?;
        }
        Ok(WebhookVerdict::Refused("a wrong secret"))
    }

    /// The history's report of refused webhooks of channel `id` (at most
    /// one a minute, as the refusal counter allows): `before` the topic.
    async fn report_refused(&self, id: ChannelId, before: Option<String>, error: String) -> Result<()> {
        let event = NewEvent {
            product_id: None,
            variant_id: None,
            action: "webhook refused".into(),
            before,
            after: None,
            result: EventResult::Failed,
            error: Some(error),
            attempt: 1,
        };
        self.core
            .storage
            .record_events(None, Some(id), "webhook", &[event])
            .await
    }

    /// Seed 002: signing in brings in the orders of every channel that has
    /// not pulled for a few minutes, so what the user sees is current.
    pub async fn pull_stale(&self) -> Result<()> {
        const STALE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
        let now = Timestamp::now().as_datetime();
        for (config, _, last_pull) in self.core.storage.channel_schedules().await? {
            // A channel pulling right now (say, at start-up) is about to be current.
            let stale = last_pull.is_none_or(|t| t.as_datetime() + STALE < now);
            if stale && !self.core.running.is_running(config.id) {
                self.core.pulls.request(config.id, RunTrigger::SignIn);
            }
        }
        Ok(())
    }

    /// Starts a sync of each channel in the background, one per channel at
    /// a time: a channel already syncing is named in `busy` instead. Its
    /// runs name `cause`'s person. A force sync's run is in the history
    /// before this returns.
    pub async fn start(
        &self,
        configs: Vec<ChannelConfig>,
        request: SyncRequest,
        cause: RunCause,
    ) -> Result<SyncStarted> {
        let running = self.core.running.clone();
        let (free, busy): (Vec<_>, Vec<_>) = configs.into_iter().partition(|c| running.start(c.id));
        let mut started = SyncStarted {
            started: free.iter().map(|c| c.name.clone()).collect(),
            busy: busy.into_iter().map(|c| c.name).collect(),
            runs: Vec::new(),
        };
        if free.is_empty() {
            return Ok(started);
        }
        let mut runs = Vec::new();
        if let SyncRequest::Force(_) = request {
            for config in &free {
                let run = OpenRun::new(
                    self.core.storage.clone(),
                    Some(config.id),
                    RunKind::Force,
                    cause.clone(),
                );
                match run.id().await {
                    Ok(id) => started.runs.push(id),
                    Err(e) => {
                        free.iter().for_each(|c| running.finish(c.id));
                        return Err(e);
                    }
                }
                runs.push(run);
            }
        }
        let core = self.core.clone();
        // The engine's workers leave these channels to this sync until it ends.
        free.iter().for_each(|c| {
            core.held.start(c.id);
        });
        tokio::spawn(async move {
            let worker = format!("{}:{}", cause.trigger.as_str(), std::process::id());
            let _free = Finish(running, free.iter().map(|c| c.id).collect());
            let _held = Finish(core.held.clone(), free.iter().map(|c| c.id).collect());
            match request {
                SyncRequest::Force(options) => {
                    for (config, run) in free.iter().zip(&runs) {
                        match crate::sync::force_sync(&core.storage, &core.vault, config, options, run, &worker).await {
                            Ok(summary) => tracing::info!(log = %summary.log(), "force sync finished"),
                            Err(e) => tracing::warn!(channel = %config.name, error = %e, "force sync failed"),
                        }
                    }
                }
                SyncRequest::Standard => {
                    match crate::sync::sync_all(&core.storage, &core.vault, &free, &cause, &worker).await {
                        Ok(done) => {
                            for outcome in done {
                                tracing::info!(pulled = %outcome.pull_log(), pushed = %outcome.pushed.log(), "sync finished");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "sync failed"),
                    }
                }
            }
            core.waker.wake();
        });
        Ok(started)
    }

    /// Runs syncs to completion (the command line): force syncs one by one,
    /// or seed 001's cycle over every channel given.
    pub async fn run(
        &self,
        configs: &[ChannelConfig],
        request: SyncRequest,
        cause: RunCause,
    ) -> Result<Vec<CycleOutcome>> {
        let worker = format!("{}:{}", cause.trigger.as_str(), std::process::id());
        let (storage, vault) = (&self.core.storage, &self.core.vault);
        let out = match request {
            SyncRequest::Standard => crate::sync::sync_all(storage, vault, configs, &cause, &worker).await?,
            SyncRequest::Force(options) => {
                let mut out = Vec::with_capacity(configs.len());
                for config in configs {
                    let run = OpenRun::new(storage.clone(), Some(config.id), RunKind::Force, cause.clone());
                    let pushed: SyncSummary =
                        crate::sync::force_sync(storage, vault, config, options, &run, &worker).await?;
                    out.push(CycleOutcome { pulled: None, pushed });
                }
                out
            }
        };
        self.core.waker.wake();
        Ok(out)
    }
}

/// Tries `secret` on the channel without storing it: the channel must
/// accept it and still show the location the channel stocks.
async fn check_credentials(config: &ChannelConfig, secret: &str) -> Result<String, ConnectError> {
    use crate::connector::shopify::ShopifySettings;
    use crate::connector::{ShopifyConnector, VendureConnector, VendureSettings};
    let settings_error = |e: serde_json::Error| DomainError::new("settings", e.to_string());
    match config.kind {
        ChannelKind::Sandbox => Err(DomainError::new(
            "secret",
            "the Sandbox store lives inside Tillbridge; it has no credentials",
        )
        .into()),
        ChannelKind::Shopify => {
            if secret.is_empty() {
                return Err(DomainError::new("secret", "paste the new Admin API access token").into());
            }
            let settings: ShopifySettings = serde_json::from_str(&config.settings).map_err(settings_error)?;
            let locations = ShopifyConnector::locations(&settings.api_base_url, &settings.api_version, secret)
                .await
                .map_err(|source| ConnectError::Unreachable {
                    shop: settings.shop_domain.clone(),
                    source,
                })?;
            if !locations.iter().any(|l| l.id == settings.location_id) {
                return Err(DomainError::new(
                    "secret",
                    format!(
                        "this token works, but it cannot see the location {:?} the channel stocks; the old token was kept",
                        settings.location_name
                    ),
                )
                .into());
            }
            Ok(format!(
                "New token saved for {}: it works and stock goes to {:?}",
                settings.shop_domain, settings.location_name
            ))
        }
        ChannelKind::Vendure => {
            if secret.is_empty() {
                return Err(DomainError::new("secret", "paste the new Vendure API key").into());
            }
            let settings: VendureSettings = serde_json::from_str(&config.settings).map_err(settings_error)?;
            let locations = VendureConnector::stock_locations(&settings.api_base_url, secret)
                .await
                .map_err(|source| ConnectError::Unreachable {
                    shop: settings.api_base_url.clone(),
                    source,
                })?;
            if !locations.iter().any(|l| l.id == settings.stock_location_id) {
                return Err(DomainError::new(
                    "secret",
                    format!(
                        "this API key works, but it cannot see the stock location {:?} the channel stocks; the old key was kept",
                        settings.stock_location_name
                    ),
                )
                .into());
            }
            Ok(format!(
                "New API key saved for {}: it works and stock goes to {:?}",
                settings.api_base_url, settings.stock_location_name
            ))
        }
    }
}

/// Frees the channels' "one sync at a time" however the task ends.
struct Finish(Arc<RunningSyncs>, Vec<ChannelId>);

impl Drop for Finish {
    fn drop(&mut self) {
        for id in &self.1 {
            self.0.finish(*id);
        }
    }
}
