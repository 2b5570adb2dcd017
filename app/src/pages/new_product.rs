//! "Create product": a product with its first variant, in a plain form
//! that works without JavaScript; every refusal shows at once, next to its
//! field, with what was typed kept.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::products::CreateProduct;
use crate::components::notice::{field_error, toast_refusals};

#[component]
pub fn NewProductPage() -> impl IntoView {
    let create = ServerAction::<CreateProduct>::new();
    toast_refusals(create.value());
    let refused = move || create.value().get().and_then(Result::err);
    let query = use_query_map();
    // A refused plain post comes back with what was typed.
    let kept = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let field = move |label: &'static str, name: &'static str, hint: &'static str, required: bool| {
        // The store's currency unless the form came back with another.
        let value = match kept(name) {
            v if v.is_empty() && name == "currency" => "NZD".to_owned(),
            v => v,
        };
        view! {
            <label>
                {label}
                {(!hint.is_empty()).then(|| view! { <span class="muted">{hint}</span> })}
                <input type="text" name=name id=format!("new-{name}") value=value required=required
                    aria-describedby=format!("{name}-error")/>
                {field_error(refused, name)}
            </label>
        }
    };
    view! {
        <Title text="Create product"/>
        <p class="crumbs"><a href="/products">"Products"</a>" / "</p>
        <h1>"Create product"</h1>
        <ActionForm action=create attr:class="card stack new-product" attr:id="new-product">
            {field("Name", "name", "", true)}
            <label>"Description"
                <textarea name="description" rows="3">{kept("description")}</textarea>
            </label>
            {field("Brand", "brand", "", false)}
            {field("Category", "category", "", false)}
            <h2>"First variant"</h2>
            {field("SKU", "sku", "Unique; channels match variants by it.", true)}
            <div class="two-fields">
                {field("Price", "price", "For example 29.90", true)}
                {field("Currency", "currency", "Three letters, e.g. NZD", true)}
            </div>
            {field("Barcode", "barcode", "", false)}
            <label class="check-line"><input type="checkbox" name="active" checked=true/>"Active (available in channels)"</label>
            <label class="check-line"><input type="checkbox" name="auto_sync"/>"Turn on Auto Sync (list it in every channel)"</label>
            <div class="confirm-actions">
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create product"</button>
                <a href="/products" class="button">"Cancel"</a>
            </div>
        </ActionForm>
    }
}
