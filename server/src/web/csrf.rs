//! Cross-site request forgery guard: a state-changing request that says it
//! comes from another origin is refused. SameSite cookies are the first
//! line; this catches browsers and flows where they are not enough.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The JSON API authenticates with bearer tokens, which browsers never attach on their own.
    // Bearer-token API calls and signed channel webhooks carry no cookies to abuse.
    let token_api = request.uri().path().starts_with("/api/v1/") || request.uri().path().starts_with("/webhooks/");
    if safe || token_api || same_origin(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
    (StatusCode::FORBIDDEN, "Refused: this request came from another site.").into_response()
}

/// True unless Origin (or, failing that, Referer) names a host other than ours.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return true;
    };
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match claimed {
        None => true,
        Some("null") => false,
        Some(url) => url
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            .is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_host_origin_passes_and_other_hosts_do_not() {
        assert!(same_origin(&headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "http://127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::REFERER, "https://evil.example/x")
        ])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "null")
        ])));
        assert!(same_origin(&headers(&[(header::HOST, "127.0.0.1:3000")])));
    }
}
