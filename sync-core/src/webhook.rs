//! Channel webhooks: is a delivery really from the channel? (Shopify signs
//! the raw body with the app's client secret: base64 HMAC-SHA256 in
//! `X-Shopify-Hmac-Sha256`.)

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::domain::ChannelId;
use crate::storage::Storage;
use crate::vault::Vault;
use crate::{Error, Result};

/// Whether `signature` is the base64 HMAC-SHA256 of `body` under `secret`,
/// compared in constant time.
pub fn shopify_signature_is_valid(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(claimed) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&claimed).is_ok()
}

/// A new secret for a Vendure channel's webhook address (64 hex digits)
/// and what is stored of it: its SHA-256, never the secret itself.
pub fn new_vendure_secret() -> (String, Vec<u8>) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let stored = Sha256::digest(secret.as_bytes()).to_vec();
    (secret, stored)
}

/// Whether `given` is the Vendure webhook secret whose hash is `stored`.
/// The hashes are compared, and in constant time, so neither the time
/// taken nor the answer tells how much of a guess was right.
pub fn vendure_secret_matches(stored: &[u8], given: &str) -> bool {
    let given = Sha256::digest(given.trim().as_bytes());
    stored.len() == given.len() && stored.iter().zip(given.iter()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

/// Checks a webhook delivery against `channel`'s stored secret.
pub async fn verify_delivery(
    storage: &Storage,
    vault: &Vault,
    channel: ChannelId,
    body: &[u8],
    signature: Option<&str>,
) -> Result<bool> {
    let Some(sealed) = storage.webhook_secret(channel).await? else {
        return Err(Error::Conflict(format!(
            "channel {} takes no webhooks: it was connected without a client secret",
            channel.get()
        )));
    };
    let secret = vault
        .open(&sealed)
        .map_err(|e| Error::Conflict(format!("the channel's client secret cannot be opened: {e}")))?;
    Ok(signature.is_some_and(|s| shopify_signature_is_valid(&secret, body, s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_secret_that_signed_a_body_verifies_it() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), base64.
        let body = b"The quick brown fox jumps over the lazy dog";
        let good = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";
        assert!(shopify_signature_is_valid("key", body, good));
        assert!(!shopify_signature_is_valid("other", body, good));
        assert!(!shopify_signature_is_valid("key", b"The quick brown fox", good));
        assert!(!shopify_signature_is_valid("key", body, "not base64!"));
        assert!(!shopify_signature_is_valid("key", body, ""));
    }

    #[test]
    fn only_the_vendure_secret_made_matches_its_stored_hash() {
        let (secret, stored) = new_vendure_secret();
        assert_eq!(secret.len(), 64);
        assert!(
            !String::from_utf8_lossy(&stored).contains(&secret),
            "only a hash is stored"
        );
        assert!(vendure_secret_matches(&stored, &secret));
        assert!(!vendure_secret_matches(&stored, &secret[..63]));
        assert!(!vendure_secret_matches(&stored, ""));
        assert!(!vendure_secret_matches(&[], &secret));
        let (other, _) = new_vendure_secret();
        assert!(!vendure_secret_matches(&stored, &other));
    }
}
