//! Product pushes: the synced fields of a product written to each channel
//! where it is listed, in the background, after any change to them (seed
//! 004: "When a product is updated in Retail POS, … automatically updated
//! in eCom"); a product deleted here is deleted there. Every push is
//! recorded in the Sync History with what changed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::backoff::{MAX_PUSH_ATTEMPTS, retry_delay};
use super::worker::{ACTOR, ChannelWorker, LEASE};
use crate::Result;
use crate::connector::{Connector, ConnectorError, ProductToList, ProductWritten, Retire};
use crate::domain::{ProductId, Timestamp, VariantId};
use crate::storage::{
    CatalogTarget, ClaimedProduct, ConflictKind, EventResult, NewConflict, NewEvent, RowOutcome, RunKind, RunTrigger,
};

/// Products one claim takes: each is one call to the channel.
const CATALOG_BATCH: i64 = 10;

/// What a product push wrote, kept so the next one can say what changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Written {
    name: String,
    description: String,
    brand: String,
    category: String,
    active: bool,
    options: Vec<String>,
    images: Vec<(String, String)>,
    variants: Vec<WrittenVariant>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct WrittenVariant {
    id: i64,
    sku: String,
    barcode: Option<String>,
    options: Vec<String>,
    price: String,
    weight_grams: Option<i64>,
}

