//! What the server remembers between webhook deliveries, in memory and
//! bounded: the webhook ids seen lately (a repeated one is a duplicate or a
//! replay) and, per channel, how many refusals are waiting to be reported.
//!
//! Shopify signs the body only, so `X-Shopify-Triggered-At` and
//! `X-Shopify-Webhook-Id` stop a replay sent as it was captured, not one
//! whose headers were rewritten; either way a delivery only ever asks for a
//! pull, which the order cycle coalesces per channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::ChannelId;

/// A delivery triggered longer ago than this (or this far in the future) is stale.
pub const REPLAY_WINDOW: TimeDelta = TimeDelta::minutes(5);
/// At most one "webhook refused" event per channel per this long.
pub const REFUSAL_REPORT_INTERVAL: Duration = Duration::from_secs(60);
/// How long a webhook id is remembered: past the window a delivery is stale anyway.
const REMEMBER: Duration = Duration::from_secs(10 * 60);
/// The most webhook ids remembered at once.
const MAX_REMEMBERED: usize = 10_000;
/// A Shopify webhook id is a UUID; anything much longer is not one.
const MAX_ID_CHARS: usize = 100;

#[derive(Clone, Default)]
pub(super) struct WebhookGuard {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    seen: HashMap<(ChannelId, String), Instant>,
    refusals: HashMap<ChannelId, Refusals>,
}

#[derive(Default)]
struct Refusals {
    last_reported: Option<Instant>,
    waiting: u64,
}

impl WebhookGuard {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why a validly signed delivery is not acted on, if it is not: it was
    /// triggered outside the window, or its webhook id came before.
    pub fn stale_or_repeated(
        &self,
        channel: ChannelId,
        webhook_id: Option<&str>,
        triggered_at: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<&'static str> {
        if let Some(at) = triggered_at {
            let Ok(at) = DateTime::parse_from_rfc3339(at.trim()) else {
                return Some("its X-Shopify-Triggered-At is not a time");
            };
            let age = now.signed_duration_since(at.with_timezone(&Utc));
            if age > REPLAY_WINDOW {
                return Some("it was triggered more than 5 minutes ago");
            }
            if age < -REPLAY_WINDOW {
                return Some("it claims to be triggered more than 5 minutes from now");
            }
        }
        let id = webhook_id?.trim();
        if id.chars().count() > MAX_ID_CHARS {
            return Some("its X-Shopify-Webhook-Id is too long to be one");
        }
        let seen_at = Instant::now();
        let mut state = self.state();
        if state
            .seen
            .get(&(channel, id.to_owned()))
            .is_some_and(|t| seen_at.duration_since(*t) < REMEMBER)
        {
            return Some("its X-Shopify-Webhook-Id was received already");
        }
        if state.seen.len() >= MAX_REMEMBERED {
            state.seen.retain(|_, t| seen_at.duration_since(*t) < REMEMBER);
        }
        if state.seen.len() < MAX_REMEMBERED {
            state.seen.insert((channel, id.to_owned()), seen_at);
        }
        None
    }

    /// Counts a refused delivery; the number to report (this one and those
    /// not reported yet) when the channel's last report is a minute old.
    pub fn refused(&self, channel: ChannelId) -> Option<u64> {
        let now = Instant::now();
        let mut state = self.state();
        let r = state.refusals.entry(channel).or_default();
        r.waiting += 1;
        let due = r
            .last_reported
            .is_none_or(|t| now.duration_since(t) >= REFUSAL_REPORT_INTERVAL);
        if !due {
            return None;
        }
        r.last_reported = Some(now);
        Some(std::mem::take(&mut r.waiting))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_reported_at_most_once_a_minute_with_their_count() {
        let guard = WebhookGuard::default();
        let channel = ChannelId::new(1);
        assert_eq!(guard.refused(channel), Some(1));
        for _ in 0..99 {
            assert_eq!(guard.refused(channel), None);
        }
        assert_eq!(guard.refused(ChannelId::new(2)), Some(1), "per channel");
        // A minute later the next refusal reports the 99 waiting and itself.
        if let Some(r) = guard.state().refusals.get_mut(&channel) {
            r.last_reported = Instant::now().checked_sub(REFUSAL_REPORT_INTERVAL);
        }
        assert_eq!(guard.refused(channel), Some(100));
    }

    #[test]
    fn stale_future_and_repeated_deliveries_are_caught() {
        let guard = WebhookGuard::default();
        let channel = ChannelId::new(1);
        let now = Utc::now();
        let at = |minutes: i64| (now - TimeDelta::minutes(minutes)).to_rfc3339();
        assert_eq!(guard.stale_or_repeated(channel, Some("a"), Some(&at(1)), now), None);
        assert!(
            guard.stale_or_repeated(channel, Some("a"), Some(&at(1)), now).is_some(),
            "repeated"
        );
        assert_eq!(
            guard.stale_or_repeated(ChannelId::new(2), Some("a"), Some(&at(1)), now),
            None
        );
        assert!(
            guard.stale_or_repeated(channel, Some("b"), Some(&at(6)), now).is_some(),
            "stale"
        );
        assert!(
            guard
                .stale_or_repeated(channel, Some("c"), Some(&at(-6)), now)
                .is_some(),
            "future"
        );
        assert!(
            guard
                .stale_or_repeated(channel, Some("d"), Some("yesterday"), now)
                .is_some()
        );
        assert!(
            guard
                .stale_or_repeated(channel, Some(&"x".repeat(500)), None, now)
                .is_some()
        );
        assert_eq!(guard.stale_or_repeated(channel, None, None, now), None);
    }
}
