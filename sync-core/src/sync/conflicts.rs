//! Settling a conflict: ignore it, push ours again, or, with the channel's
//! help, link our variant to the channel's item with its SKU or create our
//! product there.

use std::collections::HashMap;

use crate::connector::{AnyConnector, Connector, ProductToList};
use crate::domain::{DomainError, VariantId};
use crate::storage::{ConflictAction, Figure, NewListing, Storage};
use crate::vault::Vault;
use crate::{Error, Result};

/// Resolves conflict `id` with `action`; says what was done.
pub async fn settle_conflict(
    storage: &Storage,
    vault: &Vault,
    id: i64,
    action: ConflictAction,
    actor: &str,
) -> Result<String> {
    let Some((conflict, product)) = storage.conflict(id).await? else {
        return Err(Error::NotFound(format!("conflict {id}")));
    };
    if conflict.status != "open" {
        return Err(Error::Conflict("This conflict was already resolved.".into()));
    }
    let done = match action {
        ConflictAction::Ignore => "Conflict ignored".to_owned(),
        ConflictAction::Retry => "Conflict resolved; pushing Tillbridge's figure again".to_owned(),
        ConflictAction::Link | ConflictAction::Create => {
            let (Some(variant), Some(sku), Some(product)) = (conflict.variant_id, conflict.sku.clone(), product) else {
                return Err(DomainError::new("action", "this conflict is not about one of our variants").into());
            };
            let Some(config) = storage.channel(conflict.channel_id).await? else {
                return Err(Error::NotFound(format!("channel {}", conflict.channel_id.get())));
            };
            let connector =
                AnyConnector::for_channel(storage, vault, &config).map_err(|e| Error::Conflict(e.to_string()))?;
            let unreachable = |e: crate::connector::ConnectorError| Error::Conflict(format!("{}: {e}", config.name));
            if action == ConflictAction::Link {
                let found = connector
                    .find_by_sku(std::slice::from_ref(&sku))
                    .await
                    .map_err(unreachable)?;
                let Some(item) = found.get(&sku) else {
                    return Err(DomainError::new(
                        "action",
                        format!("{} has no item with the SKU {sku} to link", config.name),
                    )
                    .into());
                };
                storage
                    .take_over_listing(
                        config.id,
                        &NewListing {
                            variant_id: variant,
                            external_product_id: item.product_id.clone(),
                            external_variant_id: item.variant_id.clone(),
                            external_inventory_item_id: item.inventory_item_id.clone(),
                            seen_quantity: item.quantity,
                            figure: Figure::Read,
                        },
                    )
                    .await?;
                format!(
                    "{sku} linked to the item in {}; pushing Tillbridge's figure",
                    config.name
                )
            } else {
                let Some(detail) = storage.get_product(product).await? else {
                    return Err(Error::NotFound(format!("product {}", product.get())));
                };
                let ids: Vec<VariantId> = detail.variants.iter().map(|v| v.id).collect();
                let selling = storage.not_sold_online(config.id, &[product]).await?.is_empty();
                let listing = ProductToList::from_detail(&detail, &storage.balances(config.id, &ids).await?, selling);
                let items = connector.create_product(&listing).await.map_err(unreachable)?.items;
                let by_sku: HashMap<&str, VariantId> = detail.variants.iter().map(|v| (v.sku.as_str(), v.id)).collect();
                let links: Vec<NewListing> = items
                    .iter()
                    .filter_map(|i| {
                        Some(NewListing {
                            variant_id: *by_sku.get(i.sku.as_str())?,
                            external_product_id: i.product_id.clone(),
                            external_variant_id: i.variant_id.clone(),
                            external_inventory_item_id: i.inventory_item_id.clone(),
                            seen_quantity: i.quantity,
                            figure: Figure::Written,
                        })
                    })
                    .collect();
                for link in &links {
                    storage.take_over_listing(config.id, link).await?;
                }
                if let Some(first) = items.first() {
                    storage
                        .record_catalog_pushed(
                            config.id,
                            product,
                            &first.product_id,
                            &listing.content_hash(),
                            &crate::sync::written::Written::of(&listing).to_json(),
                        )
                        .await?;
                }
                format!("{} created in {}", detail.name, config.name)
            }
        }
    };
    if !storage.resolve_conflict(id, action, actor).await? {
        return Err(Error::Conflict("This conflict was already resolved.".into()));
    }
    Ok(done)
}
