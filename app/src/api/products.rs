//! Products: the index table, one product, its form, deleting it, selling
//! it online per channel, and the Auto Sync toggle.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Rows shown per page of the products table.
pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRow {
    pub id: i64,
    pub name: String,
    /// The first image, for the thumbnail.
    pub image: Option<String>,
    /// Per channel, in `ProductsView::channels` order.
    pub in_channels: Vec<ChannelCell>,
    pub brand: String,
    pub category: String,
    pub skus: Vec<String>,
    pub total_stock: i64,
    pub active: bool,
    pub auto_sync: bool,
}

/// One product in one channel, as the products table shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCell {
    /// The syncable stock summed over the variants.
    pub stock: i64,
    /// Listed in the channel (created or linked there).
    pub listed: bool,
    /// "Sell online" is on for this channel.
    pub selling: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelColumn {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductsView {
    pub rows: Vec<ProductRow>,
    /// Cursor for the next page, if any.
    pub next_after: Option<i64>,
    /// Products matching the filter, over all pages.
    pub total: i64,
    /// The per-channel columns, filters and bulk actions.
    pub channels: Vec<ChannelColumn>,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    /// Whether the signed-in user may change anything.
    pub can_write: bool,
}

/// The products table's filter, as it stands in the URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductsQuery {
    pub q: Option<String>,
    pub auto_sync: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub stock: Option<String>,
    /// listed:<id>, not_listed:<id> or not_sold:<id>.
    pub channel: Option<String>,
    /// name (default), updated or stock.
    pub sort: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutletView {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantView {
    pub id: i64,
    pub sku: String,
    pub barcode: Option<String>,
    pub options: Vec<String>,
    pub price: String,
    /// The price as typed in the edit form, e.g. "32.00".
    pub price_input: String,
    pub weight_grams: Option<i64>,
    /// On hand per outlet, in the order of `ProductView::outlets`.
    pub stock: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductView {
    pub id: i64,
    pub name: String,
    pub handle: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    pub active: bool,
    pub auto_sync: bool,
    pub option_names: Vec<String>,
    pub outlets: Vec<OutletView>,
    pub variants: Vec<VariantView>,
    /// Fields that never sync to channels (seed 004), as label/value pairs.
    pub private_fields: Vec<(String, String)>,
    pub channels: Vec<ChannelStockView>,
    /// The back-office fields as the edit form shows them.
    pub edit: BackOfficeFields,
    /// In the product's order.
    pub images: Vec<ImageView>,
    /// Whether the signed-in user may change the product (owners and managers).
    pub can_write: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageView {
    pub url: String,
    pub alt: String,
}

/// A product's page: the product, or the news that it was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProductLookup {
    Found(Box<ProductView>),
    Deleted { id: i64, name: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackOfficeFields {
    pub supplier: String,
    pub supplier_code: String,
    pub supplier_price: String,
    pub reorder_point: String,
    pub reorder_quantity: String,
    pub tax_class: String,
    pub tags: String,
}

/// One channel's view of the product: per variant, what Tillbridge may sell
/// there and what the channel last showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStockView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// "Sell online" is on for this product in the channel.
    pub selling: bool,
    pub rows: Vec<ChannelVariantView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelVariantView {
    pub sku: String,
    pub balance: i64,
    /// How the balance comes about: each outlet's figure, then each rule.
    pub explanation: Vec<String>,
    /// None until the variant is listed in the channel.
    pub in_channel: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAdjusted {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoSyncChanged {
    pub product_id: i64,
    pub name: String,
    pub auto_sync: bool,
    /// Quantity pushes queued for channels by turning it on.
    pub queued: u64,
}

impl AutoSyncChanged {
    /// "Auto Sync turned on for Hoodie · 3 quantities queued".
    pub fn message(&self) -> String {
        let state = if self.auto_sync { "on" } else { "off" };
        let queued = match self.queued {
            0 => String::new(),
            1 => " · 1 quantity queued".to_owned(),
            n => format!(" · {n} quantities queued"),
        };
        format!("Auto Sync turned {state} for {}{queued}", self.name)
    }
}

/// One page of the products table: a search over name, SKU and barcode,
/// the filters, and `after`, the keyset cursor from the previous page.
#[server(endpoint = "list_products", input = GetUrl)]
pub async fn list_products(
    // An Option: an empty filter is sent as no field at all, which only an
    // Option reads back (a client-side navigation to /products has none).
    query: Option<ProductsQuery>,
    after: Option<i64>,
) -> Result<ProductsView, AppError> {
    use sync_core::domain::Permission;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let mut filter = query.unwrap_or_default().to_filter()?;
    filter.after = after.map(sync_core::domain::ProductId::new);
    filter.limit = PAGE_SIZE;
    let table = crate::api::ssr::services()?.catalog.products_table(&filter).await?;
    Ok(ProductsView::new(table, user.role.allows(Permission::WriteCatalog)))
}

/// One product's page; a deleted product's page says so (410 Gone).
#[server(endpoint = "get_product", input = GetUrl)]
pub async fn get_product(id: i64) -> Result<ProductLookup, AppError> {
    use sync_core::domain::{Permission, ProductId};
    let user = crate::api::ssr::require(Permission::Read).await?;
    let catalog = crate::api::ssr::services()?.catalog;
    if let Some(overview) = catalog.product_overview(ProductId::new(id)).await? {
        let mut view = ProductView::from(overview);
        view.can_write = user.role.allows(Permission::WriteCatalog);
        return Ok(ProductLookup::Found(Box::new(view)));
    }
    match catalog.deleted_product_name(ProductId::new(id)).await? {
        Some(name) => {
            crate::api::ssr::set_page_status(http::StatusCode::GONE);
            Ok(ProductLookup::Deleted { id, name })
        }
        None => crate::api::ssr::fail(AppError::NotFound(format!("Product {id}"))),
    }
}

/// "Delete product", once confirmed (`confirm`, the "I understand" box):
/// owners and managers. The channels that list it delete it too.
#[server(endpoint = "delete_product")]
pub async fn delete_product(id: i64, confirm: Option<String>) -> Result<(), AppError> {
    use crate::api::ssr::{Next, actor, require, services, submit};
    use sync_core::domain::{Permission, ProductId};
    submit(&format!("/products/{id}?delete=1"), &[], async {
        let user = require(Permission::WriteCatalog).await?;
        convert::confirmed(
            confirm.as_deref(),
            "confirm",
            "tick “I understand” to delete the product",
        )?;
        let name = services()?
            .catalog
            .delete_product(&actor(&user), ProductId::new(id))
            .await?;
        Ok(Next::to(
            "/products",
            format!("Deleted {name}; the channels that list it delete it too"),
        ))
    })
    .await
}

/// The product page's switch per channel: sell online there or not. Off
/// hides the product from the channel's shoppers, not just 0 in stock.
#[server(endpoint = "set_sell_online")]
pub async fn set_sell_online(product_id: i64, channel_id: i64, on: bool) -> Result<Done, AppError> {
    use sync_core::domain::{ChannelId, Permission, ProductId};
    let result = async {
        crate::api::ssr::require(Permission::WriteCatalog).await?;
        let services = crate::api::ssr::services()?;
        let (product, channel) = (ProductId::new(product_id), ChannelId::new(channel_id));
        let Some(name) = services.catalog.product(product).await?.map(|p| p.name) else {
            return crate::api::ssr::fail(AppError::NotFound(format!("Product {product_id}")));
        };
        let Some(channel_name) = services.channels.get(channel).await?.map(|c| c.name) else {
            return crate::api::ssr::fail(AppError::NotFound(format!("Channel {channel_id}")));
        };
        services.catalog.set_sell_online(product, channel, on).await?;
        Ok(Done {
            message: convert::sell_online_done(&name, &channel_name, on),
        })
    }
    .await;
    crate::api::ssr::answer(&format!("/products/{product_id}"), result, |d| d.message.clone(), &[])
}

/// Records a stock movement from the product page's "Adjust stock" form.
/// Taking an outlet below zero needs `below_zero` ticked: the form asks.
#[server(endpoint = "adjust_stock")]
#[allow(clippy::too_many_arguments)]
pub async fn adjust_stock(
    /// The product page the form is on (where a plain post comes back to).
    product_id: Option<i64>,
    sku: String,
    outlet: String,
    mode: String,
    amount: String,
    reason: String,
    #[server(default)] note: String,
    below_zero: Option<String>,
) -> Result<StockAdjusted, AppError> {
    use crate::api::ssr::{actor, answer, require, services};
    let result = async {
        let user = require(sync_core::domain::Permission::WriteCatalog).await?;
        let input = convert::movement(&sku, &outlet, &mode, &amount, &reason, note.clone())?;
        let stock = services()?.stock;
        let here = stock.of_sku(&input.sku).await?.and_then(|s| {
            s.variant
                .stock
                .into_iter()
                .find(|o| o.outlet_code == input.outlet.as_str())
        });
        let outlet_name = here
            .as_ref()
            .map_or_else(|| input.outlet.to_string(), |o| o.outlet_name.clone());
        let after = input.change.apply(here.as_ref().map_or(0, |o| o.on_hand));
        let allowed = matches!(below_zero.as_deref(), Some("on" | "true" | "1" | "yes"));
        if after < 0 && !allowed {
            return crate::api::ssr::fail(AppError::Invalid {
                field: "amount".into(),
                message: format!(
                    "This takes {} at {outlet_name} to {after}, below zero. Tick “Allow below zero” to save it anyway.",
                    input.sku
                ),
            });
        }
        let batch = stock.record(&actor(&user), std::slice::from_ref(&input), None).await?;
        Ok(convert::adjusted(&input, &outlet_name, &batch))
    }
    .await;
    // Without JavaScript: back to the product with the confirmation, or the
    // refusal next to the quantity with what was typed (never a raw answer).
    answer(
        &product_id.map_or_else(|| "/products".to_owned(), |id| format!("/products/{id}")),
        result,
        |d| d.message.clone(),
        &[
            ("sku", &sku),
            ("outlet", &outlet),
            ("mode", &mode),
            ("amount", &amount),
            ("note", &note),
        ],
    )
}

/// The "Create product" form: a product with its first variant, checked
/// by the catalog's rules (every refusal at once, next to its field).
#[server(endpoint = "create_product")]
#[allow(clippy::too_many_arguments)]
pub async fn create_product(
    #[server(default)] name: String,
    #[server(default)] description: String,
    #[server(default)] brand: String,
    #[server(default)] category: String,
    #[server(default)] sku: String,
    #[server(default)] barcode: String,
    #[server(default)] price: String,
    #[server(default)] currency: String,
    active: Option<String>,
    auto_sync: Option<String>,
) -> Result<(), AppError> {
    use crate::api::ssr::{Next, require, services, submit};
    use sync_core::domain::Permission;
    use sync_core::service::{ProductInput, ProductWrite, VariantInput};
    let ticked = |v: &Option<String>| v.as_deref().is_some_and(|v| matches!(v, "on" | "true" | "1"));
    let (active, auto_sync) = (ticked(&active), ticked(&auto_sync));
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let keep = [
        ("name", name.as_str()),
        ("description", description.as_str()),
        ("brand", brand.as_str()),
        ("category", category.as_str()),
        ("sku", sku.as_str()),
        ("barcode", barcode.as_str()),
        ("price", price.as_str()),
        ("currency", currency.as_str()),
    ];
    submit("/products/new", &keep, async {
        require(Permission::WriteCatalog).await?;
        let input = ProductInput {
            name: Some(name.trim().to_owned()),
            description: text(&description),
            brand: text(&brand),
            category: text(&category),
            active: Some(active),
            auto_sync: Some(auto_sync),
            variants: vec![VariantInput {
                sku: Some(sku.trim().to_owned()),
                barcode: text(&barcode),
                price: text(&price),
                currency: text(&currency),
                ..Default::default()
            }],
            ..Default::default()
        };
        match services()?.catalog.create_product(&input, None).await? {
            ProductWrite::Saved { product, .. } => Ok(Next::to(
                format!("/products/{}", product.id),
                format!("Created {}", product.name),
            )),
            ProductWrite::Refused(problems) => {
                let fields = problems
                    .into_iter()
                    .map(|p| (convert::form_field(&p.path), p.message))
                    .collect();
                crate::api::ssr::fail(AppError::Fields(fields))
            }
        }
    })
    .await
}

/// Turns Auto Sync on or off for one product; the state is saved at once.
#[server(endpoint = "set_auto_sync")]
pub async fn set_auto_sync(
    product_id: i64,
    enabled: bool,
    return_to: Option<String>,
) -> Result<AutoSyncChanged, AppError> {
    use sync_core::domain::{Permission, ProductId};
    let result = async {
        crate::api::ssr::require(Permission::WriteCatalog).await?;
        let catalog = crate::api::ssr::services()?.catalog;
        let id = ProductId::new(product_id);
        let change = catalog.set_auto_sync(&[id], enabled).await?;
        let Some(product) = catalog.product(id).await? else {
            return crate::api::ssr::fail(AppError::NotFound(format!("Product {product_id}")));
        };
        Ok(AutoSyncChanged {
            product_id,
            name: product.name,
            auto_sync: product.auto_sync,
            queued: change.queued,
        })
    }
    .await;
    // Without JavaScript: back to the product with what was done (the
    // switch's own words), never a raw answer.
    let page = match return_to {
        Some(to) => convert::products_page(Some(&to)),
        None => format!("/products/{product_id}"),
    };
    crate::api::ssr::answer(&page, result, AutoSyncChanged::message, &[])
}

/// What a dashboard form did, in a sentence for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub message: String,
}

/// The products table's bulk actions: on the rows ticked (`ids[]`), or on
/// every product matching the table's filter (`all_matching`).
#[server(endpoint = "bulk_products")]
pub async fn bulk_products(
    action: String,
    #[server(default)] ids: Vec<i64>,
    #[server(default)] all_matching: bool,
    #[server(flatten)] query: ProductsQuery,
    return_to: Option<String>,
) -> Result<Done, AppError> {
    use sync_core::domain::Permission;
    let page = convert::products_page(return_to.as_deref());
    let result = async {
        let user = crate::api::ssr::require(Permission::WriteCatalog).await?;
        let (action, target) = convert::bulk(&action, ids, all_matching, &query)?;
        let hides = matches!(action, sync_core::bulk::BulkAction::SellOnline { on: false, .. });
        let outcome = crate::api::ssr::services()?
            .catalog
            .bulk(&crate::api::ssr::actor(&user), action, target)
            .await?;
        let mut message = outcome.message;
        if hides {
            // As the product page's switch says: off hides, it does not just show 0.
            message.push_str(": hidden from shoppers there, not just 0 in stock");
        }
        Ok(Done { message })
    }
    .await;
    crate::api::ssr::answer(&page, result, |d| d.message.clone(), &[])
}

/// One variant's row of the product form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantFields {
    pub id: i64,
    /// Absent from forms that do not show it: the SKU stays (a form that
    /// shows SKUs says so with `sku_shown`, so an empty one is refused).
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub barcode: String,
    #[serde(default)]
    pub weight: String,
    /// The "Remove" box, ticked.
    #[serde(default)]
    pub remove: Option<String>,
}

/// One image row of the product form (the last one blank, to add one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFields {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub alt: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub remove: Option<String>,
}

/// The product page's edit form, saved all or nothing.
#[server(endpoint = "save_product")]
pub async fn save_product(
    id: i64,
    #[server(default)] name: String,
    #[server(default)] description: String,
    #[server(default)] brand: String,
    #[server(default)] category: String,
    active: Option<String>,
    #[server(default)] supplier: String,
    #[server(default)] supplier_code: String,
    #[server(default)] supplier_price: String,
    #[server(default)] reorder_point: String,
    #[server(default)] reorder_quantity: String,
    #[server(default)] tax_class: String,
    #[server(default)] tags: String,
    #[server(default)] variants: Vec<VariantFields>,
    confirm_remove: Option<String>,
    #[server(default)] images: Vec<ImageFields>,
    sku_shown: Option<String>,
) -> Result<Done, AppError> {
    use sync_core::domain::{Permission, ProductId};
    use sync_core::service::{ImageEditForm, ProductEditForm, VariantEditForm};
    let ticked = |v: &Option<String>| v.as_deref().is_some_and(|v| v == "on" || v == "true" || v == "1");
    let result = async {
        crate::api::ssr::require(Permission::WriteCatalog).await?;
        let form = ProductEditForm {
            name,
            description,
            brand,
            category,
            active: active.is_some_and(|a| a == "on" || a == "true"),
            supplier,
            supplier_code,
            supplier_price,
            reorder_point,
            reorder_quantity,
            tax_class,
            tags,
            variants: variants
                .into_iter()
                .map(|v| VariantEditForm {
                    id: sync_core::domain::VariantId::new(v.id),
                    remove: ticked(&v.remove),
                    // A SKU field left empty arrives as none; the form says it shows them.
                    sku: v.sku.or_else(|| sku_shown.is_some().then(String::new)),
                    price: v.price,
                    barcode: v.barcode,
                    weight_grams: v.weight,
                })
                .collect(),
            confirm_remove: ticked(&confirm_remove),
            // A form without image rows leaves the images alone.
            images: (!images.is_empty()).then(|| {
                images
                    .into_iter()
                    .map(|i| ImageEditForm {
                        remove: ticked(&i.remove),
                        url: i.url,
                        alt: i.alt,
                        position: i.position,
                    })
                    .collect()
            }),
        };
        crate::api::ssr::services()?
            .catalog
            .edit_product(ProductId::new(id), &form)
            .await?;
        Ok(Done {
            message: "Product saved; channels get the changes with the next sync".into(),
        })
    }
    .await;
    crate::api::ssr::answer(&format!("/products/{id}"), result, |d| d.message.clone(), &[])
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    /// "1299.99 NZD" → "1299.99": the amount as a form shows it.
    fn decimal(m: sync_core::domain::Money) -> String {
        m.to_string().split(' ').next().unwrap_or_default().to_owned()
    }
    use sync_core::service::{Outlet, ProductDetail, ProductFilter, ProductOverview, ProductsTable};

    impl ProductsQuery {
        /// The table's filter, or the parameter at fault.
        pub fn to_filter(&self) -> Result<ProductFilter, AppError> {
            let mut filter = ProductFilter::from_params(
                self.q.as_deref(),
                self.auto_sync.as_deref(),
                self.status.as_deref(),
                self.category.as_deref(),
                self.brand.as_deref(),
                self.stock.as_deref(),
            )
            .map_err(crate::api::ssr::invalid)?;
            filter.sort = sync_core::service::ProductSort::parse(self.sort.as_deref().unwrap_or_default())
                .map_err(crate::api::ssr::invalid)?;
            filter.channel = sync_core::service::ChannelFilter::parse(self.channel.as_deref().unwrap_or_default())
                .map_err(crate::api::ssr::invalid)?;
            Ok(filter)
        }
    }

    /// The create form's field for a catalog rule's path: the one variant's
    /// `variants[0].sku` is the form's `sku`.
    pub fn form_field(path: &str) -> String {
        path.rsplit_once('.')
            .filter(|(head, _)| head.starts_with("variants["))
            .map_or(path, |(_, field)| field)
            .to_owned()
    }

    /// A confirmation box the form must have ticked, or a refusal at it.
    pub fn confirmed(value: Option<&str>, field: &str, message: &str) -> Result<(), AppError> {
        match value {
            Some("on" | "true" | "1" | "yes") => Ok(()),
            _ => crate::api::ssr::fail(AppError::Invalid {
                field: field.to_owned(),
                message: message.to_owned(),
            }),
        }
    }

    /// What turning "sell online" on or off did, in a sentence.
    pub fn sell_online_done(product: &str, channel: &str, on: bool) -> String {
        if on {
            format!("Selling {product} in {channel} again; the channel shows it to shoppers")
        } else {
            format!("{product} is no longer sold in {channel}: hidden from shoppers there, not just 0 in stock")
        }
    }

    /// Where a bulk action comes back to: the products page it was on.
    pub fn products_page(raw: Option<&str>) -> String {
        match raw {
            Some(p) if p.starts_with("/products") && !p.starts_with("//") => p.to_owned(),
            _ => "/products".to_owned(),
        }
    }

    /// A bulk action and its target from the form.
    pub fn bulk(
        action: &str,
        ids: Vec<i64>,
        all_matching: bool,
        query: &ProductsQuery,
    ) -> Result<(sync_core::bulk::BulkAction, sync_core::bulk::BulkTarget), AppError> {
        use sync_core::bulk::{BulkAction, BulkTarget};
        let action = BulkAction::parse(action).map_err(crate::api::ssr::invalid)?;
        let target = if all_matching {
            BulkTarget::AllMatching(query.to_filter()?)
        } else {
            BulkTarget::Selected(ids.into_iter().map(sync_core::domain::ProductId::new).collect())
        };
        Ok((action, target))
    }

    /// What an adjustment did, in a sentence.
    pub fn adjusted(
        input: &sync_core::service::MovementInput,
        outlet_name: &str,
        batch: &sync_core::service::MovementBatch,
    ) -> StockAdjusted {
        let record = batch.records.first();
        StockAdjusted {
            message: format!(
                "Stock of {} at {}: {} → {}",
                input.sku,
                outlet_name,
                record.map_or(0, |r| r.on_hand_before),
                record.map_or(0, |r| r.on_hand_after)
            ),
        }
    }

    /// The "Adjust stock" form as a movement, or the field at fault.
    pub fn movement(
        sku: &str,
        outlet: &str,
        mode: &str,
        amount: &str,
        reason: &str,
        note: String,
    ) -> Result<sync_core::service::MovementInput, AppError> {
        use crate::api::ssr::{fail, invalid};
        use sync_core::domain::{MovementReason, OutletCode, Sku, StockChange};
        let Ok(amount) = amount.trim().parse::<i64>() else {
            return fail(AppError::Invalid {
                field: "amount".into(),
                message: format!("{:?} is not a whole number", amount.trim()),
            });
        };
        // Whichever rule refuses it, the quantity field is at fault.
        let change = match mode {
            "count" => StockChange::count(amount),
            "delta" => StockChange::delta(amount),
            other => {
                return fail(AppError::Invalid {
                    field: "mode".into(),
                    message: format!("{other:?} is neither \"delta\" (add or remove) nor \"count\" (set count to)"),
                });
            }
        }
        .map_err(|e| invalid(sync_core::domain::DomainError { field: "amount", ..e }))?;
        if note.chars().count() > sync_core::service::MAX_NOTE_CHARS {
            return fail(AppError::Invalid {
                field: "note".into(),
                message: format!(
                    "a note is at most {} characters; this one has {}",
                    sync_core::service::MAX_NOTE_CHARS,
                    note.chars().count()
                ),
            });
        }
        Ok(sync_core::service::MovementInput {
            sku: Sku::parse(sku).map_err(invalid)?,
            outlet: OutletCode::parse(outlet).map_err(invalid)?,
            change,
            reason: MovementReason::parse(reason).map_err(invalid)?,
            reference: String::new(),
            note,
        })
    }

    impl ProductsView {
        pub fn new(table: ProductsTable, can_write: bool) -> Self {
            let rows = table
                .page
                .items
                .iter()
                .zip(table.cells)
                .map(|(product, cells)| ProductRow {
                    in_channels: cells
                        .into_iter()
                        .map(|c| ChannelCell {
                            stock: c.stock,
                            listed: c.listed,
                            selling: c.selling,
                        })
                        .collect(),
                    ..ProductRow::from(product)
                })
                .collect();
            ProductsView {
                channels: table
                    .channels
                    .into_iter()
                    .map(|(id, name)| ChannelColumn { id: id.get(), name })
                    .collect(),
                rows,
                next_after: table.page.next_after.map(sync_core::domain::ProductId::get),
                total: table.total,
                categories: table.categories,
                brands: table.brands,
                can_write,
            }
        }
    }

    impl From<ProductOverview> for ProductView {
        fn from(o: ProductOverview) -> Self {
            let mut view = ProductView::new(&o.product, &o.outlets);
            view.channels = o
                .channels
                .into_iter()
                .map(|c| ChannelStockView {
                    id: c.id.get(),
                    name: c.name,
                    kind: c.kind.as_str().to_owned(),
                    selling: c.selling,
                    rows: c
                        .variants
                        .into_iter()
                        .map(|v| ChannelVariantView {
                            sku: v.sku,
                            balance: v.balance,
                            explanation: v.explanation,
                            in_channel: v.in_channel,
                        })
                        .collect(),
                })
                .collect();
            view
        }
    }

    impl From<&ProductDetail> for ProductRow {
        fn from(p: &ProductDetail) -> Self {
            ProductRow {
                id: p.id.get(),
                name: p.name.clone(),
                image: p.images.first().map(|i| i.url.clone()),
                in_channels: Vec::new(),
                brand: p.brand.clone(),
                category: p.category.clone(),
                skus: p.variants.iter().map(|v| v.sku.clone()).collect(),
                total_stock: p.total_on_hand(),
                active: p.active,
                auto_sync: p.auto_sync,
            }
        }
    }

    impl ProductView {
        pub fn new(p: &ProductDetail, outlets: &[Outlet]) -> Self {
            let variants = p
                .variants
                .iter()
                .map(|v| {
                    let stock = outlets
                        .iter()
                        .map(|o| v.stock.iter().find(|s| s.outlet_id == o.id).map_or(0, |s| s.on_hand))
                        .collect();
                    VariantView {
                        id: v.id.get(),
                        price_input: v.price().map(decimal).unwrap_or_default(),
                        sku: v.sku.clone(),
                        barcode: v.barcode.clone(),
                        options: v.option_values().into_iter().map(str::to_owned).collect(),
                        price: v
                            .price()
                            .map_or_else(|| format!("{} (minor units)", v.price_minor), |m| m.to_string()),
                        weight_grams: v.weight_grams,
                        stock,
                        total: v.total_on_hand(),
                    }
                })
                .collect();
            let supplier_price = match (p.supplier_price_minor, &p.supplier_price_currency) {
                (Some(minor), Some(cur)) => sync_core::domain::Currency::parse(cur)
                    .map(|c| sync_core::domain::Money::new(minor, c).to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
            ProductView {
                id: p.id.get(),
                name: p.name.clone(),
                handle: p.handle.clone(),
                description: p.description.clone(),
                brand: p.brand.clone(),
                category: p.category.clone(),
                active: p.active,
                auto_sync: p.auto_sync,
                option_names: p.option_names().into_iter().map(str::to_owned).collect(),
                outlets: outlets
                    .iter()
                    .map(|o| OutletView {
                        code: o.code.to_string(),
                        name: o.name.clone(),
                    })
                    .collect(),
                variants,
                private_fields: vec![
                    ("Handle".into(), p.handle.clone()),
                    ("Supplier".into(), p.supplier.clone()),
                    ("Supplier code".into(), p.supplier_code.clone()),
                    ("Supplier price".into(), supplier_price),
                    ("Reorder point".into(), opt(p.reorder_point)),
                    ("Reorder quantity".into(), opt(p.reorder_quantity)),
                    ("Tax".into(), p.tax_class.clone()),
                    ("Tags".into(), p.tags.clone()),
                ],
                channels: Vec::new(),
                images: p
                    .images
                    .iter()
                    .map(|i| ImageView {
                        url: i.url.clone(),
                        alt: i.alt.clone(),
                    })
                    .collect(),
                can_write: false,
                edit: BackOfficeFields {
                    supplier: p.supplier.clone(),
                    supplier_code: p.supplier_code.clone(),
                    supplier_price: match (p.supplier_price_minor, &p.supplier_price_currency) {
                        (Some(minor), Some(cur)) => sync_core::domain::Currency::parse(cur)
                            .map(|c| decimal(sync_core::domain::Money::new(minor, c)))
                            .unwrap_or_default(),
                        _ => String::new(),
                    },
                    reorder_point: opt(p.reorder_point),
                    reorder_quantity: opt(p.reorder_quantity),
                    tax_class: p.tax_class.clone(),
                    tags: p.tags.clone(),
                },
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::convert::products_page;

    #[test]
    fn a_bulk_action_only_returns_to_the_products_pages() {
        assert_eq!(products_page(Some("/products?q=tee")), "/products?q=tee");
        assert_eq!(products_page(Some("https://evil.example/")), "/products");
        assert_eq!(products_page(Some("//evil.example/products")), "/products");
        assert_eq!(products_page(None), "/products");
    }
}
