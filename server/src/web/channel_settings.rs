//! Saving a channel's settings page: a plain form POST, answered with a
//! redirect back to the page and its confirmation.

use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use sync_core::domain::{BalanceRules, ChannelId, ChannelOnlyPolicy, OutletId};
use sync_core::storage::{ChannelSettings, User};

use super::AppState;
use super::notice::{back, field, optional_number, refuse_viewer};

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
    let order_outlet = match field(&fields, "order_outlet") {
        "" => current.order_outlet,
        v => match v.parse::<OutletId>() {
            Ok(o) => Some(o),
            Err(_) => return back(&to, "order outlet: choose one of the outlets", true),
        },
    };
    let channel_only = match field(&fields, "channel_only") {
        "" => current.channel_only,
        v => match ChannelOnlyPolicy::parse(v) {
            Ok(p) => p,
            Err(e) => return back(&to, &e.to_string(), true),
        },
    };
    let parsed = (|| -> Result<ChannelSettings, String> {
        Ok(ChannelSettings {
            outlets: outlets.map_err(|_| "outlets: an outlet id is not a number".to_owned())?,
            order_outlet,
            channel_only,
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
    // Seed 004: the order outlet's stock is always offered; say so when it was unticked.
    let order_kept = settings.order_outlet.filter(|o| !settings.outlets.contains(o));
    match state.storage.update_channel_settings(channel, &settings).await {
        Ok(queued) => {
            state.waker.wake();
            let mut message = format!("Settings saved; {queued} quantities queued for this channel");
            if order_kept.is_some() {
                message.push_str(
                    ". The outlet that takes this channel's orders stays included; to leave it out, choose another order outlet",
                );
            }
            back(&to, &message, false)
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
