//! Settings: users and their roles, API tokens (owners only), and the
//! store's time zone.

#[cfg(feature = "ssr")]
mod form;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Where every settings form comes back to.
pub const SETTINGS_PAGE: &str = "/settings";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub added: String,
    /// The signed-in user's own row.
    pub is_me: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created: String,
    pub last_used: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub users: Vec<UserView>,
    /// Owners manage users, API tokens and the time zone; others read.
    pub can_administer: bool,
    /// Owners only.
    pub tokens: Vec<TokenView>,
    /// The store's time zone, e.g. Europe/Berlin, and its abbreviation now.
    pub time_zone: String,
    pub zone_now: String,
    /// The names a store may choose from (owners only).
    pub zone_names: Vec<String>,
    /// A new token's secret, this once: after a form posted without
    /// JavaScript (with it, the form's answer carries the secret).
    pub revealed: Option<String>,
}

/// A refused field and why, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRefusal {
    pub field: String,
    pub message: String,
}

/// What a settings form did. A refusal names every field at fault at
/// once, so it is an answer of its own rather than one `AppError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormAnswer {
    Done(String),
    /// A new API token and its secret, shown this once.
    TokenCreated {
        name: String,
        secret: String,
    },
    Refused(Vec<FieldRefusal>),
}

impl FormAnswer {
    /// What the toast (or, without JavaScript, the page) says.
    pub fn message(&self) -> String {
        match self {
            FormAnswer::Done(message) => message.clone(),
            FormAnswer::TokenCreated { name, .. } => {
                format!("Created the API token {name}. Copy its secret now: it will not be shown again")
            }
            FormAnswer::Refused(refusals) if refusals.len() == 1 => {
                "Nothing was saved: see the field marked below".into()
            }
            FormAnswer::Refused(refusals) => {
                format!("Nothing was saved: see the {} fields marked below", refusals.len())
            }
        }
    }

    /// Why `field` was refused, if it was.
    pub fn refusal(&self, field: &str) -> Option<String> {
        match self {
            FormAnswer::Refused(refusals) => refusals.iter().find(|r| r.field == field).map(|r| r.message.clone()),
            _ => None,
        }
    }
}