impl Written {
    pub(crate) fn of(product: &ProductToList) -> Self {
        Written {
            name: product.name.clone(),
            description: product.description.clone(),
            brand: product.brand.clone(),
            category: product.category.clone(),
            active: product.active,
            options: product.option_names.clone(),
            images: product
                .images
                .iter()
                .flatten()
                .map(|i| (i.url.clone(), i.alt.clone()))
                .collect(),
            variants: product
                .variants
                .iter()
                .map(|v| WrittenVariant {
                    id: v.variant_id.get(),
                    sku: v.sku.clone(),
                    barcode: v.barcode.clone(),
                    options: v.option_values.clone(),
                    price: v.price.to_string(),
                    weight_grams: v.weight_grams,
                })
                .collect(),
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn from_json(raw: Option<&str>) -> Option<Self> {
        serde_json::from_str(raw?).ok()
    }

    /// What changed from `self` to `new`, as the Sync History tells it.
    fn changes_to(&self, new: &Written) -> Vec<String> {
        let mut out = Vec::new();
        let mut field = |name: &str, old: &str, new: &str| {
            if old != new {
                out.push(format!("{name}: {} → {}", quote(old), quote(new)));
            }
        };
        field("name", &self.name, &new.name);
        field("brand", &self.brand, &new.brand);
        field("category", &self.category, &new.category);
        if self.description != new.description {
            out.push("description changed".into());
        }
        if self.active != new.active {
            out.push(
                if new.active {
                    "made available"
                } else {
                    "made unavailable"
                }
                .into(),
            );
        }
        if self.options != new.options {
            out.push(format!(
                "options: {} → {}",
                self.options.join(" / "),
                new.options.join(" / ")
            ));
        }
        if self.images != new.images {
            let old_urls: Vec<&str> = self.images.iter().map(|(u, _)| u.as_str()).collect();
            let new_urls: Vec<&str> = new.images.iter().map(|(u, _)| u.as_str()).collect();
            let added = new_urls.iter().filter(|u| !old_urls.contains(u)).count();
            let removed = old_urls.iter().filter(|u| !new_urls.contains(u)).count();
            let mut parts = Vec::new();
            if added > 0 {
                parts.push(format!("{added} added"));
            }
            if removed > 0 {
                parts.push(format!("{removed} removed"));
            }
            if parts.is_empty() {
                parts.push("reordered or retitled".into());
            }
            out.push(format!("images: {}", parts.join(", ")));
        }
        for v in &new.variants {
            let Some(old) = self.variants.iter().find(|o| o.id == v.id) else {
                out.push(format!("variant {} added", v.sku));
                continue;
            };
            if old.sku != v.sku {
                out.push(format!("SKU {} → {}", old.sku, v.sku));
            }
            let sku = &v.sku;
            if old.price != v.price {
                out.push(format!("price of {sku}: {} → {}", old.price, v.price));
            }
            if old.barcode != v.barcode {
                out.push(format!(
                    "barcode of {sku}: {} → {}",
                    old.barcode.as_deref().unwrap_or("none"),
                    v.barcode.as_deref().unwrap_or("none")
                ));
            }
            if old.weight_grams != v.weight_grams {
                let grams = |g: Option<i64>| g.map_or_else(|| "none".to_owned(), |g| format!("{g} g"));
                out.push(format!(
                    "weight of {sku}: {} → {}",
                    grams(old.weight_grams),
                    grams(v.weight_grams)
                ));
            }
            if old.options != v.options {
                out.push(format!(
                    "options of {sku}: {} → {}",
                    old.options.join(" / "),
                    v.options.join(" / ")
                ));
            }
        }
        for old in &self.variants {
            if !new.variants.iter().any(|v| v.id == old.id) {
                out.push(format!("variant {} removed", old.sku));
            }
        }
        out
    }
}

fn quote(s: &str) -> String {
    if s.is_empty() { "none".into() } else { format!("{s:?}") }
}

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
    /// Claims and writes one batch of product pushes, recorded as a run of
    /// `kind` started by `trigger`; `claimed == 0` means there was nothing due.
    pub async fn run_catalog(&self, kind: RunKind, trigger: RunTrigger) -> Result<super::BatchReport> {
        let now = self.clock.now();
        let lease_until = Timestamp::from(now.as_datetime() + LEASE);
        let rows = self
            .storage
            .claim_catalog(self.channel, &self.worker_id, CATALOG_BATCH, lease_until, now)
            .await?;
        if rows.is_empty() {
            return Ok(super::BatchReport::default());
        }
        let run = self.storage.start_run(Some(self.channel), kind, trigger, ACTOR).await?;
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
        self.storage
            .record_events(Some(run), Some(self.channel), ACTOR, &events)
            .await?;
        let count = |f: fn(&RowOutcome) -> bool| finished.iter().filter(|(_, o)| f(o)).count();
        let report = super::BatchReport {
            claimed: rows.len(),
            pushed: count(|o| *o == RowOutcome::Pushed),
            failed: count(|o| matches!(o, RowOutcome::Dead { .. })),
            retrying: count(|o| matches!(o, RowOutcome::RetryAt { .. } | RowOutcome::Later { .. })),
            awaiting_pull: 0,
        };
        self.storage.finish_catalog(&self.worker_id, &finished, now).await?;
        let log = format!(
            "{} products written, {} failed, {} to retry",
            report.pushed, report.failed, report.retrying
        );
        self.storage
            .finish_run(
                run,
                report.pushed as i64,
                (report.failed + report.retrying) as i64,
                &log,
            )
            .await?;
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
        let before = Written::from_json(target.pushed_content.as_deref());
        // Images go only when they changed: the channel fetches every one sent.
        // An empty list only removes images Tillbridge sent before: a linked
        // product's own images in the channel are left alone.
        let sent_before = before.as_ref().is_some_and(|b| !b.images.is_empty());
        if before.as_ref().is_some_and(|b| b.images == written.images) || (written.images.is_empty() && !sent_before) {
            listing.images = None;
        }
        // Variants removed here since the last write are removed there.
        if let Some(before) = &before {
            listing.removed_skus = before
                .variants
                .iter()
                .filter(|old| !written.variants.iter().any(|v| v.id == old.id))
                .map(|old| old.sku.clone())
                .collect();
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
                let hash = listing_hash(&product, &balances, target.sell_online);
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
                let name = Written::from_json(target.pushed_content.as_deref()).map(|w| w.name);
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
            let hash = listing_hash(product, &HashMap::new(), !hidden.contains(&product.id));
            if cp.content_hash.as_deref() != Some(hash.as_str()) {
                stale.push(product.id);
            }
        }
    }
    Ok(stale)
}

/// The digest stored with a write: of the product as it was written, images
/// included (a write without them left the channel's, which equal ours).
fn listing_hash(product: &crate::storage::ProductDetail, balances: &HashMap<VariantId, i64>, selling: bool) -> String {
    ProductToList::from_detail(product, balances, selling).content_hash()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written() -> Written {
        Written {
            name: "Tee".into(),
            description: "Soft".into(),
            brand: "Acme".into(),
            category: "Shirts".into(),
            active: true,
            options: vec!["Size".into()],
            images: vec![("https://img.example/a.jpg".into(), String::new())],
            variants: vec![WrittenVariant {
                id: 1,
                sku: "TEE-S".into(),
                barcode: None,
                options: vec!["S".into()],
                price: "19.00 NZD".into(),
                weight_grams: Some(200),
            }],
        }
    }

    #[test]
    fn the_history_says_what_changed_field_by_field() {
        let old = written();
        let mut new = written();
        assert!(old.changes_to(&new).is_empty());
        new.name = "Tee 2".into();
        new.active = false;
        new.variants[0].sku = "TEE-SM".into();
        new.variants[0].price = "21.00 NZD".into();
        new.images.push(("https://img.example/b.jpg".into(), "back".into()));
        new.variants.push(WrittenVariant {
            id: 2,
            sku: "TEE-M".into(),
            ..WrittenVariant::default()
        });
        let changes = old.changes_to(&new);
        assert_eq!(
            changes,
            [
                "name: \"Tee\" → \"Tee 2\"",
                "made unavailable",
                "images: 1 added",
                "SKU TEE-S → TEE-SM",
                "price of TEE-SM: 19.00 NZD → 21.00 NZD",
                "variant TEE-M added",
            ]
        );
        let removed = new.changes_to(&old);
        assert!(removed.contains(&"variant TEE-M removed".to_owned()), "{removed:?}");
    }

    #[test]
    fn what_was_written_round_trips_through_its_json() {
        let w = written();
        assert_eq!(Written::from_json(Some(&w.to_json())), Some(w));
        assert_eq!(Written::from_json(Some("not json")), None);
        assert_eq!(Written::from_json(None), None);
    }
}
