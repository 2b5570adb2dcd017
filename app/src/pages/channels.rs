//! Channels: a list with each one's health, and a settings page with the
//! outlets whose stock it combines (seed 004's "Sync inventory levels").

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::channels::{ChannelSettingsView, get_channel_settings, list_channels};
use crate::components::notice::NoticeFromUrl;

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let channels = Resource::new(|| (), |_| list_channels());
    view! {
        <Title text="Channels"/>
        <NoticeFromUrl/>
        <div class="page-head">
            <h1>"Channels"</h1>
            <form method="post" action="/channels/sync-all" class="page-actions">
                <button type="submit" class="primary" id="sync-all" title="Pull new orders from every channel, then push to every channel">"Sync All"</button>
            </form>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading channels…"</p> }>
            {move || Suspend::new(async move {
                match channels.await {
                    Ok(rows) => view! {
                        <table class="index-table" id="channels">
                            <thead><tr>
                                <th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"Outlets combined"</th>
                                <th scope="col" class="num">"Pending pushes"</th><th scope="col">"Last push"</th>
                                <th scope="col" class="num">"Failures (24 h)"</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|c| view! {
                                    <tr data-channel=c.id>
                                        <td><a href=format!("/channels/{}", c.id)>{c.name}</a></td>
                                        <td>{c.kind}</td><td>{c.outlets}</td>
                                        <td class="num">{c.pending}</td><td>{c.last_push}</td>
                                        <td class="num">{c.failures_24h}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn ChannelSettingsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let settings = Resource::new(id, get_channel_settings);
    view! {
        <NoticeFromUrl/>
        <Suspense fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <SettingsForm settings=s/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForm(settings: ChannelSettingsView) -> impl IntoView {
    let number = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let order_unticked = settings.outlets.iter().any(|o| o.is_order_outlet && !o.checked);
    let disabled = !settings.can_write;
    view! {
        <Title text=format!("{} settings", settings.name)/>
        <p class="crumbs"><a href="/channels">"Channels"</a>" / "</p>
        <div class="page-head">
            <h1>{format!("{} · {}", settings.name, settings.kind)}</h1>
            <div class="page-actions">
                <form method="post" action=format!("/channels/{}/sync", settings.id) class="inline">
                    <input type="hidden" name="kind" value="standard"/>
                    <button type="submit" id="sync-new" disabled=disabled>"Sync new data"</button>
                </form>
                <form method="post" action=format!("/channels/{}/sync", settings.id) class="inline">
                    <input type="hidden" name="kind" value="force"/>
                    <button type="submit" id="sync-force" disabled=disabled title="Push every product and every Auto Sync quantity again">"Force sync"</button>
                </form>
            </div>
        </div>
        <form method="post" action=format!("/channels/{}/settings", settings.id) class="card stack" id="channel-settings">
            <fieldset>
                <legend>"Sync inventory levels"</legend>
                <p class="muted">"Tick each outlet whose stock is combined and offered in this channel."</p>
                {settings.outlets.into_iter().map(|o| view! {
                    <label class="check-line">
                        <input type="checkbox" name="outlets" value=o.id checked=o.checked disabled=disabled/>
                        {o.name.clone()}
                        {o.is_order_outlet.then(|| view! { <span class="muted">" (takes this channel's orders; always included)"</span> })}
                    </label>
                }).collect_view()}
                {order_unticked.then(|| view! {
                    <p class="hint">"The outlet that takes this channel's orders is included by default. To leave it out, choose another order outlet."</p>
                })}
            </fieldset>
            <label>"Safety buffer (units held back per product)"
                <input type="text" inputmode="numeric" name="safety_buffer" value=settings.safety_buffer.to_string() disabled=disabled/></label>
            <label>"Publish this share (%), empty for all"
                <input type="text" inputmode="numeric" name="publish_percent" value=number(settings.publish_percent) disabled=disabled/></label>
            <label>"Publish at most, empty for no cap"
                <input type="text" inputmode="numeric" name="publish_max" value=number(settings.publish_max) disabled=disabled/></label>
            <label>"Publish 0 at or below, empty for never"
                <input type="text" inputmode="numeric" name="zero_at_or_below" value=number(settings.zero_at_or_below) disabled=disabled/></label>
            <label>"Sync every (minutes), empty for off"
                <input type="text" inputmode="numeric" name="schedule_minutes" value=number(settings.schedule_minutes) disabled=disabled/></label>
            <button type="submit" class="primary" disabled=disabled>"Save changes"</button>
        </form>
    }
}
