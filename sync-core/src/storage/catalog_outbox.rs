//! The catalog outbox: one row per (channel, product) whose synced fields
//! must be written to the channel. Like the quantity outbox, a row is
//! queued in the same transaction as the change, bumped by later changes
//! (so ten edits in a second cost the channel one write), claimed under a
//! lease and completed only if no change came in meanwhile.

use super::{Engine, Storage, on_pool, placeholders};
use crate::Result;
use crate::domain::{ChannelId, ProductId, Timestamp};
use crate::storage::RowOutcome;

/// Products one enqueue statement names.
pub(crate) const IN_LIST: usize = 500;

/// Enqueue-or-bump a product push to every channel where one of the
/// products `$3…` is listed (or being created: its creation may have read
/// the product before this change), optionally only channel `$2` (NULL for
/// all). `$1` is now. A row done or dead is due again at once; one pending
/// or in flight keeps its schedule and gains a version.
pub(crate) fn enqueue_sql(products: usize) -> String {
    format!(
        "INSERT INTO catalog_outbox (channel_id, product_id, version, state, attempts, available_at, enqueued_at, updated_at)
         SELECT cp.channel_id, cp.product_id, 1, 'pending', 0, $1, $1, $1 FROM channel_products cp
         WHERE (cp.external_product_id IS NOT NULL OR cp.create_lease_owner IS NOT NULL)
           AND ($2 IS NULL OR cp.channel_id = $2) AND cp.product_id IN ({})
         ON CONFLICT (channel_id, product_id) DO UPDATE SET
             version = catalog_outbox.version + 1,
             state = CASE WHEN catalog_outbox.state = 'in_flight' THEN 'in_flight' ELSE 'pending' END,
             attempts = CASE WHEN catalog_outbox.state IN ('done', 'dead') THEN 0 ELSE catalog_outbox.attempts END,
             enqueued_at = CASE WHEN catalog_outbox.state IN ('done', 'dead') THEN excluded.enqueued_at
                                ELSE catalog_outbox.enqueued_at END,
             available_at = CASE WHEN catalog_outbox.state IN ('done', 'dead') THEN excluded.available_at
                                 ELSE catalog_outbox.available_at END,
             updated_at = excluded.updated_at",
        placeholders(3, products)
    )
}

/// Runs [`enqueue_sql`] for `products` on an open transaction (either
/// engine) and adds the rows queued to `$queued`.
macro_rules! enqueue_catalog {
    ($tx:expr, $products:expr, $channel:expr, $now:expr, $queued:expr) => {
        for chunk in $products.chunks($crate::storage::catalog_outbox::IN_LIST) {
            let sql = $crate::storage::catalog_outbox::enqueue_sql(chunk.len());
            let mut q = sqlx::query(&sql).bind($now).bind($channel);
            for id in chunk {
                q = q.bind(*id);
            }
            $queued += q.execute(&mut *$tx).await?.rows_affected();
        }
    };
}
pub(crate) use enqueue_catalog;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedProduct {
    pub id: i64,
    pub channel_id: ChannelId,
    pub product_id: ProductId,
    pub version: i64,
    pub attempts: i64,
}

/// Where one product stands in one channel, for its catalog push.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogTarget {
    pub product_id: ProductId,
    pub external_product_id: Option<String>,
    /// Another worker is creating it in the channel right now.
    pub creating: bool,
    pub sell_online: bool,
    pub deleted: bool,
    /// What was last written there (JSON), when known.
    pub pushed_content: Option<String>,
    pub content_hash: Option<String>,
}

