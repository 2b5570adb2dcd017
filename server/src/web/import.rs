//! The Import page's forms, plain POSTs that work without JavaScript: a CSV
//! upload (multipart) kept server-side under a random token for its
//! preview, "Apply" for exactly that upload, inventory feeds ("Add feed",
//! "Fetch now"), and the catalog and stock downloads.

use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use sync_core::domain::{Actor, OutletCode, OutletId};
use sync_core::import::{
    ApplyOutcome, FeedLimits, MAX_FILE_BYTES, StockFileOptions, StockMode, apply_catalog, apply_stock, export_catalog,
    export_stock, run_feed,
};
use sync_core::storage::{FeedId, IdempotencyKey, NewFeed, NewUpload, RunTrigger, User};

use super::AppState;
use super::notice::{back, field, optional_number, refuse_viewer};

const PAGE: &str = "/import";
const OUR_SIDE: &str = "Something went wrong on our side; nothing was changed. Please try again.";

/// The routes, merged behind sign-in by the server.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/import/upload",
            post(upload).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024)),
        )
        .route("/import/{token}/apply", post(apply))
        .route("/import/feeds", post(add_feed))
        .route("/import/feeds/{id}/fetch", post(fetch_now))
        .route("/export/catalog.csv", get(download_catalog))
        .route("/export/stock.csv", get(download_stock))
}

fn actor(user: &User) -> Actor {
    Actor::User {
        id: user.id,
        email: user.email.to_string(),
    }
}

fn too_large() -> String {
    format!(
        "The file is larger than the {} MB limit; split it and upload each part.",
        MAX_FILE_BYTES / 1_048_576
    )
}

/// Keeps the uploaded file and shows its preview on the Import page.
async fn upload(State(state): State<AppState>, Extension(user): Extension<User>, mut multipart: Multipart) -> Response {
    if let Some(refused) = refuse_viewer(&user, PAGE) {
        return refused;
    }
    let (mut kind, mut mode, mut outlet) = (String::new(), String::new(), String::new());
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let next = match multipart.next_field().await {
            Ok(next) => next,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return back(PAGE, &too_large(), true),
            Err(e) => {
                return back(
                    PAGE,
                    &format!("The upload did not arrive whole ({e}); try again."),
                    true,
                );
            }
        };
        let Some(part) = next else { break };
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part.file_name().map(str::to_owned);
        let bytes = match part.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return back(PAGE, &too_large(), true),
            Err(e) => {
                return back(
                    PAGE,
                    &format!("The upload did not arrive whole ({e}); try again."),
                    true,
                );
            }
        };
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "kind" => kind = text(),
            "mode" => mode = text(),
            "outlet" => outlet = text(),
            "file" => file = Some((file_name.unwrap_or_default(), bytes.to_vec())),
            _ => {}
        }
    }
    if !matches!(kind.as_str(), "stock" | "catalog") {
        return back(PAGE, "Choose what the file holds: stock or the catalog.", true);
    }
    if !mode.is_empty()
        && let Err(e) = StockMode::parse(&mode)
    {
        return back(PAGE, &e.to_string(), true);
    }
    if !outlet.is_empty()
        && let Err(e) = OutletCode::parse(&outlet)
    {
        return back(PAGE, &e.to_string(), true);
    }
    let Some((file_name, content)) = file.filter(|(_, c)| !c.is_empty()) else {
        return back(PAGE, "Choose a CSV file to upload.", true);
    };
    if content.len() > MAX_FILE_BYTES {
        return back(PAGE, &too_large(), true);
    }
    let saved = state
        .storage
        .save_upload(&NewUpload {
            kind,
            mode: (!mode.is_empty()).then_some(mode),
            outlet_code: (!outlet.is_empty()).then_some(outlet),
            file_name: if file_name.is_empty() {
                "upload.csv".into()
            } else {
                file_name
            },
            content,
            user: Some(user.id),
        })
        .await;
    match saved {
        Ok(upload) => Redirect::to(&format!("{PAGE}?upload={}", upload.token)).into_response(),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "keeping an upload failed");
            back(PAGE, OUR_SIDE, true)
        }
    }
}

