//! Connected web channels and the outlets each one combines.

use super::{Storage, on_pool};
use crate::Result;
use crate::domain::{BalanceRules, ChannelId, ChannelKind, ChannelOnlyPolicy, DomainError, OutletId, Timestamp};

#[derive(Debug, Clone, Default)]
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    /// Connector settings (JSON), e.g. a Shopify shop's domain and location.
    pub settings: serde_json::Value,
    /// Credentials, already encrypted with the instance key.
    pub credentials: Option<Vec<u8>>,
    /// Safety buffer, share, cap and zero threshold of the syncable balance.
    pub rules: BalanceRules,
    pub order_outlet: Option<OutletId>,
    /// Outlets whose stock is combined for this channel; the order outlet
    /// is added if missing, as seed 004 describes.
    pub outlets: Vec<OutletId>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelSummary {
    pub id: ChannelId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: ChannelKind,
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
        new.rules.validate()?;
        self.refuse_unknown_outlets(new.order_outlet, &new.outlets).await?;
        let inserted: std::result::Result<ChannelId, sqlx::Error> = on_pool!(self, pool => { async {
            let mut tx = pool.begin().await?;
            let id: ChannelId = sqlx::query_scalar(
                "INSERT INTO channels (name, kind, order_outlet_id, schedule_minutes, created_at, settings, credentials,
                     safety_buffer, publish_percent, publish_max, zero_at_or_below)
                 VALUES ($1, $2, $3, 30, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(name)
            .bind(new.kind.as_str())
            .bind(new.order_outlet)
            .bind(Timestamp::now())
            .bind(new.settings.to_string())
            .bind(&new.credentials)
            .bind(new.rules.safety_buffer)
            .bind(new.rules.publish_percent)
            .bind(new.rules.publish_max)
            .bind(new.rules.zero_at_or_below)
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
            Ok(id)
        }.await });
        let id = inserted.map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                crate::Error::Conflict(format!("a channel named {name:?} already exists"))
            }
            other => other.into(),
        })?;
        // Its first sync: every Auto Sync product's quantity goes to the new channel.
        self.enqueue_channel(id).await?;
        Ok(id)
    }

    /// A refusal naming the field when the order outlet or a combined
    /// outlet is not one of the store's outlets.
    async fn refuse_unknown_outlets(&self, order_outlet: Option<OutletId>, outlets: &[OutletId]) -> Result<()> {
        let known: Vec<OutletId> = self.list_outlets().await?.into_iter().map(|o| o.id).collect();
        if let Some(o) = order_outlet.filter(|o| !known.contains(o)) {
            return Err(DomainError::new("order_outlet", format!("there is no outlet {}", o.get())).into());
        }
        if let Some(o) = outlets.iter().find(|o| !known.contains(o)) {
            return Err(DomainError::new("outlets", format!("there is no outlet {}", o.get())).into());
        }
        Ok(())
    }

    pub async fn list_channels(&self) -> Result<Vec<ChannelSummary>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, name, kind, order_outlet_id, safety_buffer, schedule_minutes, last_push_at, last_pull_at
                 FROM channels WHERE disconnected_at IS NULL ORDER BY name, id",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// Every channel's (id, name), the disconnected ones too: the Sync
    /// History still names them.
    pub async fn channel_names(&self) -> Result<Vec<(ChannelId, String)>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as("SELECT id, name FROM channels ORDER BY name, id").fetch_all(pool).await
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

/// Everything a worker needs to drive one channel.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChannelConfig {
    pub id: ChannelId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: ChannelKind,
    pub settings: String,
    pub credentials: Option<Vec<u8>>,
    pub order_outlet_id: Option<OutletId>,
}

const CONFIG_COLUMNS: &str = "id, name, kind, settings, credentials, order_outlet_id";

impl ChannelConfig {
    pub fn settings_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.settings).unwrap_or(serde_json::Value::Null)
    }
}

