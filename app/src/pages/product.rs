//! One product: its fields, variants and stock per outlet.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::products::{ProductView, get_product};
use crate::components::auto_sync_toggle::AutoSyncToggle;

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    };
    let product = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_product(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading product…"</p> }>
            {move || Suspend::new(async move {
                match product.await {
                    Ok(Some(p)) => view! { <ProductDetail product=p/> }.into_any(),
                    Ok(None) => view! { <h1>"Product not found"</h1> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductDetail(product: ProductView) -> impl IntoView {
    let ProductView {
        id,
        name,
        description,
        brand,
        category,
        active,
        auto_sync,
        option_names,
        outlets,
        variants,
        private_fields,
        ..
    } = product;
    view! {
        <Title text=name.clone()/>
        <p class="crumbs"><a href="/products">"Products"</a>" / "</p>
        <div class="page-head">
            <h1>{name.clone()}</h1>
            <span class=if active { "badge badge-on" } else { "badge" }>{if active { "Active" } else { "Inactive" }}</span>
            <div class="page-actions">
                <span class="label">"Auto Sync"</span>
                <AutoSyncToggle product_id=id name=name initial=auto_sync/>
            </div>
        </div>
        <section class="card">
            <h2>"Details " <small class="muted">"(sync to channels)"</small></h2>
            <dl class="fields">
                <dt>"Brand"</dt><dd>{brand}</dd>
                <dt>"Category"</dt><dd>{category}</dd>
                <dt>"Description"</dt><dd>{description}</dd>
                <dt>"Options"</dt><dd>{if option_names.is_empty() { "—".to_owned() } else { option_names.join(", ") }}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Variants and stock"</h2>
            <table class="index-table" id="variants">
                <thead>
                    <tr>
                        <th scope="col">"SKU"</th>
                        {option_names.iter().map(|o| view! { <th scope="col">{o.clone()}</th> }).collect_view()}
                        <th scope="col">"Barcode"</th>
                        <th scope="col" class="num">"Price"</th>
                        {outlets.iter().map(|o| view! { <th scope="col" class="num" data-outlet=o.code.clone()>{o.name.clone()}</th> }).collect_view()}
                        <th scope="col" class="num">"Total"</th>
                    </tr>
                </thead>
                <tbody>
                    {variants.into_iter().map(|v| view! {
                        <tr>
                            <td class="mono">{v.sku}</td>
                            {v.options.into_iter().map(|o| view! { <td>{o}</td> }).collect_view()}
                            <td class="mono">{v.barcode.unwrap_or_default()}</td>
                            <td class="num">{v.price}</td>
                            {v.stock.into_iter().map(|n| view! { <td class="num">{n}</td> }).collect_view()}
                            <td class="num"><strong>{v.total}</strong></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card">
            <h2>"Back office " <small class="muted">"(never synced to channels)"</small></h2>
            <dl class="fields">
                {private_fields.into_iter().map(|(label, value)| view! {
                    <dt>{label}</dt><dd>{if value.is_empty() { "—".to_owned() } else { value }}</dd>
                }).collect_view()}
            </dl>
        </section>
    }
}
