use axum::Json;
use axum::extract::{Extension, State};
use serde::Serialize;
use sync_core::Services;
use sync_core::domain::Permission;
use utoipa::ToSchema;

use super::{ApiError, Caller};

#[derive(Serialize, ToSchema)]
pub struct OutletJson {
    /// The short code the API uses to name the outlet, e.g. `downtown`.
    pub code: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OutletList {
    pub outlets: Vec<OutletJson>,
}

/// The outlets (stores and warehouses) stock is held at.
#[utoipa::path(get, path = "/api/v1/outlets", tag = "outlets", security(("bearer" = [])),
    responses((status = 200, body = OutletList), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(
    State(services): State<Services>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<OutletList>, ApiError> {
    caller.require(Permission::Read)?;
    let outlets = services.catalog.outlets().await?;
    Ok(Json(OutletList {
        outlets: outlets
            .into_iter()
            .map(|o| OutletJson {
                code: o.code.to_string(),
                name: o.name,
            })
            .collect(),
    }))
}
