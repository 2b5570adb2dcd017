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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutletChoice {
    pub id: i64,
    pub name: String,
    pub checked: bool,
    pub is_order_outlet: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub can_write: bool,
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
            name: c.name,
        });
    }
    Ok(rows)
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
        can_write: user.role.allows(Permission::WriteCatalog),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressView {
    pub pending: i64,
    pub running: bool,
    pub last_push: String,
}

/// What a channel is doing now, for the live status on its page.
#[server(endpoint = "channel_progress", input = GetUrl)]
pub async fn channel_progress(id: i64) -> Result<ProgressView, AppError> {
    use sync_core::domain::{ChannelId, Permission};
    crate::api::ssr::require(Permission::Read).await?;
    let storage = crate::api::ssr::storage()?;
    let channel = ChannelId::new(id);
    let running = use_context::<std::sync::Arc<sync_core::sync::RunningSyncs>>().is_some_and(|r| r.is_running(channel));
    let last_push = storage
        .list_channels()
        .await?
        .into_iter()
        .find(|c| c.id == channel)
        .and_then(|c| c.last_push_at)
        .map_or_else(|| "never".to_owned(), |t| t.to_string());
    Ok(ProgressView {
        pending: storage.pending_pushes(channel).await?,
        running,
        last_push,
    })
}
