//! One channel's worker: claims due outbox rows, links or creates the
//! channel's items, computes balances at push time, pushes them in the
//! channel's largest batch, and records every item in the Sync History.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::backoff::{MAX_PUSH_ATTEMPTS, retry_delay};
use super::clock::{Clock, SystemClock};
use super::run::{OpenRun, Part};
use super::signals::PullRequests;
use crate::Result;
use crate::connector::{Connector, ConnectorError, FoundItem, ProductToList, QuantitySet, SetOutcome};
use crate::domain::{ChannelId, ProductId, Timestamp, VariantId};
use crate::storage::{
    ClaimedRow, ConflictKind, EventResult, Figure, ListingIds, NewConflict, NewEvent, NewListing, PushTarget,
    PushedQuantity, RowOutcome, RunKind, RunTrigger, Storage,
};

/// How long a claim holds before another worker may take the row over.
pub(super) const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// How often a running batch renews its claims, well inside one lease.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);
/// Compare-and-set rounds per batch when the channel's figures keep moving.
const STALE_ROUNDS: usize = 3;
/// How long a channel's figure may stay below what its orders explain
/// before Tillbridge takes it for a change made in the channel and raises
/// it back: a channel may list an order a few seconds after the sale moved
/// its figure, so only a pull that started this long after the read, and
/// still found no order, lets the raise go; until then the pulls go on.
const SETTLE: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub pushed: usize,
    pub failed: usize,
    pub retrying: usize,
    /// Not pushed until the channel's orders are pulled (no un-selling).
    pub awaiting_pull: usize,
    /// Not pushed: the channel showed the figure already.
    pub unchanged: usize,
}

pub struct ChannelWorker<C> {
    pub(super) storage: Storage,
    pub(super) channel: ChannelId,
    pub(super) connector: C,
    pub(super) worker_id: String,
    /// When rows are due, leases end and retries fall.
    pub(super) clock: Arc<dyn Clock>,
    /// Where to ask for a pull of the channel's orders at once when its
    /// figures moved; without it the order cycle finds the waiting pushes
    /// on its next tick (and a button's sync pulls them itself).
    pulls: Option<PullRequests>,
}

/// Per-batch bookkeeping while a batch is worked through.
struct Batch {
    /// The worker's clock when the batch was claimed.
    now: Timestamp,
    rows: HashMap<VariantId, ClaimedRow>,
    outcomes: HashMap<VariantId, RowOutcome>,
    events: Vec<NewEvent>,
    pushed: Vec<PushedQuantity>,
    conflicts: Vec<NewConflict>,
    /// Rows whose figure the channel showed already (done, not pushed).
    unchanged: HashSet<VariantId>,
}

impl Batch {
    fn event(
        &mut self,
        t: &PushTarget,
        action: &str,
        before: Option<i64>,
        after: Option<i64>,
        result: EventResult,
        error: Option<String>,
    ) {
        let attempt = self.rows.get(&t.variant_id).map_or(1, |r| r.attempts);
        self.events.push(NewEvent {
            product_id: Some(t.product_id),
            variant_id: Some(t.variant_id),
            action: action.to_owned(),
            before: before.map(|q| q.to_string()),
            after: after.map(|q| q.to_string()),
            result,
            error,
            attempt,
        });
    }

    /// Ends a row on a connector failure: retry later, or dead if hopeless
    /// or if the channel kept failing for `MAX_PUSH_ATTEMPTS` attempts (then
    /// a person decides; the next change to the item tries again).
    fn fail(&mut self, t: &PushTarget, error: &ConnectorError, quantity: Option<i64>) {
        let attempts = self.rows.get(&t.variant_id).map_or(1, |r| r.attempts);
        let rate_limited = matches!(error, ConnectorError::RateLimited { .. });
        if error.is_retryable() && !rate_limited && attempts >= MAX_PUSH_ATTEMPTS {
            let gave_up = format!("gave up after {attempts} attempts: {error}");
            self.reject(t, ConflictKind::PushRejected, gave_up, String::new(), quantity);
            return;
        }
        let message = error.to_string();
        self.event(
            t,
            "quantity",
            t.listing.last_seen_quantity,
            quantity,
            EventResult::Failed,
            Some(message.clone()),
        );
        let after = |delay: std::time::Duration| {
            Timestamp::from(self.now.as_datetime() + chrono::TimeDelta::from_std(delay).unwrap_or(LEASE))
        };
        let outcome = if let ConnectorError::RateLimited { retry_after } = error {
            RowOutcome::Later {
                retry_at: after(*retry_after),
                reason: message,
            }
        } else if error.is_retryable() {
            let delay = match error {
                ConnectorError::Unauthorized(_) => std::time::Duration::from_secs(60),
                _ => retry_delay(attempts, rand::random::<f64>()),
            };
            RowOutcome::RetryAt {
                retry_at: after(delay),
                error: message,
            }
        } else {
            RowOutcome::Dead { error: message }
        };
        self.outcomes.insert(t.variant_id, outcome);
    }

