//! The mutations' business rules, as shopify.dev and the captured live
//! responses describe them. Each returns a payload (rendered by the
//! executor from the client's selection) or a top-level error.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use serde_json::{Map, Value as J};

use super::AppliedSet;
use super::media;
use super::store::{
    Change, Group, IdemRecord, Item, Level, Product, ProductOption, SetOperation, Store, Variant, Webhook,
    normalize_money, now_instant, parse_gid,
};

#[derive(Debug, Clone, PartialEq)]
pub struct UserErr {
    pub field: Option<Vec<String>>,
    pub message: String,
    pub code: Option<String>,
}

impl UserErr {
    pub fn new(field: &[&str], message: impl Into<String>, code: Option<&str>) -> UserErr {
        UserErr {
            field: Some(field.iter().map(|s| (*s).to_owned()).collect()),
            message: message.into(),
            code: code.map(str::to_owned),
        }
    }

    fn at(field: Vec<String>, message: impl Into<String>, code: Option<&str>) -> UserErr {
        UserErr {
            field: Some(field),
            message: message.into(),
            code: code.map(str::to_owned),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    SetQuantities {
        group: Option<u64>,
        errors: Vec<UserErr>,
    },
    Activate {
        level: Option<(u64, u64)>,
        errors: Vec<UserErr>,
    },
    ProductSet {
        product: Option<u64>,
        operation: Option<u64>,
        errors: Vec<UserErr>,
    },
    WebhookCreate {
        subscription: Option<u64>,
        errors: Vec<UserErr>,
    },
    ProductUpdate {
        product: Option<u64>,
        errors: Vec<UserErr>,
    },
    ProductDelete {
        deleted: Option<u64>,
        operation: Option<u64>,
        errors: Vec<UserErr>,
    },
}

impl Payload {
    pub fn has_errors(&self) -> bool {
        match self {
            Payload::SetQuantities { errors, .. }
            | Payload::Activate { errors, .. }
            | Payload::ProductSet { errors, .. }
            | Payload::WebhookCreate { errors, .. }
            | Payload::ProductUpdate { errors, .. }
            | Payload::ProductDelete { errors, .. } => !errors.is_empty(),
        }
    }
}

/// A top-level error answered with `data: {field: null}`.
#[derive(Debug, Clone)]
pub struct TopError {
    pub message: String,
    pub code: &'static str,
    /// Whether the variable definition's location is listed too.
    pub with_variable_location: bool,
}

pub const REASONS: [&str; 17] = [
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_canceled",
    "movement_created",
    "movement_received",
    "movement_updated",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
];

const QUANTITY_LIMIT: i64 = 1_000_000_000;

fn s<'a>(m: &'a Map<String, J>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(J::as_str)
}

fn i(m: &Map<String, J>, k: &str) -> Option<i64> {
    m.get(k).and_then(J::as_i64)
}

fn obj<'a>(m: &'a Map<String, J>, k: &str) -> Option<&'a Map<String, J>> {
    m.get(k).and_then(J::as_object)
}

fn arr<'a>(m: &'a Map<String, J>, k: &str) -> Option<&'a Vec<J>> {
    m.get(k).and_then(J::as_array)
}

/// Outcome of a replay check for an `@idempotent` mutation.
pub enum Idem {
    Fresh,
    Replay(Payload),
    Mismatch,
    PreviouslyFailed,
}

pub fn idempotency_check(store: &Store, key: &str, field: &str, fingerprint: &str) -> Idem {
    match store.idempotency.get(key) {
        None => Idem::Fresh,
        Some(r) if r.field != field || r.fingerprint != fingerprint => Idem::Mismatch,
        Some(r) if r.failed => Idem::PreviouslyFailed,
        Some(r) => Idem::Replay(r.outcome.clone()),
    }
}

pub fn remember(store: &mut Store, key: &str, field: &str, fingerprint: &str, outcome: &Payload) {
    store.idempotency.insert(
        key.to_owned(),
        IdemRecord {
            field: field.to_owned(),
            fingerprint: fingerprint.to_owned(),
            outcome: outcome.clone(),
            failed: outcome.has_errors(),
        },
    );
}

