//! Channels: a list with each one's health, and a settings page with the
//! outlets whose stock it combines (seed 004's "Sync inventory levels").

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::channels::{ChannelSettingsView, channel_progress, get_channel_settings, list_channels};
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
                <button type="submit" class="primary" id="sync-all" title="Sync every channel now, one after the other">"Sync All"</button>
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
        <LiveStatus id=settings.id/>
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

/// The channel's pending pushes, refreshed every second, with an estimate
/// of the time left from the rate they are going down at.
#[component]
fn LiveStatus(id: i64) -> impl IntoView {
    let status = RwSignal::new(None::<(i64, bool, String)>);
    let eta = RwSignal::new(String::new());
    let last = StoredValue::new(None::<(f64, i64)>);
    // Effects run only in the browser: the page polls once hydrated.
    Effect::new(move |_| {
        let poll = move || {
            leptos::task::spawn_local(async move {
                if let Ok(p) = channel_progress(id).await {
                    let now = js_sys_now();
                    if let Some((t, before)) = last.get_value()
                        && p.pending < before
                        && now > t
                    {
                        let rate = (before - p.pending) as f64 / (now - t);
                        eta.set(format!("about {:.0} s left", p.pending as f64 / rate));
                    } else if p.pending == 0 {
                        eta.set(String::new());
                    }
                    last.set_value(Some((now, p.pending)));
                    status.set(Some((p.pending, p.running, p.last_push)));
                }
            });
        };
        poll();
        let _ = set_interval_with_handle(poll, std::time::Duration::from_secs(1));
    });
    view! {
        <section class="card" id="live-status" aria-live="polite">
            {move || match status.get() {
                None => view! { <span class="muted">"Checking the channel…"</span> }.into_any(),
                Some((pending, running, last_push)) => view! {
                    <span>{if running { "Sync running · " } else { "" }}</span>
                    <span id="pending-pushes">{format!("{pending} pushes pending")}</span>
                    <span class="muted">{format!(" · last push {last_push} ")}</span>
                    <span class="muted">{move || eta.get()}</span>
                }.into_any(),
            }}
        </section>
    }
}

/// Seconds since an arbitrary start, from the browser's clock.
fn js_sys_now() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() / 1000.0
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}
