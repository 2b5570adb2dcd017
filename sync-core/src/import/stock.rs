//! Stock files: counts or adjustments per SKU and outlet, checked against
//! the catalog, previewed, then recorded as one batch of movements (one
//! transaction, with the channel pushes they cause).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::formula::to_spreadsheet;
use super::table::{Record, Table, read_table};
use super::{ApplyOutcome, ImportPreview, RowError, whole_number};
use crate::Result;
use crate::domain::{Actor, DomainError, MovementReason, OutletCode, OutletId, ProductId, Sku, StockChange, VariantId};
use crate::storage::{IdempotencyKey, NewMovement, Storage, Upload};

const COLUMNS: &str = "sku, outlet, then count, delta or quantity, and optionally reference and note";

/// What a stock file's figures are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockMode {
    /// What is on hand (a stocktake): replaces the figure.
    Count,
    /// An adjustment: added to the figure.
    Delta,
}

impl StockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StockMode::Count => "count",
            StockMode::Delta => "delta",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim().to_lowercase().as_str() {
            "count" => Ok(Self::Count),
            "delta" => Ok(Self::Delta),
            other => Err(DomainError::new(
                "mode",
                format!("{other:?} is not a mode; use count or delta"),
            )),
        }
    }
}

/// How to read a stock file.
#[derive(Debug, Clone)]
pub struct StockFileOptions {
    /// What a `quantity` column holds. A `count` or `delta` column says so itself.
    pub mode: Option<StockMode>,
    /// The outlet of rows without one (or of a file without an outlet column).
    pub outlet: Option<OutletCode>,
    /// `file_upload` for files, `inventory_feed` for feeds.
    pub reason: MovementReason,
    /// Recorded with each movement whose row has no reference of its own.
    pub reference: String,
}

impl StockFileOptions {
    /// How a dashboard upload's rows are read: its form's choices.
    pub fn for_upload(upload: &Upload) -> Self {
        Self {
            mode: upload.mode.as_deref().and_then(|m| StockMode::parse(m).ok()),
            outlet: upload.outlet_code.as_deref().and_then(|o| OutletCode::parse(o).ok()),
            reason: MovementReason::FileUpload,
            reference: format!("file {}", upload.file_name),
        }
    }
}

/// One row that changes stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLine {
    pub line: u64,
    pub sku: Sku,
    pub outlet: OutletCode,
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub outlet_id: OutletId,
    pub change: StockChange,
    pub before: i64,
    pub after: i64,
    pub reference: String,
    pub note: String,
}

/// Where each known column is.
struct Columns {
    sku: Option<usize>,
    outlet: Option<usize>,
    count: Option<usize>,
    delta: Option<usize>,
    quantity: Option<usize>,
    reference: Option<usize>,
    note: Option<usize>,
}

impl Columns {
    fn of(table: &Table, options: &StockFileOptions) -> Result<Self, RowError> {
        let known = ["sku", "outlet", "count", "delta", "quantity", "reference", "note"];
        let c = Columns {
            sku: table.column("sku"),
            outlet: table.column("outlet"),
            count: table.column("count"),
            delta: table.column("delta"),
            quantity: table.column("quantity"),
            reference: table.column("reference"),
            note: table.column("note"),
        };
        let mut missing = Vec::new();
        if c.sku.is_none() {
            missing.push("sku");
        }
        if c.outlet.is_none() && options.outlet.is_none() {
            missing.push("outlet (or choose the outlet of the whole file)");
        }
        if c.count.is_none() && c.delta.is_none() && c.quantity.is_none() {
            missing.push("count, delta or quantity");
        }
        table.check_columns(|h| known.contains(&h), &missing, COLUMNS)?;
        if c.quantity.is_some() && (c.count.is_some() || c.delta.is_some()) {
            return Err(RowError::new(
                1,
                "use either a quantity column or count/delta columns, not both",
            ));
        }
        match (options.mode, c.quantity.is_some(), c.count.is_some(), c.delta.is_some()) {
            (None, true, _, _) => Err(RowError::new(
                1,
                "the quantity column needs a mode: say whether its figures are counts or deltas (or name the column count or delta)",
            )),
            (Some(StockMode::Delta), false, true, _) | (Some(StockMode::Count), false, _, true) => Err(RowError::new(
                1,
                format!(
                    "{} was chosen, but the file's columns say otherwise; leave the mode unset or rename the column quantity",
                    options.mode.map_or("", |m| m.as_str())
                ),
            )),
            _ => Ok(c),
        }
    }

