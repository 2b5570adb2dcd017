//! The Sandbox store's connector: its "channel" is a table in our own
//! database, with the same compare-and-set rules as a real shop.

use std::collections::HashMap;

use super::{
    ChannelItem, Connector, ConnectorError, FoundItem, KnownOrders, ProductToList, ProductWritten, PulledOrders,
    QuantitySet, Retire, SetOutcome,
};
use crate::domain::{ChannelId, Timestamp};
use crate::storage::Storage;
use crate::storage::sandbox::SandboxSet;

pub struct SandboxConnector {
    storage: Storage,
    channel: ChannelId,
}

impl SandboxConnector {
    pub fn new(storage: Storage, channel: ChannelId) -> Self {
        Self { storage, channel }
    }
}

fn transient(e: crate::Error) -> ConnectorError {
    ConnectorError::Transient(e.to_string())
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
                    product_id: format!("sandbox-product:{}", i.title),
                    variant_id: i.item_id.clone(),
                    inventory_item_id: i.item_id,
                    quantity: Some(i.available),
                };
                (i.sku, found)
            })
            .collect())
    }

    async fn create_product(&self, product: &ProductToList) -> Result<ProductWritten, ConnectorError> {
        let rows: Vec<(String, String, i64)> = product
            .variants
            .iter()
            .map(|v| {
                let title = if v.option_values.is_empty() {
                    product.name.clone()
                } else {
                    format!("{} ({})", product.name, v.option_values.join(" / "))
                };
                (v.sku.clone(), title, v.quantity)
            })
            .collect();
        let ids = self
            .storage
            .sandbox_create(self.channel, &rows)
            .await
            .map_err(transient)?;
        let items = product
            .variants
            .iter()
            .zip(ids)
            .map(|(v, id)| FoundItem {
                sku: v.sku.clone(),
                product_id: format!("sandbox-product:{}", product.product_id),
                variant_id: id.clone(),
                inventory_item_id: id,
                quantity: Some(v.quantity),
            })
            .collect();
        Ok(ProductWritten {
            items,
            failed_images: Vec::new(),
        })
    }

    async fn update_product(
        &self,
        product: &ProductToList,
        _external_product_id: &str,
        _existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        // Listing again updates titles and adds new variants; quantities stay.
        self.create_product(product).await
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
