//! API tokens, for owners: create one (its secret shown this once), see
//! when each was last used, revoke one (after a confirmation,
//! `?revoke_token=ID`, its own page without JavaScript).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{Actions, refused_now, role_options, typed};
use crate::api::settings::{SettingsDone, TokenView};
use crate::components::notice::field_error;

#[component]
pub fn TokensCard(tokens: Vec<TokenView>, can_administer: bool, revealed: Option<String>) -> impl IntoView {
    if !can_administer {
        return view! {
            <section class="card" id="tokens-card">
                <h2>"API tokens"</h2>
                <p class="muted" id="tokens-owner-only">"Only an owner can manage API tokens."</p>
            </section>
        }
        .into_any();
    }
    let revoking = use_query_map()
        .read_untracked()
        .get("revoke_token")
        .and_then(|id| id.parse::<i64>().ok());
    let confirmation = tokens
        .iter()
        .find(|t| Some(t.id) == revoking)
        .cloned()
        .map(|token| view! { <RevokeConfirmation token/> });
    let table = if tokens.is_empty() {
        view! { <p class="empty">"No API tokens yet. A point-of-sale or back-office system needs one to use the API."</p> }
            .into_any()
    } else {
        view! { <TokensTable tokens/> }.into_any()
    };
    view! {
        <section class="card" id="tokens-card">
            <h2>"API tokens"</h2>
            <p class="muted">"A point-of-sale or back-office system sends its token as " <code>"Authorization: Bearer …"</code> " to the API under /api/v1."</p>
            <NewSecret revealed/>
            {confirmation}
            {table}
            <CreateTokenForm/>
        </section>
    }
    .into_any()
}

#[component]
fn TokensTable(tokens: Vec<TokenView>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="index-table" id="tokens">
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Role"</th><th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th><th scope="col">"Revoke"</th>
                </tr></thead>
                <tbody>
                    {tokens.into_iter().map(|t| view! {
                        <tr data-token=t.name.clone()>
                            <td>{t.name.clone()}</td><td>{t.role}</td><td>{t.created}</td>
                            <td class="last-used">{t.last_used}</td>
                            <td>
                                <a class="button danger revoke-token" href=format!("/settings?revoke_token={}", t.id)
                                    aria-label=format!("Revoke {}…", t.name)>"Revoke…"</a>
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A new token's secret, this once: from the form's answer (with
/// JavaScript) or from the page (after a form posted without it).
#[component]
fn NewSecret(revealed: Option<String>) -> impl IntoView {
    let create = expect_context::<Actions>().create_token;
    move || {
        let secret = match create.value().get() {
            Some(Ok(SettingsDone {
                secret: Some(secret), ..
            })) => Some(secret),
            _ => revealed.clone(),
        }?;
        Some(view! {
            <div class="new-secret" id="new-token" role="status">
                <strong>"Copy it now: it will not be shown again."</strong>
                <code class="secret" id="token-secret">{secret}</code>
                <span class="muted">"Tillbridge keeps only a fingerprint of it. If it is lost, revoke the token and create another."</span>
            </div>
        })
    }
}

/// "Create API token": a name that says who uses it, and a role.
#[component]
fn CreateTokenForm() -> impl IntoView {
    let create = expect_context::<Actions>().create_token;
    let refused = move || create.value().get().and_then(Result::err);
    let name = RwSignal::new(typed("token_name"));
    // Created: the form is empty again for the next token.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
        }
    });
    view! {
        <ActionForm action=create attr:class="stack settings-form" attr:id="create-token">
            <h3>"Create an API token"</h3>
            <label>"Name"
                <input type="text" name="token_name" id="token-name" autocomplete="off" value=typed("token_name")
                    prop:value=name on:input=move |ev| name.set(event_target_value(&ev))
                    placeholder="e.g. Till 1" aria-invalid=refused_now(refused, "token_name") aria-describedby="token_name-error"/>
                {field_error(refused, "token_name")}
            </label>
            <label>"Role"
                <select name="token_role" id="token-role" aria-describedby="token_role-error">{role_options(typed("token_role"))}</select>
                <span class="muted">"A till that records sales needs manager; reading stock needs only viewer."</span>
                {field_error(refused, "token_role")}
            </label>
            <button type="submit" class="primary" id="create-token-submit" disabled=move || create.pending().get()>"Create token"</button>
        </ActionForm>
    }
}

/// Names the token and what revoking does; the server needs "I understand".
#[component]
fn RevokeConfirmation(token: TokenView) -> impl IntoView {
    let revoke = expect_context::<Actions>().revoke_token;
    let refused = move || revoke.value().get().and_then(Result::err);
    let name = token.name;
    view! {
        <section class="card confirm" id="revoke-token-confirmation" role="alertdialog"
            aria-labelledby="revoke-token-title" aria-describedby="revoke-token-what">
            <h2 id="revoke-token-title">{format!("Revoke {name}?")}</h2>
            <p id="revoke-token-what">
                {format!("The API refuses {name} from its next request on; whatever uses it stops working until it gets a new token. ")}
                "What it did stays in the Sync History."
            </p>
            <ActionForm action=revoke attr:class="stack" attr:id="revoke-token-form">
                <input type="hidden" name="id" value=token.id/>
                <label class="check-line">
                    <input type="checkbox" name="confirm" id="revoke-understood" required/>
                    {format!("I understand: {name} stops working")}
                </label>
                {field_error(refused, "confirm")}
                <div class="confirm-actions">
                    <button type="submit" class="danger" id="revoke-confirmed" disabled=move || revoke.pending().get()>
                        "Revoke token"
                    </button>
                    <a class="button" id="revoke-cancel" href="/settings">"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}
