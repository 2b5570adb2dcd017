//! Orders in: pull a channel's orders from its checkpoint and make stock at
//! its order outlet agree with each order's latest state. Applying is
//! state-based (each line takes exactly what it now holds from stock), so a
//! duplicate, a replay or an update that arrives before its create changes
//! nothing twice; a cancelled order or a removed line gives its stock back.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::connector::{AnyConnector, ChannelOrder, Connector};
use crate::domain::{
    Actor, ChannelId, Currency, DomainError, Money, MovementReason, OutletCode, Sku, StockChange, Timestamp,
};
use crate::storage::{
    ChannelConfig, ConflictKind, EventResult, IdempotencyKey, MovementInput, NewConflict, NewEvent, NewProduct,
    NewVariant, OrderLineToSave, OrderToSave, RunCause, RunKind, RunTrigger, Storage,
};
use crate::vault::Vault;
use crate::{Error, Result};

/// How far before the checkpoint a pull starts again. The checkpoint is the
/// newest `updated_at` the channel sent, but a channel's order search may
/// show an order a little after its `updated_at`. A pull asked for by an
/// event (a webhook, a push that found a figure moved, a sign-in) looks back
/// 10 s: during a rush of orders it runs every half second, and reading the
/// same orders again would spend the channel's rate limit; a pull on the
/// schedule, at start-up or from a button sweeps two minutes back.
fn overlap(trigger: RunTrigger) -> chrono::TimeDelta {
    if is_event(trigger) {
        chrono::TimeDelta::seconds(10)
    } else {
        chrono::TimeDelta::minutes(2)
    }
}

