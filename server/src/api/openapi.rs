//! The OpenAPI document of /api/v1.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tillbridge API", description = "Products, outlets, stock and channel orders for point-of-sale and back-office systems."),
    paths(
        super::products::list,
        super::product_writes::create,
        super::product_writes::show,
        super::product_writes::update,
        super::product_writes::delete,
        super::products::set_auto_sync,
        super::outlets::list,
        super::stock::record,
        super::stock::show,
        super::orders::list
    ),
    modifiers(&BearerAuth),
    tags((name = "products"), (name = "outlets"), (name = "stock"), (name = "orders", description = "Orders pulled from the web channels"))
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
