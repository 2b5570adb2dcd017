//! Sync History: a chart of pushes and failures, the runs with filters, and
//! a run's log with its item events.

mod chart;
mod events;

pub use events::EventsTable;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::history::{HistoryQuery, KINDS, RunView, STATUSES, get_run, list_history};
use chart::HistoryChart;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let params = use_query_map();
    let get = move |key: &str| params.read().get(key).filter(|v| !v.trim().is_empty());
    let query = Memo::new(move |_| HistoryQuery {
        channel: get("channel").and_then(|c| c.parse().ok()),
        status: get("status"),
        kind: get("kind"),
        hours: get("hours").and_then(|h| h.parse().ok()),
        before: get("before").and_then(|b| b.parse().ok()),
        product: get("product").and_then(|p| p.parse().ok()),
    });
    let history = Resource::new(move || query.get(), |q| list_history(Some(q)));
    view! {
        <Title text="Sync History"/>
        <h1>"Sync History"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading history…"</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                match history.await {
                    Ok(h) => {
                        if let Some((name, events)) = h.product_events {
                            let back = q.product.map(|id| format!("/products/{id}")).unwrap_or_default();
                            return view! {
                                <p class="crumbs"><a href="/history">"Sync History"</a>" / "</p>
                                <h2 id="product-history-title">{format!("Sync History of {name}")}</h2>
                                <p><a href=back id="back-to-product">"Back to the product"</a></p>
                                <EventsTable events empty="No sync events for this product yet: none of its quantities or fields has been pushed to a channel."/>
                            }
                            .into_any();
                        }
                        let older = h.next_before.map(|b| q.url(Some(b)));
                        let filtered = q.is_filtered();
                        let empty = h.runs.is_empty();
                        view! {
                            <HistoryFilters query=q.clone() channels=h.channels/>
                            <HistoryChart bars=h.chart caption=h.chart_caption/>
                            {if empty {
                                view! { <EmptyRuns filtered/> }.into_any()
                            } else {
                                view! { <RunsTable runs=h.runs/> }.into_any()
                            }}
                            <nav class="pager">{older.map(|href| view! { <a href=href rel="next" id="older-runs">"Older runs →"</a> })}</nav>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EmptyRuns(filtered: bool) -> impl IntoView {
    if filtered {
        view! {
            <p class="card empty" id="no-runs">
                "No runs match these filters. "
                <a href="/history" id="clear-filters">"Clear filters"</a>
            </p>
        }
        .into_any()
    } else {
        view! {
            <p class="card empty" id="no-runs">
                "No syncs yet. Turn Auto Sync on for a product, or run a sync from "
                <a href="/channels">"Channels"</a>"."
            </p>
        }
        .into_any()
    }
}

#[component]
fn HistoryFilters(query: HistoryQuery, channels: Vec<(i64, String)>) -> impl IntoView {
    let current = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    view! {
        <form class="search" method="get" action="/history" id="history-filters">
            <select name="channel" aria-label="Channel">
                <option value="">"Any channel"</option>
                {channels.into_iter().map(|(id, name)| view! { <option value=id selected=query.channel == Some(id)>{name}</option> }).collect_view()}
            </select>
            <select name="status" aria-label="Status">
                <option value="">"Any status"</option>
                {STATUSES.iter().map(|(value, words)| {
                    view! { <option value=*value selected=current(&query.status, value)>{*words}</option> }
                }).collect_view()}
            </select>
            <select name="kind" aria-label="Kind">
                <option value="">"Any kind"</option>
                {KINDS.iter().map(|(value, words)| {
                    view! { <option value=*value selected=current(&query.kind, value)>{*words}</option> }
                }).collect_view()}
            </select>
            <select name="hours" aria-label="Time range">
                <option value="">"Any time"</option>
                {[(1, "Last hour"), (24, "Last 24 hours"), (168, "Last 7 days")].into_iter().map(|(h, label)| {
                    view! { <option value=h selected=query.hours == Some(h)>{label}</option> }
                }).collect_view()}
            </select>
            <button type="submit">"Filter"</button>
        </form>
    }
}

#[component]
fn RunsTable(runs: Vec<RunView>) -> impl IntoView {
    view! {
        <div class="table-scroll">
        <table class="index-table" id="runs">
            <thead><tr>
                <th scope="col">"Run"</th><th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"Trigger"</th>
                <th scope="col">"Who"</th><th scope="col">"Started"</th><th scope="col">"Status"</th>
                <th scope="col" class="num">"Pushed"</th><th scope="col" class="num" title="Found already up to date in the channel">"Up to date"</th>
                <th scope="col" class="num">"Failed"</th>
            </tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let badge = status_badge(&r.status_key);
                    view! {
                    <tr data-run=r.id data-status=r.status_key.clone()>
                        <td><a href=format!("/history/runs/{}", r.id)>{format!("#{}", r.id)}</a></td>
                        <td>{r.channel}</td><td class="kind">{r.kind}</td><td>{r.trigger}</td><td class="who">{r.who}</td>
                        <td>{r.started_at}</td>
                        <td><span class=badge>{r.status}</span></td>
                        <td class="num">{r.succeeded}</td><td class="num">{r.skipped}</td><td class="num">{r.failed}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

/// The badge of a run's status (as stored).
fn status_badge(status: &str) -> &'static str {
    match status {
        "succeeded" => "badge badge-on",
        "running" => "badge",
        _ => "badge badge-bad",
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let run = Resource::new(id, get_run);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading run…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Ok(d) => {
                        let r = d.run;
                        let finished = if r.finished_at.is_empty() { "not finished yet".to_owned() } else { format!("finished {}", r.finished_at) };
                        view! {
                            <Title text=format!("Run #{}", r.id)/>
                            <p class="crumbs"><a href="/history" id="crumb-history">"Sync History"</a>" / "</p>
                            <h1>{format!("Run #{} · {} · {}", r.id, r.channel, r.kind)}</h1>
                            <section class="card" id="run-log">
                                <h2>"Log"</h2>
                                <p id="run-summary">
                                    <span class=status_badge(&r.status_key)>{r.status.clone()}</span>
                                    {format!(" {} · by ", r.trigger)}<strong id="run-who">{r.who.clone()}</strong>
                                    {format!(" · started {} · {finished}", r.started_at)}
                                </p>
                                <ul class="figures" id="run-counts">
                                    <li><strong>{r.succeeded}</strong>" pushed"</li>
                                    <li><strong>{r.skipped}</strong>" already up to date"</li>
                                    <li><strong>{r.failed}</strong>" failed"</li>
                                </ul>
                                <pre class="log">{r.log}</pre>
                            </section>
                            <EventsTable events=d.events empty="This run recorded no item events."/>
                        }.into_any()
                    }
                    Err(e) => view! {
                        <p class="crumbs"><a href="/history" id="crumb-history">"Sync History"</a>" / "</p>
                        <p class="error" role="alert">{e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
