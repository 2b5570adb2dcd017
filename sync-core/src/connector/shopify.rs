//! Shopify over its GraphQL Admin API (pinned version), the only place that
//! knows Shopify's protocol: the cost bucket, THROTTLED, `@idempotent`,
//! `changeFromQuantity`, and userErrors mapped back to the items they name.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http;
use super::{
    ChannelItem, ChannelOrder, ChannelOrderLine, Connector, ConnectorError, FailedImage, FoundItem, ImageToList,
    KnownOrders, ProductToList, ProductWritten, PulledOrders, QuantitySet, Retire, SetOutcome,
};
use crate::domain::{Currency, Money, Timestamp};

pub const API_VERSION: &str = "2026-10";
/// Shopify limits input arrays to 250 items.
const MAX_BATCH: usize = 250;
/// SKUs looked up per productVariants search (keeps the query cost small).
const SKUS_PER_SEARCH: usize = 50;
/// How far back an app without `read_all_orders` may read orders.
const ORDER_WINDOW_DAYS: i64 = 60;
/// Quantities per second once the standard bucket is drained: it restores
/// 100 points a second and a call setting 250 quantities costs 10.
pub const QUANTITIES_PER_SECOND: f64 = 100.0 / 10.0 * MAX_BATCH as f64;
const ITEMS_PER_READ: usize = 100;
const THROTTLE_RETRIES: usize = 8;
/// A variant of a channel product that Tillbridge does not hold.
struct ChannelVariant {
    id: String,
    sku: String,
    options: Vec<(String, String)>,
}

/// How long a product write waits for Shopify to fetch its new images.
const MEDIA_WAIT: Duration = Duration::from_secs(10);

/// What is stored for a Shopify channel (the token is stored apart, encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopifySettings {
    pub shop_domain: String,
    /// `https://{shop_domain}` unless pointed elsewhere (tests).
    pub api_base_url: String,
    pub api_version: String,
    pub location_id: String,
    pub location_name: String,
    /// The app holds `read_all_orders`: orders older than 60 days are readable.
    #[serde(default)]
    pub read_all_orders: bool,
}

impl ShopifySettings {
    fn endpoint(&self) -> String {
        format!(
            "{}/admin/api/{}/graphql.json",
            self.api_base_url.trim_end_matches('/'),
            self.api_version
        )
    }
}

/// Our picture of the shop's leaky bucket, refreshed from every answer.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    maximum: f64,
    available: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    fn wait_for(&self, cost: f64) -> Duration {
        let now_available = (self.available + self.restore_rate * self.at.elapsed().as_secs_f64()).min(self.maximum);
        if now_available >= cost || self.restore_rate <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((cost - now_available) / self.restore_rate)
        }
    }

    fn spend(&mut self, cost: f64) {
        let now_available = (self.available + self.restore_rate * self.at.elapsed().as_secs_f64()).min(self.maximum);
        self.available = now_available - cost;
        self.at = Instant::now();
    }
}

pub struct ShopifyConnector {
    settings: ShopifySettings,
    token: String,
    http: reqwest::Client,
    bucket: Mutex<Option<Bucket>>,
}

impl std::fmt::Debug for ShopifyConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyConnector")
            .field("shop", &self.settings.shop_domain)
            .finish_non_exhaustive()
    }
}

/// A location in the shop, for choosing where the channel's stock lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopLocation {
    pub id: String,
    pub name: String,
}

