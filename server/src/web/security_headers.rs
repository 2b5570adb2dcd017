//! Headers on every answer that keep the browser strict: a Content
//! Security Policy, no framing, no referrer to other sites, no sniffing.
//!
//! Dashboard pages get a policy naming the nonce Leptos puts on its inline
//! scripts (the hydration bootstrap and the page's serialised data), set
//! while the page renders; every other answer gets the same policy without
//! a nonce, so it runs no inline script at all.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::use_context;

/// The policy, with `nonce` allowed to run inline scripts. Scripts and
/// styles come from this site only; the wasm module needs
/// `'wasm-unsafe-eval'` to compile; product images may live on any web
/// address; inline `style` attributes (progress bars) are allowed, style
/// elements are not.
fn policy(nonce: Option<&str>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self' https: http: data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// While a dashboard page renders: allows the inline scripts carrying this
/// response's nonce.
pub fn allow_this_pages_scripts() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    match HeaderValue::from_str(&policy(Some(&nonce))) {
        Ok(value) => response.insert_header(CONTENT_SECURITY_POLICY, value),
        Err(e) => tracing::error!(error = %e, "the page's security policy is not a header value"),
    }
}

pub async fn add(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(CONTENT_SECURITY_POLICY)
        && let Ok(value) = HeaderValue::from_str(&policy(None))
    {
        headers.insert(CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scripts(policy: &str) -> Option<String> {
        policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .map(|d| d.trim().to_owned())
    }

    #[test]
    fn only_the_nonce_runs_inline_scripts() {
        let page = policy(Some("abc123"));
        assert_eq!(
            scripts(&page).as_deref(),
            Some("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'")
        );
        assert_eq!(
            scripts(&policy(None)).as_deref(),
            Some("script-src 'self' 'wasm-unsafe-eval'")
        );
        assert!(page.contains("frame-ancestors 'none'"));
    }
}
