//! Sync History: runs and the item events inside them, and conflicts.

use super::{Storage, on_pool};
use crate::Result;
use crate::domain::{ChannelId, ProductId, Timestamp, VariantId};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct RunId(i64);

impl RunId {
    pub fn new(raw: i64) -> Self {
        Self(raw)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An enum stored as a name: `as_str`, `parse` and `Display` with that
/// name, and `TryFrom<String>` to read it back from a row.
macro_rules! named {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            pub fn parse(raw: &str) -> Result<Self, crate::domain::DomainError> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw.trim()).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    crate::domain::DomainError::new(
                        $what,
                        format!("{raw:?} is not a {}; use {}", $what, names.join(", ")),
                    )
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = crate::domain::DomainError;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }
    };
}

named!(RunKind, "kind" {
    Auto => "auto",
    Standard => "standard",
    Force => "force",
    SyncAll => "sync_all",
    /// Orders pulled from a channel and applied to stock.
    PullOrders => "pull_orders",
    /// A stock or catalog file applied.
    Import => "import",
    /// An inventory feed fetched and applied.
    Feed => "feed",
});

named!(RunTrigger, "trigger" {
    StockChange => "stock_change",
    Schedule => "schedule",
    Button => "button",
    Cli => "cli",
    Api => "api",
    /// A channel posted an event (an order webhook).
    Webhook => "webhook",
    /// A user signed in and the channel had not pulled for a while.
    SignIn => "sign_in",
    Startup => "startup",
});

impl RunKind {
    /// The kind in words, for pages and filters.
    pub fn label(self) -> &'static str {
        match self {
            RunKind::Auto => "Auto",
            RunKind::Standard => "Standard sync",
            RunKind::Force => "Force sync",
            RunKind::SyncAll => "Sync all",
            RunKind::PullOrders => "Order pull",
            RunKind::Import => "Import",
            RunKind::Feed => "Feed",
        }
    }
}

impl RunTrigger {
    /// The trigger in words.
    pub fn label(self) -> &'static str {
        match self {
            RunTrigger::StockChange => "Stock change",
            RunTrigger::Schedule => "Schedule",
            RunTrigger::Button => "Button",
            RunTrigger::Cli => "Command line",
            RunTrigger::Api => "API",
            RunTrigger::Webhook => "Webhook",
            RunTrigger::SignIn => "Sign-in",
            RunTrigger::Startup => "Start-up",
        }
    }

    /// Who a run this trigger started names when no person or token
    /// started it: "schedule", "webhook", "start-up", …
    pub fn who(self) -> &'static str {
        match self {
            RunTrigger::StockChange => "Auto Sync",
            RunTrigger::Schedule => "schedule",
            RunTrigger::Button => "a person",
            RunTrigger::Cli => "command line",
            RunTrigger::Api => "API",
            RunTrigger::Webhook => "webhook",
            RunTrigger::SignIn => "sign-in",
            RunTrigger::Startup => "start-up",
        }
    }
}

/// Why a run started and who the Sync History names for it: the person or
/// API token that asked, or the trigger itself ("schedule", "webhook").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCause {
    pub trigger: RunTrigger,
    pub who: String,
}

impl RunCause {
    /// Started by `actor` (a person's email, an API token's name).
    pub fn by(trigger: RunTrigger, actor: &crate::domain::Actor) -> Self {
        let who = match actor {
            crate::domain::Actor::System => trigger.who().to_owned(),
            other => other.label(),
        };
        Self { trigger, who }
    }
}

impl From<RunTrigger> for RunCause {
    fn from(trigger: RunTrigger) -> Self {
        Self {
            trigger,
            who: trigger.who().to_owned(),
        }
    }
}

named!(
    /// How a run ended, or that it has not.
    RunStatus, "status" {
    Running => "running",
    Succeeded => "succeeded",
    PartiallyFailed => "partially_failed",
    Failed => "failed",
    /// Cut short by a stop.
    Interrupted => "interrupted",
});

