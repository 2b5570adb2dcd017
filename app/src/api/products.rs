//! Products: the index table, one product, and the Auto Sync toggle.

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

/// One page of the products table: a search over name, SKU and barcode,
/// the filters, and `after`, the keyset cursor from the previous page.
#[server(endpoint = "list_products", input = GetUrl)]
pub async fn list_products(query: ProductsQuery, after: Option<i64>) -> Result<ProductsView, AppError> {
    use sync_core::domain::{Permission, ProductId};
    use sync_core::storage::ProductFilter;
    let user = crate::api::ssr::require(Permission::Read).await?;
    let mut filter = ProductFilter::from_params(
        query.q.as_deref(),
        query.auto_sync.as_deref(),
        query.status.as_deref(),
        query.category.as_deref(),
        query.brand.as_deref(),
        query.stock.as_deref(),
    )
    .map_err(crate::api::ssr::invalid)?;
    filter.sort = sync_core::storage::ProductSort::parse(query.sort.as_deref().unwrap_or_default())
        .map_err(crate::api::ssr::invalid)?;
    filter.channel = sync_core::storage::ChannelFilter::parse(query.channel.as_deref().unwrap_or_default())
        .map_err(crate::api::ssr::invalid)?;
    filter.after = after.map(ProductId::new);
    filter.limit = PAGE_SIZE;
    let storage = crate::api::ssr::storage()?;
    // Independent queries side by side: counting every match is the slowest.
    let (page, (categories, brands), channels, total) = futures::try_join!(
        storage.list_products(&filter),
        storage.product_facets(),
        storage.list_channels(),
        storage.count_products(&filter),
    )?;
    let mut rows: Vec<ProductRow> = page.items.iter().map(ProductRow::from).collect();
    let variant_ids: Vec<_> = page
        .items
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.id))
        .collect();
    for channel in &channels {
        let balances = storage.balances(channel.id, &variant_ids).await?;
        let targets = storage.push_targets(channel.id, &variant_ids).await?;
        let product_ids: Vec<ProductId> = page.items.iter().map(|p| p.id).collect();
        let not_sold = storage.not_sold_online(channel.id, &product_ids).await?;
        for (row, product) in rows.iter_mut().zip(&page.items) {
            let stock = product
                .variants
                .iter()
                .map(|v| balances.get(&v.id).copied().unwrap_or(0))
                .sum();
            let listed = product.variants.iter().any(|v| {
                targets
                    .get(&v.id)
                    .is_some_and(|t| t.listing.external_inventory_item_id.is_some())
            });
            row.in_channels.push(ChannelCell {
                stock,
                listed,
                selling: !not_sold.contains(&product.id),
            });
        }
    }
    Ok(ProductsView {
        channels: channels
            .into_iter()
            .map(|c| ChannelColumn {
                id: c.id.get(),
                name: c.name,
            })
            .collect(),
        rows,
        next_after: page.next_after.map(ProductId::get),
        total,
        categories,
        brands,
        can_write: user.role.allows(Permission::WriteCatalog),
    })
}

#[server(endpoint = "get_product", input = GetUrl)]
pub async fn get_product(id: i64) -> Result<ProductView, AppError> {
    use sync_core::domain::{Permission, ProductId};
    crate::api::ssr::require(Permission::Read).await?;
    let storage = crate::api::ssr::storage()?;
    let Some(product) = storage.get_product(ProductId::new(id)).await? else {
        return crate::api::ssr::fail(AppError::NotFound(format!("Product {id}")));
    };
    let outlets = storage.list_outlets().await?;
    let mut view = ProductView::new(&product, &outlets);
    let variant_ids: Vec<_> = product.variants.iter().map(|v| v.id).collect();
    for channel in storage.list_channels().await? {
        let balances = storage.balances(channel.id, &variant_ids).await?;
        let targets = storage.push_targets(channel.id, &variant_ids).await?;
        let mut explanations = std::collections::HashMap::new();
        for v in &variant_ids {
            let e = storage.explain_balance(channel.id, *v).await?;
            let mut lines: Vec<String> = e
                .outlets
                .iter()
                .map(|o| format!("{}: {} on hand, {} committed", o.outlet_name, o.on_hand, o.committed))
                .collect();
            lines.extend(e.steps.iter().map(|s| format!("{} → {}", s.label, s.after)));
            explanations.insert(*v, lines);
        }
        let selling = storage.not_sold_online(channel.id, &[product.id]).await?.is_empty();
        view.channels.push(ChannelStockView {
            name: channel.name,
            kind: channel.kind,
            selling,
            rows: product
                .variants
                .iter()
                .map(|v| ChannelVariantView {
                    sku: v.sku.clone(),
                    balance: balances.get(&v.id).copied().unwrap_or(0),
                    explanation: explanations.remove(&v.id).unwrap_or_default(),
                    in_channel: targets
                        .get(&v.id)
                        .filter(|t| t.listing.external_inventory_item_id.is_some())
                        .and_then(|t| t.listing.last_seen_quantity),
                })
                .collect(),
        });
    }
    Ok(view)
}

