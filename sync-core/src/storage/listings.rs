//! Channel listings: our variant ↔ the channel's ids, and the quantity last
//! pushed to and last seen in the channel.

use std::collections::HashMap;

use super::{Storage, on_pool, placeholders};
use crate::Result;
use crate::domain::{ChannelId, ProductId, Timestamp, VariantId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Listing {
    pub variant_id: VariantId,
    pub external_product_id: Option<String>,
    pub external_variant_id: Option<String>,
    pub external_inventory_item_id: Option<String>,
    pub last_pushed_quantity: Option<i64>,
    pub last_seen_quantity: Option<i64>,
    pub last_pushed_at: Option<Timestamp>,
}

/// A link to record: which channel item a variant is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewListing {
    pub variant_id: VariantId,
    pub external_product_id: String,
    pub external_variant_id: String,
    pub external_inventory_item_id: String,
    pub seen_quantity: Option<i64>,
    /// Where `seen_quantity` comes from.
    pub figure: Figure,
}

/// Whose figure a channel quantity is: one Tillbridge wrote (a product it
/// created), or one it read there (an existing item linked by SKU, a
/// compare-and-set that found the figure moved). A figure read in the
/// channel may already hold sales Tillbridge has not pulled, so a push
/// that would raise it waits for a pull (see `sync::worker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Written,
    Read,
}

/// What a push did to one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushedQuantity {
    pub variant_id: VariantId,
    pub quantity: i64,
}

/// One variant as a connector needs it to push: our data and its listing.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushTarget {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub product_name: String,
    #[sqlx(flatten)]
    pub listing: ListingIds,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ListingIds {
    pub external_product_id: Option<String>,
    pub external_variant_id: Option<String>,
    pub external_inventory_item_id: Option<String>,
    pub last_seen_quantity: Option<i64>,
    /// The figure Tillbridge last wrote, and when.
    pub last_pushed_quantity: Option<i64>,
    pub last_pushed_at: Option<Timestamp>,
    /// Set when `last_seen_quantity` was read in the channel rather than
    /// written by us: when it was read.
    pub seen_at: Option<Timestamp>,
}

