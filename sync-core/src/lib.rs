//! Tillbridge's sync core: the domain, its storage on SQLite or PostgreSQL,
//! the stock ledger and the services the web app, the API and the CLI call
//! (`service`, the only door in). Nothing in here knows about browsers or
//! HTTP requests.

pub mod auth;
pub mod bulk;
pub mod connect;
pub mod connector;
pub mod demo;
pub mod domain;
pub mod error;
pub mod import;
pub mod secret;
pub mod service;
// The services are the only door: the app and the server never see the
// storage. The project's test harnesses open it with the `testing` feature.
#[cfg(feature = "testing")]
pub mod storage;
#[cfg(not(feature = "testing"))]
pub(crate) mod storage;
pub mod sync;
pub mod vault;
pub mod webhook;

pub use error::{Error, Result};
pub use service::{Database, Runtime, Services};
#[cfg(feature = "testing")]
pub use storage::Storage;
