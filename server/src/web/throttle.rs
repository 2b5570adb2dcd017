//! Slows down repeated failed sign-ins, per email and per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures forgotten after this long without another.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures allowed before answers slow down.
const FREE_ATTEMPTS: u32 = 3;
const MAX_DELAY: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInThrottle {
    fn keys(email: &str, ip: IpAddr) -> [String; 2] {
        [format!("email:{}", email.trim().to_lowercase()), format!("ip:{ip}")]
    }

    /// How long to wait before answering this attempt: doubling per failure
    /// past the free ones, up to ten seconds.
    pub fn delay(&self, email: &str, ip: IpAddr) -> Duration {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let worst = Self::keys(email, ip)
            .iter()
            .filter_map(|k| map.get(k))
            .filter(|(_, at)| now.duration_since(*at) < WINDOW)
            .map(|(n, _)| *n)
            .max()
            .unwrap_or(0);
        match worst.checked_sub(FREE_ATTEMPTS) {
            None => Duration::ZERO,
            Some(extra) => Duration::from_millis(500u64.saturating_mul(1 << extra.min(8))).min(MAX_DELAY),
        }
    }

    pub fn record_failure(&self, email: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, at)| now.duration_since(*at) < WINDOW);
        for key in Self::keys(email, ip) {
            let entry = map.entry(key).or_insert((0, now));
            *entry = (entry.0 + 1, now);
        }
    }

    pub fn record_success(&self, email: &str, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Self::keys(email, ip)[0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_free_ones_slow_answers_down_up_to_a_cap() {
        let t = SignInThrottle::default();
        let ip: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..FREE_ATTEMPTS {
            assert_eq!(t.delay("a@b.co", ip), Duration::ZERO);
            t.record_failure("a@b.co", ip);
        }
        t.record_failure("a@b.co", ip);
        let first = t.delay("a@b.co", ip);
        t.record_failure("a@b.co", ip);
        assert!(t.delay("a@b.co", ip) > first);
        for _ in 0..20 {
            t.record_failure("a@b.co", ip);
        }
        assert_eq!(t.delay("a@b.co", ip), MAX_DELAY);
        assert_eq!(t.delay("other@b.co", [10, 0, 0, 1].into()), Duration::ZERO);
        assert_eq!(
            t.delay("other@b.co", ip),
            MAX_DELAY,
            "the same address is slowed for any email"
        );
    }
}