impl Storage {
    pub async fn listings(&self, channel: ChannelId) -> Result<Vec<Listing>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT variant_id, external_product_id, external_variant_id, external_inventory_item_id,
                        last_pushed_quantity, last_seen_quantity, last_pushed_at
                 FROM channel_listings WHERE channel_id = $1 ORDER BY variant_id",
            )
            .bind(channel)
            .fetch_all(pool)
            .await
        })?)
    }

    /// The variants to push with their listings (if linked yet).
    pub async fn push_targets(
        &self,
        channel: ChannelId,
        variants: &[VariantId],
    ) -> Result<HashMap<VariantId, PushTarget>> {
        let mut out = HashMap::with_capacity(variants.len());
        for chunk in variants.chunks(500) {
            let list = placeholders(2, chunk.len());
            let sql = format!(
                "SELECT v.id AS variant_id, v.product_id, v.sku, p.name AS product_name,
                        l.external_product_id, l.external_variant_id, l.external_inventory_item_id, l.last_seen_quantity,
                        l.last_pushed_quantity, l.last_pushed_at, l.seen_at
                 FROM variants v JOIN products p ON p.id = v.product_id
                 LEFT JOIN channel_listings l ON l.variant_id = v.id AND l.channel_id = $1
                 WHERE v.id IN ({list})"
            );
            let rows: Vec<PushTarget> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql).bind(channel);
                for v in chunk {
                    q = q.bind(*v);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows.into_iter().map(|t| (t.variant_id, t)));
        }
        Ok(out)
    }

    pub async fn save_listings(&self, channel: ChannelId, listings: &[NewListing]) -> Result<()> {
        let now = Timestamp::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for l in listings {
                let (pushed, pushed_at, seen_at) = match l.figure {
                    Figure::Written => (l.seen_quantity, Some(now), None),
                    Figure::Read => (None, None, Some(now)),
                };
                sqlx::query(
                    "INSERT INTO channel_listings (channel_id, variant_id, external_product_id, external_variant_id,
                         external_inventory_item_id, last_seen_quantity, last_pushed_quantity, last_pushed_at, seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (channel_id, variant_id) DO UPDATE SET
                         external_product_id = excluded.external_product_id,
                         external_variant_id = excluded.external_variant_id,
                         external_inventory_item_id = excluded.external_inventory_item_id,
                         last_seen_quantity = excluded.last_seen_quantity,
                         last_pushed_quantity = excluded.last_pushed_quantity,
                         last_pushed_at = excluded.last_pushed_at,
                         seen_at = excluded.seen_at",
                )
                .bind(channel)
                .bind(l.variant_id)
                .bind(&l.external_product_id)
                .bind(&l.external_variant_id)
                .bind(&l.external_inventory_item_id)
                .bind(l.seen_quantity)
                .bind(pushed)
                .bind(pushed_at)
                .bind(seen_at)
                .execute(&mut *tx)
                .await?;
                // The product is listed there now: it has the channel's product id.
                sqlx::query(
                    "INSERT INTO channel_products (channel_id, product_id, external_product_id)
                     SELECT $1, product_id, $2 FROM variants WHERE id = $3
                     ON CONFLICT (channel_id, product_id) DO UPDATE SET external_product_id = excluded.external_product_id
                     WHERE channel_products.external_product_id IS NULL",
                )
                .bind(channel)
                .bind(&l.external_product_id)
                .bind(l.variant_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records quantities the channel confirmed: pushed and now seen there.
    pub async fn record_pushed(&self, channel: ChannelId, pushed: &[PushedQuantity]) -> Result<()> {
        let now = Timestamp::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for p in pushed {
                sqlx::query(
                    "UPDATE channel_listings SET last_pushed_quantity = $3, last_seen_quantity = $3, last_pushed_at = $4,
                         seen_at = NULL
                     WHERE channel_id = $1 AND variant_id = $2",
                )
                .bind(channel)
                .bind(p.variant_id)
                .bind(p.quantity)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE channels SET last_push_at = $2 WHERE id = $1").bind(channel).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records the quantity read in the channel (it moved behind our back),
    /// and when it was read.
    pub async fn record_seen(&self, channel: ChannelId, variant: VariantId, quantity: i64) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE channel_listings SET last_seen_quantity = $3, seen_at = $4 WHERE channel_id = $1 AND variant_id = $2",
            )
                .bind(channel)
                .bind(variant)
                .bind(quantity)
                .bind(Timestamp::now())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

impl Storage {
    /// Takes the right to create `product` in `channel` until `until`, unless
    /// it exists there already or another worker holds the right.
    pub async fn lease_product_creation(
        &self,
        channel: ChannelId,
        product: ProductId,
        worker: &str,
        until: Timestamp,
    ) -> Result<bool> {
        let now = Timestamp::now();
        let taken = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO channel_products (channel_id, product_id, create_lease_owner, create_lease_until)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (channel_id, product_id) DO UPDATE SET
                     create_lease_owner = excluded.create_lease_owner, create_lease_until = excluded.create_lease_until
                 WHERE channel_products.external_product_id IS NULL
                   AND (channel_products.create_lease_until IS NULL OR channel_products.create_lease_until < $5
                        OR channel_products.create_lease_owner = $3)",
            )
            .bind(channel)
            .bind(product)
            .bind(worker)
            .bind(until)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(taken == 1)
    }

    /// Ends a creation lease; with the channel's id when the product was made.
    pub async fn end_product_creation(
        &self,
        channel: ChannelId,
        product: ProductId,
        external_id: Option<&str>,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE channel_products SET create_lease_owner = NULL, create_lease_until = NULL,
                     external_product_id = COALESCE($3, external_product_id), last_pushed_at = $4
                 WHERE channel_id = $1 AND product_id = $2",
            )
            .bind(channel)
            .bind(product)
            .bind(external_id)
            .bind(Timestamp::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

/// A product as it stands in a channel: its id there and the hash of the
/// content last pushed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelProduct {
    pub product_id: ProductId,
    pub external_product_id: String,
    pub content_hash: Option<String>,
}

impl Storage {
    /// Products that exist in `channel` (created or linked there).
    pub async fn channel_products(&self, channel: ChannelId) -> Result<Vec<ChannelProduct>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT cp.product_id, cp.external_product_id, cp.content_hash FROM channel_products cp
                 JOIN products p ON p.id = cp.product_id
                 WHERE cp.channel_id = $1 AND cp.external_product_id IS NOT NULL AND p.deleted_at IS NULL
                 ORDER BY cp.product_id",
            )
            .bind(channel)
            .fetch_all(pool)
            .await
        })?)
    }
}

