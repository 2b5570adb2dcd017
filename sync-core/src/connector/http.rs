//! What the HTTP layer of a channel's answer means, the same for every
//! connector: refused credentials, "slow down", or a server error worth
//! trying again. What the body says is each connector's own protocol.

use std::time::Duration;

use super::ConnectorError;

/// How long to wait after a 429 that names no `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(2);

/// The error an answer's status means before its body is read: 401 and 403
/// are refused credentials, 429 asks us to wait (its `Retry-After`), 5xx may
/// pass if tried again later. `None` for every other status.
pub(super) fn status_error(response: &reqwest::Response, from: &str) -> Option<ConnectorError> {
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Some(ConnectorError::Unauthorized(format!("HTTP {status} from {from}")));
    }
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs_f64);
        return Some(ConnectorError::RateLimited { retry_after });
    }
    status
        .is_server_error()
        .then(|| ConnectorError::Transient(format!("HTTP {status}")))
}

/// A request that got no answer, in words: timed out, no connection, or
/// what reqwest says.
pub(super) fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        format!("request failed: {e}")
    }
}

/// The start of a body, for an error message.
pub(super) fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}
