//! The instance's secret key: 32 random bytes in a file created on first
//! start with mode 0600. It encrypts channel credentials at rest.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

use crate::{Error, Result};

pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// Reads the key at `path`, creating it (and its folder) if missing.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let io = |context: String| move |source| Error::Io { context, source };
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; 32] = hex::decode(String::from_utf8_lossy(&bytes).trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| Error::Io {
                        context: format!("the secret key file {} is not 64 hex digits", path.display()),
                        source: std::io::ErrorKind::InvalidData.into(),
                    })?;
                Ok(Self(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
                }
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(path)
                    .map_err(io(format!("cannot create the secret key file {}", path.display())))?;
                file.write_all(hex::encode(key).as_bytes())
                    .map_err(io(format!("cannot write the secret key file {}", path.display())))?;
                Ok(Self(key))
            }
            Err(e) => Err(io(format!("cannot read the secret key file {}", path.display()))(e)),
        }
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/secret.key");
        let first = SecretKey::load_or_create(&path).expect("created");
        let second = SecretKey::load_or_create(&path).expect("read back");
        assert_eq!(first.bytes(), second.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("exists").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secret.key");
        std::fs::write(&path, "garbage").expect("written");
        assert!(SecretKey::load_or_create(&path).is_err());
    }
}
