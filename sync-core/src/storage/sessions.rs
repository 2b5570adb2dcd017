//! Sign-in sessions, stored as opaque JSON for the web layer's session
//! store, each under a SHA-256 of its id: whoever reads the database
//! cannot take over a session with what they find there.

use sha2::{Digest, Sha256};

use super::{Storage, on_pool};
use crate::Result;
use crate::domain::Timestamp;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub data: String,
    pub expires_at: Timestamp,
}

impl Storage {
    pub async fn save_session(&self, id: &str, data: &str, expires_at: Timestamp) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
            )
            .bind(id_hash(id))
            .bind(data)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Inserts a session only if its id is new; false if the id was taken.
    pub async fn create_session(&self, id: &str, data: &str, expires_at: Timestamp) -> Result<bool> {
        let done = on_pool!(self, pool => {
            sqlx::query("INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id_hash) DO NOTHING")
                .bind(id_hash(id))
                .bind(data)
                .bind(expires_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(done == 1)
    }

    /// A session that has not expired.
    pub async fn load_session(&self, id: &str) -> Result<Option<SessionRow>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2")
                .bind(id_hash(id))
                .bind(Timestamp::now())
                .fetch_optional(pool)
                .await
        })?)
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash(id)).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        Ok(on_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(Timestamp::now())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?)
    }
}

fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}
