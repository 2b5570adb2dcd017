//! Orders pulled from channels, with what each line has taken from stock,
//! and each channel's pull checkpoint.

use std::collections::HashMap;

use super::{Storage, on_pool};
use crate::Result;
use crate::domain::{ChannelId, Timestamp, VariantId};

/// An order as stored: when the channel last changed it, and per line (by
/// the channel's line id) what has been taken from stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    pub id: i64,
    pub channel_updated_at: Timestamp,
    /// Per line id: (SKU, units taken from stock).
    pub applied: HashMap<String, (String, i64)>,
}

/// A line to save with the stock it has now taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineToSave {
    pub external_id: String,
    pub sku: String,
    pub variant_id: Option<VariantId>,
    pub quantity: i64,
    pub applied_quantity: i64,
    pub price_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderToSave {
    pub external_id: String,
    pub number: String,
    pub cancelled: bool,
    pub currency: String,
    pub total_minor: i64,
    pub placed_at: Timestamp,
    pub updated_at: Timestamp,
    /// The newest update listed by the pull that read this state, if the
    /// channel lists before it reads.
    pub read_through: Option<Timestamp>,
    pub lines: Vec<OrderLineToSave>,
}

/// One order for the Orders page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub channel_id: ChannelId,
    pub external_id: String,
    pub number: String,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub placed_at: Timestamp,
    pub channel_updated_at: Timestamp,
    pub ingested_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderLineRow {
    pub order_id: i64,
    pub sku: String,
    pub quantity: i64,
    pub applied_quantity: i64,
    pub price_minor: i64,
}

impl Storage {
    pub async fn stored_order(&self, channel: ChannelId, external_id: &str) -> Result<Option<StoredOrder>> {
        let head: Option<(i64, Timestamp)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, channel_updated_at FROM channel_orders WHERE channel_id = $1 AND external_id = $2")
                .bind(channel)
                .bind(external_id)
                .fetch_optional(pool)
                .await
        })?;
        let Some((id, channel_updated_at)) = head else {
            return Ok(None);
        };
        let lines: Vec<(String, String, i64)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT external_line_id, sku, applied_quantity FROM channel_order_lines WHERE order_id = $1")
                .bind(id)
                .fetch_all(pool)
                .await
        })?;
        Ok(Some(StoredOrder {
            id,
            channel_updated_at,
            applied: lines.into_iter().map(|(id, sku, n)| (id, (sku, n))).collect(),
        }))
    }

    /// Saves an order and its lines as they now stand, in one transaction;
    /// an order read again unchanged keeps the time its change was recorded.
    pub async fn save_order(&self, channel: ChannelId, order: &OrderToSave) -> Result<()> {
        let now = Timestamp::now();
        let status = if order.cancelled { "cancelled" } else { "open" };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO channel_orders (channel_id, external_id, number, status, currency, total_minor, placed_at,
                     channel_updated_at, ingested_at, read_through, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)
                 ON CONFLICT (channel_id, external_id) DO UPDATE SET number = excluded.number, status = excluded.status,
                     currency = excluded.currency, total_minor = excluded.total_minor,
                     channel_updated_at = excluded.channel_updated_at, read_through = excluded.read_through,
                     recorded_at = CASE
                         WHEN channel_orders.channel_updated_at <> excluded.channel_updated_at
                             OR channel_orders.status <> excluded.status OR channel_orders.number <> excluded.number
                             OR channel_orders.currency <> excluded.currency
                             OR channel_orders.total_minor <> excluded.total_minor
                         THEN excluded.recorded_at ELSE channel_orders.recorded_at END
                 RETURNING id",
            )
            .bind(channel)
            .bind(&order.external_id)
            .bind(&order.number)
            .bind(status)
            .bind(&order.currency)
            .bind(order.total_minor)
            .bind(order.placed_at)
            .bind(order.updated_at)
            .bind(now)
            .bind(order.read_through)
            .fetch_one(&mut *tx)
            .await?;
            for line in &order.lines {
                sqlx::query(
                    "INSERT INTO channel_order_lines (order_id, external_line_id, sku, variant_id, quantity,
                         applied_quantity, price_minor)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (order_id, external_line_id) DO UPDATE SET sku = excluded.sku,
                         variant_id = excluded.variant_id, quantity = excluded.quantity,
                         applied_quantity = excluded.applied_quantity, price_minor = excluded.price_minor",
                )
                .bind(id)
                .bind(&line.external_id)
                .bind(&line.sku)
                .bind(line.variant_id)
                .bind(line.quantity)
                .bind(line.applied_quantity)
                .bind(line.price_minor)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Where the next pull of `channel`'s orders starts.
    pub async fn orders_checkpoint(&self, channel: ChannelId) -> Result<Option<Timestamp>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT orders_checkpoint FROM channels WHERE id = $1")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?)
    }

    /// Moves the checkpoint after a pull that applied everything up to it.
    /// It never goes back.
    pub async fn advance_orders_checkpoint(&self, channel: ChannelId, to: Option<Timestamp>) -> Result<()> {
        let now = Timestamp::now();
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE channels SET last_pull_at = $3,
                     orders_checkpoint = CASE WHEN $2 IS NULL THEN orders_checkpoint
                                              WHEN orders_checkpoint IS NULL OR orders_checkpoint < $2 THEN $2
                                              ELSE orders_checkpoint END
                 WHERE id = $1",
            )
            .bind(channel)
            .bind(to)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The orders of `channel` updated at or after `since`, each with the
    /// update whose state was applied, where no later change can share that
    /// update's time: update times are to the second, so a state read while
    /// its second was still going on may have changed within it since.
    pub async fn applied_order_states(
        &self,
        channel: ChannelId,
        since: Option<Timestamp>,
    ) -> Result<std::collections::HashMap<String, Timestamp>> {
        let rows: Vec<(String, Timestamp)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT external_id, channel_updated_at FROM channel_orders
                 WHERE channel_id = $1 AND ($2 IS NULL OR channel_updated_at >= $2) AND read_through > channel_updated_at",
            )
            .bind(channel)
            .bind(since)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().collect())
    }

    /// A pull that looked back the full sweep's way: the schedule counts
    /// from here, so pulls asked for by webhooks never put it off.
    pub async fn record_sweep(&self, channel: ChannelId) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE channels SET last_sweep_at = $2 WHERE id = $1")
                .bind(channel)
                .bind(Timestamp::now())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// How many orders of `channel` have been pulled.
    pub async fn count_orders(&self, channel: ChannelId) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM channel_orders WHERE channel_id = $1")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?)
    }

    /// The newest orders, of one channel or all, with their lines.
    pub async fn recent_orders(
        &self,
        channel: Option<ChannelId>,
        limit: i64,
    ) -> Result<Vec<(OrderRow, Vec<OrderLineRow>)>> {
        let orders: Vec<OrderRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, channel_id, external_id, number, status, currency, total_minor, placed_at, channel_updated_at,
                        ingested_at
                 FROM channel_orders WHERE ($1 IS NULL OR channel_id = $1) ORDER BY placed_at DESC, id DESC LIMIT $2",
            )
            .bind(channel)
            .bind(limit.clamp(1, 500))
            .fetch_all(pool)
            .await
        })?;
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let list = super::placeholders(1, orders.len());
        let sql = format!(
            "SELECT order_id, sku, quantity, applied_quantity, price_minor FROM channel_order_lines
             WHERE order_id IN ({list}) ORDER BY order_id, id"
        );
        let lines: Vec<OrderLineRow> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for o in &orders {
                q = q.bind(o.id);
            }
            q.fetch_all(pool).await
        })?;
        let mut by_order: HashMap<i64, Vec<OrderLineRow>> = HashMap::new();
        for l in lines {
            by_order.entry(l.order_id).or_default().push(l);
        }
        Ok(orders
            .into_iter()
            .map(|o| {
                let lines = by_order.remove(&o.id).unwrap_or_default();
                (o, lines)
            })
            .collect())
    }
}

