//! Seed 004's rules against the Shopify test server over real HTTP: a
//! change to a product's synced fields reaches the channel on its own
//! within seconds (no button), fields that never sync stay out, channel-only
//! fields are never overwritten, variants and SKUs follow, images are sent
//! and a failed one is a conflict, and a deleted product is deleted there.

use std::time::Duration;

use serde_json::Value;
use sync_core::domain::{ChannelId, ProductId, Sku};
use sync_core::storage::{CatalogWrite, ProductDetail, VariantWrite};
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::{
    Database, TestServer, api_token, auto_sync_on, cli, connect_shopify, post_movements, wait_until,
};

const LOCATION: &str = "Main warehouse";
const CHANNEL: &str = "Shopify";
/// How long a change may take to reach the channel: "within seconds".
const ARRIVES: u64 = 10;

struct Listed {
    db: Database,
    server: TestServer,
    shop: ShopifyTestServer,
    /// The shop's location the channel stocks.
    location: String,
    channel: ChannelId,
    product: ProductDetail,
}

impl Listed {
    /// The demo store served, the Shopify test server connected, and one
    /// demo product with options and several variants listed there by Auto
    /// Sync (created by Tillbridge, or linked when `in_shop_first` already
    /// holds its first SKU under another title).
    async fn start(in_shop_first: bool) -> Listed {
        let db = Database::sqlite();
        let server = TestServer::start_with_demo(&db).await;
        let shop = ShopifyTestServer::start(ShopConfig::default()).await;
        let location = shop.add_location(LOCATION);
        let channel = connect_shopify(&db, &shop, CHANNEL, LOCATION).await;
        let product = product_with_options(&db).await;
        if in_shop_first {
            let first = &product.variants[0].sku;
            let gid = shop.add_product("A title typed in Shopify", &[(first.as_str(), 3)], &location);
            // The merchant's own photo there; Tillbridge has none for this product.
            shop.add_product_image(&gid, "https://cdn.example/photo.png", "their photo");
        }
        let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
        auto_sync_on(&db, &skus).await;
        let listed = Listed {
            db,
            server,
            shop,
            location,
            channel,
            product,
        };
        let sku = listed.product.variants[0].sku.clone();
        wait_until("the product is listed in Shopify", 30, || async {
            listed.shop.product_by_sku(&sku).is_some()
        })
        .await;
        listed
    }

    fn sku(&self, i: usize) -> &str {
        &self.product.variants[i].sku
    }

    /// The product as Shopify shows it now (found by its first SKU).
    fn in_shop(&self, sku: &str) -> Value {
        self.shop.product_by_sku(sku).unwrap_or(Value::Null)
    }

    /// Waits until Shopify shows what `check` wants of the product holding `sku`.
    async fn until(&self, what: &str, sku: &str, check: impl Fn(&Value) -> bool) {
        wait_until(what, ARRIVES, || async { check(&self.in_shop(sku)) }).await;
    }

    async fn import(&self, csv: &str) {
        let (ok, out, err) = cli(&self.db, &["import", "catalog", "-", "--apply"], csv).await;
        assert!(ok, "import failed: {out}{err}");
    }

    /// Writes the product as `change` leaves it, as another process
    /// (the form, the API) does: through the catalog writer.
    async fn write(&self, change: impl FnOnce(&mut CatalogWrite)) {
        let storage = self.db.storage().await;
        let current = storage
            .get_product(self.product.id)
            .await
            .expect("read")
            .expect("product");
        let mut write = as_write(&current);
        change(&mut write);
        storage.write_catalog(&[write]).await.expect("write");
        storage.close().await;
    }

    async fn open_conflicts(&self) -> Vec<String> {
        let storage = self.db.storage().await;
        let open = storage.open_conflicts(Some(self.channel)).await.expect("conflicts");
        storage.close().await;
        open.into_iter()
            .map(|c| format!("{}: {}", c.kind.as_str(), c.detail))
            .collect()
    }

    async fn product_events(&self) -> Vec<String> {
        let storage = self.db.storage().await;
        let events = storage
            .events_of(None, Some(self.product.id), 50)
            .await
            .expect("events");
        storage.close().await;
        events
            .into_iter()
            .map(|e| format!("{} {}: {}", e.action, e.result.as_str(), e.error.unwrap_or_default()))
            .collect()
    }
}

