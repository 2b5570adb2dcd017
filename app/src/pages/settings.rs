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
use crate::api::settings::{
    AddUser, ChangeRole, CreateToken, FormAnswer, RemoveUser, RevokeToken, SetTimeZone, get_settings,
};
use crate::components::notice::{NoticeFromUrl, toast_refusals};
use crate::components::toast::use_toasts;
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
    // Each form done (with JavaScript) reads the page again.
    let done = RwSignal::new(0u32);
    let actions = Actions {
        add_user: ServerAction::new(),
        change_role: ServerAction::new(),
        remove_user: ServerAction::new(),
        create_token: ServerAction::new(),
        revoke_token: ServerAction::new(),
        set_time_zone: ServerAction::new(),
    };
    toast_answers(actions.add_user.value(), done);
    toast_answers(actions.change_role.value(), done);
    toast_answers(actions.create_token.value(), done);
    toast_answers(actions.set_time_zone.value(), done);
    // A removal done navigates back here, with its notice.
    toast_refusals(actions.remove_user.value());
    toast_refusals(actions.revoke_token.value());
    provide_context(actions);
    let settings = Resource::new(
        move || {
            let q = query.read();
            let wanted = ["reveal", "notice", "remove_user", "revoke_token"].map(|k| q.get(k));
            (wanted, done.get())
        },
        |([reveal, ..], _)| get_settings(reveal),
    );
    view! {
        <Title text="Settings"/>
        <NoticeFromUrl/>
        <h1>"Settings"</h1>
        <PlainNotice/>
        <Suspense fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
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
        </Suspense>
    }
}

/// Shows what a settings form answered as a toast (a refusal in red) and
/// counts what was done, so the page reads its data again; a refused form
/// keeps what was typed.
fn toast_answers<S>(value: S, done: RwSignal<u32>)
where
    S: Get<Value = Option<Result<FormAnswer, AppError>>> + Send + Sync + 'static,
{
    let toasts = use_toasts();
    Effect::new(move |_| match value.get() {
        Some(Ok(answer @ FormAnswer::Refused(_))) => toasts.show(answer.message(), true),
        Some(Ok(answer)) => {
            toasts.show(answer.message(), false);
            done.update(|n| *n += 1);
        }
        Some(Err(e)) => toasts.show(e.message(), true),
        None => {}
    });
}

/// The confirmation or refusal a form posted without JavaScript carried
/// back (`?notice=…`), on the page itself, since without JavaScript no
/// toast appears. Once the page is hydrated, toasts say it instead.
#[component]
fn PlainNotice() -> impl IntoView {
    let query = use_query_map();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    move || {
        let q = query.read();
        let notice = q.get("notice").filter(|n| !n.is_empty() && !hydrated.get())?;
        let class = if q.get("notice_error").is_some() {
            "settings-notice error"
        } else {
            "settings-notice"
        };
        Some(view! { <p class=class role="status" id="settings-notice">{notice}</p> })
    }
}

/// A form's problem beside `field`: the one its action just answered
/// (with JavaScript), or the one the URL carries (`invalid_<field>`, a
/// form posted without it).
fn refusal(
    answer: impl Fn() -> Option<Result<FormAnswer, AppError>> + Send + Sync + 'static,
    field: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    move || {
        let message = match answer() {
            Some(Ok(answered)) => answered.refusal(field),
            Some(Err(e)) => (e.field() == field).then(|| e.message()),
            None => query.read().get(&format!("invalid_{field}")),
        };
        message.map(|m| view! { <span class="field-error" role="alert" id=format!("{field}-error")>{m}</span> })
    }
}

/// Whether `field` is refused now, for its `aria-invalid`.
fn is_refused(
    answer: impl Fn() -> Option<Result<FormAnswer, AppError>> + Send + Sync + 'static,
    field: &'static str,
) -> impl Fn() -> String + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        let refused = match answer() {
            Some(Ok(answered)) => answered.refusal(field).is_some(),
            Some(Err(e)) => e.field() == field,
            None => query.read().get(&format!("invalid_{field}")).is_some(),
        };
        refused.to_string()
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
