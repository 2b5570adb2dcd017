//! Plain form POSTs answer with a redirect back to their page, carrying
//! their confirmation (or error) for the page to show as a toast.

use axum::response::{IntoResponse, Redirect, Response};
use sync_core::domain::Permission;
use sync_core::storage::User;

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

/// Sends a viewer back to `to` with the reason, unless `user` may change the catalog.
pub fn refuse_viewer(user: &User, to: &str) -> Option<Response> {
    (!user.role.allows(Permission::WriteCatalog)).then(|| {
        back(
            to,
            "Your account can view but not change anything. Ask an owner for the manager role.",
            true,
        )
    })
}

/// A form field's trimmed value; empty when absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

/// An optional whole number from a form field; empty means none.
pub fn optional_number(fields: &[(String, String)], name: &str, label: &str) -> Result<Option<i64>, String> {
    match field(fields, name) {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{label}: {v:?} is not a whole number")),
    }
}