/// A demo product with an option and at least two variants.
async fn product_with_options(db: &Database) -> ProductDetail {
    let storage = db.storage().await;
    let page = storage
        .list_products(&sync_core::storage::ProductFilter {
            limit: 200,
            ..Default::default()
        })
        .await
        .expect("products");
    storage.close().await;
    page.items
        .into_iter()
        .find(|p| p.variants.len() >= 2 && p.option1_name.is_some() && p.variants.len() <= 6)
        .expect("a demo product with options")
}

fn as_write(p: &ProductDetail) -> CatalogWrite {
    let currency = sync_core::domain::Currency::parse(&p.variants[0].price_currency).expect("currency");
    CatalogWrite {
        existing: Some(p.id),
        handle: p.handle.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        brand: p.brand.clone(),
        category: p.category.clone(),
        option_names: p.option_names().into_iter().map(str::to_owned).collect(),
        active: p.active,
        auto_sync: p.auto_sync,
        supplier: p.supplier.clone(),
        supplier_code: p.supplier_code.clone(),
        supplier_price: None,
        reorder_point: p.reorder_point,
        reorder_quantity: p.reorder_quantity,
        tax_class: p.tax_class.clone(),
        tags: p.tags.clone(),
        images: None,
        remove_variants: Vec::new(),
        variants: p
            .variants
            .iter()
            .map(|v| VariantWrite {
                existing: Some(v.id),
                sku: Sku::parse(&v.sku).expect("sku"),
                barcode: v
                    .barcode
                    .as_deref()
                    .map(|b| sync_core::domain::Barcode::parse(b).expect("barcode")),
                option_values: v.option_values().into_iter().map(str::to_owned).collect(),
                price: sync_core::domain::Money::new(v.price_minor, currency),
                weight_grams: v.weight_grams,
                length_mm: v.length_mm,
                width_mm: v.width_mm,
                height_mm: v.height_mm,
            })
            .collect(),
    }
}

fn variant<'a>(product: &'a Value, sku: &str) -> &'a Value {
    product["variants"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["sku"] == sku))
        .unwrap_or(&Value::Null)
}

fn skus_of(product: &Value) -> Vec<String> {
    let mut skus: Vec<String> = product["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["sku"].as_str().map(str::to_owned))
        .collect();
    skus.sort();
    skus
}

/// Grams, however the test server spells a weight.
fn grams(v: &Value) -> Option<f64> {
    let w = &v["inventoryItem"]["weight"];
    let (value, unit) = match w {
        Value::Array(parts) => (parts.first()?.as_f64()?, parts.get(1)?.as_str()?.to_owned()),
        Value::Object(_) => (w["value"].as_f64()?, w["unit"].as_str()?.to_owned()),
        _ => return None,
    };
    Some(match unit.as_str() {
        "KILOGRAMS" => value * 1000.0,
        "POUNDS" => value * 453.592,
        "OUNCES" => value * 28.3495,
        _ => value,
    })
}

/// A tiny HTTP server answering every request with a small PNG: the
/// images Shopify fetches. Returns its base URL.
async fn image_host() -> String {
    let png = std::sync::Arc::new(tillbridge_tests::shopify::sample_png(2, 2));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                break;
            };
            let png = png.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body: &[u8] = &png;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    base
}

