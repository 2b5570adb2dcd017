//! The OpenAPI document of /api/v1.

use axum::Json;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
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
    modifiers(&BearerAuth, &ErrorAnswers),
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

/// The error answers every operation can give besides its own, added where
/// they apply so no path forgets one: the token check's 401, a malformed
/// query, path or header's 400, a read-only token's 403 on a write, an
/// unknown id's 404, and a body's 413 (too large), 415 (not sent as JSON)
/// and 422 (JSON, but not what the operation takes).
struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let by_id = path.contains('{');
            for (method, operation) in [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Patch, &mut item.patch),
                (HttpMethod::Delete, &mut item.delete),
            ] {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let has_body = operation.request_body.is_some();
                let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                add(
                    operation,
                    "401",
                    "No valid API token: the Authorization header is missing, malformed or revoked",
                );
                if has_params || has_body || by_id {
                    add(
                        operation,
                        "400",
                        "A query parameter, path segment, header or the JSON itself is malformed",
                    );
                }
                if !matches!(method, HttpMethod::Get) {
                    add(
                        operation,
                        "403",
                        "The token's role may not make this change (a viewer token)",
                    );
                }
                if by_id {
                    add(operation, "404", "No product has this id");
                }
                if has_body {
                    add(operation, "413", "The body is larger than the operation accepts");
                    add(
                        operation,
                        "415",
                        "The body is not sent with `Content-Type: application/json`",
                    );
                    add(
                        operation,
                        "422",
                        "The body is JSON but not what the operation takes; the message names the field",
                    );
                }
            }
        }
    }
}

/// Documents `status` as an error answer of `operation`, unless it already is.
fn add(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        });
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