    /// Holds a push of `quantity` until a pull of the channel's orders that
    /// started after `since`, saying why in the history.
    fn await_pull(&mut self, t: &PushTarget, quantity: i64, since: Timestamp, reason: String) {
        self.event(
            t,
            "quantity",
            t.listing.last_seen_quantity,
            Some(quantity),
            EventResult::Skipped,
            Some(reason.clone()),
        );
        self.outcomes
            .insert(t.variant_id, RowOutcome::AwaitPull { since, reason });
    }

    fn reject(&mut self, t: &PushTarget, kind: ConflictKind, message: String, theirs: String, quantity: Option<i64>) {
        self.event(
            t,
            "quantity",
            t.listing.last_seen_quantity,
            quantity,
            EventResult::Failed,
            Some(message.clone()),
        );
        self.conflicts.push(NewConflict {
            kind,
            product_id: Some(t.product_id),
            variant_id: Some(t.variant_id),
            sku: Some(t.sku.clone()),
            external_id: t.listing.external_inventory_item_id.clone(),
            ours: quantity.map_or_else(|| t.sku.clone(), |q| format!("quantity {q}")),
            theirs,
            detail: message.clone(),
        });
        self.outcomes.insert(t.variant_id, RowOutcome::Dead { error: message });
    }
}

impl<C: Connector> ChannelWorker<C> {
    pub fn new(storage: Storage, channel: ChannelId, connector: C, worker_id: String) -> Self {
        Self {
            storage,
            channel,
            connector,
            worker_id,
            clock: Arc::new(SystemClock),
            pulls: None,
        }
    }

    /// Reads time from `clock` (tests step it through backoffs).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Asks `pulls` for a pull of the channel's orders whenever a push finds
    /// the channel's figure moved.
    pub fn with_pull_requests(mut self, pulls: PullRequests) -> Self {
        self.pulls = Some(pulls);
        self
    }

    pub fn channel(&self) -> ChannelId {
        self.channel
    }

    /// Claims and pushes one batch, recorded as a run of its own;
    /// `claimed == 0` means there was nothing due.
    pub async fn run_once(&self) -> Result<BatchReport> {
        let run = OpenRun::new(
            self.storage.clone(),
            Some(self.channel),
            RunKind::Auto,
            RunTrigger::StockChange.into(),
        );
        let report = self.run_once_in(&run).await?;
        run.close().await?;
        Ok(report)
    }

    /// Claims and pushes one batch, recorded in `run` (started on the
    /// first batch that finds work); `claimed == 0` means there was nothing due.
    pub async fn run_once_in(&self, run: &OpenRun) -> Result<BatchReport> {
        let now = self.clock.now();
        let lease_until = Timestamp::from(now.as_datetime() + LEASE);
        let rows = self
            .storage
            .claim_outbox_due_by(
                self.channel,
                &self.worker_id,
                self.connector.max_batch() as i64,
                lease_until,
                now,
            )
            .await?;
        if rows.is_empty() {
            return Ok(BatchReport::default());
        }
        // The claims are held while the batch runs: a slow channel or a busy
        // machine must not let them lapse to another worker mid-push (both
        // would push the same figures). Only a dead process lets them lapse.
        let work = self.push_claimed(run, rows, now);
        tokio::pin!(work);
        loop {
            tokio::select! {
                report = &mut work => return report,
                () = tokio::time::sleep(HEARTBEAT) => {
                    let until = Timestamp::from(self.clock.now().as_datetime() + LEASE);
                    if let Err(e) = self.storage.extend_claims(self.channel, &self.worker_id, until).await {
                        tracing::warn!(channel = %self.channel, error = %e, "could not extend the claims of a running batch");
                    }
                }
            }
        }
    }

