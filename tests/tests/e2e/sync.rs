//! Tillbridge against the Shopify test server over real HTTP: bursts of
//! movements end with every quantity in the shop equal to its syncable
//! balance, through crashes, outages, throttling and 5xx answers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use sync_core::domain::ChannelId;
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::{
    Database, TestServer, api_token, auto_sync_on, cli, connect_shopify, first_skus, post_movements,
};

const LOCATION: &str = "Main warehouse";
const CHANNEL: &str = "Shopify";

/// A shop with one location, connected as a channel combining all three outlets.
async fn connect_shop(db: &Database, config: ShopConfig) -> (ShopifyTestServer, String, ChannelId) {
    let shop = ShopifyTestServer::start(config).await;
    let location = shop.add_location(LOCATION);
    let channel = connect_shopify(db, &shop, CHANNEL, LOCATION).await;
    (shop, location, channel)
}

/// The first `n` demo SKUs (by name order) and Auto Sync on for their products.
async fn auto_sync_skus(db: &Database, n: usize) -> Vec<String> {
    let skus = first_skus(db, n).await;
    auto_sync_on(db, &skus).await;
    skus
}

/// SKU → syncable balance for every Auto Sync variant, read from the database.
async fn expected(db: &Database, channel: ChannelId) -> HashMap<String, i64> {
    let storage = db.storage().await;
    let balances = storage.all_balances(channel).await.expect("balances");
    let mut out = HashMap::new();
    let mut after = None;
    loop {
        let page = storage
            .list_products(&sync_core::storage::ProductFilter {
                limit: 500,
                after,
                ..Default::default()
            })
            .await
            .expect("products");
        for p in page.items.iter().filter(|p| p.auto_sync) {
            for v in &p.variants {
                out.insert(v.sku.clone(), balances.get(&v.id).copied().unwrap_or(0));
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    storage.close().await;
    out
}

/// Waits until the shop shows every balance; returns how long it took.
async fn converge(
    db: &Database,
    channel: ChannelId,
    shop: &ShopifyTestServer,
    location: &str,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        let want = expected(db, channel).await;
        let wrong: Vec<(String, i64, Option<i64>)> = want
            .iter()
            .filter(|(sku, q)| shop.available(sku, location) != Some(**q))
            .map(|(sku, q)| (sku.clone(), *q, shop.available(sku, location)))
            .take(5)
            .collect();
        if wrong.is_empty() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "not converged after {limit:?}; e.g. (sku, balance, shop): {wrong:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Ten requests of 1,000 movements over `skus` and the three outlets.
fn burst(skus: &[String], requests: usize) -> Vec<String> {
    let outlets = ["downtown", "harbour", "warehouse"];
    let mut seed: u64 = 42;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..requests)
        .map(|_| {
            let movements: Vec<_> = (0..1000)
                .map(|_| {
                    let sku = &skus[(next() % skus.len() as u64) as usize];
                    let outlet = outlets[(next() % 3) as usize];
                    match next() % 10 {
                        0 => json!({"sku": sku, "outlet": outlet, "count": next() % 40, "reason": "manual_adjustment"}),
                        r => {
                            let delta = (next() % 9) as i64 - 4;
                            let delta = if delta == 0 { 3 } else { delta };
                            let reason = if r < 6 { "sales_order" } else { "purchase_order" };
                            json!({"sku": sku, "outlet": outlet, "delta": delta, "reason": reason})
                        }
                    }
                })
                .collect();
            json!({ "movements": movements }).to_string()
        })
        .collect()
}

/// Posts one request until it is answered 200 (retries reuse its key).
async fn deliver(server: &TestServer, token: &str, body: &str, key: &str) {
    for _ in 0..50 {
        if let Ok(r) = post_movements(server, token, body.to_owned(), Some(key)).await {
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("request {key} never got through");
}

/// Failed item events grouped by error, for the report.
async fn failures_report(db: &Database, channel: ChannelId) -> String {
    let storage = db.storage().await;
    let events = storage
        .recent_events(Some(channel), Some(sync_core::storage::EventResult::Failed), 100_000)
        .await
        .expect("events");
    let mut by_error: HashMap<String, usize> = HashMap::new();
    for e in &events {
        let text: String = e.error.clone().unwrap_or_default().chars().take(90).collect();
        *by_error.entry(text).or_default() += 1;
    }
    let mut lines: Vec<(usize, String)> = by_error.into_iter().map(|(k, v)| (v, k)).collect();
    lines.sort_by(|a, b| b.cmp(a));
    storage.close().await;
    lines
        .iter()
        .take(5)
        .map(|(n, e)| format!("{n}× {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn deliver_all(server: &TestServer, token: &str, bodies: &[String], tag: &str) {
    for (i, body) in bodies.iter().enumerate() {
        deliver(server, token, body, &format!("{tag}-{i}")).await;
    }
}

/// Each item's applied sets form one compare-and-set chain: every set
/// started from the figure the previous one left, so none was out of date.
fn assert_unbroken_chains(shop: &ShopifyTestServer) {
    let mut last: HashMap<String, i64> = HashMap::new();
    for set in shop.applied_sets() {
        if let (Some(from), Some(prev)) = (set.change_from, last.get(&set.inventory_item_id)) {
            assert_eq!(from, *prev, "a set of {} started from a stale figure", set.sku);
        }
        last.insert(set.inventory_item_id.clone(), set.quantity);
    }
}

#[tokio::test]
async fn a_burst_of_10000_movements_ends_exact_in_shopify() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(&db, ShopConfig::default()).await;
    let skus = auto_sync_skus(&db, 500).await;
    let token = api_token(&db, "manager").await;
    converge(&db, channel, &shop, &location, Duration::from_secs(120)).await;
    let calls_before = shop.stats().calls.get("inventorySetQuantities").copied().unwrap_or(0);
    let sent = Instant::now();
    let bodies = burst(&skus, 10);
    for (i, body) in bodies.iter().enumerate() {
        deliver(&server, &token, body, &format!("burst-{i}")).await;
    }
    let took = converge(&db, channel, &shop, &location, Duration::from_secs(120)).await;
    let calls = shop.stats().calls.get("inventorySetQuantities").copied().unwrap_or(0) - calls_before;
    eprintln!(
        "burst of 10,000 movements over {} SKUs: exact in the shop {:?} after the first request ({:?} after the last); {calls} inventorySetQuantities calls",
        skus.len(),
        sent.elapsed(),
        took
    );
    assert_unbroken_chains(&shop);
    server.stop().await;
}

#[tokio::test]
async fn killed_twice_mid_burst_it_still_ends_exact() {
    let db = Database::sqlite();
    let mut server = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(&db, ShopConfig::default()).await;
    let skus = auto_sync_skus(&db, 500).await;
    let token = api_token(&db, "manager").await;
    let bodies = burst(&skus, 10);
    for (i, body) in bodies.iter().enumerate() {
        deliver(&server, &token, body, &format!("kill-{i}")).await;
        if i == 3 || i == 6 {
            // SIGKILL while pushes are in flight, then start again on the same database.
            server.stop().await;
            server = TestServer::start(&db, &["serve"]).await;
        }
    }
    // A retried request (the client never saw its answer) must not apply twice.
    deliver(&server, &token, &bodies[9], "kill-9").await;
    let took = converge(&db, channel, &shop, &location, Duration::from_secs(120)).await;
    eprintln!("killed twice: failures seen: {}", failures_report(&db, channel).await);
    let storage = db.storage().await;
    let runs = storage.recent_runs(Some(channel), 10_000).await.expect("runs");
    eprintln!(
        "killed twice: exact {took:?} after the last request; {} interrupted runs; {} idempotent replays in the shop",
        runs.iter().filter(|r| r.status.as_str() == "interrupted").count(),
        shop.stats().idempotent_replays
    );
    assert_unbroken_chains(&shop);
    server.stop().await;
}

#[tokio::test]
async fn outages_throttling_and_server_errors_still_end_exact_and_show_in_history() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(
        &db,
        ShopConfig {
            bucket_size: 1000.0,
            restore_rate: 50.0,
            ..ShopConfig::default()
        },
    )
    .await;
    let skus = auto_sync_skus(&db, 300).await;
    let token = api_token(&db, "manager").await;
    converge(&db, channel, &shop, &location, Duration::from_secs(120)).await;
    let bodies = burst(&skus, 6);
    shop.faults().set_down(true);
    deliver(&server, &token, &bodies[0], "f-0").await;
    deliver(&server, &token, &bodies[1], "f-1").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    shop.faults().set_down(false);
    shop.faults().set_error_rate(0.2);
    for (i, body) in bodies.iter().enumerate().skip(2) {
        deliver(&server, &token, body, &format!("f-{i}")).await;
    }
    let took = converge(&db, channel, &shop, &location, Duration::from_secs(180)).await;
    shop.faults().set_error_rate(0.0);
    eprintln!("faults: failures seen: {}", failures_report(&db, channel).await);
    let stats = shop.stats();
    let storage = db.storage().await;
    let failed = storage
        .failures_since(
            channel,
            sync_core::domain::Timestamp::from(chrono::Utc::now() - chrono::TimeDelta::hours(1)),
        )
        .await
        .expect("count");
    let events = storage
        .recent_events(Some(channel), None, 100_000)
        .await
        .expect("events");
    let recovered = events
        .iter()
        .filter(|e| e.result.as_str() == "succeeded" && e.attempt > 1)
        .count();
    eprintln!(
        "faults: exact {took:?} after the last request; shop answered {} 5xx, throttled {} calls; history: {failed} failed item events, {recovered} pushes that succeeded on a retry",
        stats.injected_errors, stats.throttled
    );
    assert!(failed > 0, "the outage and the 5xx answers show in the Sync History");
    assert!(recovered > 0, "and so do the recoveries");
    assert_unbroken_chains(&shop);
    server.stop().await;
}

#[tokio::test]
async fn a_thousand_changes_to_one_sku_in_a_second_cost_a_handful_of_calls() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(&db, ShopConfig::default()).await;
    let skus = auto_sync_skus(&db, 1).await;
    let token = api_token(&db, "manager").await;
    converge(&db, channel, &shop, &location, Duration::from_secs(30)).await;
    let before = shop.stats().calls.get("inventorySetQuantities").copied().unwrap_or(0);
    let started = Instant::now();
    for request in 0..10 {
        let movements: Vec<_> = (0..100)
            .map(|i| json!({"sku": skus[0], "outlet": "downtown", "delta": if (request + i) % 2 == 0 { 2 } else { -1 }, "reason": "sales_order"}))
            .collect();
        deliver(
            &server,
            &token,
            &json!({ "movements": movements }).to_string(),
            &format!("one-{request}"),
        )
        .await;
    }
    let sending = started.elapsed();
    converge(&db, channel, &shop, &location, Duration::from_secs(30)).await;
    let calls = shop.stats().calls.get("inventorySetQuantities").copied().unwrap_or(0) - before;
    eprintln!("1,000 changes to one SKU sent in {sending:?} cost {calls} inventorySetQuantities calls");
    assert!(calls <= 10, "{calls} calls for one SKU");
    server.stop().await;
}

#[tokio::test]
async fn two_processes_on_one_postgres_database_share_a_burst_and_end_exact() {
    let db = Database::postgres().await;
    let first = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(&db, ShopConfig::default()).await;
    let second = TestServer::start(&db, &["serve"]).await;
    let skus = auto_sync_skus(&db, 500).await;
    let token = api_token(&db, "manager").await;
    let bodies = burst(&skus, 10);
    let (a, b) = bodies.split_at(5);
    tokio::join!(
        deliver_all(&first, &token, a, "a"),
        deliver_all(&second, &token, b, "b")
    );
    let took = converge(&db, channel, &shop, &location, Duration::from_secs(180)).await;
    let stats = shop.stats();
    eprintln!(
        "two processes on PostgreSQL: exact {took:?} after the last request; {} stale answers, {} calls",
        stats.stale_answers,
        stats.calls.get("inventorySetQuantities").copied().unwrap_or(0)
    );
    assert_eq!(
        stats.stale_answers, 0,
        "no row was pushed by both processes at once: {:?}",
        stats.stale_log
    );
    assert_unbroken_chains(&shop);
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn products_are_created_with_their_fields_and_a_standard_sync_pushes_edits() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(&db, ShopConfig::default()).await;
    let skus = auto_sync_skus(&db, 3).await;
    converge(&db, channel, &shop, &location, Duration::from_secs(30)).await;
    let storage = db.storage().await;
    let page = storage
        .list_products(&sync_core::storage::ProductFilter {
            sku: Some(sync_core::domain::Sku::parse(&skus[0]).expect("sku")),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("product");
    let ours = &page.items[0];
    let theirs = shop.product_by_sku(&skus[0]).expect("created in the shop");
    assert_eq!(theirs["title"], ours.name.as_str());
    assert_eq!(theirs["vendor"], ours.brand.as_str());
    assert_eq!(theirs["productType"], ours.category.as_str());
    assert_eq!(theirs["status"], if ours.active { "ACTIVE" } else { "DRAFT" });
    let variant = theirs["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .find(|v| v["sku"] == skus[0].as_str())
        .expect("variant");
    let price = ours.variants[0].price_minor;
    assert_eq!(
        variant["price"]
            .as_str()
            .map(|p| p.replace('.', "").parse::<i64>().ok()),
        Some(Some(price))
    );
    assert_eq!(variant["barcode"].as_str(), ours.variants[0].barcode.as_deref());
    let options: Vec<&str> = theirs["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(options, ours.option_names());

    // An edit in Tillbridge reaches the shop with the next standard sync; a
    // second one has nothing to do. The product pushes Auto Sync queued go
    // first: one still in flight would be the one to carry the edit.
    tillbridge_tests::wait_until("the queued product pushes sent", 30, || async {
        storage.pending_catalog_pushes(channel).await.expect("pending") == 0
    })
    .await;
    storage
        .execute_admin(&format!(
            "UPDATE products SET name = 'Renamed Crew Tee', brand = 'Salt Road' WHERE id = {}",
            ours.id
        ))
        .await
        .expect("edited");
    let (ok, out, err) = cli(&db, &["sync", "--channel", CHANNEL], "").await;
    assert!(ok, "{err}{out}");
    assert!(out.contains("1 products updated"), "{out}");
    let theirs = shop.product_by_sku(&skus[0]).expect("still there");
    assert_eq!(
        (theirs["title"].as_str(), theirs["vendor"].as_str()),
        (Some("Renamed Crew Tee"), Some("Salt Road"))
    );
    assert_eq!(
        shop.available(&skus[0], &location),
        expected(&db, channel).await.get(&skus[0]).copied(),
        "quantities untouched"
    );
    let (ok, out, _) = cli(&db, &["sync", "--channel", CHANNEL], "").await;
    assert!(ok && out.contains("0 products updated"), "{out}");
    server.stop().await;
}

#[tokio::test]
async fn a_sku_the_shop_holds_under_another_product_is_a_conflict_not_an_overwrite() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(&db, ShopConfig::default()).await;
    // Two of our products' SKUs sit together in one product in the shop.
    let storage = db.storage().await;
    let page = storage
        .list_products(&sync_core::storage::ProductFilter {
            limit: 2,
            ..Default::default()
        })
        .await
        .expect("products");
    let (a, b) = (
        page.items[0].variants[0].sku.clone(),
        page.items[1].variants[0].sku.clone(),
    );
    shop.add_product(
        "Bundle made in the shop",
        &[(a.as_str(), 5), (b.as_str(), 6)],
        &location,
    );
    let (ok, _, err) = cli(&db, &["autosync", "on", "--sku", &a], "").await;
    assert!(ok, "{err}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while shop.available(&a, &location) != expected(&db, channel).await.get(&a).copied() {
        assert!(Instant::now() < deadline, "{a} was linked by SKU and pushed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(shop.product_count(), 1, "linked, not created again");
    let (ok, _, err) = cli(&db, &["autosync", "on", "--sku", &b], "").await;
    assert!(ok, "{err}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let conflict = loop {
        let open = storage.open_conflicts(Some(channel)).await.expect("conflicts");
        if let Some(c) = open.into_iter().find(|c| c.sku.as_deref() == Some(b.as_str())) {
            break c;
        }
        assert!(Instant::now() < deadline, "no conflict for {b}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(conflict.kind.as_str(), "sku_elsewhere");
    assert_eq!(
        shop.available(&b, &location),
        Some(6),
        "the shop's figure for {b} was not overwritten"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_graceful_stop_finishes_or_releases_claimed_pushes() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (shop, location, channel) = connect_shop(&db, ShopConfig::default()).await;
    let skus = auto_sync_skus(&db, 20).await;
    converge(&db, channel, &shop, &location, Duration::from_secs(30)).await;
    // Slow answers keep a push in flight while the stop is asked for.
    shop.faults().set_delay(Duration::from_millis(1500));
    let token = api_token(&db, "manager").await;
    let movements: Vec<_> = skus
        .iter()
        .map(|s| json!({"sku": s, "outlet": "harbour", "delta": 3, "reason": "purchase_order"}))
        .collect();
    deliver(
        &server,
        &token,
        &json!({ "movements": movements }).to_string(),
        "stop-1",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.terminate().await, "tillbridge exits cleanly on SIGTERM");
    let storage = db.storage().await;
    assert_eq!(
        storage.recover_outbox_after_crash().await.expect("checked"),
        0,
        "no push was left claimed"
    );
    storage.close().await;
    shop.faults().set_delay(Duration::ZERO);
    let server = TestServer::start(&db, &["serve"]).await;
    converge(&db, channel, &shop, &location, Duration::from_secs(30)).await;
    server.stop().await;
}