/// `inventorySetQuantities`, after the directive and argument checks.
pub fn set_quantities(store: &mut Store, input: &Map<String, J>, modern: bool, key: Option<&str>) -> Payload {
    let mut errors = Vec::new();
    let name = s(input, "name").unwrap_or_default().to_owned();
    let reason = s(input, "reason").unwrap_or_default().to_owned();
    let reference = s(input, "referenceDocumentUri").map(str::to_owned);
    if name != "available" && name != "on_hand" {
        errors.push(UserErr::new(
            &["input", "name"],
            "The quantity name must be either 'available' or 'on_hand'.",
            Some("INVALID_NAME"),
        ));
    }
    if !REASONS.contains(&reason.as_str()) {
        errors.push(UserErr::new(
            &["input", "reason"],
            format!(
                "The specified reason is invalid. Valid values are: {}.",
                REASONS.join(", ")
            ),
            Some("INVALID_REASON"),
        ));
    }
    if let Some(uri) = &reference
        && !valid_uri(uri)
    {
        errors.push(UserErr::new(
            &["input", "referenceDocumentUri"],
            "The specified reference document is invalid.",
            Some("INVALID_REFERENCE_DOCUMENT"),
        ));
    }
    let ignore_compare = input.get("ignoreCompareQuantity").and_then(J::as_bool).unwrap_or(false);
    let empty = Vec::new();
    let quantities = arr(input, "quantities").unwrap_or(&empty);
    let mut pairs: HashMap<(String, String), Vec<usize>> = HashMap::new();
    let mut resolved: Vec<Option<(u64, u64)>> = Vec::new();
    let mut compare_required = false;
    let mut stale = 0usize;
    for (idx, q) in quantities.iter().enumerate() {
        let empty_map = Map::new();
        let q = q.as_object().unwrap_or(&empty_map);
        let at = |leaf: &str| {
            vec![
                "input".to_owned(),
                "quantities".to_owned(),
                idx.to_string(),
                leaf.to_owned(),
            ]
        };
        let item_gid = s(q, "inventoryItemId").unwrap_or_default();
        let loc_gid = s(q, "locationId").unwrap_or_default();
        pairs
            .entry((item_gid.to_owned(), loc_gid.to_owned()))
            .or_default()
            .push(idx);
        let item = parse_gid(item_gid, "InventoryItem").filter(|id| store.items.contains_key(id));
        let loc = parse_gid(loc_gid, "Location").filter(|id| store.locations.contains_key(id));
        if item.is_none() {
            errors.push(UserErr::at(
                at("inventoryItemId"),
                "The specified inventory item could not be found.",
                Some("INVALID_INVENTORY_ITEM"),
            ));
        }
        if loc.is_none() {
            errors.push(UserErr::at(
                at("locationId"),
                "The specified location could not be found.",
                Some("INVALID_LOCATION"),
            ));
        }
        let quantity = i(q, "quantity").unwrap_or_default();
        if name == "on_hand" && quantity < 0 {
            errors.push(UserErr::at(
                at("quantity"),
                "The quantity can't be negative.",
                Some("INVALID_QUANTITY_NEGATIVE"),
            ));
        } else if quantity > QUANTITY_LIMIT {
            errors.push(UserErr::at(
                at("quantity"),
                "The quantity can't be higher than 1,000,000,000.",
                Some("INVALID_QUANTITY_TOO_HIGH"),
            ));
        } else if quantity < -QUANTITY_LIMIT {
            errors.push(UserErr::at(
                at("quantity"),
                "The quantity can't be lower than -1,000,000,000.",
                Some("INVALID_QUANTITY_TOO_LOW"),
            ));
        }
        let mut pair = None;
        if let (Some(item), Some(loc)) = (item, loc) {
            match store.items[&item].levels.get(&loc).filter(|l| l.active) {
                None => errors.push(UserErr::at(
                    at("locationId"),
                    "The specified inventory item is not stocked at the location.",
                    Some("ITEM_NOT_STOCKED_AT_LOCATION"),
                )),
                Some(level) if name == "available" || name == "on_hand" => {
                    pair = Some((item, loc));
                    let current = level.quantity(&name);
                    if modern {
                        if let Some(expected) = i(q, "changeFromQuantity")
                            && expected != current
                        {
                            stale += 1;
                            store
                                .stale_log
                                .push(format!("item {item}: changeFrom {expected}, found {current}"));
                            errors.push(UserErr::at(
                                at("changeFromQuantity"),
                                "The changeFromQuantity argument no longer matches the persisted quantity.",
                                Some("CHANGE_FROM_QUANTITY_STALE"),
                            ));
                        }
                    } else {
                        let change_from = q.get("changeFromQuantity").filter(|v| !v.is_null());
                        let compare = q.get("compareQuantity").filter(|v| !v.is_null());
                        if let Some(expected) = change_from.and_then(J::as_i64) {
                            if expected != current {
                                stale += 1;
                                store
                                    .stale_log
                                    .push(format!("item {item}: changeFrom {expected}, found {current}"));
                                errors.push(UserErr::at(
                                    at("changeFromQuantity"),
                                    "The changeFromQuantity argument no longer matches the persisted quantity.",
                                    Some("CHANGE_FROM_QUANTITY_STALE"),
                                ));
                            }
                        } else if !ignore_compare {
                            match compare.and_then(J::as_i64) {
                                None => compare_required = true,
                                Some(expected) if expected != current => {
                                    stale += 1;
                                    store
                                        .stale_log
                                        .push(format!("item {item}: compare {expected}, found {current}"));
                                    errors.push(UserErr::at(
                                        at("compareQuantity"),
                                        "The compareQuantity value does not match persisted value.",
                                        Some("COMPARE_QUANTITY_STALE"),
                                    ));
                                }
                                Some(_) => {}
                            }
                        }
                    }
                }
                Some(_) => {}
            }
        }
        resolved.push(pair);
    }
    if compare_required {
        errors.push(UserErr::new(
            &["input", "ignoreCompareQuantity"],
            "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
            Some("COMPARE_QUANTITY_REQUIRED"),
        ));
    }
    let mut duplicate_rows: Vec<usize> = pairs
        .values()
        .filter(|rows| rows.len() > 1)
        .flatten()
        .copied()
        .collect();
    duplicate_rows.sort_unstable();
    for idx in duplicate_rows {
        errors.push(UserErr::at(
            vec![
                "input".into(),
                "quantities".into(),
                idx.to_string(),
                "locationId".into(),
            ],
            "The combination of inventoryItemId and locationId must be unique.",
            Some("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"),
        ));
    }
    if stale > 0 {
        store.stale_answers += 1;
    }
    if !errors.is_empty() {
        return Payload::SetQuantities { group: None, errors };
    }
    // Everything is valid: apply all quantities at once.
    let now = Utc::now();
    let mut changes = Vec::new();
    for (idx, q) in quantities.iter().enumerate() {
        let Some((item_id, loc)) = resolved[idx] else { continue };
        let quantity = q.get("quantity").and_then(J::as_i64).unwrap_or_default();
        let change_from = q.get("changeFromQuantity").and_then(J::as_i64);
        let Some(item) = store.items.get_mut(&item_id) else {
            continue;
        };
        let Some(level) = item.levels.get_mut(&loc) else {
            continue;
        };
        let delta = quantity - level.quantity(&name);
        if delta > 0 {
            store.raises += 1;
        }
        if delta != 0 {
            // `available` and `on_hand` move together: on_hand = available + committed.
            level.available += delta;
            level.updated_at = now;
            changes.push(Change {
                name: "available",
                delta,
                item_id,
                location_id: loc,
            });
            changes.push(Change {
                name: "on_hand",
                delta,
                item_id,
                location_id: loc,
            });
        }
        let sku = item.sku.clone().unwrap_or_default();
        store.applied.push(AppliedSet {
            sku,
            inventory_item_id: super::store::gid("InventoryItem", item_id),
            location_id: super::store::gid("Location", loc),
            name: name.clone(),
            quantity,
            delta,
            change_from,
            idempotency_key: key.map(str::to_owned),
            at: now_instant(),
        });
    }
    if changes.is_empty() {
        return Payload::SetQuantities {
            group: None,
            errors: Vec::new(),
        };
    }
    let id = store.next_group_id();
    store.groups.insert(
        id,
        Group {
            id,
            created_at: now,
            reason,
            reference_document_uri: reference,
            changes,
        },
    );
    Payload::SetQuantities {
        group: Some(id),
        errors: Vec::new(),
    }
}

