//! Inventory feeds: a URL serving a CSV of one outlet's stock, fetched on
//! request or on its schedule.

use super::{Storage, on_pool};
use crate::domain::{DomainError, OutletId, Timestamp};
use crate::{Error, Result};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct FeedId(i64);

impl FeedId {
    pub fn new(raw: i64) -> Self {
        Self(raw)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for FeedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone)]
pub struct NewFeed {
    pub name: String,
    pub url: String,
    pub outlet: OutletId,
    /// `count` or `delta`: what the feed's `quantity` figures are.
    pub mode: String,
    /// Fetched every this many minutes; none for on request only.
    pub schedule_minutes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedRow {
    pub id: FeedId,
    pub name: String,
    pub url: String,
    pub outlet_id: OutletId,
    pub outlet_code: String,
    pub mode: String,
    pub schedule_minutes: Option<i64>,
    pub next_run_at: Option<Timestamp>,
    pub last_fetched_at: Option<Timestamp>,
    /// `succeeded` or `failed`; none before the first fetch.
    pub last_status: Option<String>,
    pub last_message: String,
}

const FEED_COLUMNS: &str = "f.id, f.name, f.url, f.outlet_id, o.code AS outlet_code, f.mode, f.schedule_minutes, \
     f.next_run_at, f.last_fetched_at, f.last_status, f.last_message";

fn after_minutes(from: Timestamp, minutes: i64) -> Timestamp {
    Timestamp::from(from.as_datetime() + chrono::TimeDelta::minutes(minutes))
}

impl Storage {
    /// Adds a feed; a scheduled one is due at once.
    pub async fn add_feed(&self, feed: &NewFeed) -> Result<FeedId> {
        let name = feed.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(DomainError::new("name", "a feed name is 1 to 100 characters").into());
        }
        let url = feed.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            return Err(DomainError::new("url", format!("{url:?} is not an http:// or https:// address")).into());
        }
        if !matches!(feed.mode.as_str(), "count" | "delta") {
            return Err(DomainError::new("mode", format!("{:?} is not a mode; use count or delta", feed.mode)).into());
        }
        if let Some(m) = feed.schedule_minutes
            && !(1..=525_600).contains(&m)
        {
            return Err(DomainError::new("every", "a schedule is 1 to 525600 minutes").into());
        }
        let now = Timestamp::now();
        let id = on_pool!(self, pool => {
            sqlx::query_scalar::<_, FeedId>(
                "INSERT INTO inventory_feeds (name, url, outlet_id, mode, schedule_minutes, next_run_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(name)
            .bind(url)
            .bind(feed.outlet)
            .bind(&feed.mode)
            .bind(feed.schedule_minutes)
            .bind(feed.schedule_minutes.map(|_| now))
            .bind(now)
            .fetch_one(pool)
            .await
        })
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(format!("a feed named {name:?} already exists"))
            }
            other => other.into(),
        })?;
        Ok(id)
    }

    pub async fn list_feeds(&self) -> Result<Vec<FeedRow>> {
        let sql = format!(
            "SELECT {FEED_COLUMNS} FROM inventory_feeds f JOIN outlets o ON o.id = f.outlet_id ORDER BY f.name, f.id"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    pub async fn feed(&self, id: FeedId) -> Result<Option<FeedRow>> {
        let sql = format!(
            "SELECT {FEED_COLUMNS} FROM inventory_feeds f JOIN outlets o ON o.id = f.outlet_id WHERE f.id = $1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    pub async fn feed_by_name(&self, name: &str) -> Result<Option<FeedRow>> {
        let sql = format!(
            "SELECT {FEED_COLUMNS} FROM inventory_feeds f JOIN outlets o ON o.id = f.outlet_id WHERE f.name = $1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(name.trim()).fetch_optional(pool).await)?)
    }

    /// Claims the scheduled feeds due at `now`, moving each one's next run
    /// on by its schedule. A feed another process claimed first is skipped,
    /// so each due fetch happens once.
    pub async fn claim_due_feeds(&self, now: Timestamp) -> Result<Vec<FeedRow>> {
        let sql = format!(
            "SELECT {FEED_COLUMNS} FROM inventory_feeds f JOIN outlets o ON o.id = f.outlet_id
             WHERE f.next_run_at IS NOT NULL AND f.next_run_at <= $1 ORDER BY f.next_run_at, f.id"
        );
        let due: Vec<FeedRow> = on_pool!(self, pool => sqlx::query_as(&sql).bind(now).fetch_all(pool).await)?;
        let mut claimed = Vec::with_capacity(due.len());
        for feed in due {
            let (Some(minutes), Some(was)) = (feed.schedule_minutes, feed.next_run_at) else {
                continue;
            };
            let won = on_pool!(self, pool => {
                sqlx::query("UPDATE inventory_feeds SET next_run_at = $2 WHERE id = $1 AND next_run_at = $3")
                    .bind(feed.id)
                    .bind(after_minutes(now, minutes))
                    .bind(was)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })? == 1;
            if won {
                claimed.push(feed);
            }
        }
        Ok(claimed)
    }

    /// Records how a fetch of `feed` went.
    pub async fn finish_feed(&self, feed: FeedId, succeeded: bool, message: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE inventory_feeds SET last_fetched_at = $2, last_status = $3, last_message = $4 WHERE id = $1",
            )
            .bind(feed)
            .bind(Timestamp::now())
            .bind(if succeeded { "succeeded" } else { "failed" })
            .bind(message)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_next_run_is_the_schedule_after_now() {
        let now = Timestamp::from(Utc.timestamp_opt(1_700_000_000, 0).single().expect("valid"));
        assert_eq!(
            after_minutes(now, 30).as_datetime().timestamp() - now.as_datetime().timestamp(),
            1800
        );
    }
}
