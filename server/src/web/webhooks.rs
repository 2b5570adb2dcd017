//! `POST /webhooks/shopify/{channel}`: a channel says its orders changed.
//! The signature is checked over the raw body; a good delivery only asks
//! for a pull (the pull reads the orders themselves), so duplicates and
//! deliveries out of order are harmless, and the answer goes out at once.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sync_core::Services;
use sync_core::domain::ChannelId;
use sync_core::service::WebhookVerdict;

pub async fn shopify(
    State(services): State<Services>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers.get("x-shopify-hmac-sha256").and_then(|v| v.to_str().ok());
    let topic = headers
        .get("x-shopify-topic")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    match services
        .channels
        .receive_shopify_webhook(ChannelId::new(id), topic, &body, signature)
        .await
    {
        Ok(WebhookVerdict::Accepted) => {
            tracing::info!(channel = id, %topic, "webhook received; pulling orders");
            StatusCode::OK.into_response()
        }
        Ok(WebhookVerdict::Refused(reason)) => {
            tracing::warn!(channel = id, %topic, reason, "refused a webhook");
            (StatusCode::UNAUTHORIZED, "invalid webhook signature").into_response()
        }
        Ok(WebhookVerdict::NoSuchChannel) => (StatusCode::NOT_FOUND, "no such channel").into_response(),
        Ok(WebhookVerdict::NotTaken) => (StatusCode::UNAUTHORIZED, "this channel takes no webhooks").into_response(),
        Err(e) => {
            tracing::error!(channel = id, error = %e, "cannot handle a webhook");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}
