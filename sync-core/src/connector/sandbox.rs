//! The Sandbox store's connector: its "channel" is a table in our own
//! database, with the same compare-and-set rules as a real shop.

use std::collections::HashMap;

use super::{
    ChannelItem, Connector, ConnectorError, FoundItem, KnownOrders, ProductToList, ProductWritten, PulledOrders,
    QuantitySet, Retire, SetOutcome,
};
use crate::domain::{ChannelId, Timestamp};
use crate::storage::Storage;
use crate::storage::sandbox::{SandboxSet, SandboxWrite};

pub struct SandboxConnector {
    storage: Storage,
    channel: ChannelId,
}

impl SandboxConnector {
    pub fn new(storage: Storage, channel: ChannelId) -> Self {
        Self { storage, channel }
    }
}

impl SandboxConnector {
    /// Writes the product's items as a shop would: titles, SKUs (the item
    /// listed for a variant keeps its id when its SKU changes), new
    /// variants added, removed ones gone, and every item shown or hidden
    /// with the product's availability here (active and sold online).
    async fn write_product(
        &self,
        product: &ProductToList,
        product_ref: &str,
        existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        let items: Vec<SandboxWrite> = product
            .variants
            .iter()
            .map(|v| SandboxWrite {
                item_id: existing.get(&v.sku).cloned(),
                sku: v.sku.clone(),
                title: if v.option_values.is_empty() {
                    product.name.clone()
                } else {
                    format!("{} ({})", product.name, v.option_values.join(" / "))
                },
                available: v.quantity,
            })
            .collect();
        let ids = self
            .storage
            .sandbox_write_product(self.channel, product_ref, &items, product.active)
            .await
            .map_err(transient)?;
        let items = product
            .variants
            .iter()
            .zip(ids)
            .map(|(v, id)| FoundItem {
                sku: v.sku.clone(),
                product_id: product_ref.to_owned(),
                variant_id: id.clone(),
                inventory_item_id: id,
                quantity: Some(v.quantity),
            })
            .collect();
        Ok(ProductWritten {
            items,
            failed_images: Vec::new(),
            left: None,
        })
    }
}

fn transient(e: crate::Error) -> ConnectorError {
    // "database error" alone says too little in the Sync History: add its cause.
    match std::error::Error::source(&e) {
        Some(cause) => ConnectorError::Transient(format!("{e}: {cause}")),
        None => ConnectorError::Transient(e.to_string()),
    }
}

impl Connector for SandboxConnector {
    fn max_batch(&self) -> usize {
        250
    }

    async fn find_by_sku(&self, skus: &[String]) -> Result<HashMap<String, FoundItem>, ConnectorError> {
        let items = self
            .storage
            .sandbox_items_by_sku(self.channel, skus)
            .await
            .map_err(transient)?;
        Ok(items
            .into_iter()
            .map(|i| {
                let found = FoundItem {
                    sku: i.sku.clone(),
                    product_id: i.product_ref.unwrap_or_else(|| format!("sandbox-product:{}", i.title)),
                    variant_id: i.item_id.clone(),
                    inventory_item_id: i.item_id,
                    quantity: Some(i.available),
                };
                (i.sku, found)
            })
            .collect())
    }

    async fn create_product(&self, product: &ProductToList) -> Result<ProductWritten, ConnectorError> {
        let product_ref = format!("sandbox-product:{}", product.product_id);
        self.write_product(product, &product_ref, &HashMap::new()).await
    }

    async fn update_product(
        &self,
        product: &ProductToList,
        external_product_id: &str,
        existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        // Listed items keep their quantities; a renamed SKU stays the same item.
        self.write_product(product, external_product_id, existing).await
    }

    async fn set_quantities(
        &self,
        sets: &[QuantitySet],
        _key: &str,
        _reference: &str,
    ) -> Result<Vec<SetOutcome>, ConnectorError> {
        let input: Vec<(String, i64, Option<i64>)> = sets
            .iter()
            .map(|s| (s.inventory_item_id.clone(), s.quantity, s.change_from))
            .collect();
        let results = self
            .storage
            .sandbox_set(self.channel, &input)
            .await
            .map_err(transient)?;
        Ok(results
            .into_iter()
            .map(|r| match r {
                SandboxSet::Applied(_) => SetOutcome::Applied,
                SandboxSet::Stale { current } => SetOutcome::Stale { current: Some(current) },
                SandboxSet::Unknown => SetOutcome::Rejected {
                    code: "UNKNOWN_ITEM".into(),
                    message: "this item is not in the Sandbox store".into(),
                },
            })
            .collect())
    }

    async fn read_quantities(&self, items: &[String]) -> Result<HashMap<String, i64>, ConnectorError> {
        let all = self.storage.sandbox_quantities(self.channel).await.map_err(transient)?;
        Ok(items
            .iter()
            .filter_map(|i| all.get(i).map(|q| (i.clone(), *q)))
            .collect())
    }

    async fn list_items(&self) -> Result<Vec<ChannelItem>, ConnectorError> {
        let items = self.storage.sandbox_items(self.channel).await.map_err(transient)?;
        // Each Sandbox item stands alone: it is its own product.
        Ok(items
            .into_iter()
            .map(|i| ChannelItem {
                sku: i.sku,
                title: i.title,
                product_id: i.item_id.clone(),
                variant_id: i.item_id,
            })
            .collect())
    }

    async fn pull_orders(
        &self,
        _since: Option<Timestamp>,
        _known: &KnownOrders,
    ) -> Result<PulledOrders, ConnectorError> {
        // Nobody shops in the Sandbox store.
        Ok(PulledOrders::default())
    }

    async fn register_order_webhooks(&self, _callback_url: &str) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn retire_product(&self, product_id: &str, how: Retire) -> Result<(), ConnectorError> {
        let found = self
            .storage
            .sandbox_retire(self.channel, product_id, how == Retire::Delete)
            .await
            .map_err(transient)?;
        match (found, how) {
            (false, Retire::Unpublish) => Err(ConnectorError::Permanent(format!(
                "{product_id} is not in the Sandbox store"
            ))),
            _ => Ok(()),
        }
    }
}