impl Storage {
    /// A connected channel (a disconnected one is gone for everything but its history).
    pub async fn channel(&self, id: ChannelId) -> Result<Option<ChannelConfig>> {
        let sql = format!("SELECT {CONFIG_COLUMNS} FROM channels WHERE id = $1 AND disconnected_at IS NULL");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
        })?)
    }

    pub async fn channel_by_name(&self, name: &str) -> Result<Option<ChannelConfig>> {
        let sql = format!("SELECT {CONFIG_COLUMNS} FROM channels WHERE name = $1 AND disconnected_at IS NULL");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(name.trim()).fetch_optional(pool).await
        })?)
    }

    /// What checks `channel`'s webhooks, if anything: a Shopify channel's
    /// sealed client secret, a Vendure channel's SHA-256 of the secret in
    /// its webhook address.
    pub async fn webhook_secret(&self, channel: ChannelId) -> Result<Option<Vec<u8>>> {
        let row: Option<Option<Vec<u8>>> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT webhook_secret FROM channels WHERE id = $1").bind(channel).fetch_optional(pool).await
        })?;
        row.ok_or_else(|| crate::Error::NotFound(format!("channel {}", channel.get())))
    }

    pub async fn set_webhook_secret(&self, channel: ChannelId, sealed: &[u8]) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE channels SET webhook_secret = $2 WHERE id = $1").bind(channel).bind(sealed).execute(pool).await?;
        });
        Ok(())
    }

    pub async fn delete_channel(&self, channel: ChannelId) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM channels WHERE id = $1").bind(channel).execute(pool).await?;
        });
        Ok(())
    }

    /// Disconnects a channel in one transaction: it keeps its row, so its
    /// history still names it (as "<name> (disconnected #<id>)", which
    /// frees the name), but loses its credentials and webhook secret, its
    /// queued pushes, its outlets (no stock change queues anything for it
    /// again) and its open conflicts (resolved by `who`). Its products stay
    /// in the channel as they are. None if there is no such connected
    /// channel; otherwise the name it had.
    pub async fn disconnect_channel(&self, channel: ChannelId, who: &str) -> Result<Option<String>> {
        let now = Timestamp::now();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let name: Option<String> = sqlx::query_scalar(
                "UPDATE channels SET disconnected_at = $2, credentials = NULL, webhook_secret = NULL,
                     schedule_minutes = NULL, name = name || ' (disconnected #' || CAST(id AS TEXT) || ')'
                 WHERE id = $1 AND disconnected_at IS NULL
                 RETURNING name",
            )
            .bind(channel)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if name.is_some() {
                for sql in [
                    "DELETE FROM outbox WHERE channel_id = $1",
                    "DELETE FROM catalog_outbox WHERE channel_id = $1",
                    "DELETE FROM channel_outlets WHERE channel_id = $1",
                ] {
                    sqlx::query(sql).bind(channel).execute(&mut *tx).await?;
                }
                sqlx::query(
                    "UPDATE conflicts SET status = 'resolved', resolution = 'channel disconnected', resolved_by = $2,
                         resolved_at = $3
                     WHERE channel_id = $1 AND status = 'open'",
                )
                .bind(channel)
                .bind(who)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            // The name as it was, before " (disconnected #id)".
            name.map(|n| n.rsplit_once(" (disconnected #").map_or(n.clone(), |(n, _)| n.to_owned()))
        }))
    }

    /// Replaces a connected channel's sealed credentials; false if there is
    /// no such connected channel.
    pub async fn set_channel_credentials(&self, channel: ChannelId, sealed: &[u8]) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE channels SET credentials = $2 WHERE id = $1 AND disconnected_at IS NULL")
                .bind(channel)
                .bind(sealed)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Every channel with its schedule (minutes, None = off) and last sweep.
    pub async fn channel_schedules(&self) -> Result<Vec<(ChannelConfig, Option<i64>, Option<Timestamp>)>> {
        let rows: Vec<(ChannelId, Option<i64>, Option<Timestamp>)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, schedule_minutes, last_sweep_at FROM channels WHERE disconnected_at IS NULL ORDER BY id",
            )
            .fetch_all(pool)
            .await
        })?;
        let configs = self.channel_configs().await?;
        Ok(configs
            .into_iter()
            .filter_map(|c| {
                let (_, every, last) = rows.iter().find(|r| r.0 == c.id)?;
                Some((c, *every, *last))
            })
            .collect())
    }

    /// Every connected channel, for the workers and the schedule.
    pub async fn channel_configs(&self) -> Result<Vec<ChannelConfig>> {
        let sql = format!("SELECT {CONFIG_COLUMNS} FROM channels WHERE disconnected_at IS NULL ORDER BY id");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await
        })?)
    }
}