    /// Pushes the claimed `rows` and ends them, recorded in `run`.
    async fn push_claimed(&self, run: &OpenRun, rows: Vec<ClaimedRow>, now: Timestamp) -> Result<BatchReport> {
        let run_id = run.id().await?;
        let reference = format!("gid://tillbridge/SyncRun/{run_id}");
        let ids: Vec<VariantId> = rows.iter().map(|r| r.variant_id).collect();
        let mut targets = self.storage.push_targets(self.channel, &ids).await?;
        let mut batch = Batch {
            now,
            rows: rows.iter().map(|r| (r.variant_id, *r)).collect(),
            outcomes: HashMap::new(),
            events: Vec::new(),
            pushed: Vec::new(),
            conflicts: Vec::new(),
            unchanged: HashSet::new(),
        };
        for row in &rows {
            if !targets.contains_key(&row.variant_id) {
                // The variant was deleted after the change was queued.
                batch.outcomes.insert(row.variant_id, RowOutcome::Pushed);
            }
        }
        let balances = self.storage.balances(self.channel, &ids).await?;
        self.link_missing(&mut targets, &mut batch).await?;
        let moved = self
            .push(&mut targets, &balances, &rows, &reference, &mut batch)
            .await?;
        if moved && let Some(pulls) = &self.pulls {
            pulls.request(self.channel, RunTrigger::StockChange);
        }

        self.storage.record_pushed(self.channel, &batch.pushed).await?;
        for c in &batch.conflicts {
            self.storage.open_conflict(self.channel, c).await?;
        }
        let finished: Vec<(ClaimedRow, RowOutcome)> = rows
            .iter()
            .map(|r| {
                let outcome = batch.outcomes.remove(&r.variant_id).unwrap_or(RowOutcome::Later {
                    retry_at: now,
                    reason: "not pushed in this batch".into(),
                });
                (*r, outcome)
            })
            .collect();
        let unchanged = finished
            .iter()
            .filter(|(r, o)| *o == RowOutcome::Pushed && batch.unchanged.contains(&r.variant_id))
            .count();
        let report = BatchReport {
            claimed: rows.len(),
            unchanged,
            pushed: finished.iter().filter(|(_, o)| *o == RowOutcome::Pushed).count() - unchanged,
            failed: finished
                .iter()
                .filter(|(_, o)| matches!(o, RowOutcome::Dead { .. }))
                .count(),
            retrying: finished
                .iter()
                .filter(|(_, o)| matches!(o, RowOutcome::RetryAt { .. } | RowOutcome::Later { .. }))
                .count(),
            awaiting_pull: finished
                .iter()
                .filter(|(_, o)| matches!(o, RowOutcome::AwaitPull { .. }))
                .count(),
        };
        let still_ours = self.storage.finish_outbox_at(&self.worker_id, &finished, now).await?;
        if still_ours < finished.len() as u64 {
            tracing::warn!(channel = %self.channel, lost = finished.len() as u64 - still_ours, "lost the lease on some pushes");
        }
        tracing::debug!(channel = %self.channel, ?report, "pushed a batch");
        if report.awaiting_pull > 0 {
            tracing::info!(channel = %self.channel, pushes = report.awaiting_pull, "figures moved in the channel: pushes wait for its orders");
        }
        run.record(&batch.events, &report, Part::Quantities).await?;
        Ok(report)
    }

