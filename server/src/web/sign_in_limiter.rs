//! Limits sign-in attempts per email and per client address, each in a
//! fixed window: past the limit an attempt is refused at once, never
//! slowed down. An attempt counts before its password is checked, so
//! parallel guesses cannot overtake the limit; a correct password gives
//! its attempt back. Emails are kept only as a hash, and each map is
//! bounded, so no request can make the server hold more.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Failed attempts allowed per email in a window.
pub const PER_EMAIL: u32 = 10;
/// Failed attempts allowed per client address in a window.
pub const PER_ADDRESS: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Emails or addresses tracked at most; past this, expired windows are
/// dropped first, then the oldest.
const MAX_TRACKED: usize = 10_000;

#[derive(Default)]
pub struct SignInLimiter {
    windows: Mutex<Windows>,
}

#[derive(Default)]
struct Windows {
    emails: Counters<EmailKey>,
    addresses: Counters<AddressKey>,
}

/// An email's SHA-256, first half: never the email itself.
type EmailKey = [u8; 16];

/// An IPv4 address, or an IPv6 address's /64 (one client often holds a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AddressKey {
    V4([u8; 4]),
    V6([u8; 8]),
}

/// An attempt let through, to hand back when its password was right.
#[derive(Debug)]
pub struct Attempt {
    email: EmailKey,
    address: AddressKey,
}

/// Refused: the limit for this email or address is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// When the window ends, in whole seconds (at least 1).
    pub retry_after_secs: u64,
}

impl SignInLimiter {
    /// Counts an attempt for `email` from `ip`, or refuses it.
    pub fn attempt(&self, email: &str, ip: IpAddr) -> Result<Attempt, Refused> {
        self.attempt_at(email, ip, Instant::now())
    }

    /// A correct password: its attempt does not count.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.emails.give_back(&attempt.email);
        windows.addresses.give_back(&attempt.address);
    }

    fn attempt_at(&self, email: &str, ip: IpAddr, now: Instant) -> Result<Attempt, Refused> {
        let attempt = Attempt {
            email: email_key(email),
            address: address_key(ip),
        };
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let wait = [
            windows.emails.wait(&attempt.email, PER_EMAIL, now),
            windows.addresses.wait(&attempt.address, PER_ADDRESS, now),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = wait {
            return Err(Refused {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            });
        }
        windows.emails.count(attempt.email, now);
        windows.addresses.count(attempt.address, now);
        Ok(attempt)
    }
}

fn email_key(email: &str) -> EmailKey {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

fn address_key(ip: IpAddr) -> AddressKey {
    match ip {
        IpAddr::V4(v4) => AddressKey::V4(v4.octets()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => AddressKey::V4(v4.octets()),
            None => {
                let mut prefix = [0; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                AddressKey::V6(prefix)
            }
        },
    }
}

/// Attempts per key in its current window.
struct Counters<K> {
    windows: HashMap<K, Window>,
}

impl<K> Default for Counters<K> {
    fn default() -> Self {
        Self {
            windows: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    attempts: u32,
}

impl<K: Eq + Hash + Copy> Counters<K> {
    /// How long until `key` may try again, if it has used its `limit`.
    fn wait(&self, key: &K, limit: u32, now: Instant) -> Option<Duration> {
        let window = self.windows.get(key)?;
        let elapsed = now.saturating_duration_since(window.started);
        (elapsed < WINDOW && window.attempts >= limit).then(|| WINDOW - elapsed)
    }

    fn count(&mut self, key: K, now: Instant) {
        if !self.windows.contains_key(&key) && self.windows.len() >= MAX_TRACKED {
            self.windows
                .retain(|_, w| now.saturating_duration_since(w.started) < WINDOW);
            if self.windows.len() >= MAX_TRACKED {
                let oldest = self.windows.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    self.windows.remove(&oldest);
                }
            }
        }
        let window = self.windows.entry(key).or_insert(Window {
            started: now,
            attempts: 0,
        });
        if now.saturating_duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                attempts: 0,
            };
        }
        window.attempts += 1;
    }

    fn give_back(&mut self, key: &K) {
        if let Some(window) = self.windows.get_mut(key) {
            window.attempts = window.attempts.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: [u8; 4] = [127, 0, 0, 1];

    #[test]
    fn an_email_is_refused_past_its_limit_until_the_window_ends() {
        let limiter = SignInLimiter::default();
        let start = Instant::now();
        for n in 0..PER_EMAIL {
            let ip = IpAddr::from([10, 0, 0, n as u8]);
            assert!(limiter.attempt_at("a@b.co", ip, start).is_ok(), "attempt {n}");
        }
        let refused = limiter
            .attempt_at(" A@B.co", [10, 0, 1, 1].into(), start + Duration::from_secs(60))
            .expect_err("the email's limit is reached, whatever its case");
        assert_eq!(refused.retry_after_secs, WINDOW.as_secs() - 60);
        assert!(limiter.attempt_at("other@b.co", HOME.into(), start).is_ok());
        assert!(
            limiter.attempt_at("a@b.co", HOME.into(), start + WINDOW).is_ok(),
            "a new window"
        );
    }

    #[test]
    fn an_address_is_refused_past_its_limit_for_any_email() {
        let limiter = SignInLimiter::default();
        let now = Instant::now();
        for n in 0..PER_ADDRESS {
            assert!(limiter.attempt_at(&format!("u{n}@b.co"), HOME.into(), now).is_ok());
        }
        assert!(limiter.attempt_at("new@b.co", HOME.into(), now).is_err());
        assert!(limiter.attempt_at("new@b.co", [10, 0, 0, 2].into(), now).is_ok());
        let v6: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let same_64: IpAddr = "2001:db8:1:2::ffff".parse().expect("ip");
        for n in 0..PER_ADDRESS {
            assert!(limiter.attempt_at(&format!("v{n}@b.co"), v6, now).is_ok());
        }
        assert!(
            limiter.attempt_at("w@b.co", same_64, now).is_err(),
            "an IPv6 /64 is one client"
        );
    }

    #[test]
    fn a_correct_password_gives_its_attempt_back() {
        let limiter = SignInLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_EMAIL * 3 {
            let attempt = limiter.attempt_at("a@b.co", HOME.into(), now).expect("allowed");
            limiter.succeeded(attempt);
        }
        for _ in 0..PER_EMAIL - 1 {
            limiter.attempt_at("a@b.co", HOME.into(), now).expect("allowed");
        }
        assert!(limiter.attempt_at("a@b.co", HOME.into(), now).is_ok());
        assert!(limiter.attempt_at("a@b.co", HOME.into(), now).is_err());
    }

    #[test]
    fn the_maps_stay_bounded_however_many_emails_and_addresses_try() {
        let limiter = SignInLimiter::default();
        let now = Instant::now();
        for n in 0..(MAX_TRACKED as u32 + 500) {
            let ip = IpAddr::from(n.to_be_bytes());
            let _ = limiter.attempt_at(&format!("{n}@b.co"), ip, now);
        }
        let windows = limiter.windows.lock().expect("lock");
        assert_eq!(windows.emails.windows.len(), MAX_TRACKED);
        assert_eq!(windows.addresses.windows.len(), MAX_TRACKED);
    }
}
