//! Outlets, products and variants.

use std::collections::HashMap;

use super::{Storage, like_pattern, on_pool, placeholders};
use crate::domain::{
    Barcode, ChannelId, Currency, DomainError, Money, OutletCode, OutletId, ProductId, Sku, Timestamp, VariantId,
};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutletRow {
    pub id: OutletId,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlet {
    pub id: OutletId,
    pub code: OutletCode,
    pub name: String,
}

impl TryFrom<OutletRow> for Outlet {
    type Error = DomainError;
    fn try_from(r: OutletRow) -> Result<Self, DomainError> {
        Ok(Outlet {
            id: r.id,
            code: OutletCode::parse(&r.code)?,
            name: r.name,
        })
    }
}

/// A product to create, with its variants. Fields follow seed 004's mapping.
#[derive(Debug, Clone, Default)]
pub struct NewProduct {
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    pub option_names: Vec<String>,
    pub active: bool,
    pub supplier: String,
    pub supplier_code: String,
    pub supplier_price: Option<Money>,
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub tax_class: String,
    pub tags: Vec<String>,
    pub image_urls: Vec<String>,
    pub variants: Vec<NewVariant>,
}

#[derive(Debug, Clone)]
pub struct NewVariant {
    pub sku: Sku,
    pub barcode: Option<Barcode>,
    pub option_values: Vec<String>,
    pub price: Money,
    pub weight_grams: Option<i64>,
    /// Length, width and height in millimetres.
    pub dimensions_mm: Option<[i64; 3]>,
}

impl NewProduct {
    fn validate(&self) -> Result<(), DomainError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 255 {
            return Err(DomainError::new("name", "a product name is 1 to 255 characters"));
        }
        if self.option_names.len() > 3 {
            return Err(DomainError::new("options", "a product has at most 3 options"));
        }
        if self.variants.is_empty() {
            return Err(DomainError::new(
                "variants",
                format!("{name:?} needs at least one variant"),
            ));
        }
        for v in &self.variants {
            if v.option_values.len() != self.option_names.len() {
                return Err(DomainError::new(
                    "options",
                    format!(
                        "variant {} has {} option values for {} options",
                        v.sku,
                        v.option_values.len(),
                        self.option_names.len()
                    ),
                ));
            }
            if v.price.minor < 0 {
                return Err(DomainError::new(
                    "price",
                    format!("variant {} has a negative price", v.sku),
                ));
            }
        }
        Ok(())
    }
}

/// Which products to list: a search over name, SKU and barcode, an exact
/// SKU, and a keyset cursor (the last product id of the previous page).
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub search: Option<String>,
    pub sku: Option<Sku>,
    pub auto_sync: Option<bool>,
    pub active: Option<bool>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub stock: Option<StockStatus>,
    pub channel: Option<ChannelFilter>,
    pub sort: ProductSort,
    pub after: Option<ProductId>,
    pub limit: u32,
}

/// The order of the products table; each keeps keyset pagination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProductSort {
    #[default]
    Name,
    /// Most recently updated first.
    Updated,
    /// Most stock (over all outlets) first.
    Stock,
}

impl ProductSort {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim() {
            "" | "name" => Ok(Self::Name),
            "updated" => Ok(Self::Updated),
            "stock" => Ok(Self::Stock),
            other => Err(DomainError::new(
                "sort",
                format!("{other:?} is not a sort; use name, updated or stock"),
            )),
        }
    }

    /// (the sort key of row `p`, the same key for the cursor product `$n`,
    /// whether the key descends)
    fn key(self, cursor: usize) -> (String, String, bool) {
        match self {
            Self::Name => (
                "p.name".into(),
                format!("(SELECT name FROM products WHERE id = ${cursor})"),
                false,
            ),
            Self::Updated => (
                "p.updated_at".into(),
                format!("(SELECT updated_at FROM products WHERE id = ${cursor})"),
                true,
            ),
            Self::Stock => (
                PRODUCT_TOTAL.into(),
                format!("(SELECT on_hand_total FROM products WHERE id = ${cursor})"),
                true,
            ),
        }
    }
}

/// Stock filters of the products table, on the total over all outlets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockStatus {
    /// More than the reorder point (5 when none is set).
    InStock,
    /// Above 0 and at most the reorder point.
    Low,
    /// Nothing on hand.
    Out,
}