fn media(product: &Value) -> Vec<(String, String)> {
    product["media"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["source"].as_str().unwrap_or_default().to_owned(),
                m["alt"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_every_syncing_field_reaches_shopify_on_its_own_and_the_never_sync_fields_stay_out() {
    let listed = Listed::start(false).await;
    let (first, second) = (listed.sku(0).to_owned(), listed.sku(1).to_owned());
    // A field only the channel has, typed there by the merchant.
    listed.shop.set_compare_at_price(&first, Some("99.00"));
    let before = listed.in_shop(&first);
    let handle_there = before["handle"].clone();
    // Our image host runs on this machine, which real Shopify could not reach.
    listed.shop.allow_internal_media_sources(true);
    let images = image_host().await;
    let option = listed.product.option1_name.clone().unwrap_or_default();
    let handle = &listed.product.handle;
    let rows: Vec<String> = listed
        .product
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (barcode, weight, value) = if i == 0 {
                ("9400000000017", "1250", "Extra large")
            } else {
                ("", "", v.option1_value.as_deref().unwrap_or(""))
            };
            format!(
                "{handle},Harbour Rain Jacket,\"Keeps you dry, <b>always</b>\",Outerwear,Tidewater,secret-tag,Supplier Ltd,SUP-1,\
                 GST-special,7,{images}/front.png {images}/back.png,{option},{value},{},{barcode},{},{weight},false",
                v.sku,
                if i == 0 { "149.50".to_owned() } else { format!("{}.00", 10 + i) },
            )
        })
        .collect();
    let csv = format!(
        "handle,name,description,category,brand,tags,supplier,supplier_code,tax_class,reorder_point,image_urls,option1_name,\
         option1_value,sku,barcode,price,weight_grams,active\n{}\n",
        rows.join("\n")
    );
    listed.import(&csv).await;

    listed
        .until("every synced field arrives", &first, |p| {
            p["title"] == "Harbour Rain Jacket"
                && p["status"] == "DRAFT"
                && variant(p, &first)["price"] == "149.50"
                && media(p).len() == 2
        })
        .await;
    let there = listed.in_shop(&first);
    assert_eq!(there["descriptionHtml"], "Keeps you dry, <b>always</b>");
    assert_eq!(there["vendor"], "Tidewater", "brand");
    assert_eq!(there["productType"], "Outerwear", "category");
    let v = variant(&there, &first);
    assert_eq!(v["barcode"], "9400000000017");
    assert_eq!(grams(v).map(f64::round), Some(1250.0), "weight: {v}");
    let values: Vec<String> = there["options"][0]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect();
    assert!(values.contains(&"Extra large".to_owned()), "option values: {values:?}");
    assert_eq!(variant(&there, &second)["price"], "11.00");
    assert_eq!(
        media(&there).iter().map(|(u, _)| u.clone()).collect::<Vec<_>>(),
        [format!("{images}/front.png"), format!("{images}/back.png")]
    );
    // Never synced: tags, supplier, tax, reorder, handle. Channel-only: compare-at price.
    let text = there.to_string();
    for secret in ["secret-tag", "Supplier Ltd", "SUP-1", "GST-special"] {
        assert!(!text.contains(secret), "{secret} reached Shopify: {text}");
    }
    assert_eq!(there["tags"], serde_json::json!([]), "tags never sync");
    assert_eq!(there["handle"], handle_there, "the handle never syncs");
    assert_eq!(
        v["compareAtPrice"], "99.00",
        "the compare-at price is the channel's own"
    );
    // Recorded once Shopify has fetched the images.
    wait_until("the history says what changed", ARRIVES, || async {
        listed
            .product_events()
            .await
            .iter()
            .any(|e| e.starts_with("update product succeeded") && e.contains("name:") && e.contains("price of"))
    })
    .await;

    // Images reordered and one removed; the product active again.
    let csv = csv
        .replace(
            &format!("{images}/front.png {images}/back.png"),
            &format!("{images}/back.png"),
        )
        .replace(",false\n", ",true\n");
    listed.import(&csv).await;
    listed
        .until("images and status follow", &first, |p| {
            p["status"] == "ACTIVE"
                && media(p).iter().map(|(u, _)| u.clone()).collect::<Vec<_>>() == [format!("{images}/back.png")]
        })
        .await;
    assert!(
        listed.open_conflicts().await.is_empty(),
        "{:?}",
        listed.open_conflicts().await
    );
    listed.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_linked_by_sku_gets_tillbridges_fields() {
    let listed = Listed::start(true).await;
    let first = listed.sku(0).to_owned();
    let name = listed.product.name.clone();
    listed
        .until("the linked product takes Tillbridge's name", &first, |p| {
            p["title"] == name.as_str()
        })
        .await;
    let there = listed.in_shop(&first);
    assert_eq!(there["vendor"], listed.product.brand.as_str());
    // Its other variants were added to that same product, not created apart.
    let ours: Vec<String> = {
        let mut s: Vec<String> = listed.product.variants.iter().map(|v| v.sku.clone()).collect();
        s.sort();
        s
    };
    listed
        .until("every variant is in the linked product", &first, |p| skus_of(p) == ours)
        .await;
    // Tillbridge has no images for it: the channel's own stays.
    let gid = listed.in_shop(&first)["id"].as_str().unwrap_or_default().to_owned();
    let images: Vec<String> = listed.shop.product_images(&gid).iter().map(|i| i.alt.clone()).collect();
    assert_eq!(images, ["their photo"], "a linked product's own images are left alone");
    listed.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_added_removed_and_renamed_follow_without_duplicates_or_orphans() {
    let listed = Listed::start(false).await;
    let (first, second) = (listed.sku(0).to_owned(), listed.sku(1).to_owned());
    let product_gid = listed.in_shop(&first)["id"].clone();
    let item_of_first = listed.shop.inventory_item_id(&first).expect("item");
    let added = format!("{first}-NEW");
    let renamed = format!("{first}-R");
    let removed = listed.product.variants[1].id;
    let currency = sync_core::domain::Currency::parse(&listed.product.variants[0].price_currency).expect("currency");
    listed
        .write(|w| {
            w.variants[0].sku = Sku::parse(&renamed).expect("sku");
            w.remove_variants = vec![removed];
            w.variants.retain(|v| v.existing != Some(removed));
            w.variants.push(VariantWrite {
                existing: None,
                sku: Sku::parse(&added).expect("sku"),
                barcode: None,
                option_values: vec!["Brand new size".into()],
                price: sync_core::domain::Money::new(4200, currency),
                weight_grams: None,
                length_mm: None,
                width_mm: None,
                height_mm: None,
            });
        })
        .await;
    listed
        .until("the new variant appears", &renamed, |p| {
            !variant(p, &added).is_null() && variant(p, &second).is_null()
        })
        .await;
    let there = listed.in_shop(&renamed);
    assert_eq!(there["id"], product_gid, "the same product");
    assert_eq!(
        listed.shop.inventory_item_id(&renamed),
        Some(item_of_first),
        "a SKU changed here changes the same variant there"
    );
    assert!(
        listed.shop.product_by_sku(&first).is_none(),
        "no orphan under the old SKU"
    );
    assert!(
        listed.shop.product_by_sku(&second).is_none(),
        "the removed variant is gone"
    );
    assert_eq!(variant(&there, &added)["price"], "42.00");
    assert_eq!(
        skus_of(&there).len(),
        listed.product.variants.len(),
        "one added, one removed: {there}"
    );
    assert!(
        listed.open_conflicts().await.is_empty(),
        "{:?}",
        listed.open_conflicts().await
    );
    listed.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_shopify_cannot_fetch_is_a_conflict_naming_it_and_the_rest_goes_through() {
    let listed = Listed::start(false).await;
    let first = listed.sku(0).to_owned();
    let broken = "http://127.0.0.1:9/gone.png".to_owned();
    let url = broken.clone();
    listed
        .write(|w| {
            w.name = "Renamed with a broken image".into();
            w.images = Some(vec![sync_core::storage::ProductImage {
                url,
                alt: "front".into(),
            }]);
        })
        .await;
    listed
        .until("the name arrives", &first, |p| {
            p["title"] == "Renamed with a broken image"
        })
        .await;
    wait_until("the image failure is a conflict", ARRIVES + 15, || async {
        listed.open_conflicts().await.iter().any(|c| c.contains(&broken))
    })
    .await;
    listed.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_deleted_in_tillbridge_is_deleted_in_shopify_and_its_skus_take_no_stock() {
    let listed = Listed::start(false).await;
    let first = listed.sku(0).to_owned();
    let gid = listed.in_shop(&first)["id"].as_str().unwrap_or_default().to_owned();
    let (ok, out, err) = cli(&listed.db, &["product", "delete", "--sku", &first], "").await;
    assert!(ok, "{out}{err}");
    wait_until("Shopify deletes it", ARRIVES, || async {
        !listed.shop.product_exists(&gid)
    })
    .await;
    let token = api_token(&listed.db, "manager").await;
    let body = serde_json::json!({"movements": [{"sku": first, "outlet": "downtown", "delta": 1, "reason": "purchase_order"}]});
    let response = post_movements(&listed.server, &token, body.to_string(), None)
        .await
        .expect("post");
    assert_eq!(response.status(), 422);
    let text = response.text().await.unwrap_or_default();
    assert!(text.contains("deleted product"), "{text}");
    // Kept in the history, and never again in the products list.
    let storage = listed.db.storage().await;
    assert!(storage.get_product(listed.product.id).await.expect("read").is_none());
    let events = storage
        .events_of(None, Some(listed.product.id), 20)
        .await
        .expect("events");
    assert!(events.iter().any(|e| e.action == "delete product"), "{events:?}");
    storage.close().await;
    listed.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sell_online_off_hides_the_product_in_shopify_and_on_brings_it_back() {
    let listed = Listed::start(false).await;
    let first = listed.sku(0).to_owned();
    let storage = listed.db.storage().await;
    let ids: [ProductId; 1] = [listed.product.id];
    storage.set_sell_online(listed.channel, &ids, false).await.expect("off");
    listed.until("hidden", &first, |p| p["status"] == "DRAFT").await;
    assert!(listed.shop.product_by_sku(&first).is_some(), "hidden, not deleted");
    storage.set_sell_online(listed.channel, &ids, true).await.expect("on");
    listed.until("shown again", &first, |p| p["status"] == "ACTIVE").await;
    storage.close().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    listed.server.stop().await;
}

/// An edit made in Shopify's admin behind Tillbridge's back.
async fn retitle_in_shop(shop: &ShopifyTestServer, product_gid: &str, title: &str) {
    let body = serde_json::json!({
        "query": "mutation Retitle($p: ProductUpdateInput!) { productUpdate(product: $p) { product { id } userErrors { message } } }",
        "variables": { "p": { "id": product_gid, "title": title } },
    });
    let answer: Value = reqwest::Client::new()
        .post(shop.graphql_url(sync_core::connector::shopify::API_VERSION))
        .header("X-Shopify-Access-Token", shop.token())
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(
        answer["data"]["productUpdate"]["userErrors"],
        serde_json::json!([]),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_sync_overwrites_a_linked_products_fields_as_its_preview_says() {
    let listed = Listed::start(true).await;
    let first = listed.sku(0).to_owned();
    let name = listed.product.name.clone();
    listed
        .until("linked and written", &first, |p| p["title"] == name.as_str())
        .await;
    let gid = listed.in_shop(&first)["id"].as_str().unwrap_or_default().to_owned();
    retitle_in_shop(&listed.shop, &gid, "Renamed in Shopify").await;
    let (ok, out, err) = cli(
        &listed.db,
        &["sync", "--channel", CHANNEL, "--kind", "force", "--preview"],
        "",
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("1 updated"),
        "the preview says what a force sync overwrites: {out}"
    );
    // The quantities' own part of the force sync (pulls first, waits) is
    // the unselling tests' business; here, the product's fields.
    // Under load another listed product may still await its first push:
    // the force sync writes that one too.
    let (_, out, err) = cli(&listed.db, &["sync", "--channel", CHANNEL, "--kind", "force"], "").await;
    let updated = out
        .split(" products updated")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(updated.is_some_and(|n| n >= 1), "{out}{err}");
    assert_eq!(listed.in_shop(&first)["title"], name.as_str(), "{out}");
    listed.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sync_finds_and_fixes_what_drifted_in_the_channel() {
    let listed = Listed::start(false).await;
    let first = listed.sku(0).to_owned();
    let name = listed.product.name.clone();
    let storage = listed.db.storage().await;
    let balance = {
        let id = listed.product.variants[0].id;
        storage.balances(listed.channel, &[id]).await.expect("balance")[&id]
    };
    // Drift made in Shopify, with no webhook to tell: a title and a figure.
    let gid = listed.in_shop(&first)["id"].as_str().unwrap_or_default().to_owned();
    retitle_in_shop(&listed.shop, &gid, "Drifted title").await;
    let loc = listed.location.clone();
    listed.shop.set_available(&first, &loc, balance + 7);
    // The schedule is due now.
    storage
        .execute_admin(&format!(
            "UPDATE channels SET schedule_minutes = 1, last_sweep_at = '2020-01-01T00:00:00.000000Z' WHERE id = {}",
            listed.channel.get()
        ))
        .await
        .expect("schedule");
    storage.close().await;
    wait_until("the schedule fixes the drift", 30, || async {
        listed.in_shop(&first)["title"] == name.as_str() && listed.shop.available(&first, &loc) == Some(balance)
    })
    .await;
    let storage = listed.db.storage().await;
    let runs = storage.recent_runs(Some(listed.channel), 50).await.expect("runs");
    storage.close().await;
    assert!(
        runs.iter()
            .any(|r| r.log.contains("scheduled check") && r.log.contains("1 not as last seen")),
        "the history records what the check found: {:?}",
        runs.iter().map(|r| r.log.clone()).collect::<Vec<_>>()
    );
    listed.server.stop().await;
}
