//! Product pushes: the synced fields of a product written to each channel
//! where it is listed, in the background, after any change to them (seed
//! 004: "When a product is updated in Retail POS, … automatically updated
//! in eCom"); a product deleted here is deleted there. Every push is
//! recorded in the Sync History with what changed.

use std::collections::HashMap;

use super::backoff::{MAX_PUSH_ATTEMPTS, retry_delay};
use super::run::{OpenRun, Part};
use super::worker::{ChannelWorker, LEASE};
use super::written::Written;
use crate::Result;
use crate::connector::{Connector, ConnectorError, ProductToList, ProductWritten, Retire};
use crate::domain::{ProductId, Timestamp, VariantId};
use crate::storage::{CatalogTarget, ClaimedProduct, ConflictKind, EventResult, NewConflict, NewEvent, RowOutcome};

/// Products one claim takes: each is one call to the channel.
const CATALOG_BATCH: i64 = 10;

/// How one product push ended, with what the history and conflicts get.
struct Pushed {
    outcome: RowOutcome,
    events: Vec<NewEvent>,
    conflicts: Vec<NewConflict>,
}

impl Pushed {
    fn quiet(outcome: RowOutcome) -> Self {
        Pushed {
            outcome,
            events: Vec::new(),
            conflicts: Vec::new(),
        }
    }
}

fn event(
    product: ProductId,
    action: &str,
    after: Option<String>,
    result: EventResult,
    note: Option<String>,
) -> NewEvent {
    NewEvent {
        product_id: Some(product),
        variant_id: None,
        action: action.to_owned(),
        before: None,
        after,
        result,
        error: note,
        attempt: 1,
    }
}

impl<C: Connector> ChannelWorker<C> {
    /// Claims and writes one batch of product pushes, recorded in `run`;
    /// `claimed == 0` means there was nothing due.
    pub async fn run_catalog_in(&self, run: &OpenRun) -> Result<super::BatchReport> {
        let now = self.clock.now();
        let lease_until = Timestamp::from(now.as_datetime() + LEASE);
        let rows = self
            .storage
            .claim_catalog(self.channel, &self.worker_id, CATALOG_BATCH, lease_until, now)
            .await?;
        if rows.is_empty() {
            return Ok(super::BatchReport::default());
        }
        run.id().await?;
        let mut finished = Vec::with_capacity(rows.len());
        let mut events = Vec::new();
        for row in &rows {
            let mut pushed = self.push_product(row, now).await?;
            for e in &mut pushed.events {
                e.attempt = row.attempts;
            }
            events.append(&mut pushed.events);
            for c in &pushed.conflicts {
                self.storage.open_conflict(self.channel, c).await?;
            }
            finished.push((*row, pushed.outcome));
        }
        let count = |f: fn(&RowOutcome) -> bool| finished.iter().filter(|(_, o)| f(o)).count();
        let report = super::BatchReport {
            claimed: rows.len(),
            pushed: count(|o| *o == RowOutcome::Pushed),
            failed: count(|o| matches!(o, RowOutcome::Dead { .. })),
            retrying: count(|o| matches!(o, RowOutcome::RetryAt { .. } | RowOutcome::Later { .. })),
            awaiting_pull: 0,
            unchanged: 0,
        };
        self.storage.finish_catalog(&self.worker_id, &finished, now).await?;
        run.record(&events, &report, Part::Products).await?;
        Ok(report)
    }

