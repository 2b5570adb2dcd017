//! The store's users: everyone reads the list; owners add users, change
//! roles and remove users (after a confirmation, `?remove_user=ID`, its
//! own page without JavaScript).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{Actions, ROLES, refused_now, role_options, typed};
use crate::api::settings::UserView;
use crate::components::notice::field_error;

#[component]
pub fn UsersCard(users: Vec<UserView>, can_administer: bool) -> impl IntoView {
    let removing = use_query_map()
        .read_untracked()
        .get("remove_user")
        .and_then(|id| id.parse::<i64>().ok());
    // Owners read this page as owners: with one owner, it is them.
    let only_owner = can_administer && users.iter().filter(|u| u.role == "owner").count() == 1;
    let confirmation = users
        .iter()
        .find(|u| can_administer && Some(u.id) == removing)
        .cloned()
        .map(|user| view! { <RemoveConfirmation user/> });
    view! {
        <section class="card" id="users-card">
            <h2>"Users"</h2>
            {(!can_administer).then(|| view! {
                <p class="muted" id="users-read-only">"Only an owner can manage users. Ask an owner of this store to add, change or remove one."</p>
            })}
            {only_owner.then(|| view! {
                <p class="muted" id="only-owner">"You are the store's only owner: before you change your own role or remove yourself, make another user an owner."</p>
            })}
            {confirmation}
            <div class="table-scroll">
                <table class="index-table" id="users">
                    <thead><tr>
                        <th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Added"</th>
                        {can_administer.then(|| view! { <th scope="col">"Remove"</th> })}
                    </tr></thead>
                    <tbody>
                        {users.into_iter().map(|u| {
                            let me = u.is_me.then_some(" (you)");
                            let role = if can_administer {
                                view! { <RoleForm id=u.id email=u.email.clone() role=u.role.clone()/> }.into_any()
                            } else {
                                view! { <span class="role">{u.role.clone()}</span> }.into_any()
                            };
                            view! {
                                <tr data-email=u.email.clone() data-role=u.role.clone()>
                                    <td>{u.email.clone()}<span class="muted">{me}</span></td>
                                    <td>{role}</td>
                                    <td>{u.added}</td>
                                    {can_administer.then(|| view! {
                                        <td>
                                            <a class="button danger remove-user" href=format!("/settings?remove_user={}", u.id)
                                                aria-label=format!("Remove {}…", u.email)>"Remove…"</a>
                                        </td>
                                    })}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {can_administer.then(|| view! { <AddUserForm/> })}
        </section>
    }
}

/// A user's role, changed from their row.
#[component]
fn RoleForm(id: i64, email: String, role: String) -> impl IntoView {
    let change = expect_context::<Actions>().change_role;
    view! {
        <ActionForm action=change attr:class="role-form">
            <input type="hidden" name="id" value=id/>
            <select name="role" aria-label=format!("Role of {email}")>
                {ROLES.into_iter().map(|(value, _)| view! { <option value=value selected=role == value>{value}</option> }).collect_view()}
            </select>
            <button type="submit" class="change-role">"Change role"</button>
        </ActionForm>
    }
}

/// "Add user": email, password, role. A refused form shows every field's
/// problem at once and keeps the email and role, never the password.
#[component]
fn AddUserForm() -> impl IntoView {
    let add = expect_context::<Actions>().add_user;
    let refused = move || add.value().get().and_then(Result::err);
    let email = RwSignal::new(typed("email"));
    let password = RwSignal::new(String::new());
    // Answered: the password is never kept, as the form says; added, the
    // email goes too, ready for the next user.
    Effect::new(move |_| match add.value().get() {
        Some(Ok(_)) => {
            email.set(String::new());
            password.set(String::new());
        }
        Some(Err(_)) => password.set(String::new()),
        None => {}
    });
    // The server names every problem at once, in plain words; the
    // browser's own checks would stop at the first.
    view! {
        <ActionForm action=add attr:class="stack settings-form" attr:id="add-user" attr:novalidate=true>
            <h3>"Add a user"</h3>
            <label>"Email"
                <input type="email" name="email" id="new-user-email" autocomplete="off" value=typed("email")
                    prop:value=email on:input=move |ev| email.set(event_target_value(&ev))
                    aria-invalid=refused_now(refused, "email") aria-describedby="email-error"/>
                {field_error(refused, "email")}
            </label>
            <label>"Password"
                <input type="password" name="password" id="new-user-password" autocomplete="new-password"
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev))
                    aria-invalid=refused_now(refused, "password") aria-describedby="password-error password-hint"/>
                <span class="muted" id="password-hint">"At least 8 characters. For safety it is never filled in again: if the form comes back with a problem, type it again."</span>
                {field_error(refused, "password")}
            </label>
            <label>"Role"
                <select name="role" id="new-user-role" aria-describedby="role-error">{role_options(typed("role"))}</select>
                {field_error(refused, "role")}
            </label>
            <button type="submit" class="primary" id="add-user-submit" disabled=move || add.pending().get()>"Add user"</button>
        </ActionForm>
    }
}

/// Names the user and what removing them does; the server needs "I understand".
#[component]
fn RemoveConfirmation(user: UserView) -> impl IntoView {
    let remove = expect_context::<Actions>().remove_user;
    let refused = move || remove.value().get().and_then(Result::err);
    let email = user.email;
    view! {
        <section class="card confirm" id="remove-user-confirmation" role="alertdialog"
            aria-labelledby="remove-user-title" aria-describedby="remove-user-what">
            <h2 id="remove-user-title">{format!("Remove {email}?")}</h2>
            <p id="remove-user-what">
                {format!("{email} can no longer sign in, from their next click on. ")}
                "What they did stays in the Sync History under their email."
                {user.is_me.then_some(" That is you: you are signed out.")}
            </p>
            <ActionForm action=remove attr:class="stack" attr:id="remove-user-form">
                <input type="hidden" name="id" value=user.id/>
                <label class="check-line">
                    <input type="checkbox" name="confirm" id="remove-understood" required/>
                    {format!("I understand: {email} is removed")}
                </label>
                {field_error(refused, "confirm")}
                <div class="confirm-actions">
                    <button type="submit" class="danger" id="remove-confirmed" disabled=move || remove.pending().get()>
                        "Remove user"
                    </button>
                    <a class="button" id="remove-cancel" href="/settings">"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}