/// Records a stock movement from the product page's "Adjust stock" form.
#[server(endpoint = "adjust_stock")]
pub async fn adjust_stock(
    sku: String,
    outlet: String,
    mode: String,
    amount: String,
    reason: String,
    note: String,
) -> Result<StockAdjusted, AppError> {
    use crate::api::ssr::{fail, invalid, require, storage, wake_workers};
    use sync_core::domain::{Actor, MovementReason, OutletCode, Permission, Sku, StockChange};
    use sync_core::storage::MovementInput;
    let user = require(Permission::WriteCatalog).await?;
    let sku = Sku::parse(&sku).map_err(invalid)?;
    let outlet = OutletCode::parse(&outlet).map_err(invalid)?;
    let Ok(amount) = amount.trim().parse::<i64>() else {
        return fail(AppError::Invalid {
            field: "amount".into(),
            message: format!("{:?} is not a whole number", amount.trim()),
        });
    };
    let change = match mode.as_str() {
        "count" => StockChange::count(amount),
        _ => StockChange::delta(amount),
    }
    .map_err(invalid)?;
    let reason = MovementReason::parse(&reason).map_err(invalid)?;
    let input = MovementInput {
        sku: sku.clone(),
        outlet: outlet.clone(),
        change,
        reason,
        reference: String::new(),
        note,
    };
    let actor = Actor::User {
        id: user.id,
        email: user.email.to_string(),
    };
    let batch = storage()?.apply_movements(&actor, &[input], None).await?;
    wake_workers();
    let record = batch.records.first();
    Ok(StockAdjusted {
        message: format!(
            "Stock of {sku} at {outlet}: {} → {}",
            record.map_or(0, |r| r.on_hand_before),
            record.map_or(0, |r| r.on_hand_after)
        ),
    })
}

/// Turns Auto Sync on or off for one product; the state is saved at once.
#[server(endpoint = "set_auto_sync")]
pub async fn set_auto_sync(product_id: i64, enabled: bool) -> Result<AutoSyncChanged, AppError> {
    use sync_core::domain::{Permission, ProductId};
    crate::api::ssr::require(Permission::WriteCatalog).await?;
    let storage = crate::api::ssr::storage()?;
    let id = ProductId::new(product_id);
    let change = storage.set_auto_sync(&[id], enabled).await?;
    if change.queued > 0 {
        crate::api::ssr::wake_workers();
    }
    let Some(product) = storage.get_product(id).await? else {
        return crate::api::ssr::fail(AppError::NotFound(format!("Product {product_id}")));
    };
    Ok(AutoSyncChanged {
        product_id,
        name: product.name,
        auto_sync: product.auto_sync,
        queued: change.queued,
    })
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    /// "1299.99 NZD" → "1299.99": the amount as a form shows it.
    fn decimal(m: sync_core::domain::Money) -> String {
        m.to_string().split(' ').next().unwrap_or_default().to_owned()
    }
    use sync_core::storage::{Outlet, ProductDetail};

    impl From<&ProductDetail> for ProductRow {
        fn from(p: &ProductDetail) -> Self {
            ProductRow {
                id: p.id.get(),
                name: p.name.clone(),
                image: p.image_urls.first().cloned(),
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
