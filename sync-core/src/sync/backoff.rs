//! When to try a failed push again: exponential backoff with jitter.

use std::time::Duration;

const BASE: Duration = Duration::from_millis(500);

/// Attempts a push gets against a channel that keeps failing (an outage, a
/// broken item) before it is given up: dead, a conflict for a person and a
/// Sync History entry. With the backoff below that is about 20 minutes;
/// the next change to the item tries again. Rate limits do not count.
pub const MAX_PUSH_ATTEMPTS: i64 = 10;
const CAP: Duration = Duration::from_secs(300);

/// Delay before attempt `attempt + 1`, given `jitter` in [0, 1) drawn by the
/// caller (so tests can fix it). Doubles per attempt from 0.5 s, capped at
/// five minutes, spread ±25 % so retries from many rows do not align.
pub fn retry_delay(attempt: i64, jitter: f64) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let raw = BASE.saturating_mul(1u32 << exp.min(16) as u32).min(CAP);
    raw.mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_are_capped() {
        assert_eq!(retry_delay(1, 0.5), Duration::from_millis(500));
        assert_eq!(retry_delay(2, 0.5), Duration::from_secs(1));
        assert_eq!(retry_delay(4, 0.5), Duration::from_secs(4));
        assert_eq!(retry_delay(40, 0.5), CAP);
    }

    #[test]
    fn jitter_spreads_by_a_quarter_either_way() {
        assert_eq!(retry_delay(3, 0.0), Duration::from_millis(1500));
        assert_eq!(retry_delay(3, 1.0), Duration::from_millis(2500));
    }
}
