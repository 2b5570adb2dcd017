//! The HTTP server: dashboard pages and server functions (behind sign-in),
//! the sign-in form, the JSON API, health, and the site's static files.

mod auth;
mod bulk;
mod channel_settings;
mod connect;
mod csrf;
mod import;
mod notice;
mod product_edit;
mod progress;
mod session_store;
mod sync_buttons;
mod throttle;
mod vendure_webhooks;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sync_core::Storage;
use sync_core::sync::{SyncEngine, Waker};
use sync_core::vault::Vault;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tracing::Level;

use crate::config::{GlobalArgs, ServeArgs};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub storage: Storage,
    pub throttle: Arc<throttle::SignInThrottle>,
    pub waker: Waker,
    pub vault: Vault,
    pub running: Arc<sync_core::sync::RunningSyncs>,
    /// Asks the order cycle to pull a channel (webhooks, sign-ins).
    pub pulls: sync_core::sync::PullRequests,
}

pub async fn serve(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let storage = global.storage().await?;
    let vault = Vault::new(&global.secret_key().context("cannot prepare the secret key")?);
    if args.demo && storage.is_empty().await? {
        let summary = sync_core::demo::load_demo(&storage)
            .await
            .context("cannot load the demo store")?;
        tracing::info!(
            outlets = summary.outlets,
            products = summary.products,
            skus = summary.variants,
            "loaded the demo store"
        );
    }
    if sync_core::demo::demo_account_exists(&storage).await? {
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
    // Work a crash left in flight is due again; runs it cut short are marked so.
    let recovered = storage.recover_outbox_after_crash().await?;
    // On PostgreSQL other live processes may be mid-run, so only SQLite (one process) marks them.
    let interrupted = match storage.engine() {
        sync_core::storage::Engine::Sqlite => {
            storage
                .mark_interrupted_runs(sync_core::domain::Timestamp::now())
                .await?
        }
        sync_core::storage::Engine::Postgres => 0,
    };
    if recovered + interrupted > 0 {
        tracing::info!(
            pushes = recovered,
            runs = interrupted,
            "resumed work interrupted by the last stop"
        );
    }
    let pulls = sync_core::sync::PullRequests::default();
    let engine = SyncEngine::start(storage.clone(), vault.clone(), worker_id(addr), pulls.clone());
    let running = Arc::new(sync_core::sync::RunningSyncs::default());
    let cycle = sync_core::sync::OrderCycle::start(
        storage.clone(),
        vault.clone(),
        pulls.clone(),
        engine.waker(),
        running.clone(),
        worker_id(addr),
    );
    let feeds = sync_core::import::FeedScheduler::start(storage.clone(), engine.waker());
    let app = router(storage.clone(), addr, engine.waker(), vault, pulls, running).await?;
    tracing::info!("Tillbridge is listening on http://{addr}");
    let cleanup = tokio::spawn(expire_sessions(storage.clone()));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the web server stopped")?;
    cleanup.abort();
    cycle.shutdown().await;
    feeds.shutdown().await;
    engine.shutdown().await;
    storage.close().await;
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

async fn router(
    storage: Storage,
    addr: SocketAddr,
    waker: Waker,
    vault: Vault,
    pulls: sync_core::sync::PullRequests,
    running: Arc<sync_core::sync::RunningSyncs>,
) -> anyhow::Result<Router> {
    let mut conf = get_configuration(None).context("cannot read the Leptos site configuration")?;
    conf.leptos_options.site_addr = addr;
    let leptos_options = conf.leptos_options;
    let routes = generate_route_list(app::App);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        storage: storage.clone(),
        throttle: Arc::new(throttle::SignInThrottle::default()),
        waker: waker.clone(),
        vault,
        running,
        pulls,
    };

    let context_storage = storage.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let running = state.running.clone();
                let vault = state.vault.clone();
                move || {
                    provide_context(context_storage.clone());
                    provide_context(waker.clone());
                    provide_context(running.clone());
                    provide_context(vault.clone());
                }
            },
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .route("/logout", post(auth::sign_out))
        .route("/products/bulk", post(bulk::bulk_products))
        .route("/channels/{id}/settings", post(channel_settings::save))
        .route("/products/{id}/edit", post(product_edit::save))
        .route("/channels/{id}/sync", post(sync_buttons::sync_one))
        .route("/channels/sync-all", post(sync_buttons::sync_all))
        .route("/channels/connect", post(connect::connect))
        .route("/channels/{id}/events", get(progress::events))
        .route("/channels/{id}/test", post(connect::test))
        .merge(import::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_sign_in,
        ));

    let sessions = SessionManagerLayer::new(session_store::DbSessionStore::new(storage))
        .with_name("tillbridge_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));

    let trace = TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO));

    Ok(Router::new()
        .merge(pages)
        .route("/login", get(auth::sign_in_page).post(auth::sign_in))
        .route("/healthz", get(healthz))
        .route("/webhooks/shopify/{id}", post(webhooks::shopify))
        .route("/webhooks/vendure/{id}", post(vendure_webhooks::vendure))
        .nest("/api/v1", crate::api::router(state.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn(csrf::same_origin_only))
        .layer(sessions)
        .layer(trace)
        .with_state(state))
}

async fn healthz(State(storage): State<Storage>) -> impl IntoResponse {
    match storage.ping().await {
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

async fn expire_sessions(storage: Storage) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(e) = storage.delete_expired_sessions().await {
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
