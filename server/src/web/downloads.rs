//! The Import page's downloads: the catalog and stock as CSV files, in the
//! format the import reads back.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sync_core::Services;

fn csv_download(name: &str, bytes: sync_core::Result<Vec<u8>>) -> Response {
    match bytes {
        Ok(bytes) => {
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
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, file = name, "an export failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("The {name} could not be exported; please try again."),
            )
                .into_response()
        }
    }
}

pub async fn catalog(State(services): State<Services>) -> Response {
    csv_download("catalog", services.files.export_catalog().await)
}

pub async fn stock(State(services): State<Services>) -> Response {
    csv_download("stock", services.files.export_stock().await)
}
