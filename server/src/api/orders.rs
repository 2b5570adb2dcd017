//! The orders pulled from web channels, for a back office that books them
//! (seed 001's step 2): oldest recorded change first, incrementally.

use axum::Json;
use axum::extract::{Extension, RawQuery, State};
use chrono::SecondsFormat;
use serde::Serialize;
use sync_core::Services;
use sync_core::domain::{Permission, Timestamp};
use sync_core::service::{MAX_ORDER_PAGE, OrderCursor, OrderFeedQuery};
use utoipa::{IntoParams, ToSchema};

use super::product_document::decimal;
use super::{ApiError, Caller};

const DEFAULT_LIMIT: u32 = 100;

/// Query parameters of `GET /api/v1/orders`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrderQuery {
    /// RFC 3339 time, e.g. `2026-03-01T09:00:00Z`: only orders whose change
    /// Tillbridge recorded at or after it (their `recorded_at`).
    #[param(format = DateTime)]
    updated_since: Option<String>,
    /// The `next_cursor` of the previous page, as it is.
    after: Option<String>,
    /// Page size (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

fn parse_query(raw: Option<&str>) -> Result<OrderFeedQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|e| ApiError::bad_parameter("?", format!("the query string is malformed: {e}")))?;
    let mut query = OrderFeedQuery {
        updated_since: None,
        after: None,
        limit: DEFAULT_LIMIT,
    };
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in pairs {
        if seen.contains(&key) {
            return Err(ApiError::bad_parameter(&key, "given more than once"));
        }
        seen.push(key.clone());
        match key.as_str() {
            "updated_since" => {
                // A '+' sent unencoded arrives as a space.
                let at = chrono::DateTime::parse_from_rfc3339(&value.trim().replace(' ', "+")).map_err(|_| {
                    ApiError::bad_parameter(
                        "updated_since",
                        format!("expected an RFC 3339 time such as 2026-03-01T09:00:00Z, got {value:?}"),
                    )
                })?;
                query.updated_since = Some(Timestamp::from(at.with_timezone(&chrono::Utc)));
            }
            "after" => {
                query.after =
                    Some(OrderCursor::parse(&value).map_err(|e| ApiError::bad_parameter("after", e.message))?);
            }
            "limit" => {
                query.limit = value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_ORDER_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_parameter(
                            "limit",
                            format!("expected an integer from 1 to {MAX_ORDER_PAGE}, got {value:?}"),
                        )
                    })?;
            }
            other => {
                return Err(ApiError::bad_parameter(
                    other,
                    "unknown parameter; use updated_since, after or limit",
                ));
            }
        }
    }
    Ok(query)
}

#[derive(Serialize, ToSchema)]
pub struct OrderLineJson {
    pub sku: String,
    /// The product and option values the SKU has in Tillbridge, e.g.
    /// "Merino Tee - M / Black"; null when no variant has the SKU.
    pub title: Option<String>,
    pub quantity: i64,
    /// Unit price, a decimal amount in the order's currency.
    pub price: String,
    /// Units this line has taken from stock (0 once cancelled or removed).
    pub taken_from_stock: i64,
    /// The outlet (its code) stock is taken from: the one that takes the channel's orders.
    pub outlet: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderJson {
    /// Tillbridge's id of the order.
    pub id: i64,
    /// The channel's name.
    pub channel: String,
    /// The channel's own id of the order.
    pub channel_order_id: String,
    pub number: String,
    pub placed_at: String,
    /// When the channel last changed the order.
    pub updated_at: String,
    /// When Tillbridge recorded the order's latest change: what
    /// `updated_since` compares with.
    pub recorded_at: String,
    pub cancelled: bool,
    pub currency: String,
    /// A decimal amount.
    pub total: String,
    pub lines: Vec<OrderLineJson>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    pub orders: Vec<OrderJson>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn rfc3339(t: Timestamp) -> String {
    t.as_datetime().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Orders pulled from the channels, oldest recorded change first: to stay
/// in step, page with `after` until `next_cursor` is null, then next time
/// ask with `updated_since` a minute before the newest `recorded_at` you
/// have (changes being recorded at that moment may commit a little late)
/// and skip the orders you already have at that `recorded_at`. An order
/// that changes again (cancelled, edited) comes again with a later
/// `recorded_at`.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderList), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody)))]
pub async fn list(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Result<Json<OrderList>, ApiError> {
    caller.require(Permission::Read)?;
    let query = parse_query(raw.as_deref())?;
    let page = services.history.order_feed(&query).await?;
    Ok(Json(OrderList {
        next_cursor: page.next.map(|c| c.encode()),
        orders: page
            .orders
            .into_iter()
            .map(|(o, lines)| OrderJson {
                lines: lines
                    .iter()
                    .map(|l| OrderLineJson {
                        title: l.title(),
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                        price: decimal(l.price_minor, &o.currency),
                        taken_from_stock: l.applied_quantity,
                        outlet: o.outlet.clone(),
                    })
                    .collect(),
                id: o.id,
                channel: o.channel,
                channel_order_id: o.external_id,
                number: o.number,
                placed_at: rfc3339(o.placed_at),
                updated_at: rfc3339(o.channel_updated_at),
                recorded_at: rfc3339(o.recorded_at),
                cancelled: o.status == "cancelled",
                total: decimal(o.total_minor, &o.currency),
                currency: o.currency,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_errors_name_the_parameter() {
        let msg = |raw: &str| parse_query(Some(raw)).expect_err("refused").to_string();
        assert!(msg("updated_since=yesterday").contains("`updated_since`"));
        assert!(msg("after=abc").contains("`after`"));
        assert!(msg("limit=501").contains("`limit`"));
        assert!(msg("limit=1&limit=2").contains("more than once"));
        assert!(msg("status=open").contains("`status`"));
    }

    #[test]
    fn a_good_query_reads_its_time_in_utc() {
        let q = parse_query(Some("updated_since=2026-03-01T21:00:00+12:00&limit=5")).expect("valid");
        assert_eq!(q.limit, 5);
        assert_eq!(
            q.updated_since.map(|t| t.to_string()).as_deref(),
            Some("2026-03-01 09:00:00 UTC")
        );
        assert_eq!(parse_query(None).expect("valid").limit, DEFAULT_LIMIT);
    }
}
