//! The Import page: an uploaded file's preview, the outlets a file may name,
//! and the inventory feeds.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Changes listed on the page; the rest are counted.
pub const CHANGES_SHOWN: usize = 200;
/// Bad rows listed on the page; the rest are counted.
pub const ERRORS_SHOWN: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPageView {
    pub can_write: bool,
    /// (id, code, name)
    pub outlets: Vec<(i64, String, String)>,
    pub feeds: Vec<FeedView>,
    pub preview: Option<PreviewView>,
    /// The page named an upload that is gone (applied, or older than a day).
    pub upload_gone: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewView {
    pub token: String,
    /// `stock` or `catalog`.
    pub kind: String,
    pub file_name: String,
    /// The content's SHA-256: Apply carries it back.
    pub hash: String,
    /// How the rows are read ("counts", "deltas", "as the columns say"; the outlet).
    pub reading: String,
    pub rows: usize,
    pub change_count: usize,
    pub changes: Vec<ChangeView>,
    pub unchanged: usize,
    pub error_count: usize,
    pub errors: Vec<RowErrorView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeView {
    pub line: u64,
    /// "TEE-1 at downtown", or a product's handle.
    pub item: String,
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowErrorView {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedView {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub outlet: String,
    pub mode: String,
    pub every: String,
    pub last_fetched: String,
    /// `succeeded`, `failed`, or empty before the first fetch.
    pub last_status: String,
    pub last_message: String,
}

#[server(endpoint = "import_page", input = GetUrl)]
pub async fn import_page(upload: Option<String>) -> Result<ImportPageView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let storage = crate::api::ssr::storage()?;
    let (preview, upload_gone) = match upload.filter(|t| !t.is_empty()) {
        None => (None, false),
        Some(token) => match storage.upload(&token).await? {
            None => (None, true),
            Some(u) => {
                let preview = sync_core::import::preview_upload(&storage, &u).await?;
                (Some(preview_view(&u, preview)), false)
            }
        },
    };
    Ok(ImportPageView {
        can_write: user.role.allows(Permission::WriteCatalog),
        outlets: storage
            .list_outlets()
            .await?
            .into_iter()
            .map(|o| (o.id.get(), o.code.to_string(), o.name))
            .collect(),
        feeds: storage.list_feeds().await?.into_iter().map(feed_view).collect(),
        preview,
        upload_gone,
    })
}

#[cfg(feature = "ssr")]
fn preview_view(u: &sync_core::storage::Upload, preview: sync_core::import::UploadPreview) -> PreviewView {
    use sync_core::domain::StockChange;
    use sync_core::import::UploadPreview;
    let errors = |e: &[sync_core::import::RowError]| -> Vec<RowErrorView> {
        e.iter()
            .take(ERRORS_SHOWN)
            .map(|e| RowErrorView {
                line: e.line,
                reason: e.reason.clone(),
            })
            .collect()
    };
    let reading = match (u.kind.as_str(), u.mode.as_deref(), u.outlet_code.as_deref()) {
        ("catalog", _, _) => "one row per variant".to_owned(),
        (_, mode, outlet) => format!(
            "{}; {}",
            match mode {
                Some("count") => "quantities are counts",
                Some("delta") => "quantities are deltas",
                _ => "count or delta as the columns say",
            },
            outlet.map_or_else(
                || "outlets from the file".to_owned(),
                |o| format!("outlet {o} unless a row names one")
            )
        ),
    };
    let (rows, unchanged, changes, change_count, error_list) = match &preview {
        UploadPreview::Stock(p) => (
            p.rows,
            p.unchanged,
            p.changes
                .iter()
                .take(CHANGES_SHOWN)
                .map(|c| ChangeView {
                    line: c.line,
                    item: format!("{} at {}", c.sku, c.outlet),
                    change: match c.change {
                        StockChange::Count(n) => format!("{} → {} (count {n})", c.before, c.after),
                        StockChange::Delta(d) => format!("{} → {} ({d:+})", c.before, c.after),
                    },
                })
                .collect(),
            p.changes.len(),
            &p.errors,
        ),
        UploadPreview::Catalog(p) => (
            p.rows,
            p.unchanged,
            p.changes
                .iter()
                .take(CHANGES_SHOWN)
                .map(|c| ChangeView {
                    line: c.line,
                    item: format!("{} ({})", c.name, c.handle),
                    change: c.details.join("; "),
                })
                .collect(),
            p.changes.len(),
            &p.errors,
        ),
    };
    PreviewView {
        token: u.token.clone(),
        kind: u.kind.clone(),
        file_name: u.file_name.clone(),
        hash: u.content_hash.clone(),
        reading,
        rows,
        change_count,
        changes,
        unchanged,
        error_count: error_list.len(),
        errors: errors(error_list),
    }
}

#[cfg(feature = "ssr")]
fn feed_view(f: sync_core::storage::FeedRow) -> FeedView {
    FeedView {
        id: f.id.get(),
        name: f.name,
        url: f.url,
        outlet: f.outlet_code,
        mode: f.mode,
        every: f
            .schedule_minutes
            .map_or_else(|| "on request".to_owned(), |m| format!("every {m} min")),
        last_fetched: f.last_fetched_at.map_or_else(|| "never".to_owned(), |t| t.to_string()),
        last_status: f.last_status.unwrap_or_default(),
        last_message: f.last_message,
    }
}