impl RunStatus {
    /// The status in words.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Running => "Running",
            RunStatus::Succeeded => "Succeeded",
            RunStatus::PartiallyFailed => "Partly failed",
            RunStatus::Failed => "Failed",
            RunStatus::Interrupted => "Interrupted",
        }
    }
}

named!(EventResult, "result" {
    Succeeded => "succeeded",
    Failed => "failed",
    Skipped => "skipped",
});

named!(ConflictKind, "conflict kind" {
    SkuElsewhere => "sku_elsewhere",
    UnknownSku => "unknown_sku",
    PushRejected => "push_rejected",
    ChangedInChannel => "changed_in_channel",
});

/// One item's line in the Sync History.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    /// What changed, e.g. "quantity", "link", "create product".
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub result: EventResult,
    pub error: Option<String>,
    pub attempt: i64,
}

/// An item event with what it concerns by name: the SKU, the product and
/// the channel (None when gone, or when the event is of no such thing).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub run_id: Option<RunId>,
    pub channel_id: Option<ChannelId>,
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    pub sku: Option<String>,
    pub product_name: Option<String>,
    pub channel_name: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
    #[sqlx(try_from = "String")]
    pub result: EventResult,
    pub error: Option<String>,
    pub attempt: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRow {
    pub id: RunId,
    pub channel_id: Option<ChannelId>,
    #[sqlx(try_from = "String")]
    pub kind: RunKind,
    #[sqlx(try_from = "String")]
    pub trigger: RunTrigger,
    pub actor_label: String,
    #[sqlx(try_from = "String")]
    pub status: RunStatus,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub items_total: i64,
    pub items_succeeded: i64,
    pub items_failed: i64,
    /// Items found already up to date: neither pushed nor failed.
    pub items_skipped: i64,
    /// Quantities and products the run set out to push (0: not known
    /// ahead), and how many it has done so far.
    pub quantities_total: i64,
    pub quantities_done: i64,
    pub products_total: i64,
    pub products_done: i64,
    pub log: String,
}

/// The columns of a `RunRow`.
const RUN_COLUMNS: &str = "id, channel_id, kind, trigger, actor_label, status, started_at, finished_at, items_total,
    items_succeeded, items_failed, items_skipped, quantities_total, quantities_done, products_total, products_done, log";

/// An `EventRow` query over `sync_events e` with the names it concerns.
const EVENT_SELECT: &str =
    "SELECT e.id, e.run_id, e.channel_id, e.product_id, e.variant_id, v.sku, p.name AS product_name,
        c.name AS channel_name, e.actor_label, e.action, e.before_value, e.after_value, e.result, e.error, e.attempt,
        e.created_at
    FROM sync_events e
    LEFT JOIN variants v ON v.id = e.variant_id
    LEFT JOIN products p ON p.id = e.product_id
    LEFT JOIN channels c ON c.id = e.channel_id";

/// What one batch adds to the run it is recorded in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunDelta {
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    pub quantities_done: i64,
    pub products_done: i64,
}

