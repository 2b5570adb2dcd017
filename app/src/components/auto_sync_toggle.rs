//! The per-product Auto Sync switch. A plain form underneath, so it works
//! without JavaScript; with it, the switch flips in place and confirms.

use leptos::prelude::*;

use super::toast::use_toasts;
use crate::api::products::SetAutoSync;

#[component]
pub fn AutoSyncToggle(
    product_id: i64,
    name: String,
    initial: bool,
    #[prop(default = true)] can_write: bool,
) -> impl IntoView {
    let action = ServerAction::<SetAutoSync>::new();
    let on = RwSignal::new(initial);
    let toasts = use_toasts();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(changed)) => {
            on.set(changed.auto_sync);
            let state = if changed.auto_sync { "on" } else { "off" };
            let queued = match changed.queued {
                0 => String::new(),
                1 => " · 1 quantity queued".to_owned(),
                n => format!(" · {n} quantities queued"),
            };
            toasts.show(format!("Auto Sync turned {state} for {}{queued}", changed.name), false);
        }
        Some(Err(e)) => toasts.show(e.to_string(), true),
        None => {}
    });
    let label = format!("Auto Sync for {name}");
    view! {
        <ActionForm action=action attr:class="toggle-form">
            <input type="hidden" name="product_id" value=product_id/>
            <input type="hidden" name="enabled" value=move || (!on.get()).to_string()/>
            <button
                type="submit"
                class="switch"
                role="switch"
                aria-checked=move || on.get().to_string()
                aria-label=label
                data-product=product_id
                // Not disabled while saving: a disabled button drops the
                // keyboard focus. A second press meanwhile does nothing.
                disabled=!can_write
                aria-busy=move || action.pending().get().to_string()
                on:click=move |ev| {
                    if action.pending().get_untracked() {
                        ev.prevent_default();
                    }
                }
            >
                <span class="switch-knob"></span>
                <span class="switch-text">{move || if on.get() { "On" } else { "Off" }}</span>
            </button>
        </ActionForm>
    }
}
