//! Stock movements in from point-of-sale and back-office systems, and stock
//! (on hand per outlet, syncable balance per channel) out.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sync_core::domain::{Actor, MovementReason, OutletCode, Permission, Sku, StockChange};
use sync_core::service::{IdempotencyKey, MAX_MOVEMENTS_PER_REQUEST, MAX_NOTE_CHARS, MovementInput};
use utoipa::ToSchema;

use super::{ApiError, Caller};
use crate::state::AppState;

/// A request body of up to 1,000 movements stays well under this.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// One movement as sent: `delta` or `count`, never both.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct MovementJson {
    /// The variant's SKU.
    #[schema(min_length = 1, max_length = 64)]
    sku: String,
    /// The outlet's code (see `GET /api/v1/outlets`).
    #[schema(min_length = 1, max_length = 32)]
    outlet: String,
    /// A relative change, e.g. -2 for two sold. Not 0.
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000)]
    delta: Option<i64>,
    /// An absolute count from a stocktake.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    count: Option<i64>,
    #[schema(schema_with = reason_schema)]
    reason: String,
    /// Your document's number, e.g. POS-1234.
    #[schema(max_length = 200)]
    reference: Option<String>,
    #[schema(max_length = 1000)]
    note: Option<String>,
}

/// The reasons a movement may give, as the core knows them.
fn reason_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(MovementReason::ALL.iter().map(|r| r.as_str())))
        .description(Some("Why the stock moved."))
        .build()
}

#[derive(ToSchema)]
#[schema(example = json!({"movements": [
    {"sku": "TEE-0090-S-BLA", "outlet": "downtown", "delta": -2, "reason": "sales_order", "reference": "POS-1234"}
]}))]
#[allow(dead_code)]
pub struct MovementsRequest {
    /// Applied all or nothing.
    #[schema(min_items = 1, max_items = 1000)]
    movements: Vec<MovementJson>,
}

#[derive(Serialize, ToSchema)]
pub struct MovementResult {
    pub id: i64,
    pub sku: String,
    pub outlet: String,
    pub on_hand_before: i64,
    pub on_hand_after: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MovementsResponse {
    pub movements: Vec<MovementResult>,
    /// True when this answers a retry (same Idempotency-Key) already applied.
    pub replayed: bool,
}

/// A field's value; a JSON null counts as absent.
fn field<'a>(item: &'a Value, name: &str) -> Option<&'a Value> {
    item.get(name).filter(|v| !v.is_null())
}

fn invalid(i: usize, name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_movement",
        format!("movements[{i}].{name}: {message}"),
    )
}

fn text(item: &Value, i: usize, name: &str, required: bool, max: usize) -> Result<String, ApiError> {
    match field(item, name) {
        None if required => Err(invalid(i, name, "is required")),
        None => Ok(String::new()),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(invalid(i, name, format!("is longer than {max} characters"))),
        Some(other) => Err(invalid(i, name, format!("must be a string, not {other}"))),
    }
}

fn integer(item: &Value, i: usize, name: &str) -> Result<Option<i64>, ApiError> {
    match field(item, name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(i, name, format!("must be a whole number, not {n}"))),
        Some(other) => Err(invalid(i, name, format!("must be a whole number, not {other}"))),
    }
}

/// Parses one movement, naming the field that is wrong.
fn parse_movement(item: &Value, i: usize) -> Result<MovementInput, ApiError> {
    let Some(object) = item.as_object() else {
        return Err(invalid(i, "", "each movement must be a JSON object"));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !["sku", "outlet", "delta", "count", "reason", "reference", "note"].contains(&k.as_str()))
    {
        return Err(invalid(
            i,
            unknown,
            "unknown field; use sku, outlet, delta or count, reason, reference, note",
        ));
    }
    let sku = Sku::parse(&text(item, i, "sku", true, 64)?).map_err(|e| invalid(i, "sku", e.message))?;
    let outlet = OutletCode::parse(&text(item, i, "outlet", true, 32)?).map_err(|e| invalid(i, "outlet", e.message))?;
    let change = match (integer(item, i, "delta")?, integer(item, i, "count")?) {
        (Some(d), None) => StockChange::delta(d).map_err(|e| invalid(i, "delta", e.message))?,
        (None, Some(c)) => StockChange::count(c).map_err(|e| invalid(i, "count", e.message))?,
        (Some(_), Some(_)) => return Err(invalid(i, "delta", "give either delta or count, not both")),
        (None, None) => return Err(invalid(i, "delta", "give a delta (e.g. -2) or a count (e.g. 7)")),
    };
    let reason =
        MovementReason::parse(&text(item, i, "reason", true, 40)?).map_err(|e| invalid(i, "reason", e.message))?;
    Ok(MovementInput {
        sku,
        outlet,
        change,
        reason,
        reference: text(item, i, "reference", false, 200)?,
        note: text(item, i, "note", false, MAX_NOTE_CHARS)?,
    })
}

