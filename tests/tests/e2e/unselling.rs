//! No un-selling (DESIGN section 4): a till posts sales while shoppers buy
//! the same SKUs in the Shopify test server, whose sale moves `available`
//! to `committed` at once, as Shopify's does. Stock only goes down, so
//! Tillbridge must never raise the shop's figure; afterwards every SKU in
//! the shop equals its syncable balance and every sale counted once. Then
//! the same with lost webhooks and failing calls, and a change made in the
//! shop's admin (no order) overwritten after a pull, with the history
//! telling why.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use sync_core::domain::ChannelId;
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::{Database, TestServer, api_token, cli, post_movements};

const LOCATION: &str = "Main warehouse";
const CHANNEL: &str = "Shopify";
/// What each raced SKU starts with at Downtown (the order outlet).
const START: i64 = 100;

struct Race {
    db: Database,
    server: TestServer,
    shop: ShopifyTestServer,
    location: String,
    channel: ChannelId,
    skus: Vec<String>,
    token: String,
}

/// What the till and the shoppers took, per SKU.
#[derive(Default)]
struct Tally {
    till: HashMap<String, i64>,
    shop: HashMap<String, i64>,
    till_sales: usize,
    orders: usize,
}

impl Tally {
    fn taken(&self, sku: &str) -> i64 {
        self.till.get(sku).copied().unwrap_or(0) + self.shop.get(sku).copied().unwrap_or(0)
    }
}