impl RunDelta {
    /// The counts of `events`, as the run's page lists them.
    pub fn of_events(events: &[NewEvent]) -> Self {
        let count = |r: EventResult| events.iter().filter(|e| e.result == r).count() as i64;
        Self {
            succeeded: count(EventResult::Succeeded),
            failed: count(EventResult::Failed),
            skipped: count(EventResult::Skipped),
            quantities_done: 0,
            products_done: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConflict {
    pub kind: ConflictKind,
    pub product_id: Option<ProductId>,
    pub variant_id: Option<VariantId>,
    pub sku: Option<String>,
    pub external_id: Option<String>,
    pub ours: String,
    pub theirs: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConflictRow {
    pub id: i64,
    pub channel_id: ChannelId,
    #[sqlx(try_from = "String")]
    pub kind: ConflictKind,
    pub variant_id: Option<VariantId>,
    pub sku: Option<String>,
    pub ours: String,
    pub theirs: String,
    pub detail: String,
    pub status: String,
    pub created_at: Timestamp,
}

impl Storage {
    pub async fn start_run(
        &self,
        channel: Option<ChannelId>,
        kind: RunKind,
        trigger: RunTrigger,
        actor: &str,
    ) -> Result<RunId> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO sync_runs (channel_id, kind, trigger, actor_label, status, started_at)
                 VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id",
            )
            .bind(channel)
            .bind(kind.as_str())
            .bind(trigger.as_str())
            .bind(actor)
            .bind(Timestamp::now())
            .fetch_one(pool)
            .await
        })?)
    }

    /// Closes a run with its counts; its status follows from them.
    pub async fn finish_run(&self, run: RunId, succeeded: i64, failed: i64, log: &str) -> Result<()> {
        let status = match (succeeded, failed) {
            (_, 0) => RunStatus::Succeeded,
            (0, _) => RunStatus::Failed,
            _ => RunStatus::PartiallyFailed,
        }
        .as_str();
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_runs SET status = $2, finished_at = $3, items_total = $4 + $5, items_succeeded = $4,
                     items_failed = $5, log = $6 WHERE id = $1",
            )
            .bind(run)
            .bind(status)
            .bind(Timestamp::now())
            .bind(succeeded)
            .bind(failed)
            .bind(log)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Runs left `running` by a process that died are marked interrupted.
    pub async fn mark_interrupted_runs(&self, older_than: Timestamp) -> Result<u64> {
        Ok(on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_runs SET status = 'interrupted', finished_at = $2,
                     log = log || 'Interrupted: Tillbridge stopped before this run finished; its work was queued again.'
                 WHERE status = 'running' AND started_at < $1",
            )
            .bind(older_than)
            .bind(Timestamp::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?)
    }

    pub async fn record_events(
        &self,
        run: Option<RunId>,
        channel: Option<ChannelId>,
        actor: &str,
        events: &[NewEvent],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for e in events {
                sqlx::query(
                    "INSERT INTO sync_events (run_id, channel_id, product_id, variant_id, action, before_value, after_value,
                         result, error, attempt, actor_label, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(run)
                .bind(channel)
                .bind(e.product_id)
                .bind(e.variant_id)
                .bind(&e.action)
                .bind(&e.before)
                .bind(&e.after)
                .bind(e.result.as_str())
                .bind(&e.error)
                .bind(e.attempt)
                .bind(actor)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The newest events, optionally of one channel and one result.
    pub async fn recent_events(
        &self,
        channel: Option<ChannelId>,
        result: Option<EventResult>,
        limit: i64,
    ) -> Result<Vec<EventRow>> {
        let sql = format!(
            "{EVENT_SELECT} WHERE ($1 IS NULL OR e.channel_id = $1) AND ($2 IS NULL OR e.result = $2)
             ORDER BY e.id DESC LIMIT $3"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(channel)
                .bind(result.map(EventResult::as_str))
                .bind(limit)
                .fetch_all(pool)
                .await
        })?)
    }

    pub async fn recent_runs(&self, channel: Option<ChannelId>, limit: i64) -> Result<Vec<RunRow>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE ($1 IS NULL OR channel_id = $1) ORDER BY id DESC LIMIT $2"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(channel)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?)
    }

    /// Adds a batch's counts to a run that is still going on.
    pub async fn add_to_run(&self, run: RunId, d: RunDelta) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_runs SET items_succeeded = items_succeeded + $2, items_failed = items_failed + $3,
                     items_skipped = items_skipped + $4, items_total = items_total + $2 + $3 + $4,
                     quantities_done = quantities_done + $5, products_done = products_done + $6
                 WHERE id = $1",
            )
            .bind(run)
            .bind(d.succeeded)
            .bind(d.failed)
            .bind(d.skipped)
            .bind(d.quantities_done)
            .bind(d.products_done)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Says how many quantities and products a run sets out to push, for
    /// its live progress ("12 of 40 quantities").
    pub async fn expect_in_run(&self, run: RunId, quantities: i64, products: i64) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE sync_runs SET quantities_total = $2, products_total = $3 WHERE id = $1")
                .bind(run)
                .bind(quantities)
                .bind(products)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Closes a run that stopped short (its sync failed), whatever its
    /// batches did before.
    pub async fn fail_run(&self, run: RunId, log: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE sync_runs SET status = 'failed', finished_at = $2, log = $3 WHERE id = $1")
                .bind(run)
                .bind(Timestamp::now())
                .bind(log)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Closes a run whose batches added their counts (`add_to_run`); its
    /// status follows from them.
    pub async fn close_run(&self, run: RunId, log: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE sync_runs SET finished_at = $2, log = $3,
                     status = CASE WHEN items_failed = 0 THEN 'succeeded'
                                   WHEN items_succeeded = 0 THEN 'failed'
                                   ELSE 'partially_failed' END
                 WHERE id = $1",
            )
            .bind(run)
            .bind(Timestamp::now())
            .bind(log)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Opens a conflict, or refreshes the open one for the same item and kind.
    pub async fn open_conflict(&self, channel: ChannelId, c: &NewConflict) -> Result<()> {
        let now = Timestamp::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE conflicts SET ours = $4, theirs = $5, detail = $6, created_at = $7
                 WHERE channel_id = $1 AND kind = $2 AND status = 'open' AND COALESCE(sku, '') = COALESCE($3, '')",
            )
            .bind(channel)
            .bind(c.kind.as_str())
            .bind(&c.sku)
            .bind(&c.ours)
            .bind(&c.theirs)
            .bind(&c.detail)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                sqlx::query(
                    "INSERT INTO conflicts (channel_id, kind, product_id, variant_id, sku, external_id, ours, theirs, detail, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(channel)
                .bind(c.kind.as_str())
                .bind(c.product_id)
                .bind(c.variant_id)
                .bind(&c.sku)
                .bind(&c.external_id)
                .bind(&c.ours)
                .bind(&c.theirs)
                .bind(&c.detail)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Whether `product` has an open conflict of `kind` in `channel`.
    pub async fn has_open_conflict(&self, channel: ChannelId, product: ProductId, kind: ConflictKind) -> Result<bool> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM conflicts WHERE channel_id = $1 AND product_id = $2 AND kind = $3 AND status = 'open'",
            )
            .bind(channel)
            .bind(product)
            .bind(kind.as_str())
            .fetch_one(pool)
            .await
        })?;
        Ok(n > 0)
    }

    /// One conflict with what it concerns, open or not.
    pub async fn conflict(&self, id: i64) -> Result<Option<(ConflictRow, Option<ProductId>)>> {
        let row: Option<ConflictRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, channel_id, kind, variant_id, sku, ours, theirs, detail, status, created_at
                 FROM conflicts WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        let Some(row) = row else { return Ok(None) };
        let product: Option<ProductId> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT product_id FROM conflicts WHERE id = $1").bind(id).fetch_one(pool).await
        })?;
        Ok(Some((row, product)))
    }

    pub async fn open_conflicts(&self, channel: Option<ChannelId>) -> Result<Vec<ConflictRow>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, channel_id, kind, variant_id, sku, ours, theirs, detail, status, created_at
                 FROM conflicts WHERE status = 'open' AND ($1 IS NULL OR channel_id = $1) ORDER BY id",
            )
            .bind(channel)
            .fetch_all(pool)
            .await
        })?)
    }
}

