//! A dashboard address with a trailing slash (`/products/`) matches no
//! route, so it would fall through, past the sign-in guard, to an empty
//! page shell. It is redirected (308, keeping the method) to the address
//! without the slash, where the guard applies.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn redirect(request: Request, next: Next) -> Response {
    match canonical(request.uri()) {
        Some(to) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, to)]).into_response(),
        None => next.run(request).await,
    }
}

/// The address without trailing slashes, when it had some; never one
/// another site could hide in (`//host`, `/\host`). The JSON API and
/// webhooks keep their own answers.
fn canonical(uri: &axum::http::Uri) -> Option<String> {
    let path = uri.path();
    if path == "/" || !path.ends_with('/') || path.starts_with("/api/v1/") || path.starts_with("/webhooks/") {
        return None;
    }
    let trimmed = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let to = match uri.query() {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_owned(),
    };
    let local = !to.starts_with("//") && !to.contains('\\') && to.bytes().all(|b| b.is_ascii_graphic());
    local.then_some(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(uri: &'static str) -> Option<String> {
        canonical(&axum::http::Uri::from_static(uri))
    }

    #[test]
    fn trailing_slashes_go_to_the_address_without_them() {
        assert_eq!(to("/products/").as_deref(), Some("/products"));
        assert_eq!(to("/products/3//?q=a").as_deref(), Some("/products/3?q=a"));
        assert_eq!(to("//").as_deref(), Some("/"));
        assert_eq!(to("/products"), None);
        assert_eq!(to("/"), None);
        assert_eq!(to("/api/v1/products/"), None);
    }

    #[test]
    fn never_to_another_site() {
        assert_eq!(to("//evil.example/"), None);
        assert_eq!(to("/\\evil.example/"), None);
    }
}