    /// The row's change, or why it has none.
    fn change(&self, r: &Record, mode: Option<StockMode>) -> Result<StockChange, String> {
        let (kind, raw) = match (r.get(self.quantity), r.get(self.count), r.get(self.delta)) {
            (q, _, _) if self.quantity.is_some() => (mode.unwrap_or(StockMode::Count), q),
            (_, c, d) if !c.is_empty() && !d.is_empty() => {
                return Err("fill count or delta, not both".into());
            }
            (_, c, _) if !c.is_empty() => (StockMode::Count, c),
            (_, _, d) if !d.is_empty() => (StockMode::Delta, d),
            _ => {
                let which = match (self.count.is_some(), self.delta.is_some()) {
                    (true, true) => "count or delta",
                    (true, false) => "count",
                    _ => "delta",
                };
                return Err(format!("{which} is empty"));
            }
        };
        let label = if self.quantity.is_some() {
            "quantity"
        } else {
            kind.as_str()
        };
        if raw.is_empty() {
            return Err(format!("{label} is empty"));
        }
        let n = whole_number(raw).ok_or_else(|| format!("{label} {raw:?} is not a whole number"))?;
        match kind {
            StockMode::Count => StockChange::count(n),
            StockMode::Delta => StockChange::delta(n),
        }
        .map_err(|e| e.message)
    }
}

/// A row that parsed, before the catalog is consulted.
struct Parsed {
    line: u64,
    sku: Sku,
    outlet: OutletCode,
    change: StockChange,
    reference: String,
    note: String,
}

