//! Channels: a list with each one's health, and a settings page with the
//! outlets whose stock it combines (seed 004's "Sync inventory levels");
//! owners connect, re-key and disconnect channels.

mod connect;
mod connection;

pub use connect::{ConnectChannelPage, ConnectVendurePage};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::channels::{
    ChannelSettingsView, ProgressView, SaveChannelSettings, StartSync, TestConnection, force_preview,
    get_channel_settings, list_channels,
};
use crate::components::notice::{NoticeFromUrl, field_error, toast_refusals};
use connection::{ConnectionCard, DisconnectConfirmation};

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let channels = Resource::new(|| (), |_| list_channels());
    let sync_all = ServerAction::<StartSync>::new();
    toast_refusals(sync_all.value());
    view! {
        <Title text="Channels"/>
        <NoticeFromUrl/>
        <div class="page-head">
            <h1>"Channels"</h1>
            <div class="page-actions">
                // Owners only: managers run syncs but do not handle credentials.
                <Suspense>
                    {move || Suspend::new(async move {
                        channels.await.ok().filter(|v| v.can_administer).map(|_| view! {
                            <a class="button" href="/channels/new" id="connect-channel">"Connect Shopify"</a>
                            <a class="button" href="/channels/new/vendure" id="connect-vendure">"Connect Vendure"</a>
                        })
                    })}
                </Suspense>
                <ActionForm action=sync_all attr:class="inline">
                    <button type="submit" class="primary" id="sync-all" title="Pull every channel's orders, then push to every channel">"Sync All"</button>
                </ActionForm>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading channels…"</p> }>
            {move || Suspend::new(async move {
                match channels.await {
                    Ok(view) => view! {
                        <div class="table-scroll">
                        <table class="index-table" id="channels">
                            <thead><tr>
                                <th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"Outlets combined"</th>
                                <th scope="col" class="num">"Pending pushes"</th><th scope="col">"Last push"</th>
                                <th scope="col" class="num">"Failures (24 h)"</th>
                                <th scope="col" title="From a stock change to the channel's acknowledgement, over the last hour">"Change → channel"</th>
                            </tr></thead>
                            <tbody>
                                {view.rows.into_iter().map(|c| view! {
                                    <tr data-channel=c.id>
                                        <td><a href=format!("/channels/{}", c.id)>{c.name}</a></td>
                                        <td>{c.kind}</td><td>{c.outlets}</td>
                                        <td class="num">{c.pending}</td><td>{c.last_push}</td>
                                        <td class="num">{c.failures_24h}</td>
                                        <td class="latency">{c.latency}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
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
    // `?disconnect=1`: the "Disconnect channel…" button's confirmation.
    let query = use_query_map();
    let confirming = move || query.read().get("disconnect").is_some_and(|v| v == "1");
    // `?run=`: the run this page's button started, followed to its end.
    let follow = move || query.read().get("run").and_then(|r| r.parse::<i64>().ok());
    let settings = Resource::new(id, get_channel_settings);
    view! {
        <NoticeFromUrl/>
        <Suspense fallback=|| view! { <p class="muted">"Loading settings…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <SettingsForm settings=s confirming=confirming() follow=follow()/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForm(settings: ChannelSettingsView, confirming: bool, follow: Option<i64>) -> impl IntoView {
    // A refused plain post comes back with what was typed: shown again.
    let query = use_query_map();
    let refused_post = query.read_untracked().get("notice_error").is_some();
    let typed = move |field: &str, saved: String| match query.read_untracked().get(field) {
        Some(v) if refused_post => v,
        _ => saved,
    };
    let number = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let order_unticked = settings.outlets.iter().any(|o| o.is_order_outlet && !o.checked);
    let order_choices: Vec<(i64, String, bool)> = settings
        .outlets
        .iter()
        .map(|o| (o.id, o.name.clone(), o.is_order_outlet))
        .collect();
    let disabled = !settings.can_write;
    let (test, sync, save) = (
        ServerAction::<TestConnection>::new(),
        ServerAction::<StartSync>::new(),
        ServerAction::<SaveChannelSettings>::new(),
    );
    toast_refusals(test.value());
    toast_refusals(sync.value());
    toast_refusals(save.value());
    let refused = move || save.value().get().and_then(Result::err);
    // Owners only: managers see neither the form nor the button.
    let connection = settings.can_administer.then(|| {
        view! { <ConnectionCard id=settings.id name=settings.name.clone() credential=settings.credential.clone()/> }
    });
    view! {
        <Title text=format!("{} settings", settings.name)/>
        <p class="crumbs"><a href="/channels">"Channels"</a>" / "</p>
        <div class="page-head">
            <h1>{format!("{} · {}", settings.name, settings.kind)}</h1>
            <div class="page-actions">
                {settings.can_administer.then(|| view! {
                    <ActionForm action=test attr:class="inline">
                        <input type="hidden" name="id" value=settings.id/>
                        <button type="submit" id="test-connection" title="Check that the stored credentials still work">"Test connection"</button>
                    </ActionForm>
                })}
                <ActionForm action=sync attr:class="inline">
                    <input type="hidden" name="channel" value=settings.id/>
                    <input type="hidden" name="kind" value="standard"/>
                    <button type="submit" id="sync-new" disabled=disabled>"Sync new data"</button>
                </ActionForm>
                <a class="button" id="sync-force" href=format!("/channels/{}/force", settings.id) title="See what a push of every product and quantity would change, then run it">"Force sync…"</a>
                <a class="button" id="clear-and-sync" href=format!("/channels/{}/force?clear=1", settings.id) title="Forget the channel mapping, relink by SKU, then force sync">"Clear all data and sync…"</a>
            </div>
        </div>
        {(confirming && settings.can_administer).then(|| view! {
            <DisconnectConfirmation id=settings.id name=settings.name.clone()/>
        })}
        <LiveStatus id=settings.id follow initial=settings.progress.clone()/>
        <ActionForm action=save attr:class="card stack" attr:id="channel-settings">
            <input type="hidden" name="id" value=settings.id/>
            <fieldset>
                <legend>"Sync inventory levels"</legend>
                <p class="muted">"Tick each outlet whose stock is combined and offered in this channel."</p>
                {settings.outlets.into_iter().map(|o| view! {
                    <label class="check-line">
                        <input type="checkbox" name="outlets[]" value=o.id checked=o.checked disabled=disabled/>
                        {o.name.clone()}
                        {o.is_order_outlet.then(|| view! { <span class="muted">" (takes this channel's orders; always included)"</span> })}
                    </label>
                }).collect_view()}
                {order_unticked.then(|| view! {
                    <p class="hint">"The outlet that takes this channel's orders is included by default. To leave it out, choose another order outlet."</p>
                })}
                {field_error(refused, "outlets")}
            </fieldset>
            <label>"Safety buffer (units held back per product)"
                <input type="text" inputmode="numeric" name="safety_buffer" value=typed("safety_buffer", settings.safety_buffer.to_string()) disabled=disabled aria-describedby="safety_buffer-error"/>{field_error(refused, "safety_buffer")}</label>
            <label>"Publish this share (%), empty for all"
                <input type="text" inputmode="numeric" name="publish_percent" value=typed("publish_percent", number(settings.publish_percent)) disabled=disabled aria-describedby="publish_percent-error"/>{field_error(refused, "publish_percent")}</label>
            <label>"Publish at most, empty for no cap"
                <input type="text" inputmode="numeric" name="publish_max" value=typed("publish_max", number(settings.publish_max)) disabled=disabled aria-describedby="publish_max-error"/>{field_error(refused, "publish_max")}</label>
            <label>"Publish 0 at or below, empty for never"
                <input type="text" inputmode="numeric" name="zero_at_or_below" value=typed("zero_at_or_below", number(settings.zero_at_or_below)) disabled=disabled aria-describedby="zero_at_or_below-error"/>{field_error(refused, "zero_at_or_below")}</label>
            <label>"Sync every (minutes), empty for off"
                <input type="text" inputmode="numeric" name="schedule_minutes" value=typed("schedule_minutes", number(settings.schedule_minutes)) disabled=disabled aria-describedby="schedule_minutes-error"/>{field_error(refused, "schedule_minutes")}</label>
            <label>"Outlet that takes this channel's orders"
                <select name="order_outlet" disabled=disabled>
                    {order_choices.into_iter().map(|(id, name, selected)| view! { <option value=id selected=selected>{name}</option> }).collect_view()}
                </select>
                {field_error(refused, "order_outlet")}
            </label>
            <label>"Items found only in the channel, at a force sync"
                <select name="channel_only" disabled=disabled>
                    {[("keep", "Keep them"), ("unpublish", "Unpublish them"), ("delete", "Delete them")].into_iter().map(|(v, t)| {
                        let selected = settings.channel_only == v;
                        view! { <option value=v selected=selected>{t}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="primary" disabled=disabled>"Save changes"</button>
        </ActionForm>
        {connection}
    }
}

/// The channel's live progress from its server-sent events. Following a
/// run (`follow`, the one this page's button started): how many of its
/// quantities and products are done, an ETA from the channel's rate limit,
/// and that run's log once it ends. Otherwise: pending pushes as a bar and
/// the latest run. Without JavaScript the page shows the figures as they
/// were when it loaded.
#[component]
fn LiveStatus(id: i64, follow: Option<i64>, initial: ProgressView) -> impl IntoView {
    // Until the stream speaks, a followed run is only known by its id.
    let initial = ProgressView {
        run: initial.run.filter(|r| follow.is_none_or(|f| f == r.id)),
        ..initial
    };
    let status = RwSignal::new(initial);
    // The most pending seen since the queue was last empty: the bar's 100 %.
    let high = RwSignal::new(0i64);
    Effect::new(move |_| listen(id, follow, status, high));
    view! {
        <section class="card" id="live-status" aria-live="polite">
            {move || {
                let p = status.get();
                let followed = p.run.clone().filter(|r| follow == Some(r.id));
                let eta = p.eta_seconds.map(|s| format!(" · about {} left", seconds(s))).unwrap_or_default();
                let line = match &followed {
                    Some(r) if r.running => view! {
                        <div class="status-line" id="run-progress">
                            <span>{format!("{} running · ", r.kind)}</span>
                            <span id="quantities-done">{of(r.quantities_done, r.quantities_total, "quantity", "quantities")}</span>
                            <span>{format!(" · {}", of(r.products_done, r.products_total, "product", "products"))}</span>
                            <span class="muted" id="eta">{eta}</span>
                        </div>
                    }.into_any(),
                    Some(r) => view! {
                        <div class="status-line" id="run-progress">
                            <span>{format!("{} {} · ", r.kind, r.status.to_lowercase())}</span>
                            <span id="quantities-done">{of(r.quantities_done, r.quantities_total, "quantity", "quantities")}</span>
                            <span>{format!(" · {}", of(r.products_done, r.products_total, "product", "products"))}</span>
                        </div>
                    }.into_any(),
                    None => view! {
                        <div class="status-line">
                            <span>{if p.running { "Sync running · " } else { "" }}</span>
                            <span id="pending-pushes">{format!("{} pushes pending", p.pending)}</span>
                            <span class="muted">{format!(" · last push {}", p.last_push)}</span>
                            <span class="muted" id="eta">{eta}</span>
                        </div>
                    }.into_any(),
                };
                // The bar: the followed run's share done, else the queue drained.
                let done = match &followed {
                    Some(r) if r.running => {
                        let total = r.quantities_total + r.products_total;
                        (total > 0).then(|| ((r.quantities_done + r.products_done) * 100 / total).clamp(0, 100))
                    }
                    Some(_) => None,
                    None => (p.pending > 0 || p.running).then(|| {
                        let top = high.get().max(p.pending).max(1);
                        100 - p.pending * 100 / top
                    }),
                };
                let title = if followed.is_some() { "This sync's run" } else { "Latest run" };
                view! {
                    {line}
                    {done.map(|done| view! {
                        <div class="progress" role="progressbar" aria-label="Share of the sync done" aria-valuemin="0" aria-valuemax="100" aria-valuenow=done>
                            <div class="progress-fill" style=format!("width: {done}%")></div>
                        </div>
                    })}
                    {p.run.map(|r| view! {
                        <p class="muted run-log" id="latest-run" data-run=r.id data-running=r.running.to_string()>
                            <a href=format!("/history/runs/{}", r.id)>{format!("{title} #{}", r.id)}</a>
                            {format!(" · {}", r.status)}
                            {(!r.log.is_empty()).then(|| format!(" · {}", r.log))}
                        </p>
                    })}
                }
            }}
        </section>
    }
}

/// "12 of 40 quantities", or "12 quantities" when the total is not known.
fn of(done: i64, total: i64, one: &str, many: &str) -> String {
    let noun = |n: i64| if n == 1 { one } else { many };
    if total > 0 {
        format!("{done} of {total} {}", noun(total))
    } else {
        format!("{done} {}", noun(done))
    }
}

fn seconds(s: f64) -> String {
    match s.ceil() as u64 {
        0..=1 => "1 s".into(),
        n @ 2..=90 => format!("{n} s"),
        n => format!("{} min", n.div_ceil(60)),
    }
}

/// Follows `/channels/{id}/events` (with the followed run) in the browser.
#[cfg(feature = "hydrate")]
fn listen(id: i64, follow: Option<i64>, status: RwSignal<ProgressView>, high: RwSignal<i64>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let url = match follow {
        Some(run) => format!("/channels/{id}/events?run={run}"),
        None => format!("/channels/{id}/events"),
    };
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return;
    };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
        let Some(text) = ev.data().as_string() else { return };
        if let Ok(p) = serde_json::from_str::<ProgressView>(&text) {
            high.update(|h| *h = if p.pending == 0 { 0 } else { (*h).max(p.pending) });
            status.set(p);
        }
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // Leaving the page closes the stream.
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}

#[cfg(not(feature = "hydrate"))]
fn listen(_id: i64, _follow: Option<i64>, _status: RwSignal<ProgressView>, _high: RwSignal<i64>) {}

/// Force sync's preview (seed 000): what will be created and overwritten,
/// the products found only in the channel and what to do with them, then
/// the run. `?clear=1` preselects "Clear all data and sync" (seed 002).
#[component]
pub fn ForceSyncPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let preview = Resource::new(id, force_preview);
    let run = ServerAction::<StartSync>::new();
    toast_refusals(run.value());
    view! {
        <Title text="Force sync"/>
        <NoticeFromUrl/>
        <p class="crumbs"><a href="/channels">"Channels"</a>" / "<a href=move || format!("/channels/{}", id())>"Channel"</a>" / "</p>
        <Suspense fallback=|| view! { <p class="muted">"Reading the channel's items…"</p> }>
            {move || Suspend::new(async move {
                let p = match preview.await {
                    Ok(p) => p,
                    Err(e) => return view! { <h1>"Force sync"</h1><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                };
                let clear = query.read_untracked().get("clear").is_some_and(|v| v == "1");
                let policy = p.policy.clone();
                let only = p.channel_only.len();
                view! {
                    <h1>{format!("Force sync · {}", p.name)}</h1>
                    <section class="card" id="force-preview">
                        <h2>"What will change"</h2>
                        <ul class="figures">
                            <li><strong>{p.create}</strong>{products(p.create)}" created in the channel"</li>
                            <li><strong>{p.update}</strong>{products(p.update)}" overwritten with Tillbridge's data"</li>
                            <li><strong>{p.quantities}</strong>{if p.quantities == 1 { " quantity" } else { " quantities" }}" set to the syncable balance"</li>
                            <li><strong>{only}</strong>{products(only)}" found only in the channel"</li>
                        </ul>
                        <p class="hint">
                            "Before a force sync, keep a backup of your catalog: "
                            <a href="/export/catalog.csv" download="" rel="external" id="catalog-backup">"Download the catalog (CSV)"</a>
                        </p>
                    </section>
                    {(only > 0).then(|| view! {
                        <section class="card">
                            <h2>"Only in the channel"</h2>
                            <table class="index-table" id="channel-only">
                                <thead><tr><th scope="col">"Product"</th><th scope="col">"SKUs"</th></tr></thead>
                                <tbody>
                                    {p.channel_only.iter().map(|(title, skus)| view! {
                                        <tr><td>{title.clone()}</td><td class="mono">{skus.clone()}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    })}
                    <ActionForm action=run attr:class="card stack" attr:id="force-form">
                        <input type="hidden" name="channel" value=p.id/>
                        <input type="hidden" name="kind" value="force"/>
                        <fieldset>
                            <legend>"Products found only in the channel"</legend>
                            {[("keep", "Keep them as they are"), ("unpublish", "Unpublish them (hidden from shoppers)"), ("delete", "Delete them from the channel")]
                                .into_iter()
                                .map(|(value, label)| view! {
                                    <label class="check-line">
                                        <input type="radio" name="channel_only" value=value checked=policy == value/>{label}
                                    </label>
                                })
                                .collect_view()}
                        </fieldset>
                        <label class="check-line">
                            <input type="checkbox" name="clear" value="1" checked=clear id="clear-first"/>
                            "Clear all data and sync: forget which channel items our products are, then link them again by SKU"
                        </label>
                        <div class="form-actions">
                            <button type="submit" class="primary" id="run-force" disabled=!p.can_write>"Run force sync"</button>
                            <a href=format!("/channels/{}", p.id) id="cancel-force">"Cancel"</a>
                        </div>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}

fn products(n: usize) -> &'static str {
    if n == 1 { " product" } else { " products" }
}
