//! Saving the product page's edit form: a plain form POST, answered with a
//! redirect back to the page and its confirmation or the field at fault.

use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use sync_core::domain::{Barcode, Currency, Money, ProductId};
use sync_core::storage::{ProductEdit, User, VariantEdit};

use super::AppState;
use super::notice::{back, field, optional_number, refuse_viewer};

pub async fn save(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let to = format!("/products/{id}");
    if let Some(refused) = refuse_viewer(&user, &to) {
        return refused;
    }
    let product = match state.storage.get_product(ProductId::new(id)).await {
        Ok(Some(p)) => p,
        _ => return back("/products", &format!("There is no product {id}."), true),
    };
    let currency = product
        .variants
        .first()
        .and_then(|v| Currency::parse(&v.price_currency).ok())
        .or_else(|| Currency::parse("NZD").ok());
    let Some(currency) = currency else {
        return back(&to, "This product has no currency.", true);
    };
    let parsed = (|| -> Result<ProductEdit, String> {
        let variants = product
            .variants
            .iter()
            .map(|v| {
                let price = Money::parse(field(&fields, &format!("price_{}", v.id)), currency)
                    .map_err(|e| format!("price of {}: {}", v.sku, e.message))?;
                let barcode = match field(&fields, &format!("barcode_{}", v.id)) {
                    "" => None,
                    raw => Some(Barcode::parse(raw).map_err(|e| format!("barcode of {}: {}", v.sku, e.message))?),
                };
                let weight_grams =
                    optional_number(&fields, &format!("weight_{}", v.id), &format!("weight of {}", v.sku))?;
                Ok(VariantEdit {
                    id: v.id,
                    barcode,
                    price,
                    weight_grams,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let supplier_price = match field(&fields, "supplier_price") {
            "" => None,
            raw => Some(Money::parse(raw, currency).map_err(|e| format!("supplier price: {}", e.message))?),
        };
        Ok(ProductEdit {
            name: field(&fields, "name").to_owned(),
            description: field(&fields, "description").to_owned(),
            brand: field(&fields, "brand").to_owned(),
            category: field(&fields, "category").to_owned(),
            active: field(&fields, "active") == "on",
            supplier: field(&fields, "supplier").to_owned(),
            supplier_code: field(&fields, "supplier_code").to_owned(),
            supplier_price,
            reorder_point: optional_number(&fields, "reorder_point", "reorder point")?,
            reorder_quantity: optional_number(&fields, "reorder_quantity", "reorder quantity")?,
            tax_class: field(&fields, "tax_class").to_owned(),
            tags: field(&fields, "tags").to_owned(),
            variants,
        })
    })();
    let edit = match parsed {
        Ok(edit) => edit,
        Err(message) => return back(&to, &message, true),
    };
    match state.storage.update_product(ProductId::new(id), &edit).await {
        Ok(()) => back(&to, "Product saved; channels get the changes with the next sync", false),
        Err(sync_core::Error::Invalid(e)) => back(&to, &e.to_string(), true),
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "saving a product failed");
            back(
                &to,
                "Something went wrong on our side; nothing was changed. Please try again.",
                true,
            )
        }
    }
}
