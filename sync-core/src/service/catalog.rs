//! The catalog: products, their variants and outlets, Auto Sync and the
//! bulk actions, and the one writer of product fields (the product form and
//! the catalog import both go through `write_catalog`).

use std::collections::HashMap;

mod products_api;

use super::Core;
use crate::Result;
use crate::bulk::{BulkAction, BulkOutcome, BulkTarget};
use crate::domain::{Actor, Barcode, ChannelId, Currency, DomainError, Money, OutletCode, ProductId, Sku, VariantId};
use crate::storage::{CatalogWrite, EventResult, NewEvent, ProductImage, SellOnlineChange, VariantWrite};

pub use products_api::{FieldProblem, ImageInput, Named, ProductInput, ProductWrite, VariantInput};

pub use crate::storage::{
    AutoSyncChange, ChannelFilter, Outlet, ProductDetail, ProductFilter, ProductPage, ProductSort, VariantDetail,
    VariantStock,
};

/// Prices of a product that has none yet are in this currency.
const DEFAULT_CURRENCY: &str = "NZD";

#[derive(Clone)]
pub struct Catalog {
    core: Core,
}

/// One page of the products table with what each channel shows of it.
#[derive(Debug, Clone)]
pub struct ProductsTable {
    pub page: ProductPage,
    /// Products matching the filter, over every page.
    pub total: i64,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    /// (id, name) of every channel, in column order.
    pub channels: Vec<(ChannelId, String)>,
    /// Per product of the page, one cell per channel in `channels` order.
    pub cells: Vec<Vec<ChannelCell>>,
}

/// One product in one channel, as the products table shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelCell {
    /// The syncable stock summed over the variants.
    pub stock: i64,
    /// Listed in the channel (created or linked there).
    pub listed: bool,
    /// "Sell online" is on for this channel.
    pub selling: bool,
}

/// A product with its outlets and, per channel, what each variant may sell
/// there, why, and what the channel last showed.
#[derive(Debug, Clone)]
pub struct ProductOverview {
    pub product: ProductDetail,
    pub outlets: Vec<Outlet>,
    pub channels: Vec<ChannelStock>,
}

#[derive(Debug, Clone)]
pub struct ChannelStock {
    pub id: ChannelId,
    pub name: String,
    pub kind: crate::domain::ChannelKind,
    pub selling: bool,
    pub variants: Vec<VariantInChannel>,
}

#[derive(Debug, Clone)]
pub struct VariantInChannel {
    pub sku: String,
    pub balance: i64,
    /// Each outlet's figure, then each rule, as lines.
    pub explanation: Vec<String>,
    /// None until the variant is listed in the channel.
    pub in_channel: Option<i64>,
}

/// The product form as typed: parsed and checked by `Catalog::edit_product`.
#[derive(Debug, Clone, Default)]
pub struct ProductEditForm {
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    pub active: bool,
    pub supplier: String,
    pub supplier_code: String,
    pub supplier_price: String,
    pub reorder_point: String,
    pub reorder_quantity: String,
    pub tax_class: String,
    pub tags: String,
    /// Variants the form shows; others keep their values.
    pub variants: Vec<VariantEditForm>,
    /// The variants ticked for removal are removed only with this ticked.
    pub confirm_remove: bool,
    /// The images in the form's rows; None leaves the product's images alone.
    pub images: Option<Vec<ImageEditForm>>,
}

#[derive(Debug, Clone)]
pub struct VariantEditForm {
    pub id: VariantId,
    /// None when the form does not show it (the SKU stays); a new SKU
    /// renames the variant, here and in the channels that list it.
    pub sku: Option<String>,
    pub price: String,
    pub barcode: String,
    pub weight_grams: String,
    /// Ticked for removal (with `ProductEditForm::confirm_remove`).
    pub remove: bool,
}

/// One image row of the product form: an empty address is a row left
/// blank; rows are saved in `position` order (empty ones last).
#[derive(Debug, Clone, Default)]
pub struct ImageEditForm {
    pub url: String,
    pub alt: String,
    pub position: String,
    pub remove: bool,
}

impl Catalog {
    pub(super) fn new(core: Core) -> Self {
        Self { core }
    }

