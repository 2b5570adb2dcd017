//! Syncable balances, computed in SQL for one variant or all of them.

use std::collections::HashMap;

use super::{Storage, on_pool, placeholders};
use crate::Result;
use crate::domain::{BalanceRules, BalanceStep, ChannelId, VariantId};

/// One outlet's part in a balance explanation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutletFigure {
    pub outlet_name: String,
    pub on_hand: i64,
    pub committed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceExplanation {
    pub outlets: Vec<OutletFigure>,
    pub steps: Vec<BalanceStep>,
    pub balance: i64,
}

/// The balance expression over a `t` row of (on_hand, committed) sums and
/// the channel `c`; mirrors `BalanceRules::explain` step by step. A product
/// that does not sell online in the channel has a balance of 0 there.
const BALANCE_SQL: &str = "
SELECT r.variant_id,
       CASE WHEN r.cap IS NOT NULL AND r.shared > r.cap THEN r.cap ELSE r.shared END AS balance
FROM (
    SELECT z.variant_id, z.cap,
           CASE WHEN z.pct IS NULL THEN z.x ELSE z.x * z.pct / 100 END AS shared
    FROM (
        SELECT b.variant_id, b.pct, b.cap,
               CASE WHEN b.zero_at IS NOT NULL AND b.base <= b.zero_at THEN 0 ELSE b.base END AS x
        FROM (
            SELECT t.variant_id, c.publish_percent AS pct, c.publish_max AS cap, c.zero_at_or_below AS zero_at,
                   CASE WHEN t.stopped = 1 THEN 0
                        WHEN t.on_hand - t.committed - c.safety_buffer > 0
                        THEN t.on_hand - t.committed - c.safety_buffer ELSE 0 END AS base
            FROM (
                SELECT v.id AS variant_id,
                       CAST(COALESCE(SUM(s.on_hand), 0) AS BIGINT) AS on_hand,
                       CAST(COALESCE(SUM(s.committed), 0) AS BIGINT) AS committed,
                       MAX(CASE WHEN cp.sell_online = FALSE THEN 1 ELSE 0 END) AS stopped
                FROM variants v
                LEFT JOIN stock_levels s ON s.variant_id = v.id
                     AND s.outlet_id IN (SELECT outlet_id FROM channel_outlets WHERE channel_id = $1)
                LEFT JOIN channel_products cp ON cp.channel_id = $1 AND cp.product_id = v.product_id
                WHERE {filter}
                GROUP BY v.id
            ) t
            JOIN channels c ON c.id = $1
        ) b
    ) z
) r";

impl Storage {
    pub async fn balance_rules(&self, channel: ChannelId) -> Result<BalanceRules> {
        let row: (i64, Option<i64>, Option<i64>, Option<i64>) = on_pool!(self, pool => {
            sqlx::query_as("SELECT safety_buffer, publish_percent, publish_max, zero_at_or_below FROM channels WHERE id = $1")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?;
        Ok(BalanceRules {
            safety_buffer: row.0,
            publish_percent: row.1,
            publish_max: row.2,
            zero_at_or_below: row.3,
        })
    }

    /// Balances of these variants for `channel`.
    pub async fn balances(&self, channel: ChannelId, variants: &[VariantId]) -> Result<HashMap<VariantId, i64>> {
        let mut out = HashMap::with_capacity(variants.len());
        for chunk in variants.chunks(500) {
            let list = placeholders(2, chunk.len());
            let sql = BALANCE_SQL.replace("{filter}", &format!("v.id IN ({list})"));
            let rows: Vec<(VariantId, i64)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql).bind(channel);
                for v in chunk {
                    q = q.bind(*v);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Balances of every variant for `channel`.
    pub async fn all_balances(&self, channel: ChannelId) -> Result<HashMap<VariantId, i64>> {
        let sql = BALANCE_SQL.replace("{filter}", "1 = 1");
        let rows: Vec<(VariantId, i64)> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(channel).fetch_all(pool).await)?;
        Ok(rows.into_iter().collect())
    }

    /// Each selected outlet's figure, committed, and each rule's effect.
    pub async fn explain_balance(&self, channel: ChannelId, variant: VariantId) -> Result<BalanceExplanation> {
        let rules = self.balance_rules(channel).await?;
        let outlets: Vec<OutletFigure> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT o.name AS outlet_name, COALESCE(s.on_hand, 0) AS on_hand, COALESCE(s.committed, 0) AS committed
                 FROM channel_outlets co
                 JOIN outlets o ON o.id = co.outlet_id
                 LEFT JOIN stock_levels s ON s.outlet_id = co.outlet_id AND s.variant_id = $2
                 WHERE co.channel_id = $1
                 ORDER BY o.name, o.id",
            )
            .bind(channel)
            .bind(variant)
            .fetch_all(pool)
            .await
        })?;
        let on_hand = outlets.iter().map(|o| o.on_hand).sum();
        let committed = outlets.iter().map(|o| o.committed).sum();
        let mut steps = rules.explain(on_hand, committed);
        let sells_online: Option<bool> = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT cp.sell_online FROM channel_products cp JOIN variants v ON v.product_id = cp.product_id
                 WHERE cp.channel_id = $1 AND v.id = $2",
            )
            .bind(channel)
            .bind(variant)
            .fetch_optional(pool)
            .await
        })?;
        if sells_online == Some(false) {
            steps.push(BalanceStep {
                label: "not sold online in this channel".into(),
                after: 0,
            });
        }
        let balance = steps.last().map_or(0, |s| s.after);
        Ok(BalanceExplanation {
            outlets,
            steps,
            balance,
        })
    }
}
