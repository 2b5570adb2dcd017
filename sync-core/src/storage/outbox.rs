//! The outbox: one row per (channel, variant) whose quantity must be pushed.
//! Rows are enqueued in the same transaction as the change that causes
//! them, bumped (version + 1) by later changes, claimed under a lease, and
//! completed only if their version did not move since the claim.

use super::{Engine, Storage, on_pool, placeholders};
use crate::Result;
use crate::domain::{ChannelId, ProductId, Timestamp, VariantId};

/// How long a pushed variant waits before its next push. A lone change goes
/// out at once; a SKU changing many times a second is pushed about once a
/// second with its latest balance.
pub const PUSH_COOLDOWN: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

/// Enqueue-or-bump for the variants a SELECT yields as (channel_id, variant_id).
/// A row that is done or dead becomes pending again, due at once or when its
/// cooldown ends; one pending or in flight keeps its schedule and only gains
/// a version, except one waiting for a pull: its new balance may be lower,
/// which never waits, so it is due at once to be decided again. (`WHERE
/// TRUE` keeps SQLite from reading the upsert's ON as a join's.)
pub(crate) fn upsert_sql(select: &str, now_param: &str) -> String {
    format!(
        "INSERT INTO outbox (channel_id, variant_id, kind, version, state, attempts, available_at, enqueued_at, updated_at)
         SELECT q.channel_id, q.variant_id, 'quantity', 1, 'pending', 0, {now_param}, {now_param}, {now_param} FROM ({select}) q WHERE TRUE
         ON CONFLICT (channel_id, variant_id, kind) DO UPDATE SET
             version = outbox.version + 1,
             state = CASE WHEN outbox.state = 'in_flight' THEN 'in_flight' ELSE 'pending' END,
             attempts = CASE WHEN outbox.state IN ('done', 'dead') THEN 0 ELSE outbox.attempts END,
             enqueued_at = CASE WHEN outbox.state IN ('done', 'dead') THEN excluded.enqueued_at ELSE outbox.enqueued_at END,
             available_at = CASE
                 WHEN outbox.waits_for_pull_since IS NOT NULL THEN excluded.available_at
                 WHEN outbox.state NOT IN ('done', 'dead') THEN outbox.available_at
                 WHEN outbox.cooldown_until > excluded.available_at THEN outbox.cooldown_until
                 ELSE excluded.available_at END,
             waits_for_pull_since = NULL,
             updated_at = excluded.updated_at"
    )
}

/// The (channel, variant) pairs whose balance may have moved when the
/// `{touched}` (variant_id, outlet_id) rows changed: the product has Auto Sync
/// on, sells on the channel, and the outlet counts for it.
pub(crate) const AFFECTED_BY_MOVEMENTS: &str = "
    SELECT DISTINCT co.channel_id, v.id AS variant_id
    FROM ({touched}) t
    JOIN variants v ON v.id = t.variant_id
    JOIN products p ON p.id = v.product_id
    JOIN channel_outlets co ON co.outlet_id = t.outlet_id
    LEFT JOIN channel_products cp ON cp.channel_id = co.channel_id AND cp.product_id = p.id
    WHERE p.auto_sync = TRUE AND p.deleted_at IS NULL AND (cp.sell_online IS NULL OR cp.sell_online = TRUE)
    ORDER BY co.channel_id, v.id";

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedRow {
    pub id: i64,
    pub channel_id: ChannelId,
    pub variant_id: VariantId,
    pub version: i64,
    pub attempts: i64,
}

/// How a claimed row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// Pushed; done unless it was bumped meanwhile.
    Pushed,
    /// A transient failure: try again at `retry_at`. Counts as an attempt.
    RetryAt { retry_at: Timestamp, error: String },
    /// Not tried, no failure: the channel asked to slow down, or another
    /// worker is creating the product. Due again at `retry_at`; the claim
    /// does not count as an attempt.
    Later { retry_at: Timestamp, reason: String },
    /// A permanent failure: dead until the next change revives it.
    Dead { error: String },
    /// Not pushed: the push would raise a figure read in the channel at
    /// `since`, which may hold sales not pulled yet. Due again once a pull
    /// of the channel's orders that started after `since` has been applied,
    /// or as soon as a newer change bumps the row.
    AwaitPull { since: Timestamp, reason: String },
}

