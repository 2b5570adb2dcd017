//! The product page's own Sync History: its latest item events across
//! channels, with a link to all of them.

use leptos::prelude::*;

use crate::api::history::{PRODUCT_EVENTS, product_history};
use crate::pages::history::EventsTable;

#[component]
pub fn ProductSyncHistory(product_id: i64) -> impl IntoView {
    let events = Resource::new(move || product_id, product_history);
    view! {
        <section class="card" id="product-sync-history">
            <div class="section-head">
                <h2>"Sync History"</h2>
                <a href=format!("/history?product={product_id}") id="product-history-all">"See all of its history"</a>
            </div>
            <p class="muted">{format!("The latest {PRODUCT_EVENTS} pushes of this product to its channels.")}</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading its history…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(events) => view! {
                            <EventsTable events empty="No sync events for this product yet: none of its quantities or fields has been pushed to a channel."/>
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
