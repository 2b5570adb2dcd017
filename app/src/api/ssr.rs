//! Server-side helpers for server functions: the services from context, the
//! signed-in user checked against the permission a function needs, and the
//! answer to a form posted without JavaScript.

use axum::Extension;
use leptos::prelude::*;
use sync_core::Services;
use sync_core::domain::{Actor, Permission, Role};
use sync_core::service::User;

use crate::AppError;

/// The sync core's services, which the server put into context.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("services missing from server function context");
        AppError::Internal("no-services".into())
    })
}

/// The signed-in user (set by the server's auth layer), or Unauthenticated.
pub async fn current_user() -> Result<User, AppError> {
    match leptos_axum::extract::<Option<Extension<User>>>().await {
        Ok(Some(Extension(user))) => Ok(user),
        _ => fail(AppError::Unauthenticated),
    }
}

/// The signed-in user, if their role allows `permission`.
pub async fn require(permission: Permission) -> Result<User, AppError> {
    let user = current_user().await?;
    if user.role.allows(permission) {
        return Ok(user);
    }
    let message = match (user.role, permission) {
        (Role::Viewer, _) => "Your account can view but not change anything. Ask an owner for the manager role.",
        _ => "Only an owner can do this.",
    };
    fail(AppError::Forbidden(message.into()))
}

/// Who did it, for the Sync History.
pub fn actor(user: &User) -> Actor {
    Actor::User {
        id: user.id,
        email: user.email.to_string(),
    }
}

/// Sets the response status to match `error`.
pub fn set_status(error: &AppError) {
    set_status_code(error.status());
}

/// Sets the response status of the page or answer being made.
pub fn set_status_code(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// Sets the status of a page rendered on the server, when a server
/// function's successful answer means, say, "Gone" to the page; a call
/// from the browser's server function client keeps its 200, which the
/// client reads as success.
pub fn set_page_status(status: http::StatusCode) {
    let called = use_context::<http::request::Parts>().is_some_and(|parts| parts.uri.path().starts_with("/api/"));
    if !called {
        set_status_code(status);
    }
}

pub fn fail<T>(error: AppError) -> Result<T, AppError> {
    set_status(&error);
    Err(error)
}

/// A domain rule's refusal, as a field error for the form.
pub fn invalid(e: sync_core::domain::DomainError) -> AppError {
    let error = AppError::Invalid {
        field: e.field.to_owned(),
        message: e.message,
    };
    set_status(&error);
    error
}

/// A browser's own form submission (no JavaScript) asks for HTML; the
/// server function client asks for JSON.
fn plain_form_post() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    })
}

/// Answers a dashboard form. Without JavaScript, the browser is sent back
/// to `page` with the confirmation or the refusal in the URL (which the
/// page shows), and `keep` (what was typed, never secrets) on a refusal;
/// with it, the result goes back to the form as it is.
pub fn answer<T>(
    page: &str,
    result: Result<T, AppError>,
    confirm: impl FnOnce(&T) -> String,
    keep: &[(&str, &str)],
) -> Result<T, AppError> {
    if plain_form_post() {
        let url = match &result {
            Ok(done) => notice_url(page, &confirm(done), None, &[]),
            Err(AppError::Fields(fields)) => {
                let each: Vec<(String, &str)> =
                    fields.iter().map(|(f, m)| (format!("error.{f}"), m.as_str())).collect();
                let mut keep = keep.to_vec();
                keep.extend(each.iter().map(|(k, m)| (k.as_str(), *m)));
                let e = &result.as_ref().err().map(AppError::message).unwrap_or_default();
                notice_url(page, e, fields.first().map(|(f, _)| f.as_str()), &keep)
            }
            Err(e) => notice_url(page, &e.message(), Some(e.field()), keep),
        };
        see_other(&url);
    }
    result
}

/// A 303 to `url` for a plain form post (the browser then GETs it); for
/// the server function client, the header that makes it navigate there.
pub fn see_other(url: &str) {
    leptos_axum::redirect(url);
    if plain_form_post()
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(http::StatusCode::SEE_OTHER);
    }
}

/// Where a form sends the browser once done, and what it says there.
pub struct Next {
    pub to: String,
    pub notice: String,
}

impl Next {
    pub fn to(to: impl Into<String>, notice: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            notice: notice.into(),
        }
    }
}

/// Runs a form's work and answers it. Done: the browser goes on to the
/// page `Next` names, with its notice (with JavaScript, the client
/// navigates there). Refused: as `answer` says, back to `page`.
pub async fn submit(
    page: &str,
    keep: &[(&str, &str)],
    work: impl std::future::Future<Output = Result<Next, AppError>>,
) -> Result<(), AppError> {
    match work.await {
        Ok(next) => {
            go_to(&next.to, &next.notice);
            Ok(())
        }
        Err(e) => answer(page, Err(e), |_: &()| String::new(), keep),
    }
}

/// Sends the browser on to `to`, with or without JavaScript.
pub fn go_to(to: &str, message: &str) {
    see_other(&notice_url(to, message, None, &[]));
}

/// `page` with `notice=message`, `notice_error=1` and `error_field` for a
/// refusal, and the `keep` pairs; an earlier notice is dropped.
/// What a refusal's URL carries back at most: a value typed longer than
/// this is not kept (the form shows it empty with its error), and a message
/// is cut, so no paste makes the redirect too large for a browser.
const KEPT_CHARS: usize = 2_000;
const NOTICE_CHARS: usize = 500;

pub fn notice_url(page: &str, message: &str, error_field: Option<&str>, keep: &[(&str, &str)]) -> String {
    let (path, query) = page.split_once('?').unwrap_or((page, ""));
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("notice") && !k.starts_with("error."))
        .filter(|(k, _)| k != "error_field")
        .collect();
    if let Some(field) = error_field.filter(|f| !f.is_empty()) {
        pairs.insert(0, ("error_field".into(), field.to_owned()));
    }
    for (k, v) in keep {
        if k.starts_with("error.") {
            pairs.push(((*k).to_owned(), cut(v, NOTICE_CHARS)));
        } else if v.chars().count() <= KEPT_CHARS {
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    if !message.is_empty() || error_field.is_some() {
        pairs.push(("notice".into(), cut(message, NOTICE_CHARS)));
    }
    if error_field.is_some() {
        pairs.push(("notice_error".into(), "1".into()));
    }
    format!("{path}?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max - 1).collect();
    kept.push('…');
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_replaces_the_last_and_keeps_the_view() {
        assert_eq!(
            notice_url("/products?q=tee&notice=old&notice_error=1", "Done", None, &[]),
            "/products?q=tee&notice=Done"
        );
        assert_eq!(
            notice_url("/channels/new", "name: taken", Some("name"), &[("name", "Web & shop")]),
            "/channels/new?error_field=name&name=Web+%26+shop&notice=name%3A+taken&notice_error=1"
        );
    }

    #[test]
    fn a_refusal_of_a_huge_paste_keeps_the_url_small() {
        let paste = "é".repeat(70_000);
        let message = format!("{paste:?} is not an outlet code");
        let url = notice_url(
            "/products/1",
            &message,
            Some("outlet"),
            &[("outlet", &paste), ("note", "kept"), ("error.outlet", &message)],
        );
        assert!(url.len() < 8_000, "{} bytes", url.len());
        assert!(url.contains("note=kept") && !url.contains("outlet=%C3"), "{url}");
        assert!(url.contains("notice_error=1"));
    }
}