/// Applies exactly the upload that was previewed, all or nothing.
async fn apply(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(token): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let to = format!("{PAGE}?upload={token}");
    if let Some(refused) = refuse_viewer(&user, &to) {
        return refused;
    }
    let upload = match state.storage.upload(&token).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return back(
                PAGE,
                "This upload was already applied or has expired (uploads are kept a day); upload the file again.",
                true,
            );
        }
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "reading an upload failed");
            return back(PAGE, OUR_SIDE, true);
        }
    };
    if field(&fields, "hash") != upload.content_hash {
        return back(
            &to,
            "The file is not the one previewed; nothing was applied. Check the preview and apply again.",
            true,
        );
    }
    let outcome = match upload.kind.as_str() {
        "stock" => {
            let key = IdempotencyKey {
                key: format!("import:{}", upload.token),
                request_hash: upload.content_hash.clone(),
            };
            apply_stock(
                &state.storage,
                &actor(&user),
                &upload.content,
                &StockFileOptions::for_upload(&upload),
                Some(&key),
            )
            .await
            .map(|o| match o {
                ApplyOutcome::Applied { preview, replayed } => Ok(if replayed {
                    format!("{} was already applied; nothing was applied twice", upload.file_name)
                } else {
                    format!(
                        "Applied {} stock changes from {}",
                        preview.changes.len(),
                        upload.file_name
                    )
                }),
                ApplyOutcome::Refused(preview) => Err(preview.errors.len()),
            })
        }
        _ => apply_catalog(&state.storage, &upload.content).await.map(|o| match o {
            ApplyOutcome::Applied { preview, .. } => Ok(format!(
                "Applied {} product changes from {}; channels get them with the next sync",
                preview.changes.len(),
                upload.file_name
            )),
            ApplyOutcome::Refused(preview) => Err(preview.errors.len()),
        }),
    };
    match outcome {
        Ok(Ok(message)) => {
            if let Err(e) = state.storage.delete_upload(&upload.token).await {
                tracing::warn!(error = %e, "could not remove an applied upload");
            }
            state.waker.wake();
            back(PAGE, &message, false)
        }
        Ok(Err(bad)) => back(
            &to,
            &format!("{bad} bad rows; nothing was applied. Fix the file and upload it again."),
            true,
        ),
        Err(sync_core::Error::Invalid(e)) => back(&to, &e.to_string(), true),
        Err(sync_core::Error::Conflict(message)) => back(&to, &message, true),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "applying an upload failed");
            back(&to, OUR_SIDE, true)
        }
    }
}

async fn add_feed(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = refuse_viewer(&user, PAGE) {
        return refused;
    }
    let every = match optional_number(&fields, "every", "every (minutes)") {
        Ok(n) => n,
        Err(message) => return back(PAGE, &message, true),
    };
    let Ok(outlet) = field(&fields, "outlet").parse::<OutletId>() else {
        return back(PAGE, "outlet: choose the outlet whose stock the feed sets", true);
    };
    let feed = NewFeed {
        name: field(&fields, "name").to_owned(),
        url: field(&fields, "url").to_owned(),
        outlet,
        mode: match field(&fields, "mode") {
            "" => "count".to_owned(),
            m => m.to_owned(),
        },
        schedule_minutes: every,
    };
    match state.storage.add_feed(&feed).await {
        Ok(_) => back(PAGE, &format!("Added the feed {:?}", feed.name.trim()), false),
        Err(sync_core::Error::Invalid(e)) => back(PAGE, &e.to_string(), true),
        Err(sync_core::Error::Conflict(message)) => back(PAGE, &message, true),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "adding a feed failed");
            back(PAGE, OUR_SIDE, true)
        }
    }
}

/// "Fetch now": fetches the feed and applies it, or records why not.
async fn fetch_now(State(state): State<AppState>, Extension(user): Extension<User>, Path(id): Path<i64>) -> Response {
    if let Some(refused) = refuse_viewer(&user, PAGE) {
        return refused;
    }
    let feed = match state.storage.feed(FeedId::new(id)).await {
        Ok(Some(f)) => f,
        Ok(None) => return back(PAGE, &format!("There is no feed {id}."), true),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "reading a feed failed");
            return back(PAGE, OUR_SIDE, true);
        }
    };
    match run_feed(
        &state.storage,
        &feed,
        RunTrigger::Button,
        &actor(&user),
        &FeedLimits::default(),
    )
    .await
    {
        Ok(run) => {
            if run.changes > 0 {
                state.waker.wake();
            }
            back(PAGE, &run.message, !run.succeeded)
        }
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "running a feed failed");
            back(PAGE, OUR_SIDE, true)
        }
    }
}

fn csv_download(name: &str, bytes: Vec<u8>) -> Response {
    let file = format!("tillbridge-{name}-{}.csv", chrono::Utc::now().format("%Y-%m-%d"));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

async fn download_catalog(State(state): State<AppState>) -> Response {
    match export_catalog(&state.storage).await {
        Ok(bytes) => csv_download("catalog", bytes),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "exporting the catalog failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The catalog could not be exported; please try again.",
            )
                .into_response()
        }
    }
}

async fn download_stock(State(state): State<AppState>) -> Response {
    match export_stock(&state.storage).await {
        Ok(bytes) => csv_download("stock", bytes),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "exporting stock failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Stock could not be exported; please try again.",
            )
                .into_response()
        }
    }
}
