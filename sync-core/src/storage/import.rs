//! Storage for imports: uploads kept between preview and apply, the stock
//! and catalog figures a preview compares against, and the catalog write
//! that creates and updates products from a file in one transaction.

use std::collections::HashMap;

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::catalog::{PRODUCT_COLUMNS, handle_for};
use super::{IdempotencyKey, ProductDetail, ProductImage, Storage, on_pool, placeholders};
use crate::domain::{
    Barcode, ChannelId, Money, MovementReason, OutletId, ProductId, Sku, Timestamp, UserId, VariantId,
};
use crate::{Error, Result};

/// Rows per statement for IN lists: under every engine's parameter limit.
const IN_LIST: usize = 500;

/// A file to keep until it is applied.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// `stock` or `catalog`.
    pub kind: String,
    /// `count` or `delta`, for a stock file's `quantity` column.
    pub mode: Option<String>,
    /// The outlet of rows that name none.
    pub outlet_code: Option<String>,
    pub file_name: String,
    pub content: Vec<u8>,
    pub user: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Upload {
    pub token: String,
    pub kind: String,
    pub mode: Option<String>,
    pub outlet_code: Option<String>,
    pub file_name: String,
    pub content: Vec<u8>,
    /// SHA-256 of the content, hex: the Apply form carries it back.
    pub content_hash: String,
    pub created_at: Timestamp,
}

/// The SHA-256 of `bytes`, as hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The URL handle a product name gets when the file gives none.
pub fn product_handle(name: &str) -> String {
    handle_for(name)
}

impl Storage {
    /// Keeps an uploaded file under a new random token; uploads older than
    /// a day are dropped on the way.
    pub async fn save_upload(&self, upload: &NewUpload) -> Result<Upload> {
        let mut raw = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let hash = content_hash(&upload.content);
        let now = Timestamp::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM import_uploads WHERE created_at < $1")
                .bind(Timestamp::hours_ago(24))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO import_uploads (token, kind, mode, outlet_code, file_name, content, content_hash, user_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&token)
            .bind(&upload.kind)
            .bind(&upload.mode)
            .bind(&upload.outlet_code)
            .bind(&upload.file_name)
            .bind(&upload.content)
            .bind(&hash)
            .bind(upload.user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(Upload {
            token,
            kind: upload.kind.clone(),
            mode: upload.mode.clone(),
            outlet_code: upload.outlet_code.clone(),
            file_name: upload.file_name.clone(),
            content: upload.content.clone(),
            content_hash: hash,
            created_at: now,
        })
    }

    pub async fn upload(&self, token: &str) -> Result<Option<Upload>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT token, kind, mode, outlet_code, file_name, content, content_hash, created_at
                 FROM import_uploads WHERE token = $1",
            )
            .bind(token)
            .fetch_optional(pool)
            .await
        })?)
    }

    pub async fn delete_upload(&self, token: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM import_uploads WHERE token = $1").bind(token).execute(pool).await.map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// On hand of these variants at every outlet where they have stock.
    pub async fn on_hand_of(&self, variants: &[VariantId]) -> Result<HashMap<(VariantId, OutletId), i64>> {
        let mut out = HashMap::new();
        for chunk in variants.chunks(IN_LIST) {
            let sql = format!(
                "SELECT variant_id, outlet_id, on_hand FROM stock_levels WHERE variant_id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(VariantId, OutletId, i64)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for v in chunk {
                    q = q.bind(*v);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows.into_iter().map(|(v, o, n)| ((v, o), n)));
        }
        Ok(out)
    }

    /// Ledger rows, all or of one reason: imports use it to show what they wrote.
    pub async fn count_movements(&self, reason: Option<MovementReason>) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM stock_movements WHERE ($1 IS NULL OR reason = $1)")
                .bind(reason.map(MovementReason::as_str))
                .fetch_one(pool)
                .await
        })?)
    }

    /// Every stock level: (SKU, outlet code, on hand), by SKU then outlet.
    pub async fn stock_table(&self) -> Result<Vec<(String, String, i64)>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT v.sku, o.code, s.on_hand FROM stock_levels s
                 JOIN variants v ON v.id = s.variant_id JOIN products p ON p.id = v.product_id
                 JOIN outlets o ON o.id = s.outlet_id
                 WHERE p.deleted_at IS NULL ORDER BY v.sku, o.code",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// The variant and product of each known SKU.
    pub async fn variant_owners(&self, skus: &[Sku]) -> Result<HashMap<String, (VariantId, ProductId)>> {
        let mut out = HashMap::new();
        for chunk in skus.chunks(IN_LIST) {
            let sql = format!(
                "SELECT sku, id, product_id FROM variants WHERE sku IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(String, VariantId, ProductId)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for s in chunk {
                    q = q.bind(s.as_str());
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows.into_iter().map(|(s, v, p)| (s, (v, p))));
        }
        Ok(out)
    }

    /// Product ids by handle, for the handles that exist (deleted products included:
    /// their handles stay taken).
    pub async fn product_ids_by_handle(&self, handles: &[String]) -> Result<HashMap<String, ProductId>> {
        let mut out = HashMap::new();
        for chunk in handles.chunks(IN_LIST) {
            let sql = format!(
                "SELECT handle, id FROM products WHERE handle IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(String, ProductId)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for h in chunk {
                    q = q.bind(h);
                }
                q.fetch_all(pool).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Handles already taken among `base`, `base-2`, `base-3`, … (to pick a free one).
    pub async fn handles_like(&self, base: &str) -> Result<Vec<String>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT handle FROM products WHERE handle = $1 OR handle LIKE $2")
                .bind(base)
                .bind(format!("{base}-%"))
                .fetch_all(pool)
                .await
        })?)
    }

    /// These products with their variants, stock and images, in id order.
    pub async fn products_by_ids(&self, ids: &[ProductId]) -> Result<Vec<ProductDetail>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST) {
            let sql = format!(
                "SELECT {PRODUCT_COLUMNS} FROM products p WHERE p.deleted_at IS NULL AND p.id IN ({}) ORDER BY p.id",
                placeholders(1, chunk.len())
            );
            let mut rows: Vec<ProductDetail> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await
            })?;
            self.attach_variants(&mut rows).await?;
            out.extend(rows);
        }
        Ok(out)
    }
}

