//! Files and feeds: CSV uploads kept for their preview and applied whole or
//! not at all, the catalog and stock downloads, and inventory feeds.

use super::Core;
use crate::Result;
use crate::domain::Actor;
use crate::import::{
    ApplyOutcome, CatalogChange, FeedLimits, FeedRun, ImportPreview, StockFileOptions, StockLine, UploadPreview,
};
use crate::storage::{IdempotencyKey, RunTrigger};

use crate::domain::DomainError;
use crate::import::MAX_FILE_BYTES;
pub use crate::storage::{FeedId, FeedRow, NewFeed, NewUpload, Upload};

/// Why a file is refused for its size.
pub fn too_large() -> String {
    format!(
        "The file is larger than the {} MB limit; split it and upload each part.",
        MAX_FILE_BYTES / 1_048_576
    )
}

#[derive(Clone)]
pub struct Files {
    core: Core,
}

/// The Import page: the outlets a file may name, the feeds, and the
/// upload the page names with its preview (None and `upload_gone` when it
/// was applied or has expired).
#[derive(Debug, Clone)]
pub struct ImportPage {
    pub outlets: Vec<crate::storage::Outlet>,
    pub feeds: Vec<FeedRow>,
    pub upload: Option<(Upload, UploadPreview)>,
    pub upload_gone: bool,
}

/// What applying an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppliedUpload {
    Applied {
        file_name: String,
        /// `stock` or `catalog`.
        kind: String,
        changes: usize,
        replayed: bool,
    },
    /// Bad rows: nothing was applied.
    Refused { bad_rows: usize },
    /// The upload was applied already or has expired.
    Gone,
    /// The file is not the one previewed (another hash).
    NotThePreviewed,
}

impl Files {
    pub(super) fn new(core: Core) -> Self {
        Self { core }
    }

    /// Keeps an uploaded file under a new random token for its preview,
    /// once what it holds and how to read it are known to make sense.
    pub async fn keep_upload(&self, upload: &NewUpload) -> Result<Upload> {
        if !matches!(upload.kind.as_str(), "stock" | "catalog") {
            return Err(DomainError::new("kind", "Choose what the file holds: stock or the catalog.").into());
        }
        if let Some(mode) = &upload.mode {
            crate::import::StockMode::parse(mode)?;
        }
        if let Some(outlet) = &upload.outlet_code {
            crate::domain::OutletCode::parse(outlet)?;
        }
        if upload.content.is_empty() {
            return Err(DomainError::new("file", "Choose a CSV file to upload.").into());
        }
        if upload.content.len() > MAX_FILE_BYTES {
            return Err(DomainError::new("file", too_large()).into());
        }
        self.core.storage.save_upload(upload).await
    }

    /// The Import page, with the preview of the upload `token` names.
    pub async fn page(&self, token: Option<&str>) -> Result<ImportPage> {
        let storage = &self.core.storage;
        let (upload, upload_gone) = match token.filter(|t| !t.is_empty()) {
            None => (None, false),
            Some(token) => match storage.upload(token).await? {
                None => (None, true),
                Some(u) => {
                    let preview = self.preview_upload(&u).await?;
                    (Some((u, preview)), false)
                }
            },
        };
        Ok(ImportPage {
            outlets: storage.list_outlets().await?,
            feeds: storage.list_feeds().await?,
            upload,
            upload_gone,
        })
    }

    pub async fn preview_upload(&self, upload: &Upload) -> Result<UploadPreview> {
        crate::import::preview_upload(&self.core.storage, upload).await
    }