impl StockStatus {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim() {
            "in" | "in_stock" => Ok(Self::InStock),
            "low" => Ok(Self::Low),
            "out" | "out_of_stock" => Ok(Self::Out),
            other => Err(DomainError::new(
                "stock",
                format!("{other:?} is not a stock filter; use in, low or out"),
            )),
        }
    }
}

/// The products table's channel filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelFilter {
    /// Listed in the channel (created or linked there).
    Listed(ChannelId),
    /// Not in the channel yet.
    NotListed(ChannelId),
    /// "Sell online" turned off for the channel.
    NotSold(ChannelId),
}

impl ChannelFilter {
    /// `listed:<id>`, `not_listed:<id>` or `not_sold:<id>`; empty means any.
    pub fn parse(raw: &str) -> Result<Option<Self>, DomainError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let parsed = raw.split_once(':').and_then(|(what, id)| {
            let id = ChannelId::new(id.parse().ok()?);
            match what {
                "listed" => Some(Self::Listed(id)),
                "not_listed" => Some(Self::NotListed(id)),
                "not_sold" => Some(Self::NotSold(id)),
                _ => None,
            }
        });
        parsed.map(Some).ok_or_else(|| {
            DomainError::new(
                "channel",
                format!("{raw:?} is not a channel filter; use listed:<id>, not_listed:<id> or not_sold:<id>"),
            )
        })
    }

    /// As SQL over the product `p`; the channel id is a number, written inline.
    fn condition(self) -> String {
        let listed = |c: ChannelId| {
            format!(
                "EXISTS (SELECT 1 FROM channel_listings l JOIN variants lv ON lv.id = l.variant_id
                 WHERE lv.product_id = p.id AND l.channel_id = {} AND l.external_inventory_item_id IS NOT NULL)",
                c.get()
            )
        };
        match self {
            Self::Listed(c) => listed(c),
            Self::NotListed(c) => format!("NOT {}", listed(c)),
            Self::NotSold(c) => format!(
                "EXISTS (SELECT 1 FROM channel_products cp WHERE cp.product_id = p.id AND cp.channel_id = {}
                 AND cp.sell_online = FALSE)",
                c.get()
            ),
        }
    }
}

/// The total on hand of product `p` over all outlets, as SQL: a column that
/// triggers keep in step with stock_levels (migration 0004).
const PRODUCT_TOTAL: &str = "p.on_hand_total";

impl ProductFilter {
    /// The products table's filter from its URL values; empty means any.
    pub fn from_params(
        search: Option<&str>,
        auto_sync: Option<&str>,
        status: Option<&str>,
        category: Option<&str>,
        brand: Option<&str>,
        stock: Option<&str>,
    ) -> Result<Self, DomainError> {
        let set = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let choice = |field: &'static str, v: Option<&str>, yes: &str, no: &str| match set(v).as_deref() {
            None => Ok(None),
            Some(x) if x == yes => Ok(Some(true)),
            Some(x) if x == no => Ok(Some(false)),
            Some(x) => Err(DomainError::new(
                field,
                format!("{x:?} is not a choice; use {yes} or {no}"),
            )),
        };
        Ok(ProductFilter {
            search: set(search),
            auto_sync: choice("auto_sync", auto_sync, "on", "off")?,
            active: choice("status", status, "active", "inactive")?,
            category: set(category),
            brand: set(brand),
            stock: set(stock).map(|s| StockStatus::parse(&s)).transpose()?,
            ..ProductFilter::default()
        })
    }

    /// The WHERE conditions (without the keyset cursor) and the text values
    /// they bind as $1, $2, …, in order.
    fn conditions(&self) -> (Vec<String>, Vec<String>) {
        let mut conditions = vec!["p.deleted_at IS NULL".to_owned()];
        let mut args: Vec<String> = Vec::new();
        if let Some(term) = self.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            args.push(like_pattern(term));
            args.push(term.to_owned());
            let (like, exact) = (args.len() - 1, args.len());
            conditions.push(format!(
                "(LOWER(p.name) LIKE ${like} ESCAPE '\\' OR EXISTS (SELECT 1 FROM variants sv WHERE sv.product_id = p.id
                  AND (LOWER(sv.sku) LIKE ${like} ESCAPE '\\' OR sv.barcode = ${exact})))"
            ));
        }
        if let Some(sku) = &self.sku {
            args.push(sku.as_str().to_owned());
            let n = args.len();
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM variants sv WHERE sv.product_id = p.id AND sv.sku = ${n})"
            ));
        }
        // Booleans and the stock status are closed sets: written as SQL, not bound.
        if let Some(on) = self.auto_sync {
            conditions.push(format!("p.auto_sync = {}", if on { "TRUE" } else { "FALSE" }));
        }
        if let Some(on) = self.active {
            conditions.push(format!("p.active = {}", if on { "TRUE" } else { "FALSE" }));
        }
        for (column, value) in [("p.category", &self.category), ("p.brand", &self.brand)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                args.push(v.to_owned());
                conditions.push(format!("{column} = ${}", args.len()));
            }
        }
        // A column generated from the stock total and the reorder point
        // (migration 0004), so the planner can count and index it.
        match self.stock {
            Some(StockStatus::Out) => conditions.push("p.stock_status = 'out'".to_owned()),
            Some(StockStatus::Low) => conditions.push("p.stock_status = 'low'".to_owned()),
            Some(StockStatus::InStock) => conditions.push("p.stock_status = 'in'".to_owned()),
            None => {}
        }
        if let Some(channel) = self.channel {
            conditions.push(channel.condition());
        }
        (conditions, args)
    }
}

