//! Channels: their health, the settings of each, and (owners only)
//! connecting, disconnecting and replacing their credentials.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub outlets: String,
    pub pending: i64,
    pub last_push: String,
    pub failures_24h: i64,
    /// Median and slowest time from a stock change to the channel's
    /// acknowledgement, last hour.
    pub latency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutletChoice {
    pub id: i64,
    pub name: String,
    pub checked: bool,
    pub is_order_outlet: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSettingsView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub outlets: Vec<OutletChoice>,
    pub safety_buffer: i64,
    pub publish_percent: Option<i64>,
    pub publish_max: Option<i64>,
    pub zero_at_or_below: Option<i64>,
    pub schedule_minutes: Option<i64>,
    /// keep, unpublish or delete.
    pub channel_only: String,
    pub can_write: bool,
    pub can_administer: bool,
    /// What the channel's credentials are called ("Admin API access
    /// token", "API key"); None for the Sandbox store, which has none.
    pub credential: Option<String>,
    /// Live figures as the page loads; the page then follows its events.
    pub progress: ProgressView,
}

/// The Channels page: each channel's health, and whether the signed-in
/// user may connect and disconnect channels (owners).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelsView {
    pub rows: Vec<ChannelRow>,
    pub can_administer: bool,
}

#[server(endpoint = "list_channels", input = GetUrl)]
pub async fn list_channels() -> Result<ChannelsView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let health = services.channels.health().await?;
    let zone = services.store.zone().await?;
    Ok(ChannelsView {
        rows: health.into_iter().map(|h| ChannelRow::new(h, zone)).collect(),
        can_administer: user.role.allows(Permission::Administer),
    })
}

#[cfg(feature = "ssr")]
impl ChannelRow {
    /// The channel's health, its times in the store's time zone.
    fn new(h: sync_core::service::ChannelHealth, zone: sync_core::domain::StoreZone) -> Self {
        ChannelRow {
            id: h.channel.id.get(),
            kind: h.channel.kind.to_string(),
            outlets: h.outlets.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", "),
            pending: h.pending,
            last_push: h
                .channel
                .last_push_at
                .map_or_else(|| "never".to_owned(), |t| zone.show(t)),
            failures_24h: h.failures_24h,
            latency: match h.latency {
                Some(l) => format!(
                    "median {} · slowest {} ({} pushes)",
                    seconds(l.p50),
                    seconds(l.slowest),
                    l.pushes
                ),
                None => "no pushes in the last hour".to_owned(),
            },
            name: h.channel.name,
        }
    }
}

#[cfg(feature = "ssr")]
impl ChannelSettingsView {
    fn new(
        page: sync_core::service::ChannelPage,
        role: sync_core::domain::Role,
        zone: sync_core::domain::StoreZone,
    ) -> Self {
        use sync_core::domain::Permission;
        let settings = page.settings;
        ChannelSettingsView {
            id: page.config.id.get(),
            name: page.config.name,
            kind: page.config.kind.to_string(),
            outlets: page
                .outlets
                .into_iter()
                .map(|o| OutletChoice {
                    id: o.id.get(),
                    checked: settings.outlets.contains(&o.id),
                    is_order_outlet: settings.order_outlet == Some(o.id),
                    name: o.name,
                })
                .collect(),
            safety_buffer: settings.rules.safety_buffer,
            publish_percent: settings.rules.publish_percent,
            publish_max: settings.rules.publish_max,
            zero_at_or_below: settings.rules.zero_at_or_below,
            schedule_minutes: settings.schedule_minutes,
            channel_only: settings.channel_only.as_str().to_owned(),
            can_write: role.allows(Permission::WriteCatalog),
            can_administer: role.allows(Permission::Administer),
            credential: match page.config.kind {
                sync_core::domain::ChannelKind::Shopify => Some("Admin API access token".into()),
                sync_core::domain::ChannelKind::Vendure => Some("API key".into()),
                sync_core::domain::ChannelKind::Sandbox => None,
            },
            progress: ProgressView::new(page.progress, zone),
        }
    }
}

