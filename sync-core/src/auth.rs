//! Password hashing (argon2) and API tokens (random, stored as SHA-256).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::{DomainError, Email, Role};
use crate::storage::Storage;
use crate::storage::{ApiToken, User};
use crate::{Error, Result};

/// Prefix that makes a Tillbridge token recognisable in logs and secret scanners.
const TOKEN_PREFIX: &str = "tb_";

pub fn validate_password(password: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if n < 8 {
        return Err(DomainError::new("password", "a password needs at least 8 characters"));
    }
    if n > 1024 {
        return Err(DomainError::new("password", "a password is at most 1024 characters"));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::PasswordHash(e.to_string()))
}

/// Whether `password` matches `hash`; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A freshly made token: shown to its owner once, stored only as a hash.
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

fn new_token_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// A password hash to check against when the email is unknown, so a
/// failed sign-in takes as long whether or not the account exists.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

impl Storage {
    pub async fn add_user(&self, email: &str, password: &str, role: Role) -> Result<User> {
        let email = Email::parse(email)?;
        validate_password(password)?;
        let hash = hash_password(password)?;
        self.create_user(&email, &hash, role).await
    }

    /// The user whose email and password match, or None.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>> {
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        let found = self.find_user_for_sign_in(&email).await?;
        let password = password.to_owned();
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, dummy_hash().to_owned()),
        };
        // argon2 is deliberately slow; keep it off the async workers.
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        Ok(user.filter(|_| ok))
    }

    pub async fn issue_api_token(&self, name: &str, role: Role) -> Result<IssuedToken> {
        let secret = new_token_secret();
        let token = self.create_api_token(name, &hash_token(&secret), role).await?;
        Ok(IssuedToken { token, secret })
    }

    /// The token a bearer secret belongs to, if it is live.
    pub async fn token_for_secret(&self, secret: &str) -> Result<Option<ApiToken>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        self.use_api_token(&hash_token(secret)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse").expect("hashes");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsf", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough").is_ok());
    }

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = new_token_secret();
        let b = new_token_secret();
        assert!(a.starts_with("tb_") && a.len() == 67);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
