//! The store's own settings: one row (see migration 0013).

use super::{Storage, on_pool};
use crate::Result;
use crate::domain::StoreZone;

impl Storage {
    /// The store's time zone; UTC when none is chosen, or when the chosen
    /// name is no longer in the time zone database this build carries.
    pub async fn store_zone(&self) -> Result<StoreZone> {
        let name: Option<String> = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT time_zone FROM store_settings WHERE id = 1").fetch_optional(pool).await
        })?;
        Ok(match name.as_deref().map(StoreZone::parse) {
            Some(Ok(zone)) => zone,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the stored time zone is unknown; showing times in UTC");
                StoreZone::default()
            }
            None => StoreZone::default(),
        })
    }

    pub async fn set_store_zone(&self, zone: StoreZone) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO store_settings (id, time_zone) VALUES (1, $1)
                 ON CONFLICT (id) DO UPDATE SET time_zone = excluded.time_zone",
            )
            .bind(zone.name())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }
}
