//! `POST /webhooks/shopify/{channel}`: a channel says its orders changed.
//! The signature is checked over the raw body; a good delivery only asks
//! for a pull (the pull reads the orders themselves), and the answer goes
//! out at once. A signed delivery triggered more than 5 minutes ago, or
//! whose webhook id came already, is acknowledged and ignored; refusals
//! are reported in the Sync History at most once a minute per channel.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sync_core::Services;
use sync_core::domain::ChannelId;
use sync_core::service::{ShopifyDelivery, WebhookVerdict};

pub async fn shopify(
    State(services): State<Services>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let topic = header("x-shopify-topic").unwrap_or("unknown");
    let delivery = ShopifyDelivery {
        topic,
        body: &body,
        signature: header("x-shopify-hmac-sha256"),
        webhook_id: header("x-shopify-webhook-id"),
        triggered_at: header("x-shopify-triggered-at"),
    };
    // What the log keeps of a header anyone can send.
    let topic: String = topic.chars().take(100).collect();
    match services
        .channels
        .receive_shopify_webhook(ChannelId::new(id), &delivery)
        .await
    {
        Ok(WebhookVerdict::Accepted) => {
            tracing::info!(channel = id, %topic, "webhook received; pulling orders");
            StatusCode::OK.into_response()
        }
        Ok(WebhookVerdict::Ignored(reason)) => {
            tracing::info!(channel = id, %topic, reason, "ignored a signed webhook");
            (StatusCode::OK, format!("ignored: {reason}")).into_response()
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
