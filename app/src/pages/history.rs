//! Sync History: a chart of pushes and failures, the runs with filters, and
//! a run's log with its item events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::history::{HistoryQuery, RunView, get_run, list_history};

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
                        let next = h.next_before.map(|b| {
                            let mut url = format!("/history?before={b}");
                            for (k, v) in [("channel", q.channel.map(|c| c.to_string())), ("status", q.status.clone()), ("kind", q.kind.clone()), ("hours", q.hours.map(|h| h.to_string()))] {
                                if let Some(v) = v {
                                    url.push_str(&format!("&{k}={v}"));
                                }
                            }
                            url
                        });
                        if let Some((name, events)) = h.product_events {
                            return view! {
                                <h2>{format!("Sync History of {name}")}</h2>
                                <EventsTable events/>
                            }
                            .into_any();
                        }
                        view! {
                            <HistoryChart points=h.chart/>
                            <HistoryFilters query=q channels=h.channels/>
                            <RunsTable runs=h.runs/>
                            <nav class="pager">{next.map(|href| view! { <a href=href rel="next">"Older runs →"</a> })}</nav>
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
fn HistoryFilters(query: HistoryQuery, channels: Vec<(i64, String)>) -> impl IntoView {
    let current = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    view! {
        <form class="search" method="get" action="/history" id="history-filters">
            <select name="channel" aria-label="Channel">
                <option value="">"Channel: any"</option>
                {channels.into_iter().map(|(id, name)| view! { <option value=id selected=query.channel == Some(id)>{name}</option> }).collect_view()}
            </select>
            <select name="status" aria-label="Status">
                <option value="">"Status: any"</option>
                {["succeeded", "partially_failed", "failed", "interrupted", "running"].into_iter().map(|s| {
                    view! { <option value=s selected=current(&query.status, s)>{s.replace('_', " ")}</option> }
                }).collect_view()}
            </select>
            <select name="kind" aria-label="Kind">
                <option value="">"Kind: any"</option>
                {["auto", "standard", "force", "sync_all", "feed"].into_iter().map(|k| {
                    view! { <option value=k selected=current(&query.kind, k)>{k.replace('_', " ")}</option> }
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
        <table class="index-table" id="runs">
            <thead><tr>
                <th scope="col">"Run"</th><th scope="col">"Channel"</th><th scope="col">"Kind"</th><th scope="col">"Trigger"</th>
                <th scope="col">"Who"</th><th scope="col">"Started"</th><th scope="col">"Status"</th>
                <th scope="col" class="num">"Pushed"</th><th scope="col" class="num">"Failed"</th>
            </tr></thead>
            <tbody>
                {runs.into_iter().map(|r| {
                    let badge = if r.failed > 0 { "badge badge-bad" } else { "badge badge-on" };
                    let status = r.status.clone();
                    view! {
                    <tr data-run=r.id data-status=status>
                        <td><a href=format!("/history/runs/{}", r.id)>{format!("#{}", r.id)}</a></td>
                        <td>{r.channel}</td><td>{r.kind}</td><td>{r.trigger}</td><td>{r.who}</td>
                        <td>{r.started_at}</td>
                        <td><span class=badge>{r.status}</span></td>
                        <td class="num">{r.succeeded}</td><td class="num">{r.failed}</td>
                    </tr>
                }}).collect_view()}
            </tbody>
        </table>
    }
}

/// Pushes (green) and failures (red) per hour, as server-rendered SVG.
#[component]
fn HistoryChart(points: Vec<(String, i64, i64)>) -> impl IntoView {
    let max = points.iter().map(|(_, ok, bad)| ok + bad).max().unwrap_or(0).max(1) as f64;
    let width = 24.0_f64;
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, (hour, ok, bad))| {
            let x = i as f64 * width;
            let h_ok = 80.0 * *ok as f64 / max;
            let h_bad = 80.0 * *bad as f64 / max;
            let label = format!("{hour} — {ok} pushed, {bad} failed");
            view! {
                <g>
                    <title>{label}</title>
                    <rect x=x y=100.0 - h_ok width=width - 4.0 height=h_ok class="bar-ok"/>
                    <rect x=x y=100.0 - h_ok - h_bad width=width - 4.0 height=h_bad class="bar-bad"/>
                </g>
            }
        })
        .collect_view();
    let total_width = (points.len().max(1) as f64 * width).to_string();
    view! {
        <figure class="card chart">
            <figcaption class="muted">"Pushes and failures per hour, last 24 hours"</figcaption>
            <svg width=total_width.clone() height="100" viewBox=format!("0 0 {total_width} 100") role="img" aria-label="Pushes and failures per hour">{bars}</svg>
        </figure>
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
                    Ok(d) => view! {
                        <Title text=format!("Run #{}", d.run.id)/>
                        <p class="crumbs"><a href="/history">"Sync History"</a>" / "</p>
                        <h1>{format!("Run #{} · {} · {}", d.run.id, d.run.channel, d.run.kind)}</h1>
                        <section class="card" id="run-log">
                            <h2>"Log"</h2>
                            <p>{format!("{} by {}, started {}, finished {}: {}", d.run.trigger, d.run.who, d.run.started_at, d.run.finished_at, d.run.status)}</p>
                            <pre class="log">{d.run.log}</pre>
                        </section>
                        <EventsTable events=d.events/>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventsTable(events: Vec<crate::api::history::EventView>) -> impl IntoView {
    view! {
        <table class="index-table" id="events">
            <thead><tr>
                <th scope="col">"Time"</th><th scope="col">"What"</th><th scope="col">"Change"</th>
                <th scope="col">"Result"</th><th scope="col" class="num">"Attempt"</th><th scope="col">"Error"</th>
            </tr></thead>
            <tbody>
                {events.into_iter().map(|e| view! {
                    <tr><td>{e.at}</td><td>{e.action}</td><td>{e.change}</td><td>{e.result}</td>
                    <td class="num">{e.attempt}</td><td class="error-text">{e.error}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