/// An order of the API's feed, with its channel's name and the code of the
/// outlet that takes the channel's orders.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedOrder {
    pub id: i64,
    pub channel: String,
    pub external_id: String,
    pub number: String,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub placed_at: Timestamp,
    pub channel_updated_at: Timestamp,
    /// When Tillbridge recorded the order's latest change (its own clock).
    pub recorded_at: Timestamp,
    pub outlet: Option<String>,
}

/// A line of a feed order, with the product and option values its SKU has here.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedLine {
    pub order_id: i64,
    pub sku: String,
    pub quantity: i64,
    pub applied_quantity: i64,
    pub price_minor: i64,
    pub product_name: Option<String>,
    pub option1_value: Option<String>,
    pub option2_value: Option<String>,
    pub option3_value: Option<String>,
}

impl Storage {
    /// Orders by when their latest change was recorded, oldest first: those
    /// recorded at or after `since`, and past `after` (a (recorded_at, id)
    /// cursor); at most `limit`, each with its lines.
    pub async fn order_feed(
        &self,
        since: Option<Timestamp>,
        after: Option<(Timestamp, i64)>,
        limit: i64,
    ) -> Result<Vec<(FeedOrder, Vec<FeedLine>)>> {
        let mut conditions = vec!["TRUE".to_owned()];
        let mut next = 1;
        if since.is_some() {
            conditions.push(format!("o.recorded_at >= ${next}"));
            next += 1;
        }
        if after.is_some() {
            conditions.push(format!(
                "(o.recorded_at > ${next} OR (o.recorded_at = ${next} AND o.id > ${}))",
                next + 1
            ));
            next += 2;
        }
        let sql = format!(
            "SELECT o.id, c.name AS channel, o.external_id, o.number, o.status, o.currency, o.total_minor, o.placed_at,
                    o.channel_updated_at, o.recorded_at, ol.code AS outlet
             FROM channel_orders o JOIN channels c ON c.id = o.channel_id
             LEFT JOIN outlets ol ON ol.id = c.order_outlet_id
             WHERE {} ORDER BY o.recorded_at, o.id LIMIT ${next}",
            conditions.join(" AND ")
        );
        let orders: Vec<FeedOrder> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            if let Some(s) = since {
                q = q.bind(s);
            }
            if let Some((t, id)) = after {
                q = q.bind(t).bind(id);
            }
            q.bind(limit.clamp(1, 1_000)).fetch_all(pool).await
        })?;
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT l.order_id, l.sku, l.quantity, l.applied_quantity, l.price_minor, p.name AS product_name,
                    v.option1_value, v.option2_value, v.option3_value
             FROM channel_order_lines l LEFT JOIN variants v ON v.id = l.variant_id
             LEFT JOIN products p ON p.id = v.product_id
             WHERE l.order_id IN ({}) ORDER BY l.order_id, l.id",
            super::placeholders(1, orders.len())
        );
        let lines: Vec<FeedLine> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for o in &orders {
                q = q.bind(o.id);
            }
            q.fetch_all(pool).await
        })?;
        let mut by_order: HashMap<i64, Vec<FeedLine>> = HashMap::new();
        for l in lines {
            by_order.entry(l.order_id).or_default().push(l);
        }
        Ok(orders
            .into_iter()
            .map(|o| {
                let lines = by_order.remove(&o.id).unwrap_or_default();
                (o, lines)
            })
            .collect())
    }
}
