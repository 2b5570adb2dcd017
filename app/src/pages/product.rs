//! One product: its fields, variants, stock per outlet, stock adjustments,
//! what each channel shows and whether it sells there, its edit form and
//! its deletion.

mod delete;
mod edit;
mod history;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::products::{
    AdjustStock, ChannelStockView, DeleteProduct, ProductLookup, ProductView, SaveProduct, SetSellOnline, get_product,
};
use crate::components::auto_sync_toggle::AutoSyncToggle;
use crate::components::notice::{NoticeFromUrl, ToastResult, field_error};
use crate::components::toast::use_toasts;
use delete::{DeleteConfirmation, DeletedProduct};
use edit::EditProductForm;

/// How often an open product page reads its figures again.
#[cfg(feature = "hydrate")]
const LIVE_EVERY_SECS: u64 = 5;

/// Set while someone types in one of the page's forms: a live refresh
/// would otherwise put back what the server has over what they typed.
#[derive(Clone, Copy)]
struct Typing(RwSignal<bool>);

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
    let query = use_query_map();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok());
    // `?delete=1`: the "Delete product" button's confirmation.
    let confirming = move || query.read().get("delete").is_some_and(|v| v == "1");
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
        // Said next to the quantity, where it can be put right.
        Some(Err(e)) if e.field() == "amount" => {}
        Some(Err(e)) => toasts.show(e.message(), true),
        None => {}
    });
    // What other tabs and the channels changed: read again every few
    // seconds while the page is open, unless a form is being filled in.
    let typing = RwSignal::new(false);
    provide_context(Typing(typing));
    // The page as last shown: a read that finds the same redraws nothing.
    let shown = StoredValue::new(None::<ProductLookup>);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                let Some(id) = params.read_untracked().get("id").and_then(|id| id.parse::<i64>().ok()) else {
                    return;
                };
                if typing.get_untracked() || adjust.pending().get_untracked() {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(now) = get_product(id).await
                        && shown.with_value(|s| s.as_ref() != Some(&now))
                        && !typing.get_untracked()
                    {
                        refresh.update(|n| *n += 1);
                    }
                });
            },
            std::time::Duration::from_secs(LIVE_EVERY_SECS),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    }
    provide_context(adjust);
    let save = ServerAction::<SaveProduct>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            typing.set(false);
        }
    });
    let saved = ToastResult::new(save.value(), |d| d.message.clone());
    provide_context(save);
    let sell = ServerAction::<SetSellOnline>::new();
    let sold = ToastResult::new(sell.value(), |d| d.message.clone());
    provide_context(sell);
    provide_context(ServerAction::<DeleteProduct>::new());
    let notice = view! { <NoticeFromUrl/> };
    let product = Resource::new(
        move || (id(), adjust.version().get(), refresh.get(), saved.get(), sold.get()),
        |(id, ..)| async move {
            match id {
                Some(id) => get_product(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    // A field or a fold taken in hand stops the live refresh until saved.
    let taken_in_hand = move |ev: leptos::ev::FocusEvent| {
        #[cfg(feature = "hydrate")]
        {
            let tag = event_target::<leptos::web_sys::Element>(&ev).tag_name();
            if matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA" | "SUMMARY") {
                typing.set(true);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        {notice}
        <div class="product-page" on:focusin=taken_in_hand>
        // A Transition keeps the page shown while it is read again.
        <Transition fallback=|| view! { <p class="muted">"Loading product…"</p> }>
            {move || Suspend::new(async move {
                let product = product.await;
                if let Ok(Some(p)) = &product {
                    shown.set_value(Some(p.clone()));
                }
                match product {
                    Ok(Some(ProductLookup::Found(p))) => view! { <ProductDetail product=*p confirming=confirming()/> }.into_any(),
                    Ok(Some(ProductLookup::Deleted { id, name })) => view! { <DeletedProduct id name/> }.into_any(),
                    Ok(None) => view! { <h1>"Product not found"</h1> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        </div>
    }
}

#[component]
fn ProductDetail(product: ProductView, confirming: bool) -> impl IntoView {
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
        images,
        can_write,
        ..
    } = product;
    // Where it is listed: the channels its deletion reaches.
    let listed_in: Vec<String> = channels
        .iter()
        .filter(|c| c.rows.iter().any(|r| r.in_channel.is_some()))
        .map(|c| c.name.clone())
        .collect();
    let edit_form = view! {
        <EditProductForm id name=name.clone() description=description.clone() brand=brand.clone()
            category=category.clone() active variants=variants.clone() images=images.clone() fields=edit/>
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
                <AutoSyncToggle product_id=id name=name.clone() initial=auto_sync can_write/>
                {can_write.then(|| view! {
                    <a class="button danger" id="delete-product" href=format!("/products/{id}?delete=1")>"Delete product"</a>
                })}
            </div>
        </div>
        {(confirming && can_write).then(|| view! { <DeleteConfirmation id name=name.clone() listed_in/> })}
        <section class="card">
            <h2>"Details " <small class="muted">"(sync to channels)"</small></h2>
            <dl class="fields">
                <dt>"Brand"</dt><dd>{brand}</dd>
                <dt>"Category"</dt><dd>{category}</dd>
                <dt>"Description"</dt><dd>{description}</dd>
                <dt>"Options"</dt><dd>{if option_names.is_empty() { "—".to_owned() } else { option_names.join(", ") }}</dd>
                <dt>"Images"</dt>
                <dd class="image-strip" id="product-images">
                    {if images.is_empty() { Some("—") } else { None }}
                    {images.into_iter().map(|i| view! {
                        <img class="thumbnail" src=i.url.clone() alt=i.alt.clone() title=i.alt loading="lazy" width="36" height="36"/>
                    }).collect_view()}
                </dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Variants and stock"</h2>
            <div class="table-scroll">
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
            </div>
        </section>
        {edit_form}
        <AdjustStockForm product_id=id skus outlets=outlet_choices/>
        <ChannelsStock product_id=id channels can_write/>
        <history::ProductSyncHistory product_id=id/>
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
fn AdjustStockForm(product_id: i64, skus: Vec<String>, outlets: Vec<(String, String)>) -> impl IntoView {
    let action = expect_context::<ServerAction<AdjustStock>>();
    let Typing(typing) = expect_context::<Typing>();
    let query = use_query_map();
    // What a refused plain post carried back, so nothing typed is lost.
    let kept = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let (kept_sku, kept_outlet, kept_mode) = (kept("sku"), kept("outlet"), kept("mode"));
    let amount = RwSignal::new(kept("amount"));
    let note = RwSignal::new(kept("note"));
    let refused = move || action.value().get().and_then(Result::err);
    // Applied: the form is empty again for the next count.
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            amount.set(String::new());
            note.set(String::new());
            typing.set(false);
        }
    });
    view! {
        <section class="card">
            <h2>"Adjust stock"</h2>
            <ActionForm action=action attr:class="inline-form" attr:id="adjust-stock">
                <input type="hidden" name="product_id" value=product_id/>
                <label>"SKU"
                    <select name="sku">{skus.into_iter().map(|s| {
                        let selected = s == kept_sku;
                        view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                    }).collect_view()}</select>
                </label>
                <label>"Outlet"
                    <select name="outlet">
                        {outlets.into_iter().map(|(code, name)| {
                            let selected = code == kept_outlet;
                            view! { <option value=code selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Change"
                    <select name="mode">
                        <option value="delta">"Add or remove (±)"</option>
                        <option value="count" selected=kept_mode == "count">"Set count to"</option>
                    </select>
                </label>
                <label>"Quantity"
                    <input type="text" name="amount" inputmode="numeric" required size="6" aria-describedby="amount-error"
                        value=amount.get_untracked() prop:value=move || amount.get()
                        on:input=move |ev| { amount.set(event_target_value(&ev)); typing.set(true); }/>
                    {field_error(refused, "amount")}
                </label>
                <label>"Reason"
                    <select name="reason">
                        {REASONS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Note"
                    <input type="text" name="note" size="18" value=note.get_untracked() prop:value=move || note.get()
                        on:input=move |ev| { note.set(event_target_value(&ev)); typing.set(true); }/>
                </label>
                <label class="check-line"><input type="checkbox" name="below_zero" id="below-zero"/>"Allow below zero"</label>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Save"</button>
            </ActionForm>
        </section>
    }
}

/// Per channel: the "sell online" switch, then what each variant may sell
/// there and what the channel last showed.
#[component]
fn ChannelsStock(product_id: i64, channels: Vec<ChannelStockView>, can_write: bool) -> impl IntoView {
    view! {
        <section class="card" id="channel-stock">
            <h2>"In channels"</h2>
            {if channels.is_empty() {
                view! { <p class="muted">"No channels connected."</p> }.into_any()
            } else {
                let switches = channels
                    .iter()
                    .map(|c| view! {
                        <li data-channel-id=c.id>
                            <SellOnlineSwitch product_id channel_id=c.id channel=c.name.clone() selling=c.selling can_write/>
                            <span class="muted">{format!("Off: hidden from shoppers in {}, not just 0 in stock.", c.name)}</span>
                        </li>
                    })
                    .collect_view();
                view! {
                    <ul class="sell-online" id="sell-online">{switches}</ul>
                    <div class="table-scroll">
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
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// "Selling in <channel>" / "Not sold in <channel>": a plain form
/// underneath, so it works without JavaScript.
#[component]
fn SellOnlineSwitch(
    product_id: i64,
    channel_id: i64,
    channel: String,
    selling: bool,
    can_write: bool,
) -> impl IntoView {
    let sell = expect_context::<ServerAction<SetSellOnline>>();
    let text = if selling {
        format!("Selling in {channel}")
    } else {
        format!("Not sold in {channel}")
    };
    view! {
        <ActionForm action=sell attr:class="toggle-form">
            <input type="hidden" name="product_id" value=product_id/>
            <input type="hidden" name="channel_id" value=channel_id/>
            <input type="hidden" name="on" value=(!selling).to_string()/>
            <button
                type="submit"
                class="switch"
                role="switch"
                id=format!("sell-online-{channel_id}")
                aria-checked=selling.to_string()
                aria-label=format!("Sell online in {channel}")
                disabled=move || !can_write || sell.pending().get()
            >
                <span class="switch-knob"></span>
                <span class="switch-text">{text}</span>
            </button>
        </ActionForm>
    }
}