/// A URI with a scheme and something after it, as the reference-document
/// rules ask.
fn valid_uri(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.trim_start_matches('/').is_empty()
        }
        None => false,
    }
}

/// `inventoryActivate(inventoryItemId, locationId, available, onHand)`.
pub fn activate(store: &mut Store, args: &Map<String, J>) -> Payload {
    let item = s(args, "inventoryItemId")
        .and_then(|g| parse_gid(g, "InventoryItem"))
        .filter(|id| store.items.contains_key(id));
    let loc = s(args, "locationId")
        .and_then(|g| parse_gid(g, "Location"))
        .filter(|id| store.locations.get(id).is_some_and(|l| l.active));
    let Some(item) = item else {
        return Payload::Activate {
            level: None,
            errors: vec![UserErr::new(
                &["inventoryItemId"],
                "The product couldn't be stocked because the product was deleted.",
                None,
            )],
        };
    };
    let Some(loc) = loc else {
        return Payload::Activate {
            level: None,
            errors: vec![UserErr::new(
                &["locationId"],
                "The product couldn't be stocked because the location wasn't found.",
                None,
            )],
        };
    };
    let loc_name = store.locations[&loc].name.clone();
    let available = i(args, "available");
    let on_hand = i(args, "onHand");
    if available.is_some() && on_hand.is_some() {
        let msg = format!(
            "The product couldn't be stocked at {loc_name} because not allowed to set available and on_hand quantities at the same time."
        );
        return Payload::Activate {
            level: None,
            errors: vec![
                UserErr::new(&["available"], msg.clone(), None),
                UserErr::new(&["onHand"], msg, None),
            ],
        };
    }
    for (field, value) in [("available", available), ("onHand", on_hand)] {
        if value.is_some_and(|v| !(-QUANTITY_LIMIT..=QUANTITY_LIMIT).contains(&v)) {
            return Payload::Activate {
                level: None,
                errors: vec![UserErr::new(
                    &[field],
                    format!(
                        "The product couldn't be stocked at {loc_name} because the quantity needs to be between -1 billion and 1 billion."
                    ),
                    None,
                )],
            };
        }
    }
    let now = Utc::now();
    let Some(it) = store.items.get_mut(&item) else {
        return Payload::Activate {
            level: None,
            errors: Vec::new(),
        };
    };
    match it.levels.get_mut(&loc) {
        Some(level) if level.active => {
            let mut errors = Vec::new();
            if available.is_some() {
                errors.push(UserErr::new(
                    &["available"],
                    "Not allowed to set available quantity when the item is already active at the location.",
                    None,
                ));
            }
            if on_hand.is_some() {
                errors.push(UserErr::new(
                    &["onHand"],
                    "Not allowed to set an on_hand quantity when the item is already active at the location.",
                    None,
                ));
            }
            Payload::Activate {
                level: Some((item, loc)),
                errors,
            }
        }
        Some(level) => {
            // Reactivation keeps the earlier quantities unless told otherwise.
            level.active = true;
            if let Some(a) = available {
                level.available = a;
            }
            if let Some(h) = on_hand {
                level.available = h - level.committed;
            }
            level.updated_at = now;
            Payload::Activate {
                level: Some((item, loc)),
                errors: Vec::new(),
            }
        }
        None => {
            let mut level = Level::new(now);
            level.available = available.or(on_hand).unwrap_or(0);
            it.levels.insert(loc, level);
            Payload::Activate {
                level: Some((item, loc)),
                errors: Vec::new(),
            }
        }
    }
}

