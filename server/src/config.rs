//! Where the database, the secret key and the site files are.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use sync_core::Storage;
use sync_core::secret::SecretKey;

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Database URL: sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(long, env = "DATABASE_URL", default_value = sync_core::storage::DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Folder for local state (the secret key file).
    #[arg(long, env = "TILLBRIDGE_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
}

impl GlobalArgs {
    /// Opens and migrates the database.
    pub async fn storage(&self) -> anyhow::Result<Storage> {
        let storage = Storage::connect(&self.database_url).await?;
        storage
            .migrate()
            .await
            .context("cannot bring the database schema up to date")?;
        Ok(storage)
    }

    pub fn secret_key(&self) -> anyhow::Result<SecretKey> {
        Ok(SecretKey::load_or_create(&self.data_dir.join("secret.key"))?)
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
}
