//! Import and export: upload a stock or catalog CSV, see every change and
//! every bad row (with its line number) before anything is applied, apply
//! it all or nothing; download the catalog and stock as CSV; inventory
//! feeds with "Fetch now". Plain forms, so all of it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::import::{AddFeed, ApplyUpload, FeedView, FetchFeed, ImportPageView, PreviewView, import_page};
use crate::components::notice::{NoticeFromUrl, toast_refusals};

/// The page's forms, shared with its sections.
#[derive(Clone, Copy)]
struct FormActions {
    apply: ServerAction<ApplyUpload>,
    fetch: ServerAction<FetchFeed>,
    add: ServerAction<AddFeed>,
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    // Read again after each form, whose notice lands in the URL.
    let page = Resource::new(
        move || (query.read().get("upload"), query.read().get("notice")),
        |(upload, _)| import_page(upload),
    );
    let (apply, fetch, add) = (
        ServerAction::<ApplyUpload>::new(),
        ServerAction::<FetchFeed>::new(),
        ServerAction::<AddFeed>::new(),
    );
    toast_refusals(apply.value());
    toast_refusals(fetch.value());
    toast_refusals(add.value());
    provide_context(FormActions { apply, fetch, add });
    view! {
        <Title text="Import"/>
        <NoticeFromUrl/>
        <div class="page-head">
            <h1>"Import and export"</h1>
            <div class="page-actions">
                <a class="button" href="/export/catalog.csv" id="download-catalog" rel="external"
                    title="Every product and variant, one row per variant: the backup to keep before a force sync">"Download catalog CSV"</a>
                <a class="button" href="/export/stock.csv" id="download-stock" rel="external"
                    title="On hand per SKU and outlet (sku,outlet,count)">"Download stock CSV"</a>
            </div>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(v) => view! { <ImportSections page=v/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportSections(page: ImportPageView) -> impl IntoView {
    let can_write = page.can_write;
    view! {
        {page.upload_gone.then(|| view! {
            <p class="hint" id="upload-gone">"That upload was applied already or has expired (uploads are kept a day). Upload the file again to see its preview."</p>
        })}
        {page.preview.map(|p| view! { <Preview preview=p can_write=can_write/> })}
        <UploadForm outlets=page.outlets.clone() can_write=can_write/>
        <Feeds feeds=page.feeds outlets=page.outlets can_write=can_write/>
    }
}

#[component]
fn Preview(preview: PreviewView, can_write: bool) -> impl IntoView {
    let FormActions { apply, .. } = expect_context();
    let p = preview;
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let summary = format!(
        "{}: {}, {}, {}",
        p.reading,
        plural(p.rows, "row", "rows"),
        plural(p.change_count, "change", "changes"),
        plural(p.error_count, "bad row", "bad rows"),
    );
    let more_errors = p.error_count.saturating_sub(p.errors.len());
    let more_changes = p.change_count.saturating_sub(p.changes.len());
    view! {
        <section class="card stack" id="import-preview" data-kind=p.kind.clone()>
            <h2>{format!("Preview of {}", p.file_name)}</h2>
            <p id="preview-summary">{summary}{(p.unchanged > 0).then(|| format!("; {} already as the file says", p.unchanged))}</p>
            {if p.error_count > 0 {
                view! {
                    <p class="error" role="alert" id="import-refused">
                        "Nothing can be applied until every bad row is fixed. Fix the file and upload it again."
                    </p>
                    <table class="index-table" id="bad-rows">
                        <thead><tr><th scope="col" class="num">"Line"</th><th scope="col">"Problem"</th></tr></thead>
                        <tbody>
                            {p.errors.into_iter().map(|e| view! {
                                <tr data-line=e.line><td class="num">{e.line}</td><td>{e.reason}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {(more_errors > 0).then(|| view! { <p class="muted">{format!("… and {more_errors} more bad rows")}</p> })}
                }.into_any()
            } else if p.change_count == 0 {
                view! { <p class="muted" id="nothing-to-apply">"Nothing to apply: everything is already as the file says."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=apply attr:class="inline" attr:id="apply-form">
                        <input type="hidden" name="token" value=p.token.clone()/>
                        <input type="hidden" name="hash" value=p.hash.clone()/>
                        <button type="submit" class="primary" id="apply-import" disabled=!can_write>
                            {format!("Apply {}", plural(p.change_count, "change", "changes"))}
                        </button>
                        <span class="muted">" All of them, or none if anything fails."</span>
                    </ActionForm>
                }.into_any()
            }}
            {(!p.changes.is_empty()).then(|| view! {
                <table class="index-table" id="changes">
                    <thead><tr><th scope="col" class="num">"Line"</th><th scope="col">"Item"</th><th scope="col">"Change"</th></tr></thead>
                    <tbody>
                        {p.changes.into_iter().map(|c| view! {
                            <tr data-line=c.line><td class="num">{c.line}</td><td>{c.item}</td><td>{c.change}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                {(more_changes > 0).then(|| view! { <p class="muted">{format!("… and {more_changes} more changes")}</p> })}
            })}
        </section>
    }
}

#[component]
fn UploadForm(outlets: Vec<(i64, String, String)>, can_write: bool) -> impl IntoView {
    let disabled = !can_write;
    view! {
        <form method="post" action="/api/upload_file" enctype="multipart/form-data" class="card stack" id="upload-form">
            <h2>"Upload a CSV file"</h2>
            {disabled.then(|| view! { <p class="hint">"Your account can view but not change anything, so it cannot import."</p> })}
            <fieldset>
                <legend>"The file holds"</legend>
                <label class="check-line"><input type="radio" name="kind" value="stock" checked=true disabled=disabled/>
                    "Stock: counts or adjustments per SKU and outlet"</label>
                <label class="check-line"><input type="radio" name="kind" value="catalog" disabled=disabled/>
                    "The catalog: products and variants, one row per variant (as downloaded above)"</label>
            </fieldset>
            <label>"Stock figures are"
                <select name="mode" disabled=disabled>
                    <option value="">"As the columns say (count or delta)"</option>
                    <option value="count">"Counts: what is on hand (for a quantity column)"</option>
                    <option value="delta">"Deltas: adjustments (for a quantity column)"</option>
                </select>
            </label>
            <label>"Outlet of rows that name none"
                <select name="outlet" disabled=disabled>
                    <option value="">"Each row names its outlet"</option>
                    {outlets.into_iter().map(|(_, code, name)| view! { <option value=code>{name}</option> }).collect_view()}
                </select>
            </label>
            <label>"CSV file (UTF-8, at most 10 MB)"
                <input type="file" name="file" accept=".csv,text/csv,text/plain" required disabled=disabled/>
            </label>
            <div><button type="submit" class="primary" id="preview-upload" disabled=disabled>"Preview"</button></div>
            <p class="muted">
                "Stock files have the columns sku, outlet and count (on hand) or delta (an adjustment such as -2), and optionally reference and note. "
                "Nothing changes until you apply the preview, and a file with any bad row is not applied at all."
            </p>
        </form>
    }
}

#[component]
fn Feeds(feeds: Vec<FeedView>, outlets: Vec<(i64, String, String)>, can_write: bool) -> impl IntoView {
    let FormActions { fetch, add, .. } = expect_context();
    let disabled = !can_write;
    view! {
        <section class="card stack" id="feeds">
            <h2>"Inventory feeds"</h2>
            <p class="muted">
                "A feed is an address serving a CSV of one outlet's stock (sku and count). Tillbridge fetches it on its schedule; "
                "a feed that fails or sends anything but CSV changes nothing and shows as a failed run in the Sync History."
            </p>
            {if feeds.is_empty() {
                view! { <p class="empty">"No feeds yet."</p> }.into_any()
            } else {
                view! {
                    <table class="index-table" id="feed-list">
                        <thead><tr>
                            <th scope="col">"Feed"</th><th scope="col">"Outlet"</th><th scope="col">"Figures"</th>
                            <th scope="col">"Schedule"</th><th scope="col">"Last fetched"</th><th scope="col">"Last result"</th><th scope="col"></th>
                        </tr></thead>
                        <tbody>
                            {feeds.into_iter().map(|f| {
                                let bad = f.failed;
                                view! {
                                    <tr data-feed=f.id>
                                        <td>{f.name}<br/><span class="muted mono">{f.url}</span></td>
                                        <td>{f.outlet}</td><td>{f.mode}</td><td>{f.every}</td><td>{f.last_fetched}</td>
                                        <td class:error-text=bad>{f.last_message}</td>
                                        <td>
                                            <ActionForm action=fetch attr:class="inline">
                                                <input type="hidden" name="id" value=f.id/>
                                                <button type="submit" disabled=disabled>"Fetch now"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <ActionForm action=add attr:class="stack" attr:id="add-feed">
                <h3>"Add a feed"</h3>
                <label>"Name"<input type="text" name="name" required disabled=disabled/></label>
                <label>"Address (http:// or https://)"<input type="url" name="url" required disabled=disabled/></label>
                <label>"Outlet whose stock it sets"
                    <select name="outlet" disabled=disabled>
                        {outlets.into_iter().map(|(id, _, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label>"A quantity column holds"
                    <select name="mode" disabled=disabled>
                        <option value="count">"Counts (on hand)"</option>
                        <option value="delta">"Deltas (adjustments)"</option>
                    </select>
                </label>
                <label>"Fetch every (minutes), empty for on request only"
                    <input type="text" inputmode="numeric" name="every" disabled=disabled/></label>
                <div><button type="submit" disabled=disabled>"Add feed"</button></div>
            </ActionForm>
        </section>
    }
}