/// The request's Idempotency-Key, scoped to the caller's token, with a hash
/// of `body` to tell a retry from another request.
pub(super) fn idempotency_key(
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_header",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(IdempotencyKey::for_token(caller.0.id, key, hex_digest(body))))
}

fn hex_digest(body: &[u8]) -> String {
    Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect()
}

/// Records stock movements, all or nothing; queues channel pushes for them.
#[utoipa::path(post, path = "/api/v1/stock/movements", tag = "stock", request_body = MovementsRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request apply once")),
    security(("bearer" = [])),
    responses((status = 200, body = MovementsResponse), (status = 400, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 413, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MovementsResponse>, ApiError> {
    caller.require(Permission::WriteCatalog)?;
    super::require_json(&headers)?;
    let body = body.map_err(|e| {
        let message = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "the body is larger than {} KiB; send at most {MAX_MOVEMENTS_PER_REQUEST} movements",
                BODY_LIMIT / 1024
            )
        } else {
            e.body_text()
        };
        ApiError::new(e.status(), "invalid_body", message)
    })?;
    let key = idempotency_key(&caller, &headers, &body)?;
    let json: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let items = json.get("movements").and_then(Value::as_array).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "expected {\"movements\": [...]}",
        )
    })?;
    if items.is_empty() || items.len() > MAX_MOVEMENTS_PER_REQUEST {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_movements",
            format!(
                "send 1 to {MAX_MOVEMENTS_PER_REQUEST} movements per request, not {}",
                items.len()
            ),
        ));
    }
    let inputs = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_movement(item, i))
        .collect::<Result<Vec<_>, _>>()?;
    let actor = Actor::Api {
        token: caller.0.id,
        name: caller.0.name.clone(),
    };
    let batch = state.services.stock.record(&actor, &inputs, key.as_ref()).await?;
    Ok(Json(MovementsResponse {
        replayed: batch.replayed,
        movements: batch
            .records
            .iter()
            .zip(&inputs)
            .map(|(r, input)| MovementResult {
                id: r.id.get(),
                sku: input.sku.to_string(),
                outlet: input.outlet.to_string(),
                on_hand_before: r.on_hand_before,
                on_hand_after: r.on_hand_after,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct OutletStock {
    pub outlet: String,
    pub on_hand: i64,
    pub committed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelBalance {
    pub channel: String,
    /// What this channel may sell, after its outlets and rules.
    pub syncable_balance: i64,
}

#[derive(Serialize, ToSchema)]
pub struct StockJson {
    pub sku: String,
    pub outlets: Vec<OutletStock>,
    pub channels: Vec<ChannelBalance>,
}

/// On hand per outlet and the syncable balance per channel of one SKU.
#[utoipa::path(get, path = "/api/v1/stock", tag = "stock", params(("sku" = String, Query, description = "The variant's SKU", min_length = 1, max_length = 64)),
    security(("bearer" = [])),
    responses((status = 200, body = StockJson), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Result<Json<StockJson>, ApiError> {
    caller.require(Permission::Read)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_parameter("?", format!("the query string is malformed: {e}")))?;
    if let Some((other, _)) = pairs.iter().find(|(k, _)| k != "sku") {
        return Err(ApiError::bad_parameter(other, "unknown parameter; use sku"));
    }
    let raw_sku = match pairs.as_slice() {
        [(_, sku)] => sku,
        [] => return Err(ApiError::bad_parameter("sku", "is required")),
        _ => return Err(ApiError::bad_parameter("sku", "given more than once")),
    };
    let sku = Sku::parse(raw_sku).map_err(|e| ApiError::bad_parameter("sku", e.message))?;
    let stock = state
        .services
        .stock
        .of_sku(&sku)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no variant has the SKU {:?}", sku.as_str())))?;
    Ok(Json(StockJson {
        sku: sku.to_string(),
        outlets: stock
            .outlets
            .iter()
            .map(|o| {
                let level = stock.variant.stock.iter().find(|s| s.outlet_id == o.id);
                OutletStock {
                    outlet: o.code.to_string(),
                    on_hand: level.map_or(0, |s| s.on_hand),
                    committed: level.map_or(0, |s| s.committed),
                }
            })
            .collect(),
        channels: stock
            .channels
            .into_iter()
            .map(|(channel, syncable_balance)| ChannelBalance {
                channel,
                syncable_balance,
            })
            .collect(),
    }))
}
