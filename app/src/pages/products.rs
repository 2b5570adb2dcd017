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
        <div class="page-head">
            <h1>"Products"</h1>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading products…"</p> }>
            {move || Suspend::new(async move {
                let q = query.get_untracked();
                match page.await {
                    Ok(view) => {
                        let filters = link_params(&q);
                        let next = view.next_after.map(|id| format!("/products?{filters}after={id}"));
                        let first = after().map(|_| format!("/products?{filters}"));
                        let empty = view.rows.is_empty();
                        view! {
                            <FilterBar query=q.clone() categories=view.categories brands=view.brands channels=view.channels.clone()/>
                            <ProductsTable rows=view.rows total=view.total query=q can_write=view.can_write channels=view.channels/>
                            {empty.then(|| view! { <p class="empty">"No products match this search."</p> })}
                            <nav class="pager" aria-label="Pages">
                                {first.map(|href| view! { <a href=href>"← First page"</a> })}
                                {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
                            </nav>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Search and filters: a plain GET form, so a view can be bookmarked.
#[component]
fn FilterBar(
    query: ProductsQuery,
    categories: Vec<String>,
    brands: Vec<String>,
    channels: Vec<ChannelColumn>,
) -> impl IntoView {
    let select = |name: &'static str, label: &'static str, current: Option<String>, options: Vec<(String, String)>| {
        let current = current.unwrap_or_default();
        view! {
            <label class="filter">
                <span class="visually-hidden">{label}</span>
                <select name=name aria-label=label>
                    <option value="" selected=current.is_empty()>{label}": any"</option>
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
    let channel_options = channels
        .iter()
        .flat_map(|c| {
            [
                (format!("listed:{}", c.id), format!("Listed in {}", c.name)),
                (format!("not_listed:{}", c.id), format!("Not yet in {}", c.name)),
                (format!("not_sold:{}", c.id), format!("Not sold in {}", c.name)),
            ]
        })
        .collect::<Vec<_>>();
    view! {
        <form class="search" method="get" action="/products" role="search">
            <label for="q" class="visually-hidden">"Search products"</label>
            <input id="q" type="search" name="q" placeholder="Search by name, SKU or barcode" value=query.q.clone().unwrap_or_default()/>
            {select("auto_sync", "Auto Sync", query.auto_sync.clone(), pairs(&[("on", "Auto Sync on"), ("off", "Auto Sync off")]))}
            {select("status", "Status", query.status.clone(), pairs(&[("active", "Active"), ("inactive", "Inactive")]))}
            {select("category", "Category", query.category.clone(), same(categories))}
            {select("brand", "Brand", query.brand.clone(), same(brands))}
            {select("stock", "Stock", query.stock.clone(), pairs(&[("in", "In stock"), ("low", "Low stock"), ("out", "Out of stock")]))}
            {select("channel", "Channel", query.channel.clone(), channel_options)}
            {select("sort", "Sort", query.sort.clone(), pairs(&[("updated", "Sort: recently updated"), ("stock", "Sort: most stock")]))}
            <button type="submit">"Filter"</button>
        </form>
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
    // The form's children are moved into it; the table below keeps these.
    let (menu, page_all_in_form) = (channels.clone(), page_all.clone());
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
                <select name="action" aria-label="Bulk actions" disabled=!can_write>
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
            <button type="submit" id="bulk-apply" disabled=move || !can_write || bulk.pending().get()>"Apply"</button>
            <span class="muted" id="selection-summary">{summary}</span>
            {let page_all = page_all_in_form; move || (page_all() && !all_matching.get() && total > on_page).then(|| view! {
                <button type="button" class="link-button dark" id="select-all-matching" on:click=move |_| all_matching.set(true)>
                    {format!("Select all {total} products matching this filter")}
                </button>
            })}
        </ActionForm>
        <table class="index-table">
            <thead>
                <tr>
                    <th scope="col" class="check">
                        <input type="checkbox" id="select-page" aria-label="Select all products on this page"
                            prop:checked=page_all.clone()
                            on:change=move |ev| select_page(event_target_checked(&ev))/>
                    </th>
                    <th scope="col" class="thumb"><span class="visually-hidden">"Image"</span></th>
                    <th scope="col">"Product"</th>
                    <th scope="col">"Brand"</th>
                    <th scope="col">"Category"</th>
                    <th scope="col">"SKUs"</th>
                    <th scope="col" class="num">"Total stock"</th>
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
                                <td class="mono">{skus}</td>
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
        <p class="muted">{format!("{total} products")}</p>
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

fn sku_summary(skus: &[String]) -> String {
    let shown = skus.iter().take(SKUS_SHOWN).cloned().collect::<Vec<_>>().join(", ");
    match skus.len().saturating_sub(SKUS_SHOWN) {
        0 => shown,
        more => format!("{shown} +{more} more"),
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