impl Storage {
    /// Failed item events of `channel` since `since` (channel health).
    pub async fn failures_since(&self, channel: ChannelId, since: Timestamp) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM sync_events WHERE channel_id = $1 AND result = 'failed' AND created_at >= $2",
            )
            .bind(channel)
            .bind(since)
            .fetch_one(pool)
            .await
        })?)
    }
}

/// Which runs the Sync History lists, newest first, in keyset pages.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub channel: Option<ChannelId>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub since: Option<Timestamp>,
    /// Keyset cursor: runs older than this id.
    pub before: Option<RunId>,
    pub limit: i64,
}

/// Pushes and failures per hour, for the history chart.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HourCount {
    pub hour: String,
    pub succeeded: i64,
    pub failed: i64,
}

impl Storage {
    pub async fn list_runs(&self, f: &RunFilter) -> Result<Vec<RunRow>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs
             WHERE ($1 IS NULL OR channel_id = $1) AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR kind = $3)
               AND ($4 IS NULL OR started_at >= $4) AND ($5 IS NULL OR id < $5)
             ORDER BY id DESC LIMIT $6"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(f.channel)
                .bind(&f.status)
                .bind(&f.kind)
                .bind(f.since)
                .bind(f.before)
                .bind(f.limit.clamp(1, 500))
                .fetch_all(pool)
                .await
        })?)
    }

    pub async fn run(&self, id: RunId) -> Result<Option<RunRow>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// A run's item events, or a product's across runs, newest first.
    pub async fn events_of(&self, run: Option<RunId>, product: Option<ProductId>, limit: i64) -> Result<Vec<EventRow>> {
        let sql = format!(
            "{EVENT_SELECT} WHERE ($1 IS NULL OR e.run_id = $1) AND ($2 IS NULL OR e.product_id = $2)
             ORDER BY e.id DESC LIMIT $3"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(run)
                .bind(product)
                .bind(limit.clamp(1, 1000))
                .fetch_all(pool)
                .await
        })?)
    }

    /// Item events per hour since `since`, for the chart.
    pub async fn events_per_hour(&self, channel: Option<ChannelId>, since: Timestamp) -> Result<Vec<HourCount>> {
        self.events_over_time(&ChartFilter {
            channel,
            kind: None,
            status: None,
            since,
            daily: false,
        })
        .await
    }

    /// Item events per hour (or per day) as `f` asks, for the chart: the
    /// events of the runs the Sync History's filters list.
    pub async fn events_over_time(&self, f: &ChartFilter) -> Result<Vec<HourCount>> {
        // (the bucket each event falls in, that bucket as text); PostgreSQL
        // groups on the cheap truncated time and formats only the buckets it keeps.
        let (bucket, hour) = match (self.engine(), f.daily) {
            (super::Engine::Sqlite, false) => ("substr(e.created_at, 1, 13)", "substr(e.created_at, 1, 13)"),
            (super::Engine::Sqlite, true) => ("substr(e.created_at, 1, 10)", "substr(e.created_at, 1, 10)"),
            (super::Engine::Postgres, false) => (
                "date_trunc('hour', e.created_at AT TIME ZONE 'UTC')",
                "to_char(date_trunc('hour', e.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24')",
            ),
            (super::Engine::Postgres, true) => (
                "date_trunc('day', e.created_at AT TIME ZONE 'UTC')",
                "to_char(date_trunc('day', e.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')",
            ),
        };
        // The runs' filters need the runs; without them the events alone answer.
        let (join, runs) = if f.kind.is_some() || f.status.is_some() {
            (
                "JOIN sync_runs r ON r.id = e.run_id",
                "AND ($3 IS NULL OR r.kind = $3) AND ($4 IS NULL OR r.status = $4)",
            )
        } else {
            (
                "",
                "AND ($3 IS NULL OR $3 IS NOT NULL) AND ($4 IS NULL OR $4 IS NOT NULL)",
            )
        };
        let sql = format!(
            "SELECT {hour} AS hour,
                    CAST(SUM(CASE WHEN e.result = 'succeeded' THEN 1 ELSE 0 END) AS BIGINT) AS succeeded,
                    CAST(SUM(CASE WHEN e.result = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed
             FROM sync_events e {join}
             WHERE e.created_at >= $1 AND ($2 IS NULL OR e.channel_id = $2) {runs}
             GROUP BY {bucket} ORDER BY 1"
        );
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(f.since)
                .bind(f.channel)
                .bind(&f.kind)
                .bind(&f.status)
                .fetch_all(pool)
                .await
        })?)
    }
}

