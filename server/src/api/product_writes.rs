//! One product by id: read it, create it, change it, delete it. Writes are
//! all or nothing and checked by the catalog file's rules; a refusal names
//! every field at fault by its path in the body.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use sync_core::Services;
use sync_core::domain::{Actor, Permission, ProductId};
use sync_core::service::{FieldProblem, ProductInput, ProductWrite};
use utoipa::ToSchema;

use super::product_document::{
    NewProductDocument, ProductChanges, ProductDocument, Target, read_product, sort_problems,
};
use super::{ApiError, Caller, stock};

/// A product with hundreds of variants stays well under this.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Serialize, ToSchema)]
pub struct DeletedProduct {
    pub id: i64,
    pub name: String,
    /// Always true: the product is gone from every list, its SKUs take no
    /// more stock movements, and the channels that list it delete it too.
    pub deleted: bool,
}

fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ProductId::new)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                format!("{raw:?} is not a product id"),
            )
        })
}

fn json_body(body: Result<Bytes, BytesRejection>) -> Result<(Bytes, Value), ApiError> {
    let body = body.map_err(|e| {
        let message = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            format!("the body is larger than {} KiB", BODY_LIMIT / 1024)
        } else {
            e.body_text()
        };
        ApiError::new(e.status(), "invalid_body", message)
    })?;
    let json = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    Ok((body, json))
}

/// A 422 naming every problem, in the document's order.
fn refused(mut problems: Vec<FieldProblem>) -> ApiError {
    sort_problems(&mut problems);
    ApiError::invalid_fields("invalid_product", problems)
}

/// Refuses a body whose types are wrong, with the rules' problems of the
/// rest (a field already refused for its type is not named twice).
async fn refuse_types(
    services: &Services,
    id: Option<ProductId>,
    input: &ProductInput,
    mut problems: Vec<FieldProblem>,
) -> Result<ApiError, ApiError> {
    if !problems.iter().any(|p| p.path.is_empty()) {
        let covered = |path: &str| {
            problems.iter().any(|p| {
                path.strip_prefix(p.path.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })
        };
        let more: Vec<FieldProblem> = services
            .catalog
            .check_product(id, input)
            .await?
            .into_iter()
            .filter(|p| !covered(&p.path))
            .collect();
        problems.extend(more);
    }
    Ok(refused(problems))
}

/// One product as the product document.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id", minimum = 1, example = 1)), security(("bearer" = [])),
    responses((status = 200, body = ProductDocument), (status = 401, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn show(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<ProductDocument>, ApiError> {
    caller.require(Permission::Read)?;
    let id = product_id(&id)?;
    let product = services
        .catalog
        .product(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("product {id} not found")))?;
    Ok(Json(product.into()))
}

/// Creates a product with its variants, all or nothing (manager or owner
/// token). Checked by the same rules as a catalog file; a refusal (422)
/// names every field at fault in `error.problems`. With an
/// `Idempotency-Key`, a retry of the same request answers 200 with the
/// product the first created (header `Idempotent-Replayed: true`).
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = NewProductDocument,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request create the product once")),
    security(("bearer" = [])),
    responses((status = 201, body = ProductDocument, description = "Created; `Location` names it"),
        (status = 200, body = ProductDocument, description = "A retry with the same Idempotency-Key"),
        (status = 400, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 413, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn create(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Permission::WriteCatalog)?;
    super::require_json(&headers)?;
    let (bytes, json) = json_body(body)?;
    // Scoped to this endpoint, so a key reused on another one is a different request.
    let key = stock::idempotency_key(
        &caller,
        &headers,
        &[b"POST /api/v1/products\n".as_slice(), &bytes].concat(),
    )?;
    let (input, problems) = read_product(&json, Target::New);
    if !problems.is_empty() {
        return Err(refuse_types(&services, None, &input, problems).await?);
    }
    match services.catalog.create_product(&input, key.as_ref()).await? {
        ProductWrite::Refused(problems) => Err(refused(problems)),
        ProductWrite::Saved { product, replayed } => {
            let location = format!("/api/v1/products/{}", product.id);
            let mut response = (
                if replayed { StatusCode::OK } else { StatusCode::CREATED },
                Json(ProductDocument::from(*product)),
            )
                .into_response();
            let headers = response.headers_mut();
            if let Ok(location) = HeaderValue::from_str(&location) {
                headers.insert(header::LOCATION, location);
            }
            if replayed {
                headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            Ok(response)
        }
    }
}

/// Changes a product, all or nothing (manager or owner token): the fields
/// given, the variants given (by `id`; without one, added), the variants in
/// `remove_variant_ids` removed. Checked by the same rules as a catalog
/// file; a refusal (422) names every field at fault in `error.problems`.
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", request_body = ProductChanges,
    params(("id" = i64, Path, description = "Product id", minimum = 1, example = 1)), security(("bearer" = [])),
    responses((status = 200, body = ProductDocument), (status = 400, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 413, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)))]
pub async fn update(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ProductDocument>, ApiError> {
    caller.require(Permission::WriteCatalog)?;
    let id = product_id(&id)?;
    super::require_json(&headers)?;
    let (_, json) = json_body(body)?;
    let (input, problems) = read_product(&json, Target::Existing(id));
    if !problems.is_empty() {
        return Err(refuse_types(&services, Some(id), &input, problems).await?);
    }
    match services.catalog.update_product(id, &input).await? {
        ProductWrite::Refused(problems) => Err(refused(problems)),
        ProductWrite::Saved { product, .. } => Ok(Json((*product).into())),
    }
}

/// Deletes a product (manager or owner token): gone from every list, its
/// SKUs take no more stock movements, its history stays, and every channel
/// that lists it deletes it too, in the background.
#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id", minimum = 1, example = 1)), security(("bearer" = [])),
    responses((status = 200, body = DeletedProduct), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn delete(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<DeletedProduct>, ApiError> {
    caller.require(Permission::WriteCatalog)?;
    let id = product_id(&id)?;
    let actor = Actor::Api {
        token: caller.0.id,
        name: caller.0.name.clone(),
    };
    let name = services.catalog.delete_product(&actor, id).await?;
    Ok(Json(DeletedProduct {
        id: id.get(),
        name,
        deleted: true,
    }))
}
