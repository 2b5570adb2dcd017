//! The JSON API for point-of-sale and back-office systems, under /api/v1,
//! authenticated with `Authorization: Bearer <token>`.

mod error;
mod openapi;
mod orders;
mod outlets;
mod product_document;
mod product_writes;
mod products;
mod stock;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, put};
use sync_core::Services;
use sync_core::domain::{Permission, Role};
use sync_core::service::ApiToken;

pub use error::ApiError;

use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/products",
            get(products::list)
                .post(product_writes::create)
                .layer(axum::extract::DefaultBodyLimit::max(product_writes::BODY_LIMIT)),
        )
        .route(
            "/products/{id}",
            get(product_writes::show)
                .patch(product_writes::update)
                .delete(product_writes::delete)
                .layer(axum::extract::DefaultBodyLimit::max(product_writes::BODY_LIMIT)),
        )
        .route("/products/{id}/auto_sync", put(products::set_auto_sync))
        .route("/orders", get(orders::list))
        .route("/outlets", get(outlets::list))
        .route("/stock", get(stock::show))
        .route(
            "/stock/movements",
            post(stock::record).layer(axum::extract::DefaultBodyLimit::max(stock::BODY_LIMIT)),
        )
        .route("/openapi.json", get(openapi::document))
        .fallback(|| async { ApiError::not_found("no such API endpoint; see /api/v1/openapi.json") })
        .layer(axum::middleware::from_fn_with_state(state, bearer_auth))
}

/// Refuses a body not sent as JSON: its Content-Type must be
/// `application/json`, parameters such as `charset` aside.
fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let sent = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = sent
        .as_deref()
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if essence.as_deref() == Some("application/json") {
        return Ok(());
    }
    let message = match sent {
        Some(v) => format!(
            "the body is sent as {:?}; send JSON with `Content-Type: application/json`",
            v.chars().take(100).collect::<String>()
        ),
        None => "the body has no Content-Type; send JSON with `Content-Type: application/json`".to_owned(),
    };
    Err(ApiError::new(
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        message,
    ))
}

/// The calling token, attached by `bearer_auth`.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiToken);

impl Caller {
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.0.role.allows(permission) {
            return Ok(());
        }
        let needed = match permission {
            Permission::Administer => Role::Owner,
            _ => Role::Manager,
        };
        Err(ApiError::forbidden(format!(
            "this token has the {} role; this request needs a {} token",
            self.0.role, needed
        )))
    }
}

async fn bearer_auth(State(services): State<Services>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization header; send `Authorization: Bearer <token>`"))?;
    let secret = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))?;
    let token = services
        .accounts
        .token_for_secret(secret)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::unauthorized("this API token is not valid or has been revoked"))?;
    request.extensions_mut().insert(Caller(token));
    Ok(next.run(request).await)
}
