//! The products index table: search and filters in the URL, keyset pages,
//! row selection with bulk actions, and an Auto Sync switch per row.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::products::{BulkProducts, ChannelColumn, ProductRow, ProductsQuery, list_products};
use crate::components::auto_sync_toggle::AutoSyncToggle;
use crate::components::notice::{NoticeFromUrl, ToastResult};

/// SKUs shown in a row before "+N more".
const SKUS_SHOWN: usize = 3;

/// Bulk actions over more products than this ask before they run.
const BULK_CONFIRM_OVER: i64 = 50;

#[component]
pub fn ProductsPage() -> impl IntoView {
    let params = use_query_map();
    let get = move |key: &str| params.read().get(key).filter(|v| !v.trim().is_empty());
    let query = Memo::new(move |_| ProductsQuery {
        q: get("q"),
        auto_sync: get("auto_sync"),
        status: get("status"),
        category: get("category"),
        brand: get("brand"),
        stock: get("stock"),
        channel: get("channel"),
        sort: get("sort"),
    });
    let after = move || get("after").and_then(|a| a.parse::<i64>().ok());
    // Where this page starts in the whole list (1-based), carried by the
    // page links: keyset pages do not know it otherwise.
    let start = move || {
        get("start")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|s| *s >= 1 && after().is_some())
            .unwrap_or(1)
    };
    // With JavaScript a bulk action answers here: its toast, then the table again.
    let bulk = ServerAction::<BulkProducts>::new();
    let applied = ToastResult::new(bulk.value(), |d| d.message.clone());
    provide_context(bulk);
    let page = Resource::new(
        move || (query.get(), after(), applied.get()),
        |(q, after, _)| list_products(Some(q), after),
    );
    view! {
        <Title text="Products"/>
        // A bulk action redirects back here with its confirmation.
        <NoticeFromUrl/>
        <Suspense fallback=|| view! { <div class="page-head"><h1>"Products"</h1></div><p class="muted">"Loading products…"</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                match page.await {
                    Ok(view) => {
                        let filters = link_params(&q);
                        let first = start();
                        let shown = view.rows.len() as i64;
                        let next = view.next_after.map(|id| format!("/products?{filters}after={id}&start={}", first + shown));
                        let back = after().map(|_| format!("/products?{filters}"));
                        let labels = FilterLabels::new(&view.channels);
                        let chips = labels.chips(&q);
                        let range = match (shown, view.total) {
                            (0, _) => String::new(),
                            (_, total) => format!("Showing {}–{} of {} {}", first, (first + shown - 1).min(total.max(first)), total, plural(total, "product", "products")),
                        };
                        let empty = view.rows.is_empty().then(|| empty_state(!chips.is_empty(), view.can_write, view.total));
                        view! {
                            <div class="page-head">
                                <h1>"Products"</h1>
                                <div class="page-actions">
                                    {view.can_write.then(|| view! { <a class="button primary" href="/products/new" id="create-product">"Create product"</a> })}
                                    <MoreMenu/>
                                </div>
                            </div>
                            <FilterBar query=q.clone() categories=view.categories brands=view.brands labels=labels/>
                            <AppliedFilters chips/>
                            <p class="range muted" id="products-range" aria-live="polite">{range}</p>
                            {if empty.is_some() {
                                empty.into_any()
                            } else {
                                view! { <ProductsTable rows=view.rows total=view.total query=q can_write=view.can_write channels=view.channels/> }.into_any()
                            }}
                            <nav class="pager" aria-label="Pages">
                                {back.map(|href| view! { <a href=href>"← First page"</a> })}
                                {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
                            </nav>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <div class="page-head"><h1>"Products"</h1></div><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn plural(n: i64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// What an empty table says, with a way on.
fn empty_state(filtered: bool, can_write: bool, total: i64) -> impl IntoView {
    view! {
        <div class="card empty" id="products-empty">
            {if filtered || total > 0 {
                view! {
                    <p><strong>"No products match these filters."</strong></p>
                    <p><a href="/products" class="button">"Clear all filters"</a></p>
                }
                .into_any()
            } else {
                view! {
                    <p><strong>"No products yet."</strong></p>
                    <p>
                        {can_write.then(|| view! { <a href="/products/new" class="button primary">"Create product"</a>" " })}
                        <a href="/import" class="button">"Import a catalog"</a>
                    </p>
                }
                .into_any()
            }}
        </div>
    }
}

/// The "…" menu: the pages merchants reach from their products (seed 003).
#[component]
fn MoreMenu() -> impl IntoView {
    view! {
        <details class="more-menu" id="products-more">
            <summary aria-label="More actions">"More actions"</summary>
            <div class="more-menu-items">
                <a href="/history">"Sync History"</a>
                <a href="/import">"Import"</a>
                <a href="/export/catalog.csv" rel="external" download>"Export catalog (CSV)"</a>
                <a href="/export/stock.csv" rel="external" download>"Export stock (CSV)"</a>
            </div>
        </details>
    }
}

/// A filter's value as words, for its chip and its option.
#[derive(Clone)]
struct FilterLabels {
    channel_options: Vec<(String, String)>,
}

const AUTO_SYNC_OPTIONS: [(&str, &str); 2] = [("on", "Auto Sync on"), ("off", "Auto Sync off")];
const STATUS_OPTIONS: [(&str, &str); 2] = [("active", "Active"), ("inactive", "Inactive")];
const STOCK_OPTIONS: [(&str, &str); 3] = [("in", "In stock"), ("low", "Low stock"), ("out", "Out of stock")];
/// Sorts besides the default (by name).
const SORT_OPTIONS: [(&str, &str); 2] = [("updated", "Sort: recently updated"), ("stock", "Sort: most stock")];

impl FilterLabels {
    fn new(channels: &[ChannelColumn]) -> Self {
        let channel_options = channels
            .iter()
            .flat_map(|c| {
                [
                    (format!("listed:{}", c.id), format!("Listed in {}", c.name)),
                    (format!("not_listed:{}", c.id), format!("Not yet in {}", c.name)),
                    (format!("not_sold:{}", c.id), format!("Not sold in {}", c.name)),
                ]
            })
            .collect();
        Self { channel_options }
    }

    /// One removable chip per filter applied: (key, words, link without it).
    fn chips(&self, q: &ProductsQuery) -> Vec<(&'static str, String, String)> {
        let word = |options: &[(&str, &str)], value: &str| {
            options
                .iter()
                .find(|(v, _)| *v == value)
                .map_or_else(|| value.to_owned(), |(_, t)| (*t).to_owned())
        };
        let mut chips = Vec::new();
        let mut push = |key: &'static str, words: Option<String>| {
            if let Some(words) = words {
                let mut without = q.clone();
                match key {
                    "q" => without.q = None,
                    "auto_sync" => without.auto_sync = None,
                    "status" => without.status = None,
                    "category" => without.category = None,
                    "brand" => without.brand = None,
                    "stock" => without.stock = None,
                    _ => without.channel = None,
                }
                chips.push((
                    key,
                    words,
                    format!("/products?{}", link_params(&without))
                        .trim_end_matches(['&', '?'])
                        .to_owned(),
                ));
            }
        };
        push("q", q.q.as_ref().map(|v| format!("Search: “{v}”")));
        push("auto_sync", q.auto_sync.as_deref().map(|v| word(&AUTO_SYNC_OPTIONS, v)));
        push("status", q.status.as_deref().map(|v| word(&STATUS_OPTIONS, v)));
        push("category", q.category.as_ref().map(|v| format!("Category: {v}")));
        push("brand", q.brand.as_ref().map(|v| format!("Brand: {v}")));
        push("stock", q.stock.as_deref().map(|v| word(&STOCK_OPTIONS, v)));
        let channels = self.channel_options.clone();
        push(
            "channel",
            q.channel.as_deref().map(|v| {
                channels
                    .iter()
                    .find(|(c, _)| c == v)
                    .map_or_else(|| v.to_owned(), |(_, t)| t.clone())
            }),
        );
        chips
    }
}

/// The filters applied, each removable, and "Clear all".
#[component]
fn AppliedFilters(chips: Vec<(&'static str, String, String)>) -> impl IntoView {
    (!chips.is_empty()).then(|| {
        view! {
            <ul class="chips" id="applied-filters" aria-label="Filters applied">
                {chips.into_iter().map(|(key, words, href)| view! {
                    <li>
                        <a class="chip" href=href data-filter=key aria-label=format!("Remove filter: {words}")>
                            {words.clone()}<span class="chip-x" aria-hidden="true">"×"</span>
                        </a>
                    </li>
                }).collect_view()}
                <li><a class="clear-all" href="/products" id="clear-filters">"Clear all"</a></li>
            </ul>
        }
    })
}

/// Search and filters: a plain GET form, so a view can be bookmarked and
/// works without JavaScript; with it, a filter applies as it changes and
/// the search as it is submitted, without reloading the page.
#[component]
fn FilterBar(
    query: ProductsQuery,
    categories: Vec<String>,
    brands: Vec<String>,
    labels: FilterLabels,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let current = query.clone();
    // A changed filter: the same view with that filter, from its first page.
    let apply = move |key: &'static str, value: String| {
        let mut q = current.clone();
        let value = Some(value).filter(|v| !v.trim().is_empty());
        match key {
            "auto_sync" => q.auto_sync = value,
            "status" => q.status = value,
            "category" => q.category = value,
            "brand" => q.brand = value,
            "stock" => q.stock = value,
            "channel" => q.channel = value,
            _ => q.sort = value,
        }
        let url = format!("/products?{}", link_params(&q));
        navigate(url.trim_end_matches(['&', '?']), Default::default());
    };
    let select = move |name: &'static str,
                       label: &'static str,
                       current: Option<String>,
                       options: Vec<(String, String)>| {
        let current = current.unwrap_or_default();
        let apply = apply.clone();
        view! {
            <label class="filter">
                <span class="visually-hidden">{label}</span>
                <select name=name aria-label=label on:change=move |ev| apply(name, event_target_value(&ev))>
                    <option value="" selected=current.is_empty()>{if name == "sort" { "Sort: name".to_owned() } else { format!("{label}: any") }}</option>
                    {options
                        .into_iter()
                        .map(|(value, text)| {
                            let selected = value == current;
                            view! { <option value=value selected=selected>{text}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        }
    };
    let pairs = |items: &[(&str, &str)]| {
        items
            .iter()
            .map(|(v, t)| (v.to_string(), t.to_string()))
            .collect::<Vec<_>>()
    };
    let same = |items: Vec<String>| items.into_iter().map(|i| (i.clone(), i)).collect::<Vec<_>>();
    view! {
        <leptos_router::components::Form method="get" action="/products" attr:class="search" attr:role="search" attr:id="product-filters">
            <label for="q" class="visually-hidden">"Search products"</label>
            <input id="q" type="search" name="q" placeholder="Search by name, SKU or barcode" value=query.q.clone().unwrap_or_default()/>
            {select("auto_sync", "Auto Sync", query.auto_sync.clone(), pairs(&AUTO_SYNC_OPTIONS))}
            {select("status", "Status", query.status.clone(), pairs(&STATUS_OPTIONS))}
            {select("category", "Category", query.category.clone(), same(categories))}
            {select("brand", "Brand", query.brand.clone(), same(brands))}
            {select("stock", "Stock", query.stock.clone(), pairs(&STOCK_OPTIONS))}
            {select("channel", "Channel", query.channel.clone(), labels.channel_options.clone())}
            {select("sort", "Sort", query.sort.clone(), pairs(&SORT_OPTIONS))}
            <button type="submit" class="filter-submit">"Filter"</button>
        </leptos_router::components::Form>
    }
}

#[component]
fn ProductsTable(
    rows: Vec<ProductRow>,
    total: i64,
    query: ProductsQuery,
    can_write: bool,
    channels: Vec<ChannelColumn>,
) -> impl IntoView {
    let selected: Vec<RwSignal<bool>> = rows.iter().map(|_| RwSignal::new(false)).collect();
    let all_matching = RwSignal::new(false);
    let on_page = rows.len() as i64;
    let chosen = {
        let selected = selected.clone();
        move || selected.iter().filter(|s| s.get()).count() as i64
    };
    let page_all = {
        let chosen = chosen.clone();
        move || on_page > 0 && chosen() == on_page
    };
    let select_page = {
        let selected = selected.clone();
        move |on: bool| {
            selected.iter().for_each(|s| s.set(on));
            if !on {
                all_matching.set(false);
            }
        }
    };
    let summary = {
        let chosen = chosen.clone();
        move || match (all_matching.get(), chosen()) {
            (true, _) => format!("All {total} products matching this filter are selected"),
            (false, 0) => String::new(),
            (false, n) => format!("{n} selected"),
        }
    };
    let location = use_location();
    let return_to = move || {
        let search = location.search.get();
        match search.trim_start_matches('?') {
            "" => location.pathname.get(),
            query => format!("{}?{query}", location.pathname.get()),
        }
    };
    let bulk = expect_context::<ServerAction<BulkProducts>>();
    // A bulk action over more than BULK_CONFIRM_OVER products asks first,
    // naming the count and the action.
    let asking = RwSignal::new(None::<String>);
    let action_words = RwSignal::new(String::from("Turn on Auto Sync"));
    let affected = {
        let chosen = chosen.clone();
        move || if all_matching.get() { total } else { chosen() }
    };
    let ask_first = {
        let affected = affected.clone();
        move |ev: leptos::ev::MouseEvent| {
            let n = affected();
            if n > BULK_CONFIRM_OVER {
                ev.prevent_default();
                asking.set(Some(format!("{} for {n} products?", action_words.get_untracked())));
            }
        }
    };
    Effect::new(move |_| {
        if bulk.version().get() > 0 {
            asking.set(None);
        }
    });
    // The form's children are moved into it; the table below keeps these.
    let (menu, page_all_in_form) = (channels.clone(), page_all.clone());
    let sort = query.sort.clone().unwrap_or_default();
    let sort_link = {
        let query = query.clone();
        move |by: &str| {
            let mut q = query.clone();
            q.sort = (by != "name").then(|| by.to_owned());
            format!("/products?{}", link_params(&q))
                .trim_end_matches(['&', '?'])
                .to_owned()
        }
    };
    let aria_sort = |by: &str, descending: bool| {
        let on = if by == "name" {
            sort.is_empty() || sort == "name"
        } else {
            sort == by
        };
        match (on, descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    };
    let (sort_by_name, sort_by_stock) = (sort_link("name"), sort_link("stock"));
    let (name_sorted, stock_sorted) = (aria_sort("name", false), aria_sort("stock", true));
    view! {
        <ActionForm action=bulk attr:id="bulk" attr:class="bulk-bar">
            <input type="hidden" name="return_to" value=return_to/>
            <input type="hidden" name="all_matching" value=move || all_matching.get().to_string()/>
            {[("q", &query.q), ("auto_sync", &query.auto_sync), ("status", &query.status), ("category", &query.category), ("brand", &query.brand), ("stock", &query.stock), ("channel", &query.channel)]
                .into_iter()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value.clone().unwrap_or_default()/> })
                .collect_view()}
            <label>
                <span class="visually-hidden">"Bulk actions"</span>
                <select name="action" aria-label="Bulk actions" disabled=!can_write
                    on:change={
                        let channels = menu.clone();
                        move |ev| action_words.set(action_words_of(&event_target_value(&ev), &channels))
                    }
                    on:input=move |_| asking.set(None)
                    >
                    <option value="auto_sync_on">"Turn on Auto Sync for selected products"</option>
                    <option value="auto_sync_off">"Turn off Auto Sync"</option>
                    <option value="activate">"Activate"</option>
                    <option value="deactivate">"Deactivate"</option>
                    {menu.iter().map(|c| view! {
                        <option value=format!("sell_online:{}:on", c.id)>{format!("Sell online in {}", c.name)}</option>
                        <option value=format!("sell_online:{}:off", c.id)>{format!("Stop selling online in {} (hidden from shoppers there, not just 0 in stock)", c.name)}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" id="bulk-apply" disabled=move || !can_write || bulk.pending().get() on:click=ask_first>"Apply"</button>
            <span class="muted" id="selection-summary">{summary}</span>
            {move || asking.get().map(|question| view! {
                <div class="confirm card bulk-confirm" id="bulk-confirm" role="alertdialog" aria-labelledby="bulk-confirm-question">
                    <p id="bulk-confirm-question"><strong>{question}</strong></p>
                    <div class="confirm-actions">
                        <button type="submit" class="primary" id="bulk-confirm-yes">"Yes, apply"</button>
                        <button type="button" id="bulk-confirm-cancel" on:click=move |_| asking.set(None)>"Cancel"</button>
                    </div>
                </div>
            })}
            {let page_all = page_all_in_form; move || (page_all() && !all_matching.get() && total > on_page).then(|| view! {
                <button type="button" class="link-button dark" id="select-all-matching" on:click=move |_| all_matching.set(true)>
                    {format!("Select all {total} products matching this filter")}
                </button>
            })}
        </ActionForm>
        <div class="table-scroll">
        <table class="index-table" id="products-table">
            <thead>
                <tr>
                    <th scope="col" class="check">
                        <input type="checkbox" id="select-page" aria-label="Select all products on this page"
                            prop:checked=page_all.clone()
                            on:change=move |ev| select_page(event_target_checked(&ev))/>
                    </th>
                    <th scope="col" class="thumb"><span class="visually-hidden">"Image"</span></th>
                    <th scope="col" aria-sort=name_sorted>
                        <a href=sort_by_name class="sort-link" id="sort-name">"Product"<span class="sort-mark" aria-hidden="true">{(name_sorted != "none").then_some(" ↑")}</span></a>
                    </th>
                    <th scope="col">"Brand"</th>
                    <th scope="col">"Category"</th>
                    <th scope="col">"SKUs"</th>
                    <th scope="col" class="num" aria-sort=stock_sorted>
                        <a href=sort_by_stock class="sort-link" id="sort-stock">"Total stock"<span class="sort-mark" aria-hidden="true">{(stock_sorted != "none").then_some(" ↓")}</span></a>
                    </th>
                    {channels.into_iter().map(|c| view! { <th scope="col" class="num" title="Syncable stock in this channel">{c.name}</th> }).collect_view()}
                    <th scope="col">"Status"</th>
                    <th scope="col">"Auto Sync"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .zip(selected)
                    .map(|(row, picked)| {
                        let skus = sku_summary(&row.skus);
                        view! {
                            <tr data-product-id=row.id>
                                <td class="check">
                                    <input type="checkbox" name="ids[]" form="bulk" value=row.id
                                        aria-label=format!("Select {}", row.name)
                                        prop:checked=move || picked.get() || all_matching.get()
                                        on:change=move |ev| picked.set(event_target_checked(&ev))/>
                                </td>
                                <td class="thumb"><Thumbnail image=row.image.clone() name=row.name.clone()/></td>
                                <td><a href=format!("/products/{}", row.id)>{row.name.clone()}</a></td>
                                <td>{row.brand}</td>
                                <td>{row.category}</td>
                                <td class="mono skus">{skus}</td>
                                <td class="num">{row.total_stock}</td>
                                {row.in_channels.iter().map(|cell| if cell.selling {
                                    view! {
                                        <td class="num channel-cell">
                                            {cell.stock}
                                            <span class=if cell.listed { "dot dot-on" } else { "dot" } title=if cell.listed { "Listed in this channel" } else { "Not in this channel yet" }></span>
                                        </td>
                                    }.into_any()
                                } else {
                                    view! { <td class="num channel-cell"><span class="badge" title="Not sold online in this channel: hidden from shoppers there, not just 0 in stock">"Not sold"</span></td> }.into_any()
                                }).collect_view()}
                                <td>
                                    <span class=if row.active { "badge badge-on" } else { "badge" }>
                                        {if row.active { "Active" } else { "Inactive" }}
                                    </span>
                                </td>
                                <td><AutoSyncToggle product_id=row.id name=row.name initial=row.auto_sync can_write/></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        </div>
    }
}

/// A bulk action's value as the words its confirmation asks with.
fn action_words_of(value: &str, channels: &[ChannelColumn]) -> String {
    let channel = |id: &str| {
        channels
            .iter()
            .find(|c| c.id.to_string() == id)
            .map_or_else(|| "the channel".to_owned(), |c| c.name.clone())
    };
    match value.split(':').collect::<Vec<_>>()[..] {
        ["auto_sync_on"] => "Turn on Auto Sync".into(),
        ["auto_sync_off"] => "Turn off Auto Sync".into(),
        ["activate"] => "Activate".into(),
        ["deactivate"] => "Deactivate".into(),
        ["sell_online", id, "on"] => format!("Sell online in {}", channel(id)),
        ["sell_online", id, _] => format!("Stop selling online in {}", channel(id)),
        _ => "Apply this".into(),
    }
}

/// The filter as `key=value&` pairs for page links.
fn link_params(q: &ProductsQuery) -> String {
    [
        ("q", &q.q),
        ("auto_sync", &q.auto_sync),
        ("status", &q.status),
        ("category", &q.category),
        ("brand", &q.brand),
        ("stock", &q.stock),
        ("channel", &q.channel),
        ("sort", &q.sort),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}&", encode(v))))
    .collect()
}

/// The product's first image, or its initial on a tile when it has none.
#[component]
fn Thumbnail(image: Option<String>, name: String) -> impl IntoView {
    match image {
        Some(src) => view! { <img class="thumbnail" src=src alt="" loading="lazy" width="36" height="36"/> }.into_any(),
        None => {
            let initial = name
                .chars()
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_default();
            view! { <span class="thumbnail thumbnail-empty" aria-hidden="true">{initial}</span> }.into_any()
        }
    }
}

/// The first SKUs, each kept whole on its line, then "+N more".
fn sku_summary(skus: &[String]) -> impl IntoView + use<> {
    let more = skus.len().saturating_sub(SKUS_SHOWN);
    let shown = skus.iter().take(SKUS_SHOWN).cloned().collect::<Vec<_>>();
    view! {
        {shown.into_iter().map(|sku| view! { <span class="sku">{sku}</span> }).collect_view()}
        {(more > 0).then(|| view! { <span class="sku muted">{format!("+{more} more")}</span> })}
    }
}

/// Percent-encodes a query value for a link.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
