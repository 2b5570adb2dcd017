//! The settings forms' refusals, and the page's view of the sync core's
//! users, tokens and time zone.

use sync_core::domain::{DomainError, StoreZone};
use sync_core::service::{ApiToken, User};

use super::{SettingsView, TokenView, UserView};
use crate::AppError;

/// Every field's problem at once; `rename` maps a sync-core field name
/// to the form's, where the form names it otherwise.
pub fn refused(problems: Vec<DomainError>, rename: &[(&str, &str)]) -> AppError {
    let fields = problems
        .into_iter()
        .map(|p| {
            let field = rename
                .iter()
                .find(|(from, _)| *from == p.field)
                .map_or(p.field, |(_, to)| to);
            (field.to_owned(), p.message)
        })
        .collect();
    let error = AppError::Fields(fields);
    crate::api::ssr::set_status(&error);
    error
}

/// The "I understand" box a removal needs ticked.
pub fn confirmed(value: Option<&str>, message: &str) -> Result<(), AppError> {
    match value {
        Some("on" | "true" | "1" | "yes") => Ok(()),
        _ => crate::api::ssr::fail(AppError::Invalid {
            field: "confirm".into(),
            message: message.to_owned(),
        }),
    }
}

pub fn settings_view(
    me: &User,
    users: Vec<User>,
    tokens: Vec<ApiToken>,
    zone: StoreZone,
    revealed: Option<String>,
) -> SettingsView {
    let can_administer = me.role.allows(sync_core::domain::Permission::Administer);
    SettingsView {
        users: users
            .into_iter()
            .map(|u| UserView {
                id: u.id.get(),
                is_me: u.id == me.id,
                email: u.email.to_string(),
                role: u.role.to_string(),
                added: zone.show(u.created_at),
            })
            .collect(),
        can_administer,
        tokens: tokens
            .into_iter()
            .map(|t| TokenView {
                id: t.id.get(),
                role: t.role.to_string(),
                created: zone.show(t.created_at),
                last_used: t.last_used_at.map_or_else(|| "never".to_owned(), |at| zone.show(at)),
                name: t.name,
            })
            .collect(),
        time_zone: zone.name().to_owned(),
        zone_now: zone.abbreviation_now(),
        zone_names: match can_administer {
            true => StoreZone::names().map(str::to_owned).collect(),
            false => Vec::new(),
        },
        revealed,
    }
}