/// A shop with order webhooks registered at the server, combining Downtown
/// and Warehouse; Auto Sync on for `n` SKUs, each with `START` at Downtown
/// and none at Warehouse, and the shop showing exactly that.
async fn setup(n: usize) -> Race {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.allow_loopback_webhooks(true);
    let location = shop.add_location(LOCATION);
    let (ok, _, err) = cli(&db, &["autosync", "off", "--all"], "").await;
    assert!(ok, "{err}");
    let base = shop.base_url();
    let args = [
        "channel",
        "add",
        "shopify",
        "--name",
        CHANNEL,
        "--shop-domain",
        "tillbridge-test.myshopify.com",
        "--api-base-url",
        &base,
        "--location",
        LOCATION,
        "--outlets",
        "downtown,warehouse",
        "--public-url",
        &server.base,
    ];
    let stdin = format!("{}\n{}\n", shop.token(), shop.client_secret());
    let (ok, out, err) = cli(&db, &args, &stdin).await;
    assert!(ok, "channel add failed: {err}{out}");
    let storage = db.storage().await;
    let channel = storage.channel_by_name(CHANNEL).await.expect("read").expect("channel").id;
    let page = storage
        .list_products(&sync_core::storage::ProductFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("products");
    storage.close().await;
    let skus: Vec<String> = page
        .items
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .take(n)
        .collect();
    let token = api_token(&db, "manager").await;
    let counts: Vec<_> = skus
        .iter()
        .flat_map(|sku| {
            [
                json!({"sku": sku, "outlet": "downtown", "count": START, "reason": "manual_adjustment"}),
                json!({"sku": sku, "outlet": "warehouse", "count": 0, "reason": "manual_adjustment"}),
            ]
        })
        .collect();
    let r = post_movements(&server, &token, json!({ "movements": counts }).to_string(), None)
        .await
        .expect("post the counts");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let mut args = vec!["autosync", "on", "--sku"];
    args.extend(skus.iter().map(String::as_str));
    let (ok, _, err) = cli(&db, &args, "").await;
    assert!(ok, "{err}");
    let race = Race {
        db,
        server,
        shop,
        location,
        channel,
        skus,
        token,
    };
    let tally = Tally::default();
    exact(&race, &tally, Duration::from_secs(60)).await;
    race
}

/// A small deterministic generator: the race is the same every run but
/// for timing.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// For `secs`, a till sells one unit every 150 ms and shoppers place an
/// order every 300 ms (one unit, or two every fifth), on random SKUs: a
/// busy shop on Shopify's standard plan (a bucket of 2,000 points restoring
/// 100 a second, which reading every order and pushing every change share).
async fn race(r: &Race, secs: u64, tally: &mut Tally, tag: &str) {
    let end = Instant::now() + Duration::from_secs(secs);
    let till = async {
        let mut dice = Dice(7);
        let mut sold: HashMap<String, i64> = HashMap::new();
        let mut n = 0usize;
        while Instant::now() < end {
            let sku = &r.skus[dice.roll(r.skus.len())];
            let body = json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": -1, "reason": "sales_order"}]});
            let key = format!("{tag}-till-{n}");
            // A sale is posted until it is answered, as a till does.
            loop {
                match post_movements(&r.server, &r.token, body.to_string(), Some(&key)).await {
                    Ok(resp) if resp.status() == 200 => break,
                    Ok(resp) => panic!("a till sale was refused: {}", resp.text().await.unwrap_or_default()),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            *sold.entry(sku.clone()).or_default() += 1;
            n += 1;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        (sold, n)
    };
    let shoppers = async {
        let mut dice = Dice(11);
        let mut bought: HashMap<String, i64> = HashMap::new();
        let mut orders = 0usize;
        while Instant::now() < end {
            let sku = &r.skus[dice.roll(r.skus.len())];
            let qty = if dice.roll(5) == 0 { 2 } else { 1 };
            if r.shop.try_place_order(&r.location, &[(sku, qty)]).is_some() {
                *bought.entry(sku.clone()).or_default() += qty;
                orders += 1;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        (bought, orders)
    };
    let ((sold, n), (bought, orders)) = tokio::join!(till, shoppers);
    for (sku, q) in sold {
        *tally.till.entry(sku).or_default() += q;
    }
    for (sku, q) in bought {
        *tally.shop.entry(sku).or_default() += q;
    }
    tally.till_sales += n;
    tally.orders += orders;
}

/// Waits until every raced SKU is exact everywhere: on hand at Downtown is
/// what it started with less every sale (each order applied once), and the
/// shop shows the syncable balance. Returns how long it took.
async fn exact(r: &Race, tally: &Tally, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let storage = r.db.storage().await;
        let balances = storage.all_balances(r.channel).await.expect("balances");
        let ids = storage
            .variant_ids_by_sku(
                &r.skus
                    .iter()
                    .map(|s| sync_core::domain::Sku::parse(s).expect("a SKU"))
                    .collect::<Vec<_>>(),
            )
            .await
            .expect("ids");
        let on_hand = storage.on_hand_of(&ids.values().copied().collect::<Vec<_>>()).await.expect("on hand");
        let applied = storage.count_orders(r.channel).await.expect("orders") as usize;
        storage.close().await;
        let downtown = sync_core::domain::OutletId::new(1);
        let wrong: Vec<String> = r
            .skus
            .iter()
            .filter_map(|sku| {
                let v = ids[sku.as_str()];
                let have = on_hand.get(&(v, downtown)).copied().unwrap_or(0);
                let want = START - tally.taken(sku);
                let balance = balances.get(&v).copied().unwrap_or(0);
                let shown = r.shop.available(sku, &r.location);
                (have != want || shown != Some(balance))
                    .then(|| format!("{sku}: on hand {have} (want {want}), balance {balance}, shop {shown:?}"))
            })
            .collect();
        let orders_ok = applied == r.shop.orders().len();
        if wrong.is_empty() && orders_ok {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "not exact after {limit:?}: {applied} of {} orders applied; {}",
            r.shop.orders().len(),
            wrong.join("; ")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One order that is delivered: its webhook makes Tillbridge pull, and the
/// pull reads every order since the checkpoint, lost webhooks' too.
fn closing_order(r: &Race, tally: &mut Tally) {
    let sku = r.skus[0].clone();
    r.shop
        .try_place_order(&r.location, &[(&sku, 1)])
        .expect("a unit left for the closing order");
    *tally.shop.entry(sku).or_default() += 1;
    tally.orders += 1;
}

#[tokio::test]
async fn till_sales_and_shop_orders_race_and_the_shop_figure_is_never_raised() {
    let r = setup(20).await;
    let mut tally = Tally::default();

    let raises = r.shop.stats().raises;
    race(&r, 30, &mut tally, "webhooks").await;
    closing_order(&r, &mut tally);
    let took = exact(&r, &tally, Duration::from_secs(90)).await;
    let stats = r.shop.stats();
    println!(
        "race with webhooks: {} till sales, {} shop orders, {} raises, {} stale answers, exact {:.1} s after the race; \
         calls: {:?}",
        tally.till_sales,
        tally.orders,
        stats.raises - raises,
        stats.stale_answers,
        took.as_secs_f64(),
        stats.calls
    );
    assert!(tally.till_sales > 100 && tally.orders > 50, "the race raced");
    assert_eq!(stats.raises, raises, "the shop's figure was raised while stock only went down");

    // Lost webhooks and failing calls cost time, never correctness.
    r.shop.webhook_faults().set_lose_rate(0.3);
    r.shop.faults().set_error_rate(0.2);
    let stale_before = stats.stale_answers;
    race(&r, 30, &mut tally, "faults").await;
    r.shop.webhook_faults().set_lose_rate(0.0);
    r.shop.faults().set_error_rate(0.0);
    closing_order(&r, &mut tally);
    let took = exact(&r, &tally, Duration::from_secs(180)).await;
    let stats = r.shop.stats();
    let lost = r
        .shop
        .webhook_deliveries()
        .iter()
        .filter(|d| !d.sent())
        .count();
    println!(
        "race with 30 % of webhooks lost ({lost}) and 20 % of calls failing ({}): {} till sales, {} shop orders in all, \
         {} raises, {} stale answers, exact {:.1} s after the race",
        stats.injected_errors,
        tally.till_sales,
        tally.orders,
        stats.raises - raises,
        stats.stale_answers - stale_before,
        took.as_secs_f64()
    );
    assert!(lost > 0 && stats.injected_errors > 0, "the faults happened");
    assert_eq!(stats.raises, raises, "the shop's figure was raised while stock only went down");
}

/// Sync History events of the channel, newest first, as "before → after: note".
async fn history(r: &Race) -> Vec<String> {
    let storage = r.db.storage().await;
    let events = storage.recent_events(Some(r.channel), None, 200).await.expect("events");
    storage.close().await;
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} → {} {}: {}",
                e.action,
                e.before_value.as_deref().unwrap_or("-"),
                e.after_value.as_deref().unwrap_or("-"),
                e.result,
                e.error.as_deref().unwrap_or("")
            )
        })
        .collect()
}

async fn till_sale(r: &Race, sku: &str, key: &str) {
    let body = json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": -1, "reason": "sales_order"}]});
    let resp = post_movements(&r.server, &r.token, body.to_string(), Some(key)).await.expect("post");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_sale_the_shop_made_is_pulled_before_pushing_and_a_change_no_order_explains_is_overwritten() {
    let r = setup(2).await;
    let mut tally = Tally::default();
    let sku = r.skus[0].clone();

    // An order whose webhooks are lost, then a till sale: the push finds the
    // shop's figure moved, pulls the order first, and never raises.
    let raises = r.shop.stats().raises;
    r.shop.webhook_faults().lose_next(2);
    let order = r.shop.try_place_order(&r.location, &[(&sku, 2)]).expect("order");
    *tally.shop.entry(sku.clone()).or_default() += 2;
    tally.orders += 1;
    let number = r.shop.order(&order).expect("the order").name;
    till_sale(&r, &sku, "story-1").await;
    *tally.till.entry(sku.clone()).or_default() += 1;
    exact(&r, &tally, Duration::from_secs(30)).await;
    assert_eq!(r.shop.stats().raises, raises, "no raise");
    let shown = START - 3;
    let story = format!(
        "the channel showed {}, we expected {START}: {CHANNEL} order {number} (2 units) pulled first, then {} → {shown}",
        START - 2,
        START - 2
    );
    let events = history(&r).await;
    assert!(
        events.iter().any(|e| e.ends_with(&story)),
        "the history tells the story {story:?}:\n{}",
        events.join("\n")
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains(&format!("the channel showed {}, we expected {START}", START - 2))
                && e.contains("not applied")),
        "the stale answer is in the history:\n{}",
        events.join("\n")
    );

    // A merchant lowers the figure in the shop's admin: no order explains
    // it, so after the pull Tillbridge, the system of record, overwrites it.
    r.shop.set_available(&sku, &r.location, 5);
    till_sale(&r, &sku, "edit-1").await;
    *tally.till.entry(sku.clone()).or_default() += 1;
    exact(&r, &tally, Duration::from_secs(30)).await;
    let balance = START - 4;
    assert_eq!(r.shop.available(&sku, &r.location), Some(balance));
    let events = history(&r).await;
    let overwritten = format!(
        "the channel showed 5, we expected {}: no order explains it, lowered {} by a change made in the channel, \
         overwritten as Tillbridge is the system of record; 5 → {balance}",
        START - 3,
        START - 3 - 5
    );
    assert!(
        events.iter().any(|e| e.ends_with(&overwritten)),
        "the history says why it overwrote {overwritten:?}:\n{}",
        events.join("\n")
    );
    let storage = r.db.storage().await;
    let conflicts = storage.open_conflicts(Some(r.channel)).await.expect("conflicts");
    storage.close().await;
    assert!(
        conflicts
            .iter()
            .any(|c| c.kind == "changed_in_channel" && c.sku.as_deref() == Some(sku.as_str())),
        "the change made in the shop is listed for a person: {conflicts:?}"
    );
}
