//! The product form: every field of seed 004's mapping, the variants (SKU
//! renamed, variants removed once confirmed) and the images (added,
//! removed, reordered), in a plain form that works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::products::{BackOfficeFields, ImageView, SaveProduct, VariantView};
use crate::components::notice::field_error;

/// Fields of this form: a refusal at one of them opens the form.
const FIELDS: [&str; 12] = [
    "name",
    "sku",
    "price",
    "barcode",
    "weight",
    "remove",
    "confirm_remove",
    "images",
    "supplier_price",
    "reorder_point",
    "reorder_quantity",
    "tax_class",
];

#[component]
pub fn EditProductForm(
    id: i64,
    name: String,
    description: String,
    brand: String,
    category: String,
    active: bool,
    variants: Vec<VariantView>,
    images: Vec<ImageView>,
    fields: BackOfficeFields,
) -> impl IntoView {
    let save = expect_context::<ServerAction<SaveProduct>>();
    let refused = move || save.value().get().and_then(Result::err);
    let query = use_query_map();
    // Open when a refusal points into it (with or without JavaScript).
    let open = move || {
        let at = refused()
            .map(|e| e.field().to_owned())
            .or_else(|| query.read().get("error_field"))
            .unwrap_or_default();
        FIELDS.contains(&at.as_str())
    };
    let text = move |label: &'static str, field: &'static str, value: String| {
        view! { <label>{label}<input type="text" name=field value=value/>{field_error(refused, field)}</label> }
    };
    let blank_row = images.len();
    view! {
        <details class="card" id="edit-product" open=open>
            <summary><strong>"Edit product"</strong></summary>
            <ActionForm action=save attr:class="edit-grid">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="sku_shown" value="1"/>
                <h3>"Synced to channels"</h3>
                {text("Name", "name", name)}
                {text("Brand", "brand", brand)}
                {text("Category", "category", category)}
                <label class="wide">"Description"<textarea name="description" rows="3">{description}</textarea></label>
                <label class="check-line"><input type="checkbox" name="active" checked=active/>"Active (available in channels)"</label>
                <div class="wide table-scroll">
                    <table class="index-table" id="edit-variants">
                        <thead><tr>
                            <th scope="col">"SKU"</th><th scope="col">"Price"</th><th scope="col">"Barcode"</th>
                            <th scope="col">"Weight (g)"</th><th scope="col">"Remove"</th>
                        </tr></thead>
                        <tbody>
                            {variants.into_iter().enumerate().map(|(i, v)| view! {
                                <tr data-sku=v.sku.clone()>
                                    <td>
                                        <input type="hidden" name=format!("variants[{i}][id]") value=v.id/>
                                        <input type="text" class="mono" name=format!("variants[{i}][sku]") value=v.sku.clone() size="16"
                                            aria-label=format!("SKU of {}", v.sku) aria-describedby="sku-error"/>
                                    </td>
                                    <td><input type="text" name=format!("variants[{i}][price]") value=v.price_input size="8" aria-label=format!("Price of {}", v.sku)/></td>
                                    <td><input type="text" name=format!("variants[{i}][barcode]") value=v.barcode.unwrap_or_default() size="14" aria-label=format!("Barcode of {}", v.sku)/></td>
                                    <td><input type="text" name=format!("variants[{i}][weight]") value=v.weight_grams.map(|w| w.to_string()).unwrap_or_default() size="6" aria-label=format!("Weight of {}", v.sku)/></td>
                                    <td><input type="checkbox" name=format!("variants[{i}][remove]") aria-label=format!("Remove {}", v.sku)/></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="wide">
                    {field_error(refused, "sku")}
                    {field_error(refused, "price")}
                    {field_error(refused, "barcode")}
                    {field_error(refused, "weight")}
                    {field_error(refused, "remove")}
                </div>
                <label class="check-line wide">
                    <input type="checkbox" name="confirm_remove" id="confirm-remove"/>
                    "Remove the variants ticked above: they are deleted here, with their stock, and from every channel that lists them. A product keeps at least one variant."
                </label>
                <div class="wide">{field_error(refused, "confirm_remove")}</div>
                <fieldset class="wide" id="edit-images">
                    <legend>"Images"</legend>
                    <p class="muted">"http(s) addresses the channels fetch. Order sets their position; fill the last row to add one."</p>
                    <div class="table-scroll">
                        <table class="index-table">
                            <thead><tr>
                                <th scope="col">"Order"</th><th scope="col">"Address"</th><th scope="col">"Alt text"</th><th scope="col">"Remove"</th>
                            </tr></thead>
                            <tbody>
                                {images.into_iter().map(|i| (i.url, i.alt)).chain([(String::new(), String::new())]).enumerate().map(|(n, (url, alt))| {
                                    let new = n == blank_row;
                                    view! {
                                        <tr class:new-image=new>
                                            <td><input type="text" inputmode="numeric" name=format!("images[{n}][position]") value=(n + 1).to_string() size="3" aria-label=format!("Order of image {}", n + 1)/></td>
                                            <td><input type="text" inputmode="url" name=format!("images[{n}][url]") value=url size="40"
                                                placeholder=if new { "https://… (add an image)" } else { "" } aria-label=format!("Address of image {}", n + 1) aria-describedby="images-error"/></td>
                                            <td><input type="text" name=format!("images[{n}][alt]") value=alt size="24" aria-label=format!("Alt text of image {}", n + 1)/></td>
                                            <td>{(!new).then(|| view! { <input type="checkbox" name=format!("images[{n}][remove]") aria-label=format!("Remove image {}", n + 1)/> })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {field_error(refused, "images")}
                </fieldset>
                <h3>"Back office (never synced)"</h3>
                {text("Supplier", "supplier", fields.supplier)}
                {text("Supplier code", "supplier_code", fields.supplier_code)}
                {text("Supplier price", "supplier_price", fields.supplier_price)}
                {text("Reorder point", "reorder_point", fields.reorder_point)}
                {text("Reorder quantity", "reorder_quantity", fields.reorder_quantity)}
                {text("Tax", "tax_class", fields.tax_class)}
                {text("Tags", "tags", fields.tags)}
                <div class="wide"><button type="submit" class="primary" id="save-product" disabled=move || save.pending().get()>"Save product"</button></div>
            </ActionForm>
        </details>
    }
}
