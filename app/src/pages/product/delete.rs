//! Deleting a product: the confirmation the "Delete product" button opens
//! (a page of its own without JavaScript, `?delete=1`), and what a deleted
//! product's address shows afterwards.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::products::DeleteProduct;
use crate::components::notice::field_error;

/// Names the product and where it goes; the server needs "I understand".
#[component]
pub fn DeleteConfirmation(id: i64, name: String, listed_in: Vec<String>) -> impl IntoView {
    let delete = expect_context::<ServerAction<DeleteProduct>>();
    let refused = move || delete.value().get().and_then(Result::err);
    let reach = if listed_in.is_empty() {
        "No channel lists it yet.".to_owned()
    } else {
        format!("Channels that list it now: {}.", listed_in.join(", "))
    };
    view! {
        <section class="card confirm" id="delete-confirmation" role="alertdialog"
            aria-labelledby="delete-title" aria-describedby="delete-what">
            <h2 id="delete-title">{format!("Delete {name}?")}</h2>
            <p id="delete-what">
                {format!("{name} will be deleted from every channel that lists it. ")}{reach}
                " Its Sync History stays; its SKUs take no more stock movements."
            </p>
            <ActionForm action=delete attr:class="stack" attr:id="delete-form">
                <input type="hidden" name="id" value=id/>
                <label class="check-line">
                    <input type="checkbox" name="confirm" id="delete-understood" required/>
                    {format!("I understand: {name} is deleted here and from every channel that lists it")}
                </label>
                {field_error(refused, "confirm")}
                <div class="confirm-actions">
                    <button type="submit" class="danger" id="delete-confirmed" disabled=move || delete.pending().get()>
                        "Delete product"
                    </button>
                    <a class="button" id="delete-cancel" href=format!("/products/{id}")>"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}

/// A deleted product's address: says so plainly (the answer is 410 Gone).
#[component]
pub fn DeletedProduct(id: i64, name: String) -> impl IntoView {
    view! {
        <Title text="Product deleted"/>
        <p class="crumbs"><a href="/products">"Products"</a>" / "</p>
        <section class="card" id="product-deleted">
            <h1>"This product was deleted"</h1>
            <p>{format!("{name} was deleted; the channels that listed it delete it too.")}</p>
            <p>
                <a href=format!("/history?product={id}")>"Its Sync History"</a>
                " stays. "
                <a href="/products">"Back to products"</a>
            </p>
        </section>
    }
}