/// Reads and checks a stock file against the catalog and the current
/// stock, without writing anything.
pub async fn preview_stock(
    storage: &Storage,
    bytes: &[u8],
    options: &StockFileOptions,
) -> Result<ImportPreview<StockLine>> {
    let (table, mut errors) = match read_table(bytes) {
        Ok(t) => t,
        Err(e) => return Ok(ImportPreview::refused(e)),
    };
    // Records the reader refused (wrong width, not UTF-8) are rows too.
    let rows = table.records.len() + errors.len();
    let columns = match Columns::of(&table, options) {
        Ok(c) => c,
        Err(e) => return Ok(ImportPreview::refused(e)),
    };
    let mut parsed = Vec::with_capacity(table.records.len());
    for r in &table.records {
        let mut problems = Vec::new();
        let sku = Sku::parse(r.get(columns.sku))
            .map_err(|e| problems.push(e.message))
            .ok();
        let outlet = match r.get(columns.outlet) {
            "" => options
                .outlet
                .clone()
                .ok_or_else(|| problems.push("outlet is empty".to_owned()))
                .ok(),
            raw => OutletCode::parse(raw).map_err(|e| problems.push(e.message)).ok(),
        };
        let change = columns.change(r, options.mode).map_err(|e| problems.push(e)).ok();
        match (sku, outlet, change) {
            (Some(sku), Some(outlet), Some(change)) if problems.is_empty() => parsed.push(Parsed {
                line: r.line,
                sku,
                outlet,
                change,
                reference: match r.get(columns.reference) {
                    "" => options.reference.clone(),
                    own => own.to_owned(),
                },
                note: r.get(columns.note).to_owned(),
            }),
            _ => errors.push(RowError::new(r.line, problems.join("; "))),
        }
    }

    let skus: Vec<Sku> = parsed
        .iter()
        .map(|p| p.sku.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let deleted = storage.deleted_product_skus(&skus).await?;
    let mut variants = storage.variant_owners(&skus).await?;
    variants.retain(|sku, _| !deleted.contains(sku));
    let outlets = storage.list_outlets().await?;
    let outlet_ids: HashMap<&str, OutletId> = outlets.iter().map(|o| (o.code.as_str(), o.id)).collect();
    let outlet_list = outlets.iter().map(|o| o.code.as_str()).collect::<Vec<_>>().join(", ");
    let known: Vec<VariantId> = variants.values().map(|(v, _)| *v).collect();
    let levels = storage.on_hand_of(&known).await?;

    let mut first_line: HashMap<(VariantId, OutletId), u64> = HashMap::new();
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for p in parsed {
        let variant = variants.get(p.sku.as_str()).copied();
        let outlet = outlet_ids.get(p.outlet.as_str()).copied();
        let mut problems = Vec::new();
        if deleted.contains(p.sku.as_str()) {
            problems.push(format!("SKU {:?} belongs to a deleted product", p.sku.as_str()));
        } else if variant.is_none() {
            problems.push(format!("unknown SKU {:?}", p.sku.as_str()));
        }
        if outlet.is_none() {
            problems.push(format!(
                "unknown outlet {:?}; the outlets are {outlet_list}",
                p.outlet.as_str()
            ));
        }
        let (Some((variant_id, product_id)), Some(outlet_id)) = (variant, outlet) else {
            errors.push(RowError::new(p.line, problems.join("; ")));
            continue;
        };
        if let Some(first) = first_line.insert((variant_id, outlet_id), p.line) {
            first_line.insert((variant_id, outlet_id), first);
            errors.push(RowError::new(
                p.line,
                format!(
                    "{} at {} is already on line {first}; combine them into one row",
                    p.sku, p.outlet
                ),
            ));
            continue;
        }
        let before = levels.get(&(variant_id, outlet_id)).copied().unwrap_or(0);
        let after = p.change.apply(before);
        if matches!(p.change, StockChange::Count(_)) && after == before {
            unchanged += 1;
            continue;
        }
        changes.push(StockLine {
            line: p.line,
            sku: p.sku,
            outlet: p.outlet,
            product_id,
            variant_id,
            outlet_id,
            change: p.change,
            before,
            after,
            reference: p.reference,
            note: p.note,
        });
    }
    errors.sort_by_key(|e| e.line);
    Ok(ImportPreview {
        rows,
        changes,
        unchanged,
        errors,
    })
}

/// Previews the file again and, if no row is bad, records every change as
/// one batch of movements: all of them, with their channel pushes, or none.
/// `key` makes a second apply of the same upload a no-op.
pub async fn apply_stock(
    storage: &Storage,
    actor: &Actor,
    bytes: &[u8],
    options: &StockFileOptions,
    key: Option<&IdempotencyKey>,
) -> Result<ApplyOutcome<StockLine>> {
    let preview = preview_stock(storage, bytes, options).await?;
    if !preview.is_clean() {
        return Ok(ApplyOutcome::Refused(preview));
    }
    if preview.changes.is_empty() {
        return Ok(ApplyOutcome::Applied {
            preview,
            replayed: false,
        });
    }
    let movements: Vec<NewMovement> = preview
        .changes
        .iter()
        .map(|c| NewMovement {
            variant_id: c.variant_id,
            outlet_id: c.outlet_id,
            change: c.change,
            reason: options.reason,
            reference: c.reference.clone(),
            note: c.note.clone(),
        })
        .collect();
    let batch = storage.record_movements_once(actor, &movements, key).await?;
    Ok(ApplyOutcome::Applied {
        preview,
        replayed: batch.replayed,
    })
}

/// Every stock level as a count file (`sku,outlet,count`), which
/// `import stock` takes back.
pub async fn export_stock(storage: &Storage) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| crate::Error::Io {
        context: "cannot write the stock CSV".into(),
        source: std::io::Error::other(e),
    };
    out.write_record(["sku", "outlet", "count"]).map_err(io)?;
    for (sku, outlet, on_hand) in storage.stock_table().await? {
        let count = on_hand.to_string();
        out.write_record([
            to_spreadsheet(&sku).as_bytes(),
            to_spreadsheet(&outlet).as_bytes(),
            count.as_bytes(),
        ])
        .map_err(io)?;
    }
    out.into_inner().map_err(|e| crate::Error::Io {
        context: "cannot write the stock CSV".into(),
        source: std::io::Error::other(e.to_string()),
    })
}
