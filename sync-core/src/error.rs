use crate::domain::DomainError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The errors sync-core reports to its callers (pages, API, CLI).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input that fails a domain rule; the message names what is wrong.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness or state conflict, e.g. an email that is already taken.
    #[error("{0}")]
    Conflict(String),
    #[error("cannot open the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound("record".into()),
            other => Error::Database(other),
        }
    }
}
