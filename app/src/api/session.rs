use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub email: String,
    pub role: String,
    pub can_write: bool,
    /// Open conflicts, for the badge in the navigation.
    pub open_conflicts: i64,
}

/// Who is signed in, for the header.
#[server(endpoint = "current_user", input = GetUrl)]
pub async fn current_user() -> Result<UserView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::current_user().await?;
    Ok(UserView {
        email: user.email.to_string(),
        role: user.role.to_string(),
        can_write: user.role.allows(Permission::WriteCatalog),
        open_conflicts: crate::api::ssr::services()?.history.count_open_conflicts().await?,
    })
}
