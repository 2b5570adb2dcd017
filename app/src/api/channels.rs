//! Channels: their health, and the settings of each.

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
    /// p50/p99 from a stock change to the channel's acknowledgement, last hour.
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
    /// Live figures as the page loads; the page then follows its events.
    pub progress: ProgressView,
}

#[server(endpoint = "list_channels", input = GetUrl)]
pub async fn list_channels() -> Result<Vec<ChannelRow>, AppError> {
    use sync_core::domain::{Permission, Timestamp};
    crate::api::ssr::require(Permission::Read).await?;
    let storage = crate::api::ssr::storage()?;
    let outlets = storage.list_outlets().await?;
    let mut rows = Vec::new();
    for c in storage.list_channels().await? {
        let ids = storage.channel_outlets(c.id).await?;
        let names: Vec<String> = outlets
            .iter()
            .filter(|o| ids.contains(&o.id))
            .map(|o| o.name.clone())
            .collect();
        rows.push(ChannelRow {
            id: c.id.get(),
            kind: c.kind.clone(),
            outlets: names.join(", "),
            pending: storage.pending_pushes(c.id).await?,
            last_push: c.last_push_at.map_or_else(|| "never".to_owned(), |t| t.to_string()),
            failures_24h: storage.failures_since(c.id, Timestamp::hours_ago(24)).await?,
            latency: match storage.push_latency(c.id, Timestamp::hours_ago(1)).await? {
                Some(l) => format!("p50 {} · p99 {} ({} pushes)", millis(l.p50), millis(l.p99), l.pushes),
                None => "no pushes in the last hour".to_owned(),
            },
            name: c.name,
        });
    }
    Ok(rows)
}

#[cfg(feature = "ssr")]
fn millis(d: std::time::Duration) -> String {
    if d.as_millis() < 10_000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.0} s", d.as_secs_f64())
    }
}

#[server(endpoint = "get_channel_settings", input = GetUrl)]
pub async fn get_channel_settings(id: i64) -> Result<ChannelSettingsView, AppError> {
    use sync_core::domain::{ChannelId, Permission};
    let user = crate::api::ssr::require(Permission::Read).await?;
    let storage = crate::api::ssr::storage()?;
    let channel = ChannelId::new(id);
    let Some(config) = storage.channel(channel).await? else {
        return crate::api::ssr::fail(AppError::NotFound(format!("Channel {id}")));
    };
    let settings = storage.channel_settings(channel).await?;
    Ok(ChannelSettingsView {
        id,
        name: config.name,
        kind: config.kind,
        outlets: storage
            .list_outlets()
            .await?
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
        can_write: user.role.allows(Permission::WriteCatalog),
        can_administer: user.role.allows(Permission::Administer),
        progress: channel_status(channel).await?,
    })
}

#[cfg(feature = "ssr")]
impl From<sync_core::sync::ChannelProgress> for ProgressView {
    fn from(p: sync_core::sync::ChannelProgress) -> Self {
        ProgressView {
            pending: p.pending,
            running: p.running,
            last_push: p.last_push_at.map_or_else(|| "never".to_owned(), |t| t.to_string()),
            eta_seconds: p.eta_seconds,
            latest_run: p.latest_run.map(|r| (r.id.get(), r.status, r.log)),
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
    /// Seconds left at the channel's rate limit, while pushes are pending.
    pub eta_seconds: Option<f64>,
    /// The latest run: its id, status and log.
    pub latest_run: Option<(i64, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectFormView {
    pub outlets: Vec<(i64, String)>,
    /// Only owners connect channels.
    pub can_connect: bool,
}

/// The channel's live figures, as its event stream sends them.
#[cfg(feature = "ssr")]
async fn channel_status(channel: sync_core::domain::ChannelId) -> Result<ProgressView, AppError> {
    let storage = crate::api::ssr::storage()?;
    let running = use_context::<std::sync::Arc<sync_core::sync::RunningSyncs>>().unwrap_or_default();
    Ok(sync_core::sync::channel_progress(&storage, &running, channel)
        .await?
        .into())
}

/// What the "Connect Shopify" form offers.
#[server(endpoint = "connect_form", input = GetUrl)]
pub async fn connect_form() -> Result<ConnectFormView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let outlets = crate::api::ssr::storage()?.list_outlets().await?;
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
    use sync_core::domain::{ChannelId, Permission};
    let user = crate::api::ssr::require(Permission::Read).await?;
    let storage = crate::api::ssr::storage()?;
    let Some(config) = storage.channel(ChannelId::new(id)).await? else {
        return crate::api::ssr::fail(AppError::NotFound(format!("Channel {id}")));
    };
    let Some(vault) = use_context::<sync_core::vault::Vault>() else {
        return crate::api::ssr::fail(AppError::Internal("no-vault".into()));
    };
    let preview = sync_core::sync::preview_force(&storage, &vault, &config).await?;
    let settings = storage.channel_settings(config.id).await?;
    Ok(ForcePreviewView {
        id,
        name: config.name,
        create: preview.create,
        update: preview.update,
        quantities: preview.quantities,
        channel_only: preview
            .channel_only
            .into_iter()
            .map(|p| (p.title, p.skus.join(", ")))
            .collect(),
        policy: settings.channel_only.as_str().to_owned(),
        can_write: user.role.allows(Permission::WriteCatalog),
    })
}
