//! Conflicts: what a sync could not settle on its own, for a person.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictView {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub sku: String,
    pub ours: String,
    pub theirs: String,
    pub detail: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictsView {
    pub conflicts: Vec<ConflictView>,
    pub can_write: bool,
}

#[server(endpoint = "list_conflicts", input = GetUrl)]
pub async fn list_conflicts() -> Result<ConflictsView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let conflicts = services.history.open_conflicts().await?;
    let zone = services.store.zone().await?;
    Ok(ConflictsView {
        conflicts: conflicts.into_iter().map(|c| ConflictView::new(c, zone)).collect(),
        can_write: user.role.allows(Permission::WriteCatalog),
    })
}

#[cfg(feature = "ssr")]
impl ConflictView {
    /// The conflict, its time in the store's time zone.
    fn new((c, channel): (sync_core::service::ConflictRow, String), zone: sync_core::domain::StoreZone) -> Self {
        ConflictView {
            id: c.id,
            channel,
            kind: c.kind.as_str().replace('_', " "),
            sku: c.sku.unwrap_or_default(),
            ours: c.ours,
            theirs: c.theirs,
            detail: c.detail,
            at: zone.show(c.created_at),
        }
    }
}

/// Settles a conflict: ignore, retry (overwrite the channel with
/// Tillbridge's figure), link (the channel's item with this SKU is ours) or
/// create (our product is created in the channel).
#[server(endpoint = "resolve_conflict")]
pub async fn resolve_conflict(id: i64, action: String) -> Result<String, AppError> {
    use sync_core::domain::Permission;
    use sync_core::service::ConflictAction;
    let result = async {
        let user = crate::api::ssr::require(Permission::WriteCatalog).await?;
        let action = ConflictAction::parse(&action).map_err(crate::api::ssr::invalid)?;
        Ok(crate::api::ssr::services()?
            .history
            .settle(id, action, user.email.as_str())
            .await?)
    }
    .await;
    // Without JavaScript: back to the conflicts with what was done.
    crate::api::ssr::answer("/conflicts", result, |done: &String| done.clone(), &[])
}
