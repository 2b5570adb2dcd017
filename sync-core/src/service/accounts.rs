//! Users, API tokens and sign-in sessions.

mod forms;
mod shown_once;

use super::Core;
use crate::auth::IssuedToken;
use crate::domain::{ApiTokenId, Email, Role, Timestamp, UserId};
use crate::storage::OwnerGuarded;
use crate::{Error, Result};

pub use crate::storage::{ApiToken, SessionRow, User};
pub use forms::{NewToken, NewUser};
pub use shown_once::ShownOnce;

#[derive(Clone)]
pub struct Accounts {
    core: Core,
    shown_once: ShownOnce,
}

impl Accounts {
    pub(super) fn new(core: Core) -> Self {
        Self {
            core,
            shown_once: ShownOnce::default(),
        }
    }

    /// Every user, by email.
    pub async fn users(&self) -> Result<Vec<User>> {
        self.core.storage.list_users().await
    }

    /// Adds a user from the dashboard's form (already checked whole).
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        self.core
            .storage
            .add_user(new.email.as_str(), new.password(), new.role)
            .await
    }

    /// Gives `user` another role; `by` (an owner) is told plainly when
    /// that would leave the store without an owner.
    pub async fn change_role(&self, by: UserId, user: UserId, role: Role) -> Result<User> {
        let guarded = self.core.storage.set_user_role(user, role).await?;
        owner_kept(Some(by), user, guarded, "change your own role")?;
        self.user(user).await?.ok_or_else(|| Error::NotFound("user".into()))
    }

    /// Removes `user`, unless they are the store's last owner.
    pub async fn remove_user(&self, by: UserId, user: UserId) -> Result<User> {
        self.remove(Some(by), user).await
    }

    /// Removes the user with this email (from the command line, which
    /// acts as no user), unless they are the store's last owner.
    pub async fn remove_user_by_email(&self, email: &str) -> Result<User> {
        let email = Email::parse(email)?;
        let (user, _) = self
            .core
            .storage
            .find_user_for_sign_in(&email)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {email}")))?;
        self.remove(None, user.id).await
    }

    async fn remove(&self, by: Option<UserId>, user: UserId) -> Result<User> {
        let removed = self.user(user).await?.ok_or_else(|| Error::NotFound("user".into()))?;
        let guarded = self.core.storage.delete_user(user).await?;
        owner_kept(by, user, guarded, "remove yourself")?;
        Ok(removed)
    }

    /// The live API tokens, newest first.
    pub async fn tokens(&self) -> Result<Vec<ApiToken>> {
        self.core.storage.list_api_tokens().await
    }

    /// A new API token from the dashboard's form (already checked whole).
    pub async fn create_token(&self, new: &NewToken) -> Result<IssuedToken> {
        self.core.storage.issue_api_token(&new.name, new.role).await
    }

    /// Revokes a token: the API refuses it from the next request on.
    pub async fn revoke_token(&self, id: ApiTokenId) -> Result<ApiToken> {
        self.core
            .storage
            .revoke_api_token(id)
            .await?
            .ok_or_else(|| Error::NotFound("API token".into()))
    }

    /// Secrets waiting to be shown once (see `ShownOnce`).
    pub fn shown_once(&self) -> &ShownOnce {
        &self.shown_once
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

/// Why a change guarded to keep an owner did not happen, in plain words
/// for `by`, the owner who asked (None: the command line).
fn owner_kept(by: Option<UserId>, user: UserId, guarded: OwnerGuarded, doing: &str) -> Result<()> {
    match guarded {
        OwnerGuarded::Done => Ok(()),
        OwnerGuarded::NoSuchUser => Err(Error::NotFound("user".into())),
        OwnerGuarded::LastOwner if by == Some(user) => Err(Error::Conflict(format!(
            "You are the store's only owner, so you cannot {doing}: make another user an owner first."
        ))),
        OwnerGuarded::LastOwner => Err(Error::Conflict(
            "That user is the store's only owner: make another user an owner first.".into(),
        )),
    }
}
