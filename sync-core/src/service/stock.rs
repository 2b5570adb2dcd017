//! The stock ledger: movements recorded (and the workers woken), and what
//! one SKU holds per outlet and may sell per channel.

use super::Core;
use crate::Result;
use crate::domain::{Actor, Sku};
use crate::storage::{Outlet, ProductFilter, VariantDetail};

pub use crate::storage::{
    BalanceExplanation, IdempotencyKey, MAX_MOVEMENTS_PER_REQUEST, MAX_NOTE_CHARS, MovementBatch, MovementInput,
    MovementRecord,
};

#[derive(Clone)]
pub struct StockLedger {
    core: Core,
}

/// One SKU's stock: per outlet, and the syncable balance per channel.
#[derive(Debug, Clone)]
pub struct SkuStock {
    pub variant: VariantDetail,
    pub outlets: Vec<Outlet>,
    /// (channel name, syncable balance)
    pub channels: Vec<(String, i64)>,
}

impl StockLedger {
    pub(super) fn new(core: Core) -> Self {
        Self { core }
    }

    /// Records movements all or nothing; a replayed idempotency key returns
    /// the first answer and changes nothing. New movements wake the workers.
    pub async fn record(
        &self,
        actor: &Actor,
        movements: &[MovementInput],
        key: Option<&IdempotencyKey>,
    ) -> Result<MovementBatch> {
        let batch = self.core.storage.apply_movements(actor, movements, key).await?;
        if !batch.replayed {
            self.core.waker.wake();
        }
        Ok(batch)
    }

    /// The stock of one SKU, or None when no variant has it.
    pub async fn of_sku(&self, sku: &Sku) -> Result<Option<SkuStock>> {
        let storage = &self.core.storage;
        let page = storage
            .list_products(&ProductFilter {
                sku: Some(sku.clone()),
                limit: 1,
                ..Default::default()
            })
            .await?;
        let Some(variant) = page
            .items
            .into_iter()
            .flat_map(|p| p.variants)
            .find(|v| v.sku == sku.as_str())
        else {
            return Ok(None);
        };
        let mut channels = Vec::new();
        for channel in storage.list_channels().await? {
            let balance = storage
                .balances(channel.id, &[variant.id])
                .await?
                .get(&variant.id)
                .copied()
                .unwrap_or(0);
            channels.push((channel.name, balance));
        }
        Ok(Some(SkuStock {
            variant,
            outlets: storage.list_outlets().await?,
            channels,
        }))
    }
}
