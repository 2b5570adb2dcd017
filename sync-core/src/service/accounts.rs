//! Users, API tokens and sign-in sessions.

use super::Core;
use crate::Result;
use crate::auth::IssuedToken;
use crate::domain::{Role, Timestamp, UserId};

pub use crate::storage::{ApiToken, SessionRow, User};

#[derive(Clone)]
pub struct Accounts {
    core: Core,
}

impl Accounts {
    pub(super) fn new(core: Core) -> Self {
        Self { core }
    }

    /// The user with this email and password, or None.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>> {
        self.core.storage.authenticate(email, password).await
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.core.storage.get_user(id).await
    }

    pub async fn add_user(&self, email: &str, password: &str, role: Role) -> Result<User> {
        self.core.storage.add_user(email, password, role).await
    }

    /// A new API token; its secret is shown once and stored only hashed.
    pub async fn issue_token(&self, name: &str, role: Role) -> Result<IssuedToken> {
        self.core.storage.issue_api_token(name, role).await
    }

    pub async fn token_for_secret(&self, secret: &str) -> Result<Option<ApiToken>> {
        self.core.storage.token_for_secret(secret).await
    }

    /// Whether the demo store's account is there, to hint it at sign-in.
    pub async fn demo_account_exists(&self) -> Result<bool> {
        crate::demo::demo_account_exists(&self.core.storage).await
    }

    /// Stores a new session; false when the id is taken.
    pub async fn create_session(&self, id: &str, data: &str, expires_at: Timestamp) -> Result<bool> {
        self.core.storage.create_session(id, data, expires_at).await
    }

    pub async fn save_session(&self, id: &str, data: &str, expires_at: Timestamp) -> Result<()> {
        self.core.storage.save_session(id, data, expires_at).await
    }

    pub async fn load_session(&self, id: &str) -> Result<Option<SessionRow>> {
        self.core.storage.load_session(id).await
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        self.core.storage.delete_session(id).await
    }

    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        self.core.storage.delete_expired_sessions().await
    }
}
