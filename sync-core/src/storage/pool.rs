//! The connection: one `Storage` over whichever engine the URL names,
//! its schema migrations, and the helpers every statement shares. SQL that
//! both dialects accept is written once and run on whichever pool is open
//! (`on_pool!`); placeholders are `$N` on both.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::{Error, Result};

/// The default database: a SQLite file beside the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tillbridge.db";

#[derive(Clone)]
pub struct Storage {
    // Crate-visible so the demo loader can open one transaction per engine.
    pub(crate) pool: Pool,
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which engine a `Storage` runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs `$body` with `$pool` bound to the open pool, whichever engine it is.
/// The body is compiled once per engine, so shared SQL stays shared.
macro_rules! on_pool {
    ($storage:expr, $pool:ident => $body:expr) => {
        match &$storage.pool {
            $crate::storage::Pool::Sqlite($pool) => $body,
            $crate::storage::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Storage {
    /// Opens the database at `url` (`sqlite://path` or `postgres://…`),
    /// creating a SQLite file and its folder if they do not exist, readable
    /// by their owner only.
    pub async fn connect(url: &str) -> Result<Self> {
        let connect_err = |source| Error::Connect {
            url: redact_url(url),
            source,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(connect_err)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect_err)?;
            return Ok(Self {
                pool: Pool::Postgres(pool),
            });
        }
        if !url.starts_with("sqlite:") {
            return Err(Error::Connect {
                url: redact_url(url),
                source: sqlx::Error::Configuration("DATABASE_URL must start with sqlite:// or postgres://".into()),
            });
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(connect_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if !url.contains(":memory:") && !url.contains("mode=memory") {
            create_owner_only(options.get_filename())?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
        })
    }

    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Brings the schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// Creates the SQLite file and its folders, if missing, for the owner only
/// (0600 and 0700): the database holds password and token hashes and
/// sessions. SQLite gives its WAL and shared-memory files the database
/// file's mode. Existing files and folders keep theirs.
fn create_owner_only(file: &std::path::Path) -> Result<()> {
    let io = |what: &str, path: &std::path::Path| {
        let context = format!("cannot create the database {what} {}", path.display());
        move |source| Error::Io { context, source }
    };
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder.create(parent).map_err(io("folder", parent))?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io("file", file)(e)),
    }
}

/// Hides a password in a connection URL before it is shown or logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `$start, $start+1, …` for an IN list of `n` values.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` so user text matches literally in `LIKE … ESCAPE '\'`,
/// and wraps it for a lower-cased substring search.
pub(crate) fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Storage {
    /// Runs one administrative statement (CREATE/DROP DATABASE) that takes
    /// no parameters; for test harnesses and operators, never user input.
    pub async fn execute_admin(&self, statement: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::raw_sql(statement).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

#[cfg(feature = "testing")]
impl Storage {
    /// Every row of every table but `skip`, as text per table: what a test
    /// compares before and after a request to prove it wrote nothing.
    pub async fn dump_tables(&self, skip: &[&str]) -> Result<std::collections::BTreeMap<String, String>> {
        let mut dump = std::collections::BTreeMap::new();
        match &self.pool {
            Pool::Sqlite(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
                )
                .fetch_all(pool)
                .await?;
                for table in tables.into_iter().filter(|t| !skip.contains(&t.as_str())) {
                    let columns: Vec<String> =
                        sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                            .bind(&table)
                            .fetch_all(pool)
                            .await?;
                    let row = columns
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let text: Option<String> = sqlx::query_scalar(&format!(
                        "SELECT json_group_array(json_array({row})) FROM (SELECT * FROM \"{table}\" ORDER BY rowid)"
                    ))
                    .fetch_one(pool)
                    .await?;
                    dump.insert(table, text.unwrap_or_default());
                }
            }
            Pool::Postgres(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(pool)
                .await?;
                for table in tables.into_iter().filter(|t| !skip.contains(&t.as_str())) {
                    let text: Option<String> =
                        sqlx::query_scalar(&format!("SELECT json_agg(t ORDER BY t::text)::text FROM \"{table}\" t"))
                            .fetch_one(pool)
                            .await?;
                    dump.insert(table, text.unwrap_or_default());
                }
            }
        }
        Ok(dump)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(" 50%_Off "), "%50\\%\\_off%");
    }
}