    async fn push_product(&self, row: &ClaimedProduct, now: Timestamp) -> Result<Pushed> {
        let Some(target) = self.storage.catalog_target(self.channel, row.product_id).await? else {
            return Ok(Pushed::quiet(RowOutcome::Pushed));
        };
        let Some(external) = target.external_product_id.clone() else {
            if target.creating {
                // Created this moment by a quantity push; write it once that is done.
                let retry_at = Timestamp::from(now.as_datetime() + chrono::TimeDelta::seconds(1));
                let reason = "the product is being created in the channel".to_owned();
                return Ok(Pushed::quiet(RowOutcome::Later { retry_at, reason }));
            }
            // Not in this channel (any more): nothing to write.
            return Ok(Pushed::quiet(RowOutcome::Pushed));
        };
        if target.deleted {
            return self.delete_product(row, &target, &external, now).await;
        }
        let Some(product) = self.storage.get_product(row.product_id).await? else {
            return Ok(Pushed::quiet(RowOutcome::Pushed));
        };
        let sharing = self.storage.products_sharing(self.channel, &external).await?;
        if sharing > 1 {
            // Linked by SKU to one channel product that holds variants of
            // several of ours: whose fields would win? None; a person decides.
            let note = format!(
                "the channel product {external} holds variants of {sharing} Tillbridge products: its fields are left as they are"
            );
            return Ok(Pushed {
                outcome: RowOutcome::Pushed,
                events: vec![event(
                    product.id,
                    "update product",
                    Some(product.name.clone()),
                    EventResult::Skipped,
                    Some(note),
                )],
                conflicts: Vec::new(),
            });
        }
        let ids: Vec<VariantId> = product.variants.iter().map(|v| v.id).collect();
        let balances = self.storage.balances(self.channel, &ids).await?;
        let mut listing = ProductToList::from_detail(&product, &balances, target.sell_online);
        let written = Written::of(&listing);
        // The digest of the product as it stands, images included: a write
        // that leaves them out leaves the channel's, which equal ours.
        let hash = listing.content_hash();
        let before = Written::from_json(target.pushed_content.as_deref());
        // Images go only when they changed: the channel fetches every one sent.
        // An empty list only removes images Tillbridge sent before: a linked
        // product's own images in the channel are left alone.
        let sent_before = before.as_ref().is_some_and(Written::has_images);
        if before.as_ref().is_some_and(|b| b.same_images(&written)) || (!written.has_images() && !sent_before) {
            listing.images = None;
        }
        // Variants removed here since the last write are removed there.
        if let Some(before) = &before {
            listing.removed_skus = before.removed_skus(&written);
        }
        let changes = match &before {
            Some(before) => before.changes_to(&written),
            None => vec!["every synced field written (first write, or linked by SKU)".to_owned()],
        };
        let targets = self.storage.push_targets(self.channel, &ids).await?;
        let existing: HashMap<String, String> = targets
            .values()
            .filter_map(|t| Some((t.sku.clone(), t.listing.external_variant_id.clone()?)))
            .collect();
        let note = if changes.is_empty() {
            "nothing changed; written again".to_owned()
        } else {
            changes.join("; ")
        };
        match self.connector.update_product(&listing, &external, &existing).await {
            Ok(ProductWritten {
                items,
                failed_images,
                left,
            }) => {
                // Variants new to the channel product (added, or found there by
                // SKU) are linked by the quantity pushes, which read their
                // figure first: a figure never written blindly can't un-sell.
                let added: Vec<VariantId> = items
                    .iter()
                    .filter(|i| !existing.contains_key(&i.sku))
                    .filter_map(|i| listing.variants.iter().find(|v| v.sku == i.sku).map(|v| v.variant_id))
                    .collect();
                if !added.is_empty() {
                    self.storage.enqueue_variants(self.channel, &added).await?;
                }
                self.storage
                    .record_catalog_pushed(self.channel, product.id, &external, &hash, &written.to_json())
                    .await?;
                let conflicts = failed_images
                    .iter()
                    .map(|f| NewConflict {
                        kind: ConflictKind::PushRejected,
                        product_id: Some(product.id),
                        variant_id: None,
                        sku: None,
                        external_id: Some(external.clone()),
                        ours: f.url.clone(),
                        theirs: "image not fetched".into(),
                        detail: format!(
                            "the channel could not fetch the image {}: {}; the product's other fields went through",
                            f.url, f.reason
                        ),
                    })
                    .collect();
                let result = if failed_images.is_empty() {
                    EventResult::Succeeded
                } else {
                    EventResult::Failed
                };
                let mut note = note;
                if let Some(left) = &left {
                    note.push_str(&format!("; {left}"));
                }
                for f in &failed_images {
                    note.push_str(&format!("; image {} not fetched: {}", f.url, f.reason));
                }
                Ok(Pushed {
                    outcome: RowOutcome::Pushed,
                    events: vec![event(
                        product.id,
                        "update product",
                        Some(product.name.clone()),
                        result,
                        Some(note),
                    )],
                    conflicts,
                })
            }
            Err(e) => Ok(self.failed(row, &product.name, product.id, "update product", &e, now)),
        }
    }

