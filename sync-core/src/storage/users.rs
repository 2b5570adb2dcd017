//! Users, roles and API tokens.

use super::{Storage, on_pool};
use crate::domain::{ApiTokenId, DomainError, Email, Role, Timestamp, UserId};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub role: Role,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    email: String,
    role: String,
    created_at: Timestamp,
    password_hash: String,
}

impl UserRow {
    fn into_user(self) -> Result<(User, String)> {
        Ok((
            User {
                id: self.id,
                email: Email::parse(&self.email)?,
                role: Role::parse(&self.role)?,
                created_at: self.created_at,
            },
            self.password_hash,
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: ApiTokenId,
    name: String,
    role: String,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = DomainError;
    fn try_from(r: TokenRow) -> Result<Self, DomainError> {
        Ok(ApiToken {
            id: r.id,
            name: r.name,
            role: Role::parse(&r.role)?,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
    }
}

const USER_COLUMNS: &str = "id, email, role, created_at, password_hash";

impl Storage {
    /// Adds a user; the password must already be hashed (see `auth`).
    pub async fn create_user(&self, email: &Email, password_hash: &str, role: Role) -> Result<User> {
        let now = Timestamp::now();
        let inserted = on_pool!(self, pool => {
            sqlx::query_scalar::<_, UserId>(
                "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(email.as_str())
            .bind(password_hash)
            .bind(role.as_str())
            .bind(now)
            .fetch_one(pool)
            .await
        });
        let id = inserted.map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(format!("a user with the email {email} already exists"))
            }
            other => other.into(),
        })?;
        Ok(User {
            id,
            email: email.clone(),
            role,
            created_at: now,
        })
    }

    /// The user and their password hash, for signing in.
    pub async fn find_user_for_sign_in(&self, email: &Email) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(email.as_str()).fetch_optional(pool).await
        })?;
        row.map(UserRow::into_user).transpose()
    }

    pub async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
        })?;
        Ok(row.map(UserRow::into_user).transpose()?.map(|(u, _)| u))
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(pool).await
        })?)
    }

    /// Stores a new API token by its hash; the token itself is never stored.
    pub async fn create_api_token(&self, name: &str, token_hash: &str, role: Role) -> Result<ApiToken> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(DomainError::new("name", "a token name is 1 to 100 characters").into());
        }
        let now = Timestamp::now();
        let id = on_pool!(self, pool => {
            sqlx::query_scalar::<_, ApiTokenId>(
                "INSERT INTO api_tokens (name, token_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(name)
            .bind(token_hash)
            .bind(role.as_str())
            .bind(now)
            .fetch_one(pool)
            .await
        })?;
        Ok(ApiToken {
            id,
            name: name.to_owned(),
            role,
            created_at: now,
            last_used_at: None,
        })
    }

    /// The live (not revoked) token with this hash, marking it used.
    pub async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let now = Timestamp::now();
        let row: Option<TokenRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL
                 RETURNING id, name, role, created_at, last_used_at",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(ApiToken::try_from).transpose()?)
    }
}
