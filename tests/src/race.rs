//! A till and a shop's shoppers racing for the same stock, for the no
//! un-selling tests and benchmark: a Tillbridge with a Shopify test shop
//! whose sale moves `available` to `committed` at once, as Shopify's does,
//! order webhooks registered, and what each side took counted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use sync_core::domain::ChannelId;

use crate::shopify::{ShopConfig, ShopifyTestServer};
use crate::{Database, TestServer, add_shopify_channel, api_token, auto_sync_on, first_skus, post_movements};

pub const LOCATION: &str = "Main warehouse";
pub const CHANNEL: &str = "Shopify";
/// What each raced SKU starts with at Downtown (the order outlet).
pub const START: i64 = 100;

pub struct Race {
    pub db: Database,
    pub server: TestServer,
    pub shop: ShopifyTestServer,
    pub location: String,
    pub channel: ChannelId,
    pub skus: Vec<String>,
    pub token: String,
}

/// What the till and the shoppers took, per SKU.
#[derive(Default)]
pub struct Tally {
    pub till: HashMap<String, i64>,
    pub shop: HashMap<String, i64>,
    pub till_sales: usize,
    pub orders: usize,
}

impl Tally {
    pub fn taken(&self, sku: &str) -> i64 {
        self.till.get(sku).copied().unwrap_or(0) + self.shop.get(sku).copied().unwrap_or(0)
    }
}

/// A shop with order webhooks registered at the server, combining Downtown
/// and Warehouse; Auto Sync on for `n` SKUs, each with `START` at Downtown
/// and none at Warehouse, and the shop showing exactly that.
pub async fn setup(n: usize) -> Race {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.allow_loopback_webhooks(true);
    let location = shop.add_location(LOCATION);
    let channel = add_shopify_channel(&db, &shop, CHANNEL, LOCATION, "downtown,warehouse", Some(&server.base)).await;
    let skus = first_skus(&db, n).await;
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
    auto_sync_on(&db, &skus).await;
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
pub struct Dice(u64);

impl Dice {
    pub fn roll(&mut self, n: usize) -> usize {
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
pub async fn race(r: &Race, secs: u64, tally: &mut Tally, tag: &str) {
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
pub async fn exact(r: &Race, tally: &Tally, limit: Duration) -> Duration {
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
        let on_hand = storage
            .on_hand_of(&ids.values().copied().collect::<Vec<_>>())
            .await
            .expect("on hand");
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
pub fn closing_order(r: &Race, tally: &mut Tally) {
    let sku = r.skus[0].clone();
    r.shop
        .try_place_order(&r.location, &[(&sku, 1)])
        .expect("a unit left for the closing order");
    *tally.shop.entry(sku).or_default() += 1;
    tally.orders += 1;
}