/// `webhookSubscriptionCreate(topic, webhookSubscription)`.
pub fn webhook_create(store: &mut Store, args: &Map<String, J>) -> Payload {
    let topic = s(args, "topic").unwrap_or_default().to_owned();
    let empty = Map::new();
    let sub = obj(args, "webhookSubscription").unwrap_or(&empty);
    let address = s(sub, "uri")
        .or_else(|| s(sub, "callbackUrl"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let field = &["webhookSubscription", "callbackUrl"];
    let err = |m: String| Payload::WebhookCreate {
        subscription: None,
        errors: vec![UserErr::new(field, m, None)],
    };
    if address.is_empty() {
        return err("Address can't be blank".into());
    }
    let Some((scheme, rest)) = address.split_once("://") else {
        return err("Address is invalid".into());
    };
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    let host_name = host.split(':').next().unwrap_or_default().to_lowercase();
    let loopback = matches!(host_name.as_str(), "127.0.0.1" | "localhost" | "[::1]") || host_name.starts_with("127.");
    let allowed_loopback = store.allow_loopback_webhooks && loopback;
    if scheme != "https" && !(allowed_loopback && scheme == "http") {
        return err(format!("Address protocol {scheme}:// is not supported"));
    }
    if host_name.is_empty() {
        return err("Address is invalid".into());
    }
    if !allowed_loopback
        && (loopback
            || host_name == "shopify.com"
            || host_name.ends_with(".shopify.com")
            || host_name.ends_with(".myshopify.com")
            || host_name.ends_with(".internal"))
    {
        return err("Address cannot be a Shopify or an internal domain".into());
    }
    if store.webhooks.values().any(|w| w.topic == topic && w.uri == address) {
        return err("Address for this topic has already been taken".into());
    }
    let id = store.next_webhook_id();
    store.webhooks.insert(
        id,
        Webhook {
            id,
            topic,
            uri: address,
            format: s(sub, "format").unwrap_or("JSON").to_owned(),
            filter: s(sub, "filter").map(str::to_owned),
            include_fields: arr(sub, "includeFields")
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            name: s(sub, "name").map(str::to_owned),
            created_at: Utc::now(),
        },
    );
    Payload::WebhookCreate {
        subscription: Some(id),
        errors: Vec::new(),
    }
}

/// `productUpdate`'s top-level check: exactly one of `input` (deprecated
/// `ProductInput`) and `product` (`ProductUpdateInput`).
pub fn product_update_arguments(args: &Map<String, J>) -> Result<(), TopError> {
    let given = |k: &str| args.get(k).is_some_and(|v| !v.is_null());
    if given("input") == given("product") {
        return Err(TopError {
            message: "productUpdate must include exactly one of the following arguments: input, product.".into(),
            code: "INVALID_FIELD_ARGUMENTS",
            with_variable_location: false,
        });
    }
    Ok(())
}

/// `productUpdate(product | input, identifier)`: updates the fields given.
/// An unknown (or missing) id answers `["id"] Product does not exist` with
/// `product: null`; a validation error leaves the product unchanged and
/// returns it with the errors (as captured).
pub fn product_update(store: &mut Store, args: &Map<String, J>) -> Payload {
    let empty = Map::new();
    let input = obj(args, "product").or_else(|| obj(args, "input")).unwrap_or(&empty);
    let identifier = obj(args, "identifier");
    let target = match (s(input, "id"), identifier) {
        (Some(id), _) => parse_gid(id, "Product"),
        (None, Some(ident)) => match (s(ident, "id"), s(ident, "handle")) {
            (Some(id), _) => parse_gid(id, "Product"),
            (None, Some(h)) => store.handles.get(&Store::normalize_handle(h)).copied(),
            _ => None,
        },
        (None, None) => None,
    }
    .filter(|p| store.products.contains_key(p));
    let Some(product_id) = target else {
        return Payload::ProductUpdate {
            product: None,
            errors: vec![UserErr::new(&["id"], "Product does not exist", None)],
        };
    };
    let mut errors = Vec::new();
    if let Some(t) = s(input, "title") {
        if t.trim().is_empty() {
            errors.push(UserErr::new(&["title"], "Title can't be blank", None));
        } else if t.chars().count() > 255 {
            errors.push(UserErr::new(
                &["title"],
                "Title is too long (maximum is 255 characters)",
                None,
            ));
        }
    }
    if s(input, "vendor").is_some_and(|v| v.chars().count() > 255) {
        errors.push(UserErr::new(
            &["vendor"],
            "Vendor is too long (maximum is 255 characters)",
            None,
        ));
    }
    if s(input, "productType").is_some_and(|v| v.chars().count() > 255) {
        errors.push(UserErr::new(
            &["productType"],
            "Product type is too long (maximum is 255 characters)",
            None,
        ));
        errors.push(UserErr::new(
            &["customProductType"],
            "Custom product type is too long (maximum is 255 characters)",
            None,
        ));
    }
    // A handle of only spaces keeps the current one; others are normalised.
    let handle = s(input, "handle")
        .filter(|h| !h.trim().is_empty())
        .map(Store::normalize_handle);
    if let Some(h) = &handle
        && store.handles.get(h).is_some_and(|owner| *owner != product_id)
    {
        errors.push(UserErr::new(
            &["input", "handle"],
            format!("Handle '{h}' already in use. Please provide a new handle."),
            None,
        ));
    }
    if !errors.is_empty() {
        return Payload::ProductUpdate {
            product: Some(product_id),
            errors,
        };
    }
    let now = Utc::now();
    let old_handle = store.products.get(&product_id).map(|p| p.handle.clone());
    let Some(p) = store.products.get_mut(&product_id) else {
        return Payload::ProductUpdate {
            product: None,
            errors: vec![UserErr::new(&["id"], "Product does not exist", None)],
        };
    };
    if let Some(t) = s(input, "title") {
        p.title = t.to_owned();
    }
    if let Some(v) = s(input, "vendor") {
        p.vendor = v.to_owned();
    }
    if let Some(v) = s(input, "productType") {
        p.product_type = v.to_owned();
    }
    if let Some(v) = s(input, "descriptionHtml") {
        p.description_html = v.to_owned();
    }
    if let Some(v) = s(input, "status") {
        p.status = v.to_owned();
    }
    if let Some(tags) = arr(input, "tags") {
        let mut t: Vec<String> = tags
            .iter()
            .filter_map(|t| t.as_str().map(|x| x.trim().to_owned()))
            .filter(|t| !t.is_empty())
            .collect();
        t.sort_by_key(|x| x.to_lowercase());
        t.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        p.tags = t;
    }
    if let Some(h) = &handle {
        p.handle = h.clone();
    }
    p.updated_at = now;
    if let (Some(h), Some(old)) = (handle, old_handle)
        && h != old
    {
        store.handles.remove(&old);
        store.handles.insert(h, product_id);
    }
    Payload::ProductUpdate {
        product: Some(product_id),
        errors: Vec::new(),
    }
}

/// `productDelete(input: {id}, synchronous)`: deletes the product with its
/// variants and inventory. Asynchronously it answers an operation
/// (`CREATED`, `deletedProductId: null`) that `productOperation` reads as
/// `COMPLETE`.
pub fn product_delete(store: &mut Store, args: &Map<String, J>) -> Payload {
    let empty = Map::new();
    let input = obj(args, "input").unwrap_or(&empty);
    let synchronous = args.get("synchronous").and_then(J::as_bool).unwrap_or(true);
    let target = s(input, "id")
        .and_then(|id| parse_gid(id, "Product"))
        .filter(|p| store.products.contains_key(p));
    let Some(product_id) = target else {
        return Payload::ProductDelete {
            deleted: None,
            operation: None,
            errors: vec![UserErr::new(&["id"], "Product does not exist", None)],
        };
    };
    store.delete_product(product_id);
    if synchronous {
        Payload::ProductDelete {
            deleted: Some(product_id),
            operation: None,
            errors: Vec::new(),
        }
    } else {
        let op = store.next_operation_id();
        store.delete_operations.insert(op, product_id);
        Payload::ProductDelete {
            deleted: None,
            operation: Some(op),
            errors: Vec::new(),
        }
    }
}

fn product_set_error(errors: Vec<UserErr>, product: Option<u64>) -> Payload {
    Payload::ProductSet {
        product,
        operation: None,
        errors,
    }
}

struct VariantPlan {
    existing: Option<u64>,
    values: Vec<String>,
    input: Map<String, J>,
}

/// `productSet(input, synchronous, identifier)`.
pub fn product_set(store: &mut Store, args: &Map<String, J>) -> Payload {
    let empty = Map::new();
    let input = obj(args, "input").unwrap_or(&empty);
    let identifier = obj(args, "identifier");
    let synchronous = args.get("synchronous").and_then(J::as_bool).unwrap_or(true);
    let input_id = s(input, "id");
    if identifier.is_some() && input_id.is_some() {
        return product_set_error(
            vec![UserErr::new(
                &["input"],
                "The id field is not allowed if identifier is provided.",
                Some("ID_NOT_ALLOWED"),
            )],
            None,
        );
    }
    // Which product: by id (must exist), by handle (upsert), or a new one.
    let mut target: Option<u64> = None;
    let mut identifier_handle: Option<String> = None;
    if let Some(id) = input_id {
        match parse_gid(id, "Product").filter(|p| store.products.contains_key(p)) {
            Some(p) => target = Some(p),
            None => {
                return product_set_error(
                    vec![UserErr::new(
                        &["input", "id"],
                        "Product does not exist",
                        Some("PRODUCT_DOES_NOT_EXIST"),
                    )],
                    None,
                );
            }
        }
    } else if let Some(ident) = identifier {
        if let Some(id) = s(ident, "id") {
            match parse_gid(id, "Product").filter(|p| store.products.contains_key(p)) {
                Some(p) => target = Some(p),
                None => {
                    return product_set_error(
                        vec![UserErr::new(
                            &["identifier", "id"],
                            "Product does not exist",
                            Some("PRODUCT_DOES_NOT_EXIST"),
                        )],
                        None,
                    );
                }
            }
        } else if let Some(h) = s(ident, "handle") {
            let normalized = Store::normalize_handle(h);
            target = store.handles.get(&normalized).copied();
            identifier_handle = Some(normalized);
        }
    }
    let creating = target.is_none();
    let mut errors = Vec::new();

    // Scalar fields.
    let title = s(input, "title").map(str::to_owned);
    match &title {
        Some(t) if t.trim().is_empty() => errors.push(UserErr::new(
            &["input", "title"],
            "Title can't be blank",
            Some("INVALID_PRODUCT"),
        )),
        Some(t) if t.chars().count() > 255 => errors.push(UserErr::new(
            &["input", "title"],
            "is too long (maximum is 255 characters)",
            Some("INVALID_PRODUCT"),
        )),
        None if creating => errors.push(UserErr::new(
            &["input", "title"],
            "Title can't be blank",
            Some("INVALID_PRODUCT"),
        )),
        _ => {}
    }
    for (key, label) in [("vendor", "Vendor"), ("productType", "Product type")] {
        if s(input, key).is_some_and(|v| v.chars().count() > 255) {
            errors.push(UserErr::new(
                &["input"],
                format!("{label} is too long (maximum is 255 characters)"),
                Some("INVALID_PRODUCT"),
            ));
            if key == "productType" {
                errors.push(UserErr::new(
                    &["input"],
                    "Custom product type is too long (maximum is 255 characters)",
                    Some("INVALID_PRODUCT"),
                ));
            }
        }
    }

    // The handle: explicit (normalised, must be free), or derived.
    let explicit_handle = s(input, "handle").map(str::to_owned);
    let mut handle: Option<String> = None;
    if let Some(raw) = &explicit_handle {
        let punctuation_only = !raw.chars().any(char::is_alphanumeric);
        if raw.trim().is_empty() {
            let base = title
                .clone()
                .or_else(|| target.and_then(|p| store.products.get(&p).map(|p| p.title.clone())))
                .unwrap_or_default();
            handle = Some(store.unique_handle(&Store::normalize_handle(&base), target));
        } else {
            let n = Store::normalize_handle(raw);
            let taken_by_other = store.handles.get(&n).is_some_and(|id| Some(*id) != target);
            if n.chars().count() > 255 {
                errors.push(UserErr::new(
                    &["input", "handle"],
                    "Handle is too long (maximum is 255 characters)",
                    Some("INVALID_PRODUCT"),
                ));
            } else if taken_by_other && !punctuation_only {
                errors.push(UserErr::new(
                    &["input", "handle"],
                    format!("Handle '{raw}' already in use. Please provide a new handle."),
                    Some("HANDLE_NOT_UNIQUE"),
                ));
            } else if taken_by_other {
                handle = Some(store.unique_handle(&n, target));
            } else {
                handle = Some(n);
            }
        }
    } else if let Some(h) = &identifier_handle {
        if creating {
            handle = Some(h.clone());
        }
    } else if creating && let Some(t) = &title {
        let derived = Store::normalize_handle(t);
        if derived.chars().count() > 255 {
            errors.push(UserErr::new(
                &["input"],
                "Handle is too long (maximum is 255 characters)",
                Some("INVALID_PRODUCT"),
            ));
        } else {
            handle = Some(store.unique_handle(&derived, None));
        }
    }

    // Options and variants.
    let options_input = arr(input, "productOptions");
    let variants_input = arr(input, "variants");
    if options_input.is_some() && variants_input.is_none() {
        errors.push(UserErr::new(
            &["input", "variants"],
            "Variants input is required when updating product options",
            Some("VARIANTS_INPUT_MISSING"),
        ));
    }
    let existing_options: Vec<ProductOption> = target
        .and_then(|p| store.products.get(&p))
        .map(|p| p.options.clone())
        .unwrap_or_default();
    // Option names and values in order.
    let mut option_names: Vec<String> = Vec::new();
    let mut option_values: Vec<Vec<String>> = Vec::new();
    if let Some(opts) = options_input {
        for (oi, o) in opts.iter().enumerate() {
            let o = o.as_object().unwrap_or(&empty);
            let name = s(o, "name").unwrap_or_default().trim().to_owned();
            if name.is_empty() {
                errors.push(UserErr::at(
                    vec!["input".into(), "productOptions".into(), oi.to_string(), "name".into()],
                    "Option name can't be blank",
                    Some("INVALID_INPUT"),
                ));
                continue;
            }
            if option_names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                errors.push(UserErr::at(
                    vec!["input".into(), "productOptions".into(), oi.to_string(), "name".into()],
                    format!("Duplicated option name '{name}'."),
                    Some("DUPLICATED_OPTION_NAME"),
                ));
                continue;
            }
            let values: Vec<String> = arr(o, "values")
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| v.as_object().and_then(|v| s(v, "name")).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            option_names.push(name);
            option_values.push(values);
        }
        if option_names.len() > 3 {
            errors.push(UserErr::new(
                &["input", "productOptions"],
                "Can only specify a maximum of 3 options",
                Some("OPTIONS_OVER_LIMIT"),
            ));
        }
    } else if variants_input.is_some() {
        // Without productOptions the variants' option names define them, in
        // first-seen order (or the product's current options).
        option_names = existing_options.iter().map(|o| o.name.clone()).collect();
        option_values = existing_options
            .iter()
            .map(|o| o.values.iter().map(|(_, v)| v.clone()).collect())
            .collect();
        for v in variants_input.into_iter().flatten() {
            for ov in v.as_object().and_then(|v| arr(v, "optionValues")).into_iter().flatten() {
                if let Some(n) = ov.as_object().and_then(|o| s(o, "optionName"))
                    && !option_names.iter().any(|x| x == n)
                {
                    option_names.push(n.to_owned());
                    option_values.push(Vec::new());
                }
            }
        }
    }

    let mut plans: Vec<VariantPlan> = Vec::new();
    if let Some(vs) = variants_input {
        let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
        let product_variants: HashSet<u64> = target
            .and_then(|p| store.products.get(&p))
            .map(|p| p.variant_ids.iter().copied().collect())
            .unwrap_or_default();
        for (vi, v) in vs.iter().enumerate() {
            let v = v.as_object().cloned().unwrap_or_default();
            let base = |leaf: &[&str]| {
                let mut p = vec!["input".to_owned(), "variants".to_owned(), vi.to_string()];
                p.extend(leaf.iter().map(|s| (*s).to_owned()));
                p
            };
            let mut values = vec![String::new(); option_names.len()];
            let mut ok = true;
            for (oi, ov) in arr(&v, "optionValues").into_iter().flatten().enumerate() {
                let ov = ov.as_object().unwrap_or(&empty);
                let oname = s(ov, "optionName").unwrap_or_default();
                let vname = s(ov, "name").unwrap_or_default().to_owned();
                match option_names.iter().position(|n| n == oname) {
                    Some(pos) => {
                        if !option_values[pos].contains(&vname) {
                            option_values[pos].push(vname.clone());
                        }
                        values[pos] = vname;
                    }
                    None => {
                        ok = false;
                        errors.push(UserErr::at(
                            base(&["optionValues", &oi.to_string(), "optionName"]),
                            format!("Option '{oname}' does not exist."),
                            Some("OPTION_DOES_NOT_EXIST"),
                        ));
                    }
                }
            }
            if ok && !option_names.is_empty() && values.iter().any(String::is_empty) {
                ok = false;
                errors.push(UserErr::at(
                    base(&["optionValues"]),
                    "All options must have a value.",
                    Some("OPTION_VALUES_MISSING"),
                ));
            }
            if ok {
                if let Some(first) = seen.get(&values) {
                    let _ = first;
                    errors.push(UserErr::at(
                        base(&[]),
                        format!(
                            "The variant '{}' already exists. Please change at least one option value.",
                            values.join(" / ")
                        ),
                        Some("INVALID_VARIANT"),
                    ));
                } else {
                    seen.insert(values.clone(), vi);
                }
            }
            let existing = match s(&v, "id") {
                Some(id) => match parse_gid(id, "ProductVariant").filter(|id| product_variants.contains(id)) {
                    Some(id) => Some(id),
                    None => {
                        errors.push(UserErr::at(
                            base(&["id"]),
                            "Product variant does not exist",
                            Some("PRODUCT_VARIANT_DOES_NOT_EXIST"),
                        ));
                        None
                    }
                },
                None => None,
            };
            if let Some(price) = s(&v, "price")
                && price.trim().parse::<f64>().map_or(true, |p| p < 0.0)
            {
                errors.push(UserErr::at(
                    base(&["price"]),
                    "Price must be greater than or equal to 0",
                    Some("INVALID_VARIANT"),
                ));
            }
            if let Some(cost) = obj(&v, "inventoryItem").and_then(|ii| s(ii, "cost"))
                && cost.trim().parse::<f64>().is_ok_and(|c| c < 0.0)
            {
                errors.push(UserErr::at(
                    base(&["inventoryItem", "cost"]),
                    "Cost per item must be greater than or equal to 0",
                    Some("INVALID_VARIANT"),
                ));
            }
            for (qi, q) in arr(&v, "inventoryQuantities").into_iter().flatten().enumerate() {
                let q = q.as_object().unwrap_or(&empty);
                let qname = s(q, "name").unwrap_or_default();
                if qname != "available" && qname != "on_hand" {
                    errors.push(UserErr::at(
                        base(&["inventoryQuantities", &qi.to_string(), "name"]),
                        "The quantity name must be either 'available' or 'on_hand'.",
                        Some("INVALID_INPUT"),
                    ));
                }
                let known = s(q, "locationId")
                    .and_then(|g| parse_gid(g, "Location"))
                    .is_some_and(|l| store.locations.get(&l).is_some_and(|l| l.active));
                if !known {
                    errors.push(UserErr::at(
                        base(&["inventoryQuantities", &qi.to_string(), "locationId"]),
                        "The specified location could not be found.",
                        Some("NOT_FOUND"),
                    ));
                }
                let qty = i(q, "quantity").unwrap_or_default();
                if !(-QUANTITY_LIMIT..=QUANTITY_LIMIT).contains(&qty) || (qname == "on_hand" && qty < 0) {
                    errors.push(UserErr::at(
                        base(&["inventoryQuantities", &qi.to_string(), "quantity"]),
                        "The quantity is out of range.",
                        Some("INVALID_INPUT"),
                    ));
                }
            }
            plans.push(VariantPlan {
                existing,
                values,
                input: v,
            });
        }
        if plans.len() > 2048 {
            errors.push(UserErr::new(
                &["input", "variants"],
                "Exceeded the maximum number of variants allowed (2048).",
                Some("VARIANTS_OVER_LIMIT"),
            ));
        }
    }
    // Files: a list field like variants, replaced when given.
    let file_plans = arr(input, "files").map(|files| media::plan_files(store, files, &mut errors));
    if !errors.is_empty() {
        // An update answers with the unchanged product; a create with null.
        return product_set_error(errors, target);
    }

    // Apply.
    let now = Utc::now();
    let product_id = target.unwrap_or_else(|| store.next_product_id());
    let mut product = match target.and_then(|p| store.products.get(&p)) {
        Some(p) => p.clone(),
        None => Product {
            id: product_id,
            title: String::new(),
            handle: String::new(),
            status: "ACTIVE".to_owned(),
            vendor: String::new(),
            product_type: String::new(),
            description_html: String::new(),
            tags: Vec::new(),
            options: Vec::new(),
            variant_ids: Vec::new(),
            media_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        },
    };
    if let Some(t) = title {
        product.title = t;
    }
    if let Some(h) = handle {
        store.handles.remove(&product.handle);
        product.handle = h;
    }
    if let Some(v) = s(input, "vendor") {
        product.vendor = v.to_owned();
    }
    if let Some(v) = s(input, "productType") {
        product.product_type = v.to_owned();
    }
    if let Some(v) = s(input, "descriptionHtml") {
        product.description_html = v.to_owned();
    }
    if let Some(v) = s(input, "status") {
        product.status = v.to_owned();
    }
    if let Some(tags) = arr(input, "tags") {
        product.tags = tags
            .iter()
            .filter_map(|t| t.as_str().map(|t| t.trim().to_owned()))
            .collect();
    }
    product.updated_at = now;

    if variants_input.is_some() || creating {
        // Options: keep ids of options and values that survive.
        let mut options = Vec::new();
        let (names, values) = if option_names.is_empty() && plans.is_empty() {
            (vec!["Title".to_owned()], vec![vec!["Default Title".to_owned()]])
        } else {
            (option_names.clone(), option_values.clone())
        };
        for (name, vals) in names.iter().zip(values.iter()) {
            let old = existing_options.iter().find(|o| &o.name == name);
            let id = old.map_or_else(|| store.next_option_id(), |o| o.id);
            let values = vals
                .iter()
                .map(|v| {
                    let vid = old
                        .and_then(|o| o.values.iter().find(|(_, x)| x == v).map(|(id, _)| *id))
                        .unwrap_or_else(|| store.next_option_value_id());
                    (vid, v.clone())
                })
                .collect();
            options.push(ProductOption {
                id,
                name: name.clone(),
                values,
            });
        }
        product.options = options;
        let mut plans = plans;
        if plans.is_empty() {
            plans.push(VariantPlan {
                existing: None,
                values: vec!["Default Title".to_owned()],
                input: Map::new(),
            });
        }
        // Variants without an id keep the current variant with the same
        // option values (its inventory item and levels survive).
        let old_ids: Vec<u64> = product.variant_ids.clone();
        let mut claimed: HashSet<u64> = plans.iter().filter_map(|p| p.existing).collect();
        for plan in plans.iter_mut().filter(|p| p.existing.is_none()) {
            let found = old_ids.iter().copied().find(|id| {
                !claimed.contains(id) && store.variants.get(id).is_some_and(|v| v.option_values == plan.values)
            });
            if let Some(id) = found {
                claimed.insert(id);
                plan.existing = Some(id);
            }
        }
        for id in old_ids.iter().filter(|id| !claimed.contains(id)) {
            store.delete_variant(*id);
        }
        let primary = store.primary_location();
        let mut new_ids = Vec::new();
        for plan in plans {
            let vid = apply_variant(store, product_id, plan, now, primary);
            new_ids.push(vid);
        }
        product.variant_ids = new_ids;
    }
    if let Some(plans) = file_plans {
        product.media_ids = media::apply_files(store, plans, now);
    }
    store.handles.insert(product.handle.clone(), product_id);
    store.products.insert(product_id, product);
    if synchronous {
        Payload::ProductSet {
            product: Some(product_id),
            operation: None,
            errors: Vec::new(),
        }
    } else {
        let op = store.next_operation_id();
        store.operations.insert(
            op,
            SetOperation {
                id: op,
                product_id: Some(product_id),
            },
        );
        Payload::ProductSet {
            product: None,
            operation: Some(op),
            errors: Vec::new(),
        }
    }
}

fn apply_variant(
    store: &mut Store,
    product_id: u64,
    plan: VariantPlan,
    now: chrono::DateTime<Utc>,
    primary: Option<u64>,
) -> u64 {
    let input = &plan.input;
    let item_input = obj(input, "inventoryItem");
    let new_sku = item_input
        .and_then(|ii| ii.get("sku"))
        .or_else(|| input.get("sku"))
        .map(|v| v.as_str().map(str::to_owned));
    let (vid, item_id) = match plan.existing.and_then(|id| store.variants.get(&id)) {
        Some(v) => (v.id, v.item_id),
        None => {
            let vid = store.next_variant_id();
            let item_id = store.next_item_id();
            store.items.insert(
                item_id,
                Item {
                    id: item_id,
                    variant_id: vid,
                    sku: None,
                    tracked: false,
                    requires_shipping: true,
                    weight: None,
                    levels: BTreeMap::new(),
                    created_at: now,
                    updated_at: now,
                },
            );
            store.variants.insert(
                vid,
                Variant {
                    id: vid,
                    product_id,
                    item_id,
                    option_values: Vec::new(),
                    price: "0.00".to_owned(),
                    compare_at_price: None,
                    barcode: None,
                    created_at: now,
                    updated_at: now,
                },
            );
            (vid, item_id)
        }
    };
    let created = plan.existing.is_none();
    if let Some(v) = store.variants.get_mut(&vid) {
        v.option_values = plan.values.clone();
        if let Some(p) = s(input, "price") {
            v.price = normalize_money(p);
        }
        if let Some(p) = input.get("compareAtPrice") {
            v.compare_at_price = p.as_str().map(normalize_money);
        }
        if let Some(b) = input.get("barcode") {
            v.barcode = b.as_str().map(str::to_owned);
        }
        v.updated_at = now;
    }
    if let Some(sku) = new_sku {
        let old = store.items.get(&item_id).and_then(|i| i.sku.clone());
        store.unindex_sku(&old, vid);
        let sku = sku.filter(|s| !s.is_empty());
        if let Some(it) = store.items.get_mut(&item_id) {
            it.sku = sku.clone();
        }
        store.index_sku(&sku, vid);
    }
    let quantities: Vec<(u64, String, i64)> = arr(input, "inventoryQuantities")
        .into_iter()
        .flatten()
        .filter_map(|q| {
            let q = q.as_object()?;
            Some((
                parse_gid(s(q, "locationId")?, "Location")?,
                s(q, "name")?.to_owned(),
                i(q, "quantity")?,
            ))
        })
        .collect();
    if let Some(it) = store.items.get_mut(&item_id) {
        if let Some(ii) = item_input {
            if let Some(t) = ii.get("tracked").and_then(J::as_bool) {
                it.tracked = t;
            }
            if let Some(r) = ii.get("requiresShipping").and_then(J::as_bool) {
                it.requires_shipping = r;
            }
            if let Some(w) = obj(ii, "measurement").and_then(|m| obj(m, "weight")) {
                let value = w.get("value").and_then(J::as_f64).unwrap_or_default();
                let unit = s(w, "unit").unwrap_or("KILOGRAMS").to_owned();
                it.weight = Some((value, unit));
            }
        }
        if created
            && quantities.is_empty()
            && let Some(loc) = primary
        {
            it.levels.insert(loc, Level::new(now));
        }
        for (loc, name, qty) in quantities {
            let level = it.levels.entry(loc).or_insert_with(|| Level::new(now));
            level.active = true;
            let delta = qty - level.quantity(&name);
            level.available += delta;
            level.updated_at = now;
        }
        it.updated_at = now;
    }
    vid
}
