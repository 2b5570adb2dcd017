//! Plain form POSTs answer with a redirect back to their page, carrying
//! their confirmation (or error) for the page to show as a toast.

use axum::response::{IntoResponse, Redirect, Response};

/// A 303 to `to` with `notice=message` (and `notice_error=1` for errors).
pub fn back(to: &str, message: &str, is_error: bool) -> Response {
    // Drop an earlier notice so they do not pile up in the URL.
    let (path, query) = to.split_once('?').unwrap_or((to, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("notice"))
        .collect();
    let mut url = format!("{path}?");
    for p in kept {
        url.push_str(p);
        url.push('&');
    }
    url.push_str("notice=");
    url.push_str(&urlencode(message));
    if is_error {
        url.push_str("&notice_error=1");
    }
    Redirect::to(&url).into_response()
}

pub fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}
