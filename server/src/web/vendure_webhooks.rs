//! `POST /webhooks/vendure/{channel}/{secret}`: a Vendure store's
//! order-webhook plugin says an order changed state. Vendure signs nothing,
//! so the address carries the channel's webhook secret (made when the
//! channel was connected; only its hash is stored) and the body is never
//! trusted: a delivery only asks for a pull of the channel's orders from
//! the Admin API (coalesced with any pull already asked for), which reads
//! the orders themselves. Duplicates and deliveries out of order therefore
//! change nothing beyond an extra read.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sync_core::Services;
use sync_core::domain::ChannelId;
use sync_core::service::WebhookVerdict;

pub async fn vendure(
    State(services): State<Services>,
    Path((id, secret)): Path<(i64, String)>,
    body: Bytes,
) -> Response {
    match services
        .channels
        .receive_vendure_event(ChannelId::new(id), &secret)
        .await
    {
        Ok(WebhookVerdict::Accepted) => {
            let event = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
            tracing::info!(
                channel = id,
                order = %event["code"].as_str().unwrap_or("?").chars().take(40).collect::<String>(),
                state = %event["toState"].as_str().unwrap_or("?").chars().take(40).collect::<String>(),
                "Vendure order event; pulling orders"
            );
            StatusCode::OK.into_response()
        }
        Ok(WebhookVerdict::Refused(reason)) => {
            tracing::warn!(channel = id, reason, "refused a Vendure order event");
            (StatusCode::UNAUTHORIZED, "wrong webhook address").into_response()
        }
        Ok(WebhookVerdict::NotTaken) => (
            StatusCode::UNAUTHORIZED,
            "this channel has no webhook secret; connect it again for a webhook address",
        )
            .into_response(),
        Ok(_) => (StatusCode::NOT_FOUND, "no such Vendure channel").into_response(),
        Err(e) => {
            tracing::warn!(channel = id, error = %e, "cannot look up a webhook's channel");
            (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
        }
    }
}

/// `POST /webhooks/vendure/{channel}` without a secret: the address of
/// channels connected before webhook addresses carried one.
pub async fn vendure_without_secret(Path(id): Path<i64>) -> Response {
    tracing::warn!(channel = id, "a Vendure order event without the webhook secret");
    (
        StatusCode::UNAUTHORIZED,
        "this webhook address lacks its secret; use the address shown when the channel was connected",
    )
        .into_response()
}

/// `uri` as the request log shows it: a Vendure webhook address with its
/// secret replaced by `…`.
pub fn without_secret(uri: &axum::http::Uri) -> String {
    let path = uri.path();
    match path
        .strip_prefix("/webhooks/vendure/")
        .and_then(|rest| rest.split_once('/'))
    {
        Some((channel, _)) => format!("/webhooks/vendure/{channel}/…"),
        None => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_log_never_shows_a_webhook_secret() {
        let uri = |s: &str| s.parse::<axum::http::Uri>().expect("uri");
        assert_eq!(
            without_secret(&uri("/webhooks/vendure/7/abc123")),
            "/webhooks/vendure/7/…"
        );
        assert_eq!(without_secret(&uri("/webhooks/vendure/7")), "/webhooks/vendure/7");
        assert_eq!(without_secret(&uri("/products?q=tee")), "/products?q=tee");
    }
}