/// Which item events the history chart counts.
#[derive(Debug, Clone)]
pub struct ChartFilter {
    pub channel: Option<ChannelId>,
    /// Only events of runs of this kind, or with this status.
    pub kind: Option<String>,
    pub status: Option<String>,
    pub since: Timestamp,
    /// Per day instead of per hour.
    pub daily: bool,
}

/// What a person decided about a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictAction {
    /// Leave the channel as it is; the conflict leaves the list.
    Ignore,
    /// Push Tillbridge's figure again (the channel is overwritten).
    Retry,
    /// The channel's item with this SKU is ours: linked, then pushed.
    Link,
    /// Our product was created in the channel, then pushed.
    Create,
}

impl ConflictAction {
    pub fn parse(raw: &str) -> Result<Self, crate::domain::DomainError> {
        match raw.trim() {
            "ignore" => Ok(Self::Ignore),
            "retry" | "overwrite" => Ok(Self::Retry),
            "link" => Ok(Self::Link),
            "create" => Ok(Self::Create),
            other => Err(crate::domain::DomainError::new(
                "action",
                format!("{other:?} is not a conflict action; use ignore, retry, link or create"),
            )),
        }
    }
}

/// The item a conflict concerned, returned when it is resolved.
#[derive(sqlx::FromRow)]
struct ResolvedConflict {
    channel_id: ChannelId,
    variant_id: Option<VariantId>,
    product_id: Option<ProductId>,
    sku: Option<String>,
}