    pub async fn product(&self, id: ProductId) -> Result<Option<ProductDetail>> {
        self.core.storage.get_product(id).await
    }

    pub async fn list_products(&self, filter: &ProductFilter) -> Result<ProductPage> {
        self.core.storage.list_products(filter).await
    }

    pub async fn outlets(&self) -> Result<Vec<Outlet>> {
        self.core.storage.list_outlets().await
    }

    pub async fn create_outlet(&self, code: &OutletCode, name: &str) -> Result<Outlet> {
        self.core.storage.create_outlet(code, name).await
    }

    /// Products with these SKUs, and the SKUs no product has.
    pub async fn product_ids_for_skus(&self, skus: &[Sku]) -> Result<(Vec<ProductId>, Vec<Sku>)> {
        self.core.storage.product_ids_for_skus(skus).await
    }

    pub async fn all_product_ids(&self) -> Result<Vec<ProductId>> {
        self.core.storage.all_product_ids().await
    }

    /// The products table: one page, its count, the filter menus and each
    /// channel's column.
    pub async fn products_table(&self, filter: &ProductFilter) -> Result<ProductsTable> {
        let storage = &self.core.storage;
        let (page, total, (categories, brands), channels) = tokio::try_join!(
            storage.list_products(filter),
            storage.count_products(filter),
            storage.product_facets(),
            storage.list_channels(),
        )?;
        let variant_ids: Vec<VariantId> = page
            .items
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.id))
            .collect();
        let product_ids: Vec<ProductId> = page.items.iter().map(|p| p.id).collect();
        let mut cells = vec![Vec::with_capacity(channels.len()); page.items.len()];
        for channel in &channels {
            let balances = storage.balances(channel.id, &variant_ids).await?;
            let targets = storage.push_targets(channel.id, &variant_ids).await?;
            let not_sold = storage.not_sold_online(channel.id, &product_ids).await?;
            for (row, product) in cells.iter_mut().zip(&page.items) {
                row.push(ChannelCell {
                    stock: product
                        .variants
                        .iter()
                        .map(|v| balances.get(&v.id).copied().unwrap_or(0))
                        .sum(),
                    listed: product.variants.iter().any(|v| {
                        targets
                            .get(&v.id)
                            .is_some_and(|t| t.listing.external_inventory_item_id.is_some())
                    }),
                    selling: !not_sold.contains(&product.id),
                });
            }
        }
        Ok(ProductsTable {
            page,
            total,
            categories,
            brands,
            channels: channels.into_iter().map(|c| (c.id, c.name)).collect(),
            cells,
        })
    }

    /// One product, its outlets and what every channel makes of it.
    pub async fn product_overview(&self, id: ProductId) -> Result<Option<ProductOverview>> {
        let storage = &self.core.storage;
        let Some(product) = storage.get_product(id).await? else {
            return Ok(None);
        };
        let outlets = storage.list_outlets().await?;
        let variant_ids: Vec<VariantId> = product.variants.iter().map(|v| v.id).collect();
        let mut channels = Vec::new();
        for channel in storage.list_channels().await? {
            let balances = storage.balances(channel.id, &variant_ids).await?;
            let targets = storage.push_targets(channel.id, &variant_ids).await?;
            let mut explanations: HashMap<VariantId, Vec<String>> = HashMap::new();
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
            channels.push(ChannelStock {
                id: channel.id,
                kind: channel.kind,
                name: channel.name,
                selling,
                variants: product
                    .variants
                    .iter()
                    .map(|v| VariantInChannel {
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
        Ok(Some(ProductOverview {
            product,
            outlets,
            channels,
        }))
    }

    /// Turns Auto Sync on or off; turning it on queues the quantities.
    pub async fn set_auto_sync(&self, ids: &[ProductId], on: bool) -> Result<AutoSyncChange> {
        let change = self.core.storage.set_auto_sync(ids, on).await?;
        self.core.queued(change.queued);
        Ok(change)
    }

    /// Applies a bulk action and records who did it in the Sync History.
    pub async fn bulk(&self, actor: &Actor, action: BulkAction, target: BulkTarget) -> Result<BulkOutcome> {
        let outcome = self.core.storage.bulk_products(actor, action, target).await?;
        if outcome.queued + outcome.catalog_queued > 0 {
            // One run per channel, naming the person (or token) who asked.
            let trigger = match actor {
                Actor::Api { .. } => crate::storage::RunTrigger::Api,
                _ => crate::storage::RunTrigger::Button,
            };
            self.core.push_for(crate::storage::RunCause::by(trigger, actor));
        }
        Ok(outcome)
    }

    /// Deletes a product (seed 004: "Deleting a product from Retail POS will
    /// delete it from eCom"): gone from every list here and, in the
    /// background, from every channel where it is listed; its history stays
    /// and its SKUs take no more stock movements.
    pub async fn delete_product(&self, actor: &Actor, id: ProductId) -> Result<String> {
        let Some(product) = self.core.storage.get_product(id).await? else {
            return Err(crate::Error::NotFound(format!("product {id}")));
        };
        if !self.core.storage.delete_product(id).await? {
            return Err(crate::Error::NotFound(format!("product {id}")));
        }
        let event = NewEvent {
            product_id: Some(id),
            variant_id: None,
            action: "delete product".into(),
            before: None,
            after: Some(product.name.clone()),
            result: EventResult::Succeeded,
            error: Some("deleted in Tillbridge; the channels that list it delete it too".into()),
            attempt: 1,
        };
        self.core
            .storage
            .record_events(None, None, &actor.label(), &[event])
            .await?;
        self.core.waker.wake();
        Ok(product.name)
    }

    /// The live product with this SKU, or else this handle.
    pub async fn find_product(&self, sku_or_handle: &str) -> Result<Option<ProductId>> {
        let wanted = sku_or_handle.trim();
        if let Ok(sku) = Sku::parse(wanted) {
            let by_sku = self.core.storage.product_ids_for_skus(&[sku]).await?.0;
            if let Some(id) = by_sku.first() {
                return Ok(Some(*id));
            }
        }
        let by_handle = self.core.storage.product_ids_by_handle(&[wanted.to_owned()]).await?;
        Ok(by_handle.get(wanted).copied())
    }

    /// Turns "sell online" on or off for one product in one channel: off
    /// hides it there (not just 0 in stock), on shows it again.
    pub async fn set_sell_online(&self, product: ProductId, channel: ChannelId, on: bool) -> Result<SellOnlineChange> {
        let change = self.core.storage.set_sell_online(channel, &[product], on).await?;
        self.core.queued(change.queued + change.catalog_queued);
        Ok(change)
    }

    /// Saves the product form, all or nothing, through the catalog writer
    /// the import uses; a refusal names the field at fault.
    pub async fn edit_product(&self, id: ProductId, form: &ProductEditForm) -> Result<()> {
        let Some(product) = self.core.storage.get_product(id).await? else {
            return Err(crate::Error::NotFound(format!("product {id}")));
        };
        let write = edit_to_write(&product, form)?;
        self.check_new_skus(&product, &write).await?;
        let written = self.core.storage.write_catalog(&[write]).await?;
        self.core.queued(written.queued + written.catalog_queued);
        Ok(())
    }

    /// A renamed SKU must be free: not another product's, nor a deleted
    /// product's (its history keeps it).
    async fn check_new_skus(&self, product: &ProductDetail, write: &CatalogWrite) -> Result<()> {
        let renamed: Vec<Sku> = write
            .variants
            .iter()
            .filter(|v| !product.variants.iter().any(|p| p.sku == v.sku.as_str()))
            .map(|v| v.sku.clone())
            .collect();
        if renamed.is_empty() {
            return Ok(());
        }
        let storage = &self.core.storage;
        let (taken, deleted) = tokio::try_join!(
            storage.variant_ids_by_sku(&renamed),
            storage.deleted_product_skus(&renamed)
        )?;
        if let Some(sku) = renamed.iter().find(|s| taken.contains_key(s.as_str())) {
            return Err(DomainError::new("sku", format!("SKU {sku} belongs to another product")).into());
        }
        if let Some(sku) = renamed.iter().find(|s| deleted.contains(s.as_str())) {
            return Err(DomainError::new(
                "sku",
                format!("SKU {sku} belonged to a deleted product and stays reserved for its history"),
            )
            .into());
        }
        Ok(())
    }

    /// The name of a product that was deleted (its page says so), or None.
    pub async fn deleted_product_name(&self, id: ProductId) -> Result<Option<String>> {
        self.core.storage.deleted_product_name(id).await
    }
}

fn whole(raw: &str, field: &'static str, label: &str) -> Result<Option<i64>, DomainError> {
    match raw.trim() {
        "" => Ok(None),
        v => match v.parse::<i64>() {
            Ok(n) if n < 0 => Err(DomainError::new(field, format!("{label}: cannot be negative"))),
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(DomainError::new(field, format!("{label}: {v:?} is not a whole number"))),
        },
    }
}

/// The product as the form leaves it: the form's fields over the stored ones.
fn edit_to_write(product: &ProductDetail, form: &ProductEditForm) -> Result<CatalogWrite, DomainError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(DomainError::new("name", "a product name is 1 to 255 characters"));
    }
    // A product's prices share the currency its first variant has.
    let currency = product
        .variants
        .first()
        .and_then(|v| Currency::parse(&v.price_currency).ok())
        .map_or_else(|| Currency::parse(DEFAULT_CURRENCY), Ok)?;
    let remove_variants: Vec<VariantId> = product
        .variants
        .iter()
        .filter(|v| form.variants.iter().any(|f| f.id == v.id && f.remove))
        .map(|v| v.id)
        .collect();
    if !remove_variants.is_empty() {
        if remove_variants.len() == product.variants.len() {
            return Err(DomainError::new(
                "remove",
                "a product keeps at least one variant; to remove them all, delete the product",
            ));
        }
        if !form.confirm_remove {
            return Err(DomainError::new(
                "confirm_remove",
                "tick the confirmation to remove the ticked variants: they are deleted here and from every channel that lists them",
            ));
        }
    }
    let variants = product
        .variants
        .iter()
        .filter(|v| !remove_variants.contains(&v.id))
        .map(|v| {
            let sku = Sku::parse(&v.sku)?;
            let current_price = Money::new(v.price_minor, currency);
            let Some(typed) = form.variants.iter().find(|f| f.id == v.id) else {
                return Ok(VariantWrite {
                    existing: Some(v.id),
                    sku,
                    barcode: v.barcode.as_deref().map(Barcode::parse).transpose()?,
                    option_values: v.option_values().into_iter().map(str::to_owned).collect(),
                    price: current_price,
                    weight_grams: v.weight_grams,
                    length_mm: v.length_mm,
                    width_mm: v.width_mm,
                    height_mm: v.height_mm,
                });
            };
            let sku = match typed.sku.as_deref() {
                Some(raw) => {
                    Sku::parse(raw).map_err(|e| DomainError::new("sku", format!("SKU of {}: {}", v.sku, e.message)))?
                }
                None => sku,
            };
            let price = Money::parse(&typed.price, currency)
                .map_err(|e| DomainError::new("price", format!("price of {}: {}", v.sku, e.message)))?;
            let barcode = match typed.barcode.trim() {
                "" => None,
                raw => Some(
                    Barcode::parse(raw)
                        .map_err(|e| DomainError::new("barcode", format!("barcode of {}: {}", v.sku, e.message)))?,
                ),
            };
            Ok(VariantWrite {
                existing: Some(v.id),
                sku,
                barcode,
                option_values: v.option_values().into_iter().map(str::to_owned).collect(),
                price,
                weight_grams: whole(&typed.weight_grams, "weight", &format!("weight of {}", v.sku))?,
                length_mm: v.length_mm,
                width_mm: v.width_mm,
                height_mm: v.height_mm,
            })
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    // Two variants cannot share a SKU, nor take one a removed variant still holds.
    let mut skus: Vec<&str> = variants.iter().map(|v| v.sku.as_str()).collect();
    skus.extend(
        product
            .variants
            .iter()
            .filter(|v| remove_variants.contains(&v.id))
            .map(|v| v.sku.as_str()),
    );
    skus.sort_unstable();
    if let Some(pair) = skus.windows(2).find(|w| w[0] == w[1]) {
        return Err(DomainError::new(
            "sku",
            format!("two variants cannot share the SKU {}", pair[0]),
        ));
    }
    let images = form.images.as_deref().map(images_to_write).transpose()?;
    let supplier_price = match form.supplier_price.trim() {
        "" => None,
        raw => Some(
            Money::parse(raw, currency)
                .map_err(|e| DomainError::new("supplier_price", format!("supplier price: {}", e.message)))?,
        ),
    };
    Ok(CatalogWrite {
        existing: Some(product.id),
        handle: product.handle.clone(),
        name: name.to_owned(),
        description: form.description.trim().to_owned(),
        brand: form.brand.trim().to_owned(),
        category: form.category.trim().to_owned(),
        option_names: product.option_names().into_iter().map(str::to_owned).collect(),
        active: form.active,
        auto_sync: product.auto_sync,
        supplier: form.supplier.trim().to_owned(),
        supplier_code: form.supplier_code.trim().to_owned(),
        supplier_price,
        reorder_point: whole(&form.reorder_point, "reorder_point", "reorder point")?,
        reorder_quantity: whole(&form.reorder_quantity, "reorder_quantity", "reorder quantity")?,
        tax_class: form.tax_class.trim().to_owned(),
        tags: form.tags.trim().to_owned(),
        images,
        remove_variants,
        variants,
    })
}

/// The image rows as the product's images: blank and removed rows left
/// out, the rest in their `position` order; only http(s) addresses.
fn images_to_write(rows: &[ImageEditForm]) -> Result<Vec<ProductImage>, DomainError> {
    let mut kept = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let url = row.url.trim();
        if row.remove || url.is_empty() {
            continue;
        }
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
        if !host.is_some_and(|h| h.contains('.') || h.starts_with("localhost") || h.starts_with("127.0.0.1"))
            || url.chars().any(char::is_whitespace)
            || url.len() > 2048
        {
            return Err(DomainError::new(
                "images",
                format!(
                    "image {}: {url:?} is not an address such as https://shop.example/tee.jpg",
                    i + 1
                ),
            ));
        }
        let alt = row.alt.trim();
        if alt.chars().count() > 512 {
            return Err(DomainError::new(
                "images",
                format!("image {}: alt text is at most 512 characters", i + 1),
            ));
        }
        let position = match row.position.trim() {
            "" => i64::MAX,
            raw => raw.parse::<i64>().map_err(|_| {
                DomainError::new(
                    "images",
                    format!("image {}: position {raw:?} is not a whole number", i + 1),
                )
            })?,
        };
        kept.push((
            position,
            i,
            ProductImage {
                url: url.to_owned(),
                alt: alt.to_owned(),
            },
        ));
    }
    kept.sort_by_key(|(position, i, _)| (*position, *i));
    Ok(kept.into_iter().map(|(_, _, image)| image).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(url: &str, position: &str) -> ImageEditForm {
        ImageEditForm {
            url: url.into(),
            alt: format!("alt of {url}"),
            position: position.into(),
            remove: false,
        }
    }

    #[test]
    fn image_rows_keep_http_addresses_in_their_positions_and_drop_blank_or_removed_rows() {
        let mut removed = row("https://cdn.example/c.jpg", "1");
        removed.remove = true;
        let images = images_to_write(&[
            row("https://cdn.example/a.jpg", "2"),
            row("", ""),
            removed,
            row("http://cdn.example/b.jpg", "1"),
            row("https://cdn.example/d.jpg", ""),
        ])
        .unwrap();
        let urls: Vec<&str> = images.iter().map(|i| i.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://cdn.example/b.jpg",
                "https://cdn.example/a.jpg",
                "https://cdn.example/d.jpg"
            ]
        );
        assert_eq!(images[0].alt, "alt of http://cdn.example/b.jpg");
    }

    #[test]
    fn an_image_address_that_is_not_http_is_refused_at_the_images_field() {
        for bad in [
            "ftp://cdn.example/a.jpg",
            "cdn.example/a.jpg",
            "https://",
            "https://cdn example/a.jpg",
        ] {
            let e = images_to_write(&[row(bad, "")]).unwrap_err();
            assert_eq!(e.field, "images", "{bad}");
            assert!(e.message.starts_with("image 1:"), "{}", e.message);
        }
        let e = images_to_write(&[row("https://cdn.example/a.jpg", "first")]).unwrap_err();
        assert!(e.message.contains("not a whole number"), "{}", e.message);
    }
}
