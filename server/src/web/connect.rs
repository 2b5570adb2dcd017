//! Connecting a Shopify channel and testing a connection from the dashboard:
//! owners only. The access token is sealed at once and never shown again;
//! a refused form comes back with what was typed (but the token) and the
//! field at fault.

use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use sync_core::connect::{ConnectError, ShopifyConnection, WebhookSetup, connect_shopify, test_connection};
use sync_core::domain::{BalanceRules, ChannelId, OutletId, Permission};
use sync_core::storage::User;

use super::AppState;
use super::notice::{back, field, optional_number, urlencode};

const FORM: &str = "/channels/new";
const OWNERS_ONLY: &str = "Only an owner can connect channels or test their credentials.";

/// Back to the form with the typed values, the field at fault and why.
fn refuse(fields: &[(String, String)], at: &str, message: &str) -> Response {
    let mut to = format!("{FORM}?error_field={at}");
    for (k, v) in fields {
        if matches!(
            k.as_str(),
            "name" | "shop_domain" | "api_base_url" | "location" | "outlets" | "order_outlet"
        ) {
            to.push_str(&format!("&{k}={}", urlencode(v)));
        }
    }
    back(&to, message, true)
}

pub async fn connect(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if !user.role.allows(Permission::Administer) {
        return back("/channels", OWNERS_ONLY, true);
    }
    let outlets: Result<Vec<OutletId>, _> = fields
        .iter()
        .filter(|(k, _)| k == "outlets")
        .map(|(_, v)| v.parse::<OutletId>())
        .collect();
    let Ok(outlets) = outlets else {
        return refuse(&fields, "outlets", "outlets: an outlet id is not a number");
    };
    let order_outlet = match field(&fields, "order_outlet").parse::<OutletId>() {
        Ok(o) => o,
        Err(_) => {
            return refuse(
                &fields,
                "order_outlet",
                "order outlet: choose the outlet that takes this channel's orders",
            );
        }
    };
    let safety_buffer = match optional_number(&fields, "safety_buffer", "safety buffer") {
        Ok(n) => n.unwrap_or(0),
        Err(message) => return refuse(&fields, "safety_buffer", &message),
    };
    let connection = ShopifyConnection {
        name: field(&fields, "name").to_owned(),
        shop_domain: field(&fields, "shop_domain").to_owned(),
        api_base_url: Some(field(&fields, "api_base_url").to_owned()),
        location: field(&fields, "location").to_owned(),
        outlets,
        order_outlet,
        rules: BalanceRules {
            safety_buffer,
            ..BalanceRules::default()
        },
        webhooks: match field(&fields, "public_url") {
            "" => None,
            url => Some(WebhookSetup {
                public_url: url.to_owned(),
                client_secret: field(&fields, "client_secret").to_owned(),
            }),
        },
    };
    match connect_shopify(&state.storage, &state.vault, &connection, field(&fields, "token")).await {
        Ok(connected) => {
            state.waker.wake();
            back(
                &format!("/channels/{}", connected.id),
                &format!(
                    "Connected {}; stock goes to {:?}. Turn Auto Sync on for the products to sell there.",
                    connected.shop_domain, connected.location_name
                ),
                false,
            )
        }
        Err(ConnectError::Invalid(e)) => refuse(&fields, e.field, &e.message),
        Err(ConnectError::Storage(sync_core::Error::Invalid(e))) => refuse(&fields, e.field, &e.message),
        Err(ConnectError::Storage(sync_core::Error::Conflict(message))) => refuse(&fields, "name", &message),
        Err(e @ ConnectError::Unreachable { .. }) => refuse(&fields, "token", &e.to_string()),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "connecting a channel failed");
            refuse(
                &fields,
                "",
                "Something went wrong on our side; nothing was saved. Please try again.",
            )
        }
    }
}

pub async fn test(State(state): State<AppState>, Extension(user): Extension<User>, Path(id): Path<i64>) -> Response {
    let to = format!("/channels/{id}");
    if !user.role.allows(Permission::Administer) {
        return back(&to, OWNERS_ONLY, true);
    }
    match test_connection(&state.storage, &state.vault, ChannelId::new(id)).await {
        Ok(message) => back(&to, &message, false),
        Err(ConnectError::Storage(sync_core::Error::NotFound(_))) => {
            back("/channels", &format!("There is no channel {id}."), true)
        }
        Err(e) => back(&to, &format!("The connection test failed: {e}"), true),
    }
}