#[cfg(feature = "ssr")]
impl ForcePreviewView {
    fn new(page: sync_core::service::ForcePage, role: sync_core::domain::Role) -> Self {
        ForcePreviewView {
            id: page.config.id.get(),
            name: page.config.name,
            create: page.preview.create,
            update: page.preview.update,
            quantities: page.preview.quantities,
            channel_only: page
                .preview
                .channel_only
                .into_iter()
                .map(|p| (p.title, p.skus.join(", ")))
                .collect(),
            policy: page.policy.as_str().to_owned(),
            can_write: role.allows(sync_core::domain::Permission::WriteCatalog),
        }
    }
}

/// "0.3 s", "1.4 s", "12 s": plain seconds.
#[cfg(feature = "ssr")]
fn seconds(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

#[server(endpoint = "get_channel_settings", input = GetUrl)]
pub async fn get_channel_settings(id: i64) -> Result<ChannelSettingsView, AppError> {
    let user = crate::api::ssr::require(sync_core::domain::Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let zone = services.store.zone().await?;
    match services.channels.page(sync_core::domain::ChannelId::new(id)).await? {
        Some(page) => Ok(ChannelSettingsView::new(page, user.role, zone)),
        None => crate::api::ssr::fail(AppError::NotFound(format!("Channel {id}"))),
    }
}

#[cfg(feature = "ssr")]
impl ProgressView {
    /// The channel's progress, its times in the store's time zone.
    pub fn new(p: sync_core::sync::ChannelProgress, zone: sync_core::domain::StoreZone) -> Self {
        ProgressView {
            pending: p.pending,
            running: p.running,
            last_push: p.last_push_at.map_or_else(|| "never".to_owned(), |t| zone.show(t)),
            eta_seconds: p.eta_seconds,
            run: p.latest_run.map(|r| RunProgress {
                id: r.id.get(),
                kind: r.kind.label().to_owned(),
                running: r.status == sync_core::service::RunStatus::Running,
                status: r.status.label().to_owned(),
                quantities_done: r.quantities_done,
                quantities_total: r.quantities_total,
                products_done: r.products_done,
                products_total: r.products_total,
                log: r.log,
            }),
        }
    }
}

/// What a channel is doing now: one message of its live progress stream
/// (`/channels/{id}/events`, server-sent events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressView {
    pub pending: i64,
    /// A button- or CLI-started sync is running for the channel.
    pub running: bool,
    pub last_push: String,
    /// Seconds left at the channel's rate limit: of the followed run while
    /// it goes on, else of the pushes pending.
    pub eta_seconds: Option<f64>,
    /// The run the page follows (`?run=`), or the channel's latest.
    pub run: Option<RunProgress>,
}

/// A run as the live progress shows it: how far it got, and its log once
/// it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    pub id: i64,
    /// Its kind in words ("Force sync").
    pub kind: String,
    pub running: bool,
    /// Its status in words.
    pub status: String,
    pub quantities_done: i64,
    /// 0 when not known ahead (a run of the engine's).
    pub quantities_total: i64,
    pub products_done: i64,
    pub products_total: i64,
    pub log: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectFormView {
    pub outlets: Vec<(i64, String)>,
    /// Only owners connect channels.
    pub can_connect: bool,
}

/// What the "Connect Shopify" form offers.
#[server(endpoint = "connect_form", input = GetUrl)]
pub async fn connect_form() -> Result<ConnectFormView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let outlets = crate::api::ssr::services()?.catalog.outlets().await?;
    Ok(ConnectFormView {
        outlets: outlets.into_iter().map(|o| (o.id.get(), o.name)).collect(),
        can_connect: user.role.allows(Permission::Administer),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForcePreviewView {
    pub id: i64,
    pub name: String,
    pub create: usize,
    pub update: usize,
    pub quantities: usize,
    /// (title, SKUs) of each product found only in the channel.
    pub channel_only: Vec<(String, String)>,
    /// The channel's saved choice for them: keep, unpublish or delete.
    pub policy: String,
    pub can_write: bool,
}

/// What a force sync of this channel would change, read from the channel now.
#[server(endpoint = "force_preview", input = GetUrl)]
pub async fn force_preview(id: i64) -> Result<ForcePreviewView, AppError> {
    let user = crate::api::ssr::require(sync_core::domain::Permission::Read).await?;
    match crate::api::ssr::services()?
        .channels
        .force_page(sync_core::domain::ChannelId::new(id))
        .await?
    {
        Some(page) => Ok(ForcePreviewView::new(page, user.role)),
        None => crate::api::ssr::fail(AppError::NotFound(format!("Channel {id}"))),
    }
}

/// Saves a channel's settings page.
#[server(endpoint = "save_channel_settings")]
pub async fn save_channel_settings(
    id: i64,
    #[server(default)] outlets: Vec<i64>,
    order_outlet: Option<String>,
    channel_only: Option<String>,
    #[server(default)] safety_buffer: String,
    #[server(default)] publish_percent: String,
    #[server(default)] publish_max: String,
    #[server(default)] zero_at_or_below: String,
    #[server(default)] schedule_minutes: String,
) -> Result<(), AppError> {
    use crate::api::ssr::{Next, require, services, submit};
    let page = format!("/channels/{id}");
    let numbers = [
        safety_buffer,
        publish_percent,
        publish_max,
        zero_at_or_below,
        schedule_minutes,
    ];
    // A refused plain post comes back with what was typed.
    let typed: Vec<(&str, String)> = [
        "safety_buffer",
        "publish_percent",
        "publish_max",
        "zero_at_or_below",
        "schedule_minutes",
    ]
    .into_iter()
    .zip(numbers.iter().cloned())
    .collect();
    let keep: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    submit(&page, &keep, async {
        require(sync_core::domain::Permission::WriteCatalog).await?;
        let channels = services()?.channels;
        let channel = sync_core::domain::ChannelId::new(id);
        let settings = form::settings(
            channels.settings(channel).await?,
            outlets,
            order_outlet,
            channel_only,
            &numbers,
        )?;
        Ok(Next::to(
            &page,
            form::settings_saved(channels.save_settings(channel, &settings).await?),
        ))
    })
    .await
}

/// "Connect Shopify": owners only. The token is sealed at once and never
/// shown again; a refused form comes back with what was typed but secrets.
#[server(endpoint = "connect_shopify")]
pub async fn connect_shopify(
    #[server(default)] name: String,
    #[server(default)] shop_domain: String,
    #[server(default)] token: String,
    #[server(default)] location: String,
    #[server(default)] outlets: Vec<i64>,
    #[server(default)] order_outlet: String,
    #[server(default)] safety_buffer: String,
    #[server(default)] public_url: String,
    #[server(default)] client_secret: String,
    #[server(default)] api_base_url: String,
) -> Result<(), AppError> {
    use crate::api::ssr::{require, services, submit};
    let typed = form::Typed {
        name,
        shop_domain,
        location,
        outlets,
        order_outlet,
        safety_buffer,
        public_url,
        api_base_url,
    };
    submit(
        "/channels/new",
        &typed.kept().iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
        async {
            require(sync_core::domain::Permission::Administer).await?;
            let connection = typed.connection(&token, client_secret)?;
            let connected = services()?.channels.connect_shopify(&connection, &token).await;
            form::connected(connected)
        },
    )
    .await
}

/// "Connect Vendure": owners only. The API key is sealed at once and never
/// shown again; a refused form comes back with what was typed but the key.
#[server(endpoint = "connect_vendure")]
pub async fn connect_vendure(
    #[server(default)] name: String,
    #[server(default)] api_base_url: String,
    #[server(default)] api_key: String,
    #[server(default)] stock_location: String,
    #[server(default)] outlets: Vec<i64>,
    #[server(default)] order_outlet: String,
    #[server(default)] safety_buffer: String,
    #[server(default)] public_url: String,
) -> Result<(), AppError> {
    use crate::api::ssr::{require, services, submit};
    let typed = form::VendureTyped {
        name,
        api_base_url,
        stock_location,
        outlets,
        order_outlet,
        safety_buffer,
        public_url,
    };
    submit(
        "/channels/new/vendure",
        &typed.kept().iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(),
        async {
            require(sync_core::domain::Permission::Administer).await?;
            let connection = typed.connection(&api_key)?;
            let connected = services()?.channels.connect_vendure(&connection, &api_key).await;
            form::vendure_connected(connected, &typed.public_url)
        },
    )
    .await
}

/// "Disconnect", once confirmed (`confirm`): owners only. The channel's
/// worker stops at once; its products stay in the channel as they are and
/// its Sync History stays.
#[server(endpoint = "disconnect_channel")]
pub async fn disconnect_channel(id: i64, confirm: Option<String>) -> Result<(), AppError> {
    use crate::api::ssr::{Next, actor, require, services, submit};
    submit(&format!("/channels/{id}?disconnect=1"), &[], async {
        let user = require(sync_core::domain::Permission::Administer).await?;
        if !matches!(confirm.as_deref(), Some("on" | "true" | "1" | "yes")) {
            return crate::api::ssr::fail(AppError::Invalid {
                field: "confirm".into(),
                message: "tick “I understand” to disconnect the channel".into(),
            });
        }
        let name = services()?
            .channels
            .disconnect(&actor(&user), sync_core::domain::ChannelId::new(id))
            .await?;
        Ok(Next::to(
            "/channels",
            format!(
                "Disconnected {name}: nothing more is pushed there; its products stay in the channel as they are, and its Sync History stays"
            ),
        ))
    })
    .await
}

/// "Replace credentials": owners only. The new token or API key is tried on
/// the channel first; a refused one comes back next to its field and the
/// old one stays.
#[server(endpoint = "replace_credentials")]
pub async fn replace_credentials(id: i64, #[server(default)] secret: String) -> Result<(), AppError> {
    use crate::api::ssr::{Next, actor, require, services, submit};
    let page = format!("/channels/{id}");
    submit(&page, &[], async {
        let user = require(sync_core::domain::Permission::Administer).await?;
        let replaced = services()?
            .channels
            .replace_credentials(&actor(&user), sync_core::domain::ChannelId::new(id), &secret)
            .await;
        Ok(Next::to(&page, replaced.map_err(|e| form::connect_error(e, "secret"))?))
    })
    .await
}

/// "Test connection": asks the channel who it is with the stored credentials.
#[server(endpoint = "test_connection")]
pub async fn test_connection(id: i64) -> Result<(), AppError> {
    use crate::api::ssr::{Next, require, services, submit};
    let page = format!("/channels/{id}");
    submit(&page, &[], async {
        require(sync_core::domain::Permission::Administer).await?;
        let tested = services()?.channels.test(sync_core::domain::ChannelId::new(id)).await;
        Ok(Next::to(&page, tested.map_err(form::test_error)?))
    })
    .await
}

/// The sync buttons: "Sync new data" and "Force sync" of one channel
/// (`channel`), or "Sync All" (none). The sync goes on in the background;
/// a channel already syncing is said so instead of started twice.
#[server(endpoint = "start_sync")]
pub async fn start_sync(
    channel: Option<i64>,
    kind: Option<String>,
    channel_only: Option<String>,
    clear: Option<String>,
) -> Result<(), AppError> {
    use crate::api::ssr::{Next, actor, require, services, submit};
    let page = channel.map_or_else(|| "/channels".to_owned(), |id| format!("/channels/{id}"));
    submit(&page, &[], async {
        let user = require(sync_core::domain::Permission::WriteCatalog).await?;
        let request = form::sync_request(kind.as_deref(), channel_only.as_deref(), clear.as_deref())?;
        let started = form::start(&services()?.channels, channel, request, &actor(&user)).await?;
        // A force sync's page follows the run it started to its end.
        let next = match started.runs.first() {
            Some(run) => format!("{page}?run={run}"),
            None => page.clone(),
        };
        Ok(Next::to(
            next,
            form::sync_started(channel.is_some(), request, &started)?,
        ))
    })
    .await
}

/// The channel forms read into the sync core's commands.
#[cfg(feature = "ssr")]
mod form {
    use super::AppError;
    use crate::api::ssr::Next;
    use crate::api::ssr::invalid;
    use sync_core::connect::{ConnectError, Connected, ShopifyConnection, VendureConnection, WebhookSetup};
    use sync_core::domain::{BalanceRules, ChannelId, ChannelOnlyPolicy, DomainError, OutletId};
    use sync_core::service::{
        ChannelSettings, Channels, RunCause, RunTrigger, SettingsSaved, SyncRequest, SyncStarted,
    };
    use sync_core::sync::ForceOptions;

    /// The settings form over the current settings.
    /// Every field at fault, in plain words, at once.
    pub fn settings(
        current: ChannelSettings,
        outlets: Vec<i64>,
        order_outlet: Option<String>,
        channel_only: Option<String>,
        [buffer, percent, max, zero, every]: &[String; 5],
    ) -> Result<ChannelSettings, AppError> {
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut read = |raw: &str, field: &'static str, label: &str| match raw.trim() {
            "" => None,
            v => match v.replace([',', '_', ' '], "").parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push((field.to_owned(), format!("{label}: “{v}” is not a whole number")));
                    None
                }
            },
        };
        let rules = BalanceRules {
            safety_buffer: read(buffer, "safety_buffer", "Safety buffer").unwrap_or(0),
            publish_percent: read(percent, "publish_percent", "Share to publish"),
            publish_max: read(max, "publish_max", "Publish at most"),
            zero_at_or_below: read(zero, "zero_at_or_below", "Publish 0 at or below"),
        };
        let schedule_minutes = read(every, "schedule_minutes", "Sync every");
        for p in rules.problems() {
            problems.push((p.field.to_owned(), sentence(&p.message)));
        }
        match schedule_minutes {
            Some(m) if m < 1 => problems.push((
                "schedule_minutes".into(),
                "Sync every: at least 1 minute, or empty for off".into(),
            )),
            Some(m) if m > 60 * 24 * 7 => problems.push((
                "schedule_minutes".into(),
                "Sync every: at most a week (10080 minutes)".into(),
            )),
            _ => {}
        }
        let order_outlet = match order_outlet.as_deref().map(str::trim) {
            None | Some("") => current.order_outlet,
            Some(v) => match v.parse::<OutletId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(("order_outlet".into(), "Choose one of the outlets".into()));
                    current.order_outlet
                }
            },
        };
        let channel_only = match channel_only.as_deref().map(str::trim) {
            None | Some("") => current.channel_only,
            Some(v) => match ChannelOnlyPolicy::parse(v) {
                Ok(policy) => policy,
                Err(e) => {
                    problems.push(("channel_only".into(), sentence(&e.message)));
                    current.channel_only
                }
            },
        };
        if !problems.is_empty() {
            return crate::api::ssr::fail(AppError::Fields(problems));
        }
        Ok(ChannelSettings {
            outlets: outlets.into_iter().map(OutletId::new).collect(),
            order_outlet,
            channel_only,
            rules,
            schedule_minutes,
        })
    }

    /// A rule's message as a sentence: "A share is 0 to 100 %, not 140".
    fn sentence(message: &str) -> String {
        let mut chars = message.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }

    pub fn settings_saved(saved: SettingsSaved) -> String {
        let mut message = format!("Settings saved; {} quantities queued for this channel", saved.queued);
        if saved.order_outlet_kept {
            message.push_str(
                ". The outlet that takes this channel's orders stays included; to leave it out, choose another order outlet",
            );
        }
        message
    }

    /// The Connect form as typed, but its secrets.
    pub struct Typed {
        pub name: String,
        pub shop_domain: String,
        pub location: String,
        pub outlets: Vec<i64>,
        pub order_outlet: String,
        pub safety_buffer: String,
        pub public_url: String,
        pub api_base_url: String,
    }

    impl Typed {
        /// What a refused form keeps in the URL for the next try.
        pub fn kept(&self) -> Vec<(&'static str, String)> {
            let mut keep = vec![
                ("name", self.name.clone()),
                ("shop_domain", self.shop_domain.clone()),
                ("api_base_url", self.api_base_url.clone()),
                ("location", self.location.clone()),
                ("order_outlet", self.order_outlet.clone()),
                ("safety_buffer", self.safety_buffer.clone()),
                ("public_url", self.public_url.clone()),
            ];
            keep.extend(self.outlets.iter().map(|o| ("outlets", o.to_string())));
            keep
        }

        /// The connection, once every field is there: each one missing or
        /// wrong is named at once, before the shop is asked anything.
        pub fn connection(&self, token: &str, client_secret: String) -> Result<ShopifyConnection, AppError> {
            let mut problems = Problems::default();
            problems.required("name", &self.name, "Give the channel a name, e.g. “Web store”");
            if self.shop_domain.trim().is_empty() {
                problems.add("shop_domain", "Enter the shop's address, e.g. my-shop.myshopify.com");
            } else if let Err(e) = sync_core::connect::shop_domain(&self.shop_domain) {
                problems.add("shop_domain", e.message);
            }
            problems.required(
                "token",
                token,
                "Paste the Admin API access token (it starts with shpat_)",
            );
            problems.required(
                "location",
                &self.location,
                "Enter the Shopify location that holds the stock, e.g. “Shop location”",
            );
            let (order_outlet, safety_buffer) =
                problems.outlets_and_buffer(&self.outlets, &self.order_outlet, &self.safety_buffer);
            let public_url = self.public_url.trim();
            problems.web_address("public_url", public_url);
            if !public_url.is_empty() && client_secret.trim().is_empty() {
                problems.add(
                    "client_secret",
                    "Paste the app's client secret: Shopify signs its webhooks with it",
                );
            }
            problems.done()?;
            Ok(ShopifyConnection {
                name: self.name.trim().to_owned(),
                shop_domain: self.shop_domain.trim().to_owned(),
                api_base_url: Some(self.api_base_url.trim().to_owned()),
                location: self.location.trim().to_owned(),
                outlets: self.outlets.iter().copied().map(OutletId::new).collect(),
                order_outlet,
                rules: BalanceRules {
                    safety_buffer,
                    ..BalanceRules::default()
                },
                webhooks: match public_url {
                    "" => None,
                    url => Some(WebhookSetup {
                        public_url: url.to_owned(),
                        client_secret: client_secret.trim().to_owned(),
                    }),
                },
            })
        }
    }

    /// A connect form's refusals, gathered to be shown all at once.
    #[derive(Default)]
    struct Problems(Vec<(String, String)>);

    impl Problems {
        fn add(&mut self, field: &str, message: impl Into<String>) {
            self.0.push((field.to_owned(), message.into()));
        }

        fn required(&mut self, field: &str, value: &str, message: &str) {
            if value.trim().is_empty() {
                self.add(field, message);
            }
        }

        fn web_address(&mut self, field: &str, url: &str) {
            let web = url.starts_with("https://") || url.starts_with("http://");
            if !url.is_empty() && !web {
                self.add(
                    field,
                    format!("“{url}” is not an address such as https://tillbridge.my-shop.example"),
                );
            }
        }

        /// The outlets ticked, the order outlet chosen and the safety buffer.
        fn outlets_and_buffer(&mut self, outlets: &[i64], order_outlet: &str, buffer: &str) -> (OutletId, i64) {
            if outlets.is_empty() {
                self.add("outlets", "Tick at least one outlet whose stock this channel sells");
            }
            let order_outlet = order_outlet.trim().parse::<OutletId>().unwrap_or_else(|_| {
                self.add("order_outlet", "Choose the outlet that takes this channel's orders");
                OutletId::new(0)
            });
            let buffer = match buffer.trim() {
                "" => 0,
                v => match v.parse::<i64>() {
                    Ok(n) if (0..=sync_core::domain::RULE_LIMIT).contains(&n) => n,
                    Ok(_) => {
                        self.add("safety_buffer", "A safety buffer is 0 to 1,000,000,000 units");
                        0
                    }
                    Err(_) => {
                        self.add("safety_buffer", format!("Safety buffer: “{v}” is not a whole number"));
                        0
                    }
                },
            };
            (order_outlet, buffer)
        }

        fn done(self) -> Result<(), AppError> {
            if self.0.is_empty() {
                return Ok(());
            }
            crate::api::ssr::fail(AppError::Fields(self.0))
        }
    }

    /// Where a new channel's page is, and what it says.
    pub fn connected(connected: Result<Connected, ConnectError>) -> Result<Next, AppError> {
        let c = connected.map_err(|e| connect_error(e, "token"))?;
        Ok(Next::to(
            format!("/channels/{}", c.id),
            format!(
                "Connected {}; stock goes to {:?}. Turn Auto Sync on for the products to sell there.",
                c.shop_domain, c.location_name
            ),
        ))
    }

    /// A failed connection test, said as such.
    pub fn test_error(e: ConnectError) -> AppError {
        match e {
            ConnectError::Storage(e) => AppError::from(e),
            other => AppError::Conflict(format!("The connection test failed: {other}")),
        }
    }

    /// Starts the syncs of one channel (or every channel).
    pub async fn start(
        channels: &Channels,
        channel: Option<i64>,
        request: SyncRequest,
        actor: &sync_core::domain::Actor,
    ) -> Result<SyncStarted, AppError> {
        let configs = match channel {
            Some(id) => match channels.get(ChannelId::new(id)).await? {
                Some(config) => vec![config],
                None => return crate::api::ssr::fail(AppError::NotFound(format!("Channel {id}"))),
            },
            None => channels.configs().await?,
        };
        Ok(channels
            .start(configs, request, RunCause::by(RunTrigger::Button, actor))
            .await?)
    }

    /// The Connect Vendure form as typed, but the API key.
    pub struct VendureTyped {
        pub name: String,
        pub api_base_url: String,
        pub stock_location: String,
        pub outlets: Vec<i64>,
        pub order_outlet: String,
        pub safety_buffer: String,
        pub public_url: String,
    }

    impl VendureTyped {
        /// What a refused form keeps in the URL for the next try.
        pub fn kept(&self) -> Vec<(&'static str, String)> {
            let mut keep = vec![
                ("name", self.name.clone()),
                ("api_base_url", self.api_base_url.clone()),
                ("stock_location", self.stock_location.clone()),
                ("order_outlet", self.order_outlet.clone()),
                ("safety_buffer", self.safety_buffer.clone()),
                ("public_url", self.public_url.clone()),
            ];
            keep.extend(self.outlets.iter().map(|o| ("outlets", o.to_string())));
            keep
        }

        /// The connection, once every field is there (all named at once).
        pub fn connection(&self, api_key: &str) -> Result<VendureConnection, AppError> {
            let mut problems = Problems::default();
            problems.required("name", &self.name, "Give the channel a name, e.g. “Vendure store”");
            problems.required(
                "api_base_url",
                &self.api_base_url,
                "Enter the store's Admin API address, e.g. https://shop.example/admin-api",
            );
            problems.web_address("api_base_url", self.api_base_url.trim());
            problems.required("api_key", api_key, "Paste the API key of a Vendure administrator");
            problems.required(
                "stock_location",
                &self.stock_location,
                "Enter the Vendure stock location that holds the stock",
            );
            let (order_outlet, safety_buffer) =
                problems.outlets_and_buffer(&self.outlets, &self.order_outlet, &self.safety_buffer);
            problems.web_address("public_url", self.public_url.trim());
            problems.done()?;
            Ok(VendureConnection {
                name: self.name.trim().to_owned(),
                api_base_url: self.api_base_url.trim().to_owned(),
                stock_location: self.stock_location.trim().to_owned(),
                outlets: self.outlets.iter().copied().map(OutletId::new).collect(),
                order_outlet,
                rules: BalanceRules {
                    safety_buffer,
                    ..BalanceRules::default()
                },
            })
        }
    }

    /// Where a new Vendure channel's page is, and what it says (with the
    /// address for the store's order-webhook plugin, given Tillbridge's).
    pub fn vendure_connected(connected: Result<Connected, ConnectError>, public_url: &str) -> Result<Next, AppError> {
        let c = connected.map_err(|e| connect_error(e, "api_key"))?;
        let mut notice = format!(
            "Connected {}; stock goes to {:?}. Turn Auto Sync on for the products to sell there.",
            c.shop_domain, c.location_name
        );
        if let Some(secret) = c.webhook_secret.as_deref().filter(|_| !public_url.trim().is_empty()) {
            notice.push_str(&format!(
                " For orders within seconds, set VENDURE_ORDER_WEBHOOK_URL={} for the store's order-webhook plugin \
                 (the address holds a secret, shown only now).",
                sync_core::connect::vendure_webhook_url(public_url, c.id, secret)
            ));
        }
        Ok(Next::to(format!("/channels/{}", c.id), notice))
    }

    /// A connection's refusal at the field it concerns; the channel refusing
    /// the credentials lands at `secret_field`, not answering at all at the
    /// address.
    pub fn connect_error(e: ConnectError, secret_field: &str) -> AppError {
        let at = |field: &str, message: String| {
            let error = AppError::Invalid {
                field: field.to_owned(),
                message,
            };
            crate::api::ssr::set_status(&error);
            error
        };
        match e {
            ConnectError::Invalid(e) => invalid(e),
            ConnectError::Storage(sync_core::Error::Invalid(e)) => invalid(e),
            ConnectError::Storage(sync_core::Error::Conflict(message)) => at("name", message),
            // Not answering at all: the address is at fault, not the secret.
            e @ ConnectError::Unreachable {
                source: sync_core::connector::ConnectorError::Transient(_),
                ..
            } => at(
                if secret_field == "api_key" {
                    "api_base_url"
                } else {
                    "shop_domain"
                },
                e.to_string(),
            ),
            e @ ConnectError::Unreachable { .. } => at(secret_field, e.to_string()),
            ConnectError::Storage(e) => AppError::from(e),
            other => {
                tracing::error!(error.cause_chain = ?other, "connecting a channel failed");
                at(
                    "",
                    "Something went wrong on our side; nothing was saved. Please try again.".into(),
                )
            }
        }
    }

    /// A sync button's choices: standard, or force with its options.
    pub fn sync_request(
        kind: Option<&str>,
        channel_only: Option<&str>,
        clear: Option<&str>,
    ) -> Result<SyncRequest, AppError> {
        match kind.map(str::trim) {
            None | Some("") | Some("standard") => Ok(SyncRequest::Standard),
            Some("force") => Ok(SyncRequest::Force(ForceOptions {
                channel_only: match channel_only.map(str::trim) {
                    None | Some("") => ChannelOnlyPolicy::Keep,
                    Some(v) => ChannelOnlyPolicy::parse(v).map_err(invalid)?,
                },
                clear_first: clear == Some("1"),
            })),
            Some(other) => Err(invalid(DomainError::new(
                "kind",
                format!("{other:?} is not a kind of sync; use standard or force"),
            ))),
        }
    }

    /// What the button says it started.
    pub fn sync_started(one: bool, request: SyncRequest, started: &SyncStarted) -> Result<String, AppError> {
        if one {
            return match (started.started.first(), started.busy.first()) {
                (Some(name), _) => Ok(match request {
                    SyncRequest::Standard => format!("Standard sync of {name} started; follow it in the Sync History"),
                    SyncRequest::Force(_) => format!("Force sync of {name} started; its progress shows below"),
                }),
                (None, Some(name)) => Err(AppError::Conflict(format!(
                    "A sync of {name} is already running; it was not started twice"
                ))),
                (None, None) => Err(AppError::NotFound("Channel".into())),
            };
        }
        let n = started.started.len();
        let mut message = format!(
            "Sync All started for {n} {}; follow it in the Sync History",
            if n == 1 { "channel" } else { "channels" }
        );
        if !started.busy.is_empty() {
            message.push_str(&format!(" ({} already running)", started.busy.join(", ")));
        }
        Ok(message)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_standard_and_force_are_kinds() {
            assert_eq!(
                sync_request(Some("force"), None, None),
                Ok(SyncRequest::Force(ForceOptions::default()))
            );
            assert_eq!(sync_request(None, None, None), Ok(SyncRequest::Standard));
            assert!(sync_request(Some("nuke"), None, None).is_err());
            assert_eq!(
                sync_request(Some("force"), Some("delete"), Some("1")),
                Ok(SyncRequest::Force(ForceOptions {
                    channel_only: ChannelOnlyPolicy::Delete,
                    clear_first: true
                }))
            );
            assert!(
                sync_request(Some("force"), Some("burn"), None)
                    .unwrap_err()
                    .to_string()
                    .contains("keep, unpublish or delete")
            );
        }
    }
}
