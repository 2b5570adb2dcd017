//! Saving a channel's settings page: a plain form POST, answered with a
//! redirect back to the page and its confirmation.

use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use sync_core::domain::{BalanceRules, ChannelId, OutletId};
use sync_core::storage::{ChannelSettings, User};

use super::AppState;
use super::notice::{back, optional_number, refuse_viewer};

pub async fn save(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let to = format!("/channels/{id}");
    if let Some(refused) = refuse_viewer(&user, &to) {
        return refused;
    }
    let channel = ChannelId::new(id);
    let current = match state.storage.channel_settings(channel).await {
        Ok(s) => s,
        Err(_) => return back("/channels", &format!("There is no channel {id}."), true),
    };
    let outlets: Result<Vec<OutletId>, _> = fields
        .iter()
        .filter(|(k, _)| k == "outlets")
        .map(|(_, v)| v.parse::<OutletId>())
        .collect();
    let parsed = (|| -> Result<ChannelSettings, String> {
        Ok(ChannelSettings {
            outlets: outlets.map_err(|_| "outlets: an outlet id is not a number".to_owned())?,
            order_outlet: current.order_outlet,
            rules: BalanceRules {
                safety_buffer: optional_number(&fields, "safety_buffer", "safety buffer")?.unwrap_or(0),
                publish_percent: optional_number(&fields, "publish_percent", "publish percent")?,
                publish_max: optional_number(&fields, "publish_max", "publish max")?,
                zero_at_or_below: optional_number(&fields, "zero_at_or_below", "zero at or below")?,
            },
            schedule_minutes: optional_number(&fields, "schedule_minutes", "schedule minutes")?,
        })
    })();
    let settings = match parsed {
        Ok(s) => s,
        Err(message) => return back(&to, &message, true),
    };
    match state.storage.update_channel_settings(channel, &settings).await {
        Ok(queued) => {
            state.waker.wake();
            back(
                &to,
                &format!("Settings saved; {queued} quantities queued for this channel"),
                false,
            )
        }
        Err(sync_core::Error::Invalid(e)) => back(&to, &e.to_string(), true),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "saving channel settings failed");
            back(
                &to,
                "Something went wrong on our side; nothing was changed. Please try again.",
                true,
            )
        }
    }
}