impl ShopifyConnector {
    pub fn new(settings: ShopifySettings, token: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Tillbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            settings,
            token,
            http,
            bucket: Mutex::new(None),
        }
    }

    /// The shop's locations; also proves the domain and token work.
    pub async fn locations(
        base_url: &str,
        api_version: &str,
        token: &str,
    ) -> Result<Vec<ShopLocation>, ConnectorError> {
        let probe = Self::new(
            ShopifySettings {
                shop_domain: String::new(),
                api_base_url: base_url.to_owned(),
                api_version: api_version.to_owned(),
                location_id: String::new(),
                location_name: String::new(),
                read_all_orders: false,
            },
            token.to_owned(),
        );
        let data = probe
            .graphql(
                "query Locations { locations(first: 100) { nodes { id name isActive } } }",
                json!({}),
                102.0,
            )
            .await?;
        Ok(data["locations"]["nodes"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .filter(|n| n["isActive"].as_bool().unwrap_or(true))
                    .filter_map(|n| {
                        Some(ShopLocation {
                            id: n["id"].as_str()?.to_owned(),
                            name: n["name"].as_str()?.to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn bucket_wait(&self, cost: f64) -> Duration {
        let guard = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        guard.map_or(Duration::ZERO, |b| b.wait_for(cost))
    }

    fn bucket_spend(&self, cost: f64) {
        let mut guard = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = guard.as_mut() {
            b.spend(cost);
        }
    }

    fn bucket_update(&self, extensions: &Value) {
        let status = &extensions["cost"]["throttleStatus"];
        let (Some(maximum), Some(available), Some(restore_rate)) = (
            status["maximumAvailable"].as_f64(),
            status["currentlyAvailable"].as_f64(),
            status["restoreRate"].as_f64(),
        ) else {
            return;
        };
        let mut guard = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        *guard = Some(Bucket {
            maximum,
            available,
            restore_rate,
            at: Instant::now(),
        });
    }

    /// One GraphQL call, paced to the bucket; THROTTLED answers wait and retry.
    async fn graphql(&self, query: &str, variables: Value, expected_cost: f64) -> Result<Value, ConnectorError> {
        let body = json!({ "query": query, "variables": variables });
        for _ in 0..THROTTLE_RETRIES {
            let wait = self.bucket_wait(expected_cost);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            self.bucket_spend(expected_cost);
            let response = self
                .http
                .post(self.settings.endpoint())
                .header("X-Shopify-Access-Token", &self.token)
                .json(&body)
                .send()
                .await
                .map_err(|e| ConnectorError::Transient(http::describe(&e)))?;
            if let Some(e) = http::status_error(&response, &self.settings.shop_domain) {
                return Err(e);
            }
            let status = response.status();
            let text = response
                .text()
                .await
                .map_err(|e| ConnectorError::Transient(http::describe(&e)))?;
            if !status.is_success() {
                return Err(ConnectorError::Permanent(format!(
                    "HTTP {status}: {}",
                    http::excerpt(&text)
                )));
            }
            let answer: Value = serde_json::from_str(&text)
                .map_err(|_| ConnectorError::Transient(format!("not JSON: {}", http::excerpt(&text))))?;
            self.bucket_update(&answer["extensions"]);
            if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
                if errors.iter().any(|e| e["extensions"]["code"] == "THROTTLED") {
                    let requested = answer["extensions"]["cost"]["requestedQueryCost"]
                        .as_f64()
                        .unwrap_or(expected_cost);
                    let maximum = answer["extensions"]["cost"]["throttleStatus"]["maximumAvailable"].as_f64();
                    if let Some(maximum) = maximum.filter(|m| requested > *m) {
                        return Err(ConnectorError::Permanent(format!(
                            "a query costing {requested} points can never fit this shop's bucket of {maximum}"
                        )));
                    }
                    let wait = self.bucket_wait(requested).max(Duration::from_millis(100));
                    tracing::debug!(
                        wait_ms = wait.as_millis() as u64,
                        "Shopify throttled; waiting for the bucket"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
                return Err(ConnectorError::Permanent(messages.join("; ")));
            }
            return Ok(answer["data"].clone());
        }
        Err(ConnectorError::RateLimited {
            retry_after: Duration::from_secs(1),
        })
    }

    /// `productSet` creating (no `identifier`) or overwriting a product. New
    /// variants are stocked with their quantity; existing ones (by SKU in
    /// `existing`) keep theirs, which only quantity pushes change.
    async fn product_set(
        &self,
        product: &ProductToList,
        identifier: Option<&str>,
        existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        // The channel product's variants Tillbridge does not hold (added in
        // the channel, or another product's) must survive `productSet`,
        // whose variant list replaces the product's.
        let (adopted, foreign) = match identifier {
            Some(id) => self.channel_variants(id, product, existing).await?,
            None => (HashMap::new(), Vec::new()),
        };
        let existing: HashMap<String, String> = existing
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(adopted)
            .collect();
        let existing = &existing;
        let (option_names, default_option) = if product.option_names.is_empty() {
            (vec!["Title".to_owned()], true)
        } else {
            (product.option_names.clone(), false)
        };
        let mut option_values: Vec<Vec<String>> = vec![Vec::new(); option_names.len()];
        let variants: Vec<Value> = product
            .variants
            .iter()
            .map(|v| {
                let values = if default_option { vec!["Default Title".to_owned()] } else { v.option_values.clone() };
                for (i, value) in values.iter().enumerate() {
                    if let Some(list) = option_values.get_mut(i)
                        && !list.contains(value)
                    {
                        list.push(value.clone());
                    }
                }
                let mut variant = json!({
                    "optionValues": option_names.iter().zip(&values).map(|(o, v)| json!({"optionName": o, "name": v})).collect::<Vec<_>>(),
                    "price": price_string(v.price.minor, v.price.currency.minor_digits()),
                    "inventoryItem": { "sku": v.sku, "tracked": true },
                });
                match existing.get(&v.sku) {
                    Some(id) => variant["id"] = json!(id),
                    None => {
                        variant["inventoryQuantities"] =
                            json!([{ "locationId": self.settings.location_id, "name": "available", "quantity": v.quantity }]);
                    }
                }
                if let Some(barcode) = &v.barcode {
                    variant["barcode"] = json!(barcode);
                }
                if let Some(grams) = v.weight_grams {
                    variant["inventoryItem"]["measurement"] = json!({ "weight": { "value": grams as f64, "unit": "GRAMS" } });
                }
                variant
            })
            .collect();
        let mut variants = variants;
        if !foreign.is_empty() {
            let fits = foreign.iter().all(|f| {
                let names: Vec<&str> = f.options.iter().map(|(n, _)| n.as_str()).collect();
                !default_option && names == option_names.iter().map(String::as_str).collect::<Vec<_>>()
            });
            if !fits {
                return self
                    .update_fields_only(product, identifier.unwrap_or_default(), &foreign)
                    .await;
            }
            for f in &foreign {
                for (i, (_, value)) in f.options.iter().enumerate() {
                    if let Some(list) = option_values.get_mut(i)
                        && !list.contains(value)
                    {
                        list.push(value.clone());
                    }
                }
                variants.push(json!({
                    "id": f.id,
                    "optionValues": f.options.iter().map(|(o, v)| json!({"optionName": o, "name": v})).collect::<Vec<_>>(),
                }));
            }
        }
        // Ask for exactly as many variants back as we send: Shopify charges the page size.
        let first = variants.len().clamp(1, 250);
        let mut input = json!({
            "title": product.name,
            "descriptionHtml": product.description,
            "vendor": product.brand,
            "productType": product.category,
            "status": if product.active { "ACTIVE" } else { "DRAFT" },
            "productOptions": option_names.iter().zip(&option_values).map(|(name, values)| json!({
                "name": name, "values": values.iter().map(|v| json!({"name": v})).collect::<Vec<_>>()
            })).collect::<Vec<_>>(),
            "variants": variants,
        });
        // A list field: the files given replace the product's media, in order.
        if let Some(images) = &product.images {
            input["files"] = json!(
                images
                    .iter()
                    .map(|i| json!({ "originalSource": i.url, "alt": i.alt, "contentType": "IMAGE" }))
                    .collect::<Vec<_>>()
            );
        }
        let data = self
            .graphql(
                &format!(
                    "mutation SetProduct($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {{
                   productSet(input: $input, identifier: $identifier, synchronous: true) {{
                     product {{ id variants(first: {first}) {{ nodes {{ id sku inventoryItem {{ id }} }} }} }}
                     userErrors {{ field message code }}
                   }}
                 }}"
                ),
                json!({ "input": input, "identifier": identifier.map(|id| json!({ "id": id })) }),
                12.0 + 2.0 * first as f64,
            )
            .await?;
        let payload = &data["productSet"];
        if let Some(errors) = payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
            let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
            return Err(ConnectorError::Permanent(format!(
                "productSet refused {:?}: {}",
                product.name,
                messages.join("; ")
            )));
        }
        let product_id = payload["product"]["id"].as_str().unwrap_or_default().to_owned();
        let failed_images = match &product.images {
            Some(images) if !images.is_empty() => self.failed_media(&product_id, images).await?,
            _ => Vec::new(),
        };
        let ours: Vec<&str> = product.variants.iter().map(|v| v.sku.as_str()).collect();
        let items = payload["product"]["variants"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| n["sku"].as_str().is_some_and(|s| ours.contains(&s)))
            .filter_map(|n| {
                let sku = n["sku"].as_str()?.to_owned();
                let quantity = product.variants.iter().find(|v| v.sku == sku).map(|v| v.quantity);
                Some(FoundItem {
                    sku,
                    product_id: product_id.clone(),
                    variant_id: n["id"].as_str()?.to_owned(),
                    inventory_item_id: n["inventoryItem"]["id"].as_str()?.to_owned(),
                    quantity,
                })
            })
            .collect();
        Ok(ProductWritten {
            items,
            failed_images,
            left: None,
        })
    }

    /// The channel product's variants: ours not linked yet but found by SKU
    /// (adopted, never duplicated), and those Tillbridge does not hold and
    /// did not remove (kept as they are).
    async fn channel_variants(
        &self,
        product_id: &str,
        product: &ProductToList,
        existing: &HashMap<String, String>,
    ) -> Result<(HashMap<String, String>, Vec<ChannelVariant>), ConnectorError> {
        let data = self
            .graphql(
                "query Variants($id: ID!) {
                   product(id: $id) { variants(first: 250) { nodes { id sku selectedOptions { name value } } } }
                 }",
                json!({ "id": product_id }),
                5.0,
            )
            .await?;
        let linked: Vec<&String> = existing.values().collect();
        let mut adopted = HashMap::new();
        let mut foreign = Vec::new();
        for node in data["product"]["variants"]["nodes"].as_array().into_iter().flatten() {
            let Some(id) = node["id"].as_str() else { continue };
            let sku = node["sku"].as_str().unwrap_or_default();
            if linked.iter().any(|l| l.as_str() == id) || product.removed_skus.iter().any(|r| r == sku) {
                continue;
            }
            if product
                .variants
                .iter()
                .any(|v| v.sku == sku && !existing.contains_key(sku))
            {
                adopted.insert(sku.to_owned(), id.to_owned());
                continue;
            }
            let options = node["selectedOptions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| Some((o["name"].as_str()?.to_owned(), o["value"].as_str()?.to_owned())))
                .collect();
            foreign.push(ChannelVariant {
                id: id.to_owned(),
                sku: sku.to_owned(),
                options,
            });
        }
        Ok((adopted, foreign))
    }

    /// The product's own fields only: its variants are shared with ones
    /// Tillbridge does not hold, under other options, which a write of the
    /// variant list would delete.
    async fn update_fields_only(
        &self,
        product: &ProductToList,
        product_id: &str,
        foreign: &[ChannelVariant],
    ) -> Result<ProductWritten, ConnectorError> {
        let data = self
            .graphql(
                "mutation Fields($p: ProductUpdateInput!) {
                   productUpdate(product: $p) { product { id } userErrors { field message } }
                 }",
                json!({ "p": {
                    "id": product_id,
                    "title": product.name,
                    "descriptionHtml": product.description,
                    "vendor": product.brand,
                    "productType": product.category,
                    "status": if product.active { "ACTIVE" } else { "DRAFT" },
                }}),
                10.0,
            )
            .await?;
        if let Some(errors) = data["productUpdate"]["userErrors"].as_array().filter(|e| !e.is_empty()) {
            let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
            return Err(ConnectorError::Permanent(format!(
                "productUpdate refused {:?}: {}",
                product.name,
                messages.join("; ")
            )));
        }
        let skus: Vec<&str> = foreign
            .iter()
            .map(|f| if f.sku.is_empty() { "no SKU" } else { f.sku.as_str() })
            .collect();
        Ok(ProductWritten {
            items: Vec::new(),
            failed_images: Vec::new(),
            left: Some(format!(
                "the channel product also holds variants Tillbridge does not ({}), under other options: its name, description, brand, category and status were written, its variants and images left as they are",
                skus.join(", ")
            )),
        })
    }

    /// Shopify fetches images after `productSet` answers: watch the media
    /// (in the order the files were given) until each is ready or failed,
    /// for a while. A failure names the image; one still processing then is
    /// left to Shopify.
    async fn failed_media(&self, product_id: &str, images: &[ImageToList]) -> Result<Vec<FailedImage>, ConnectorError> {
        let first = images.len().clamp(1, 250);
        let query = format!(
            "query Media($id: ID!) {{
               product(id: $id) {{ media(first: {first}) {{ nodes {{ status mediaErrors {{ code message }} }} }} }}
             }}"
        );
        let mut wait = Duration::from_millis(200);
        let deadline = Instant::now() + MEDIA_WAIT;
        loop {
            let data = self
                .graphql(&query, json!({ "id": product_id }), 2.0 + first as f64)
                .await?;
            let nodes = data["product"]["media"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let pending = nodes
                .iter()
                .any(|n| matches!(n["status"].as_str(), Some("UPLOADED" | "PROCESSING")));
            if !pending || Instant::now() + wait > deadline {
                return Ok(nodes
                    .iter()
                    .zip(images)
                    .filter(|(n, _)| n["status"] == "FAILED")
                    .map(|(n, image)| {
                        let reasons: Vec<&str> = n["mediaErrors"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|e| e["message"].as_str().or(e["code"].as_str()))
                            .collect();
                        FailedImage {
                            url: image.url.clone(),
                            reason: if reasons.is_empty() {
                                "Shopify could not process it".to_owned()
                            } else {
                                reasons.join("; ")
                            },
                        }
                    })
                    .collect());
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(2));
        }
    }

    fn found_from_variant(&self, node: &Value) -> Option<FoundItem> {
        let level = &node["inventoryItem"]["inventoryLevel"];
        let quantity = level["quantities"]
            .as_array()
            .and_then(|qs| qs.iter().find(|q| q["name"] == "available"))
            .and_then(|q| q["quantity"].as_i64());
        Some(FoundItem {
            sku: node["sku"].as_str()?.to_owned(),
            product_id: node["product"]["id"].as_str()?.to_owned(),
            variant_id: node["id"].as_str()?.to_owned(),
            inventory_item_id: node["inventoryItem"]["id"].as_str()?.to_owned(),
            quantity,
        })
    }

    /// Stocks an item at the channel's location (needed before setting it).
    async fn activate(&self, inventory_item_id: &str) -> Result<(), ConnectorError> {
        // Activating is idempotent by nature; the key (required from 2026-04)
        // names the item and location, so a retry is recognised as one.
        let key = hex_digest(&format!("activate|{inventory_item_id}|{}", self.settings.location_id));
        let query = format!(
            "mutation Activate($item: ID!, $location: ID!) {{
               inventoryActivate(inventoryItemId: $item, locationId: $location) @idempotent(key: \"{key}\") {{
                 inventoryLevel {{ id }} userErrors {{ field message }}
               }}
             }}"
        );
        let data = self
            .graphql(
                &query,
                json!({ "item": inventory_item_id, "location": self.settings.location_id }),
                11.0,
            )
            .await?;
        match data["inventoryActivate"]["userErrors"]
            .as_array()
            .and_then(|e| e.first())
        {
            Some(e) => Err(ConnectorError::Permanent(
                e["message"].as_str().unwrap_or("inventoryActivate failed").to_owned(),
            )),
            None => Ok(()),
        }
    }

    async fn set_once(
        &self,
        sets: &[QuantitySet],
        key: &str,
        reference: &str,
    ) -> Result<Vec<(usize, String, String)>, ConnectorError> {
        let quantities: Vec<Value> = sets
            .iter()
            .map(|s| {
                json!({
                    "inventoryItemId": s.inventory_item_id,
                    "locationId": self.settings.location_id,
                    "quantity": s.quantity,
                    "changeFromQuantity": s.change_from,
                })
            })
            .collect();
        // The key is a hex digest, so it embeds safely as a literal.
        let query = format!(
            "mutation SetQuantities($input: InventorySetQuantitiesInput!) {{
               inventorySetQuantities(input: $input) @idempotent(key: \"{key}\") {{
                 inventoryAdjustmentGroup {{ id }}
                 userErrors {{ field message code }}
               }}
             }}"
        );
        let variables = json!({ "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": reference,
            "quantities": quantities,
        }});
        let data = self.graphql(&query, variables, 11.0).await?;
        let errors = data["inventorySetQuantities"]["userErrors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut by_index = Vec::new();
        for e in &errors {
            let code = e["code"].as_str().unwrap_or("UNKNOWN").to_owned();
            let message = e["message"].as_str().unwrap_or_default().to_owned();
            // field = ["input", "quantities", "<index>", ...]
            let index = e["field"]
                .as_array()
                .and_then(|f| f.iter().skip_while(|p| *p != "quantities").nth(1))
                .and_then(|p| {
                    p.as_str()
                        .and_then(|s| s.parse::<usize>().ok())
                        .or_else(|| p.as_u64().map(|n| n as usize))
                });
            match index {
                Some(i) if i < sets.len() => by_index.push((i, code, message)),
                _ => return Err(ConnectorError::Permanent(format!("{code}: {message}"))),
            }
        }
        Ok(by_index)
    }
}

