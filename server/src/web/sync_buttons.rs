//! The sync buttons: "Sync new data" (standard), "Force sync" and "Sync All".
//! A run goes on in the background; starting one that is already running
//! for a channel says so instead of starting a second.

use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use sync_core::domain::{ChannelId, ChannelOnlyPolicy};
use sync_core::storage::{ChannelConfig, RunKind, RunTrigger, User};
use sync_core::sync::{ForceOptions, force_sync};

use super::AppState;
use super::notice::{back, field, refuse_viewer};

fn kind_of(fields: &[(String, String)]) -> Result<RunKind, String> {
    match fields.iter().find(|(k, _)| k == "kind").map(|(_, v)| v.as_str()) {
        None | Some("standard") => Ok(RunKind::Standard),
        Some("force") => Ok(RunKind::Force),
        Some(other) => Err(format!("{other:?} is not a kind of sync; use standard or force")),
    }
}

/// A force sync's choices from its preview page.
fn force_options(fields: &[(String, String)]) -> Result<ForceOptions, String> {
    let channel_only = match field(fields, "channel_only") {
        "" => ChannelOnlyPolicy::Keep,
        v => ChannelOnlyPolicy::parse(v).map_err(|e| e.to_string())?,
    };
    Ok(ForceOptions {
        channel_only,
        clear_first: field(fields, "clear") == "1",
    })
}

/// Starts the syncs in the background: a force sync per channel, or seed
/// 001's cycle (every channel's orders pulled, then every push).
fn spawn(state: &AppState, channels: Vec<ChannelConfig>, kind: RunKind, force: ForceOptions) {
    let (storage, vault, running) = (state.storage.clone(), state.vault.clone(), state.running.clone());
    tokio::spawn(async move {
        let worker = format!("button:{}", std::process::id());
        if kind == RunKind::Force {
            for config in &channels {
                match force_sync(&storage, &vault, config, force, RunTrigger::Button, &worker).await {
                    Ok(summary) => tracing::info!(log = %summary.log(), "force sync finished"),
                    Err(e) => tracing::warn!(channel = %config.name, error = %e, "force sync failed"),
                }
                running.finish(config.id);
            }
            return;
        }
        match sync_core::sync::sync_all(&storage, &vault, &channels, RunTrigger::Button, &worker).await {
            Ok(done) => {
                for (pull, push) in done {
                    let pulled = pull.map(|p| p.log()).unwrap_or_else(|| "orders not pulled".into());
                    tracing::info!(%pulled, pushed = %push.log(), "sync finished");
                }
            }
            Err(e) => tracing::warn!(error = %e, "sync failed"),
        }
        for config in &channels {
            running.finish(config.id);
        }
    });
}

pub async fn sync_one(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let to = format!("/channels/{id}");
    if let Some(refused) = refuse_viewer(&user, &to) {
        return refused;
    }
    let kind = match kind_of(&fields) {
        Ok(k) => k,
        Err(message) => return back(&to, &message, true),
    };
    let force = match force_options(&fields) {
        Ok(f) => f,
        Err(message) => return back(&to, &message, true),
    };
    let Ok(Some(config)) = state.storage.channel(ChannelId::new(id)).await else {
        return back("/channels", &format!("There is no channel {id}."), true);
    };
    if !state.running.start(config.id) {
        return back(
            &to,
            &format!("A sync of {} is already running; it was not started twice", config.name),
            true,
        );
    }
    let name = config.name.clone();
    spawn(&state, vec![config], kind, force);
    back(
        &to,
        &format!(
            "{} sync of {name} started; follow it in the Sync History",
            kind.as_str()
        ),
        false,
    )
}

pub async fn sync_all(State(state): State<AppState>, Extension(user): Extension<User>) -> Response {
    if let Some(refused) = refuse_viewer(&user, "/channels") {
        return refused;
    }
    let configs = match state.storage.channel_configs().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot read channels");
            return back(
                "/channels",
                "Something went wrong on our side; nothing was started.",
                true,
            );
        }
    };
    let (free, busy): (Vec<_>, Vec<_>) = configs.into_iter().partition(|c| state.running.start(c.id));
    let count = free.len();
    spawn(&state, free, RunKind::Standard, ForceOptions::default());
    let mut message = format!("Sync All started for {count} channels; follow it in the Sync History");
    if !busy.is_empty() {
        let names: Vec<&str> = busy.iter().map(|c| c.name.as_str()).collect();
        message.push_str(&format!(" ({} already running)", names.join(", ")));
    }
    back("/channels", &message, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::sync::RunningSyncs;

    #[test]
    fn a_channel_runs_one_button_sync_at_a_time() {
        let running = RunningSyncs::default();
        assert!(running.start(ChannelId::new(1)));
        assert!(!running.start(ChannelId::new(1)), "already running");
        assert!(running.start(ChannelId::new(2)), "other channels are free");
        running.finish(ChannelId::new(1));
        assert!(running.start(ChannelId::new(1)));
    }

    #[test]
    fn only_standard_and_force_are_kinds() {
        let field = |v: &str| vec![("kind".to_owned(), v.to_owned())];
        assert_eq!(kind_of(&field("force")), Ok(RunKind::Force));
        assert_eq!(kind_of(&[]), Ok(RunKind::Standard));
        assert!(kind_of(&field("nuke")).is_err());
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert_eq!(
            force_options(&form(&[("channel_only", "delete"), ("clear", "1")])),
            Ok(ForceOptions {
                channel_only: ChannelOnlyPolicy::Delete,
                clear_first: true
            })
        );
        assert!(
            force_options(&form(&[("channel_only", "burn")]))
                .unwrap_err()
                .contains("keep, unpublish or delete")
        );
    }
}
