//! tower-sessions' store over sync-core's sessions table, so sessions live
//! in the same database as everything else and survive restarts.

use async_trait::async_trait;
use sync_core::domain::Timestamp;
use sync_core::service::Accounts;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone)]
pub struct DbSessionStore(Accounts);

impl DbSessionStore {
    pub fn new(accounts: Accounts) -> Self {
        Self(accounts)
    }
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

fn expiry(record: &Record) -> Timestamp {
    let nanos = record.expiry_date.unix_timestamp_nanos();
    let secs = (nanos / 1_000_000_000) as i64;
    let sub = (nanos % 1_000_000_000) as u32;
    chrono::DateTime::from_timestamp(secs, sub).map_or_else(Timestamp::now, Timestamp::from)
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Draw a new id until it is unused, so two sessions never share one.
        loop {
            let data = serde_json::to_string(&*record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
            if self
                .0
                .create_session(&record.id.to_string(), &data, expiry(record))
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        self.0
            .save_session(&record.id.to_string(), &data, expiry(record))
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = self.0.load_session(&id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        serde_json::from_str(&row.data)
            .map(Some)
            .map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete_session(&id.to_string()).await.map_err(backend)
    }
}