impl Storage {
    /// Which of our products each of these channel products is linked to.
    pub async fn owners_of_channel_products(
        &self,
        channel: ChannelId,
        external_ids: &[String],
    ) -> Result<HashMap<String, ProductId>> {
        let mut out = HashMap::new();
        for chunk in external_ids.chunks(500) {
            let list = placeholders(2, chunk.len());
            let sql = format!(
                "SELECT DISTINCT l.external_product_id, v.product_id FROM channel_listings l
                 JOIN variants v ON v.id = l.variant_id
                 WHERE l.channel_id = $1 AND l.external_product_id IN ({list})"
            );
            let rows: Vec<(String, ProductId)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql).bind(channel);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }
}

/// What turning "sell online" on or off did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SellOnlineChange {
    /// Products whose setting changed.
    pub changed: u64,
    /// Quantity pushes queued: the full balance where selling starts, a 0
    /// where it stops on a listed item (so the channel cannot sell it).
    pub queued: u64,
    /// Product pushes queued: the product's availability in the channel.
    pub catalog_queued: u64,
}

impl Storage {
    /// Turns "sell online" on or off for `products` in `channel`, queueing in
    /// the same transaction the pushes that make the channel agree.
    pub async fn set_sell_online(
        &self,
        channel: ChannelId,
        products: &[ProductId],
        on: bool,
    ) -> Result<SellOnlineChange> {
        let mut change = SellOnlineChange::default();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for chunk in products.chunks(500) {
                let list = placeholders(3, chunk.len());
                // Only live products; a missing row means "on" (the default).
                let upsert = format!(
                    "INSERT INTO channel_products (channel_id, product_id, sell_online)
                     SELECT $1, p.id, $2 FROM products p WHERE p.deleted_at IS NULL AND p.id IN ({list})
                     ON CONFLICT (channel_id, product_id) DO UPDATE SET sell_online = excluded.sell_online
                     WHERE channel_products.sell_online <> excluded.sell_online"
                );
                let mut q = sqlx::query(&upsert).bind(channel).bind(on);
                for p in chunk {
                    q = q.bind(*p);
                }
                change.changed += q.execute(&mut *tx).await?.rows_affected();
                // Starting: every variant of an Auto Sync product. Stopping:
                // variants the channel lists, and those on their way there
                // (bumped, they are pushed again with 0 once listed).
                let select = format!(
                    "SELECT $1 AS channel_id, v.id AS variant_id FROM variants v JOIN products p ON p.id = v.product_id
                     WHERE p.id IN ({list}) AND p.auto_sync = TRUE AND p.deleted_at IS NULL
                       AND ($2 = TRUE
                            OR EXISTS (SELECT 1 FROM channel_listings l
                                WHERE l.channel_id = $1 AND l.variant_id = v.id AND l.external_inventory_item_id IS NOT NULL)
                            OR EXISTS (SELECT 1 FROM outbox o
                                WHERE o.channel_id = $1 AND o.variant_id = v.id AND o.state IN ('pending', 'in_flight')))"
                );
                let now = format!("${}", chunk.len() + 3);
                let sql = super::outbox::upsert_sql(&select, &now);
                let mut q = sqlx::query(&sql).bind(channel).bind(on);
                for p in chunk {
                    q = q.bind(*p);
                }
                change.queued += q.bind(Timestamp::now()).execute(&mut *tx).await?.rows_affected();
                // Listed products are hidden or shown again there (not just given 0).
                super::catalog_outbox::enqueue_catalog!(tx, chunk, Some(channel), Timestamp::now(), change.catalog_queued);
            }
            tx.commit().await?;
        });
        Ok(change)
    }

    /// Which of `products` do not sell online in `channel`.
    pub async fn not_sold_online(&self, channel: ChannelId, products: &[ProductId]) -> Result<Vec<ProductId>> {
        let mut out = Vec::new();
        for chunk in products.chunks(500) {
            let sql = format!(
                "SELECT product_id FROM channel_products WHERE channel_id = $1 AND sell_online = FALSE
                 AND product_id IN ({})",
                placeholders(2, chunk.len())
            );
            let rows: Vec<ProductId> = on_pool!(self, pool => {
                let mut q = sqlx::query_scalar(&sql).bind(channel);
                for p in chunk {
                    q = q.bind(*p);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }
}

impl Storage {
    /// (product, SKU) of every variant a force sync pushes to `channel`:
    /// Auto Sync on, not deleted, sold online there.
    pub async fn syncable_variants(&self, channel: ChannelId) -> Result<Vec<(ProductId, String)>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT p.id, v.sku FROM variants v JOIN products p ON p.id = v.product_id
                 LEFT JOIN channel_products cp ON cp.channel_id = $1 AND cp.product_id = p.id
                 WHERE p.auto_sync = TRUE AND p.deleted_at IS NULL AND (cp.sell_online IS NULL OR cp.sell_online = TRUE)
                 ORDER BY p.id, v.id",
            )
            .bind(channel)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Which of these SKUs belong to one of our variants.
    pub async fn known_skus(&self, skus: &[String]) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in skus.chunks(500) {
            let sql = format!(
                "SELECT sku FROM variants WHERE sku IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<String> = on_pool!(self, pool => {
                let mut q = sqlx::query_scalar(&sql);
                for s in chunk {
                    q = q.bind(s);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Forgets which channel items our variants and products are ("Clear
    /// all data and sync"): the next push relinks them by SKU. Sell-online
    /// choices stay.
    pub async fn clear_channel_mapping(&self, channel: ChannelId) -> Result<u64> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let links = sqlx::query("DELETE FROM channel_listings WHERE channel_id = $1")
                .bind(channel)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "UPDATE channel_products SET external_product_id = NULL, content_hash = NULL, last_pushed_at = NULL,
                     create_lease_owner = NULL, create_lease_until = NULL WHERE channel_id = $1",
            )
            .bind(channel)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            links
        }))
    }
}

impl Storage {
    /// Links our variant to a channel item another of our variants may have
    /// held: that one loses the link (a person chose this one).
    pub async fn take_over_listing(&self, channel: ChannelId, listing: &NewListing) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM channel_listings WHERE channel_id = $1 AND external_variant_id = $2 AND variant_id <> $3")
                .bind(channel)
                .bind(&listing.external_variant_id)
                .bind(listing.variant_id)
                .execute(pool)
                .await?;
        });
        self.save_listings(channel, std::slice::from_ref(listing)).await
    }
}

impl Storage {
    /// The channel's own orders applied to `variant` after `since`: each
    /// order's reference and the units it took (negative: gave back). They
    /// explain why the channel's figure fell below what we last pushed.
    pub async fn orders_taken_since(
        &self,
        channel: ChannelId,
        variant: VariantId,
        since: Timestamp,
    ) -> Result<Vec<(String, i64)>> {
        let label = crate::domain::Actor::Channel(channel).label();
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT reference, CAST(-SUM(applied_delta) AS BIGINT) AS taken FROM stock_movements
                 WHERE variant_id = $1 AND reason = 'channel_order' AND actor_kind = 'channel' AND actor_label = $2
                   AND created_at > $3
                 GROUP BY reference ORDER BY MIN(id)",
            )
            .bind(variant)
            .bind(label)
            .bind(since)
            .fetch_all(pool)
            .await
        })?)
    }
}
