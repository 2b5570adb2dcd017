//! The settings forms' answers, and the page's view of the sync core's
//! users, tokens and time zone.

use sync_core::domain::{DomainError, StoreZone};
use sync_core::service::{ApiToken, User};

use super::{FieldRefusal, FormAnswer, SettingsView, TokenView, UserView};
use crate::AppError;
use crate::api::ssr::answer;

/// Every field's problem; `rename` maps a sync-core field name to the
/// form's, where the form names it otherwise.
pub fn refused(problems: Vec<DomainError>, rename: &[(&str, &str)]) -> FormAnswer {
    FormAnswer::Refused(
        problems
            .into_iter()
            .map(|p| FieldRefusal {
                field: rename
                    .iter()
                    .find(|(from, _)| *from == p.field)
                    .map_or(p.field, |(_, to)| to)
                    .to_owned(),
                message: p.message,
            })
            .collect(),
    )
}

pub fn refused_at(field: &str, message: String) -> FormAnswer {
    FormAnswer::Refused(vec![FieldRefusal {
        field: field.to_owned(),
        message,
    }])
}

/// Answers a settings form. Without JavaScript the browser goes back to
/// `page`: with the confirmation, or with every refusal (`invalid_<field>`)
/// and what was typed (`keep`, never a password) for the page to show
/// beside the fields. With JavaScript the answer goes back to the form.
pub fn answered(
    page: &str,
    result: Result<FormAnswer, AppError>,
    keep: &[(&str, &str)],
) -> Result<FormAnswer, AppError> {
    match result {
        Ok(FormAnswer::Refused(refusals)) => {
            let invalid: Vec<(String, &str)> = refusals
                .iter()
                .map(|r| (format!("invalid_{}", r.field), r.message.as_str()))
                .collect();
            let mut pairs: Vec<(&str, &str)> = keep.to_vec();
            pairs.extend(invalid.iter().map(|(k, v)| (k.as_str(), *v)));
            let refusal = FormAnswer::Refused(refusals.clone());
            // A refusal of no one field: the URL says "refused" and the
            // page finds each field's problem in `invalid_<field>`.
            let summary = AppError::Invalid {
                field: String::new(),
                message: refusal.message(),
            };
            let _ = answer(page, Err::<(), _>(summary), |_| String::new(), &pairs);
            Ok(refusal)
        }
        Ok(done) => answer(page, Ok(done), FormAnswer::message, &[]),
        Err(e) => answer(page, Err(e), FormAnswer::message, keep),
    }
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
