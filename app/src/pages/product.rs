//! One product: its fields, variants, stock per outlet, stock adjustments
//! and what each channel shows.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::products::{
    AdjustStock, BackOfficeFields, ChannelStockView, ProductView, SaveProduct, VariantView, get_product,
};
use crate::components::auto_sync_toggle::AutoSyncToggle;
use crate::components::notice::{NoticeFromUrl, ToastResult, field_error};
use crate::components::toast::use_toasts;

/// Movement reasons offered on the form (channel orders come from channels).
const REASONS: [(&str, &str); 7] = [
    ("manual_adjustment", "Manual adjustment"),
    ("purchase_order", "Purchase order"),
    ("sales_order", "Sales order"),
    ("work_order", "Work order"),
    ("transfer", "Transfer"),
    ("file_upload", "File upload"),
    ("inventory_feed", "Inventory feed"),
];

#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok());
    let adjust = ServerAction::<AdjustStock>::new();
    // Re-read shortly after an adjustment too, to show the channels catching up.
    let refresh = RwSignal::new(0u32);
    let toasts = use_toasts();
    Effect::new(move |_| match adjust.value().get() {
        Some(Ok(done)) => {
            toasts.show(done.message, false);
            set_timeout(
                move || refresh.update(|n| *n += 1),
                std::time::Duration::from_millis(800),
            );
        }
        Some(Err(e)) => toasts.show(e.to_string(), true),
        None => {}
    });
    provide_context(adjust);
    let save = ServerAction::<SaveProduct>::new();
    let saved = ToastResult::new(save.value(), |d| d.message.clone());
    provide_context(save);
    let notice = view! { <NoticeFromUrl/> };
    let product = Resource::new(
        move || (id(), adjust.version().get(), refresh.get(), saved.get()),
        |(id, _, _, _)| async move {
            match id {
                Some(id) => get_product(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        {notice}
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
        channels,
        edit,
        ..
    } = product;
    let edit_form = view! {
        <EditProductForm id name=name.clone() description=description.clone() brand=brand.clone()
            category=category.clone() active variants=variants.clone() fields=edit/>
    };
    let skus: Vec<String> = variants.iter().map(|v| v.sku.clone()).collect();
    let outlet_choices: Vec<(String, String)> = outlets.iter().map(|o| (o.code.clone(), o.name.clone())).collect();
    view! {
        <Title text=name.clone()/>
        <p class="crumbs"><a href="/products">"Products"</a>" / "</p>
        <div class="page-head">
            <h1>{name.clone()}</h1>
            <span class=if active { "badge badge-on" } else { "badge" }>{if active { "Active" } else { "Inactive" }}</span>
            <div class="page-actions">
                <a href=format!("/history?product={id}") id="product-history">"Sync History"</a>
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
        {edit_form}
        <AdjustStockForm skus outlets=outlet_choices/>
        <ChannelsStock channels/>
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

#[component]
fn AdjustStockForm(skus: Vec<String>, outlets: Vec<(String, String)>) -> impl IntoView {
    let action = expect_context::<ServerAction<AdjustStock>>();
    view! {
        <section class="card">
            <h2>"Adjust stock"</h2>
            <ActionForm action=action attr:class="inline-form" attr:id="adjust-stock">
                <label>"SKU"
                    <select name="sku">{skus.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}</select>
                </label>
                <label>"Outlet"
                    <select name="outlet">
                        {outlets.into_iter().map(|(code, name)| view! { <option value=code>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Change"
                    <select name="mode">
                        <option value="delta">"Add or remove (±)"</option>
                        <option value="count">"Set count to"</option>
                    </select>
                </label>
                <label>"Quantity" <input type="text" name="amount" inputmode="numeric" required size="6"/></label>
                <label>"Reason"
                    <select name="reason">
                        {REASONS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Note" <input type="text" name="note" size="18"/></label>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Save"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ChannelsStock(channels: Vec<ChannelStockView>) -> impl IntoView {
    view! {
        <section class="card" id="channel-stock">
            <h2>"In channels"</h2>
            {if channels.is_empty() {
                view! { <p class="muted">"No channels connected."</p> }.into_any()
            } else {
                view! {
                    <table class="index-table">
                        <thead><tr>
                            <th scope="col">"Channel"</th><th scope="col">"SKU"</th>
                            <th scope="col" class="num">"Syncable balance"</th><th scope="col" class="num">"In the channel"</th>
                        </tr></thead>
                        <tbody>
                            {channels.into_iter().flat_map(|c| {
                                let name = if c.selling { c.name.clone() } else { format!("{} (not sold online)", c.name) };
                                c.rows.into_iter().map(move |r| {
                                    let synced = r.in_channel == Some(r.balance);
                                    let sku = r.sku.clone();
                                    view! {
                                        <tr data-channel=name.clone() data-sku=sku>
                                            <td>{name.clone()}</td>
                                            <td class="mono">{r.sku}</td>
                                            <td class="num">
                                                <details class="explain">
                                                    <summary>{r.balance}</summary>
                                                    <ul>{r.explanation.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
                                                </details>
                                            </td>
                                            <td class="num" class:out-of-step=!synced>
                                                {r.in_channel.map_or_else(|| "not listed".to_owned(), |q| q.to_string())}
                                            </td>
                                        </tr>
                                    }
                                }).collect::<Vec<_>>()
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// Every field of seed 004's mapping, in a plain form (works without JavaScript).
#[component]
fn EditProductForm(
    id: i64,
    name: String,
    description: String,
    brand: String,
    category: String,
    active: bool,
    variants: Vec<VariantView>,
    fields: BackOfficeFields,
) -> impl IntoView {
    let save = expect_context::<ServerAction<SaveProduct>>();
    let refused = move || save.value().get().and_then(Result::err);
    let text = move |label: &'static str, field: &'static str, value: String| {
        view! { <label>{label}<input type="text" name=field value=value/>{field_error(refused, field)}</label> }
    };
    view! {
        <details class="card" id="edit-product">
            <summary><strong>"Edit product"</strong></summary>
            <ActionForm action=save attr:class="edit-grid">
                <input type="hidden" name="id" value=id/>
                <h3>"Synced to channels"</h3>
                {text("Name", "name", name)}
                {text("Brand", "brand", brand)}
                {text("Category", "category", category)}
                <label class="wide">"Description"<textarea name="description" rows="3">{description}</textarea></label>
                <label class="check-line"><input type="checkbox" name="active" checked=active/>"Active (available in channels)"</label>
                <table class="index-table wide">
                    <thead><tr><th scope="col">"SKU"</th><th scope="col">"Price"</th><th scope="col">"Barcode"</th><th scope="col">"Weight (g)"</th></tr></thead>
                    <tbody>
                        {variants.into_iter().enumerate().map(|(i, v)| view! {
                            <tr>
                                <td class="mono">{v.sku}<input type="hidden" name=format!("variants[{i}][id]") value=v.id/></td>
                                <td><input type="text" name=format!("variants[{i}][price]") value=v.price_input size="8"/></td>
                                <td><input type="text" name=format!("variants[{i}][barcode]") value=v.barcode.unwrap_or_default() size="14"/></td>
                                <td><input type="text" name=format!("variants[{i}][weight]") value=v.weight_grams.map(|w| w.to_string()).unwrap_or_default() size="6"/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <div class="wide">
                    {field_error(refused, "price")}
                    {field_error(refused, "barcode")}
                    {field_error(refused, "weight")}
                </div>
                <h3>"Back office (never synced)"</h3>
                {text("Supplier", "supplier", fields.supplier)}
                {text("Supplier code", "supplier_code", fields.supplier_code)}
                {text("Supplier price", "supplier_price", fields.supplier_price)}
                {text("Reorder point", "reorder_point", fields.reorder_point)}
                {text("Reorder quantity", "reorder_quantity", fields.reorder_quantity)}
                {text("Tax", "tax_class", fields.tax_class)}
                {text("Tags", "tags", fields.tags)}
                <div class="wide"><button type="submit" class="primary" disabled=move || save.pending().get()>"Save product"</button></div>
            </ActionForm>
        </details>
    }
}
