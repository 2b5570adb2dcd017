//! Settings: the store's users and their roles, its API tokens (owners
//! manage both; others read the users), and the time zone every page
//! shows times in. Every form works without JavaScript: it comes back to
//! this page with its confirmation, or with each field's problem beside
//! the field and what was typed (never a password or a secret).

mod tokens;
mod users;
mod zone;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::AppError;
use crate::api::settings::{AddUser, ChangeRole, CreateToken, RemoveUser, RevokeToken, SetTimeZone, get_settings};
use crate::components::notice::{NoticeFromUrl, ToastResult, toast_refusals};
use tokens::TokensCard;
use users::UsersCard;
use zone::TimeZoneCard;

/// The page's forms' actions, shared by its cards.
#[derive(Clone, Copy)]
struct Actions {
    add_user: ServerAction<AddUser>,
    change_role: ServerAction<ChangeRole>,
    remove_user: ServerAction<RemoveUser>,
    create_token: ServerAction<CreateToken>,
    revoke_token: ServerAction<RevokeToken>,
    set_time_zone: ServerAction<SetTimeZone>,
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query_map();
    let actions = Actions {
        add_user: ServerAction::new(),
        change_role: ServerAction::new(),
        remove_user: ServerAction::new(),
        create_token: ServerAction::new(),
        revoke_token: ServerAction::new(),
        set_time_zone: ServerAction::new(),
    };
    // Each form done (with JavaScript) reads the page again; a refused one
    // keeps what was typed.
    let done = [
        ToastResult::new(actions.add_user.value(), |d| d.message.clone()),
        ToastResult::new(actions.change_role.value(), |d| d.message.clone()),
        ToastResult::new(actions.create_token.value(), |d| d.message.clone()),
        ToastResult::new(actions.set_time_zone.value(), |d| d.message.clone()),
    ];
    // A removal done navigates back here, with its notice.
    toast_refusals(actions.remove_user.value());
    toast_refusals(actions.revoke_token.value());
    provide_context(actions);
    let settings = Resource::new(
        move || {
            let q = query.read();
            let wanted = ["reveal", "notice", "remove_user", "revoke_token"].map(|k| q.get(k));
            // A refused role change is read again too: its row shows the role kept.
            (wanted, done.map(|d| d.get()), actions.change_role.version().get())
        },
        |([reveal, ..], ..)| get_settings(reveal),
    );
    view! {
        <Title text="Settings"/>
        <NoticeFromUrl/>
        <h1>"Settings"</h1>
        // Read again after each form, the page stays as it was until then.
        <Transition fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! {
                        <div class="settings" id="settings">
                            <UsersCard users=s.users can_administer=s.can_administer/>
                            <TokensCard tokens=s.tokens can_administer=s.can_administer revealed=s.revealed/>
                            <TimeZoneCard time_zone=s.time_zone zone_now=s.zone_now names=s.zone_names can_administer=s.can_administer/>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Whether `field` is refused now, for its `aria-invalid`: by the answer
/// its form just had (with JavaScript), or in the URL (without it).
fn refused_now(
    refused: impl Fn() -> Option<AppError> + Send + Sync + 'static,
    field: &'static str,
) -> impl Fn() -> String + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        let now = match refused() {
            Some(e) => e.message_for(field).is_some(),
            None => {
                let q = query.read();
                q.get(&format!("error.{field}")).is_some() || q.get("error_field").as_deref() == Some(field)
            }
        };
        now.to_string()
    }
}

/// A value a refused form kept in the URL.
fn typed(key: &str) -> String {
    use_query_map().read_untracked().get(key).unwrap_or_default()
}

/// The roles to choose from, with what each may do.
const ROLES: [(&str, &str); 3] = [
    ("viewer", "Viewer: sees everything, changes nothing"),
    ("manager", "Manager: products, stock and syncs"),
    ("owner", "Owner: also users, channels and API tokens"),
];

/// A role `<select>` with `chosen` selected (viewer when none is).
fn role_options(chosen: String) -> impl IntoView {
    let chosen = if chosen.is_empty() { "viewer".to_owned() } else { chosen };
    ROLES
        .into_iter()
        .map(|(value, label)| view! { <option value=value selected=chosen == value>{label}</option> })
        .collect_view()
}
