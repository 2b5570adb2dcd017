//! Orders from the channels, newest first, with their effect on stock.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::orders::list_orders;

#[component]
pub fn OrdersPage() -> impl IntoView {
    let orders = Resource::new(|| (), |_| list_orders());
    view! {
        <Title text="Orders"/>
        <div class="page-head">
            <h1>"Orders"</h1>
        </div>
        <p class="muted">"Orders placed in your channels. Each takes its units from the channel's order outlet; a cancellation or a removed line gives them back."</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading orders…"</p> }>
            {move || Suspend::new(async move {
                match orders.await {
                    Ok(v) if v.orders.is_empty() => view! {
                        <p class="empty" id="no-orders">"No orders yet. They appear here as channels report them (webhooks, Sync, or the channel's schedule)."</p>
                    }.into_any(),
                    Ok(v) => view! {
                        <table class="index-table" id="orders">
                            <thead><tr>
                                <th scope="col">"Order"</th><th scope="col">"Channel"</th><th scope="col">"Placed"</th>
                                <th scope="col">"Status"</th><th scope="col">"Lines"</th><th scope="col" class="num">"Total"</th>
                                <th scope="col">"Stock"</th>
                            </tr></thead>
                            <tbody>
                                {v.orders.into_iter().map(|o| {
                                    let badge = if o.cancelled { "badge" } else { "badge badge-on" };
                                    view! {
                                    <tr>
                                        <td>{o.number}</td><td>{o.channel}</td><td>{o.placed_at}</td>
                                        <td><span class=badge>{o.status}</span></td>
                                        <td class="mono">{o.lines.join(", ")}</td>
                                        <td class="num">{o.total}</td><td>{o.effect}</td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
