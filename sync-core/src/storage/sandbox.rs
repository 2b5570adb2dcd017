//! The Sandbox channel's store: a web store that lives inside Tillbridge,
//! so auto-sync can be seen working without any account.

use std::collections::HashMap;

use super::{Storage, on_pool, placeholders};
use crate::Result;
use crate::domain::{ChannelId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SandboxItem {
    pub item_id: String,
    pub sku: String,
    pub title: String,
    pub available: i64,
    pub updated_at: Timestamp,
    /// Shown to shoppers; false when the product is inactive, not sold
    /// online here, or unpublished by a force sync.
    pub published: bool,
    /// The product the item belongs to, when Tillbridge listed it.
    pub product_ref: Option<String>,
}

/// One item of a product written to the Sandbox store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxWrite {
    /// The item already listed for this variant (its SKU may have changed).
    pub item_id: Option<String>,
    pub sku: String,
    pub title: String,
    /// The quantity a new item starts with; listed items keep theirs.
    pub available: i64,
}

const ITEM_COLUMNS: &str = "item_id, sku, title, available, updated_at, published, product_ref";

/// What a compare-and-set write did to one Sandbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxSet {
    Applied(i64),
    Stale { current: i64 },
    Unknown,
}

impl Storage {
    pub async fn sandbox_items_by_sku(&self, channel: ChannelId, skus: &[String]) -> Result<Vec<SandboxItem>> {
        let mut out = Vec::new();
        for chunk in skus.chunks(500) {
            let list = placeholders(2, chunk.len());
            let sql = format!("SELECT {ITEM_COLUMNS} FROM sandbox_items WHERE channel_id = $1 AND sku IN ({list})");
            let rows: Vec<SandboxItem> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql).bind(channel);
                for s in chunk {
                    q = q.bind(s);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    pub async fn sandbox_items(&self, channel: ChannelId) -> Result<Vec<SandboxItem>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM sandbox_items WHERE channel_id = $1 ORDER BY sku");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(channel).fetch_all(pool).await
        })?)
    }

    /// Writes one product's items as a shop would on a product write: the
    /// items already listed are renamed and retitled, new ones are added
    /// with their quantity, the product's other items are removed (variants
    /// deleted here), and every one is shown or hidden (`published`).
    /// Returns the item ids in `items` order.
    pub async fn sandbox_write_product(
        &self,
        channel: ChannelId,
        product_ref: &str,
        items: &[SandboxWrite],
        published: bool,
    ) -> Result<Vec<String>> {
        let now = Timestamp::now();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Write first: on SQLite a transaction that reads, then writes after another
            // connection committed fails at once (busy snapshot); writing first waits its turn.
            sqlx::query("UPDATE sandbox_items SET item_id = item_id WHERE 1 = 0").execute(&mut *tx).await?;
            let mut ids = Vec::with_capacity(items.len());
            for item in items {
                // The listed item, else the one holding the SKU (a channel-only item is taken over).
                let mut id: Option<String> = match &item.item_id {
                    Some(listed) => sqlx::query_scalar("SELECT item_id FROM sandbox_items WHERE channel_id = $1 AND item_id = $2")
                        .bind(channel)
                        .bind(listed)
                        .fetch_optional(&mut *tx)
                        .await?,
                    None => None,
                };
                if id.is_none() {
                    id = sqlx::query_scalar("SELECT item_id FROM sandbox_items WHERE channel_id = $1 AND sku = $2")
                        .bind(channel)
                        .bind(&item.sku)
                        .fetch_optional(&mut *tx)
                        .await?;
                }
                let id = match id {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE sandbox_items SET sku = $3, title = $4, product_ref = $5, published = $6, updated_at = $7
                             WHERE channel_id = $1 AND item_id = $2",
                        )
                        .bind(channel)
                        .bind(&id)
                        .bind(&item.sku)
                        .bind(&item.title)
                        .bind(product_ref)
                        .bind(published)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                    None => {
                        // An item renamed away from this SKU may still hold its id.
                        let mut id = format!("sandbox-item:{}", item.sku);
                        let mut n = 1;
                        while sqlx::query_scalar::<_, String>(
                            "SELECT item_id FROM sandbox_items WHERE channel_id = $1 AND item_id = $2",
                        )
                        .bind(channel)
                        .bind(&id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .is_some()
                        {
                            n += 1;
                            id = format!("sandbox-item:{}#{n}", item.sku);
                        }
                        sqlx::query(
                            "INSERT INTO sandbox_items (channel_id, item_id, sku, title, available, updated_at, published, product_ref)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(channel)
                        .bind(&id)
                        .bind(&item.sku)
                        .bind(&item.title)
                        .bind(item.available)
                        .bind(now)
                        .bind(published)
                        .bind(product_ref)
                        .execute(&mut *tx)
                        .await?;
                        id
                    }
                };
                ids.push(id);
            }
            let sql = format!(
                "DELETE FROM sandbox_items WHERE channel_id = $1 AND product_ref = $2 AND item_id NOT IN ({})",
                placeholders(3, ids.len().max(1))
            );
            let mut q = sqlx::query(&sql).bind(channel).bind(product_ref);
            if ids.is_empty() {
                q = q.bind("");
            }
            for id in &ids {
                q = q.bind(id);
            }
            q.execute(&mut *tx).await?;
            tx.commit().await?;
            ids
        }))
    }

    /// Lists a product in the Sandbox store (as a shop would on creation).
    pub async fn sandbox_create(&self, channel: ChannelId, items: &[(String, String, i64)]) -> Result<Vec<String>> {
        let now = Timestamp::now();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut ids = Vec::with_capacity(items.len());
            for (sku, title, available) in items {
                let id = format!("sandbox-item:{sku}");
                sqlx::query(
                    "INSERT INTO sandbox_items (channel_id, item_id, sku, title, available, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, sku) DO UPDATE SET title = excluded.title",
                )
                .bind(channel)
                .bind(&id)
                .bind(sku)
                .bind(title)
                .bind(*available)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                ids.push(id);
            }
            tx.commit().await?;
            ids
        }))
    }

    /// Sets quantities if each item still holds `change_from` (compare and set).
    pub async fn sandbox_set(
        &self,
        channel: ChannelId,
        sets: &[(String, i64, Option<i64>)],
    ) -> Result<Vec<SandboxSet>> {
        let now = Timestamp::now();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut out = Vec::with_capacity(sets.len());
            for (item, quantity, change_from) in sets {
                let current: Option<i64> =
                    sqlx::query_scalar("SELECT available FROM sandbox_items WHERE channel_id = $1 AND item_id = $2")
                        .bind(channel)
                        .bind(item)
                        .fetch_optional(&mut *tx)
                        .await?;
                let result = match (current, change_from) {
                    (None, _) => SandboxSet::Unknown,
                    (Some(c), Some(from)) if c != *from => SandboxSet::Stale { current: c },
                    (Some(_), _) => {
                        sqlx::query("UPDATE sandbox_items SET available = $3, updated_at = $4 WHERE channel_id = $1 AND item_id = $2")
                            .bind(channel)
                            .bind(item)
                            .bind(*quantity)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        SandboxSet::Applied(*quantity)
                    }
                };
                out.push(result);
            }
            tx.commit().await?;
            out
        }))
    }

    pub async fn sandbox_quantities(&self, channel: ChannelId) -> Result<HashMap<String, i64>> {
        Ok(self
            .sandbox_items(channel)
            .await?
            .into_iter()
            .map(|i| (i.item_id, i.available))
            .collect())
    }
}

impl Storage {
    /// Unpublishes (hides) or deletes a Sandbox item, or every item of a
    /// product Tillbridge listed (`id` is then its product reference);
    /// false if there is none.
    pub async fn sandbox_retire(&self, channel: ChannelId, id: &str, delete: bool) -> Result<bool> {
        let sql = if delete {
            "DELETE FROM sandbox_items WHERE channel_id = $1 AND (item_id = $2 OR product_ref = $2)"
        } else {
            "UPDATE sandbox_items SET published = FALSE WHERE channel_id = $1 AND (item_id = $2 OR product_ref = $2)"
        };
        let n = on_pool!(self, pool => {
            sqlx::query(sql).bind(channel).bind(id).execute(pool).await.map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}