/// What a bulk Auto Sync change did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AutoSyncChange {
    /// Products whose setting changed.
    pub changed: u64,
    /// Quantity pushes queued for channels.
    pub queued: u64,
}

#[derive(Debug, Clone)]
pub struct ProductPage {
    pub items: Vec<ProductDetail>,
    /// The cursor for the next page, if there is one.
    pub next_after: Option<ProductId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSummary {
    pub id: ProductId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductDetail {
    pub id: ProductId,
    pub name: String,
    pub handle: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    pub option1_name: Option<String>,
    pub option2_name: Option<String>,
    pub option3_name: Option<String>,
    pub active: bool,
    pub auto_sync: bool,
    pub supplier: String,
    pub supplier_code: String,
    pub supplier_price_minor: Option<i64>,
    pub supplier_price_currency: Option<String>,
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub tax_class: String,
    pub tags: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[sqlx(skip)]
    pub variants: Vec<VariantDetail>,
    #[sqlx(skip)]
    pub images: Vec<ProductImage>,
}

/// A product image: its address and alt text, in the product's order.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductImage {
    pub url: String,
    pub alt: String,
}

impl ProductDetail {
    pub fn image_urls(&self) -> Vec<String> {
        self.images.iter().map(|i| i.url.clone()).collect()
    }

