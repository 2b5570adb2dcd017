//! Tillbridge's sync core: the domain, its storage on SQLite or PostgreSQL,
//! the stock ledger and the services the web app, the API and the CLI call.
//! Nothing in here knows about browsers or HTTP requests.

pub mod auth;
pub mod bulk;
pub mod connect;
pub mod connector;
pub mod demo;
pub mod domain;
pub mod error;
pub mod import;
pub mod secret;
pub mod storage;
pub mod sync;
pub mod vault;
pub mod webhook;

pub use error::{Error, Result};
pub use storage::Storage;
