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

/// What a settings form did, for its confirmation; a new API token's
/// secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsDone {
    pub message: String,
    pub secret: Option<String>,
}

#[cfg(feature = "ssr")]
impl SettingsDone {
    fn said(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            secret: None,
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
) -> Result<SettingsDone, AppError> {
    use crate::api::ssr::{answer, invalid, require, services};
    let result = async {
        require(sync_core::domain::Permission::Administer).await?;
        let new = sync_core::service::NewUser::parse(&email, &password, &role).map_err(|p| form::refused(p, &[]))?;
        match services()?.accounts.create_user(&new).await {
            Ok(user) => Ok(SettingsDone::said(format!(
                "Added {} as {}; they can sign in now",
                user.email, user.role
            ))),
            // A taken email belongs beside the email field.
            Err(sync_core::Error::Conflict(message)) => {
                Err(invalid(sync_core::domain::DomainError::new("email", message)))
            }
            Err(e) => Err(e.into()),
        }
    }
    .await;
    let message = |d: &SettingsDone| d.message.clone();
    answer(SETTINGS_PAGE, result, message, &[("email", &email), ("role", &role)])
}

/// A user's role, from their row (owners only); the last owner keeps theirs.
#[server(endpoint = "change_role")]
pub async fn change_role(id: i64, #[server(default)] role: String) -> Result<SettingsDone, AppError> {
    use crate::api::ssr::{answer, invalid, require, services};
    let result = async {
        let me = require(sync_core::domain::Permission::Administer).await?;
        let role = sync_core::domain::Role::parse(&role).map_err(invalid)?;
        let user = services()?
            .accounts
            .change_role(me.id, sync_core::domain::UserId::new(id), role)
            .await?;
        Ok(SettingsDone::said(format!("{} is now {}", user.email, user.role)))
    }
    .await;
    answer(SETTINGS_PAGE, result, |d| d.message.clone(), &[])
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
) -> Result<SettingsDone, AppError> {
    use crate::api::ssr::{answer, require, services};
    let kept = [("token_name", token_name.as_str()), ("token_role", token_role.as_str())];
    let mut page = SETTINGS_PAGE.to_owned();
    let result = async {
        require(sync_core::domain::Permission::Administer).await?;
        let new = sync_core::service::NewToken::parse(&token_name, &token_role)
            .map_err(|p| form::refused(p, &[("name", "token_name"), ("role", "token_role")]))?;
        let accounts = services()?.accounts;
        let issued = accounts.create_token(&new).await?;
        // Without JavaScript the page after the redirect shows the secret.
        page = format!(
            "{SETTINGS_PAGE}?reveal={}",
            accounts.shown_once().hold(issued.secret.clone())
        );
        Ok(SettingsDone {
            message: format!(
                "Created the API token {}. Copy its secret now: it will not be shown again",
                issued.token.name
            ),
            secret: Some(issued.secret),
        })
    }
    .await;
    answer(&page, result, |d| d.message.clone(), &kept)
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
pub async fn set_time_zone(#[server(default)] time_zone: String) -> Result<SettingsDone, AppError> {
    use crate::api::ssr::{answer, invalid, require, services};
    let result = async {
        require(sync_core::domain::Permission::Administer).await?;
        let zone = sync_core::domain::StoreZone::parse(&time_zone).map_err(invalid)?;
        services()?.store.set_zone(zone).await?;
        Ok(SettingsDone::said(format!(
            "Times are now shown in {zone} ({})",
            zone.abbreviation_now()
        )))
    }
    .await;
    answer(
        SETTINGS_PAGE,
        result,
        |d| d.message.clone(),
        &[("time_zone", &time_zone)],
    )
}
