//! The Import page: an uploaded file's preview, the outlets a file may name,
//! and the inventory feeds.

use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, MultipartData, MultipartFormData};
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
    /// The last fetch failed.
    pub failed: bool,
    pub last_message: String,
}

#[server(endpoint = "import_page", input = GetUrl)]
pub async fn import_page(upload: Option<String>) -> Result<ImportPageView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let page = services.files.page(upload.as_deref()).await?;
    let zone = services.store.zone().await?;
    Ok(ImportPageView::new(
        page,
        user.role.allows(Permission::WriteCatalog),
        zone,
    ))
}

#[cfg(feature = "ssr")]
impl ImportPageView {
    fn new(page: sync_core::service::ImportPage, can_write: bool, zone: sync_core::domain::StoreZone) -> Self {
        ImportPageView {
            can_write,
            outlets: page
                .outlets
                .into_iter()
                .map(|o| (o.id.get(), o.code.to_string(), o.name))
                .collect(),
            feeds: page.feeds.into_iter().map(|f| feed_view(f, zone)).collect(),
            preview: page.upload.map(|(u, preview)| preview_view(&u, preview)),
            upload_gone: page.upload_gone,
        }
    }
}

#[cfg(feature = "ssr")]
fn preview_view(u: &sync_core::service::Upload, preview: sync_core::import::UploadPreview) -> PreviewView {
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
fn feed_view(f: sync_core::service::FeedRow, zone: sync_core::domain::StoreZone) -> FeedView {
    FeedView {
        id: f.id.get(),
        name: f.name,
        url: f.url,
        outlet: f.outlet_code,
        mode: f.mode,
        every: f
            .schedule_minutes
            .map_or_else(|| "on request".to_owned(), |m| format!("every {m} min")),
        last_fetched: f.last_fetched_at.map_or_else(|| "never".to_owned(), |t| zone.show(t)),
        failed: f.last_status.as_deref() == Some("failed"),
        last_status: f.last_status.unwrap_or_default(),
        last_message: f.last_message,
    }
}

#[cfg(feature = "ssr")]
const PAGE: &str = "/import";

/// "Apply": exactly the upload that was previewed (`hash`), all or nothing.
#[server(endpoint = "apply_upload")]
pub async fn apply_upload(token: String, #[server(default)] hash: String) -> Result<(), AppError> {
    use crate::api::ssr::{Next, actor, require, services, submit};
    submit(&format!("{PAGE}?upload={token}"), &[], async {
        let user = require(sync_core::domain::Permission::WriteCatalog).await?;
        let applied = services()?.files.apply_upload(&token, &hash, &actor(&user)).await?;
        Ok(Next::to(PAGE, form::applied(applied)?))
    })
    .await
}

/// "Add feed": an inventory feed fetched on request or on a schedule.
#[server(endpoint = "add_feed")]
pub async fn add_feed(
    #[server(default)] name: String,
    #[server(default)] url: String,
    #[server(default)] outlet: String,
    #[server(default)] mode: String,
    #[server(default)] every: String,
) -> Result<(), AppError> {
    use crate::api::ssr::{Next, require, services, submit};
    submit(PAGE, &[("name", &name), ("url", &url)], async {
        require(sync_core::domain::Permission::WriteCatalog).await?;
        services()?
            .files
            .add_feed(&form::feed(&name, &url, &outlet, &mode, &every)?)
            .await?;
        Ok(Next::to(PAGE, format!("Added the feed {:?}", name.trim())))
    })
    .await
}

/// "Fetch now": fetches the feed and applies it, or records why not.
#[server(endpoint = "fetch_feed")]
pub async fn fetch_feed(id: i64) -> Result<(), AppError> {
    use crate::api::ssr::{Next, actor, require, services, submit};
    use sync_core::service::{FeedId, RunTrigger};
    submit(PAGE, &[], async {
        let user = require(sync_core::domain::Permission::WriteCatalog).await?;
        let files = services()?.files;
        let Some(feed) = files.feed(FeedId::new(id)).await? else {
            return crate::api::ssr::fail(AppError::NotFound(format!("Feed {id}")));
        };
        let run = files.fetch_feed(&feed, RunTrigger::Button, &actor(&user)).await?;
        Ok(Next::to(PAGE, form::fetched(run)?))
    })
    .await
}

/// "Upload": the CSV file (multipart) kept server-side under a random token,
/// then the Import page shows its preview. Nothing is applied yet.
#[server(endpoint = "upload_file", input = MultipartFormData)]
pub async fn upload_file(data: MultipartData) -> Result<(), AppError> {
    use crate::api::ssr::{require, services, submit};
    submit(PAGE, &[], async {
        let user = require(sync_core::domain::Permission::WriteCatalog).await?;
        let upload = form::read_upload(data.into_inner(), user.id).await?;
        let kept = services()?.files.keep_upload(&upload).await?;
        Ok(form::preview_of(&kept.token))
    })
    .await
}

#[cfg(feature = "ssr")]
mod form {
    use super::PAGE;
    use crate::AppError;
    use crate::api::ssr::{Next, fail, invalid};
    use sync_core::domain::{DomainError, OutletId, UserId};
    use sync_core::import::{FeedRun, MAX_FILE_BYTES};
    use sync_core::service::{AppliedUpload, NewFeed, NewUpload};

    /// What applying an upload says, or why nothing was applied.
    pub fn applied(applied: AppliedUpload) -> Result<String, AppError> {
        match applied {
            AppliedUpload::Applied {
                file_name,
                replayed: true,
                ..
            } => Ok(format!("{file_name} was already applied; nothing was applied twice")),
            AppliedUpload::Applied {
                file_name,
                kind,
                changes,
                ..
            } if kind == "stock" => Ok(format!("Applied {changes} stock changes from {file_name}")),
            AppliedUpload::Applied { file_name, changes, .. } => Ok(format!(
                "Applied {changes} product changes from {file_name}; channels get them with the next sync"
            )),
            AppliedUpload::Refused { bad_rows } => fail(AppError::Conflict(format!(
                "{bad_rows} bad rows; nothing was applied. Fix the file and upload it again."
            ))),
            AppliedUpload::Gone => fail(AppError::Conflict(
                "This upload was already applied or has expired (uploads are kept a day); upload the file again."
                    .into(),
            )),
            AppliedUpload::NotThePreviewed => fail(AppError::Conflict(
                "The file is not the one previewed; nothing was applied. Check the preview and apply again.".into(),
            )),
        }
    }

    /// The Add feed form as a feed.
    pub fn feed(name: &str, url: &str, outlet: &str, mode: &str, every: &str) -> Result<NewFeed, AppError> {
        let schedule_minutes = match every.trim() {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| {
                invalid(DomainError::new(
                    "every",
                    format!("every (minutes): {v:?} is not a whole number"),
                ))
            })?),
        };
        let outlet = outlet.trim().parse::<OutletId>().map_err(|_| {
            invalid(DomainError::new(
                "outlet",
                "outlet: choose the outlet whose stock the feed sets",
            ))
        })?;
        Ok(NewFeed {
            name: name.to_owned(),
            url: url.to_owned(),
            outlet,
            mode: match mode.trim() {
                "" => "count".to_owned(),
                m => m.to_owned(),
            },
            schedule_minutes,
        })
    }

    /// A fetch's log line, or why it failed.
    pub fn fetched(run: FeedRun) -> Result<String, AppError> {
        if run.succeeded {
            Ok(run.message)
        } else {
            fail(AppError::Conflict(run.message))
        }
    }

    /// The preview of a kept upload.
    pub fn preview_of(token: &str) -> Next {
        Next {
            to: format!("{PAGE}?upload={token}"),
            notice: String::new(),
        }
    }

    fn broken(e: impl std::fmt::Display) -> AppError {
        AppError::Invalid {
            field: "file".into(),
            message: format!("The upload did not arrive whole ({e}); try again."),
        }
    }

    /// The form's fields; the file is read up to just past the limit, so a
    /// huge one is refused without being held whole.
    pub async fn read_upload(
        multipart: Option<multer::Multipart<'static>>,
        user: UserId,
    ) -> Result<NewUpload, AppError> {
        let Some(mut multipart) = multipart else {
            return fail(AppError::Internal("no-multipart".into()));
        };
        let (mut kind, mut mode, mut outlet) = (String::new(), String::new(), String::new());
        let (mut file_name, mut content) = (String::new(), Vec::new());
        while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                file_name = field.file_name().unwrap_or_default().to_owned();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    content.extend_from_slice(&chunk);
                    if content.len() > MAX_FILE_BYTES {
                        let error = AppError::Invalid {
                            field: "file".into(),
                            message: sync_core::service::too_large(),
                        };
                        crate::api::ssr::set_status(&error);
                        return Err(error);
                    }
                }
                continue;
            }
            let text = field.text().await.map_err(broken)?.trim().to_owned();
            match name.as_str() {
                "kind" => kind = text,
                "mode" => mode = text,
                "outlet" => outlet = text,
                _ => {}
            }
        }
        Ok(NewUpload {
            kind,
            mode: (!mode.is_empty()).then_some(mode),
            outlet_code: (!outlet.is_empty()).then_some(outlet),
            file_name: if file_name.is_empty() {
                "upload.csv".into()
            } else {
                file_name
            },
            content,
            user: Some(user),
        })
    }
}