/// A product as a catalog file leaves it: created when `existing` is none,
/// otherwise every field overwritten.
#[derive(Debug, Clone)]
pub struct CatalogWrite {
    pub existing: Option<ProductId>,
    pub handle: String,
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category: String,
    pub option_names: Vec<String>,
    pub active: bool,
    pub auto_sync: bool,
    pub supplier: String,
    pub supplier_code: String,
    pub supplier_price: Option<Money>,
    pub reorder_point: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub tax_class: String,
    pub tags: String,
    /// Replaces the product's images when set.
    pub images: Option<Vec<ProductImage>>,
    /// The variants written; others of the product are left alone unless
    /// listed in `remove_variants`.
    pub variants: Vec<VariantWrite>,
    /// Variants of this product to delete (removed from the product form or
    /// the API); the channels remove them too.
    pub remove_variants: Vec<VariantId>,
}

#[derive(Debug, Clone)]
pub struct VariantWrite {
    /// An existing variant keeps its id (and its channels' variants) when
    /// its SKU changes.
    pub existing: Option<VariantId>,
    pub sku: Sku,
    pub barcode: Option<Barcode>,
    pub option_values: Vec<String>,
    pub price: Money,
    pub weight_grams: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
}

/// What a keyed catalog write did: the products it wrote, in order, or
/// the first write's when `replayed`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogWrittenOnce {
    pub written: CatalogWritten,
    pub products: Vec<ProductId>,
    pub replayed: bool,
}

/// What a catalog write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogWritten {
    pub products_created: usize,
    pub products_updated: usize,
    pub variants_created: usize,
    pub variants_updated: usize,
    pub variants_removed: usize,
    /// Quantity pushes queued because Auto Sync was turned on.
    pub queued: u64,
    /// Product pushes queued to the channels where updated products are listed.
    pub catalog_queued: u64,
}

impl Storage {
    /// Creates and updates these products, their variants and images in one
    /// transaction: all of them or, on any error, none. Turning Auto Sync on
    /// queues the products' quantities for their channels in the same transaction.
    pub async fn write_catalog(&self, products: &[CatalogWrite]) -> Result<CatalogWritten> {
        Ok(self.write_catalog_once(products, None).await?.written)
    }

