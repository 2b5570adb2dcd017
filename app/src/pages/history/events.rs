//! Item events as a table: what each concerned (SKU and channel), what
//! changed, how it ended and who.

use leptos::prelude::*;

use crate::api::history::EventView;

/// `empty`: what to say when there are none.
#[component]
pub fn EventsTable(events: Vec<EventView>, #[prop(into)] empty: String) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="card empty" id="no-events">{empty}</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
        <table class="index-table" id="events">
            <thead><tr>
                <th scope="col">"Time"</th><th scope="col">"SKU"</th><th scope="col">"Channel"</th>
                <th scope="col">"Change"</th><th scope="col">"Result"</th><th scope="col">"Who"</th>
                <th scope="col" class="num">"Attempt"</th><th scope="col">"Note"</th>
            </tr></thead>
            <tbody>
                {events.into_iter().map(|e| {
                    let badge = match e.result_key.as_str() {
                        "succeeded" => "badge badge-on",
                        "failed" => "badge badge-bad",
                        _ => "badge",
                    };
                    let change = if e.change.is_empty() { e.action.clone() } else { format!("{} {}", e.action, e.change) };
                    view! {
                        <tr data-result=e.result_key.clone()>
                            <td>{e.at}</td><td class="mono sku">{e.item}</td><td class="channel">{e.channel}</td>
                            <td class="change">{change}</td><td><span class=badge>{e.result}</span></td>
                            <td class="who">{e.who}</td><td class="num">{e.attempt}</td><td class="note">{e.error}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}
