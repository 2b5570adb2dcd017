//! The stock ledger: movements are appended, on-hand updated and the outbox
//! rows they cause enqueued in one transaction, so none of the three can
//! disagree or be lost.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::outbox::{AFFECTED_BY_MOVEMENTS, upsert_sql};
use super::{Storage, on_pool};
use crate::domain::{
    Actor, DomainError, MovementId, MovementReason, OutletCode, OutletId, Sku, StockChange, Timestamp, VariantId,
};
use crate::{Error, Result};

/// Rows per multi-row statement: well under SQLite's and PostgreSQL's
/// limits on bound parameters.
const PAIRS_PER_STATEMENT: usize = 300;
const MOVEMENTS_PER_STATEMENT: usize = 200;

/// `($a, $b, …, fixed), (…)` for `rows` rows of `per_row` parameters
/// numbered from `first`, each followed by the `fixed` SQL.
fn tuples(rows: usize, per_row: usize, first: usize, fixed: &str) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (0..per_row).map(|c| format!("${}", first + r * per_row + c)).collect();
            format!("({}, {fixed})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stock level a batch moved: the variant, the outlet and its new on hand.
type LevelChange = (VariantId, OutletId, i64);

/// A PostgreSQL array literal, `{1,2,3}`, bound as text and cast.
fn array_literal(ids: impl Iterator<Item = i64>) -> String {
    let listed: Vec<String> = ids.map(|id| id.to_string()).collect();
    format!("{{{}}}", listed.join(","))
}

/// Most movements one request may carry.
pub const MAX_MOVEMENTS_PER_REQUEST: usize = 1_000;
/// The longest note a movement keeps, from the API or the dashboard.
pub const MAX_NOTE_CHARS: usize = 1_000;

#[derive(Debug, Clone)]
pub struct NewMovement {
    pub variant_id: VariantId,
    pub outlet_id: OutletId,
    pub change: StockChange,
    pub reason: MovementReason,
    pub reference: String,
    pub note: String,
}

/// A movement as a POS names it: by SKU and outlet code.
#[derive(Debug, Clone)]
pub struct MovementInput {
    pub sku: Sku,
    pub outlet: OutletCode,
    pub change: StockChange,
    pub reason: MovementReason,
    pub reference: String,
    pub note: String,
}

/// A movement as recorded, with its effect on on-hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovementRecord {
    pub id: MovementId,
    pub variant_id: VariantId,
    pub outlet_id: OutletId,
    pub on_hand_before: i64,
    pub on_hand_after: i64,
}

/// A client's key that makes a retried request apply once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    /// A hash of the request body, to tell a retry from a different request.
    pub request_hash: String,
}