/// A channel's settings as the settings page edits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSettings {
    pub outlets: Vec<OutletId>,
    pub order_outlet: Option<OutletId>,
    pub rules: BalanceRules,
    pub schedule_minutes: Option<i64>,
    pub channel_only: ChannelOnlyPolicy,
}

impl Storage {
    pub async fn channel_settings(&self, channel: ChannelId) -> Result<ChannelSettings> {
        let rules = self.balance_rules(channel).await?;
        let (order_outlet, schedule_minutes, channel_only): (Option<OutletId>, Option<i64>, String) = on_pool!(self, pool => {
            sqlx::query_as("SELECT order_outlet_id, schedule_minutes, channel_only_policy FROM channels WHERE id = $1")
                .bind(channel)
                .fetch_one(pool)
                .await
        })?;
        Ok(ChannelSettings {
            outlets: self.channel_outlets(channel).await?,
            order_outlet,
            rules,
            schedule_minutes,
            channel_only: ChannelOnlyPolicy::parse(&channel_only).unwrap_or_default(),
        })
    }

    /// Saves a channel's outlets, order outlet and rules, then queues every
    /// Auto Sync quantity, since each balance may have moved.
    pub async fn update_channel_settings(&self, channel: ChannelId, settings: &ChannelSettings) -> Result<u64> {
        settings.rules.validate()?;
        if settings.schedule_minutes.is_some_and(|m| !(1..=10_080).contains(&m)) {
            return Err(DomainError::new(
                "schedule_minutes",
                "a schedule is every 1 minute to every 7 days, or off",
            )
            .into());
        }
        let mut outlets = settings.outlets.clone();
        if let Some(o) = settings.order_outlet.filter(|o| !outlets.contains(o)) {
            outlets.push(o);
        }
        if outlets.is_empty() {
            return Err(
                DomainError::new("outlets", "choose at least one outlet whose stock this channel sells").into(),
            );
        }
        self.refuse_unknown_outlets(settings.order_outlet, &settings.outlets)
            .await?;
        let r = settings.rules;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE channels SET order_outlet_id = $2, safety_buffer = $3, publish_percent = $4, publish_max = $5,
                     zero_at_or_below = $6, schedule_minutes = $7, channel_only_policy = $8
                 WHERE id = $1 AND disconnected_at IS NULL",
            )
            .bind(channel)
            .bind(settings.order_outlet)
            .bind(r.safety_buffer)
            .bind(r.publish_percent)
            .bind(r.publish_max)
            .bind(r.zero_at_or_below)
            .bind(settings.schedule_minutes)
            .bind(settings.channel_only.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                // Disconnected meanwhile (or never there): it takes no outlets again.
                return Err(crate::Error::NotFound(format!("channel {}", channel.get())));
            }
            sqlx::query("DELETE FROM channel_outlets WHERE channel_id = $1").bind(channel).execute(&mut *tx).await?;
            for outlet in &outlets {
                sqlx::query("INSERT INTO channel_outlets (channel_id, outlet_id) VALUES ($1, $2)")
                    .bind(channel)
                    .bind(*outlet)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.enqueue_channel(channel).await
    }
}
