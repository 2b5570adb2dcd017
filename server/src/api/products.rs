use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, RawQuery, State};
use serde::{Deserialize, Serialize};
use sync_core::Services;
use sync_core::domain::{Permission, ProductId, Sku};
use sync_core::service::{ProductDetail, ProductFilter};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, Caller};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// Query parameters of `GET /api/v1/products`.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Exact SKU of one of the product's variants.
    #[param(min_length = 1, max_length = 64)]
    sku: Option<String>,
    /// Search text over name, SKU and barcode.
    #[param(max_length = 200)]
    q: Option<String>,
    /// Cursor: the `next_after` of the previous page.
    #[param(minimum = 1)]
    after: Option<i64>,
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

impl ProductQuery {
    /// Parses the raw query string, naming the parameter that is wrong.
    fn parse(raw: Option<&str>) -> Result<ProductFilter, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|e| ApiError::bad_parameter("?", format!("the query string is malformed: {e}")))?;
        let mut q = ProductQuery::default();
        for (key, value) in pairs {
            let duplicate = |name: &str| ApiError::bad_parameter(name, "given more than once");
            match key.as_str() {
                "sku" => {
                    Sku::parse(&value).map_err(|e| ApiError::bad_parameter("sku", e.message))?;
                    if q.sku.replace(value).is_some() {
                        return Err(duplicate("sku"));
                    }
                }
                "q" => {
                    if value.chars().count() > 200 {
                        return Err(ApiError::bad_parameter("q", "search text is at most 200 characters"));
                    }
                    if q.q.replace(value).is_some() {
                        return Err(duplicate("q"));
                    }
                }
                "after" => {
                    let after = value.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        ApiError::bad_parameter(
                            "after",
                            format!("expected a product id (a positive integer), got {value:?}"),
                        )
                    })?;
                    if q.after.replace(after).is_some() {
                        return Err(duplicate("after"));
                    }
                }
                "limit" => {
                    let limit = value
                        .trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            ApiError::bad_parameter(
                                "limit",
                                format!("expected an integer from 1 to {MAX_LIMIT}, got {value:?}"),
                            )
                        })?;
                    if q.limit.replace(limit).is_some() {
                        return Err(duplicate("limit"));
                    }
                }
                other => {
                    return Err(ApiError::bad_parameter(
                        other,
                        "unknown parameter; use sku, q, after or limit",
                    ));
                }
            }
        }
        Ok(ProductFilter {
            search: q.q,
            sku: q
                .sku
                .map(|s| Sku::parse(&s))
                .transpose()
                .map_err(|e| ApiError::bad_parameter("sku", e.message))?,
            after: q.after.map(ProductId::new),
            limit: q.limit.unwrap_or(DEFAULT_LIMIT),
            ..ProductFilter::default()
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct MoneyJson {
    /// Integer minor units (cents).
    pub amount_minor: i64,
    pub currency: String,
}

/// A variant's stock at one outlet (named apart from the stock endpoint's
/// `StockJson`, which the document would otherwise confuse with it).
#[derive(Serialize, ToSchema)]
pub struct VariantStockJson {
    /// Outlet code.
    pub outlet: String,
    pub on_hand: i64,
    pub committed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct VariantJson {
    pub sku: String,
    pub barcode: Option<String>,
    /// Option values in the order of the product's `options`.
    pub option_values: Vec<String>,
    pub price: MoneyJson,
    pub weight_grams: Option<i64>,
    pub stock: Vec<VariantStockJson>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductJson {
    pub id: i64,
    pub name: String,
    pub handle: String,
    pub brand: String,
    pub category: String,
    pub description: String,
    pub options: Vec<String>,
    pub active: bool,
    pub auto_sync: bool,
    pub variants: Vec<VariantJson>,
}

#[derive(Serialize, ToSchema)]
pub struct ProductList {
    pub products: Vec<ProductJson>,
    /// Pass as `after` to get the next page; null on the last page.
    pub next_after: Option<i64>,
}

impl From<ProductDetail> for ProductJson {
    fn from(p: ProductDetail) -> Self {
        ProductJson {
            id: p.id.get(),
            options: p.option_names().into_iter().map(str::to_owned).collect(),
            variants: p
                .variants
                .iter()
                .map(|v| VariantJson {
                    sku: v.sku.clone(),
                    barcode: v.barcode.clone(),
                    option_values: v.option_values().into_iter().map(str::to_owned).collect(),
                    price: MoneyJson {
                        amount_minor: v.price_minor,
                        currency: v.price_currency.clone(),
                    },
                    weight_grams: v.weight_grams,
                    stock: v
                        .stock
                        .iter()
                        .map(|s| VariantStockJson {
                            outlet: s.outlet_code.clone(),
                            on_hand: s.on_hand,
                            committed: s.committed,
                        })
                        .collect(),
                })
                .collect(),
            name: p.name,
            handle: p.handle,
            brand: p.brand,
            category: p.category,
            description: p.description,
            active: p.active,
            auto_sync: p.auto_sync,
        }
    }
}

/// Products with their variants and stock per outlet, by name, in pages.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ProductQuery), security(("bearer" = [])),
    responses((status = 200, body = ProductList), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ProductList>, ApiError> {
    caller.require(Permission::Read)?;
    let filter = ProductQuery::parse(raw.as_deref())?;
    let page = services.catalog.list_products(&filter).await?;
    Ok(Json(ProductList {
        products: page.items.into_iter().map(ProductJson::from).collect(),
        next_after: page.next_after.map(ProductId::get),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoSyncBody {
    pub enabled: bool,
}

/// Turns Auto Sync on or off for one product (manager or owner token).
#[utoipa::path(put, path = "/api/v1/products/{id}/auto_sync", tag = "products", request_body = AutoSyncBody,
    params(("id" = i64, Path, description = "Product id", minimum = 1, example = 1)), security(("bearer" = [])),
    responses((status = 200, body = ProductJson), (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn set_auto_sync(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Result<Json<AutoSyncBody>, JsonRejection>,
) -> Result<Json<ProductJson>, ApiError> {
    caller.require(Permission::WriteCatalog)?;
    let id = id.parse::<i64>().map(ProductId::new).map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_path",
            format!("{id:?} is not a product id"),
        )
    })?;
    let Json(body) = body.map_err(|e| ApiError::new(e.status(), "invalid_body", e.body_text()))?;
    services.catalog.set_auto_sync(&[id], body.enabled).await?;
    let product = services
        .catalog
        .product(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("product {id} not found")))?;
    Ok(Json(product.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_errors_name_the_parameter() {
        let msg = |raw: &str| ProductQuery::parse(Some(raw)).expect_err("refused").to_string();
        assert!(msg("limit=abc").contains("`limit`"));
        assert!(msg("limit=0").contains("`limit`"));
        assert!(msg("after=-1").contains("`after`"));
        assert!(msg("sku=has%20space").contains("`sku`"));
        assert!(msg("colour=red").contains("`colour`"));
        assert!(msg("q=a&q=b").contains("more than once"));
    }

    #[test]
    fn a_good_query_becomes_a_filter() {
        let f = ProductQuery::parse(Some("q=tee&limit=10&after=5")).expect("valid");
        assert_eq!(
            (f.search.as_deref(), f.limit, f.after),
            (Some("tee"), 10, Some(ProductId::new(5)))
        );
        assert_eq!(ProductQuery::parse(None).expect("valid").limit, DEFAULT_LIMIT);
    }
}
