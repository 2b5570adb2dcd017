//! `POST /webhooks/shopify/{channel}`: a channel says its orders changed.
//! The signature is checked over the raw body; a good delivery only asks
//! for a pull (the pull reads the orders themselves), so duplicates and
//! deliveries out of order are harmless, and the answer goes out at once.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sync_core::domain::ChannelId;
use sync_core::storage::{EventResult, NewEvent, RunTrigger};

use super::AppState;

pub async fn shopify(State(state): State<AppState>, Path(id): Path<i64>, headers: HeaderMap, body: Bytes) -> Response {
    let channel = ChannelId::new(id);
    let signature = headers.get("x-shopify-hmac-sha256").and_then(|v| v.to_str().ok());
    let topic = headers
        .get("x-shopify-topic")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_owned();
    match sync_core::webhook::verify_delivery(&state.storage, &state.vault, channel, &body, signature).await {
        Ok(true) => {
            tracing::info!(channel = id, %topic, "webhook received; pulling orders");
            state.pulls.request(channel, RunTrigger::Webhook);
            StatusCode::OK.into_response()
        }
        Ok(false) => {
            let reason = if signature.is_none() {
                "no signature"
            } else {
                "a signature that does not match"
            };
            tracing::warn!(channel = id, %topic, reason, "refused a webhook");
            let event = NewEvent {
                product_id: None,
                variant_id: None,
                action: "webhook refused".into(),
                before: Some(topic),
                after: None,
                result: EventResult::Failed,
                error: Some(format!("a webhook came with {reason}; it was ignored")),
                attempt: 1,
            };
            if let Err(e) = state
                .storage
                .record_events(None, Some(channel), "webhook", &[event])
                .await
            {
                tracing::error!(error = %e, "cannot record a refused webhook");
            }
            (StatusCode::UNAUTHORIZED, "invalid webhook signature").into_response()
        }
        Err(sync_core::Error::NotFound(_)) => (StatusCode::NOT_FOUND, "no such channel").into_response(),
        Err(e) => {
            tracing::warn!(channel = id, error = %e, "cannot check a webhook");
            (StatusCode::UNAUTHORIZED, "this channel takes no webhooks").into_response()
        }
    }
}
