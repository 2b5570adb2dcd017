//! `POST /webhooks/vendure/{channel}`: a Vendure store's order-webhook plugin
//! says an order changed state. Vendure signs nothing, so the body is never
//! trusted: a delivery only asks for a pull of the channel's orders from the
//! Admin API (coalesced with any pull already asked for), which reads the
//! orders themselves. Duplicates, deliveries out of order and forgeries
//! therefore change nothing beyond an extra read.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sync_core::Services;
use sync_core::domain::ChannelId;
use sync_core::service::WebhookVerdict;

pub async fn vendure(State(services): State<Services>, Path(id): Path<i64>, body: Bytes) -> Response {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "the body is not JSON").into_response();
    };
    match services.channels.receive_vendure_event(ChannelId::new(id)).await {
        Ok(WebhookVerdict::Accepted) => {
            tracing::info!(
                channel = id,
                order = %event["code"].as_str().unwrap_or("?"),
                state = %event["toState"].as_str().unwrap_or("?"),
                "Vendure order event; pulling orders"
            );
            StatusCode::OK.into_response()
        }
        Ok(_) => (StatusCode::NOT_FOUND, "no such Vendure channel").into_response(),
        Err(e) => {
            tracing::warn!(channel = id, error = %e, "cannot look up a webhook's channel");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}