impl Storage {
    /// Queues a quantity push of every variant of `products` to every channel
    /// the product sells on (Auto Sync was just turned on for them).
    pub async fn enqueue_products(&self, products: &[ProductId]) -> Result<u64> {
        let mut total = 0;
        for chunk in products.chunks(500) {
            let list = placeholders(2, chunk.len());
            let select = format!(
                "SELECT c.id AS channel_id, v.id AS variant_id
                 FROM variants v JOIN products p ON p.id = v.product_id CROSS JOIN channels c
                 LEFT JOIN channel_products cp ON cp.channel_id = c.id AND cp.product_id = p.id
                 WHERE p.id IN ({list}) AND p.auto_sync = TRUE AND (cp.sell_online IS NULL OR cp.sell_online = TRUE)"
            );
            let sql = upsert_sql(&select, "$1");
            total += on_pool!(self, pool => {
                let mut q = sqlx::query(&sql).bind(Timestamp::now());
                for p in chunk {
                    q = q.bind(*p);
                }
                q.execute(pool).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(total)
    }

    /// Queues a quantity push of these variants to `channel` (just added there).
    pub async fn enqueue_variants(&self, channel: ChannelId, variants: &[VariantId]) -> Result<u64> {
        let mut total = 0;
        for chunk in variants.chunks(500) {
            let select = format!(
                "SELECT $2 AS channel_id, v.id AS variant_id FROM variants v JOIN products p ON p.id = v.product_id
                 WHERE p.auto_sync = TRUE AND p.deleted_at IS NULL AND v.id IN ({})",
                placeholders(3, chunk.len())
            );
            let sql = upsert_sql(&select, "$1");
            total += on_pool!(self, pool => {
                let mut q = sqlx::query(&sql).bind(Timestamp::now()).bind(channel);
                for v in chunk {
                    q = q.bind(*v);
                }
                q.execute(pool).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(total)
    }

    /// Queues a push of every Auto Sync variant to `channel` (a full sync).
    pub async fn enqueue_channel(&self, channel: ChannelId) -> Result<u64> {
        let select = "SELECT $2 AS channel_id, v.id AS variant_id
             FROM variants v JOIN products p ON p.id = v.product_id
             LEFT JOIN channel_products cp ON cp.channel_id = $2 AND cp.product_id = p.id
             WHERE p.auto_sync = TRUE AND p.deleted_at IS NULL AND (cp.sell_online IS NULL OR cp.sell_online = TRUE)";
        let sql = upsert_sql(select, "$1");
        Ok(on_pool!(self, pool => {
            sqlx::query(&sql).bind(Timestamp::now()).bind(channel).execute(pool).await.map(|r| r.rows_affected())
        })?)
    }

    /// Queues a push of every Auto Sync variant of `channel` not yet linked
    /// there (new products to create or link before a standard sync).
    pub async fn enqueue_unlinked(&self, channel: ChannelId) -> Result<u64> {
        let select = "SELECT $2 AS channel_id, v.id AS variant_id
             FROM variants v JOIN products p ON p.id = v.product_id
             LEFT JOIN channel_products cp ON cp.channel_id = $2 AND cp.product_id = p.id
             LEFT JOIN channel_listings l ON l.channel_id = $2 AND l.variant_id = v.id
             WHERE p.auto_sync = TRUE AND p.deleted_at IS NULL AND l.variant_id IS NULL
               AND (cp.sell_online IS NULL OR cp.sell_online = TRUE)";
        let sql = upsert_sql(select, "$1");
        Ok(on_pool!(self, pool => {
            sqlx::query(&sql).bind(Timestamp::now()).bind(channel).execute(pool).await.map(|r| r.rows_affected())
        })?)
    }

    /// Claims up to `limit` due rows of `channel` for `worker` until `lease_until`.
    /// Rows whose lease ran out (a crashed worker) are due again.
    pub async fn claim_outbox(
        &self,
        channel: ChannelId,
        worker: &str,
        limit: i64,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedRow>> {
        self.claim_outbox_due_by(channel, worker, limit, lease_until, Timestamp::now())
            .await
    }

    /// `claim_outbox` as if the time were `now` (tests step past cooldowns).
    pub async fn claim_outbox_due_by(
        &self,
        channel: ChannelId,
        worker: &str,
        limit: i64,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<ClaimedRow>> {
        // PostgreSQL: several processes claim at once; SKIP LOCKED keeps them apart.
        let lock = match self.engine() {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        // Two claims, each read in its index's order (outbox_leases, then
        // outbox_due), so neither sorts the queue: rows whose lease a dead
        // worker left first, then due rows, oldest first.
        let claim = |rows: &str| {
            format!(
                "UPDATE outbox SET state = 'in_flight', lease_owner = $2, lease_until = $3, attempts = attempts + 1, updated_at = $4
                 WHERE id IN ({rows} LIMIT $5 {lock})
                 RETURNING id, channel_id, variant_id, version, attempts"
            )
        };
        let expired = claim(
            "SELECT id FROM outbox
             WHERE channel_id = $1 AND state = 'in_flight' AND lease_until < $4 AND kind = 'quantity' AND waits_for_pull_since IS NULL
             ORDER BY lease_until",
        );
        let due = claim(
            "SELECT id FROM outbox
             WHERE channel_id = $1 AND state = 'pending' AND kind = 'quantity' AND waits_for_pull_since IS NULL AND available_at <= $4
             ORDER BY available_at, id",
        );
        let mut claimed: Vec<ClaimedRow> = Vec::new();
        for sql in [expired, due] {
            let left = limit - claimed.len() as i64;
            if left <= 0 {
                break;
            }
            let rows: Vec<ClaimedRow> = on_pool!(self, pool => {
                sqlx::query_as(&sql)
                    .bind(channel)
                    .bind(worker)
                    .bind(lease_until)
                    .bind(now)
                    .bind(left)
                    .fetch_all(pool)
                    .await
            })?;
            claimed.extend(rows);
        }
        Ok(claimed)
    }

    /// Ends claimed rows. Fenced on the worker's lease: a row whose lease was
    /// lost is left to its new owner. Returns how many rows were still ours.
    pub async fn finish_outbox(&self, worker: &str, rows: &[(ClaimedRow, RowOutcome)]) -> Result<u64> {
        self.finish_outbox_at(worker, rows, Timestamp::now()).await
    }

    /// `finish_outbox` as if the time were `now` (the worker's clock).
    pub async fn finish_outbox_at(
        &self,
        worker: &str,
        rows: &[(ClaimedRow, RowOutcome)],
        now: Timestamp,
    ) -> Result<u64> {
        let cooldown_until = Timestamp::from(now.as_datetime() + PUSH_COOLDOWN);
        let mut ours = 0;
        let pushed: Vec<i64> = rows
            .iter()
            .filter(|(_, o)| *o == RowOutcome::Pushed)
            .map(|(r, _)| r.id)
            .collect();
        let hour_ago = Timestamp::from(now.as_datetime() - chrono::TimeDelta::hours(1));
        let channels: std::collections::BTreeSet<ChannelId> = rows.iter().map(|(r, _)| r.channel_id).collect();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // The acknowledgement of each change, for the latency figures;
            // only the last hour is kept.
            for chunk in pushed.chunks(500) {
                let sql = format!(
                    "INSERT INTO push_acks (channel_id, enqueued_at, acked_at)
                     SELECT channel_id, enqueued_at, $1 FROM outbox
                     WHERE lease_owner = $2 AND state = 'in_flight' AND id IN ({})",
                    placeholders(3, chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(now).bind(worker);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await?;
            }
            for channel in &channels {
                sqlx::query("DELETE FROM push_acks WHERE channel_id = $1 AND acked_at < $2")
                    .bind(*channel)
                    .bind(hour_ago)
                    .execute(&mut *tx)
                    .await?;
            }
            // In (channel, variant) order, the order enqueues lock rows in.
            let mut ordered: Vec<&(ClaimedRow, RowOutcome)> = rows.iter().collect();
            ordered.sort_by_key(|(r, _)| (r.channel_id, r.variant_id));
            for (row, outcome) in ordered {
                // Only a push starts a cooldown; failures keep their own schedule.
                let (state_if_same, available_at, error, cooldown) = match outcome {
                    RowOutcome::Pushed => ("done", now, None, Some(cooldown_until)),
                    RowOutcome::RetryAt { retry_at, error } => ("pending", *retry_at, Some(error.as_str()), None),
                    RowOutcome::Later { retry_at, reason } => ("pending", *retry_at, Some(reason.as_str()), None),
                    RowOutcome::Dead { error } => ("dead", now, Some(error.as_str()), None),
                    RowOutcome::AwaitPull { reason, .. } => ("pending", now, Some(reason.as_str()), None),
                };
                let waits = match outcome {
                    RowOutcome::AwaitPull { since, .. } => Some(*since),
                    _ => None,
                };
                // Only a failure is an attempt: waiting is not (bounded attempts).
                let uncounted: i64 = match outcome {
                    RowOutcome::Later { .. } | RowOutcome::AwaitPull { .. } => 1,
                    _ => 0,
                };
                // A row bumped since the claim has newer work: pending again,
                // attempts afresh, due when the cooldown of this push ends.
                let done = sqlx::query(
                    "UPDATE outbox SET
                         state = CASE WHEN version = $3 THEN $4 ELSE 'pending' END,
                         available_at = CASE WHEN version = $3 THEN $5 ELSE COALESCE($8, $6) END,
                         attempts = CASE WHEN version = $3 THEN attempts - $10 ELSE 0 END,
                         enqueued_at = CASE WHEN version = $3 THEN enqueued_at ELSE updated_at END,
                         cooldown_until = $8,
                         waits_for_pull_since = CASE WHEN version = $3 THEN $9 ELSE NULL END,
                         last_error = $7, lease_owner = NULL, lease_until = NULL, updated_at = $6
                     WHERE id = $1 AND lease_owner = $2 AND state = 'in_flight'",
                )
                .bind(row.id)
                .bind(worker)
                .bind(row.version)
                .bind(state_if_same)
                .bind(available_at)
                .bind(now)
                .bind(error)
                .bind(cooldown)
                .bind(waits)
                .bind(uncounted)
                .execute(&mut *tx)
                .await?;
                ours += done.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(ours)
    }

    /// Extends the lease on every row of `channel` that `worker` holds: a
    /// batch that creates products in a slow channel outlasts one lease.
    pub async fn extend_claims(&self, channel: ChannelId, worker: &str, until: Timestamp) -> Result<u64> {
        Ok(on_pool!(self, pool => {
            sqlx::query(
                "UPDATE outbox SET lease_until = $3
                 WHERE channel_id = $1 AND lease_owner = $2 AND state = 'in_flight' AND lease_until < $3",
            )
            .bind(channel)
            .bind(worker)
            .bind(until)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?)
    }

    /// Gives back every row `worker` holds (graceful shutdown).
    pub async fn release_outbox(&self, worker: &str) -> Result<u64> {
        let mut released = 0;
        for table in ["outbox", "catalog_outbox"] {
            let sql = format!(
                "UPDATE {table} SET state = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                     lease_owner = NULL, lease_until = NULL
                 WHERE lease_owner = $1 AND state = 'in_flight'"
            );
            released += on_pool!(self, pool => {
                sqlx::query(&sql).bind(worker).execute(pool).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(released)
    }

    /// On SQLite one process owns all work: rows in flight at start-up were
    /// left by a crash and are due again now.
    pub async fn recover_outbox_after_crash(&self) -> Result<u64> {
        if self.engine() != Engine::Sqlite {
            return Ok(0);
        }
        let mut recovered = 0;
        for table in ["outbox", "catalog_outbox"] {
            let sql = format!(
                "UPDATE {table} SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE state = 'in_flight'"
            );
            recovered += on_pool!(self, pool => {
                sqlx::query(&sql).execute(pool).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(recovered)
    }

    /// Rows of `channel` waiting to be pushed (pending or in flight).
    pub async fn pending_pushes(&self, channel: ChannelId) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE channel_id = $1 AND state IN ('pending', 'in_flight')")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?)
    }

    /// A pull of `channel`'s orders that started at `started` has been
    /// applied: pushes that waited for one started after they began waiting
    /// are due now.
    pub async fn orders_pulled(&self, channel: ChannelId, started: Timestamp) -> Result<u64> {
        let now = Timestamp::now();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE channels SET pulled_through = $2
                 WHERE id = $1 AND (pulled_through IS NULL OR pulled_through < $2)",
            )
            .bind(channel)
            .bind(started)
            .execute(&mut *tx)
            .await?;
            let released = sqlx::query(
                "UPDATE outbox SET waits_for_pull_since = NULL, available_at = $3, updated_at = $3
                 WHERE channel_id = $1 AND waits_for_pull_since IS NOT NULL AND waits_for_pull_since < $2",
            )
            .bind(channel)
            .bind(started)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            released
        }))
    }

    /// When the last successful pull of `channel`'s orders started.
    pub async fn pulled_through(&self, channel: ChannelId) -> Result<Option<Timestamp>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT pulled_through FROM channels WHERE id = $1")
                .bind(channel)
                .fetch_optional(pool)
                .await
        })?
        .flatten())
    }

    /// Channels with pushes waiting for a pull of their orders.
    pub async fn channels_awaiting_pull(&self) -> Result<Vec<ChannelId>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT channel_id FROM outbox WHERE waits_for_pull_since IS NOT NULL ORDER BY channel_id",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// Pushes of `channel` waiting for a pull of its orders.
    pub async fn pushes_awaiting_pull(&self, channel: ChannelId) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE channel_id = $1 AND waits_for_pull_since IS NOT NULL")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?)
    }

    /// Rows of `channel` some worker is pushing right now.
    pub async fn pushes_in_flight(&self, channel: ChannelId) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE channel_id = $1 AND state = 'in_flight'")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?)
    }

    /// When the next pending row of `channel` falls due, if any.
    pub async fn next_due(&self, channel: ChannelId) -> Result<Option<Timestamp>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT MIN(available_at) FROM outbox WHERE channel_id = $1 AND state = 'pending' AND waits_for_pull_since IS NULL")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?)
    }
}

/// Time from a stock change to the channel's acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushLatency {
    pub p50: std::time::Duration,
    pub p99: std::time::Duration,
    /// The slowest push.
    pub slowest: std::time::Duration,
    pub pushes: usize,
}

impl Storage {
    /// p50/p99 over the pushes `channel` acknowledged since `since`; None
    /// when there were none.
    pub async fn push_latency(&self, channel: ChannelId, since: Timestamp) -> Result<Option<PushLatency>> {
        let rows: Vec<(Timestamp, Timestamp)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT enqueued_at, acked_at FROM push_acks WHERE channel_id = $1 AND acked_at >= $2
                 ORDER BY acked_at DESC LIMIT 100000",
            )
            .bind(channel)
            .bind(since)
            .fetch_all(pool)
            .await
        })?;
        let mut waits: Vec<std::time::Duration> = rows
            .iter()
            .map(|(queued, acked)| {
                (acked.as_datetime() - queued.as_datetime())
                    .to_std()
                    .unwrap_or_default()
            })
            .collect();
        if waits.is_empty() {
            return Ok(None);
        }
        waits.sort_unstable();
        let at = |p: f64| waits[((waits.len() - 1) as f64 * p).round() as usize];
        Ok(Some(PushLatency {
            p50: at(0.50),
            p99: at(0.99),
            slowest: at(1.0),
            pushes: waits.len(),
        }))
    }
}
