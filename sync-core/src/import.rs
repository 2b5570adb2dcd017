//! Stock and catalog from files and feeds (seed 003's "file upload" and
//! "inventory feed update"), and the catalog and stock as CSV. Every import
//! is previewed first (the changes, and every bad row with its line number
//! and reason) and applied all or nothing.

mod catalog;
pub(crate) mod catalog_rules;
mod feed;
mod feed_guard;
mod formula;
mod stock;
mod table;

use serde::{Deserialize, Serialize};

pub use catalog::{CATALOG_COLUMNS, CatalogChange, apply_catalog, export_catalog, preview_catalog};
pub use feed::{FeedLimits, FeedRun, FeedScheduler, fetch_feed, run_feed};
pub use feed_guard::{ALLOW_NETWORKS_VAR, AllowedNetworks, literal_ip, refusal};
pub use stock::{StockFileOptions, StockLine, StockMode, apply_stock, export_stock, preview_stock};

/// The largest file read, uploaded or fetched.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The most data rows in one file.
pub const MAX_ROWS: usize = 100_000;

/// Why a line of a file was refused. Line 1 is the header; problems with
/// the file as a whole are reported on line 1 too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

impl RowError {
    pub fn new(line: u64, reason: impl Into<String>) -> Self {
        Self {
            line,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What a file would change, and every line that stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPreview<C> {
    /// Data rows read (blank lines aside).
    pub rows: usize,
    pub changes: Vec<C>,
    /// Rows (stock) or products (catalog) already as the file says.
    pub unchanged: usize,
    /// In line order.
    pub errors: Vec<RowError>,
}

impl<C> ImportPreview<C> {
    fn refused(error: RowError) -> Self {
        Self {
            rows: 0,
            changes: Vec::new(),
            unchanged: 0,
            errors: vec![error],
        }
    }

    /// True when the file can be applied.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// "3 bad rows: line 4: …; line 9: …" with at most `limit` lines.
    pub fn describe_errors(&self, limit: usize) -> String {
        let mut text = format!(
            "{} bad row{}, so nothing was applied: ",
            self.errors.len(),
            if self.errors.len() == 1 { "" } else { "s" }
        );
        let shown: Vec<String> = self.errors.iter().take(limit).map(RowError::to_string).collect();
        text.push_str(&shown.join("; "));
        if self.errors.len() > limit {
            text.push_str(&format!("; and {} more", self.errors.len() - limit));
        }
        text
    }
}

/// How applying a file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome<C> {
    /// Every change was written, in one transaction. `replayed` when the
    /// same upload had already been applied and nothing was written again.
    Applied { preview: ImportPreview<C>, replayed: bool },
    /// The file has bad rows; nothing was written.
    Refused(ImportPreview<C>),
}

impl<C> ApplyOutcome<C> {
    pub fn preview(&self) -> &ImportPreview<C> {
        match self {
            ApplyOutcome::Applied { preview, .. } | ApplyOutcome::Refused(preview) => preview,
        }
    }
}

/// The preview of a file uploaded on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadPreview {
    Stock(ImportPreview<StockLine>),
    Catalog(ImportPreview<CatalogChange>),
}

/// Previews an upload against the catalog and stock as they are now.
pub async fn preview_upload(
    storage: &crate::storage::Storage,
    upload: &crate::storage::Upload,
) -> crate::Result<UploadPreview> {
    Ok(match upload.kind.as_str() {
        "catalog" => UploadPreview::Catalog(preview_catalog(storage, &upload.content).await?),
        _ => {
            UploadPreview::Stock(preview_stock(storage, &upload.content, &StockFileOptions::for_upload(upload)).await?)
        }
    })
}

/// A whole number as people type it in a spreadsheet: "12", "+3", "-2", "12.0".
fn whole_number(raw: &str) -> Option<i64> {
    let s = raw.trim();
    let s = match s.split_once('.') {
        Some((whole, frac)) if !whole.is_empty() && !frac.is_empty() && frac.chars().all(|c| c == '0') => whole,
        Some(_) => return None,
        None => s,
    };
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_accept_signs_and_a_zero_fraction_only() {
        assert_eq!(whole_number(" 12 "), Some(12));
        assert_eq!(whole_number("+3"), Some(3));
        assert_eq!(whole_number("-2"), Some(-2));
        assert_eq!(whole_number("12.00"), Some(12));
        assert_eq!(whole_number("12.5"), None);
        assert_eq!(whole_number("twelve"), None);
        assert_eq!(whole_number("1,200"), None);
        assert_eq!(whole_number(""), None);
    }
}
