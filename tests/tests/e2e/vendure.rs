//! Against a real Vendure 3.7 (the project's kit, started by the test): a
//! catalog pushed and read back field by field, a burst of movements that
//! ends with every saleable figure equal to the balance, one stock kept
//! exact across a Vendure and a Shopify channel (with the last unit sold
//! in both at once), orders placed while Tillbridge is stopped, and every
//! product edit (fields, options, images, variants, deletion) arriving in
//! Vendure by itself within seconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use sync_core::domain::{ChannelId, OutletId, ProductId, VariantId};
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::vendure::{ImageServer, VendureServer, connect_vendure, connect_vendure_with_webhook, gif};
use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, api_token, auto_sync_on, browser_like_client, cli, form_post,
    location, post_movements, sign_in,
};

const DOWNTOWN: OutletId = OutletId::new(1);
const DEFAULT_LOCATION: &str = "Default Stock Location";

/// Our products 1..=n (details), and SKU → variant id of all their variants.
async fn products(db: &Database, n: i64) -> (Vec<sync_core::storage::ProductDetail>, HashMap<String, VariantId>) {
    let storage = db.storage().await;
    let mut out = Vec::new();
    let mut ids = HashMap::new();
    for id in 1..=n {
        let p = storage
            .get_product(ProductId::new(id))
            .await
            .expect("read")
            .expect("a demo product");
        for v in &p.variants {
            ids.insert(v.sku.clone(), v.id);
        }
        out.push(p);
    }
    storage.close().await;
    (out, ids)
}

/// SKU → the channel's syncable balance.
async fn balances(db: &Database, channel: ChannelId, ids: &HashMap<String, VariantId>) -> HashMap<String, i64> {
    let storage = db.storage().await;
    let variants: Vec<VariantId> = ids.values().copied().collect();
    let b = storage.balances(channel, &variants).await.expect("balances");
    storage.close().await;
    ids.iter()
        .map(|(sku, v)| (sku.clone(), b.get(v).copied().unwrap_or(0)))
        .collect()
}