impl Storage {
    /// Queues a product push of `products` to every channel where they are
    /// listed (or only `channel`): a force sync, the schedule's sweep.
    pub async fn enqueue_catalog(&self, products: &[ProductId], channel: Option<ChannelId>) -> Result<u64> {
        let now = Timestamp::now();
        let mut queued = 0;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            enqueue_catalog!(tx, products, channel, now, queued);
            tx.commit().await?;
        });
        Ok(queued)
    }

    /// Every product listed in `channel` (created or linked there).
    pub async fn listed_products(&self, channel: ChannelId) -> Result<Vec<ProductId>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT product_id FROM channel_products WHERE channel_id = $1 AND external_product_id IS NOT NULL
                 ORDER BY product_id",
            )
            .bind(channel)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Claims up to `limit` due product pushes of `channel` until `lease_until`.
    pub async fn claim_catalog(
        &self,
        channel: ChannelId,
        worker: &str,
        limit: i64,
        lease_until: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<ClaimedProduct>> {
        let lock = match self.engine() {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "UPDATE catalog_outbox SET state = 'in_flight', lease_owner = $2, lease_until = $3, attempts = attempts + 1,
                 updated_at = $4
             WHERE id IN (
                 SELECT id FROM catalog_outbox
                 WHERE channel_id = $1
                   AND ((state = 'pending' AND available_at <= $4) OR (state = 'in_flight' AND lease_until < $4))
                 ORDER BY available_at, id
                 LIMIT $5 {lock}
             )
             RETURNING id, channel_id, product_id, version, attempts"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(channel)
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?)
    }

    /// Ends claimed product pushes, fenced on the lease like quantity pushes:
    /// a row changed since its claim is pending again.
    pub async fn finish_catalog(
        &self,
        worker: &str,
        rows: &[(ClaimedProduct, RowOutcome)],
        now: Timestamp,
    ) -> Result<u64> {
        let mut ours = 0;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for (row, outcome) in rows {
                let (state_if_same, available_at, error, uncounted) = match outcome {
                    RowOutcome::Pushed => ("done", now, None, 0i64),
                    RowOutcome::RetryAt { retry_at, error } => ("pending", *retry_at, Some(error.as_str()), 0),
                    RowOutcome::Later { retry_at, reason } => ("pending", *retry_at, Some(reason.as_str()), 1),
                    RowOutcome::AwaitPull { reason, .. } => ("pending", now, Some(reason.as_str()), 1),
                    RowOutcome::Dead { error } => ("dead", now, Some(error.as_str()), 0),
                };
                let done = sqlx::query(
                    "UPDATE catalog_outbox SET
                         state = CASE WHEN version = $3 THEN $4 ELSE 'pending' END,
                         available_at = CASE WHEN version = $3 THEN $5 ELSE $6 END,
                         attempts = CASE WHEN version = $3 THEN attempts - $8 ELSE 0 END,
                         enqueued_at = CASE WHEN version = $3 THEN enqueued_at ELSE updated_at END,
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
                .bind(uncounted)
                .execute(&mut *tx)
                .await?;
                ours += done.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(ours)
    }

    /// Where `product` stands in `channel` (deleted products included).
    pub async fn catalog_target(&self, channel: ChannelId, product: ProductId) -> Result<Option<CatalogTarget>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT p.id AS product_id, cp.external_product_id,
                        (cp.create_lease_owner IS NOT NULL AND cp.external_product_id IS NULL) AS creating,
                        COALESCE(cp.sell_online, TRUE) AS sell_online, (p.deleted_at IS NOT NULL) AS deleted,
                        cp.pushed_content, cp.content_hash
                 FROM products p LEFT JOIN channel_products cp ON cp.product_id = p.id AND cp.channel_id = $1
                 WHERE p.id = $2",
            )
            .bind(channel)
            .bind(product)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Records what a product push wrote: its digest and content, so the
    /// next push can say what changed.
    pub async fn record_catalog_pushed(
        &self,
        channel: ChannelId,
        product: ProductId,
        external_product_id: &str,
        content_hash: &str,
        content: &str,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO channel_products (channel_id, product_id, external_product_id, content_hash, pushed_content,
                     last_pushed_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (channel_id, product_id) DO UPDATE SET external_product_id = excluded.external_product_id,
                     content_hash = excluded.content_hash, pushed_content = excluded.pushed_content,
                     last_pushed_at = excluded.last_pushed_at",
            )
            .bind(channel)
            .bind(product)
            .bind(external_product_id)
            .bind(content_hash)
            .bind(content)
            .bind(Timestamp::now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A product deleted in Tillbridge and now in `channel` too: forget its
    /// ids there (its history stays), and drop its pending quantity pushes.
    pub async fn forget_channel_product(&self, channel: ChannelId, product: ProductId) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE channel_products SET external_product_id = NULL, content_hash = NULL, pushed_content = NULL
                 WHERE channel_id = $1 AND product_id = $2",
            )
            .bind(channel)
            .bind(product)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM channel_listings WHERE channel_id = $1
                 AND variant_id IN (SELECT id FROM variants WHERE product_id = $2)",
            )
            .bind(channel)
            .bind(product)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM outbox WHERE channel_id = $1 AND state <> 'in_flight'
                 AND variant_id IN (SELECT id FROM variants WHERE product_id = $2)",
            )
            .bind(channel)
            .bind(product)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// How many of our (live) products have variants linked to the channel
    /// product `external` in `channel`.
    pub async fn products_sharing(&self, channel: ChannelId, external: &str) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(DISTINCT v.product_id) FROM channel_listings l
                 JOIN variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id
                 WHERE l.channel_id = $1 AND l.external_product_id = $2 AND p.deleted_at IS NULL",
            )
            .bind(channel)
            .bind(external)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Product pushes of `channel` waiting (pending or in flight).
    pub async fn pending_catalog_pushes(&self, channel: ChannelId) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM catalog_outbox WHERE channel_id = $1 AND state IN ('pending', 'in_flight')",
            )
            .bind(channel)
            .fetch_one(pool)
            .await
        })?)
    }
}
