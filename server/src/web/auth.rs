//! Signing in and out, and the guard every page and server function sits
//! behind. The sign-in page is a plain HTML form: it works without JavaScript.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use sync_core::Services;
use sync_core::domain::UserId;
use tower_sessions::Session;

use crate::state::AppState;

const USER_KEY: &str = "user_id";

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The longest email anyone can have signed up with (see `Email::parse`).
const MAX_EMAIL_LEN: usize = 254;

pub async fn sign_in_page(State(state): State<AppState>, session: Session, Query(q): Query<SignInQuery>) -> Response {
    let next = state.pages.next(q.next.as_deref());
    if current_user_id(&session).await.is_some() {
        return Redirect::to(next).into_response();
    }
    let hint = state.services.accounts.demo_account_exists().await.unwrap_or(false);
    Html(sign_in_html(next, "", None, hint)).into_response()
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Form(form): Form<SignInForm>,
) -> Response {
    let ip = peer.ip();
    let next = state.pages.next(form.next.as_deref()).to_owned();
    let hint = state.services.accounts.demo_account_exists().await.unwrap_or(false);
    let attempt = match state.limiter.attempt(&form.email, ip) {
        Ok(attempt) => attempt,
        Err(refused) => {
            tracing::warn!(%ip, "refused a sign-in: too many failed attempts");
            let minutes = refused.retry_after_secs.div_ceil(60);
            let html = sign_in_html(
                &next,
                shown_email(&form.email),
                Some(&format!(
                    "Too many failed sign-ins. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )),
                hint,
            );
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, refused.retry_after_secs.to_string())],
                Html(html),
            )
                .into_response();
        }
    };
    let user = match form.email.len() {
        // No account has such an email: nothing to check.
        len if len > MAX_EMAIL_LEN => Ok(None),
        _ => state.services.accounts.authenticate(&form.email, &form.password).await,
    };
    let user = match user {
        Ok(user) => user,
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "sign-in failed");
            let html = sign_in_html(
                &next,
                shown_email(&form.email),
                Some("Something went wrong on our side. Please try again."),
                hint,
            );
            return (StatusCode::INTERNAL_SERVER_ERROR, Html(html)).into_response();
        }
    };
    let Some(user) = user else {
        tracing::info!(%ip, "failed sign-in");
        let html = sign_in_html(&next, shown_email(&form.email), Some("Wrong email or password."), hint);
        return (StatusCode::UNAUTHORIZED, Html(html)).into_response();
    };
    state.limiter.succeeded(attempt);
    // A fresh session id on sign-in, so an id planted before cannot be reused.
    let stored = async {
        session.cycle_id().await?;
        session.insert(USER_KEY, user.id).await
    }
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %e, "cannot store the session");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Cannot start a session; please try again.",
        )
            .into_response();
    }
    tracing::info!(user = %user.email, "signed in");
    // Seed 002: signing in brings in the orders of channels not pulled lately.
    if let Err(e) = state.services.channels.pull_stale().await {
        tracing::warn!(error = %e, "cannot read the channels to pull at sign-in");
    }
    Redirect::to(&next).into_response()
}

/// The email to put back in the form: not one too long to be anyone's.
fn shown_email(email: &str) -> &str {
    if email.len() > MAX_EMAIL_LEN { "" } else { email }
}

pub async fn sign_out(session: Session) -> Response {
    if let Err(e) = session.flush().await {
        tracing::warn!(error = %e, "could not delete the session");
    }
    Redirect::to("/login").into_response()
}

async fn current_user_id(session: &Session) -> Option<UserId> {
    session.get::<UserId>(USER_KEY).await.ok().flatten()
}

/// Lets a request through only with a signed-in user, whom it attaches
/// for server functions. Pages redirect to sign-in; server functions get 401.
pub async fn require_sign_in(
    State(services): State<Services>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let user = match current_user_id(&session).await {
        Some(id) => services.accounts.user(id).await.ok().flatten(),
        None => None,
    };
    match user {
        Some(user) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        // A server function posted by a plain form (no JavaScript) is a page visit.
        None if request.uri().path().starts_with("/api/") && !is_plain_form_post(&request) => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"Unauthenticated": null})),
        )
            .into_response(),
        None => {
            let wanted = match request.uri().path_and_query() {
                Some(pq) if !pq.path().starts_with("/api/") => pq.as_str(),
                _ => "/products",
            };
            Redirect::to(&format!("/login?next={}", percent_encode(wanted))).into_response()
        }
    }
}

/// A browser's own form submission asks for HTML; the server function
/// client asks for JSON.
fn is_plain_form_post(request: &Request) -> bool {
    request.method() == axum::http::Method::POST
        && request
            .headers()
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The sign-in form; `next` is already one of our pages.
fn sign_in_html(next: &str, email: &str, error: Option<&str>, demo_hint: bool) -> String {
    let next = escape(next);
    let email = escape(email);
    let error = error
        .map(|e| format!(r#"<p class="form-error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let hint = if demo_hint {
        format!(
            r#"<p class="hint">Demo store: sign in as <code>{}</code> with the password <code>{}</code>.</p>"#,
            sync_core::demo::DEMO_EMAIL,
            sync_core::demo::DEMO_PASSWORD
        )
    } else {
        String::new()
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Tillbridge</title>
<link rel="stylesheet" href="/pkg/tillbridge.css">
</head>
<body class="sign-in-body">
<main class="sign-in">
<h1>Tillbridge</h1>
<p class="muted">Sign in to manage your products, stock and channels.</p>
{error}
<form method="post" action="/login" class="stack">
<input type="hidden" name="next" value="{next}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{email}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button>
</form>
{hint}
</main>
</body>
</html>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_what_it_echoes() {
        let html = sign_in_html("/products", "\"><script>", None, false);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;"));
    }
}