impl Storage {
    pub async fn count_open_conflicts(&self) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM conflicts WHERE status = 'open'").fetch_one(pool).await
        })?)
    }

    /// Resolves an open conflict, records it in the Sync History and, for a
    /// retry, queues the item's push again. False if it was not open.
    pub async fn resolve_conflict(&self, id: i64, action: ConflictAction, actor: &str) -> Result<bool> {
        let now = Timestamp::now();
        let (status, resolution) = match action {
            ConflictAction::Ignore => ("ignored", "ignore"),
            ConflictAction::Retry => ("resolved", "retry"),
            ConflictAction::Link => ("resolved", "link"),
            ConflictAction::Create => ("resolved", "create"),
        };
        let resolved: Option<ResolvedConflict> = on_pool!(self, pool => {
            sqlx::query_as(
                "UPDATE conflicts SET status = $2, resolution = $3, resolved_by = $4, resolved_at = $5
                 WHERE id = $1 AND status = 'open' RETURNING channel_id, variant_id, product_id, sku",
            )
            .bind(id)
            .bind(status)
            .bind(resolution)
            .bind(actor)
            .bind(now)
            .fetch_optional(pool)
            .await
        })?;
        let Some(ResolvedConflict {
            channel_id: channel,
            variant_id: variant,
            product_id: product,
            sku,
        }) = resolved
        else {
            return Ok(false);
        };
        if let (ConflictAction::Retry | ConflictAction::Link | ConflictAction::Create, Some(variant)) =
            (action, variant)
        {
            let sql = super::outbox::upsert_sql("SELECT $2 AS channel_id, $3 AS variant_id", "$1");
            on_pool!(self, pool => {
                sqlx::query(&sql).bind(now).bind(channel).bind(variant).execute(pool).await.map(|r| r.rows_affected())
            })?;
        }
        let event = NewEvent {
            product_id: product,
            variant_id: variant,
            action: "conflict".into(),
            before: sku,
            after: Some(resolution.to_owned()),
            result: EventResult::Succeeded,
            error: None,
            attempt: 1,
        };
        self.record_events(None, Some(channel), actor, &[event]).await?;
        Ok(true)
    }
}
