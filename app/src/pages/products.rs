//! The products index table: search, keyset pages, an Auto Sync switch per row.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::products::{ProductRow, list_products};
use crate::components::auto_sync_toggle::AutoSyncToggle;

/// SKUs shown in a row before "+N more".
const SKUS_SHOWN: usize = 3;

#[component]
pub fn ProductsPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").filter(|q| !q.trim().is_empty());
    let after = move || query.read().get("after").and_then(|a| a.parse::<i64>().ok());
    let page = Resource::new(move || (search(), after()), |(q, after)| list_products(q, after));
    view! {
        <Title text="Products"/>
        <div class="page-head">
            <h1>"Products"</h1>
        </div>
        <form class="search" method="get" action="/products" role="search">
            <label for="q" class="visually-hidden">"Search products"</label>
            <input id="q" type="search" name="q" placeholder="Search by name, SKU or barcode"
                value=move || search().unwrap_or_default()/>
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="muted">"Loading products…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(view) => {
                        let next = view.next_after.map(|id| match search() {
                            Some(q) => format!("/products?q={}&after={id}", encode(&q)),
                            None => format!("/products?after={id}"),
                        });
                        let first = after().map(|_| match search() {
                            Some(q) => format!("/products?q={}", encode(&q)),
                            None => "/products".to_owned(),
                        });
                        let empty = view.rows.is_empty();
                        view! {
                            <ProductsTable rows=view.rows/>
                            {empty.then(|| view! { <p class="empty">"No products match this search."</p> })}
                            <nav class="pager" aria-label="Pages">
                                {first.map(|href| view! { <a href=href>"← First page"</a> })}
                                {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductsTable(rows: Vec<ProductRow>) -> impl IntoView {
    view! {
        <table class="index-table">
            <thead>
                <tr>
                    <th scope="col">"Product"</th>
                    <th scope="col">"Brand"</th>
                    <th scope="col">"Category"</th>
                    <th scope="col">"SKUs"</th>
                    <th scope="col" class="num">"Total stock"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Auto Sync"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let skus = sku_summary(&row.skus);
                    view! {
                        <tr data-product-id=row.id>
                            <td><a href=format!("/products/{}", row.id)>{row.name.clone()}</a></td>
                            <td>{row.brand}</td>
                            <td>{row.category}</td>
                            <td class="mono">{skus}</td>
                            <td class="num">{row.total_stock}</td>
                            <td>
                                <span class=if row.active { "badge badge-on" } else { "badge" }>
                                    {if row.active { "Active" } else { "Inactive" }}
                                </span>
                            </td>
                            <td><AutoSyncToggle product_id=row.id name=row.name initial=row.auto_sync/></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
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
