//! The HTTP server: dashboard pages and server functions (behind sign-in),
//! the sign-in form, the JSON API, webhooks, health, and the site's static
//! files. Every dashboard read and write is a server function in `app`.

mod auth;
mod csrf;
mod downloads;
pub(crate) mod next_page;
mod progress;
mod security_headers;
mod session_store;
pub(crate) mod sign_in_limiter;
mod trailing_slash;
mod vendure_webhooks;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sync_core::{Database, Runtime, Services};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tracing::Level;

use crate::config::{GlobalArgs, ServeArgs};
use crate::state::AppState;

pub async fn serve(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let secure_cookie = args.secure_cookie()?;
    let database = global.database().await?;
    let services = Services::new(&database, global.vault()?);
    if args.demo && database.is_empty().await? {
        let summary = database.load_demo().await.context("cannot load the demo store")?;
        tracing::info!(
            outlets = summary.outlets,
            products = summary.products,
            skus = summary.variants,
            "loaded the demo store"
        );
    }
    if services.accounts.demo_account_exists().await? {
        tracing::info!(
            "demo account: sign in as {} with the password {}",
            sync_core::demo::DEMO_EMAIL,
            sync_core::demo::DEMO_PASSWORD
        );
    }
    let listener = tokio::net::TcpListener::bind(args.bind).await.with_context(|| {
        format!(
            "cannot listen on {} (is another Tillbridge running? set TILLBRIDGE_BIND)",
            args.bind
        )
    })?;
    let addr = listener.local_addr().context("cannot read the bound address")?;
    let (runtime, recovered) = Runtime::start(&services, &worker_id(addr)).await?;
    if recovered.pushes + recovered.runs > 0 {
        tracing::info!(
            pushes = recovered.pushes,
            runs = recovered.runs,
            "resumed work interrupted by the last stop"
        );
    }
    let app = router(database.clone(), services.clone(), addr, secure_cookie)?;
    tracing::info!("Tillbridge is listening on http://{addr}");
    let cleanup = tokio::spawn(expire_sessions(services.clone()));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the web server stopped")?;
    cleanup.abort();
    runtime.shutdown().await;
    database.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Names this process's claims on pushes, unique across processes and restarts.
fn worker_id(addr: SocketAddr) -> String {
    format!(
        "{}:{}:{}",
        addr,
        std::process::id(),
        sync_core::domain::Timestamp::now().as_datetime().timestamp_micros()
    )
}

/// The sign-in form is a few fields: its body is refused past this.
const SIGN_IN_BODY_LIMIT: usize = 4 * 1024;

fn router(database: Database, services: Services, addr: SocketAddr, secure_cookie: bool) -> anyhow::Result<Router> {
    let mut conf = get_configuration(None).context("cannot read the Leptos site configuration")?;
    conf.leptos_options.site_addr = addr;
    let leptos_options = conf.leptos_options;
    let routes = generate_route_list(app::App);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
        database,
        limiter: Arc::new(sign_in_limiter::SignInLimiter::default()),
        pages: Arc::new(next_page::PagePaths::new(routes.iter().map(|r| r.path()))),
    };
    // While a page renders: the services for its server functions, and
    // the security policy naming its scripts' nonce.
    let page_context = {
        let services = services.clone();
        move || {
            provide_context(services.clone());
            security_headers::allow_this_pages_scripts();
        }
    };

    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, page_context.clone(), {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .route("/logout", post(auth::sign_out))
        .route("/channels/{id}/events", get(progress::events))
        .route("/export/catalog.csv", get(downloads::catalog))
        .route("/export/stock.csv", get(downloads::stock))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_sign_in,
        ));

    let sessions = SessionManagerLayer::new(session_store::DbSessionStore::new(services.accounts.clone()))
        .with_name("tillbridge_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookie)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));

    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
            // As DefaultMakeSpan, but a Vendure webhook address's secret is not logged.
            tracing::info_span!(
                "request",
                method = %request.method(),
                uri = %vendure_webhooks::without_secret(request.uri()),
                version = ?request.version(),
            )
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO));

    Ok(Router::new()
        .merge(pages)
        .route(
            "/login",
            get(auth::sign_in_page)
                .post(auth::sign_in)
                .layer(axum::extract::DefaultBodyLimit::max(SIGN_IN_BODY_LIMIT)),
        )
        .route("/healthz", get(healthz))
        .route("/webhooks/shopify/{id}", post(webhooks::shopify))
        .route("/webhooks/vendure/{id}", post(vendure_webhooks::vendure_without_secret))
        .route("/webhooks/vendure/{id}/{secret}", post(vendure_webhooks::vendure))
        .nest("/api/v1", crate::api::router(state.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            page_context,
            app::shell,
        ))
        .layer(axum::middleware::from_fn(csrf::same_origin_only))
        .layer(sessions)
        .layer(axum::middleware::from_fn(trailing_slash::redirect))
        .layer(axum::middleware::from_fn(security_headers::add))
        .layer(trace)
        .with_state(state))
}

async fn healthz(State(database): State<Database>) -> impl IntoResponse {
    match database.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "database unavailable"})),
            )
        }
    }
}

async fn expire_sessions(services: Services) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(e) = services.accounts.delete_expired_sessions().await {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