impl IdempotencyKey {
    /// An API client's key, kept apart from every other token's: two
    /// tokens using the same key make two requests, and neither can read
    /// the answer stored for the other.
    pub fn for_token(token: crate::domain::ApiTokenId, key: &str, request_hash: String) -> Self {
        Self {
            key: format!("api-token-{}:{key}", token.get()),
            request_hash,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovementBatch {
    pub records: Vec<MovementRecord>,
    /// True when this answers a retry of a request already applied.
    pub replayed: bool,
}

impl Storage {
    /// Records `movements` by `actor`, all or none.
    pub async fn record_movements(&self, actor: &Actor, movements: &[NewMovement]) -> Result<Vec<MovementRecord>> {
        Ok(self.record_movements_once(actor, movements, None).await?.records)
    }

    /// Resolves SKUs and outlet codes, then records the movements, all or none.
    /// Every unknown SKU or outlet is named, with its index.
    pub async fn apply_movements(
        &self,
        actor: &Actor,
        inputs: &[MovementInput],
        key: Option<&IdempotencyKey>,
    ) -> Result<MovementBatch> {
        if inputs.is_empty() || inputs.len() > MAX_MOVEMENTS_PER_REQUEST {
            return Err(DomainError::new(
                "movements",
                format!(
                    "send 1 to {MAX_MOVEMENTS_PER_REQUEST} movements per request, not {}",
                    inputs.len()
                ),
            )
            .into());
        }
        let skus: Vec<Sku> = inputs
            .iter()
            .map(|m| m.sku.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let variants = self.variant_ids_by_sku(&skus).await?;
        let deleted = self.deleted_product_skus(&skus).await?;
        let outlets: HashMap<String, OutletId> = self
            .list_outlets()
            .await?
            .into_iter()
            .map(|o| (o.code.to_string(), o.id))
            .collect();
        let mut problems = Vec::new();
        let mut resolved = Vec::with_capacity(inputs.len());
        for (i, m) in inputs.iter().enumerate() {
            let variant = variants.get(m.sku.as_str());
            let outlet = outlets.get(m.outlet.as_str());
            if variant.is_none() {
                problems.push(if deleted.contains(m.sku.as_str()) {
                    format!(
                        "movements[{i}].sku: SKU {:?} belongs to a deleted product and takes no stock",
                        m.sku.as_str()
                    )
                } else {
                    format!("movements[{i}].sku: unknown SKU {:?}", m.sku.as_str())
                });
            }
            if outlet.is_none() {
                problems.push(format!("movements[{i}].outlet: unknown outlet {:?}", m.outlet.as_str()));
            }
            if let (Some(v), Some(o)) = (variant, outlet) {
                resolved.push(NewMovement {
                    variant_id: *v,
                    outlet_id: *o,
                    change: m.change,
                    reason: m.reason,
                    reference: m.reference.clone(),
                    note: m.note.clone(),
                });
            }
        }
        if !problems.is_empty() {
            let more = problems.len().saturating_sub(10);
            problems.truncate(10);
            let mut message = problems.join("; ");
            if more > 0 {
                message.push_str(&format!("; and {more} more"));
            }
            return Err(DomainError::new("movements", message).into());
        }
        self.record_movements_once(actor, &resolved, key).await
    }

    /// Records a batch; a PostgreSQL deadlock or serialization failure
    /// (two batches locking shared rows) rolls back whole and is retried.
    pub(crate) async fn record_movements_once(
        &self,
        actor: &Actor,
        movements: &[NewMovement],
        key: Option<&IdempotencyKey>,
    ) -> Result<MovementBatch> {
        let mut attempt = 0;
        loop {
            match self.try_record_movements(actor, movements, key).await {
                Err(Error::Database(sqlx::Error::Database(ref db)))
                    if attempt < 5 && matches!(db.code().as_deref(), Some("40P01" | "40001")) =>
                {
                    attempt += 1;
                    tracing::debug!(attempt, "movement batch met a deadlock; retrying");
                }
                other => return other,
            }
        }
    }

    async fn try_record_movements(
        &self,
        actor: &Actor,
        movements: &[NewMovement],
        key: Option<&IdempotencyKey>,
    ) -> Result<MovementBatch> {
        let now = Timestamp::now();
        let actor_label = actor.label();
        let outcome: std::result::Result<MovementBatch, Error> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                if let Some(k) = key {
                    // A concurrent twin waits here on the unique key until we commit.
                    let fresh = sqlx::query(
                        "INSERT INTO idempotency_keys (key, request_hash, response_code, response_body, created_at)
                         VALUES ($1, $2, 0, '', $3) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(&k.key)
                    .bind(&k.request_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if !fresh {
                        let (hash, body): (String, String) =
                            sqlx::query_as("SELECT request_hash, response_body FROM idempotency_keys WHERE key = $1")
                                .bind(&k.key)
                                .fetch_one(&mut *tx)
                                .await?;
                        if hash != k.request_hash {
                            return Err(Error::Conflict(format!(
                                "the Idempotency-Key {:?} was already used for a different request",
                                k.key
                            )));
                        }
                        let records = serde_json::from_str(&body).map_err(|e| Error::Conflict(format!(
                            "the stored answer for Idempotency-Key {:?} is unreadable: {e}", k.key
                        )))?;
                        return Ok(MovementBatch { records, replayed: true });
                    }
                }
                // Set-based, a few statements per batch whatever its size:
                // 1. create the levels not there yet, then lock (in one
                //    order, so concurrent batches cannot deadlock) and read
                //    every (variant, outlet) touched; no row is rewritten
                //    here, so the stock totals' triggers see only the moves,
                let pairs: Vec<(VariantId, OutletId)> =
                    movements.iter().map(|m| (m.variant_id, m.outlet_id)).collect::<BTreeSet<_>>().into_iter().collect();
                let lock = match self.engine() {
                    super::Engine::Postgres => "FOR UPDATE",
                    super::Engine::Sqlite => "",
                };
                let mut levels: HashMap<(VariantId, OutletId), i64> = HashMap::with_capacity(pairs.len());
                for chunk in pairs.chunks(PAIRS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO stock_levels (variant_id, outlet_id, on_hand, committed, updated_at) VALUES {}
                         ON CONFLICT (variant_id, outlet_id) DO NOTHING",
                        tuples(chunk.len(), 2, 2, "0, 0, $1")
                    );
                    let mut q = sqlx::query(&sql).bind(now);
                    for (v, o) in chunk {
                        q = q.bind(*v).bind(*o);
                    }
                    q.execute(&mut *tx).await?;
                    let wanted = (0..chunk.len())
                        .map(|i| format!("(CAST(${} AS BIGINT), CAST(${} AS BIGINT))", 1 + 2 * i, 2 + 2 * i))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "SELECT variant_id, outlet_id, on_hand FROM stock_levels
                         WHERE (variant_id, outlet_id) IN (VALUES {wanted})
                         ORDER BY variant_id, outlet_id {lock}"
                    );
                    let mut q = sqlx::query_as::<_, (VariantId, OutletId, i64)>(&sql);
                    for (v, o) in chunk {
                        q = q.bind(*v).bind(*o);
                    }
                    for (v, o, on_hand) in q.fetch_all(&mut *tx).await? {
                        levels.insert((v, o), on_hand);
                    }
                }
                // 2. apply the movements in order, in memory,
                let original = levels.clone();
                let mut records = Vec::with_capacity(movements.len());
                let mut changes = Vec::with_capacity(movements.len());
                for m in movements {
                    let level = levels.entry((m.variant_id, m.outlet_id)).or_insert(0);
                    let before = *level;
                    let after = m.change.apply(before);
                    *level = after;
                    changes.push((before, after));
                }
                // 3. append the ledger rows (ids come back in insertion order),
                for (chunk, chunk_changes) in movements.chunks(MOVEMENTS_PER_STATEMENT).zip(changes.chunks(MOVEMENTS_PER_STATEMENT)) {
                    let sql = format!(
                        "INSERT INTO stock_movements (variant_id, outlet_id, change_kind, amount, applied_delta, on_hand_after,
                             reason, reference, note, actor_kind, actor_label, created_at)
                         VALUES {} RETURNING id",
                        tuples(chunk.len(), 9, 4, "$1, $2, $3")
                    );
                    let mut q = sqlx::query_scalar::<_, MovementId>(&sql).bind(actor.kind()).bind(&actor_label).bind(now);
                    for (m, (before, after)) in chunk.iter().zip(chunk_changes) {
                        q = q
                            .bind(m.variant_id)
                            .bind(m.outlet_id)
                            .bind(m.change.kind())
                            .bind(m.change.amount())
                            .bind(after - before)
                            .bind(*after)
                            .bind(m.reason.as_str())
                            .bind(&m.reference)
                            .bind(&m.note);
                    }
                    let mut ids = q.fetch_all(&mut *tx).await?;
                    ids.sort_unstable();
                    for ((m, (before, after)), id) in chunk.iter().zip(chunk_changes).zip(ids) {
                        records.push(MovementRecord {
                            id,
                            variant_id: m.variant_id,
                            outlet_id: m.outlet_id,
                            on_hand_before: *before,
                            on_hand_after: *after,
                        });
                    }
                }
                // 4. write the new levels of the pairs that moved,
                let moved: Vec<LevelChange> = pairs
                    .iter()
                    .filter_map(|p| {
                        let level = levels.get(p).copied().unwrap_or(0);
                        (original.get(p) != Some(&level)).then_some((p.0, p.1, level))
                    })
                    .collect();
                for chunk in moved.chunks(PAIRS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO stock_levels (variant_id, outlet_id, on_hand, committed, updated_at) VALUES {}
                         ON CONFLICT (variant_id, outlet_id) DO UPDATE SET on_hand = excluded.on_hand",
                        tuples(chunk.len(), 3, 2, "0, $1")
                    );
                    let mut q = sqlx::query(&sql).bind(now);
                    for (v, o, level) in chunk {
                        q = q.bind(*v).bind(*o).bind(*level);
                    }
                    q.execute(&mut *tx).await?;
                }
                // 5. and bump the outbox for them, all in this one transaction.
                //    PostgreSQL takes the pairs as two arrays in one statement:
                //    planning a statement of hundreds of UNION ALLs cost it more
                //    than running it. SQLite plans those in no time.
                let bumps: Vec<(String, &[LevelChange])> = match self.engine() {
                    super::Engine::Postgres if !moved.is_empty() => {
                        let touched = "SELECT * FROM unnest(CAST($2 AS BIGINT[]), CAST($3 AS BIGINT[])) AS t (variant_id, outlet_id)";
                        vec![(upsert_sql(&AFFECTED_BY_MOVEMENTS.replace("{touched}", touched), "$1"), &moved[..])]
                    }
                    super::Engine::Postgres => Vec::new(),
                    super::Engine::Sqlite => moved
                        .chunks(PAIRS_PER_STATEMENT)
                        .map(|chunk| {
                            let touched = (0..chunk.len())
                                .map(|i| format!("SELECT ${} AS variant_id, ${} AS outlet_id", 2 + 2 * i, 3 + 2 * i))
                                .collect::<Vec<_>>()
                                .join(" UNION ALL ");
                            (upsert_sql(&AFFECTED_BY_MOVEMENTS.replace("{touched}", &touched), "$1"), chunk)
                        })
                        .collect(),
                };
                for (sql, pairs) in bumps {
                    let mut q = sqlx::query(&sql).bind(now);
                    if self.engine() == super::Engine::Postgres {
                        q = q
                            .bind(array_literal(pairs.iter().map(|(v, _, _)| v.get())))
                            .bind(array_literal(pairs.iter().map(|(_, o, _)| o.get())));
                    } else {
                        for (v, o, _) in pairs {
                            q = q.bind(*v).bind(*o);
                        }
                    }
                    q.execute(&mut *tx).await?;
                }
                if let Some(k) = key {
                    let body = serde_json::to_string(&records)
                        .map_err(|e| Error::Conflict(format!("cannot store the answer: {e}")))?;
                    sqlx::query("UPDATE idempotency_keys SET response_code = 200, response_body = $2 WHERE key = $1")
                        .bind(&k.key)
                        .bind(body)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(MovementBatch { records, replayed: false })
            }
            .await
        });
        outcome
    }

    /// Sum of `applied_delta` over the ledger for a variant at an outlet;
    /// equals on-hand when the ledger and the level agree.
    pub async fn ledger_total(&self, variant_id: VariantId, outlet_id: OutletId) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(SUM(applied_delta), 0) AS BIGINT) FROM stock_movements WHERE variant_id = $1 AND outlet_id = $2",
            )
            .bind(variant_id)
            .bind(outlet_id)
            .fetch_one(pool)
            .await
        })?)
    }
}
