//! A new API token's secret, held for the page that shows it once.
//!
//! A form posted without JavaScript is answered with a redirect, and the
//! page it leads to must show the secret. A secret must never be in a
//! URL (history, logs) nor in the database (tokens are stored hashed), so
//! this process keeps it in memory under a random key that the redirect
//! carries instead, and gives it out once, within a few minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;

/// How long a secret waits for its page.
const HELD_FOR: Duration = Duration::from_secs(5 * 60);

#[derive(Clone, Default)]
pub struct ShownOnce {
    held: Arc<Mutex<HashMap<String, (String, Instant)>>>,
}

impl ShownOnce {
    /// Holds `secret`; the key to take it with.
    pub fn hold(&self, secret: String) -> String {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let key = hex::encode(bytes);
        let now = Instant::now();
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        held.retain(|_, (_, at)| now.duration_since(*at) < HELD_FOR);
        held.insert(key.clone(), (secret, now));
        key
    }

    /// The secret held under `key`, once; None after that, or too late.
    pub fn take(&self, key: &str) -> Option<String> {
        let mut held = self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        held.remove(key)
            .filter(|(_, at)| at.elapsed() < HELD_FOR)
            .map(|(secret, _)| secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_secret_is_given_out_once() {
        let shown = ShownOnce::default();
        let key = shown.hold("tb_secret".into());
        assert_eq!(shown.take("not the key"), None);
        assert_eq!(shown.take(&key).as_deref(), Some("tb_secret"));
        assert_eq!(shown.take(&key), None);
    }
}