    /// Links unlinked variants by SKU, creating products the channel lacks.
    async fn link_missing(&self, targets: &mut HashMap<VariantId, PushTarget>, batch: &mut Batch) -> Result<()> {
        let unlinked: Vec<PushTarget> = targets
            .values()
            .filter(|t| t.listing.external_inventory_item_id.is_none() && !batch.outcomes.contains_key(&t.variant_id))
            .cloned()
            .collect();
        if unlinked.is_empty() {
            return Ok(());
        }
        let skus: Vec<String> = unlinked.iter().map(|t| t.sku.clone()).collect();
        let found = match self.connector.find_by_sku(&skus).await {
            Ok(found) => found,
            Err(e) => {
                for t in &unlinked {
                    batch.fail(t, &e, None);
                }
                return Ok(());
            }
        };
        // Which of our products each channel product is already linked to.
        let external: Vec<String> = found.values().map(|f| f.product_id.clone()).collect();
        let mut linked_products = self.storage.owners_of_channel_products(self.channel, &external).await?;
        let mut links = Vec::new();
        let mut to_create: HashSet<ProductId> = HashSet::new();
        // Products with a SKU held by another product in the channel: creating
        // them would put that SKU there twice.
        let mut held_elsewhere: HashSet<ProductId> = HashSet::new();
        for t in &unlinked {
            match found.get(&t.sku) {
                Some(item) => match linked_products.get(&item.product_id) {
                    Some(owner) if *owner != t.product_id => {
                        held_elsewhere.insert(t.product_id);
                        batch.reject(
                            t,
                            ConflictKind::SkuElsewhere,
                            format!(
                                "SKU {} belongs to another product in the channel; not overwritten",
                                t.sku
                            ),
                            item.product_id.clone(),
                            None,
                        )
                    }
                    _ => {
                        linked_products.insert(item.product_id.clone(), t.product_id);
                        links.push(listing_for(t.variant_id, item, Figure::Read));
                    }
                },
                None => {
                    to_create.insert(t.product_id);
                }
            }
        }
        for product_id in to_create {
            let Some(product) = self.storage.get_product(product_id).await? else {
                continue;
            };
            let all: Vec<VariantId> = product.variants.iter().map(|v| v.id).collect();
            // Part of the product is in the channel already: creating it again
            // would duplicate those SKUs there. The missing variants wait for
            // a person (or a force sync) instead.
            if held_elsewhere.contains(&product_id)
                || self
                    .storage
                    .has_open_conflict(self.channel, product_id, ConflictKind::SkuElsewhere)
                    .await?
            {
                let waiting: Vec<&PushTarget> = unlinked
                    .iter()
                    .filter(|t| t.product_id == product_id && !batch.outcomes.contains_key(&t.variant_id))
                    .collect();
                for t in waiting {
                    let message = format!(
                        "{} waits: another SKU of {:?} is held by a different product in the channel; settle that conflict first",
                        t.sku, t.product_name
                    );
                    batch.reject(t, ConflictKind::UnknownSku, message, "missing".into(), None);
                }
                continue;
            }
            // Read afresh: another worker (a sync a person started, another
            // process) may have created the product since this batch was claimed.
            let fresh = self.storage.push_targets(self.channel, &all).await?;
            let linked_elsewhere = links.iter().any(|l| all.contains(&l.variant_id))
                || fresh.values().any(|t| t.listing.external_product_id.is_some());
            if linked_elsewhere {
                let just_linked = |t: &&PushTarget| links.iter().any(|l| l.variant_id == t.variant_id);
                for t in unlinked
                    .iter()
                    .filter(|t| t.product_id == product_id && !just_linked(t))
                {
                    // Created with the rest by that other worker: push to it.
                    if let Some(now_linked) = fresh
                        .get(&t.variant_id)
                        .filter(|f| f.listing.external_inventory_item_id.is_some())
                    {
                        targets.insert(t.variant_id, now_linked.clone());
                        continue;
                    }
                    let message = format!(
                        "{} is not in the channel, though other variants of {:?} are; add it there or run a force sync",
                        t.sku, t.product_name
                    );
                    batch.reject(t, ConflictKind::UnknownSku, message, "missing".into(), None);
                }
                continue;
            }
            let selling = self
                .storage
                .not_sold_online(self.channel, &[product_id])
                .await?
                .is_empty();
            let listing =
                ProductToList::from_detail(&product, &self.storage.balances(self.channel, &all).await?, selling);
            let in_batch: Vec<PushTarget> = unlinked
                .iter()
                .filter(|t| t.product_id == product_id)
                .cloned()
                .collect();
            // Creating products takes time: the batch's claims and this
            // product's creation lease count from now, not from the claim.
            let lease_until = Timestamp::from(self.clock.now().as_datetime() + LEASE);
            self.storage
                .extend_claims(self.channel, &self.worker_id, lease_until)
                .await?;
            // Another worker may be creating it this very moment: come back shortly.
            if !self
                .storage
                .lease_product_creation(self.channel, product_id, &self.worker_id, lease_until)
                .await?
            {
                let retry_at = Timestamp::from(batch.now.as_datetime() + chrono::TimeDelta::seconds(1));
                for t in &in_batch {
                    let reason = "the product is being created in the channel".to_owned();
                    batch
                        .outcomes
                        .insert(t.variant_id, RowOutcome::Later { retry_at, reason });
                }
                continue;
            }
            let created = self.connector.create_product(&listing).await;
            let external = created
                .as_ref()
                .ok()
                .and_then(|written| written.items.first())
                .map(|i| i.product_id.clone());
            self.storage
                .end_product_creation(self.channel, product_id, external.as_deref())
                .await?;
            if let Some(external) = &external {
                let written = super::written::Written::of(&listing).to_json();
                self.storage
                    .record_catalog_pushed(self.channel, product_id, external, &listing.content_hash(), &written)
                    .await?;
            }
            match created {
                Ok(created) => {
                    for f in &created.failed_images {
                        batch.conflicts.push(NewConflict {
                            kind: ConflictKind::PushRejected,
                            product_id: Some(product_id),
                            variant_id: None,
                            sku: None,
                            external_id: external.clone(),
                            ours: f.url.clone(),
                            theirs: "image not fetched".into(),
                            detail: format!(
                                "the channel could not fetch the image {}: {}; the product's other fields went through",
                                f.url, f.reason
                            ),
                        });
                    }
                    let made: Vec<NewListing> = created
                        .items
                        .iter()
                        .filter_map(|item| {
                            let v = listing.variants.iter().find(|v| v.sku == item.sku)?;
                            Some(listing_for(v.variant_id, item, Figure::Written))
                        })
                        .collect();
                    // Saved now, not at the batch's end: a slow channel's batch may
                    // outlast its lease, and a product made must never look missing.
                    self.storage.save_listings(self.channel, &made).await?;
                    links.extend(made);
                    if let Some(t) = in_batch.first() {
                        batch.event(t, "create product", None, None, EventResult::Succeeded, None);
                    }
                }
                Err(e) if e.is_retryable() => in_batch.iter().for_each(|t| batch.fail(t, &e, None)),
                Err(e) => {
                    for t in &in_batch {
                        batch.reject(t, ConflictKind::PushRejected, e.to_string(), "not created".into(), None);
                    }
                }
            }
        }
        self.storage.save_listings(self.channel, &links).await?;
        // Products found in the channel by SKU get their fields written like
        // products Tillbridge created (Tillbridge is the system of record).
        let linked: Vec<ProductId> = links
            .iter()
            .filter(|l| l.figure == Figure::Read)
            .filter_map(|l| targets.get(&l.variant_id).map(|t| t.product_id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !linked.is_empty() {
            self.storage.enqueue_catalog(&linked, Some(self.channel)).await?;
        }
        for link in links {
            if let Some(t) = targets.get_mut(&link.variant_id) {
                t.listing.external_product_id = Some(link.external_product_id);
                t.listing.external_variant_id = Some(link.external_variant_id);
                t.listing.external_inventory_item_id = Some(link.external_inventory_item_id);
                t.listing.last_seen_quantity = link.seen_quantity;
                match link.figure {
                    Figure::Written => {
                        t.listing.last_pushed_quantity = link.seen_quantity;
                        t.listing.last_pushed_at = Some(Timestamp::now());
                        t.listing.seen_at = None;
                    }
                    Figure::Read => t.listing.seen_at = Some(Timestamp::now()),
                }
            }
        }
        Ok(())
    }

    /// Pushes balances with compare-and-set. A figure that moved in the
    /// channel is read back, and a push that would then raise it waits for
    /// the channel's orders to be pulled (see [`decide`]). Returns whether
    /// some figure moved behind our back, so the caller asks for that pull.
    async fn push(
        &self,
        targets: &mut HashMap<VariantId, PushTarget>,
        balances: &HashMap<VariantId, i64>,
        rows: &[ClaimedRow],
        reference: &str,
        batch: &mut Batch,
    ) -> Result<bool> {
        let mut moved = false;
        let pulled_through = self.storage.pulled_through(self.channel).await?;
        let mut pending: Vec<VariantId> = rows
            .iter()
            .map(|r| r.variant_id)
            .filter(|v| !batch.outcomes.contains_key(v))
            .filter(|v| {
                targets
                    .get(v)
                    .is_some_and(|t| t.listing.external_inventory_item_id.is_some())
            })
            .collect();
        for round in 0..STALE_ROUNDS {
            let mut go = Vec::with_capacity(pending.len());
            // What explains each figure read in the channel, for the history.
            let mut notes: HashMap<VariantId, Story> = HashMap::new();
            for v in pending {
                let (Some(t), Some(&q)) = (targets.get(&v), balances.get(&v)) else {
                    go.push(v);
                    continue;
                };
                match decide(&t.listing, q, pulled_through) {
                    Decision::Skip => {
                        // Recorded as skipped, so a run's log and its items agree.
                        batch.event(
                            t,
                            "quantity",
                            Some(q),
                            Some(q),
                            EventResult::Skipped,
                            Some("already up to date in the channel".into()),
                        );
                        batch.unchanged.insert(v);
                        batch.outcomes.insert(v, RowOutcome::Pushed);
                    }
                    Decision::AwaitPull => {
                        moved = true;
                        let reason = format!(
                            "{} would go from {} to {q}, above what the channel shows, which may hold sales not pulled yet: \
                             waiting for the channel's orders",
                            t.sku,
                            show(t.listing.last_seen_quantity)
                        );
                        let since = t.listing.seen_at.unwrap_or_else(Timestamp::now);
                        batch.await_pull(t, q, since, reason);
                    }
                    Decision::Push => {
                        let Some(read_at) = t.listing.seen_at else {
                            go.push(v);
                            continue;
                        };
                        let story = self.explain(t, q, pulled_through).await?;
                        let raise = t.listing.last_seen_quantity.is_some_and(|seen| q > seen);
                        // Counted from the pulls, not the clock: a busy
                        // channel may list an order long after the read that
                        // saw its allocation, and only a pull that started
                        // SETTLE after the read has given it that time.
                        let settle_from = Timestamp::from(read_at.as_datetime() + SETTLE);
                        let settled = pulled_through.is_some_and(|p| p > settle_from);
                        if raise && story.unexplained_drop > 0 && !settled {
                            // Lower than its orders explain: an order the
                            // channel has not listed yet, or an edit. Pull
                            // again before taking it for an edit.
                            moved = true;
                            let reason = format!(
                                "{}; no order explains the channel's figure yet, so its orders are pulled again before it is overwritten",
                                story.text
                            );
                            batch.await_pull(t, q, settle_from, reason);
                        } else {
                            notes.insert(v, story);
                            go.push(v);
                        }
                    }
                }
            }
            pending = go;
            if pending.is_empty() {
                break;
            }
            let sets: Vec<QuantitySet> = pending
                .iter()
                .filter_map(|v| {
                    let t = targets.get(v)?;
                    Some(QuantitySet {
                        inventory_item_id: t.listing.external_inventory_item_id.clone()?,
                        quantity: balances.get(v).copied().unwrap_or(0),
                        change_from: t.listing.last_seen_quantity,
                    })
                })
                .collect();
            let key = idempotency_key(self.channel, rows, &sets, round);
            let results = match self.connector.set_quantities(&sets, &key, reference).await {
                Ok(r) => r,
                Err(e) => {
                    for (v, s) in pending.iter().zip(&sets) {
                        if let Some(t) = targets.get(v) {
                            batch.fail(t, &e, Some(s.quantity));
                        }
                    }
                    return Ok(moved);
                }
            };
            let mut again = Vec::new();
            for ((v, set), result) in pending.iter().zip(&sets).zip(results) {
                let Some(t) = targets.get_mut(v) else {
                    continue;
                };
                match result {
                    SetOutcome::Applied => {
                        let story = notes.remove(v);
                        if let Some(story) = story.as_ref().filter(|s| s.changed_in_channel) {
                            batch.conflicts.push(overwritten_edit(t, set.quantity, &story.text));
                        }
                        batch.event(
                            t,
                            "quantity",
                            t.listing.last_seen_quantity,
                            Some(set.quantity),
                            EventResult::Succeeded,
                            story.map(|s| s.text),
                        );
                        batch.pushed.push(PushedQuantity {
                            variant_id: *v,
                            quantity: set.quantity,
                        });
                        batch.outcomes.insert(*v, RowOutcome::Pushed);
                    }
                    SetOutcome::Stale { current } if current == Some(set.quantity) => {
                        // The channel shows our figure already: an earlier
                        // attempt landed, or a sale we pulled and applied
                        // before this push moved it there. Nothing to raise,
                        // so nothing to pull for.
                        batch.event(
                            t,
                            "quantity",
                            Some(set.quantity),
                            Some(set.quantity),
                            EventResult::Skipped,
                            Some("the channel showed this figure already".into()),
                        );
                        batch.pushed.push(PushedQuantity {
                            variant_id: *v,
                            quantity: set.quantity,
                        });
                        batch.unchanged.insert(*v);
                        batch.outcomes.insert(*v, RowOutcome::Pushed);
                    }
                    SetOutcome::Stale { current: None } => {
                        // Moved, and its figure could not be read back: never
                        // push without a figure to compare with.
                        let e =
                            ConnectorError::Transient("the channel's figure moved and could not be read back".into());
                        let target = t.clone();
                        batch.fail(&target, &e, Some(set.quantity));
                    }
                    SetOutcome::Stale { current } => {
                        moved = true;
                        let message = format!(
                            "the channel showed {}, we expected {}: {} → {} not applied; its orders are pulled before pushing again",
                            show(current),
                            show(t.listing.last_seen_quantity),
                            show(t.listing.last_seen_quantity),
                            set.quantity
                        );
                        batch.event(
                            t,
                            "quantity",
                            t.listing.last_seen_quantity,
                            current,
                            EventResult::Skipped,
                            Some(message),
                        );
                        if let Some(c) = current {
                            self.storage.record_seen(self.channel, *v, c).await?;
                        }
                        t.listing.last_seen_quantity = current;
                        t.listing.seen_at = Some(Timestamp::now());
                        again.push(*v);
                    }
                    SetOutcome::Rejected { code, message } => {
                        let text = format!("{code}: {message}");
                        let theirs = code.clone();
                        let target = t.clone();
                        batch.reject(&target, ConflictKind::PushRejected, text, theirs, Some(set.quantity));
                    }
                }
            }
            pending = again;
        }
        for v in pending {
            if let Some(t) = targets.get(&v) {
                let e = ConnectorError::Transient("the channel's figure kept changing during the push".into());
                batch.fail(t, &e, balances.get(&v).copied());
            }
        }
        Ok(moved)
    }

    /// The story of a figure read in the channel, told when we push over it:
    /// what we expected, the channel's orders pulled since, and what is left
    /// unexplained (a change made in the channel, which we overwrite).
    async fn explain(&self, t: &PushTarget, quantity: i64, pulled_through: Option<Timestamp>) -> Result<Story> {
        let seen = show(t.listing.last_seen_quantity);
        let (Some(expected), Some(since)) = (t.listing.last_pushed_quantity, t.listing.last_pushed_at) else {
            return Ok(Story {
                text: format!(
                    "linked to the channel's item, which showed {seen}: Tillbridge's figure replaces it, {seen} → {quantity}"
                ),
                changed_in_channel: false,
                unexplained_drop: 0,
            });
        };
        let orders = self
            .storage
            .orders_taken_since(self.channel, t.variant_id, since)
            .await?;
        let taken: i64 = orders.iter().map(|(_, n)| n).sum();
        let listed = orders
            .iter()
            .map(|(reference, n)| format!("{reference} ({n} units)"))
            .collect::<Vec<_>>()
            .join(", ");
        let current = t.listing.last_seen_quantity.unwrap_or(expected);
        let unexplained = expected - taken - current;
        let edit = format!(
            "{} {} by a change made in the channel, overwritten as Tillbridge is the system of record",
            if unexplained > 0 { "lowered" } else { "raised" },
            unexplained.abs()
        );
        let text = match (orders.is_empty(), unexplained) {
            (true, 0) => format!("the channel showed {seen}, as expected: {seen} → {quantity}"),
            (false, 0) => format!(
                "the channel showed {seen}, we expected {expected}: {listed} pulled first, then {seen} → {quantity}"
            ),
            (true, _) => format!(
                "the channel showed {seen}, we expected {expected}: no order explains it, {edit}; {seen} → {quantity}"
            ),
            (false, _) => format!(
                "the channel showed {seen}, we expected {expected}: {listed} pulled first, and {edit}; {seen} → {quantity}"
            ),
        };
        // Only once a pull has covered the read can a difference be no
        // order's; before, it may be a sale not pulled yet.
        let covered = matches!((pulled_through, t.listing.seen_at), (Some(p), Some(r)) if p > r);
        Ok(Story {
            text,
            changed_in_channel: unexplained != 0 && covered,
            unexplained_drop: unexplained.max(0),
        })
    }
}

/// What to do with one balance: the decision of DESIGN section 4's "no
/// un-selling". Tillbridge raises a channel's figure only when its own
/// balance for that channel rose. Lowering is always safe. Raising a figure
/// we wrote ourselves (and compare-and-set proves the channel still shows
/// it) means the balance rose since that push: orders only lower it. A
/// figure read in the channel (a linked item, a compare-and-set that found
/// it moved) may hold web sales not pulled yet, so a push above it waits
/// until a pull of the channel's orders that started after the read has
/// been applied; the balance then knows those sales, and what is still
/// above the channel's figure is our stock rising or a change made in the
/// channel, which the hub overwrites.
fn decide(listing: &ListingIds, balance: i64, pulled_through: Option<Timestamp>) -> Decision {
    match (listing.last_seen_quantity, listing.seen_at) {
        (Some(seen), _) if seen == balance => Decision::Skip,
        (Some(seen), Some(read_at)) if balance > seen => {
            if pulled_through.is_some_and(|pulled| pulled > read_at) {
                Decision::Push
            } else {
                Decision::AwaitPull
            }
        }
        _ => Decision::Push,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// The channel shows the balance already.
    Skip,
    Push,
    AwaitPull,
}

/// Why a figure read in the channel differs from what we last pushed.
struct Story {
    text: String,
    /// Some of the difference is no order's, though a pull covered the
    /// read: a change made in the channel.
    changed_in_channel: bool,
    /// How far the channel's figure is below what we last pushed less the
    /// orders applied since (0 if not below).
    unexplained_drop: i64,
}

/// A change made in the channel that no order explains, overwritten: listed
/// for a person to see, as DESIGN's conflicts ask.
fn overwritten_edit(t: &PushTarget, quantity: i64, story: &str) -> NewConflict {
    NewConflict {
        kind: ConflictKind::ChangedInChannel,
        product_id: Some(t.product_id),
        variant_id: Some(t.variant_id),
        sku: Some(t.sku.clone()),
        external_id: t.listing.external_inventory_item_id.clone(),
        ours: format!("quantity {quantity}"),
        theirs: show(t.listing.last_seen_quantity),
        detail: story.to_owned(),
    }
}

fn show(q: Option<i64>) -> String {
    q.map_or_else(|| "unknown".into(), |q| q.to_string())
}

pub(super) fn listing_for(variant_id: VariantId, item: &FoundItem, figure: Figure) -> NewListing {
    NewListing {
        variant_id,
        external_product_id: item.product_id.clone(),
        external_variant_id: item.variant_id.clone(),
        external_inventory_item_id: item.inventory_item_id.clone(),
        seen_quantity: item.quantity,
        figure,
    }
}

/// The same claim (rows at their versions) sending the same figures gets the
/// same key, so a retried call is applied once; anything newer gets a new one.
fn idempotency_key(channel: ChannelId, rows: &[ClaimedRow], sets: &[QuantitySet], round: usize) -> String {
    let mut h = Sha256::new();
    h.update(format!("tillbridge:{channel}:{round}").as_bytes());
    let mut versions: Vec<(i64, i64)> = rows.iter().map(|r| (r.id, r.version)).collect();
    versions.sort_unstable();
    for (id, version) in versions {
        h.update(format!("|{id}@{version}").as_bytes());
    }
    for s in sets {
        h.update(format!("|{}={}<{:?}", s.inventory_item_id, s.quantity, s.change_from).as_bytes());
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, version: i64) -> ClaimedRow {
        ClaimedRow {
            id,
            channel_id: ChannelId::new(1),
            variant_id: VariantId::new(id),
            version,
            attempts: 1,
        }
    }

    fn listing(seen: Option<i64>, read_at: Option<Timestamp>) -> ListingIds {
        ListingIds {
            external_product_id: Some("p".into()),
            external_variant_id: Some("v".into()),
            external_inventory_item_id: Some("i".into()),
            last_seen_quantity: seen,
            last_pushed_quantity: Some(10),
            last_pushed_at: None,
            seen_at: read_at,
        }
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from(chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::seconds(1_000_000 + seconds))
    }

    #[test]
    fn a_figure_we_wrote_is_raised_when_our_balance_rose_and_lowered_at_once() {
        let ours = listing(Some(10), None);
        assert_eq!(decide(&ours, 10, None), Decision::Skip, "the channel shows it already");
        assert_eq!(
            decide(&ours, 14, None),
            Decision::Push,
            "stock received: the balance rose"
        );
        assert_eq!(decide(&ours, 7, None), Decision::Push, "lowering is always safe");
    }

    #[test]
    fn a_figure_read_in_the_channel_is_raised_only_after_a_pull_that_started_after_the_read() {
        let read = listing(Some(8), Some(at(0)));
        assert_eq!(decide(&read, 7, None), Decision::Push, "lowering needs no pull");
        assert_eq!(decide(&read, 8, Some(at(-5))), Decision::Skip);
        assert_eq!(decide(&read, 9, None), Decision::AwaitPull, "never pulled");
        assert_eq!(
            decide(&read, 9, Some(at(-1))),
            Decision::AwaitPull,
            "a pull that started before the read may not hold the sale behind it"
        );
        assert_eq!(
            decide(&read, 9, Some(at(0))),
            Decision::AwaitPull,
            "nor one started with it"
        );
        assert_eq!(
            decide(&read, 9, Some(at(1))),
            Decision::Push,
            "the orders behind the figure are in the balance"
        );
    }

    #[test]
    fn an_item_not_stocked_at_the_channel_location_is_pushed() {
        assert_eq!(decide(&listing(None, Some(at(0))), 5, None), Decision::Push);
    }

    #[test]
    fn idempotency_keys_change_with_versions_and_figures_only() {
        let sets = vec![QuantitySet {
            inventory_item_id: "a".into(),
            quantity: 3,
            change_from: Some(5),
        }];
        let k = idempotency_key(ChannelId::new(1), &[row(1, 1), row(2, 4)], &sets, 0);
        assert_eq!(
            k,
            idempotency_key(ChannelId::new(1), &[row(2, 4), row(1, 1)], &sets, 0),
            "order does not matter"
        );
        assert_ne!(
            k,
            idempotency_key(ChannelId::new(1), &[row(1, 2), row(2, 4)], &sets, 0),
            "a newer version"
        );
        let other = vec![QuantitySet {
            inventory_item_id: "a".into(),
            quantity: 2,
            change_from: Some(5),
        }];
        assert_ne!(
            k,
            idempotency_key(ChannelId::new(1), &[row(1, 1), row(2, 4)], &other, 0),
            "another figure"
        );
        assert_eq!(k.len(), 64);
    }
}
