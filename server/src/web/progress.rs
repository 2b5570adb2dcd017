//! A channel's live progress as server-sent events: pending pushes, whether
//! a sync is running, an ETA from the channel's rate limit, and the run the
//! page follows (`?run=`, the one its button started; else the latest),
//! with how far it got and its log once it ends. One message a second while
//! the page is open.

use std::convert::Infallible;
use std::time::Duration;

use app::api::channels::ProgressView;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use sync_core::Services;
use sync_core::domain::ChannelId;

/// `?run=`: the run to follow.
#[derive(Debug, serde::Deserialize)]
pub struct Follow {
    run: Option<i64>,
}

pub async fn events(State(services): State<Services>, Path(id): Path<i64>, Query(follow): Query<Follow>) -> Response {
    let channel = ChannelId::new(id);
    let run = follow.run.map(sync_core::service::RunId::new);
    match services.channels.get(channel).await {
        Ok(Some(_)) => {}
        Ok(None) => return (StatusCode::NOT_FOUND, format!("There is no channel {id}.")).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a channel for its progress");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    // Read once: a page open while an owner changes the zone shows it at its next load.
    let zone = services.store.zone().await.unwrap_or_default();
    let stream = futures_util::stream::unfold((services, true), move |(services, first)| async move {
        if !first {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let event = match services.channels.progress_of(channel, run).await {
            Ok(progress) => Event::default()
                .json_data(ProgressView::new(progress, zone))
                .unwrap_or_else(|_| Event::default().comment("unencodable")),
            // A passing database error: say nothing this second.
            Err(e) => {
                tracing::warn!(error = %e, "channel progress unavailable");
                Event::default().comment("unavailable")
            }
        };
        Some((Ok::<_, Infallible>(event), (services, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