fn hex_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A search term matching one SKU exactly, quoted for Shopify's search syntax.
fn sku_term(sku: &str) -> String {
    format!("sku:\"{}\"", sku.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The fields of an order's line items page.
const LINE_FIELDS: &str = "pageInfo { hasNextPage endCursor } nodes { id sku title currentQuantity originalUnitPriceSet { shopMoney { amount } } }";

/// The lines of an order node (one page of them).
fn order_from_lines(node: &Value) -> Vec<ChannelOrderLine> {
    let Some(currency) = node["currentTotalPriceSet"]["shopMoney"]["currencyCode"]
        .as_str()
        .and_then(|c| Currency::parse(c).ok())
    else {
        return Vec::new();
    };
    node["lineItems"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some(ChannelOrderLine {
                external_id: l["id"].as_str()?.to_owned(),
                sku: l["sku"].as_str().unwrap_or_default().trim().to_owned(),
                title: l["title"].as_str().unwrap_or_default().to_owned(),
                quantity: l["currentQuantity"].as_i64()?,
                price_minor: l["originalUnitPriceSet"]["shopMoney"]["amount"]
                    .as_str()
                    .and_then(|a| Money::parse(a, currency).ok())
                    .map_or(0, |m| m.minor),
            })
        })
        .collect()
}

/// An order node of the orders query, in our terms.
fn order_from(node: &Value) -> Option<ChannelOrder> {
    let time = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str()?)
            .ok()
            .map(|t| Timestamp::from(t.with_timezone(&chrono::Utc)))
    };
    let money = &node["currentTotalPriceSet"]["shopMoney"];
    let currency = Currency::parse(money["currencyCode"].as_str()?).ok()?;
    let minor = |amount: &Value| Money::parse(amount.as_str()?, currency).ok().map(|m| m.minor);
    Some(ChannelOrder {
        external_id: node["id"].as_str()?.to_owned(),
        number: node["name"].as_str().unwrap_or_default().to_owned(),
        placed_at: time(&node["createdAt"])?,
        updated_at: time(&node["updatedAt"])?,
        cancelled: !node["cancelledAt"].is_null(),
        currency: currency.as_str().to_owned(),
        total_minor: minor(&money["amount"])?,
        lines: order_from_lines(node),
    })
}