    async fn delete_product(
        &self,
        row: &ClaimedProduct,
        target: &CatalogTarget,
        external: &str,
        now: Timestamp,
    ) -> Result<Pushed> {
        match self.connector.retire_product(external, Retire::Delete).await {
            Ok(()) => {
                self.storage
                    .forget_channel_product(self.channel, target.product_id)
                    .await?;
                let name = Written::from_json(target.pushed_content.as_deref()).map(|w| w.name().to_owned());
                Ok(Pushed {
                    outcome: RowOutcome::Pushed,
                    events: vec![event(
                        target.product_id,
                        "delete product",
                        name,
                        EventResult::Succeeded,
                        Some(format!("deleted in the channel ({external}), as it was in Tillbridge")),
                    )],
                    conflicts: Vec::new(),
                })
            }
            Err(e) => Ok(self.failed(row, external, target.product_id, "delete product", &e, now)),
        }
    }

    /// A product push the channel failed: retried with backoff, given up
    /// (a conflict) after `MAX_PUSH_ATTEMPTS` or at once when hopeless.
    fn failed(
        &self,
        row: &ClaimedProduct,
        name: &str,
        product: ProductId,
        action: &str,
        error: &ConnectorError,
        now: Timestamp,
    ) -> Pushed {
        let message = error.to_string();
        let events = vec![event(
            product,
            action,
            Some(name.to_owned()),
            EventResult::Failed,
            Some(message.clone()),
        )];
        let after = |delay: std::time::Duration| {
            Timestamp::from(now.as_datetime() + chrono::TimeDelta::from_std(delay).unwrap_or(LEASE))
        };
        let give_up = !error.is_retryable() || row.attempts >= MAX_PUSH_ATTEMPTS;
        let outcome = match error {
            ConnectorError::RateLimited { retry_after } => RowOutcome::Later {
                retry_at: after(*retry_after),
                reason: message.clone(),
            },
            _ if give_up => RowOutcome::Dead { error: message.clone() },
            ConnectorError::Unauthorized(_) => RowOutcome::RetryAt {
                retry_at: after(std::time::Duration::from_secs(60)),
                error: message.clone(),
            },
            _ => RowOutcome::RetryAt {
                retry_at: after(retry_delay(row.attempts, rand::random::<f64>())),
                error: message.clone(),
            },
        };
        let conflicts = match &outcome {
            RowOutcome::Dead { .. } => vec![NewConflict {
                kind: ConflictKind::PushRejected,
                product_id: Some(product),
                variant_id: None,
                sku: None,
                external_id: None,
                ours: format!("{action} {name:?}"),
                theirs: "refused".into(),
                detail: if error.is_retryable() {
                    format!("gave up after {} attempts: {message}", row.attempts)
                } else {
                    message
                },
            }],
            _ => Vec::new(),
        };
        Pushed {
            outcome,
            events,
            conflicts,
        }
    }
}

/// Listed products of `channel` whose synced fields differ from what was
/// last written there (by digest): a change that reached no queue, or a
/// write that was given up. A standard sync writes them.
pub(super) async fn stale_products(
    storage: &crate::storage::Storage,
    channel: crate::domain::ChannelId,
) -> Result<Vec<ProductId>> {
    let listed = storage.channel_products(channel).await?;
    let ids: Vec<ProductId> = listed.iter().map(|cp| cp.product_id).collect();
    let hidden: std::collections::HashSet<ProductId> =
        storage.not_sold_online(channel, &ids).await?.into_iter().collect();
    let mut stale = Vec::new();
    for chunk in listed.chunks(500) {
        let chunk_ids: Vec<ProductId> = chunk.iter().map(|cp| cp.product_id).collect();
        let products = storage.products_by_ids(&chunk_ids).await?;
        for cp in chunk {
            let Some(product) = products.iter().find(|p| p.id == cp.product_id) else {
                continue;
            };
            let hash =
                ProductToList::from_detail(product, &HashMap::new(), !hidden.contains(&product.id)).content_hash();
            if cp.content_hash.as_deref() != Some(hash.as_str()) {
                stale.push(product.id);
            }
        }
    }
    Ok(stale)
}
