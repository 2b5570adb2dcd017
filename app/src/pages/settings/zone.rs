//! The store's time zone: every time the dashboard shows is in it.

use leptos::prelude::*;

use super::{Actions, refused_now, typed};
use crate::components::notice::field_error;

#[component]
pub fn TimeZoneCard(time_zone: String, zone_now: String, names: Vec<String>, can_administer: bool) -> impl IntoView {
    // "UTC (UTC now)" says nothing twice; "Europe/Berlin (CET now)" tells the season.
    let now = if zone_now == time_zone {
        format!("Times on every page are shown in {time_zone}.")
    } else {
        format!("Times on every page are shown in {time_zone} ({zone_now} now).")
    };
    if !can_administer {
        return view! {
            <section class="card" id="time-zone-card">
                <h2>"Store time zone"</h2>
                <p id="time-zone-now">{now}</p>
                <p class="muted">"Only an owner can change the time zone."</p>
            </section>
        }
        .into_any();
    }
    let set = expect_context::<Actions>().set_time_zone;
    let refused = move || set.value().get().and_then(Result::err);
    // What a refused form typed, or the zone now.
    let value = Some(typed("time_zone")).filter(|t| !t.is_empty()).unwrap_or(time_zone);
    view! {
        <section class="card" id="time-zone-card">
            <h2>"Store time zone"</h2>
            <p id="time-zone-now">{now}</p>
            <ActionForm action=set attr:class="stack settings-form" attr:id="time-zone-form">
                <label>"Time zone"
                    <input type="text" name="time_zone" id="time-zone" value=value list="time-zone-names" autocomplete="off"
                        aria-invalid=refused_now(refused, "time_zone") aria-describedby="time_zone-error time-zone-hint"/>
                    <span class="muted" id="time-zone-hint">"A name such as Europe/Berlin, America/New_York or UTC; start typing to pick one."</span>
                    {field_error(refused, "time_zone")}
                </label>
                <datalist id="time-zone-names">
                    {names.into_iter().map(|name| view! { <option value=name/> }).collect_view()}
                </datalist>
                <button type="submit" class="primary" id="save-time-zone" disabled=move || set.pending().get()>"Save time zone"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}
