//! Connected web channels and the outlets each one combines.

use super::{Storage, on_pool};
use crate::Result;
use crate::domain::{ChannelId, ChannelKind, DomainError, OutletId, Timestamp};

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub order_outlet: Option<OutletId>,
    /// Outlets whose stock is combined for this channel; the order outlet
    /// is added if missing, as seed 004 describes.
    pub outlets: Vec<OutletId>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelSummary {
    pub id: ChannelId,
    pub name: String,
    pub kind: String,
    pub order_outlet_id: Option<OutletId>,
    pub safety_buffer: i64,
    pub schedule_minutes: Option<i64>,
    pub last_push_at: Option<Timestamp>,
    pub last_pull_at: Option<Timestamp>,
}

impl Storage {
    pub async fn create_channel(&self, new: &NewChannel) -> Result<ChannelId> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::new("name", "a channel name is 1 to 100 characters").into());
        }
        let mut outlets = new.outlets.clone();
        if let Some(o) = new.order_outlet.filter(|o| !outlets.contains(o)) {
            outlets.push(o);
        }
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: ChannelId = sqlx::query_scalar(
                "INSERT INTO channels (name, kind, order_outlet_id, schedule_minutes, created_at)
                 VALUES ($1, $2, $3, 30, $4) RETURNING id",
            )
            .bind(name)
            .bind(new.kind.as_str())
            .bind(new.order_outlet)
            .bind(Timestamp::now())
            .fetch_one(&mut *tx)
            .await?;
            for outlet in &outlets {
                sqlx::query("INSERT INTO channel_outlets (channel_id, outlet_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*outlet)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            id
        }))
    }

    pub async fn list_channels(&self) -> Result<Vec<ChannelSummary>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, name, kind, order_outlet_id, safety_buffer, schedule_minutes, last_push_at, last_pull_at
                 FROM channels ORDER BY name, id",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    pub async fn channel_outlets(&self, channel: ChannelId) -> Result<Vec<OutletId>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT outlet_id FROM channel_outlets WHERE channel_id = $1 ORDER BY outlet_id")
                .bind(channel)
                .fetch_all(pool)
                .await
        })?)
    }
}