/// A pull asked for by an event rather than by the schedule, a start-up or
/// a person.
pub(crate) fn is_event(trigger: RunTrigger) -> bool {
    matches!(
        trigger,
        RunTrigger::Webhook | RunTrigger::StockChange | RunTrigger::SignIn
    )
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullSummary {
    pub channel: String,
    /// Orders the channel returned (the overlap included).
    pub seen: usize,
    /// Orders whose stock effect changed now.
    pub applied: usize,
    /// Older states of orders already applied from a newer one.
    pub stale: usize,
    pub movements: usize,
    pub products_created: usize,
    pub conflicts: usize,
    /// Orders updated before this could not be read: a gap to reconcile.
    pub gap_before: Option<Timestamp>,
}

impl PullSummary {
    pub fn log(&self) -> String {
        let mut log = format!(
            "orders of {:?}: {} seen, {} applied, {} stale, {} stock movements, {} products created, {} conflicts",
            self.channel, self.seen, self.applied, self.stale, self.movements, self.products_created, self.conflicts
        );
        if let Some(gap) = self.gap_before {
            log.push_str(&format!(
                "; orders updated before {gap} are beyond what the channel lets us read: reconcile them by hand"
            ));
        }
        log
    }
}

/// What applying one order did.
#[derive(Debug, Default)]
struct Applied {
    stale: bool,
    movements: usize,
    products_created: usize,
    conflicts: Vec<NewConflict>,
}

/// Pulls `config`'s orders since its checkpoint and applies them. A failed
/// pull leaves the checkpoint where it was; an order that cannot be applied
/// becomes a conflict and the orders after it go on.
pub async fn pull_orders(
    storage: &Storage,
    vault: &Vault,
    config: &ChannelConfig,
    cause: &RunCause,
) -> Result<PullSummary> {
    let connector = AnyConnector::for_channel(storage, vault, config).map_err(|e| Error::Conflict(e.to_string()))?;
    // Pushes waiting for this pull wait for one that started after their
    // figure was read: this one, if it succeeds.
    let started = Timestamp::now();
    let run = storage
        .start_run(Some(config.id), RunKind::PullOrders, cause.trigger, &cause.who)
        .await?;
    let trigger = cause.trigger;
    // Without an outlet to take them from, orders cannot be applied: say so
    // before spending the channel's rate limit on reading them.
    let outlet = match order_outlet(storage, config).await {
        Ok(o) => o,
        Err(e) => {
            storage.finish_run(run, 0, 1, &e.to_string()).await?;
            return Err(e);
        }
    };
    if !is_event(trigger) {
        storage.record_sweep(config.id).await?;
    }
    let checkpoint = storage.orders_checkpoint(config.id).await?;
    let since = checkpoint.map(|c| Timestamp::from(c.as_datetime() - overlap(trigger)));
    let known = storage.applied_order_states(config.id, since).await?;
    let pulled = match connector.pull_orders(since, &known).await {
        Ok(p) => p,
        Err(e) => {
            let log = format!("cannot read the orders of {:?}: {e}", config.name);
            // The attempt counts for the schedule; the checkpoint stays.
            storage.advance_orders_checkpoint(config.id, None).await?;
            storage.finish_run(run, 0, 1, &log).await?;
            return Err(Error::Conflict(log));
        }
    };
    let mut summary = PullSummary {
        channel: config.name.clone(),
        seen: pulled.orders.len() + pulled.unchanged,
        gap_before: pulled.unreadable_before,
        ..PullSummary::default()
    };
    let mut orders = pulled.orders;
    orders.sort_by_key(|o| o.updated_at);
    let mut events = Vec::new();
    // The checkpoint never passes what the channel listed: an order read
    // later than it was listed may be newer than one not listed at all.
    let read_through = orders.last().map(|o| o.updated_at);
    let newest = match (read_through, pulled.listed_through) {
        (Some(read), Some(listed)) => checkpoint.max(Some(read.min(listed))),
        (read, _) => checkpoint.max(read),
    };
    for order in &orders {
        match apply_order(storage, config, &outlet, order, pulled.listed_through).await {
            Ok(applied) => {
                summary.stale += usize::from(applied.stale);
                summary.movements += applied.movements;
                summary.products_created += applied.products_created;
                if applied.movements > 0 {
                    summary.applied += 1;
                    events.push(order_event(order, EventResult::Succeeded, None));
                }
                for c in &applied.conflicts {
                    storage.open_conflict(config.id, c).await?;
                    summary.conflicts += 1;
                }
            }
            Err(e) => {
                // This order waits for a person; the ones after it go on.
                let message = format!("order {} could not be applied: {e}", order.number);
                storage
                    .open_conflict(
                        config.id,
                        &NewConflict {
                            kind: ConflictKind::UnknownSku,
                            product_id: None,
                            variant_id: None,
                            sku: Some(format!("order {}", order.number)),
                            external_id: Some(order.external_id.clone()),
                            ours: String::new(),
                            theirs: format!("order {}", order.number),
                            detail: message.clone(),
                        },
                    )
                    .await?;
                summary.conflicts += 1;
                events.push(order_event(order, EventResult::Failed, Some(message)));
            }
        }
    }
    if let Some(gap) = summary.gap_before {
        events.push(NewEvent {
            product_id: None,
            variant_id: None,
            action: "orders gap".into(),
            before: checkpoint.map(|c| c.to_string()),
            after: Some(gap.to_string()),
            result: EventResult::Failed,
            error: Some(format!(
                "the last pull was before {gap}; the channel shows an app only its last 60 days of orders, so orders updated in between must be reconciled by hand"
            )),
            attempt: 1,
        });
    }
    storage
        .record_events(Some(run), Some(config.id), &cause.who, &events)
        .await?;
    storage.advance_orders_checkpoint(config.id, newest).await?;
    storage.orders_pulled(config.id, started).await?;
    let failed = (summary.conflicts + usize::from(summary.gap_before.is_some())) as i64;
    storage
        .finish_run(run, summary.applied as i64, failed, &summary.log())
        .await?;
    Ok(summary)
}

fn order_event(order: &ChannelOrder, result: EventResult, error: Option<String>) -> NewEvent {
    NewEvent {
        product_id: None,
        variant_id: None,
        action: "order".into(),
        before: Some(order.number.clone()),
        after: Some(if order.cancelled {
            "cancelled".into()
        } else {
            "placed".into()
        }),
        result,
        error,
        attempt: 1,
    }
}

async fn order_outlet(storage: &Storage, config: &ChannelConfig) -> Result<OutletCode> {
    let id = config.order_outlet_id.ok_or_else(|| {
        DomainError::new(
            "order_outlet",
            format!("{} has no outlet that takes its orders", config.name),
        )
    })?;
    let outlets = storage.list_outlets().await?;
    outlets
        .into_iter()
        .find(|o| o.id == id)
        .map(|o| o.code)
        .ok_or_else(|| Error::NotFound(format!("outlet {}", id.get())))
}

/// Makes stock agree with `order` as it now stands.
async fn apply_order(
    storage: &Storage,
    config: &ChannelConfig,
    outlet: &OutletCode,
    order: &ChannelOrder,
    read_through: Option<Timestamp>,
) -> Result<Applied> {
    let mut applied = Applied::default();
    let stored = storage.stored_order(config.id, &order.external_id).await?;
    if let Some(s) = &stored
        && order.updated_at < s.channel_updated_at
    {
        applied.stale = true;
        return Ok(applied);
    }
    let before = |line: &str| stored.as_ref().and_then(|s| s.applied.get(line)).map_or(0, |(_, n)| *n);
    let reference = format!("{} order {}", config.name, order.number);
    let mut movements = Vec::new();
    let mut lines = Vec::new();
    let mut seen_lines = HashSet::new();
    // Variants this state of the order takes more of: checked for an oversell.
    let mut took = Vec::new();
    for line in &order.lines {
        seen_lines.insert(line.external_id.as_str());
        let was = before(&line.external_id);
        let target = if order.cancelled { 0 } else { line.quantity.max(0) };
        let sku = match Sku::parse(&line.sku) {
            Ok(sku) => sku,
            Err(e) => {
                applied.conflicts.push(NewConflict {
                    kind: ConflictKind::UnknownSku,
                    product_id: None,
                    variant_id: None,
                    sku: Some(line.sku.clone()),
                    external_id: Some(line.external_id.clone()),
                    ours: "no product".into(),
                    theirs: format!("{} × {}", line.quantity, line.title),
                    detail: format!(
                        "order {}: the line {:?} has no usable SKU ({}); stock was not changed for it",
                        order.number, line.title, e.message
                    ),
                });
                lines.push(line_to_save(line, None, was));
                continue;
            }
        };
        let variant = match storage
            .variant_ids_by_sku(std::slice::from_ref(&sku))
            .await?
            .get(sku.as_str())
        {
            Some(v) => *v,
            None => {
                // Seed 000: an item made in the channel enters Tillbridge
                // when it is first ordered.
                create_from_line(storage, order, line, &sku).await?;
                applied.products_created += 1;
                *storage
                    .variant_ids_by_sku(std::slice::from_ref(&sku))
                    .await?
                    .get(sku.as_str())
                    .ok_or_else(|| Error::NotFound(format!("the product just made for {sku}")))?
            }
        };
        if target > was {
            took.push((variant, sku.as_str().to_owned(), line.external_id.clone(), target - was));
        }
        if target != was {
            movements.push(MovementInput {
                sku: sku.clone(),
                outlet: outlet.clone(),
                change: StockChange::delta(was - target)?,
                reason: MovementReason::ChannelOrder,
                reference: reference.clone(),
                note: if order.cancelled {
                    "order cancelled".into()
                } else {
                    line.title.clone()
                },
            });
        }
        lines.push(line_to_save(line, Some(variant), target));
    }
    // Lines gone from the order give back what they took.
    if let Some(s) = &stored {
        for (id, (sku, n)) in &s.applied {
            if seen_lines.contains(id.as_str()) || *n == 0 {
                continue;
            }
            let Ok(sku) = Sku::parse(sku) else { continue };
            movements.push(MovementInput {
                sku: sku.clone(),
                outlet: outlet.clone(),
                change: StockChange::delta(*n)?,
                reason: MovementReason::ChannelOrder,
                reference: reference.clone(),
                note: "line removed from the order".into(),
            });
            lines.push(OrderLineToSave {
                external_id: id.clone(),
                sku: sku.as_str().to_owned(),
                variant_id: None,
                quantity: 0,
                applied_quantity: 0,
                price_minor: 0,
            });
        }
    }
    if !movements.is_empty() {
        // Crash between the movements and saving the order: the next pull
        // computes the same movements, and the key makes them apply once.
        let key = movements_key(config.id, order, &movements);
        storage
            .apply_movements(&Actor::Channel(config.id), &movements, Some(&key))
            .await?;
        applied.movements = movements.len();
        applied.conflicts.extend(oversold(storage, config, order, &took).await?);
    }
    storage
        .save_order(
            config.id,
            &OrderToSave {
                external_id: order.external_id.clone(),
                number: order.number.clone(),
                cancelled: order.cancelled,
                currency: order.currency.clone(),
                total_minor: order.total_minor,
                placed_at: order.placed_at,
                updated_at: order.updated_at,
                read_through,
                lines,
            },
        )
        .await?;
    Ok(applied)
}

/// Two channels may sell the last unit at the same moment: both orders are
/// applied (they happened), and where the channel's outlets now hold less
/// than nothing the order is flagged for a person, never accepted silently.
async fn oversold(
    storage: &Storage,
    config: &ChannelConfig,
    order: &ChannelOrder,
    took: &[(crate::domain::VariantId, String, String, i64)],
) -> Result<Vec<NewConflict>> {
    if took.is_empty() {
        return Ok(Vec::new());
    }
    let outlets = storage.channel_outlets(config.id).await?;
    let ids: Vec<crate::domain::VariantId> = took.iter().map(|(v, ..)| *v).collect();
    let on_hand = storage.on_hand_of(&ids).await?;
    Ok(took
        .iter()
        .filter_map(|(variant, sku, line, n)| {
            let left: i64 = outlets.iter().filter_map(|o| on_hand.get(&(*variant, *o))).sum();
            (left < 0).then(|| NewConflict {
                kind: ConflictKind::ChangedInChannel,
                product_id: None,
                variant_id: Some(*variant),
                // Its own conflict, not merged with a push's on the same SKU.
                sku: Some(format!("order {} {sku}", order.number)),
                external_id: Some(line.clone()),
                ours: format!("{} on hand after the order", left),
                theirs: format!("order {} sold {n}", order.number),
                detail: format!(
                    "oversold: order {} of {:?} sold {n} × {sku}, more than the stock left in the channel's outlets (now {left}); \
                     cancel or refund it in the channel, or count the stock",
                    order.number, config.name
                ),
            })
        })
        .collect())
}

fn line_to_save(
    line: &crate::connector::ChannelOrderLine,
    variant: Option<crate::domain::VariantId>,
    applied: i64,
) -> OrderLineToSave {
    OrderLineToSave {
        external_id: line.external_id.clone(),
        sku: line.sku.clone(),
        variant_id: variant,
        quantity: line.quantity.max(0),
        applied_quantity: applied,
        price_minor: line.price_minor,
    }
}

fn movements_key(channel: ChannelId, order: &ChannelOrder, movements: &[MovementInput]) -> IdempotencyKey {
    let mut h = Sha256::new();
    // Each state of the order is its own request; a replay of one is not.
    h.update(order.updated_at.to_string().as_bytes());
    for m in movements {
        h.update(format!("{}|{}|{:?}\n", m.sku.as_str(), m.outlet.as_str(), m.change).as_bytes());
    }
    let digest = hex::encode(h.finalize());
    IdempotencyKey {
        key: format!("order:{}:{}:{}", channel.get(), order.external_id, &digest[..16]),
        request_hash: digest,
    }
}

/// A product made from an order line whose SKU Tillbridge did not know.
async fn create_from_line(
    storage: &Storage,
    order: &ChannelOrder,
    line: &crate::connector::ChannelOrderLine,
    sku: &Sku,
) -> Result<()> {
    let currency = Currency::parse(&order.currency)?;
    let name = match line.title.trim() {
        "" => sku.as_str().to_owned(),
        title => title.to_owned(),
    };
    storage
        .create_products(&[NewProduct {
            name,
            active: true,
            variants: vec![NewVariant {
                sku: sku.clone(),
                barcode: None,
                option_values: Vec::new(),
                price: Money::new(line.price_minor.max(0), currency),
                weight_grams: None,
                dimensions_mm: None,
            }],
            ..NewProduct::default()
        }])
        .await?;
    Ok(())
}
