//! Channel credentials encrypted at rest with the instance's secret key
//! (XChaCha20-Poly1305; a random nonce is stored before each ciphertext).

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::secret::SecretKey;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("stored credentials cannot be decrypted: was the secret key file replaced?")]
    Undecryptable,
    #[error("credentials could not be encrypted")]
    Encrypt,
}

#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(***)")
    }
}

impl Vault {
    pub fn new(key: &SecretKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.bytes().into()),
        }
    }

    pub fn seal(&self, secret: &str) -> Result<Vec<u8>, VaultError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, secret.as_bytes())
            .map_err(|_| VaultError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8]) -> Result<String, VaultError> {
        if sealed.len() <= NONCE_LEN {
            return Err(VaultError::Undecryptable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| VaultError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| VaultError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        let dir = tempfile::tempdir().expect("dir");
        Vault::new(&SecretKey::load_or_create(&dir.path().join("k")).expect("key"))
    }

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let v = vault();
        let sealed = v.seal("shpat_secret").expect("sealed");
        assert!(
            !sealed.windows(6).any(|w| w == b"shpat_"),
            "the token is not stored in clear"
        );
        assert_eq!(v.open(&sealed).expect("opened"), "shpat_secret");
        assert!(vault().open(&sealed).is_err(), "another key cannot open it");
        assert!(v.open(b"short").is_err());
    }
}
