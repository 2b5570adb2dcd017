//! Benchmarks of DESIGN.md section 8 against the real binary and the
//! Shopify test server; prints figures, asserts nothing.
//!
//! `scripts/bench` builds Tillbridge in release mode and runs this.
//! TILLBRIDGE_BIN picks the binary (default target/release/tillbridge).

use std::time::{Duration, Instant};

use serde_json::json;
use sync_core::domain::{Actor, Currency, Money, MovementReason, OutletCode, Sku, StockChange};
use sync_core::storage::{NewListing, NewMovement, NewProduct, NewVariant, ProductFilter};
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::{Database, TestServer, api_token, cli, connect_shopify, post_movements};

const LOCATION: &str = "Main warehouse";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn connect(db: &Database, shop: &ShopifyTestServer) {
    connect_shopify(db, shop, "Shopify", LOCATION).await;
}

/// p50/p99 from a movement accepted by the API to the quantity set in the shop.
async fn latency() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    let location = shop.add_location(LOCATION);
    connect(&db, &shop).await;
    let (ok, _, err) = cli(&db, &["autosync", "on", "--all"], "").await;
    assert!(ok, "{err}");
    let token = api_token(&db, "manager").await;
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name("Shopify")
        .await
        .expect("read")
        .expect("channel")
        .id;
    // Wait for the initial listing and push to finish.
    let page = storage
        .list_products(&ProductFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("products");
    let skus: Vec<String> = page
        .items
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .collect();
    let started = Instant::now();
    while storage.pending_pushes(channel).await.expect("count") > 0 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "initial push of {} SKUs (creating products in the shop): {:.1} s",
        skus.len(),
        started.elapsed().as_secs_f64()
    );
    let mut latencies = Vec::new();
    for i in 0..200 {
        let sku = &skus[(i * 7919) % skus.len()];
        let body = json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": 1, "reason": "purchase_order"}]})
            .to_string();
        let accepted_before = Instant::now();
        let response = post_movements(&server, &token, body, None).await.expect("sent");
        assert_eq!(response.status(), 200);
        let accepted = Instant::now();
        let want = storage
            .balances(
                channel,
                &[storage
                    .variant_ids_by_sku(&[Sku::parse(sku).expect("sku")])
                    .await
                    .expect("id")[sku]],
            )
            .await
            .expect("balance");
        let want = *want.values().next().expect("one balance");
        loop {
            if shop.available(sku, &location) == Some(want) {
                break;
            }
            if accepted.elapsed() > Duration::from_secs(10) {
                println!("  movement {i} on {sku} never reached the shop");
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(accepted.elapsed());
        let _ = accepted_before;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    println!(
        "latency, movement accepted → quantity set in the shop (200 movements, within the rate limit): p50 {:.0} ms, p99 {:.0} ms (goal p99 < 500 ms)",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    server.stop().await;
}

/// 100,000 changed quantities pushed to a rate-limited shop, against the bucket's ceiling.
async fn throughput(count: usize) {
    let db = Database::sqlite();
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    let location = shop.add_location(LOCATION);
    let storage = {
        let (ok, _, err) = cli(&db, &["migrate"], "").await;
        assert!(ok, "{err}");
        db.storage().await
    };
    let outlet = storage
        .create_outlet(&OutletCode::parse("downtown").expect("code"), "Downtown")
        .await
        .expect("outlet");
    for code in ["harbour", "warehouse"] {
        storage
            .create_outlet(&OutletCode::parse(code).expect("code"), code)
            .await
            .expect("outlet");
    }
    let nzd = Currency::parse("NZD").expect("currency");
    let setup = Instant::now();
    let mut skus = Vec::with_capacity(count);
    for chunk in 0..count.div_ceil(1000) {
        let products: Vec<NewProduct> = (0..1000)
            .map(|i| chunk * 1000 + i)
            .filter(|n| *n < count)
            .map(|n| NewProduct {
                name: format!("Bench product {n:06}"),
                active: true,
                variants: vec![NewVariant {
                    sku: Sku::parse(&format!("B-{n:06}")).expect("sku"),
                    barcode: None,
                    option_values: vec![],
                    price: Money::new(1000, nzd),
                    weight_grams: None,
                    dimensions_mm: None,
                }],
                ..NewProduct::default()
            })
            .collect();
        storage.create_products(&products).await.expect("products");
        skus.extend(products.iter().map(|p| p.variants[0].sku.to_string()));
    }
    connect(&db, &shop).await;
    let channel = storage
        .channel_by_name("Shopify")
        .await
        .expect("read")
        .expect("channel")
        .id;
    // Link every variant to an item already in the shop, as a finished first sync would have.
    let ids = storage
        .variant_ids_by_sku(&skus.iter().map(|s| Sku::parse(s).expect("sku")).collect::<Vec<_>>())
        .await
        .expect("ids");
    let mut listings = Vec::with_capacity(count);
    for sku in &skus {
        shop.add_product(sku, &[(sku.as_str(), 0)], &location);
        let p = shop.product_by_sku(sku).expect("seeded");
        listings.push(NewListing {
            variant_id: ids[sku.as_str()],
            external_product_id: p["id"].as_str().unwrap_or_default().to_owned(),
            external_variant_id: p["variants"][0]["id"].as_str().unwrap_or_default().to_owned(),
            external_inventory_item_id: p["variants"][0]["inventoryItem"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            seen_quantity: Some(0),
        });
    }
    storage.save_listings(channel, &listings).await.expect("listings");
    let ids_all: Vec<_> = skus.iter().map(|s| ids[s.as_str()]).collect();
    let movements: Vec<NewMovement> = ids_all
        .iter()
        .map(|v| NewMovement {
            variant_id: *v,
            outlet_id: outlet.id,
            change: StockChange::Count(5),
            reason: MovementReason::ManualAdjustment,
            reference: "bench".into(),
            note: String::new(),
        })
        .collect();
    for chunk in movements.chunks(5000) {
        storage
            .record_movements(&Actor::System, chunk)
            .await
            .expect("movements");
    }
    let (ok, _, err) = cli(&db, &["autosync", "on", "--all"], "").await;
    assert!(ok, "{err}");
    println!("setup of {count} linked SKUs: {:.1} s", setup.elapsed().as_secs_f64());
    let calls_before = shop.stats().calls.get("inventorySetQuantities").copied().unwrap_or(0);
    let server = TestServer::start(&db, &["serve"]).await;
    let started = Instant::now();
    while storage.pending_pushes(channel).await.expect("count") > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let stats = shop.stats();
    let calls = stats.calls.get("inventorySetQuantities").copied().unwrap_or(0) - calls_before;
    let exact = skus.iter().filter(|s| shop.available(s, &location) == Some(5)).count();
    // The ceiling: a full bucket, then the restore rate, at the cost each call was charged.
    let cost = stats.last_cost.unwrap_or(10.0);
    let min_calls = count.div_ceil(250) as f64;
    let ceiling = ((min_calls * cost - 2000.0).max(0.0) / 100.0).max(0.001);
    println!(
        "throughput: {count} quantities in {:.1} s = {:.0}/s over {calls} calls ({} throttled); the bucket allows it in {:.1} s at best: {:.0} % of the theoretical maximum (goal ≥ 95 %); {exact} of {count} exact",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        stats.throttled,
        ceiling,
        100.0 * ceiling / elapsed.as_secs_f64()
    );
    server.stop().await;
}

/// Channel calls for 1,000 changes to one SKU sent within a second.
async fn coalescing() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.add_location(LOCATION);
    connect(&db, &shop).await;
    let (ok, _, err) = cli(&db, &["autosync", "on", "--sku", "TEE-0090-S-BLA"], "").await;
    assert!(ok, "{err}");
    let token = api_token(&db, "manager").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = shop.stats().calls.get("inventorySetQuantities").copied().unwrap_or(0);
    let started = Instant::now();
    for _ in 0..20 {
        let movements: Vec<_> = (0..50)
            .map(|_| json!({"sku": "TEE-0090-S-BLA", "outlet": "downtown", "delta": 1, "reason": "purchase_order"}))
            .collect();
        post_movements(&server, &token, json!({ "movements": movements }).to_string(), None)
            .await
            .expect("sent");
    }
    let sent = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = shop.stats().calls.get("inventorySetQuantities").copied().unwrap_or(0) - before;
    println!(
        "coalescing: 1,000 changes to one SKU sent in {:.0} ms cost {calls} channel calls (goal ≤ 2)",
        sent.as_secs_f64() * 1000.0
    );
    server.stop().await;
}

/// API ingest of movements in batches of 1,000.
async fn ingest(db: Database, label: &str) {
    let server = TestServer::start_with_demo(&db).await;
    let token = api_token(&db, "manager").await;
    let storage = db.storage().await;
    let page = storage
        .list_products(&ProductFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("products");
    let skus: Vec<String> = page
        .items
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .collect();
    let bodies: Vec<String> = (0..20)
        .map(|b| {
            let movements: Vec<_> = (0..1000)
                .map(|i| {
                    let outlet = ["downtown", "harbour", "warehouse"][i % 3];
                    json!({"sku": skus[(b * 1000 + i) % skus.len()], "outlet": outlet, "delta": 1, "reason": "purchase_order"})
                })
                .collect();
            json!({ "movements": movements }).to_string()
        })
        .collect();
    let started = Instant::now();
    for body in bodies {
        let r = post_movements(&server, &token, body, None).await.expect("sent");
        assert_eq!(r.status(), 200);
    }
    let elapsed = started.elapsed();
    println!(
        "API ingest on {label}: 20,000 movements in batches of 1,000 in {:.2} s = {:.0} movements/s (goal ≥ 20,000/s on SQLite)",
        elapsed.as_secs_f64(),
        20_000.0 / elapsed.as_secs_f64()
    );
    server.stop().await;
}

#[tokio::main]
async fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let run = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    if run("ingest") {
        ingest(Database::sqlite(), "SQLite").await;
        ingest(Database::postgres().await, "PostgreSQL").await;
    }
    if run("latency") {
        latency().await;
    }
    if run("coalescing") {
        coalescing().await;
    }
    if run("throughput") {
        let count = std::env::var("BENCH_QUANTITIES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        throughput(count).await;
    }
}
