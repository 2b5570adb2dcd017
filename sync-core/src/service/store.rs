//! The store's own settings: the time zone the dashboard shows times in.

use super::Core;
use crate::Result;
use crate::domain::StoreZone;

#[derive(Clone)]
pub struct StoreSettings {
    core: Core,
}

impl StoreSettings {
    pub(super) fn new(core: Core) -> Self {
        Self { core }
    }

    /// The store's time zone (UTC until an owner chooses one).
    pub async fn zone(&self) -> Result<StoreZone> {
        self.core.storage.store_zone().await
    }

    pub async fn set_zone(&self, zone: StoreZone) -> Result<()> {
        self.core.storage.set_store_zone(zone).await
    }
}
