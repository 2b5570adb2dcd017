//! A channel's connection, for owners: replacing its credentials (tried on
//! the channel before they are saved) and disconnecting it (after a
//! confirmation, `?disconnect=1`, its own page without JavaScript).

use leptos::prelude::*;

use crate::api::channels::{DisconnectChannel, ReplaceCredentials};
use crate::components::notice::{field_error, toast_refusals};

/// "Replace credentials" and the "Disconnect…" button.
#[component]
pub fn ConnectionCard(id: i64, name: String, credential: Option<String>) -> impl IntoView {
    let replace = ServerAction::<ReplaceCredentials>::new();
    toast_refusals(replace.value());
    let refused = move || replace.value().get().and_then(Result::err);
    view! {
        <section class="card stack" id="connection">
            <h2>"Connection"</h2>
            {credential.map(|what| view! {
                <ActionForm action=replace attr:class="stack" attr:id="replace-credentials">
                    <input type="hidden" name="id" value=id/>
                    <label>{format!("New {what}")}
                        <input type="password" name="secret" autocomplete="off" aria-describedby="secret-error"/>
                        <span class="muted">{format!("Tried on {name} before it is saved; a {what} the channel refuses is not saved and the current one stays. Stored encrypted and never shown again.")}</span>
                        {field_error(refused, "secret")}
                    </label>
                    <button type="submit" id="replace-credentials-submit" disabled=move || replace.pending().get()>
                        {format!("Check and replace the {what}")}
                    </button>
                </ActionForm>
            })}
            <p class="muted">"Disconnecting stops syncing with this channel at once. Its products stay in the channel as they are, and its Sync History stays."</p>
            <p><a class="button danger" id="disconnect-channel" href=format!("/channels/{id}?disconnect=1")>"Disconnect channel…"</a></p>
        </section>
    }
}

/// Names the channel and what disconnecting does; the server needs "I understand".
#[component]
pub fn DisconnectConfirmation(id: i64, name: String) -> impl IntoView {
    let disconnect = ServerAction::<DisconnectChannel>::new();
    let refused = move || disconnect.value().get().and_then(Result::err);
    view! {
        <section class="card confirm" id="disconnect-confirmation" role="alertdialog"
            aria-labelledby="disconnect-title" aria-describedby="disconnect-what">
            <h2 id="disconnect-title">{format!("Disconnect {name}?")}</h2>
            <p id="disconnect-what">
                {format!("Tillbridge stops syncing with {name} at once: no stock, product or order sync with it any more, and its credentials are forgotten. ")}
                "The products already in the channel stay there as they are. Its Sync History stays. To sync with it again, connect it again."
            </p>
            <ActionForm action=disconnect attr:class="stack" attr:id="disconnect-form">
                <input type="hidden" name="id" value=id/>
                <label class="check-line">
                    <input type="checkbox" name="confirm" id="disconnect-understood" required/>
                    {format!("I understand: {name} is disconnected and nothing more is synced with it")}
                </label>
                {field_error(refused, "confirm")}
                <div class="confirm-actions">
                    <button type="submit" class="danger" id="disconnect-confirmed" disabled=move || disconnect.pending().get()>
                        "Disconnect channel"
                    </button>
                    <a class="button" id="disconnect-cancel" href=format!("/channels/{id}")>"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}