    /// `write_catalog`, once per idempotency key: the key is taken in the
    /// write's own transaction, and a retry with the same key and request
    /// writes nothing and answers with the products the first one wrote.
    pub async fn write_catalog_once(
        &self,
        products: &[CatalogWrite],
        key: Option<&IdempotencyKey>,
    ) -> Result<CatalogWrittenOnce> {
        let now = Timestamp::now();
        let result: std::result::Result<CatalogWrittenOnce, Error> = on_pool!(self, pool => {
            async {
                let mut tx = pool.begin().await?;
                // Write first: on SQLite a transaction that reads, then writes after another
                // connection committed fails at once (busy snapshot); writing first waits its turn.
                sqlx::query("UPDATE products SET id = id WHERE 1 = 0").execute(&mut *tx).await?;
                if let Some(k) = key {
                    // A concurrent twin waits here on the unique key until we commit.
                    let fresh = sqlx::query(
                        "INSERT INTO idempotency_keys (key, request_hash, response_code, response_body, created_at)
                         VALUES ($1, $2, 0, '', $3) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(&k.key)
                    .bind(&k.request_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if !fresh {
                        let (hash, body): (String, String) =
                            sqlx::query_as("SELECT request_hash, response_body FROM idempotency_keys WHERE key = $1")
                                .bind(&k.key)
                                .fetch_one(&mut *tx)
                                .await?;
                        return Ok(CatalogWrittenOnce {
                            written: CatalogWritten::default(),
                            products: replayed_products(&k.key, &k.request_hash, &hash, &body)?,
                            replayed: true,
                        });
                    }
                }
                let mut ids: Vec<ProductId> = Vec::with_capacity(products.len());
                let mut written = CatalogWritten::default();
                let mut switched_on: Vec<ProductId> = Vec::new();
                let mut updated: Vec<ProductId> = Vec::new();
                for p in products {
                    let option = |i: usize| p.option_names.get(i).map(String::as_str);
                    let id: ProductId = match p.existing {
                        Some(id) => {
                            let was_on: bool = sqlx::query_scalar("SELECT auto_sync FROM products WHERE id = $1")
                                .bind(id)
                                .fetch_one(&mut *tx)
                                .await?;
                            sqlx::query(
                                "UPDATE products SET name = $2, description = $3, brand = $4, category = $5, option1_name = $6,
                                     option2_name = $7, option3_name = $8, active = $9, auto_sync = $10, supplier = $11,
                                     supplier_code = $12, supplier_price_minor = $13, supplier_price_currency = $14,
                                     reorder_point = $15, reorder_quantity = $16, tax_class = $17, tags = $18, updated_at = $19
                                 WHERE id = $1",
                            )
                            .bind(id)
                            .bind(&p.name)
                            .bind(&p.description)
                            .bind(&p.brand)
                            .bind(&p.category)
                            .bind(option(0))
                            .bind(option(1))
                            .bind(option(2))
                            .bind(p.active)
                            .bind(p.auto_sync)
                            .bind(&p.supplier)
                            .bind(&p.supplier_code)
                            .bind(p.supplier_price.map(|m| m.minor))
                            .bind(p.supplier_price.map(|m| m.currency.as_str().to_owned()))
                            .bind(p.reorder_point)
                            .bind(p.reorder_quantity)
                            .bind(&p.tax_class)
                            .bind(&p.tags)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            if p.auto_sync && !was_on {
                                switched_on.push(id);
                            }
                            written.products_updated += 1;
                            id
                        }
                        None => {
                            let id: ProductId = sqlx::query_scalar(
                                "INSERT INTO products (name, handle, description, brand, category, option1_name, option2_name,
                                     option3_name, active, auto_sync, supplier, supplier_code, supplier_price_minor,
                                     supplier_price_currency, reorder_point, reorder_quantity, tax_class, tags, created_at, updated_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
                                 RETURNING id",
                            )
                            .bind(&p.name)
                            .bind(&p.handle)
                            .bind(&p.description)
                            .bind(&p.brand)
                            .bind(&p.category)
                            .bind(option(0))
                            .bind(option(1))
                            .bind(option(2))
                            .bind(p.active)
                            .bind(p.auto_sync)
                            .bind(&p.supplier)
                            .bind(&p.supplier_code)
                            .bind(p.supplier_price.map(|m| m.minor))
                            .bind(p.supplier_price.map(|m| m.currency.as_str().to_owned()))
                            .bind(p.reorder_point)
                            .bind(p.reorder_quantity)
                            .bind(&p.tax_class)
                            .bind(&p.tags)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?;
                            if p.auto_sync {
                                switched_on.push(id);
                            }
                            written.products_created += 1;
                            id
                        }
                    };
                    let mut position: i64 = sqlx::query_scalar(
                        "SELECT CAST(COALESCE(MAX(position), -1) AS BIGINT) FROM variants WHERE product_id = $1",
                    )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    for v in &p.variants {
                        let value = |i: usize| v.option_values.get(i).map(String::as_str);
                        match v.existing {
                            Some(variant) => {
                                sqlx::query(
                                    "UPDATE variants SET barcode = $3, option1_value = $4, option2_value = $5, option3_value = $6,
                                         price_minor = $7, price_currency = $8, weight_grams = $9, length_mm = $10,
                                         width_mm = $11, height_mm = $12, updated_at = $13, sku = $14
                                     WHERE id = $1 AND product_id = $2",
                                )
                                .bind(variant)
                                .bind(id)
                                .bind(v.barcode.as_ref().map(Barcode::as_str))
                                .bind(value(0))
                                .bind(value(1))
                                .bind(value(2))
                                .bind(v.price.minor)
                                .bind(v.price.currency.as_str())
                                .bind(v.weight_grams)
                                .bind(v.length_mm)
                                .bind(v.width_mm)
                                .bind(v.height_mm)
                                .bind(now)
                                .bind(v.sku.as_str())
                                .execute(&mut *tx)
                                .await?;
                                written.variants_updated += 1;
                            }
                            None => {
                                position += 1;
                                sqlx::query(
                                    "INSERT INTO variants (product_id, sku, barcode, option1_value, option2_value, option3_value,
                                         price_minor, price_currency, weight_grams, length_mm, width_mm, height_mm, position,
                                         created_at, updated_at)
                                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
                                )
                                .bind(id)
                                .bind(v.sku.as_str())
                                .bind(v.barcode.as_ref().map(Barcode::as_str))
                                .bind(value(0))
                                .bind(value(1))
                                .bind(value(2))
                                .bind(v.price.minor)
                                .bind(v.price.currency.as_str())
                                .bind(v.weight_grams)
                                .bind(v.length_mm)
                                .bind(v.width_mm)
                                .bind(v.height_mm)
                                .bind(position)
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                                written.variants_created += 1;
                            }
                        }
                    }
                    for variant in &p.remove_variants {
                        written.variants_removed += sqlx::query("DELETE FROM variants WHERE id = $1 AND product_id = $2")
                            .bind(*variant)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected() as usize;
                    }
                    if let Some(images) = &p.images {
                        sqlx::query("DELETE FROM product_images WHERE product_id = $1").bind(id).execute(&mut *tx).await?;
                        for (position, image) in images.iter().enumerate() {
                            sqlx::query("INSERT INTO product_images (product_id, url, alt, position) VALUES ($1, $2, $3, $4)")
                                .bind(id)
                                .bind(&image.url)
                                .bind(&image.alt)
                                .bind(position as i64)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    if p.existing.is_some() {
                        updated.push(id);
                    }
                    ids.push(id);
                }
                // Every channel where an updated product is listed gets its fields, in the background.
                super::catalog_outbox::enqueue_catalog!(tx, updated, None::<ChannelId>, now, written.catalog_queued);
                // Auto Sync turned on: the channels' figures must now be overwritten (as `set_auto_sync` does).
                for chunk in switched_on.chunks(IN_LIST) {
                    let select = format!(
                        "SELECT c.id AS channel_id, v.id AS variant_id
                         FROM variants v JOIN products p ON p.id = v.product_id CROSS JOIN channels c
                         LEFT JOIN channel_products cp ON cp.channel_id = c.id AND cp.product_id = p.id
                         WHERE p.id IN ({}) AND (cp.sell_online IS NULL OR cp.sell_online = TRUE)",
                        placeholders(2, chunk.len())
                    );
                    let sql = super::outbox::upsert_sql(&select, "$1");
                    let mut q = sqlx::query(&sql).bind(now);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    written.queued += q.execute(&mut *tx).await?.rows_affected();
                }
                if let Some(k) = key {
                    let body = serde_json::to_string(&ids)
                        .map_err(|e| Error::Conflict(format!("cannot store the answer: {e}")))?;
                    sqlx::query("UPDATE idempotency_keys SET response_code = 200, response_body = $2 WHERE key = $1")
                        .bind(&k.key)
                        .bind(body)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(CatalogWrittenOnce { written, products: ids, replayed: false })
            }
            .await
        });
        result.map_err(|e| match e {
            Error::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Error::Conflict("a SKU or handle was taken by another product meanwhile; nothing was changed".into())
            }
            other => other,
        })
    }

    /// The request hash and stored answer of an idempotency key, if it was used.
    pub async fn idempotency_answer(&self, key: &str) -> Result<Option<(String, String)>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as("SELECT request_hash, response_body FROM idempotency_keys WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
        })?)
    }
}

/// The products a catalog write keyed `key` wrote, from its stored answer:
/// a conflict when the key was used for another request.
pub(crate) fn replayed_products(
    key: &str,
    request_hash: &str,
    stored_hash: &str,
    body: &str,
) -> Result<Vec<ProductId>> {
    if stored_hash != request_hash {
        return Err(Error::Conflict(format!(
            "the Idempotency-Key {key:?} was already used for a different request"
        )));
    }
    serde_json::from_str(body).map_err(|e| {
        Error::Conflict(format!(
            "the stored answer for Idempotency-Key {key:?} is unreadable: {e}"
        ))
    })
}