fn price_string(minor: i64, digits: u32) -> String {
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(digits);
    format!(
        "{}.{:0width$}",
        minor / scale,
        (minor % scale).abs(),
        width = digits as usize
    )
}

impl Connector for ShopifyConnector {
    fn max_batch(&self) -> usize {
        MAX_BATCH
    }

    async fn find_by_sku(&self, skus: &[String]) -> Result<HashMap<String, FoundItem>, ConnectorError> {
        let mut found = HashMap::new();
        for chunk in skus.chunks(SKUS_PER_SEARCH) {
            let search = chunk.iter().map(|s| sku_term(s)).collect::<Vec<_>>().join(" OR ");
            let data = self
                .graphql(
                    "query FindVariants($query: String!, $location: ID!) {
                       productVariants(first: 50, query: $query) {
                         nodes { id sku product { id }
                           inventoryItem { id inventoryLevel(locationId: $location) { quantities(names: [\"available\"]) { name quantity } } } }
                       }
                     }",
                    json!({ "query": search, "location": self.settings.location_id }),
                    252.0,
                )
                .await?;
            for node in data["productVariants"]["nodes"].as_array().into_iter().flatten() {
                // Shopify's search is fuzzy; keep exact SKU matches only.
                if let Some(item) = self.found_from_variant(node).filter(|i| chunk.contains(&i.sku)) {
                    found.insert(item.sku.clone(), item);
                }
            }
        }
        Ok(found)
    }

    async fn create_product(&self, product: &ProductToList) -> Result<ProductWritten, ConnectorError> {
        self.product_set(product, None, &HashMap::new()).await
    }

    async fn update_product(
        &self,
        product: &ProductToList,
        external_product_id: &str,
        existing: &HashMap<String, String>,
    ) -> Result<ProductWritten, ConnectorError> {
        self.product_set(product, Some(external_product_id), existing).await
    }

    async fn set_quantities(
        &self,
        sets: &[QuantitySet],
        key: &str,
        reference: &str,
    ) -> Result<Vec<SetOutcome>, ConnectorError> {
        let mut outcomes: Vec<Option<SetOutcome>> = vec![None; sets.len()];
        let mut remaining: Vec<usize> = (0..sets.len()).collect();
        let mut activated = false;
        // Shopify applies all of a call or none of it: items it names in
        // userErrors are set aside and the rest sent again (under a new key).
        for round in 0..4 {
            if remaining.is_empty() {
                break;
            }
            let batch: Vec<QuantitySet> = remaining.iter().map(|&i| sets[i].clone()).collect();
            let round_key = if round == 0 {
                key.to_owned()
            } else {
                format!("{key}-r{round}")
            };
            let errors = self.set_once(&batch, &round_key, reference).await?;
            if errors.is_empty() {
                for &i in &remaining {
                    outcomes[i] = Some(SetOutcome::Applied);
                }
                remaining.clear();
                break;
            }
            let mut stale = Vec::new();
            let mut not_stocked = Vec::new();
            let mut failed_positions = std::collections::HashSet::new();
            for (pos, code, message) in errors {
                failed_positions.insert(pos);
                let i = remaining[pos];
                match code.as_str() {
                    "CHANGE_FROM_QUANTITY_STALE" => stale.push(i),
                    "ITEM_NOT_STOCKED_AT_LOCATION" if !activated => not_stocked.push(i),
                    _ => outcomes[i] = Some(SetOutcome::Rejected { code, message }),
                }
            }
            if !stale.is_empty() {
                let ids: Vec<String> = stale.iter().map(|&i| sets[i].inventory_item_id.clone()).collect();
                let current = self.read_quantities(&ids).await?;
                for &i in &stale {
                    outcomes[i] = Some(SetOutcome::Stale {
                        current: current.get(&sets[i].inventory_item_id).copied(),
                    });
                }
            }
            for &i in &not_stocked {
                self.activate(&sets[i].inventory_item_id).await?;
            }
            activated = activated || !not_stocked.is_empty();
            remaining = remaining
                .iter()
                .enumerate()
                .filter(|(pos, i)| !failed_positions.contains(pos) || not_stocked.contains(i))
                .map(|(_, &i)| i)
                .collect();
        }
        Ok(outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or(SetOutcome::Rejected {
                    code: "NOT_SENT".into(),
                    message: "gave up after repeated errors in its batch".into(),
                })
            })
            .collect())
    }

    async fn read_quantities(&self, items: &[String]) -> Result<HashMap<String, i64>, ConnectorError> {
        let mut out = HashMap::new();
        for chunk in items.chunks(ITEMS_PER_READ) {
            let data = self
                .graphql(
                    "query ReadLevels($ids: [ID!]!, $location: ID!) {
                       nodes(ids: $ids) { ... on InventoryItem { id inventoryLevel(locationId: $location) {
                         quantities(names: [\"available\"]) { name quantity } } } }
                     }",
                    json!({ "ids": chunk, "location": self.settings.location_id }),
                    (chunk.len() * 3) as f64,
                )
                .await?;
            for node in data["nodes"].as_array().into_iter().flatten() {
                let Some(id) = node["id"].as_str() else {
                    continue;
                };
                let quantity = node["inventoryLevel"]["quantities"]
                    .as_array()
                    .and_then(|qs| qs.iter().find(|q| q["name"] == "available"))
                    .and_then(|q| q["quantity"].as_i64());
                if let Some(q) = quantity {
                    out.insert(id.to_owned(), q);
                }
            }
        }
        Ok(out)
    }

    async fn list_items(&self) -> Result<Vec<ChannelItem>, ConnectorError> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            // 250 variants with their product: about 500 points, under the
            // single-query ceiling of 1,000.
            let data = self
                .graphql(
                    "query ListVariants($after: String) {
                       productVariants(first: 250, after: $after) {
                         pageInfo { hasNextPage endCursor }
                         nodes { id sku product { id title } }
                       }
                     }",
                    json!({ "after": after }),
                    502.0,
                )
                .await?;
            let page = &data["productVariants"];
            for node in page["nodes"].as_array().into_iter().flatten() {
                let (Some(variant_id), Some(product_id)) = (node["id"].as_str(), node["product"]["id"].as_str()) else {
                    continue;
                };
                items.push(ChannelItem {
                    sku: node["sku"].as_str().unwrap_or_default().trim().to_owned(),
                    title: node["product"]["title"].as_str().unwrap_or_default().to_owned(),
                    product_id: product_id.to_owned(),
                    variant_id: variant_id.to_owned(),
                });
            }
            match page["pageInfo"]["endCursor"].as_str() {
                Some(cursor) if page["pageInfo"]["hasNextPage"].as_bool() == Some(true) => {
                    after = Some(cursor.to_owned())
                }
                _ => return Ok(items),
            }
        }
    }

    /// Two steps, to spend the bucket on orders that changed only: the
    /// orders updated since `since` are listed with their `updatedAt` (a
    /// point each), then those not `known` in that state are read whole.
    async fn pull_orders(&self, since: Option<Timestamp>, known: &KnownOrders) -> Result<PulledOrders, ConnectorError> {
        // Without read_all_orders Shopify shows an app the last 60 days only.
        let window = Timestamp::from(chrono::Utc::now() - chrono::TimeDelta::days(ORDER_WINDOW_DAYS));
        let (since, unreadable_before) = match since {
            Some(s) if !self.settings.read_all_orders && s < window => (Some(window), Some(window)),
            other => (other, None),
        };
        let search = since.map(|s| {
            format!(
                "updated_at:>='{}'",
                s.as_datetime().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        });
        let mut changed = Vec::new();
        let mut unchanged = 0;
        let mut listed_through: Option<Timestamp> = None;
        let mut after: Option<String> = None;
        loop {
            let data = self
                .graphql(
                    "query OrderUpdates($after: String, $query: String) {
                       orders(first: 250, after: $after, sortKey: UPDATED_AT, query: $query) {
                         pageInfo { hasNextPage endCursor }
                         nodes { id updatedAt }
                       }
                     }",
                    json!({ "after": after, "query": search }),
                    252.0,
                )
                .await?;
            let page = &data["orders"];
            for node in page["nodes"].as_array().into_iter().flatten() {
                let Some(id) = node["id"].as_str() else { continue };
                let updated = chrono::DateTime::parse_from_rfc3339(node["updatedAt"].as_str().unwrap_or_default())
                    .ok()
                    .map(|t| Timestamp::from(t.with_timezone(&chrono::Utc)));
                listed_through = listed_through.max(updated);
                match (known.get(id), updated) {
                    (Some(applied), Some(updated)) if *applied >= updated => unchanged += 1,
                    _ => changed.push(id.to_owned()),
                }
            }
            match page["pageInfo"]["endCursor"].as_str() {
                Some(cursor) if page["pageInfo"]["hasNextPage"].as_bool() == Some(true) => {
                    after = Some(cursor.to_owned())
                }
                _ => break,
            }
        }
        let mut orders = Vec::with_capacity(changed.len());
        // An order costs 5 points and each line 3 more: 20 orders with their
        // first 5 lines ask for 420 points; longer orders page their lines.
        for ids in changed.chunks(20) {
            let data = self
                .graphql(
                    &format!(
                        "query Orders($ids: [ID!]!) {{
                           nodes(ids: $ids) {{ ... on Order {{ id name createdAt updatedAt cancelledAt
                             currentTotalPriceSet {{ shopMoney {{ amount currencyCode }} }}
                             lineItems(first: 5) {{ {LINE_FIELDS} }} }} }}
                         }}"
                    ),
                    json!({ "ids": ids }),
                    ids.len() as f64 * 21.0,
                )
                .await?;
            for node in data["nodes"].as_array().into_iter().flatten() {
                if node.is_null() {
                    // Deleted between the two steps: nothing to apply.
                    continue;
                }
                let Some(mut order) = order_from(node) else {
                    tracing::warn!(order = %node["id"], "an order Shopify sent could not be read; skipped");
                    continue;
                };
                let mut lines_page = node["lineItems"]["pageInfo"].clone();
                while lines_page["hasNextPage"].as_bool() == Some(true) {
                    let more = self
                        .graphql(
                            &format!(
                                "query Lines($id: ID!, $after: String) {{
                                   order(id: $id) {{ currentTotalPriceSet {{ shopMoney {{ amount currencyCode }} }}
                                     lineItems(first: 100, after: $after) {{ {LINE_FIELDS} }} }}
                                 }}"
                            ),
                            json!({ "id": order.external_id, "after": lines_page["endCursor"] }),
                            305.0,
                        )
                        .await?;
                    let extra = order_from_lines(&more["order"]);
                    order.lines.extend(extra);
                    lines_page = more["order"]["lineItems"]["pageInfo"].clone();
                }
                orders.push(order);
            }
        }
        orders.sort_by_key(|o| o.updated_at);
        Ok(PulledOrders {
            orders,
            unchanged,
            listed_through,
            unreadable_before,
        })
    }

    async fn register_order_webhooks(&self, callback_url: &str) -> Result<(), ConnectorError> {
        for topic in ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED"] {
            let data = self
                .graphql(
                    "mutation Subscribe($topic: WebhookSubscriptionTopic!, $uri: String!) {
                       webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri, format: JSON }) {
                         webhookSubscription { id } userErrors { field message }
                       }
                     }",
                    json!({ "topic": topic, "uri": callback_url }),
                    10.0,
                )
                .await?;
            let errors = data["webhookSubscriptionCreate"]["userErrors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // Subscribed before (a reconnect): what was asked for is there.
            let fatal = errors
                .iter()
                .find(|e| !e["message"].as_str().is_some_and(|m| m.contains("already been taken")));
            if let Some(e) = fatal {
                return Err(ConnectorError::Permanent(format!(
                    "webhook {topic}: {}",
                    e["message"].as_str().unwrap_or("refused")
                )));
            }
        }
        Ok(())
    }

    async fn retire_product(&self, product_id: &str, how: Retire) -> Result<(), ConnectorError> {
        let (query, field) = match how {
            Retire::Unpublish => (
                "mutation Unpublish($id: ID!) {
                   productUpdate(product: { id: $id, status: DRAFT }) { product { id status } userErrors { field message } }
                 }",
                "productUpdate",
            ),
            Retire::Delete => (
                "mutation Delete($id: ID!) {
                   productDelete(input: { id: $id }) { deletedProductId userErrors { field message } }
                 }",
                "productDelete",
            ),
        };
        let data = self.graphql(query, json!({ "id": product_id }), 10.0).await?;
        match data[field]["userErrors"].as_array().and_then(|e| e.first()) {
            // Deleting what is already gone is what was asked for.
            Some(e) if how == Retire::Delete && e["message"] == "Product does not exist" => Ok(()),
            Some(e) => Err(ConnectorError::Permanent(format!(
                "{field}: {}",
                e["message"].as_str().unwrap_or("refused")
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_terms_are_quoted_and_escaped() {
        assert_eq!(sku_term("TEE-1"), "sku:\"TEE-1\"");
        assert_eq!(sku_term("A\"B"), "sku:\"A\\\"B\"");
    }

    #[test]
    fn prices_are_decimal_strings() {
        assert_eq!(price_string(1250, 2), "12.50");
        assert_eq!(price_string(5, 2), "0.05");
        assert_eq!(price_string(500, 0), "500");
    }

    #[test]
    fn the_bucket_says_how_long_to_wait_for_a_cost() {
        let b = Bucket {
            maximum: 2000.0,
            available: 5.0,
            restore_rate: 100.0,
            at: Instant::now(),
        };
        let wait = b.wait_for(15.0);
        assert!(
            wait > Duration::from_millis(90) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        assert_eq!(b.wait_for(5.0), Duration::ZERO);
    }
}
