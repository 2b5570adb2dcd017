//! Benchmarks of DESIGN.md section 8 against the real binary and the
//! Shopify test server; prints figures, asserts nothing.
//!
//! `scripts/bench` builds Tillbridge in release mode and runs this.
//! TILLBRIDGE_BIN picks the binary (default target/release/tillbridge).

use std::time::{Duration, Instant};

use serde_json::json;
use sync_core::domain::{Actor, Currency, Money, MovementReason, OutletCode, Sku, StockChange};
use sync_core::storage::{NewListing, NewMovement, NewProduct, NewVariant, ProductFilter};
use tillbridge_tests::race;
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, api_token, browser_like_client, cli, cli_within, connect_shopify,
    post_movements, sign_in,
};

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

/// No un-selling: from an order placed in the shop (webhooks on) to the
/// lower figure in a second channel, the Sandbox store, over 100 orders;
/// then the writes that raised the shop's figure during a 60 s race of till
/// sales and shop orders, which must be none.
async fn orders() {
    let r = race::setup(20).await;
    let storage = r.db.storage().await;
    let sandbox = storage
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("the demo's Sandbox store")
        .id;
    let sandbox_figure = |sku: String| {
        let storage = &storage;
        async move {
            storage
                .sandbox_items_by_sku(sandbox, std::slice::from_ref(&sku))
                .await
                .expect("sandbox")
                .first()
                .map(|i| i.available)
        }
    };
    let mut waits = Vec::new();
    let mut tally = race::Tally::default();
    for i in 0..100 {
        let sku = r.skus[i % r.skus.len()].clone();
        let before = sandbox_figure(sku.clone()).await;
        let placed = Instant::now();
        r.shop
            .try_place_order(&r.location, &[(&sku, 1)])
            .expect("stock for the order");
        *tally.shop.entry(sku.clone()).or_default() += 1;
        tally.orders += 1;
        loop {
            let now = sandbox_figure(sku.clone()).await;
            if now.is_some() && now < before {
                break;
            }
            if placed.elapsed() > Duration::from_secs(10) {
                println!("  order {i} on {sku} never reached the Sandbox store");
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        waits.push(placed.elapsed());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    storage.close().await;
    waits.sort();
    println!(
        "order placed in the shop → lower figure in the Sandbox store (100 orders, webhooks on): p50 {:.0} ms, p99 {:.0} ms",
        percentile(&waits, 0.5).as_secs_f64() * 1000.0,
        percentile(&waits, 0.99).as_secs_f64() * 1000.0
    );
    let raises = r.shop.stats().raises;
    race::race(&r, 60, &mut tally, "bench").await;
    race::closing_order(&r, &mut tally);
    let took = race::exact(&r, &tally, Duration::from_secs(120)).await;
    println!(
        "60 s race of till sales and shop orders: {} till sales, {} orders, {} writes raised the shop's figure (must be 0), exact {:.1} s after",
        tally.till_sales,
        tally.orders,
        r.shop.stats().raises - raises,
        took.as_secs_f64()
    );
    r.server.stop().await;
}

/// 100,000 changed quantities pushed to a rate-limited shop, against the bucket's ceiling.
/// A store of `count` one-variant products, each linked to an item the
/// Shopify test server already holds, with a changed quantity queued for
/// every one of them (Auto Sync just turned on).
struct LinkedShop {
    shop: ShopifyTestServer,
    location: String,
    channel: sync_core::domain::ChannelId,
    skus: Vec<String>,
    storage: sync_core::Storage,
}

async fn linked_shop(db: &Database, count: usize) -> LinkedShop {
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    let location = shop.add_location(LOCATION);
    let storage = {
        let (ok, _, err) = cli(db, &["migrate"], "").await;
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
    connect(db, &shop).await;
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
            // As a finished first sync leaves it: the shop shows our figure.
            figure: sync_core::storage::Figure::Written,
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
    let (ok, _, err) = cli(db, &["autosync", "on", "--all"], "").await;
    assert!(ok, "{err}");
    println!("setup of {count} linked SKUs: {:.1} s", setup.elapsed().as_secs_f64());
    LinkedShop {
        shop,
        location,
        channel,
        skus,
        storage,
    }
}

impl LinkedShop {
    /// Waits until every queued quantity is pushed; how long it took, and
    /// the share of the bucket's theoretical maximum that makes.
    async fn drain(&self, count: usize, calls_before: u64) -> (Duration, String) {
        let started = Instant::now();
        while self.storage.pending_pushes(self.channel).await.expect("count") > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let elapsed = started.elapsed();
        let stats = self.shop.stats();
        let calls = stats.calls_to("inventorySetQuantities") - calls_before;
        let exact = self
            .skus
            .iter()
            .filter(|s| self.shop.available(s, &self.location) == Some(5))
            .count();
        // The ceiling: a full bucket, then the restore rate, at the cost each call was charged.
        let cost = stats.last_cost.unwrap_or(10.0);
        let min_calls = count.div_ceil(250) as f64;
        let ceiling = ((min_calls * cost - 2000.0).max(0.0) / 100.0).max(0.001);
        let line = format!(
            "{count} quantities in {:.1} s = {:.0}/s over {calls} calls ({} throttled, {} stale answers); the bucket allows it in {:.1} s at best: {:.0} % of the theoretical maximum (goal ≥ 95 %); {exact} of {count} exact",
            elapsed.as_secs_f64(),
            count as f64 / elapsed.as_secs_f64(),
            stats.throttled,
            stats.stale_answers,
            ceiling,
            100.0 * ceiling / elapsed.as_secs_f64()
        );
        (elapsed, line)
    }
}

async fn throughput(count: usize) {
    let db = Database::sqlite();
    let linked = linked_shop(&db, count).await;
    let calls_before = linked.shop.stats().calls_to("inventorySetQuantities");
    let server = TestServer::start(&db, &["serve"]).await;
    let (_, line) = linked.drain(count, calls_before).await;
    println!("throughput: {line}");
    server.stop().await;
}

/// Work shared across processes: 1, 2 and 4 `tillbridge serve` on one
/// PostgreSQL database drain one queue, to the rate-limited Shopify test
/// server and to the unlimited Sandbox store. A row pushed by two
/// processes at once shows as a stale answer (Shopify) or a stale compare
/// in the Sync History (Sandbox).
async fn processes(count: usize) {
    for n in [1, 2, 4] {
        let db = Database::postgres().await;
        let linked = linked_shop(&db, count).await;
        let calls_before = linked.shop.stats().calls_to("inventorySetQuantities");
        let mut servers = Vec::new();
        for _ in 0..n {
            servers.push(TestServer::start(&db, &["serve"]).await);
        }
        let (_, line) = linked.drain(count, calls_before).await;
        println!("{n} processes on PostgreSQL → Shopify test server: {line}");
        for server in servers {
            server.stop().await;
        }
        linked.storage.close().await;

        let db = Database::postgres().await;
        let products = (count / 3).max(1).to_string();
        let (ok, _, err) = cli(&db, &["demo", "--products", &products], "").await;
        assert!(ok, "{err}");
        let storage = db.storage().await;
        let sandbox = storage.list_channels().await.expect("channels")[0].id;
        let (ok, _, err) = cli(&db, &["autosync", "on", "--all"], "").await;
        assert!(ok, "{err}");
        let queued = storage.pending_pushes(sandbox).await.expect("count");
        let started = Instant::now();
        let mut servers = Vec::new();
        for _ in 0..n {
            servers.push(TestServer::start(&db, &["serve"]).await);
        }
        while storage.pending_pushes(sandbox).await.expect("count") > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let elapsed = started.elapsed();
        let twice = storage
            .recent_events(Some(sandbox), None, 1_000_000)
            .await
            .expect("events")
            .iter()
            .filter(|e| e.error.as_deref().is_some_and(|m| m.contains("not applied")))
            .count();
        println!(
            "{n} processes on PostgreSQL → Sandbox store: {queued} quantities in {:.1} s = {:.0}/s; {twice} stale compares (a row pushed twice at once)",
            elapsed.as_secs_f64(),
            queued as f64 / elapsed.as_secs_f64()
        );
        for server in servers {
            server.stop().await;
        }
        storage.close().await;
    }
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

/// Timed GETs of one dashboard page after a few untimed ones; checks each
/// answer is the page (200 and `marker` in the HTML) and returns (p50, p95).
async fn time_page(client: &reqwest::Client, url: &str, marker: &str, requests: usize) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(requests);
    for i in 0..requests + 5 {
        let started = Instant::now();
        let response = client.get(url).send().await.expect("page request");
        let status = response.status();
        let body = response.text().await.expect("page body");
        let elapsed = started.elapsed();
        assert!(
            status == 200 && body.contains(marker),
            "{url} answered {status} without {marker:?}"
        );
        if i >= 5 {
            times.push(elapsed);
        }
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The server's resident memory now and at its peak, from /proc.
fn resident_memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "?".into())
    };
    format!("{} (peak {})", field("VmRSS:"), field("VmHWM:"))
}

/// Drops a benchmark's PostgreSQL database; a large store is not worth keeping.
async fn drop_postgres(db: &Database) {
    let admin_url =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let Some((_, name)) = db.url.rsplit_once('/') else {
        return;
    };
    if let Ok(admin) = sync_core::Storage::connect(&admin_url).await {
        let _ = admin
            .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        admin.close().await;
    }
}

/// DESIGN.md section 8 with a large store, over HTTP as a signed-in owner:
/// the products page (first, filtered and deep keyset pages), Sync History
/// filtered over all events, bulk Auto Sync on for every product, and the
/// server's memory afterwards.
async fn dashboard(db: Database, label: &str, products: usize, events: usize) {
    const REQUESTS: usize = 100;
    let seeding = Instant::now();
    let (ok, out, err) = cli_within(
        &db,
        &[
            "demo",
            "--products",
            &products.to_string(),
            "--events",
            &events.to_string(),
        ],
        "",
        Duration::from_secs(900),
    )
    .await;
    assert!(ok, "demo --products {products} --events {events} failed: {err}{out}");
    println!(
        "dashboard on {label}: seeded {products} products and {events} Sync History events in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let storage = db.storage().await;
    // The category with the most products low on stock (the demo's single-variant
    // ones), so the filtered page is full: a selective filter, not an empty one.
    let (categories, _) = storage.product_facets().await.expect("facets");
    let mut category = (0, String::new());
    for c in categories {
        let filter = ProductFilter::from_params(None, None, None, Some(&c), None, Some("low")).expect("filter");
        let low = storage.count_products(&filter).await.expect("count");
        if low > category.0 {
            category = (low, c);
        }
    }
    let (matching, category) = category;
    let channel = storage
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("the demo's channel")
        .id;
    // The product halfway through the name order, for a deep keyset page.
    let mut after = None;
    for _ in 0..products / 2 / 500 {
        let page = storage
            .list_products(&ProductFilter {
                after,
                limit: 500,
                ..Default::default()
            })
            .await
            .expect("products");
        after = page.next_after;
    }

    let server = TestServer::start(&db, &["serve"]).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let encoded: String = category
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let pages = [
        ("first page".to_owned(), server.url("/products")),
        (
            format!("stock=low&category={category} ({matching} match)"),
            server.url(&format!("/products?stock=low&category={encoded}")),
        ),
        (
            format!("deep keyset page (after={}, half way)", after.map_or(0, |a| a.get())),
            server.url(&format!("/products?after={}", after.map_or(0, |a| a.get()))),
        ),
    ];
    for (name, url) in &pages {
        let (p50, p95) = time_page(&client, url, "data-product-id", REQUESTS).await;
        println!(
            "  products page, {name}: p50 {}, p95 {} over {REQUESTS} requests (goal p95 < 30 ms)",
            ms(p50),
            ms(p95)
        );
    }
    // Sync History before the bulk action: that wakes the Sandbox store's
    // worker, which then pushes every queued quantity; measured again during it.
    let history = server.url(&format!("/history?status=failed&channel={channel}"));
    let (p50, p95) = time_page(&client, &history, "id=\"runs\"", REQUESTS).await;
    println!(
        "  Sync History, failed runs of the channel over {events} events: p50 {}, p95 {} over {REQUESTS} requests (goal p95 < 50 ms)",
        ms(p50),
        ms(p95)
    );

    // The products table's own form: every product matching the empty filter.
    let form = [
        ("return_to", "/products"),
        ("all_matching", "true"),
        ("q", ""),
        ("auto_sync", ""),
        ("status", ""),
        ("category", ""),
        ("brand", ""),
        ("stock", ""),
        ("action", "auto_sync_on"),
    ];
    let started = Instant::now();
    let response = client
        .post(server.url("/api/bulk_products"))
        .header("origin", &server.base)
        .header("accept", "text/html")
        .form(&form)
        .send()
        .await
        .expect("bulk request");
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 303, "the bulk action redirects back");
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let notice = reqwest::Url::parse(&server.url(&location))
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "notice")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    assert!(
        notice.starts_with("Auto Sync turned on"),
        "bulk action failed: {notice}"
    );
    let queued = notice
        .split("; ")
        .nth(1)
        .and_then(|q| q.split(' ').next())
        .unwrap_or("0");
    println!(
        "  bulk Auto Sync on for all {products} products: {} ({queued} quantity pushes queued in the same transaction; goal < 2 s)",
        ms(elapsed)
    );
    let (p50, p95) = time_page(&client, &history, "id=\"runs\"", REQUESTS).await;
    println!(
        "  Sync History again, while the Sandbox store's worker pushes what was queued: p50 {}, p95 {}",
        ms(p50),
        ms(p95)
    );
    if let Some(pid) = server.pid() {
        println!("  server resident memory afterwards: {}", resident_memory(pid));
    }
    server.stop().await;
    storage.close().await;
    if db.url.starts_with("postgres") {
        drop_postgres(&db).await;
    }
}

/// Catalog pushes: from a product edit accepted by the API to the shop
/// showing it (p50/p99 over 100 edits), then product pushes per second to
/// the Shopify test server against what its bucket allows.
async fn catalog() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.add_location(LOCATION);
    connect(&db, &shop).await;
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name("Shopify")
        .await
        .expect("read")
        .expect("channel")
        .id;
    let page = storage
        .list_products(&ProductFilter {
            limit: 300,
            ..Default::default()
        })
        .await
        .expect("products");
    let skus: Vec<String> = page
        .items
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .collect();
    let mut args = vec!["autosync", "on", "--sku"];
    args.extend(skus.iter().map(String::as_str));
    let (ok, _, err) = cli(&db, &args, "").await;
    assert!(ok, "{err}");
    while storage.pending_pushes(channel).await.expect("count") > 0 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let token = api_token(&db, "manager").await;
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    for i in 0..100 {
        let product = &page.items[(i * 37) % page.items.len()];
        let sku = &product.variants[0].sku;
        let name = format!("{} (edit {i})", product.name);
        let response = client
            .patch(server.url(&format!("/api/v1/products/{}", product.id)))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("sent");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
        let accepted = Instant::now();
        loop {
            if shop.product_by_sku(sku).is_some_and(|p| p["title"] == name.as_str()) {
                break;
            }
            if accepted.elapsed() > Duration::from_secs(20) {
                println!("  edit {i} of {sku} never reached the shop");
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(accepted.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    latencies.sort();
    println!(
        "catalog latency, product edit accepted by the API → shown in the shop (100 edits): p50 {:.0} ms, p99 {:.0} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    // Every listed product written again at once, as a force sync or the schedule does.
    let listed = storage.listed_products(channel).await.expect("listed");
    let calls_before = shop.stats().calls.get("productSet").copied().unwrap_or(0);
    shop.faults().set_bucket_available(0.0);
    let started = Instant::now();
    storage.enqueue_catalog(&listed, Some(channel)).await.expect("queued");
    while storage.pending_catalog_pushes(channel).await.expect("count") > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let stats = shop.stats();
    let calls = stats.calls.get("productSet").copied().unwrap_or(0) - calls_before;
    let cost = stats.last_cost.unwrap_or(10.0);
    // From an empty bucket, the restore rate (100 points/s) is the ceiling.
    let ceiling = calls as f64 * cost / 100.0;
    println!(
        "catalog throughput: {} product writes in {:.1} s = {:.1}/s ({calls} productSet calls, {} throttled); the bucket allows {:.1}/s at {cost:.0} points each: {:.0} % of it",
        listed.len(),
        elapsed.as_secs_f64(),
        listed.len() as f64 / elapsed.as_secs_f64(),
        stats.throttled,
        100.0 / cost,
        100.0 * ceiling / elapsed.as_secs_f64()
    );
    storage.close().await;
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
    if run("orders") {
        orders().await;
    }
    if run("catalog") {
        catalog().await;
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
    if run("processes") {
        let count = std::env::var("BENCH_SHARED_QUANTITIES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(20_000);
        processes(count).await;
    }
    if run("dashboard") {
        let size =
            |name: &str, default: usize| std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default);
        let (products, events) = (size("BENCH_PRODUCTS", 100_000), size("BENCH_EVENTS", 1_000_000));
        dashboard(Database::sqlite(), "SQLite", products, events).await;
        dashboard(Database::postgres().await, "PostgreSQL", products, events).await;
    }
}
