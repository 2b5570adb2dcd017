//! The products table's bulk actions: a plain form POST (so it works
//! without JavaScript) that answers with a redirect back to the same view,
//! carrying its confirmation for the toast.

use axum::Extension;
use axum::extract::{Form, State};
use axum::response::Response;
use sync_core::bulk::{BulkAction, BulkTarget};
use sync_core::domain::{Actor, ProductId};
use sync_core::storage::{ChannelFilter, ProductFilter, User};

use super::AppState;
use super::notice::{back, refuse_viewer};

/// Where to come back to: the local page the form was on.
fn return_path(raw: Option<&str>) -> String {
    match raw {
        Some(p) if p.starts_with("/products") && !p.starts_with("//") => p.to_owned(),
        _ => "/products".to_owned(),
    }
}

pub async fn bulk_products(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let to = return_path(get("return_to"));
    if let Some(refused) = refuse_viewer(&user, &to) {
        return refused;
    }
    let action = match BulkAction::parse(get("action").unwrap_or_default()) {
        Ok(a) => a,
        Err(e) => return back(&to, &e.message, true),
    };
    let target = if get("all_matching") == Some("true") {
        match ProductFilter::from_params(
            get("q"),
            get("auto_sync"),
            get("status"),
            get("category"),
            get("brand"),
            get("stock"),
        ) {
            Ok(mut filter) => match ChannelFilter::parse(get("channel").unwrap_or_default()) {
                Ok(channel) => {
                    filter.channel = channel;
                    BulkTarget::AllMatching(filter)
                }
                Err(e) => return back(&to, &e.to_string(), true),
            },
            Err(e) => return back(&to, &e.to_string(), true),
        }
    } else {
        let ids: Result<Vec<ProductId>, _> = fields
            .iter()
            .filter(|(k, _)| k == "ids")
            .map(|(_, v)| v.parse::<ProductId>())
            .collect();
        match ids {
            Ok(ids) => BulkTarget::Selected(ids),
            Err(_) => return back(&to, "ids: a selected product id is not a number", true),
        }
    };
    let actor = Actor::User {
        id: user.id,
        email: user.email.to_string(),
    };
    match state.storage.bulk_products(&actor, action, target).await {
        Ok(outcome) => {
            if outcome.queued > 0 {
                state.waker.wake();
            }
            back(&to, &outcome.message, false)
        }
        Err(sync_core::Error::Invalid(e)) => back(&to, &e.message, true),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "bulk action failed");
            back(
                &to,
                "Something went wrong on our side; nothing was changed. Please try again.",
                true,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_only_returns_to_the_products_pages() {
        assert_eq!(return_path(Some("/products?q=tee")), "/products?q=tee");
        assert_eq!(return_path(Some("https://evil.example/")), "/products");
        assert_eq!(return_path(None), "/products");
    }
}
