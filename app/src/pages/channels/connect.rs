//! Connecting a channel (owners only): "Connect Shopify" and "Connect
//! Vendure". Each checks its credentials against the store before saving;
//! a refusal comes back next to its field with what was typed (never a
//! secret), with or without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::AppError;
use crate::api::channels::{ConnectFormView, ConnectShopify, ConnectVendure, connect_form};
use crate::components::notice::{NoticeFromUrl, field_error, toast_refusals};

/// "Connect Shopify": the shop, its token (sealed, never shown again), the
/// Shopify location that receives stock, and the outlets it sells from.
#[component]
pub fn ConnectChannelPage() -> impl IntoView {
    let form = Resource::new(|| (), |_| connect_form());
    let connect = ServerAction::<ConnectShopify>::new();
    toast_refusals(connect.value());
    let refused = move || connect.value().get().and_then(Result::err);
    view! {
        <Title text="Connect Shopify"/>
        <NoticeFromUrl/>
        <p class="crumbs"><a href="/channels">"Channels"</a>" / "</p>
        <h1>"Connect Shopify"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let view = match owner_form(form.await) {
                    Ok(v) => v,
                    Err(refusal) => return refusal,
                };
                view! {
                    <ActionForm action=connect attr:class="card stack" attr:id="connect-shopify">
                        {text(refused, "name", "Channel name", "How this channel is called in Tillbridge, e.g. Online store", "text")}
                        {text(refused, "shop_domain", "Shop domain", "e.g. my-shop.myshopify.com", "text")}
                        {text(refused, "token", "Admin API access token", "From your Shopify app; stored encrypted and never shown again", "password")}
                        {text(refused, "location", "Shopify location that receives stock", "Its name as Shopify shows it, e.g. Shop location", "text")}
                        <OutletFields outlets=view.outlets refused/>
                        <fieldset>
                            <legend>"Order webhooks (optional)"</legend>
                            <p class="muted">"With these, orders placed in Shopify reach Tillbridge within seconds; without them, orders are pulled on the channel's schedule and at sign-in."</p>
                            {text(refused, "public_url", "Tillbridge's public address", "Where Shopify can reach this Tillbridge, e.g. https://tillbridge.my-shop.example", "url")}
                            {text(refused, "client_secret", "App client secret", "Signs the webhooks; stored encrypted and never shown again", "password")}
                        </fieldset>
                        <details>
                            <summary>"Advanced"</summary>
                            {text(refused, "api_base_url", "Admin API address", "Leave empty for https://<shop domain>", "url")}
                        </details>
                        <button type="submit" class="primary" id="connect">"Connect"</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}

/// "Connect Vendure": the store's address, an Admin API key (sealed,
/// never shown again), the Vendure stock location that receives stock, and
/// the outlets it sells from.
#[component]
pub fn ConnectVendurePage() -> impl IntoView {
    let form = Resource::new(|| (), |_| connect_form());
    let connect = ServerAction::<ConnectVendure>::new();
    toast_refusals(connect.value());
    let refused = move || connect.value().get().and_then(Result::err);
    view! {
        <Title text="Connect Vendure"/>
        <NoticeFromUrl/>
        <p class="crumbs"><a href="/channels">"Channels"</a>" / "</p>
        <h1>"Connect Vendure"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let view = match owner_form(form.await) {
                    Ok(v) => v,
                    Err(refusal) => return refusal,
                };
                view! {
                    <ActionForm action=connect attr:class="card stack" attr:id="connect-vendure">
                        {text(refused, "name", "Channel name", "How this channel is called in Tillbridge, e.g. Vendure store", "text")}
                        {text(refused, "api_base_url", "Store address", "Where the store serves its APIs, e.g. https://shop.example (the Admin API is at /admin-api under it)", "url")}
                        {text(refused, "api_key", "Admin API key", "An API key of a Vendure administrator with the catalog, stock and order permissions; stored encrypted and never shown again", "password")}
                        {text(refused, "stock_location", "Vendure stock location that receives stock", "Its name as Vendure shows it, e.g. Default Stock Location", "text")}
                        <OutletFields outlets=view.outlets refused/>
                        <fieldset>
                            <legend>"Order webhooks (optional)"</legend>
                            <p class="muted">"Give Tillbridge's public address to be told the address for the store's order-webhook plugin; without it, orders are pulled on the channel's schedule and at sign-in."</p>
                            {text(refused, "public_url", "Tillbridge's public address", "Where the store can reach this Tillbridge, e.g. https://tillbridge.my-shop.example", "url")}
                        </fieldset>
                        <button type="submit" class="primary" id="connect">"Connect"</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}

/// The form's choices, or what a non-owner (or a failure) sees instead.
fn owner_form(form: Result<ConnectFormView, AppError>) -> Result<ConnectFormView, AnyView> {
    match form {
        Ok(v) if v.can_connect => Ok(v),
        Ok(_) => Err(
            view! { <p class="empty">"Only an owner can connect channels. Ask an owner of this store."</p> }.into_any(),
        ),
        Err(e) => Err(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()),
    }
}

/// A value a refused form kept in the URL.
fn typed(key: &str) -> String {
    use_query_map().read_untracked().get(key).unwrap_or_default()
}

/// A labelled input with its hint and, next to it, its refusal. Secrets
/// are never filled in again.
fn text(
    refused: impl Fn() -> Option<AppError> + Send + Sync + 'static,
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    kind: &'static str,
) -> impl IntoView {
    let invalid = typed("error_field") == name || !typed(&format!("error.{name}")).is_empty();
    let secret = kind == "password";
    let value = if secret { String::new() } else { typed(name) };
    // A refused form keeps everything typed but its secrets, and says so.
    let retype = secret && !typed("notice_error").is_empty();
    view! {
        <label>{label}
            <input type=kind name=name value=value autocomplete="off" aria-invalid=invalid.to_string()
                aria-describedby=format!("{name}-error")/>
            <span class="muted">{hint}</span>
            {retype.then(|| view! { <span class="muted secret-again">"Secrets are not kept after a refusal: paste it again."</span> })}
            {field_error(refused, name)}
        </label>
    }
}

/// Seed 004's "Sync inventory levels" for a new channel: the outlets whose
/// stock it combines (all ticked at first), the one that takes its orders,
/// and its safety buffer.
#[component]
fn OutletFields(
    outlets: Vec<(i64, String)>,
    refused: impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ticked: Vec<String> = use_query_map().read_untracked().get_all("outlets").unwrap_or_default();
    let first_time = ticked.is_empty() && typed("name").is_empty();
    let order = typed("order_outlet");
    view! {
        <fieldset>
            <legend>"Sync inventory levels"</legend>
            <p class="muted">"Tick each outlet whose stock is combined and offered in this channel."</p>
            {outlets.iter().map(|(id, name)| {
                let checked = first_time || ticked.contains(&id.to_string());
                view! {
                    <label class="check-line">
                        <input type="checkbox" name="outlets[]" value=*id checked=checked/>{name.clone()}
                    </label>
                }
            }).collect_view()}
            {field_error(refused, "outlets")}
        </fieldset>
        <label>"Outlet that takes this channel's orders"
            <select name="order_outlet">
                {outlets.iter().map(|(id, name)| view! {
                    <option value=*id selected=order == id.to_string()>{name.clone()}</option>
                }).collect_view()}
            </select>
            <span class="muted">"Included in the channel's stock by default."</span>
            {field_error(refused, "order_outlet")}
        </label>
        <label>"Safety buffer (units held back per product)"
            <input type="text" inputmode="numeric" name="safety_buffer" aria-describedby="safety_buffer-error"
                value=Some(typed("safety_buffer")).filter(|v| !v.is_empty()).unwrap_or_else(|| "0".into())/>
            {field_error(refused, "safety_buffer")}
        </label>
    }
}
