//! Where the database, the secret key and the site files are.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use sync_core::secret::SecretKey;
use sync_core::vault::Vault;
use sync_core::{Database, Services};

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Database URL: sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(long, env = "DATABASE_URL", default_value = sync_core::service::DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Folder for local state (the secret key file).
    #[arg(long, env = "TILLBRIDGE_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
}

impl GlobalArgs {
    /// Opens the database and brings its schema up to date.
    pub async fn database(&self) -> anyhow::Result<Database> {
        Database::open(&self.database_url)
            .await
            .context("cannot open the database and bring its schema up to date")
    }

    /// The vault that seals channel credentials with this instance's key.
    pub fn vault(&self) -> anyhow::Result<Vault> {
        let key =
            SecretKey::load_or_create(&self.data_dir.join("secret.key")).context("cannot prepare the secret key")?;
        Ok(Vault::new(&key))
    }

    /// The sync core's services over the database, for one command.
    pub async fn services(&self) -> anyhow::Result<Services> {
        Ok(Services::new(&self.database().await?, self.vault()?))
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TILLBRIDGE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Load the demo store first if the database is empty.
    #[arg(long)]
    pub demo: bool,

    /// Tillbridge's address as people reach it, e.g. https://tillbridge.my-shop.example;
    /// when it is https, the sign-in cookie only travels over https.
    #[arg(long, env = "TILLBRIDGE_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl ServeArgs {
    /// Whether the sign-in cookie is marked `Secure`: when the public address is https.
    pub fn secure_cookie(&self) -> anyhow::Result<bool> {
        let url = self
            .public_url
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if url.is_empty() || url.starts_with("http://") {
            return Ok(false);
        }
        if url.starts_with("https://") {
            return Ok(true);
        }
        anyhow::bail!("the public URL (TILLBRIDGE_PUBLIC_URL, --public-url) must start with https:// or http://")
    }
}