    /// Applies exactly the upload that was previewed (its content hash),
    /// all or nothing, once: a stock file's token is its idempotency key.
    pub async fn apply_upload(&self, token: &str, previewed_hash: &str, actor: &Actor) -> Result<AppliedUpload> {
        let storage = &self.core.storage;
        let Some(upload) = storage.upload(token).await? else {
            return Ok(AppliedUpload::Gone);
        };
        if previewed_hash != upload.content_hash {
            return Ok(AppliedUpload::NotThePreviewed);
        }
        let applied = |changes: usize, replayed: bool| AppliedUpload::Applied {
            file_name: upload.file_name.clone(),
            kind: upload.kind.clone(),
            changes,
            replayed,
        };
        let outcome = match upload.kind.as_str() {
            "stock" => {
                let key = IdempotencyKey {
                    key: format!("import:{}", upload.token),
                    request_hash: upload.content_hash.clone(),
                };
                let options = StockFileOptions::for_upload(&upload);
                match self.apply_stock(actor, &upload.content, &options, Some(&key)).await? {
                    ApplyOutcome::Applied { preview, replayed } => applied(preview.changes.len(), replayed),
                    ApplyOutcome::Refused(preview) => AppliedUpload::Refused {
                        bad_rows: preview.errors.len(),
                    },
                }
            }
            _ => match self.apply_catalog(&upload.content).await? {
                ApplyOutcome::Applied { preview, replayed } => applied(preview.changes.len(), replayed),
                ApplyOutcome::Refused(preview) => AppliedUpload::Refused {
                    bad_rows: preview.errors.len(),
                },
            },
        };
        if matches!(outcome, AppliedUpload::Applied { .. })
            && let Err(e) = storage.delete_upload(&upload.token).await
        {
            tracing::warn!(error = %e, "could not remove an applied upload");
        }
        Ok(outcome)
    }

    pub async fn preview_stock(&self, bytes: &[u8], options: &StockFileOptions) -> Result<ImportPreview<StockLine>> {
        crate::import::preview_stock(&self.core.storage, bytes, options).await
    }

    pub async fn apply_stock(
        &self,
        actor: &Actor,
        bytes: &[u8],
        options: &StockFileOptions,
        key: Option<&IdempotencyKey>,
    ) -> Result<ApplyOutcome<StockLine>> {
        let outcome = crate::import::apply_stock(&self.core.storage, actor, bytes, options, key).await?;
        self.core.waker.wake();
        Ok(outcome)
    }

    pub async fn preview_catalog(&self, bytes: &[u8]) -> Result<ImportPreview<CatalogChange>> {
        crate::import::preview_catalog(&self.core.storage, bytes).await
    }

    pub async fn apply_catalog(&self, bytes: &[u8]) -> Result<ApplyOutcome<CatalogChange>> {
        let outcome = crate::import::apply_catalog(&self.core.storage, bytes).await?;
        self.core.waker.wake();
        Ok(outcome)
    }

    pub async fn export_catalog(&self) -> Result<Vec<u8>> {
        crate::import::export_catalog(&self.core.storage).await
    }

    pub async fn export_stock(&self) -> Result<Vec<u8>> {
        crate::import::export_stock(&self.core.storage).await
    }

    pub async fn feeds(&self) -> Result<Vec<FeedRow>> {
        self.core.storage.list_feeds().await
    }

    /// Adds a feed. An address written as a private or local IP is refused
    /// at once (a name is checked each time the feed is fetched).
    pub async fn add_feed(&self, feed: &NewFeed) -> Result<FeedId> {
        if let Ok(url) = reqwest::Url::parse(feed.url.trim())
            && let Some(ip) = crate::import::literal_ip(&url)
            && !crate::import::AllowedNetworks::from_env().permits(ip)
        {
            let host = url.host_str().unwrap_or_default();
            return Err(crate::domain::DomainError::new("url", crate::import::refusal(host, ip)).into());
        }
        self.core.storage.add_feed(feed).await
    }

    pub async fn feed(&self, id: FeedId) -> Result<Option<FeedRow>> {
        self.core.storage.feed(id).await
    }

    pub async fn feed_by_name(&self, name: &str) -> Result<Option<FeedRow>> {
        self.core.storage.feed_by_name(name).await
    }

    /// Fetches a feed now and applies it, or records why not.
    pub async fn fetch_feed(&self, feed: &FeedRow, trigger: RunTrigger, actor: &Actor) -> Result<FeedRun> {
        let run = crate::import::run_feed(&self.core.storage, feed, trigger, actor, &FeedLimits::default()).await?;
        if run.changes > 0 {
            self.core.waker.wake();
        }
        Ok(run)
    }
}
