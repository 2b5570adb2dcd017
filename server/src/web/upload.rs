//! The Import page's CSV upload: a multipart form post, kept server-side
//! under a random token for its preview (which `import_page` reads).

use axum::Extension;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sync_core::Services;
use sync_core::domain::{OutletCode, Permission};
use sync_core::import::{MAX_FILE_BYTES, StockMode};
use sync_core::service::{NewUpload, User};

const PAGE: &str = "/import";
const OUR_SIDE: &str = "Something went wrong on our side; nothing was changed. Please try again.";

/// Back to the Import page with the reason.
fn back(message: &str) -> Response {
    let query = serde_urlencoded::to_string([("notice", message), ("notice_error", "1")]).unwrap_or_default();
    Redirect::to(&format!("{PAGE}?{query}")).into_response()
}

fn too_large() -> String {
    format!(
        "The file is larger than the {} MB limit; split it and upload each part.",
        MAX_FILE_BYTES / 1_048_576
    )
}

/// Keeps the uploaded file and shows its preview on the Import page.
pub async fn upload(
    State(services): State<Services>,
    Extension(user): Extension<User>,
    mut multipart: Multipart,
) -> Response {
    if !user.role.allows(Permission::WriteCatalog) {
        return back("Your account can view but not change anything. Ask an owner for the manager role.");
    }
    let (mut kind, mut mode, mut outlet) = (String::new(), String::new(), String::new());
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let next = match multipart.next_field().await {
            Ok(next) => next,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return back(&too_large()),
            Err(e) => {
                return back(&format!("The upload did not arrive whole ({e}); try again."));
            }
        };
        let Some(part) = next else { break };
        let name = part.name().unwrap_or_default().to_owned();
        let file_name = part.file_name().map(str::to_owned);
        let bytes = match part.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return back(&too_large()),
            Err(e) => {
                return back(&format!("The upload did not arrive whole ({e}); try again."));
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
        return back("Choose what the file holds: stock or the catalog.");
    }
    if !mode.is_empty()
        && let Err(e) = StockMode::parse(&mode)
    {
        return back(&e.to_string());
    }
    if !outlet.is_empty()
        && let Err(e) = OutletCode::parse(&outlet)
    {
        return back(&e.to_string());
    }
    let Some((file_name, content)) = file.filter(|(_, c)| !c.is_empty()) else {
        return back("Choose a CSV file to upload.");
    };
    if content.len() > MAX_FILE_BYTES {
        return back(&too_large());
    }
    let saved = services
        .files
        .keep_upload(&NewUpload {
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
            back(OUR_SIDE)
        }
    }
}
