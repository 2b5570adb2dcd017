//! The stock ledger: movements are appended and on-hand updated in one
//! transaction, so the two never disagree.

use super::{Storage, on_pool};
use crate::Result;
use crate::domain::{
    Actor, MovementId, MovementReason, OutletId, StockChange, Timestamp, VariantId,
};

#[derive(Debug, Clone)]
pub struct NewMovement {
    pub variant_id: VariantId,
    pub outlet_id: OutletId,
    pub change: StockChange,
    pub reason: MovementReason,
    pub reference: String,
    pub note: String,
}

/// A movement as recorded, with its effect on on-hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovementRecord {
    pub id: MovementId,
    pub variant_id: VariantId,
    pub outlet_id: OutletId,
    pub on_hand_before: i64,
    pub on_hand_after: i64,
}

impl Storage {
    /// Records `movements` by `actor`, all or none.
    pub async fn record_movements(
        &self,
        actor: &Actor,
        movements: &[NewMovement],
    ) -> Result<Vec<MovementRecord>> {
        let now = Timestamp::now();
        let actor_label = actor.label();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut records = Vec::with_capacity(movements.len());
            for m in movements {
                // The upsert takes the row lock (PostgreSQL) before we read the
                // figure, so concurrent movements on one SKU cannot lose updates.
                let before: i64 = sqlx::query_scalar(
                    "INSERT INTO stock_levels (variant_id, outlet_id, on_hand, committed, updated_at)
                     VALUES ($1, $2, 0, 0, $3)
                     ON CONFLICT (variant_id, outlet_id) DO UPDATE SET updated_at = excluded.updated_at
                     RETURNING on_hand",
                )
                .bind(m.variant_id)
                .bind(m.outlet_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let after = m.change.apply(before);
                sqlx::query("UPDATE stock_levels SET on_hand = $3 WHERE variant_id = $1 AND outlet_id = $2")
                    .bind(m.variant_id)
                    .bind(m.outlet_id)
                    .bind(after)
                    .execute(&mut *tx)
                    .await?;
                let id: MovementId = sqlx::query_scalar(
                    "INSERT INTO stock_movements (variant_id, outlet_id, change_kind, amount, applied_delta, on_hand_after,
                         reason, reference, note, actor_kind, actor_label, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                )
                .bind(m.variant_id)
                .bind(m.outlet_id)
                .bind(m.change.kind())
                .bind(m.change.amount())
                .bind(after - before)
                .bind(after)
                .bind(m.reason.as_str())
                .bind(&m.reference)
                .bind(&m.note)
                .bind(actor.kind())
                .bind(&actor_label)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                records.push(MovementRecord {
                    id,
                    variant_id: m.variant_id,
                    outlet_id: m.outlet_id,
                    on_hand_before: before,
                    on_hand_after: after,
                });
            }
            tx.commit().await?;
            records
        }))
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