/// The Settings page. `reveal` is the key of a new token's secret that a
/// form posted without JavaScript left to be shown once.
#[server(endpoint = "get_settings", input = GetUrl)]
pub async fn get_settings(reveal: Option<String>) -> Result<SettingsView, AppError> {
    use sync_core::domain::Permission;
    let me = crate::api::ssr::require(Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let can_administer = me.role.allows(Permission::Administer);
    let zone = services.store.zone().await?;
    let users = services.accounts.users().await?;
    let tokens = match can_administer {
        true => services.accounts.tokens().await?,
        false => Vec::new(),
    };
    let revealed = reveal
        .filter(|_| can_administer)
        .and_then(|key| services.accounts.shown_once().take(&key));
    Ok(form::settings_view(&me, users, tokens, zone, revealed))
}

/// "Add user" (owners only): every field's problem at once; what was
/// typed comes back but the password.
#[server(endpoint = "add_user")]
pub async fn add_user(
    #[server(default)] email: String,
    #[server(default)] password: String,
    #[server(default)] role: String,
) -> Result<FormAnswer, AppError> {
    use crate::api::ssr::{require, services};
    let result = async {
        require(sync_core::domain::Permission::Administer).await?;
        let new = match sync_core::service::NewUser::parse(&email, &password, &role) {
            Ok(new) => new,
            Err(problems) => return Ok(form::refused(problems, &[])),
        };
        let added = services()?.accounts.create_user(&new).await;
        Ok(match added {
            Ok(user) => FormAnswer::Done(format!("Added {} as {}; they can sign in now", user.email, user.role)),
            // A taken email belongs beside the email field.
            Err(sync_core::Error::Conflict(message)) => form::refused_at("email", message),
            Err(e) => return Err(e.into()),
        })
    }
    .await;
    form::answered(SETTINGS_PAGE, result, &[("email", &email), ("role", &role)])
}

/// A user's role, from their row (owners only); the last owner keeps theirs.
#[server(endpoint = "change_role")]
pub async fn change_role(id: i64, #[server(default)] role: String) -> Result<FormAnswer, AppError> {
    use crate::api::ssr::{invalid, require, services};
    let result = async {
        let me = require(sync_core::domain::Permission::Administer).await?;
        let role = sync_core::domain::Role::parse(&role).map_err(invalid)?;
        let user = services()?
            .accounts
            .change_role(me.id, sync_core::domain::UserId::new(id), role)
            .await?;
        Ok(FormAnswer::Done(format!("{} is now {}", user.email, user.role)))
    }
    .await;
    form::answered(SETTINGS_PAGE, result, &[])
}

/// "Remove user", once confirmed (owners only); the last owner stays.
#[server(endpoint = "remove_user")]
pub async fn remove_user(id: i64, confirm: Option<String>) -> Result<(), AppError> {
    use crate::api::ssr::{Next, require, services, submit};
    submit(&format!("{SETTINGS_PAGE}?remove_user={id}"), &[], async {
        let me = require(sync_core::domain::Permission::Administer).await?;
        form::confirmed(confirm.as_deref(), "tick “I understand” to remove the user")?;
        let user = services()?
            .accounts
            .remove_user(me.id, sync_core::domain::UserId::new(id))
            .await?;
        Ok(Next::to(
            SETTINGS_PAGE,
            format!("Removed {}: they can no longer sign in", user.email),
        ))
    })
    .await
}

/// "Create API token" (owners only): its secret comes back this once.
#[server(endpoint = "create_token")]
pub async fn create_token(
    #[server(default)] token_name: String,
    #[server(default)] token_role: String,
) -> Result<FormAnswer, AppError> {
    use crate::api::ssr::{require, services};
    let kept = [("token_name", token_name.as_str()), ("token_role", token_role.as_str())];
    let mut page = SETTINGS_PAGE.to_owned();
    let result = async {
        require(sync_core::domain::Permission::Administer).await?;
        let new = match sync_core::service::NewToken::parse(&token_name, &token_role) {
            Ok(new) => new,
            Err(problems) => {
                return Ok(form::refused(
                    problems,
                    &[("name", "token_name"), ("role", "token_role")],
                ));
            }
        };
        let accounts = services()?.accounts;
        let issued = accounts.create_token(&new).await?;
        // Without JavaScript the page after the redirect shows the secret.
        page = format!(
            "{SETTINGS_PAGE}?reveal={}",
            accounts.shown_once().hold(issued.secret.clone())
        );
        Ok(FormAnswer::TokenCreated {
            name: issued.token.name,
            secret: issued.secret,
        })
    }
    .await;
    form::answered(&page, result, &kept)
}

/// "Revoke", once confirmed (owners only): the API refuses the token at once.
#[server(endpoint = "revoke_token")]
pub async fn revoke_token(id: i64, confirm: Option<String>) -> Result<(), AppError> {
    use crate::api::ssr::{Next, require, services, submit};
    submit(&format!("{SETTINGS_PAGE}?revoke_token={id}"), &[], async {
        require(sync_core::domain::Permission::Administer).await?;
        form::confirmed(confirm.as_deref(), "tick “I understand” to revoke the token")?;
        let token = services()?
            .accounts
            .revoke_token(sync_core::domain::ApiTokenId::new(id))
            .await?;
        Ok(Next::to(
            SETTINGS_PAGE,
            format!("Revoked the API token {}: the API refuses it from now on", token.name),
        ))
    })
    .await
}

/// The store's time zone (owners only): every time the dashboard shows is in it.
#[server(endpoint = "set_time_zone")]
pub async fn set_time_zone(#[server(default)] time_zone: String) -> Result<FormAnswer, AppError> {
    use crate::api::ssr::{require, services};
    let result = async {
        require(sync_core::domain::Permission::Administer).await?;
        let zone = match sync_core::domain::StoreZone::parse(&time_zone) {
            Ok(zone) => zone,
            Err(problem) => return Ok(form::refused(vec![problem], &[])),
        };
        services()?.store.set_zone(zone).await?;
        Ok(FormAnswer::Done(format!(
            "Times are now shown in {zone} ({})",
            zone.abbreviation_now()
        )))
    }
    .await;
    form::answered(SETTINGS_PAGE, result, &[("time_zone", &time_zone)])
}
