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
}

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
            let sql = format!(
                "SELECT item_id, sku, title, available, updated_at FROM sandbox_items WHERE channel_id = $1 AND sku IN ({list})"
            );
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
        Ok(on_pool!(self, pool => {
            sqlx::query_as("SELECT item_id, sku, title, available, updated_at FROM sandbox_items WHERE channel_id = $1 ORDER BY sku")
                .bind(channel)
                .fetch_all(pool)
                .await
        })?)
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
    /// Unpublishes (hides) or deletes a Sandbox item; false if it is not there.
    pub async fn sandbox_retire(&self, channel: ChannelId, item_id: &str, delete: bool) -> Result<bool> {
        let sql = if delete {
            "DELETE FROM sandbox_items WHERE channel_id = $1 AND item_id = $2"
        } else {
            "UPDATE sandbox_items SET published = FALSE WHERE channel_id = $1 AND item_id = $2"
        };
        let n = on_pool!(self, pool => {
            sqlx::query(sql).bind(channel).bind(item_id).execute(pool).await.map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }
}