    pub fn option_names(&self) -> Vec<&str> {
        [&self.option1_name, &self.option2_name, &self.option3_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    pub fn total_on_hand(&self) -> i64 {
        self.variants.iter().map(VariantDetail::total_on_hand).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VariantDetail {
    pub id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub barcode: Option<String>,
    pub option1_value: Option<String>,
    pub option2_value: Option<String>,
    pub option3_value: Option<String>,
    pub price_minor: i64,
    pub price_currency: String,
    pub weight_grams: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    #[sqlx(skip)]
    pub stock: Vec<VariantStock>,
}

impl VariantDetail {
    pub fn option_values(&self) -> Vec<&str> {
        [&self.option1_value, &self.option2_value, &self.option3_value]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }

    pub fn total_on_hand(&self) -> i64 {
        self.stock.iter().map(|s| s.on_hand).sum()
    }

    pub fn price(&self) -> Option<Money> {
        Currency::parse(&self.price_currency)
            .ok()
            .map(|c| Money::new(self.price_minor, c))
    }
}

/// One variant's stock at one outlet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VariantStock {
    pub variant_id: VariantId,
    pub outlet_id: OutletId,
    pub outlet_code: String,
    pub outlet_name: String,
    pub on_hand: i64,
    pub committed: i64,
}

pub(super) const PRODUCT_COLUMNS: &str = "p.id, p.name, p.handle, p.description, p.brand, p.category, p.option1_name, p.option2_name, \
     p.option3_name, p.active, p.auto_sync, p.supplier, p.supplier_code, p.supplier_price_minor, \
     p.supplier_price_currency, p.reorder_point, p.reorder_quantity, p.tax_class, p.tags, p.created_at, p.updated_at";

const VARIANT_COLUMNS: &str = "v.id, v.product_id, v.sku, v.barcode, v.option1_value, v.option2_value, v.option3_value, \
     v.price_minor, v.price_currency, v.weight_grams, v.length_mm, v.width_mm, v.height_mm";

/// Turns a product name into a URL handle: lowercase words joined by '-'.
pub(crate) fn handle_for(name: &str) -> String {
    let mut handle = String::new();
    for word in name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !handle.is_empty() {
            handle.push('-');
        }
        handle.extend(word.chars().flat_map(char::to_lowercase));
    }
    if handle.is_empty() { "product".into() } else { handle }
}

/// Ids as one text parameter, `[1,2,3]` (a JSON array) or `{1,2,3}` (a
/// PostgreSQL array): any number of ids in one bind.
fn id_list(ids: &[ProductId], open: char, close: char) -> String {
    let mut out = String::with_capacity(ids.len() * 7 + 2);
    out.push(open);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.get().to_string());
    }
    out.push(close);
    out
}

fn option_at(values: &[String], i: usize) -> Option<&str> {
    values.get(i).map(String::as_str)
}

impl Storage {
    pub async fn create_outlet(&self, code: &OutletCode, name: &str) -> Result<Outlet> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DomainError::new("name", "an outlet needs a name").into());
        }
        let id = on_pool!(self, pool => {
            sqlx::query_scalar::<_, OutletId>("INSERT INTO outlets (code, name, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(code.as_str())
                .bind(name)
                .bind(Timestamp::now())
                .fetch_one(pool)
                .await
        })
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(format!("an outlet with the code {code} already exists"))
            }
            other => other.into(),
        })?;
        Ok(Outlet {
            id,
            code: code.clone(),
            name: name.to_owned(),
        })
    }

    pub async fn list_outlets(&self) -> Result<Vec<Outlet>> {
        let rows: Vec<OutletRow> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id, code, name FROM outlets ORDER BY name, id").fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(Outlet::try_from).collect::<Result<_, _>>()?)
    }

    /// Creates products with their variants and images in one transaction:
    /// all of them or, on any error, none.
    pub async fn create_products(&self, products: &[NewProduct]) -> Result<Vec<ProductId>> {
        for p in products {
            p.validate()?;
        }
        let now = Timestamp::now();
        let result: Result<Vec<ProductId>, sqlx::Error> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                let mut ids = Vec::with_capacity(products.len());
                for p in products {
                    let base = handle_for(&p.name);
                    let taken: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM products WHERE handle = $1 OR handle LIKE $2",
                    )
                    .bind(&base)
                    .bind(format!("{base}-%"))
                    .fetch_one(&mut *tx)
                    .await?;
                    let handle = if taken == 0 { base } else { format!("{base}-{}", taken + 1) };
                    let id: ProductId = sqlx::query_scalar(
                        "INSERT INTO products (name, handle, description, brand, category, option1_name, option2_name,
                             option3_name, active, auto_sync, supplier, supplier_code, supplier_price_minor,
                             supplier_price_currency, reorder_point, reorder_quantity, tax_class, tags, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
                         RETURNING id",
                    )
                    .bind(p.name.trim())
                    .bind(&handle)
                    .bind(&p.description)
                    .bind(p.brand.trim())
                    .bind(p.category.trim())
                    .bind(option_at(&p.option_names, 0))
                    .bind(option_at(&p.option_names, 1))
                    .bind(option_at(&p.option_names, 2))
                    .bind(p.active)
                    .bind(false)
                    .bind(&p.supplier)
                    .bind(&p.supplier_code)
                    .bind(p.supplier_price.map(|m| m.minor))
                    .bind(p.supplier_price.map(|m| m.currency.as_str().to_owned()))
                    .bind(p.reorder_point)
                    .bind(p.reorder_quantity)
                    .bind(&p.tax_class)
                    .bind(p.tags.join(", "))
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    for (position, v) in p.variants.iter().enumerate() {
                        let dims = v.dimensions_mm;
                        sqlx::query(
                            "INSERT INTO variants (product_id, sku, barcode, option1_value, option2_value, option3_value,
                                 price_minor, price_currency, weight_grams, length_mm, width_mm, height_mm, position,
                                 created_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
                        )
                        .bind(id)
                        .bind(v.sku.as_str())
                        .bind(v.barcode.as_ref().map(Barcode::as_str))
                        .bind(option_at(&v.option_values, 0))
                        .bind(option_at(&v.option_values, 1))
                        .bind(option_at(&v.option_values, 2))
                        .bind(v.price.minor)
                        .bind(v.price.currency.as_str())
                        .bind(v.weight_grams)
                        .bind(dims.map(|d| d[0]))
                        .bind(dims.map(|d| d[1]))
                        .bind(dims.map(|d| d[2]))
                        .bind(position as i64)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    for (position, url) in p.image_urls.iter().enumerate() {
                        sqlx::query("INSERT INTO product_images (product_id, url, position) VALUES ($1, $2, $3)")
                            .bind(id)
                            .bind(url)
                            .bind(position as i64)
                            .execute(&mut *tx)
                            .await?;
                    }
                    ids.push(id);
                }
                tx.commit().await?;
                Ok(ids)
            }
            .await
        });
        result.map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict("a SKU or handle in these products is already used by another product".into())
            }
            other => other.into(),
        })
    }

    /// One page of products, ordered by name, with variants and stock.
    pub async fn list_products(&self, filter: &ProductFilter) -> Result<ProductPage> {
        let limit = filter.limit.clamp(1, 500) as i64;
        let (mut conditions, text_args) = filter.conditions();
        let mut next_idx = text_args.len() + 1;
        let (key, cursor_key, descending) = filter.sort.key(next_idx);
        let (beyond, order) = if descending { ("<", "DESC") } else { (">", "ASC") };
        if filter.after.is_some() {
            let a = next_idx;
            next_idx += 1;
            // Ties on the key go by id, ascending, so every product is listed once.
            // Written as a range on the key, so the key's index starts at the cursor.
            conditions.push(format!(
                "{key} {beyond}= {cursor_key} AND ({key} {beyond} {cursor_key} OR p.id > ${a})"
            ));
        }
        let limit_idx = next_idx;
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p WHERE {} ORDER BY {key} {order}, p.id LIMIT ${limit_idx}",
            conditions.join(" AND ")
        );
        let mut rows: Vec<ProductDetail> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql);
            for a in &text_args {
                q = q.bind(a);
            }
            if let Some(after) = filter.after {
                q = q.bind(after);
            }
            q.bind(limit + 1).fetch_all(pool).await
        })?;
        let next_after = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|p| p.id)
        } else {
            None
        };
        self.attach_variants(&mut rows).await?;
        Ok(ProductPage {
            items: rows,
            next_after,
        })
    }

    pub async fn get_product(&self, id: ProductId) -> Result<Option<ProductDetail>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.id = $1 AND p.deleted_at IS NULL");
        let row: Option<ProductDetail> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
        let Some(product) = row else { return Ok(None) };
        let mut rows = vec![product];
        self.attach_variants(&mut rows).await?;
        Ok(rows.pop())
    }

    /// Fills in variants, their stock per outlet and images for `products`.
    pub(super) async fn attach_variants(&self, products: &mut [ProductDetail]) -> Result<()> {
        if products.is_empty() {
            return Ok(());
        }
        let ids: Vec<ProductId> = products.iter().map(|p| p.id).collect();
        let list = placeholders(1, ids.len());
        let variant_sql = format!(
            "SELECT {VARIANT_COLUMNS} FROM variants v WHERE v.product_id IN ({list}) ORDER BY v.product_id, v.position, v.id"
        );
        let stock_sql = format!(
            "SELECT s.variant_id, s.outlet_id, o.code AS outlet_code, o.name AS outlet_name, s.on_hand, s.committed
             FROM stock_levels s JOIN outlets o ON o.id = s.outlet_id JOIN variants v ON v.id = s.variant_id
             WHERE v.product_id IN ({list}) ORDER BY o.name, o.id"
        );
        let image_sql = format!(
            "SELECT product_id, url, alt FROM product_images WHERE product_id IN ({list}) ORDER BY position, id"
        );
        type ImageRow = (ProductId, String, String);
        let (variants, stock, images): (Vec<VariantDetail>, Vec<VariantStock>, Vec<ImageRow>) = on_pool!(self, pool => {
            let mut vq = sqlx::query_as(&variant_sql);
            let mut sq = sqlx::query_as(&stock_sql);
            let mut iq = sqlx::query_as(&image_sql);
            for id in &ids {
                vq = vq.bind(*id);
                sq = sq.bind(*id);
                iq = iq.bind(*id);
            }
            (vq.fetch_all(pool).await?, sq.fetch_all(pool).await?, iq.fetch_all(pool).await?)
        });
        let mut stock_by_variant: HashMap<VariantId, Vec<VariantStock>> = HashMap::new();
        for s in stock {
            stock_by_variant.entry(s.variant_id).or_default().push(s);
        }
        let mut by_product: HashMap<ProductId, Vec<VariantDetail>> = HashMap::new();
        for mut v in variants {
            v.stock = stock_by_variant.remove(&v.id).unwrap_or_default();
            by_product.entry(v.product_id).or_default().push(v);
        }
        let mut images_by_product: HashMap<ProductId, Vec<ProductImage>> = HashMap::new();
        for (pid, url, alt) in images {
            images_by_product
                .entry(pid)
                .or_default()
                .push(ProductImage { url, alt });
        }
        for p in products.iter_mut() {
            p.variants = by_product.remove(&p.id).unwrap_or_default();
            p.images = images_by_product.remove(&p.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Turns Auto Sync on or off for these products. Turning it on queues a
    /// push of each variant to every channel the product sells on, in the
    /// same transaction: the channels' figures must now be overwritten.
    /// Set-based, in one transaction, however many products there are.
    pub async fn set_auto_sync(&self, ids: &[ProductId], on: bool) -> Result<AutoSyncChange> {
        if ids.is_empty() {
            return Ok(AutoSyncChange::default());
        }
        let now = Timestamp::now();
        // The pushes each changed product needs: every variant, to every channel it sells on.
        let pushes = |changed: &str| {
            format!(
                "SELECT c.id AS channel_id, v.id AS variant_id
                 FROM {changed} ch JOIN variants v ON v.product_id = ch.id CROSS JOIN channels c
                 LEFT JOIN channel_products cp ON cp.channel_id = c.id AND cp.product_id = ch.id
                 WHERE $1 = TRUE AND (cp.sell_online IS NULL OR cp.sell_online = TRUE)
                 ORDER BY c.id, v.id"
            )
        };
        let (changed, queued) = match &self.pool {
            // One statement: the UPDATE hands the changed ids straight to the enqueue.
            // (`IN (SELECT unnest(…))`, a join: `= ANY(…)` of a parameter array
            // searches the whole array for every product.)
            super::Pool::Postgres(pool) => {
                let sql = format!(
                    "WITH changed AS (
                         UPDATE products SET auto_sync = $1, updated_at = $2
                         WHERE auto_sync <> $1 AND deleted_at IS NULL
                           AND id IN (SELECT unnest(CAST($3 AS BIGINT[])))
                         RETURNING id
                     ), queued AS (
                         {} RETURNING 1
                     )
                     SELECT (SELECT COUNT(*) FROM changed), (SELECT COUNT(*) FROM queued)",
                    super::outbox::upsert_sql(&pushes("changed"), "$2")
                );
                // Rows are locked in (channel, variant) order, as the workers
                // finish them; a deadlock with another process is tried again.
                let mut tries = 0;
                let (changed, queued): (i64, i64) = loop {
                    let answer = sqlx::query_as(&sql)
                        .bind(on)
                        .bind(now)
                        .bind(id_list(ids, '{', '}'))
                        .fetch_one(pool)
                        .await;
                    match answer {
                        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("40P01") && tries < 3 => {
                            tries += 1;
                            tracing::info!(tries, "deadlock turning Auto Sync on; trying again");
                        }
                        other => break other?,
                    }
                };
                (changed as u64, queued as u64)
            }
            // SQLite has no UPDATE in WITH: two statements in one transaction,
            // the ids as one JSON array parameter however many there are.
            super::Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let changed: Vec<ProductId> = sqlx::query_scalar(
                    "UPDATE products SET auto_sync = $1, updated_at = $2
                     WHERE auto_sync <> $1 AND deleted_at IS NULL AND id IN (SELECT value FROM json_each($3))
                     RETURNING id",
                )
                .bind(on)
                .bind(now)
                .bind(id_list(ids, '[', ']'))
                .fetch_all(&mut *tx)
                .await?;
                let mut queued = 0;
                if on && !changed.is_empty() {
                    let enqueue = super::outbox::upsert_sql(&pushes("(SELECT value AS id FROM json_each($3))"), "$2");
                    queued = sqlx::query(&enqueue)
                        .bind(on)
                        .bind(now)
                        .bind(id_list(&changed, '[', ']'))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                (changed.len() as u64, queued)
            }
        };
        Ok(AutoSyncChange { changed, queued })
    }

    /// Whether the catalog has no products and no outlets yet.
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM products) + (SELECT COUNT(*) FROM outlets)").fetch_one(pool).await
        })?;
        Ok(n == 0)
    }

    /// Variant ids by SKU, for resolving API and file input.
    pub async fn variant_ids_by_sku(&self, skus: &[Sku]) -> Result<HashMap<String, VariantId>> {
        let mut out = HashMap::new();
        for chunk in skus.chunks(500) {
            let sql = format!(
                "SELECT v.sku, v.id FROM variants v JOIN products p ON p.id = v.product_id
                 WHERE p.deleted_at IS NULL AND v.sku IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(String, VariantId)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for s in chunk {
                    q = q.bind(s.as_str());
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Which of `skus` belong to a deleted product (they take no stock).
    pub async fn deleted_product_skus(&self, skus: &[Sku]) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in skus.chunks(500) {
            let sql = format!(
                "SELECT v.sku FROM variants v JOIN products p ON p.id = v.product_id
                 WHERE p.deleted_at IS NOT NULL AND v.sku IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<String> = on_pool!(self, pool => {
                let mut q = sqlx::query_scalar(&sql);
                for s in chunk {
                    q = q.bind(s.as_str());
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }
}

impl Storage {
    /// How many products match `filter` (its cursor and limit aside).
    pub async fn count_products(&self, filter: &ProductFilter) -> Result<i64> {
        let (conditions, args) = filter.conditions();
        let sql = format!("SELECT COUNT(*) FROM products p WHERE {}", conditions.join(" AND "));
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query_scalar(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_one(pool).await
        })?)
    }

    /// Every product matching `filter` (for "all N matching" bulk actions).
    pub async fn product_ids_matching(&self, filter: &ProductFilter) -> Result<Vec<ProductId>> {
        let (conditions, args) = filter.conditions();
        let sql = format!(
            "SELECT p.id FROM products p WHERE {} ORDER BY p.id",
            conditions.join(" AND ")
        );
        Ok(on_pool!(self, pool => {
            let mut q = sqlx::query_scalar(&sql);
            for a in &args {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })?)
    }

    /// Those of `ids` that name no product (never made, or deleted), in the order given.
    pub async fn unknown_products(&self, ids: &[ProductId]) -> Result<Vec<ProductId>> {
        let mut known = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id FROM products WHERE deleted_at IS NULL AND id IN ({})",
                placeholders(1, chunk.len())
            );
            let found: Vec<ProductId> = on_pool!(self, pool => {
                let mut q = sqlx::query_scalar(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await
            })?;
            known.extend(found);
        }
        Ok(ids.iter().copied().filter(|id| !known.contains(id)).collect())
    }

    /// Activates or deactivates products; returns how many changed and the
    /// product pushes queued to the channels where they are listed.
    pub async fn set_active(&self, ids: &[ProductId], active: bool) -> Result<(u64, u64)> {
        let mut changed = 0;
        let mut queued = 0u64;
        let now = Timestamp::now();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE products SET active = $1, updated_at = $2 WHERE active <> $1 AND deleted_at IS NULL AND id IN ({})
                 RETURNING id",
                placeholders(3, chunk.len())
            );
            // The channels where they are listed enable or disable them, queued with the change.
            on_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                let mut q = sqlx::query_scalar(&sql).bind(active).bind(now);
                for id in chunk {
                    q = q.bind(*id);
                }
                let switched: Vec<ProductId> = q.fetch_all(&mut *tx).await?;
                changed += switched.len() as u64;
                super::catalog_outbox::enqueue_catalog!(tx, switched, None::<ChannelId>, now, queued);
                tx.commit().await?;
            });
        }
        Ok((changed, queued))
    }

    /// Deletes a product: it leaves every list and stops taking stock
    /// movements, its history stays, and every channel where it is listed
    /// deletes it too (queued in the same transaction). False if there is
    /// no such product, or it was deleted already.
    pub async fn delete_product(&self, id: ProductId) -> Result<bool> {
        let now = Timestamp::now();
        let mut queued = 0u64;
        let deleted = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query(
                "UPDATE products SET deleted_at = $2, auto_sync = FALSE, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if deleted > 0 {
                // Its quantities no longer go anywhere; the channels delete the product instead.
                sqlx::query(
                    "DELETE FROM outbox WHERE state <> 'in_flight' AND variant_id IN (SELECT id FROM variants WHERE product_id = $1)",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                super::catalog_outbox::enqueue_catalog!(tx, [id], None::<ChannelId>, now, queued);
            }
            tx.commit().await?;
            deleted
        });
        tracing::debug!(product = %id, channels = queued, "product deleted");
        Ok(deleted > 0)
    }

    /// The categories and brands in use, for the table's filters.
    pub async fn product_facets(&self) -> Result<(Vec<String>, Vec<String>)> {
        // One index probe per distinct value (a loose index scan), not a pass
        // over every product: PostgreSQL has no skip scan for DISTINCT.
        let distinct = |column: &str| {
            format!(
                "WITH RECURSIVE v (value) AS (
                     SELECT (SELECT {column} FROM products WHERE deleted_at IS NULL AND {column} > '' ORDER BY {column} LIMIT 1)
                     UNION ALL
                     SELECT (SELECT {column} FROM products WHERE deleted_at IS NULL AND {column} > v.value ORDER BY {column} LIMIT 1)
                     FROM v WHERE v.value IS NOT NULL
                 )
                 SELECT value FROM v WHERE value IS NOT NULL ORDER BY value"
            )
        };
        let (categories, brands) = (distinct("category"), distinct("brand"));
        let (categories, brands) = on_pool!(self, pool => {
            (
                sqlx::query_scalar(&categories).fetch_all(pool).await?,
                sqlx::query_scalar(&brands).fetch_all(pool).await?,
            )
        });
        Ok((categories, brands))
    }

    /// Every live product's id (for "all products" bulk actions).
    pub async fn all_product_ids(&self) -> Result<Vec<ProductId>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT id FROM products WHERE deleted_at IS NULL ORDER BY id").fetch_all(pool).await
        })?)
    }

    /// The products these SKUs belong to; unknown SKUs are returned apart.
    pub async fn product_ids_for_skus(&self, skus: &[Sku]) -> Result<(Vec<ProductId>, Vec<Sku>)> {
        let variants = self.variant_ids_by_sku(skus).await?;
        let unknown: Vec<Sku> = skus
            .iter()
            .filter(|s| !variants.contains_key(s.as_str()))
            .cloned()
            .collect();
        let mut products = Vec::new();
        for chunk in variants.values().copied().collect::<Vec<_>>().chunks(500) {
            let sql = format!(
                "SELECT DISTINCT product_id FROM variants WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let ids: Vec<ProductId> = on_pool!(self, pool => {
                let mut q = sqlx::query_scalar(&sql);
                for v in chunk {
                    q = q.bind(*v);
                }
                q.fetch_all(pool).await
            })?;
            products.extend(ids);
        }
        products.sort_unstable();
        products.dedup();
        Ok((products, unknown))
    }
}

impl Storage {
    /// The name of a product that was deleted, or None if `id` is live or
    /// was never a product.
    pub async fn deleted_product_name(&self, id: ProductId) -> Result<Option<String>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT name FROM products WHERE id = $1 AND deleted_at IS NOT NULL")
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_lowercase_words_joined_by_dashes() {
        assert_eq!(handle_for("Merino Crew — Tee (Black)"), "merino-crew-tee-black");
        assert_eq!(handle_for("!!!"), "product");
    }

    #[test]
    fn placeholders_number_from_the_start() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }
}