/// Waits until Vendure's saleable figure of every SKU equals its balance.
async fn converge_vendure(
    db: &Database,
    channel: ChannelId,
    vendure: &VendureServer,
    location: &str,
    ids: &HashMap<String, VariantId>,
    limit: Duration,
) -> Duration {
    let start = Instant::now();
    let skus: Vec<String> = ids.keys().cloned().collect();
    loop {
        let want = balances(db, channel, ids).await;
        let have = vendure.saleable(&skus, location).await;
        let wrong: Vec<(&String, &i64, Option<&i64>)> = want
            .iter()
            .filter(|(sku, q)| have.get(*sku) != Some(*q))
            .map(|(sku, q)| (sku, q, have.get(sku)))
            .take(5)
            .collect();
        if wrong.is_empty() {
            return start.elapsed();
        }
        if start.elapsed() > limit {
            panic!(
                "Vendure not exact after {limit:?}; e.g. (sku, balance, saleable): {wrong:?}; failures: {}",
                failures(db, channel).await
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Failed item events grouped by error, for a failure's message.
async fn failures(db: &Database, channel: ChannelId) -> String {
    let storage = db.storage().await;
    let events = storage
        .recent_events(Some(channel), Some(sync_core::storage::EventResult::Failed), 10_000)
        .await
        .expect("events");
    let mut by_error: HashMap<String, usize> = HashMap::new();
    for e in &events {
        let text: String = e.error.clone().unwrap_or_default().chars().take(300).collect();
        let text = text
            .split(" is not in the channel")
            .last()
            .unwrap_or_default()
            .to_owned();
        *by_error.entry(text).or_default() += 1;
    }
    storage.close().await;
    let mut lines: Vec<(usize, String)> = by_error.into_iter().map(|(k, v)| (v, k)).collect();
    lines.sort_by(|a, b| b.cmp(a));
    lines
        .iter()
        .take(5)
        .map(|(n, e)| format!("{n}× {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn on_hand(db: &Database, variant: VariantId, outlet: OutletId) -> i64 {
    let storage = db.storage().await;
    let levels = storage.on_hand_of(&[variant]).await.expect("on hand");
    storage.close().await;
    levels.get(&(variant, outlet)).copied().unwrap_or(0)
}

/// Sets each SKU's count at each outlet through the API.
async fn count(server: &TestServer, token: &str, counts: &[(&str, &str, i64)], key: &str) {
    let movements: Vec<_> = counts
        .iter()
        .map(|(sku, outlet, n)| json!({"sku": sku, "outlet": outlet, "count": n, "reason": "manual_adjustment"}))
        .collect();
    let r = post_movements(server, token, json!({ "movements": movements }).to_string(), Some(key))
        .await
        .expect("post movements");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test]
async fn vendure_200_products_read_back_by_sku_then_a_burst_of_2000_movements_ends_exact() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let vendure = VendureServer::start().await;
    // One Vendure stock location per channel, found by name.
    let location = vendure.create_stock_location("Tillbridge online").await;
    let channel = connect_vendure(
        &db,
        &vendure,
        "Vendure",
        "Tillbridge online",
        "downtown,harbour,warehouse",
    )
    .await;
    let (details, ids) = products(&db, 200).await;
    let skus: Vec<String> = details
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .collect();

    let started = Instant::now();
    auto_sync_on(&db, &skus).await;
    let took = converge_vendure(&db, channel, &vendure, &location, &ids, Duration::from_secs(600)).await;
    let took = took.max(started.elapsed());
    eprintln!(
        "vendure: 200 products ({} variants) pushed in {:.1} s = {:.1} products/s, {:.1} variants/s",
        skus.len(),
        took.as_secs_f64(),
        200.0 / took.as_secs_f64(),
        skus.len() as f64 / took.as_secs_f64()
    );

    // Read back by SKU and compare every field and quantity.
    let want = balances(&db, channel, &ids).await;
    let variants = vendure.variants(&skus).await;
    assert_eq!(variants.len(), skus.len(), "every SKU is in Vendure once");
    let by_sku: HashMap<&str, &serde_json::Value> =
        variants.iter().map(|v| (v["sku"].as_str().expect("sku"), v)).collect();
    let mut product_ids = HashMap::new();
    for p in &details {
        for v in &p.variants {
            let theirs = by_sku
                .get(v.sku.as_str())
                .unwrap_or_else(|| panic!("{} is in Vendure", v.sku));
            let product = &theirs["product"];
            assert_eq!(product["name"], p.name, "{}: product name", v.sku);
            assert_eq!(product["description"], p.description, "{}: description", v.sku);
            assert_eq!(product["enabled"], p.active, "{}: enabled", v.sku);
            assert_eq!(theirs["enabled"], p.active, "{}: variant enabled", v.sku);
            assert_eq!(
                theirs["price"].as_i64(),
                v.price().map(|m| m.minor),
                "{}: price in minor units",
                v.sku
            );
            // Options: each of our option names and values, in order.
            let mut options: Vec<(String, String)> = theirs["options"]
                .as_array()
                .expect("options")
                .iter()
                .map(|o| {
                    (
                        o["group"]["name"].as_str().unwrap_or_default().to_owned(),
                        o["name"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            let mut ours: Vec<(String, String)> = p
                .option_names()
                .iter()
                .zip(v.option_values())
                .map(|(n, val)| (n.to_string(), val.to_owned()))
                .collect();
            if ours.is_empty() && p.variants.len() > 1 {
                ours = vec![("Variant".to_owned(), v.sku.clone())];
            }
            options.sort();
            ours.sort();
            assert_eq!(options, ours, "{}: options", v.sku);
            let level = theirs["stockLevels"]
                .as_array()
                .expect("levels")
                .iter()
                .find(|l| l["stockLocationId"] == location.as_str())
                .unwrap_or_else(|| panic!("{} is stocked at our location", v.sku));
            let saleable =
                level["stockOnHand"].as_i64().expect("on hand") - level["stockAllocated"].as_i64().expect("allocated");
            assert_eq!(Some(saleable), want.get(&v.sku).copied(), "{}: quantity", v.sku);
            // All variants of one of our products sit under one Vendure product.
            let pid = product["id"].as_str().expect("product id").to_owned();
            assert_eq!(
                product_ids.entry(p.id).or_insert_with(|| pid.clone()),
                &pid,
                "{}: product",
                v.sku
            );
        }
    }
    let distinct: std::collections::HashSet<&String> = product_ids.values().collect();
    assert_eq!(distinct.len(), 200, "200 products in Vendure");

    // A burst of 2,000 movements over those SKUs and the three outlets.
    let token = api_token(&db, "manager").await;
    let outlets = ["downtown", "harbour", "warehouse"];
    let mut seed: u64 = 7;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let sent = Instant::now();
    for request in 0..2 {
        let movements: Vec<_> = (0..1000)
            .map(|_| {
                let sku = &skus[(next() % skus.len() as u64) as usize];
                let outlet = outlets[(next() % 3) as usize];
                if next() % 10 == 0 {
                    json!({"sku": sku, "outlet": outlet, "count": next() % 40, "reason": "manual_adjustment"})
                } else {
                    let delta = (next() % 9) as i64 - 4;
                    let delta = if delta == 0 { 3 } else { delta };
                    json!({"sku": sku, "outlet": outlet, "delta": delta, "reason": "sales_order"})
                }
            })
            .collect();
        let r = post_movements(
            &server,
            &token,
            json!({ "movements": movements }).to_string(),
            Some(&format!("vendure-burst-{request}")),
        )
        .await
        .expect("post");
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    }
    let last_sent = sent.elapsed();
    converge_vendure(&db, channel, &vendure, &location, &ids, Duration::from_secs(180)).await;
    eprintln!(
        "vendure: a burst of 2,000 movements over {} SKUs: every saleable quantity equals the balance {:.1} s after the first request ({:.1} s after the last)",
        skus.len(),
        sent.elapsed().as_secs_f64(),
        (sent.elapsed() - last_sent).as_secs_f64()
    );
    server.stop().await;
}

/// Vendure's variant id of each SKU.
async fn vendure_ids(vendure: &VendureServer, skus: &[String]) -> HashMap<String, String> {
    vendure
        .variants(skus)
        .await
        .iter()
        .filter_map(|v| Some((v["sku"].as_str()?.to_owned(), v["id"].as_str()?.to_owned())))
        .collect()
}

/// Waits for `check` to hold; returns how long it took.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn one_stock_two_channels_vendure_and_shopify_orders_move_each_other_and_the_last_unit_is_never_silently_sold_twice()
 {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.allow_loopback_webhooks(true);
    let shop_location = shop.add_location("Main warehouse");
    let vendure = VendureServer::start().await;
    let (ok, _, err) = cli(&db, &["autosync", "off", "--all"], "").await;
    assert!(ok, "{err}");
    let base = shop.base_url();
    let args = [
        "channel",
        "add",
        "shopify",
        "--name",
        "Shopify",
        "--shop-domain",
        "tillbridge-test.myshopify.com",
        "--api-base-url",
        &base,
        "--location",
        "Main warehouse",
        "--outlets",
        "downtown,warehouse",
        "--public-url",
        &server.base,
    ];
    let (ok, out, err) = cli(&db, &args, &format!("{}\n{}\n", shop.token(), shop.client_secret())).await;
    assert!(ok, "{err}{out}");
    let (vendure_channel, webhook) =
        connect_vendure_with_webhook(&db, &vendure, "Vendure", DEFAULT_LOCATION, "downtown,warehouse").await;
    vendure.forward_webhooks_to(Some(server.url(&webhook)));
    let shop_channel = db
        .storage()
        .await
        .channel_by_name("Shopify")
        .await
        .expect("read")
        .expect("channel")
        .id;

    // Two SKUs: A with plenty, B with its last unit.
    let (details, _) = products(&db, 2).await;
    let a = details[0].variants[0].sku.clone();
    let b = details[1].variants[0].sku.clone();
    let token = api_token(&db, "manager").await;
    count(
        &server,
        &token,
        &[
            (&a, "downtown", 100),
            (&a, "warehouse", 0),
            (&b, "downtown", 1),
            (&b, "warehouse", 0),
        ],
        "two-channels-stock",
    )
    .await;
    let skus: Vec<String> = details
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .collect();
    auto_sync_on(&db, &skus).await;
    let (_, ids) = products(&db, 2).await;
    converge_vendure(&db, vendure_channel, &vendure, "1", &ids, Duration::from_secs(60)).await;
    let shop_balances = balances(&db, shop_channel, &ids).await;
    within(Duration::from_secs(60), "Shopify shows the balances", || {
        let ok = shop_balances
            .iter()
            .all(|(sku, q)| shop.available(sku, &shop_location) == Some(*q));
        async move { ok }
    })
    .await;
    assert_eq!(shop.available(&a, &shop_location), Some(100));
    assert_eq!(shop.available(&b, &shop_location), Some(1));
    let vid = vendure_ids(&vendure, &skus).await;

    // 50 orders through Vendure's Shop API: each lowers Shopify's quantity.
    let mut latencies = Vec::new();
    for i in 0..50 {
        vendure
            .place_order(&[(vid[&a].clone(), 1)])
            .await
            .unwrap_or_else(|e| panic!("Vendure order {i} refused: {e}"));
        let want = 100 - (i + 1);
        let took = within(Duration::from_secs(30), "Shopify follows a Vendure order", || {
            let ok = shop.available(&a, &shop_location) == Some(want);
            async move { ok }
        })
        .await;
        latencies.push(took);
    }
    latencies.sort();
    eprintln!(
        "vendure: a Vendure order to the Shopify test server's new quantity, over 50 orders: p50 {} ms, p99 {} ms (max {} ms)",
        percentile(&latencies, 0.5).as_millis(),
        percentile(&latencies, 0.99).as_millis(),
        latencies.last().map_or(0, |d| d.as_millis())
    );
    assert_eq!(
        on_hand(&db, ids[&a], DOWNTOWN).await,
        50,
        "each Vendure order applied once"
    );

    // An order in Shopify lowers what a shopper can buy in Vendure.
    shop.place_order(&shop_location, &[(&a, 2)]);
    let took = within(Duration::from_secs(30), "Vendure follows a Shopify order", || {
        let vendure = &vendure;
        let a = a.clone();
        async move { vendure.saleable(std::slice::from_ref(&a), "1").await.get(&a) == Some(&48) }
    })
    .await;
    eprintln!(
        "vendure: a Shopify order to Vendure's new saleable quantity: {} ms",
        took.as_millis()
    );

    // The last unit of B, sold in both channels at the same moment.
    let race_line = [(vid[&b].clone(), 1)];
    let (in_vendure, ()) = tokio::join!(vendure.place_order(&race_line), async {
        shop.place_order(&shop_location, &[(&b, 1)]);
    });
    // Let both orders arrive: each takes its unit from downtown once.
    let sold = if in_vendure.is_ok() { 2 } else { 1 };
    within(Duration::from_secs(30), "both orders applied", || {
        let db = &db;
        let v = ids[&b];
        async move { on_hand(db, v, DOWNTOWN).await == 1 - sold }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let storage = db.storage().await;
    let b_left = on_hand(&db, ids[&b], DOWNTOWN).await;
    let conflicts = storage.open_conflicts(None).await.expect("conflicts");
    let oversold: Vec<String> = conflicts
        .iter()
        .filter(|c| c.detail.contains("oversold") && c.detail.contains(b.as_str()))
        .map(|c| c.detail.clone())
        .collect();
    match &in_vendure {
        Err(refusal) => {
            eprintln!(
                "vendure: last-unit race: Shopify took the unit; Vendure refused its order ({}); stock of {b} left {b_left}",
                refusal.chars().take(160).collect::<String>()
            );
            assert_eq!(b_left, 0, "one sale, applied once");
        }
        Ok(order) => {
            assert!(
                b_left < 0 && !oversold.is_empty(),
                "both channels sold the last unit of {b} (Vendure order {order}) but nothing shows it: stock {b_left}, conflicts {conflicts:?}"
            );
            eprintln!(
                "vendure: last-unit race: both channels accepted their order (Vendure order {order} and a Shopify order) before either heard of the other; Tillbridge applied both (stock of {b} is now {b_left}) and opened a conflict: {}",
                oversold[0]
            );
        }
    }
    // Neither channel is left offering what is not there.
    within(Duration::from_secs(30), "both channels show 0 of B", || {
        let vendure = &vendure;
        let shop = &shop;
        let b = b.clone();
        let loc = shop_location.clone();
        async move {
            let v = vendure.saleable(std::slice::from_ref(&b), "1").await.get(&b).copied();
            v.is_some_and(|q| q <= 0) && shop.available(&b, &loc).is_some_and(|q| q <= 0)
        }
    })
    .await;
    storage.close().await;
    server.stop().await;
}

#[tokio::test]
async fn orders_placed_in_vendure_while_tillbridge_is_stopped_are_applied_exactly_once() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let vendure = VendureServer::start().await;
    let (channel, webhook) =
        connect_vendure_with_webhook(&db, &vendure, "Vendure", DEFAULT_LOCATION, "downtown,warehouse").await;
    vendure.forward_webhooks_to(Some(server.url(&webhook)));
    let (details, ids) = products(&db, 1).await;
    let skus: Vec<String> = details[0].variants.iter().map(|v| v.sku.clone()).collect();
    let a = skus[0].clone();
    let token = api_token(&db, "manager").await;
    count(
        &server,
        &token,
        &[(&a, "downtown", 100), (&a, "warehouse", 0)],
        "stopped-stock",
    )
    .await;
    auto_sync_on(&db, &skus).await;
    converge_vendure(&db, channel, &vendure, "1", &ids, Duration::from_secs(60)).await;
    let vid = vendure_ids(&vendure, &skus).await;

    // Two orders while running: applied at once.
    let first = vendure.place_order(&[(vid[&a].clone(), 1)]).await.expect("order");
    vendure.place_order(&[(vid[&a].clone(), 2)]).await.expect("order");
    within(Duration::from_secs(30), "orders applied while running", || {
        let db = &db;
        let v = ids[&a];
        async move { on_hand(db, v, DOWNTOWN).await == 97 }
    })
    .await;

    // Stopped: 20 orders of 1 or 2 units, one of them cancelled, and one
    // from before the stop cancelled too. Their webhooks are lost.
    assert!(server.terminate().await, "clean stop");
    vendure.forward_webhooks_to(None);
    let mut taken = 0;
    let mut placed = Vec::new();
    for i in 0..20 {
        let n = 1 + (i % 2);
        placed.push(
            vendure
                .place_order(&[(vid[&a].clone(), n)])
                .await
                .expect("order while stopped"),
        );
        taken += n;
    }
    vendure.cancel_order(&placed[3]).await;
    vendure.cancel_order(&first).await;
    let expected = 100 - 3 - taken + 2 + 1;
    let (received, forwarded) = vendure.webhooks();
    eprintln!(
        "vendure: while Tillbridge was stopped: 20 orders placed, 2 cancelled; {received} webhooks sent, {forwarded} delivered in all"
    );

    let server = TestServer::start(&db, &["serve"]).await;
    vendure.forward_webhooks_to(Some(server.url(&webhook)));
    let took = within(Duration::from_secs(60), "orders pulled after the restart", || {
        let db = &db;
        let v = ids[&a];
        async move { on_hand(db, v, DOWNTOWN).await == expected }
    })
    .await;
    eprintln!(
        "vendure: restarted: stock of {a} at downtown 97 → {expected} ({} orders, {taken} units, 2 cancellations) {} ms after the start",
        20,
        took.as_millis()
    );
    // Pulled again from the checkpoint's overlap, and once more after a
    // second restart: nothing is applied twice.
    // The stock is right before the pull ends: the order placed and
    // cancelled while stopped changes nothing, and is saved last.
    let storage = db.storage().await;
    within(
        Duration::from_secs(30),
        "every order placed while stopped stored",
        || {
            let (storage, placed) = (&storage, &placed);
            async move {
                for o in placed {
                    if storage.stored_order(channel, o).await.expect("read").is_none() {
                        return false;
                    }
                }
                true
            }
        },
    )
    .await;
    storage.close().await;
    assert!(server.terminate().await, "clean stop");
    let server = TestServer::start(&db, &["serve"]).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        on_hand(&db, ids[&a], DOWNTOWN).await,
        expected,
        "every order applied exactly once"
    );
    converge_vendure(&db, channel, &vendure, "1", &ids, Duration::from_secs(30)).await;
    server.stop().await;
}

/// No un-selling against software nobody here wrote: a till sells while
/// shoppers check out through Vendure's Shop API (a placed order allocates
/// at once). Stock only goes down, so no write of Tillbridge's may raise on
/// hand; afterwards every SKU's saleable figure is its balance and every
/// sale counted once.
#[tokio::test]
async fn vendure_shop_orders_race_till_sales_and_saleable_is_never_raised() {
    const START: i64 = 60;
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let vendure = VendureServer::start().await;
    let (channel, webhook) =
        connect_vendure_with_webhook(&db, &vendure, "Vendure", DEFAULT_LOCATION, "downtown,warehouse").await;
    vendure.forward_webhooks_to(Some(server.url(&webhook)));
    let (details, ids) = products(&db, 2).await;
    let skus: Vec<String> = details
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .collect();
    let ids: HashMap<String, VariantId> = ids.into_iter().filter(|(s, _)| skus.contains(s)).collect();
    let token = api_token(&db, "manager").await;
    let counts: Vec<(&str, &str, i64)> = skus
        .iter()
        .flat_map(|s| [(s.as_str(), "downtown", START), (s.as_str(), "warehouse", 0)])
        .collect();
    count(&server, &token, &counts, "race-stock").await;
    auto_sync_on(&db, &skus).await;
    converge_vendure(&db, channel, &vendure, "1", &ids, Duration::from_secs(60)).await;
    let vid = vendure_ids(&vendure, &skus).await;
    let variant_ids: Vec<String> = vid.values().cloned().collect();
    let raises_before = vendure.raises(&variant_ids).await;

    let end = Instant::now() + Duration::from_secs(15);
    let till = async {
        let mut sold: HashMap<String, i64> = HashMap::new();
        let mut n = 0u64;
        while Instant::now() < end {
            let sku = &skus[(n as usize * 7) % skus.len()];
            let body = json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": -1, "reason": "sales_order"}]});
            let r = post_movements(&server, &token, body.to_string(), Some(&format!("till-{n}")))
                .await
                .expect("a till sale");
            assert_eq!(r.status(), 200);
            *sold.entry(sku.clone()).or_default() += 1;
            n += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        sold
    };
    let shoppers = async {
        let mut bought: HashMap<String, i64> = HashMap::new();
        let mut n = 0usize;
        while Instant::now() < end {
            let sku = &skus[(n * 3 + 1) % skus.len()];
            let qty = 1 + (n % 2) as i64;
            if vendure.place_order(&[(vid[sku].clone(), qty)]).await.is_ok() {
                *bought.entry(sku.clone()).or_default() += qty;
            }
            n += 1;
        }
        bought
    };
    let (sold, bought) = tokio::join!(till, shoppers);
    let raced = Instant::now();
    let taken = |sku: &str| sold.get(sku).copied().unwrap_or(0) + bought.get(sku).copied().unwrap_or(0);
    for sku in &skus {
        let v = ids[sku];
        within(Duration::from_secs(60), "every sale counted once", || {
            let db = &db;
            let want = START - taken(sku);
            async move { on_hand(db, v, DOWNTOWN).await == want }
        })
        .await;
    }
    // A till sale and a checkout may take the last unit at the same moment:
    // the store then shows less than nothing, as Tillbridge's stock does,
    // where the balance is 0. Either way nothing more is sold.
    within(Duration::from_secs(60), "every saleable figure at its balance", || {
        let (db, vendure, ids, skus) = (&db, &vendure, &ids, &skus);
        async move {
            let want = balances(db, channel, ids).await;
            let have = vendure.saleable(skus, "1").await;
            want.iter()
                .all(|(sku, q)| have.get(sku).is_some_and(|h| h == q || (*q == 0 && *h <= 0)))
        }
    })
    .await;
    let raises = vendure.raises(&variant_ids).await - raises_before;
    eprintln!(
        "vendure race: {} till sales, {} units ordered in the shop, {raises} raises, exact {:.1} s after the race",
        sold.values().sum::<i64>(),
        bought.values().sum::<i64>(),
        raced.elapsed().as_secs_f64()
    );
    assert!(
        sold.values().sum::<i64>() > 30 && bought.values().sum::<i64>() > 10,
        "the race raced"
    );
    assert_eq!(raises, 0, "Vendure's on hand was raised while stock only went down");
    server.stop().await;
}

// Catalog edits: every seed 004 field Vendure has, changed in Tillbridge,
// arrives in Vendure by itself within seconds, read back through Vendure's
// own Admin API.

/// How long a product edit may take to show in Vendure.
const EDIT_ARRIVES: Duration = Duration::from_secs(20);

/// A Tillbridge with the demo catalog, a Vendure, and one of our products
/// listed there (by Auto Sync, as a merchant lists one).
struct Listed {
    db: Database,
    server: TestServer,
    vendure: VendureServer,
    channel: ChannelId,
    product: sync_core::storage::ProductDetail,
    /// The product's id in Vendure.
    external: String,
    /// Whether the store has the barcode and weight custom fields.
    custom_fields: bool,
}

impl Listed {
    /// Lists the first demo product with at least `variants` variants and options.
    async fn start(vendure: VendureServer, custom_fields: bool, variants: usize) -> Self {
        let db = Database::sqlite();
        let server = TestServer::start_with_demo(&db).await;
        let channel = connect_vendure(&db, &vendure, "Vendure", DEFAULT_LOCATION, "downtown,warehouse").await;
        let (details, _) = products(&db, 30).await;
        let product = details
            .into_iter()
            .find(|p| p.variants.len() >= variants && !p.option_names().is_empty())
            .expect("a demo product with options and enough variants");
        let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
        auto_sync_on(&db, &skus).await;
        let ids: HashMap<String, VariantId> = product.variants.iter().map(|v| (v.sku.clone(), v.id)).collect();
        converge_vendure(&db, channel, &vendure, "1", &ids, Duration::from_secs(60)).await;
        let external = vendure.variants(&skus).await[0]["product"]["id"]
            .as_str()
            .expect("listed in Vendure")
            .to_owned();
        Listed {
            db,
            server,
            vendure,
            channel,
            product,
            external,
            custom_fields,
        }
    }

    /// Our product as it is stored now.
    async fn ours(&self) -> sync_core::storage::ProductDetail {
        let storage = self.db.storage().await;
        let p = storage
            .get_product(self.product.id)
            .await
            .expect("read")
            .expect("the product");
        storage.close().await;
        p
    }

    async fn theirs(&self) -> serde_json::Value {
        self.vendure.product(&self.external, self.custom_fields).await
    }

    /// Waits until Vendure's product satisfies `check`; returns how long it
    /// took and the product. Names what it waited for, the product as last
    /// seen and the channel's failures when it does not come.
    async fn arrives(&self, what: &str, check: impl Fn(&serde_json::Value) -> bool) -> (Duration, serde_json::Value) {
        let start = Instant::now();
        loop {
            let product = self.theirs().await;
            if check(&product) {
                eprintln!(
                    "vendure: {what}: in Vendure {} ms after the edit",
                    start.elapsed().as_millis()
                );
                return (start.elapsed(), product);
            }
            if start.elapsed() > EDIT_ARRIVES {
                panic!(
                    "{what}: not in Vendure within {EDIT_ARRIVES:?}; Vendure has {product:#}; failures: {}",
                    failures(&self.db, self.channel).await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Applies a catalog file through `tillbridge import catalog`, its
    /// rows this product's (the handle column is added when missing).
    async fn import(&self, csv: &str) {
        let csv = if csv.starts_with("handle,") {
            csv.to_owned()
        } else {
            let mut lines = csv.lines();
            let header = format!("handle,{}\n", lines.next().unwrap_or_default());
            lines.fold(header, |out, row| format!("{out}{},{row}\n", self.product.handle))
        };
        let (ok, out, err) = cli(&self.db, &["import", "catalog", "-", "--apply"], &csv).await;
        assert!(ok && out.contains("1 change applied"), "import refused: {out}{err}");
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

/// The product form as it stands for `p` (what a person sees before editing).
fn form_of(p: &sync_core::storage::ProductDetail) -> Vec<(String, String)> {
    let money = |minor: i64| format!("{}.{:02}", minor / 100, minor % 100);
    let count = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut fields: Vec<(String, String)> = [
        ("id", p.id.to_string()),
        ("name", p.name.clone()),
        ("description", p.description.clone()),
        ("brand", p.brand.clone()),
        ("category", p.category.clone()),
        ("supplier", p.supplier.clone()),
        ("supplier_code", p.supplier_code.clone()),
        ("supplier_price", p.supplier_price_minor.map(money).unwrap_or_default()),
        ("reorder_point", count(p.reorder_point)),
        ("reorder_quantity", count(p.reorder_quantity)),
        ("tax_class", p.tax_class.clone()),
        ("tags", p.tags.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if p.active {
        fields.push(("active".into(), "on".into()));
    }
    for (i, v) in p.variants.iter().enumerate() {
        fields.push((format!("variants[{i}][id]"), v.id.to_string()));
        fields.push((format!("variants[{i}][price]"), money(v.price_minor)));
        fields.push((format!("variants[{i}][barcode]"), v.barcode.clone().unwrap_or_default()));
        fields.push((format!("variants[{i}][weight]"), count(v.weight_grams)));
    }
    fields
}

fn set(fields: &mut Vec<(String, String)>, key: &str, value: &str) {
    fields.retain(|(k, _)| k != key);
    fields.push((key.to_owned(), value.to_owned()));
}

/// Saves the product form as a signed-in manager would.
async fn save_form(server: &TestServer, client: &reqwest::Client, fields: &[(String, String)]) {
    let response = form_post(client, server, "save_product")
        .form(fields)
        .send()
        .await
        .expect("sent");
    let to = location(&response);
    assert!(to.contains("Product+saved"), "the form was refused: {to}");
}

fn variant_of<'a>(product: &'a serde_json::Value, sku: &str) -> Option<&'a serde_json::Value> {
    product["variants"].as_array()?.iter().find(|v| v["sku"] == sku)
}

/// The names of a product's values of the facet `code`.
fn facet(product: &serde_json::Value, code: &str) -> Vec<String> {
    product["facetValues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["facet"]["code"] == code)
        .filter_map(|v| v["name"].as_str().map(str::to_owned))
        .collect()
}

/// (option group, option) of a Vendure variant, sorted.
fn options_of(variant: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = variant["options"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["group"]["name"].as_str().unwrap_or_default().to_owned(),
                o["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Waits until the store holds `n` assets in all.
async fn assets_become(vendure: &VendureServer, n: i64, what: &str) {
    let start = Instant::now();
    loop {
        let count = vendure.asset_count().await;
        if count == n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: {count} assets, not {n}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Widths of a product's images in order (the test images differ in width).
fn image_widths(product: &serde_json::Value) -> Vec<i64> {
    product["assets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["width"].as_i64())
        .collect()
}

#[tokio::test]
async fn name_description_brand_category_price_barcode_weight_and_enabled_edited_in_the_product_form_arrive_in_vendure_within_seconds()
 {
    let listed = Listed::start(VendureServer::start().await, true, 2).await;
    let p = &listed.product;
    let first = &p.variants[0];
    let second = &p.variants[1];

    // As listed: brand and category as facets, barcode and weight as custom fields.
    let theirs = listed.theirs().await;
    assert_eq!(theirs["name"], p.name);
    assert_eq!(facet(&theirs, "brand"), [p.brand.as_str()], "brand facet");
    assert_eq!(facet(&theirs, "category"), [p.category.as_str()], "category facet");
    let v = variant_of(&theirs, &first.sku).expect("the first variant");
    assert_eq!(
        v["customFields"]["barcode"].as_str(),
        first.barcode.as_deref(),
        "barcode"
    );
    assert_eq!(v["customFields"]["weight"].as_i64(), first.weight_grams, "weight");

    // A facet value a person gave the product in Vendure is not Tillbridge's to remove.
    let admin = listed.vendure.admin();
    let season = admin
        .call(
            "mutation { createFacet(input: { code: \"season\", isPrivate: false,
               translations: [{ languageCode: en, name: \"Season\" }],
               values: [{ code: \"winter\", translations: [{ languageCode: en, name: \"Winter\" }] }] }) { values { id } } }",
            json!({}),
        )
        .await["createFacet"]["values"][0]["id"]
        .clone();
    let mut facet_ids: Vec<serde_json::Value> = theirs["facetValues"]
        .as_array()
        .expect("facet values")
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    facet_ids.push(season);
    admin
        .call(
            "mutation U($input: UpdateProductInput!) { updateProduct(input: $input) { id } }",
            json!({ "input": { "id": listed.external, "facetValueIds": facet_ids } }),
        )
        .await;

    let client = browser_like_client();
    sign_in(&listed.server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let mut fields = form_of(p);
    set(&mut fields, "name", "Harbour Merino Crew");
    set(&mut fields, "description", "Knitted on the waterfront.\nWarm when wet.");
    set(&mut fields, "brand", "Salt Road");
    set(&mut fields, "category", "Knitwear");
    set(&mut fields, "variants[0][price]", "123.45");
    set(&mut fields, "variants[0][barcode]", "9400000010015");
    set(&mut fields, "variants[0][weight]", "321");
    save_form(&listed.server, &client, &fields).await;
    let (_, theirs) = listed
        .arrives("name, description, brand, category, price, barcode and weight", |t| {
            variant_of(t, &first.sku).is_some_and(|v| {
                t["name"] == "Harbour Merino Crew"
                    && t["description"] == "Knitted on the waterfront.\nWarm when wet."
                    && facet(t, "brand") == ["Salt Road"]
                    && facet(t, "category") == ["Knitwear"]
                    && v["price"] == 12345
                    && v["customFields"]["barcode"] == "9400000010015"
                    && v["customFields"]["weight"] == 321
            })
        })
        .await;
    assert_eq!(
        facet(&theirs, "season"),
        ["Winter"],
        "a facet value set in Vendure is kept"
    );
    let untouched = variant_of(&theirs, &second.sku).expect("the second variant");
    assert_eq!(
        untouched["price"].as_i64(),
        Some(second.price_minor),
        "other variants keep their price"
    );
    assert_eq!(
        theirs["variants"].as_array().map(Vec::len),
        Some(p.variants.len()),
        "no variant added or lost"
    );
    assert!(
        theirs["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|v| v["name"].as_str().is_some_and(|n| n.starts_with("Harbour Merino Crew"))),
        "variant names follow the product's"
    );

    // Inactive in Tillbridge: disabled in Vendure, the product and every variant; then back.
    fields.retain(|(k, _)| k != "active");
    save_form(&listed.server, &client, &fields).await;
    listed
        .arrives("deactivated: product and variants disabled", |t| {
            t["enabled"] == false
                && t["variants"]
                    .as_array()
                    .is_some_and(|vs| vs.iter().all(|v| v["enabled"] == false))
        })
        .await;
    set(&mut fields, "active", "on");
    save_form(&listed.server, &client, &fields).await;
    listed
        .arrives("activated again: product and variants enabled", |t| {
            t["enabled"] == true
                && t["variants"]
                    .as_array()
                    .is_some_and(|vs| vs.iter().all(|v| v["enabled"] == true))
        })
        .await;
    // Brand and category emptied: the product carries neither facet, the season stays.
    set(&mut fields, "brand", "");
    set(&mut fields, "category", "");
    save_form(&listed.server, &client, &fields).await;
    listed
        .arrives("brand and category cleared", |t| {
            facet(t, "brand").is_empty() && facet(t, "category").is_empty() && facet(t, "season") == ["Winter"]
        })
        .await;
    listed.stop().await;
}

#[tokio::test]
async fn the_options_of_an_existing_variant_changed_by_a_catalog_import_change_that_vendure_variant() {
    let listed = Listed::start(VendureServer::start().await, true, 2).await;
    let p = &listed.product;
    let first = &p.variants[0];
    let before = listed.theirs().await;
    let id = variant_of(&before, &first.sku).expect("listed")["id"].clone();
    let group = p.option_names()[0].to_owned();
    listed
        .import(&format!("sku,option1_value\n{},Ochre Tide\n", first.sku))
        .await;
    let (_, theirs) = listed
        .arrives("the first option of an existing variant", |t| {
            variant_of(t, &first.sku).is_some_and(|v| options_of(v).contains(&(group.clone(), "Ochre Tide".to_owned())))
        })
        .await;
    let v = variant_of(&theirs, &first.sku).expect("the variant");
    assert_eq!(v["id"], id, "the same Vendure variant");
    let ours: Vec<(String, String)> = {
        let mut o: Vec<(String, String)> = p
            .option_names()
            .iter()
            .zip(
                ["Ochre Tide".to_owned()]
                    .into_iter()
                    .chain(first.option_values().into_iter().skip(1).map(str::to_owned)),
            )
            .map(|(n, v)| ((*n).to_owned(), v))
            .collect();
        o.sort();
        o
    };
    assert_eq!(options_of(v), ours, "one option per group, ours");
    assert_eq!(
        theirs["variants"].as_array().map(Vec::len),
        Some(p.variants.len()),
        "no variant added or lost"
    );
    listed.stop().await;
}

#[tokio::test]
async fn images_added_reordered_and_removed_in_tillbridge_become_vendures_assets_in_order() {
    let listed = Listed::start(VendureServer::start().await, true, 1).await;
    let images = ImageServer::start().await;
    let front = images.gif("/products/front.gif", 101, 11);
    let back = images.gif("/products/back.gif", 102, 12);
    // No extension in the address: the Content-Type says what it is.
    let side = images.put("/cdn/side", "image/gif", gif(103, 13));
    let sku = &listed.product.variants[0].sku;

    listed
        .import(&format!("sku,image_urls\n{sku},{front} {back} {side}\n"))
        .await;
    let (_, theirs) = listed
        .arrives("three images added", |t| image_widths(t) == [101, 102, 103])
        .await;
    assert_eq!(
        theirs["featuredAsset"]["width"], 101,
        "the first image is the featured one"
    );
    let names: Vec<&str> = theirs["assets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["front.gif", "back.gif", "side.gif"]);
    assert!(
        theirs["assets"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|a| a["mimeType"] == "image/gif"),
        "{theirs}"
    );

    listed.import(&format!("sku,image_urls\n{sku},{side} {front}\n")).await;
    let (_, theirs) = listed
        .arrives("images reordered and one removed", |t| image_widths(t) == [103, 101])
        .await;
    assert_eq!(theirs["featuredAsset"]["width"], 103, "the new first image is featured");
    // The old assets are deleted just after the product shows the new ones.
    assets_become(&listed.vendure, 2, "the replaced assets are deleted").await;

    // An edit that does not touch the images leaves them as they are (not uploaded again).
    listed.import(&format!("sku,name\n{sku},Renamed Only\n")).await;
    let (_, theirs) = listed.arrives("renamed", |t| t["name"] == "Renamed Only").await;
    assert_eq!(image_widths(&theirs), [103, 101]);
    assert_eq!(listed.vendure.asset_count().await, 2, "nothing uploaded again");

    listed.import(&format!("sku,image_urls\n{sku},\n")).await;
    let (_, theirs) = listed
        .arrives("every image removed", |t| {
            t["assets"].as_array().is_some_and(Vec::is_empty)
        })
        .await;
    assert!(theirs["featuredAsset"].is_null(), "no featured image left");
    assets_become(&listed.vendure, 0, "the removed images' assets are deleted").await;
    listed.stop().await;
}

#[tokio::test]
async fn an_image_vendure_cannot_get_is_a_conflict_naming_its_address_and_the_other_fields_still_arrive() {
    let listed = Listed::start(VendureServer::start().await, true, 1).await;
    let images = ImageServer::start().await;
    let good = images.gif("/ok/label.gif", 140, 14);
    let gone = images.missing("/gone/tag.png");
    // Nothing listens there.
    let unreachable = format!("http://127.0.0.1:{}/down.jpg", tillbridge_tests::free_port());
    let sku = &listed.product.variants[0].sku;
    listed
        .import(&format!(
            "sku,name,image_urls\n{sku},Label Only Tee,{gone} {good} {unreachable}\n"
        ))
        .await;
    let (_, theirs) = listed
        .arrives("the name and the image that could be fetched", |t| {
            t["name"] == "Label Only Tee" && image_widths(t) == [140]
        })
        .await;
    assert_eq!(theirs["featuredAsset"]["width"], 140);
    let storage = listed.db.storage().await;
    // The unreachable image is a conflict naming its address. (Conflicts
    // are kept one per channel, kind and SKU today, so of a product's
    // failed images the list shows the last; the Sync History names each.)
    let start = Instant::now();
    let conflicts = loop {
        let conflicts = storage.open_conflicts(Some(listed.channel)).await.expect("conflicts");
        if conflicts.iter().any(|c| c.detail.contains(unreachable.as_str())) {
            break conflicts;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no conflict names {unreachable}: {conflicts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let details: Vec<&str> = conflicts.iter().map(|c| c.detail.as_str()).collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains(unreachable.as_str()) && d.contains("cannot connect")),
        "{details:?}"
    );
    assert!(
        !details.iter().any(|d| d.contains(good.as_str())),
        "no conflict for the image that arrived: {details:?}"
    );
    let events = storage
        .recent_events(Some(listed.channel), None, 100)
        .await
        .expect("events");
    let note = events
        .iter()
        .filter(|e| e.action == "update product")
        .filter_map(|e| e.error.as_deref())
        .find(|n| n.contains("not fetched"))
        .unwrap_or_else(|| panic!("no Sync History entry of the push: {events:?}"));
    assert!(
        note.contains(&format!("{gone} not fetched: HTTP 404"))
            && note.contains(&format!("{unreachable} not fetched: cannot connect"))
            && !note.contains(&format!("{good} not fetched")),
        "{note}"
    );
    storage.close().await;
    listed.stop().await;
}

#[tokio::test]
async fn a_variant_added_removed_or_given_a_new_sku_in_tillbridge_is_added_deleted_or_renamed_in_vendure_without_duplicates()
 {
    let listed = Listed::start(VendureServer::start().await, true, 3).await;
    let p = listed.product.clone();
    let token = api_token(&listed.db, "manager").await;

    // Added by a catalog import, with options of its own; stocked as Tillbridge counts it.
    let new_sku = format!("{}-NEW", p.variants[0].sku);
    let names = p.option_names();
    let mut header = vec!["handle", "sku", "price", "currency"];
    let option_columns = ["option1_value", "option2_value", "option3_value"];
    header.extend(option_columns.iter().take(names.len()));
    let mut values: Vec<String> = p.variants[0].option_values().iter().map(|v| (*v).to_owned()).collect();
    values[0] = "Tillbridge Extra".into();
    listed
        .import(&format!(
            "{}\n{},{new_sku},19.99,{},{}\n",
            header.join(","),
            p.handle,
            p.variants[0].price_currency,
            values.join(",")
        ))
        .await;
    let (_, theirs) = listed
        .arrives("a variant added", |t| variant_of(t, &new_sku).is_some())
        .await;
    let added = variant_of(&theirs, &new_sku).expect("added");
    assert_eq!(added["price"], 1999);
    assert!(
        options_of(added).contains(&(names[0].to_owned(), "Tillbridge Extra".to_owned())),
        "{added}"
    );
    assert_eq!(theirs["variants"].as_array().map(Vec::len), Some(p.variants.len() + 1));
    count(
        &listed.server,
        &token,
        &[(&new_sku, "downtown", 7)],
        "new-variant-stock",
    )
    .await;
    let ours = listed.ours().await;
    let ids: HashMap<String, VariantId> = ours.variants.iter().map(|v| (v.sku.clone(), v.id)).collect();
    converge_vendure(
        &listed.db,
        listed.channel,
        &listed.vendure,
        "1",
        &ids,
        Duration::from_secs(30),
    )
    .await;

    // A SKU changed and a variant removed (the product API and form will do
    // this; today only the catalog writer can, so the test uses it).
    let renamed_from = p.variants[0].sku.clone();
    let renamed_to = format!("{renamed_from}-R");
    let removed = p.variants[1].sku.clone();
    let renamed_id = variant_of(&theirs, &renamed_from).expect("listed")["id"].clone();
    let mut write = catalog_write(&ours);
    write.remove_variants = vec![p.variants[1].id];
    write.variants.retain(|v| v.sku.as_str() != removed);
    for v in &mut write.variants {
        if v.sku.as_str() == renamed_from {
            v.sku = sync_core::domain::Sku::parse(&renamed_to).expect("a SKU");
        }
    }
    let storage = listed.db.storage().await;
    let written = storage.write_catalog(&[write]).await.expect("written");
    assert!(written.catalog_queued > 0, "a product push is queued for Vendure");
    storage.close().await;
    let (_, theirs) = listed
        .arrives("a SKU changed and a variant removed", |t| {
            variant_of(t, &renamed_to).is_some() && variant_of(t, &removed).is_none()
        })
        .await;
    assert_eq!(
        variant_of(&theirs, &renamed_to).expect("renamed")["id"],
        renamed_id,
        "the same Vendure variant carries the new SKU"
    );
    assert!(variant_of(&theirs, &renamed_from).is_none(), "the old SKU is gone");
    assert_eq!(theirs["variants"].as_array().map(Vec::len), Some(p.variants.len()));
    // Nowhere else in the store either: no duplicate, nothing left behind.
    let found = listed
        .vendure
        .variants(&[renamed_from.clone(), renamed_to.clone(), removed.clone()])
        .await;
    let skus: Vec<&str> = found.iter().filter_map(|v| v["sku"].as_str()).collect();
    assert_eq!(
        skus,
        [renamed_to.as_str()],
        "one variant of the three SKUs, the renamed one"
    );
    // Stock still follows the renamed SKU.
    count(
        &listed.server,
        &token,
        &[(&renamed_to, "downtown", 42)],
        "renamed-stock",
    )
    .await;
    let ours = listed.ours().await;
    let ids: HashMap<String, VariantId> = ours.variants.iter().map(|v| (v.sku.clone(), v.id)).collect();
    converge_vendure(
        &listed.db,
        listed.channel,
        &listed.vendure,
        "1",
        &ids,
        Duration::from_secs(30),
    )
    .await;
    listed.stop().await;
}

/// The catalog writer's input that leaves `p` as it is.
fn catalog_write(p: &sync_core::storage::ProductDetail) -> sync_core::storage::CatalogWrite {
    use sync_core::domain::{Barcode, Currency, Money, Sku};
    let money = |minor: i64, currency: &str| Money::new(minor, Currency::parse(currency).expect("a currency"));
    sync_core::storage::CatalogWrite {
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
        supplier_price: p
            .supplier_price_minor
            .zip(p.supplier_price_currency.as_deref())
            .map(|(m, c)| money(m, c)),
        reorder_point: p.reorder_point,
        reorder_quantity: p.reorder_quantity,
        tax_class: p.tax_class.clone(),
        tags: p.tags.clone(),
        images: None,
        remove_variants: Vec::new(),
        variants: p
            .variants
            .iter()
            .map(|v| sync_core::storage::VariantWrite {
                existing: Some(v.id),
                sku: Sku::parse(&v.sku).expect("a SKU"),
                barcode: v.barcode.as_deref().map(|b| Barcode::parse(b).expect("a barcode")),
                option_values: v.option_values().into_iter().map(str::to_owned).collect(),
                price: money(v.price_minor, &v.price_currency),
                weight_grams: v.weight_grams,
                length_mm: v.length_mm,
                width_mm: v.width_mm,
                height_mm: v.height_mm,
            })
            .collect(),
    }
}

#[tokio::test]
async fn a_product_deleted_in_tillbridge_is_deleted_from_vendure() {
    let listed = Listed::start(VendureServer::start().await, true, 1).await;
    let skus: Vec<String> = listed.product.variants.iter().map(|v| v.sku.clone()).collect();
    // No button or command deletes a product yet: the catalog service does,
    // opened on the server's database as the dashboard will call it.
    let database = sync_core::Database::open(&listed.db.url).await.expect("open");
    let key = sync_core::secret::SecretKey::load_or_create(&listed.db.data_dir.path().join("test-services.key"))
        .expect("a key");
    let services = sync_core::Services::new(&database, sync_core::vault::Vault::new(&key));
    services
        .catalog
        .delete_product(&sync_core::domain::Actor::System, listed.product.id)
        .await
        .expect("deleted in Tillbridge");
    let start = Instant::now();
    loop {
        if listed.theirs().await.is_null() {
            break;
        }
        assert!(
            start.elapsed() < EDIT_ARRIVES,
            "still in Vendure after {EDIT_ARRIVES:?}; failures: {}",
            failures(&listed.db, listed.channel).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "vendure: a product deleted in Tillbridge is gone from Vendure {} ms later",
        start.elapsed().as_millis()
    );
    assert!(
        listed.vendure.variants(&skus).await.is_empty(),
        "no variant left behind"
    );
    database.close().await;
    listed.stop().await;
}

#[tokio::test]
async fn a_vendure_without_barcode_and_weight_fields_still_takes_every_other_field() {
    let listed = Listed::start(VendureServer::start_plain().await, false, 1).await;
    let client = browser_like_client();
    sign_in(&listed.server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let mut fields = form_of(&listed.product);
    set(&mut fields, "name", "Plain Store Tee");
    set(&mut fields, "variants[0][price]", "45.00");
    set(&mut fields, "variants[0][barcode]", "9400000010015");
    set(&mut fields, "variants[0][weight]", "410");
    save_form(&listed.server, &client, &fields).await;
    let sku = listed.product.variants[0].sku.clone();
    listed
        .arrives("name and price in a store without the custom fields", |t| {
            t["name"] == "Plain Store Tee" && variant_of(t, &sku).is_some_and(|v| v["price"] == 4500)
        })
        .await;
    assert_eq!(failures(&listed.db, listed.channel).await, "", "nothing failed");
    listed.stop().await;
}
