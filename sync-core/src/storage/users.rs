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

    /// The live (not revoked) token with this hash, marking it used. The
    /// mark is written at most once a minute per token, so a busy
    /// point-of-sale reads its token without a write on every request.
    pub async fn use_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row: Option<TokenRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, name, role, created_at, last_used_at FROM api_tokens
                 WHERE token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })?;
        let Some(mut token) = row.map(ApiToken::try_from).transpose()? else {
            return Ok(None);
        };
        let now = Timestamp::now();
        let a_minute_ago = Timestamp::from(now.as_datetime() - chrono::TimeDelta::minutes(LAST_USE_EVERY_MINUTES));
        if token.last_used_at.is_none_or(|at| at < a_minute_ago) {
            on_pool!(self, pool => {
                sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $2
                     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(token.id)
                .bind(now)
                .bind(a_minute_ago)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            })?;
            token.last_used_at = Some(now);
        }
        Ok(Some(token))
    }
}

/// How often a token's "last used" is written, at most.
const LAST_USE_EVERY_MINUTES: i64 = 1;

/// Keeps at least one owner: a change that would take the role from the
/// last one changes nothing.
const KEEP_AN_OWNER: &str =
    "(role <> 'owner' OR EXISTS (SELECT 1 FROM users other WHERE other.role = 'owner' AND other.id <> $1))";

/// Whether a change that must leave the store an owner went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerGuarded {
    Done,
    /// The user is the last owner; nothing changed.
    LastOwner,
    NoSuchUser,
}

impl Storage {
    /// Every user, by email.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        let rows: Vec<UserRow> = on_pool!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter().map(|r| r.into_user().map(|(u, _)| u)).collect()
    }

    /// Gives a user another role, unless that leaves the store without an owner.
    pub async fn set_user_role(&self, id: UserId, role: Role) -> Result<OwnerGuarded> {
        let sql = format!("UPDATE users SET role = $2 WHERE id = $1 AND ($2 = 'owner' OR {KEEP_AN_OWNER})");
        self.owner_guarded(id, &sql, Some(role)).await
    }

    /// Removes a user, unless they are the last owner. Their sessions end
    /// with them: each request reads its user afresh.
    pub async fn delete_user(&self, id: UserId) -> Result<OwnerGuarded> {
        let sql = format!("DELETE FROM users WHERE id = $1 AND {KEEP_AN_OWNER}");
        self.owner_guarded(id, &sql, None).await
    }

    /// Runs `sql` on user `id` (and `role` as `$2`). On PostgreSQL the
    /// owners' rows are locked first, so two owners demoting each other at
    /// once cannot both see the other still an owner; SQLite runs one
    /// writer at a time.
    async fn owner_guarded(&self, id: UserId, sql: &str, role: Option<Role>) -> Result<OwnerGuarded> {
        let lock = match self.engine() {
            super::Engine::Postgres => Some("SELECT id FROM users WHERE role = 'owner' FOR UPDATE"),
            super::Engine::Sqlite => None,
        };
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if let Some(lock) = lock {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let mut statement = sqlx::query(sql).bind(id);
            if let Some(role) = role {
                statement = statement.bind(role.as_str());
            }
            let changed = statement.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            changed
        });
        if changed > 0 {
            return Ok(OwnerGuarded::Done);
        }
        Ok(match self.get_user(id).await? {
            Some(_) => OwnerGuarded::LastOwner,
            None => OwnerGuarded::NoSuchUser,
        })
    }

    /// The live (not revoked) API tokens, newest first.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, name, role, created_at, last_used_at FROM api_tokens
                 WHERE revoked_at IS NULL ORDER BY id DESC",
            )
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(ApiToken::try_from).collect::<Result<_, _>>()?)
    }

    /// Revokes a live token: the API refuses it from now on. None when
    /// there is no such live token.
    pub async fn revoke_api_token(&self, id: ApiTokenId) -> Result<Option<ApiToken>> {
        let row: Option<TokenRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL
                 RETURNING id, name, role, created_at, last_used_at",
            )
            .bind(id)
            .bind(Timestamp::now())
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(ApiToken::try_from).transpose()?)
    }
}
