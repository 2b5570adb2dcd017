//! The conflicts list: both sides of each, and what to do about it.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::conflicts::{ResolveConflict, list_conflicts};
use crate::components::toast::use_toasts;

#[component]
pub fn ConflictsPage() -> impl IntoView {
    let resolve = ServerAction::<ResolveConflict>::new();
    let list = Resource::new(move || resolve.version().get(), |_| list_conflicts());
    let toasts = use_toasts();
    Effect::new(move |_| match resolve.value().get() {
        Some(Ok(message)) => toasts.show(message, false),
        Some(Err(e)) => toasts.show(e.to_string(), true),
        None => {}
    });
    view! {
        <Title text="Conflicts"/>
        <h1>"Conflicts"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading conflicts…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(v) if v.conflicts.is_empty() => view! { <p class="empty" id="no-conflicts">"No conflicts. Every sync settled on its own."</p> }.into_any(),
                    Ok(v) => {
                        let can_write = v.can_write;
                        view! {
                            <table class="index-table" id="conflicts">
                                <thead><tr>
                                    <th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"SKU"</th>
                                    <th scope="col">"Tillbridge"</th><th scope="col">"Channel"</th><th scope="col">"Details"</th><th scope="col">"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {v.conflicts.into_iter().map(|c| view! {
                                        <tr data-conflict=c.id>
                                            <td>{c.channel}</td><td>{c.kind.clone()}</td><td class="mono">{c.sku}</td>
                                            <td>{c.ours}</td><td>{c.theirs}</td>
                                            <td class="muted">{c.detail}<br/><small>{c.at}</small></td>
                                            <td class="actions">
                                                {actions_for(&c.kind).iter().map(|(action, label, hint)| view! {
                                                    <ActionForm action=resolve attr:class="inline">
                                                        <input type="hidden" name="id" value=c.id/>
                                                        <input type="hidden" name="action" value=*action/>
                                                        <button type="submit" data-action=*action disabled=!can_write title=*hint>{*label}</button>
                                                    </ActionForm>
                                                }).collect_view()}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The actions that make sense for a kind of conflict: (value, label, hint).
fn actions_for(kind: &str) -> &'static [(&'static str, &'static str, &'static str)] {
    const RETRY: (&str, &str, &str) = (
        "retry",
        "Overwrite with ours",
        "Push Tillbridge's figure to the channel again",
    );
    const IGNORE: (&str, &str, &str) = ("ignore", "Ignore", "Leave the channel as it is");
    const LINK: (&str, &str, &str) = (
        "link",
        "Link",
        "The channel's item with this SKU is this product: link them",
    );
    const CREATE: (&str, &str, &str) = (
        "create",
        "Create",
        "Create this product in the channel as a new product",
    );
    match kind {
        "sku elsewhere" => &[LINK, CREATE, IGNORE],
        "unknown sku" => &[CREATE, LINK, IGNORE],
        _ => &[RETRY, IGNORE],
    }
}
