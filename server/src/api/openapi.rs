//! The OpenAPI document of /api/v1.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tillbridge API", description = "Products, outlets and stock for point-of-sale and back-office systems."),
    paths(
        super::products::list,
        super::products::set_auto_sync,
        super::outlets::list,
        super::stock::record,
        super::stock::show
    ),
    modifiers(&BearerAuth),
    tags((name = "products"), (name = "outlets"), (name = "stock"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `tillbridge token create`"))
                    .build(),
            ),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
