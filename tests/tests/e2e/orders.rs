//! Orders from the Shopify test server relieve stock at the channel's order
//! outlet exactly once: with webhooks delivered, lost or delivered twice,
//! with Tillbridge stopped while orders arrive, and when orders are
//! cancelled. Forged webhooks are refused; Sync All pulls before it pushes.

use std::time::{Duration, Instant};

use sync_core::domain::{ChannelId, OutletId, ProductId};
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer, webhook_hmac};
use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, add_shopify_channel, auto_sync_on, browser_like_client, cli,
    sign_in, wait_for_startup_pulls, wait_until,
};

const LOCATION: &str = "Main warehouse";
const DOWNTOWN: OutletId = OutletId::new(1);

/// A running Tillbridge with the shop connected, webhooks registered at the
/// server's address, and Auto Sync on for the first SKUs of product 1.
struct Setup {
    db: Database,
    server: TestServer,
    shop: ShopifyTestServer,
    location: String,
    channel: ChannelId,
    skus: Vec<String>,
}

async fn setup() -> Setup {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.allow_loopback_webhooks(true);
    let location = shop.add_location(LOCATION);
    let channel = add_shopify_channel(
        &db,
        &shop,
        "Shopify",
        LOCATION,
        "downtown,warehouse",
        Some(&server.base),
    )
    .await;
    assert_eq!(
        shop.webhook_subscriptions().len(),
        3,
        "orders/create, updated and cancelled"
    );
    let storage = db.storage().await;
    let product = storage
        .get_product(ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    auto_sync_on(&db, &skus[..1]).await;
    let setup = Setup {
        db,
        server,
        shop,
        location,
        channel,
        skus,
    };
    wait_until("the product in the shop", 30, || async {
        setup
            .skus
            .iter()
            .all(|s| setup.shop.available(s, &setup.location).is_some())
    })
    .await;
    setup
}

/// On hand at Downtown (the channel's order outlet) for a SKU of product 1.
async fn on_hand(db: &Database, sku: &str) -> i64 {
    let storage = db.storage().await;
    let product = storage
        .get_product(ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    let v = product.variants.iter().find(|v| v.sku == sku).expect("variant");
    let n = v
        .stock
        .iter()
        .find(|s| s.outlet_id == DOWNTOWN)
        .map_or(0, |s| s.on_hand);
    storage.close().await;
    n
}

async fn wait_on_hand(db: &Database, sku: &str, want: i64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = on_hand(db, sku).await;
        if now == want {
            return;
        }
        if Instant::now() > deadline {
            let storage = db.storage().await;
            let runs = storage.recent_runs(None, 10).await.expect("runs");
            let log: Vec<String> = runs
                .iter()
                .map(|r| format!("{} {} {}: {}", r.kind, r.trigger, r.status, r.log))
                .collect();
            panic!(
                "{what}: {sku} at Downtown is {now}, want {want}; runs:\n{}",
                log.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test]
async fn orders_relieve_stock_once_whether_their_webhook_arrives_is_lost_or_comes_twice() {
    let s = setup().await;
    let a = s.skus[0].clone();
    let start = on_hand(&s.db, &a).await;
    s.shop.place_order(&s.location, &[(a.as_str(), 2)]);
    wait_on_hand(&s.db, &a, start - 2, "an order with its webhook").await;
    // The push that follows is settled first: a push that found the shop's
    // figure moved would pull the next order itself.
    let storage = s.db.storage().await;
    wait_until("the push after the order", 30, || async {
        storage.pending_pushes(s.channel).await.expect("pending") == 0
    })
    .await;
    storage.close().await;

    // Lost: the order waits for the next pull, which the next webhook brings.
    s.shop.webhook_faults().lose_next(2);
    s.shop.place_order(&s.location, &[(a.as_str(), 1)]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(on_hand(&s.db, &a).await, start - 2, "nothing announced it yet");
    s.shop.place_order(&s.location, &[(a.as_str(), 1)]);
    wait_on_hand(&s.db, &a, start - 4, "a lost webhook's order, caught by the next pull").await;

    // Twice: applied once.
    s.shop.webhook_faults().duplicate_next(2);
    s.shop.place_order(&s.location, &[(a.as_str(), 3)]);
    wait_on_hand(&s.db, &a, start - 7, "an order whose webhook came twice").await;
    assert!(s.shop.wait_for_webhooks(Duration::from_secs(10)).await);
    let duplicates = s.shop.webhook_deliveries().iter().filter(|d| d.duplicate).count();
    assert!(duplicates >= 2, "the shop sent duplicates: {duplicates}");
    // A pull of everything again changes nothing.
    let (_, out, err) = cli(&s.db, &["sync", "--channel", "Shopify"], "").await;
    assert!(out.contains("orders of \"Shopify\""), "{err}{out}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(on_hand(&s.db, &a).await, start - 7, "exactly once: {out}");
    let storage = s.db.storage().await;
    let orders = storage.recent_orders(Some(s.channel), 50).await.expect("orders");
    assert_eq!(orders.len(), 4);
    assert!(
        orders
            .iter()
            .all(|(_, lines)| lines.iter().all(|l| l.applied_quantity == l.quantity))
    );
    // The shop ends at Tillbridge's balance for the SKU.
    let variant = storage
        .variant_ids_by_sku(&[sync_core::domain::Sku::parse(&a).expect("sku")])
        .await
        .expect("ids")[&a];
    let want = storage.balances(s.channel, &[variant]).await.expect("balance")[&variant];
    wait_until("the shop shows the balance", 30, || async {
        s.shop.available(&a, &s.location) == Some(want)
    })
    .await;
    s.server.stop().await;
}

#[tokio::test]
async fn orders_placed_while_tillbridge_is_stopped_are_all_applied_when_it_starts() {
    let s = setup().await;
    let a = s.skus[0].clone();
    // Enough at Downtown for every order (a stocktake before the rush).
    let storage = s.db.storage().await;
    storage
        .apply_movements(
            &sync_core::domain::Actor::System,
            &[sync_core::storage::MovementInput {
                sku: sync_core::domain::Sku::parse(&a).expect("sku"),
                outlet: sync_core::domain::OutletCode::parse("downtown").expect("code"),
                change: sync_core::domain::StockChange::count(300).expect("count"),
                reason: sync_core::domain::MovementReason::ManualAdjustment,
                reference: "stocktake".into(),
                note: String::new(),
            }],
            None,
        )
        .await
        .expect("stocktake");
    wait_until("the shop shows the stocktake", 30, || async {
        s.shop.available(&a, &s.location).is_some_and(|q| q >= 300)
    })
    .await;
    let before = on_hand(&s.db, &a).await;
    let addr = s.server.base.trim_start_matches("http://").to_owned();
    s.server.stop().await;
    let (orders, per_order) = (200, 1);
    for _ in 0..orders {
        s.shop.place_order(&s.location, &[(a.as_str(), per_order)]);
    }
    let started = Instant::now();
    let server = TestServer::start(&s.db, &["serve", "--bind", &addr]).await;
    let want = before - orders * per_order;
    wait_on_hand(&s.db, &a, want, "every order placed while stopped").await;
    eprintln!(
        "{orders} orders placed while stopped: {a} at Downtown {before} → {} in {:.1} s after start",
        on_hand(&s.db, &a).await,
        started.elapsed().as_secs_f64()
    );
    let storage = s.db.storage().await;
    assert_eq!(
        storage.recent_orders(Some(s.channel), 500).await.expect("orders").len(),
        orders as usize
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        on_hand(&s.db, &a).await,
        want,
        "applied once, not again by the webhooks' retries"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_cancelled_order_gives_its_stock_back_once_and_unknown_skus_are_handled() {
    let s = setup().await;
    let a = s.skus[0].clone();
    let start = on_hand(&s.db, &a).await;
    let order = s.shop.place_order(&s.location, &[(a.as_str(), 2)]);
    wait_on_hand(&s.db, &a, start - 2, "the order").await;
    s.shop.cancel_order(&order);
    wait_on_hand(&s.db, &a, start, "the cancellation").await;
    s.shop.cancel_order(&order);
    let (_, out, err) = cli(&s.db, &["sync", "--channel", "Shopify"], "").await;
    assert!(out.contains("orders of \"Shopify\""), "{err}{out}");
    assert_eq!(on_hand(&s.db, &a).await, start, "given back once");

    // A SKU made in Shopify enters Tillbridge with its first order (seed 000);
    // a line without a usable SKU is a conflict and does not block the rest.
    s.shop
        .add_product("Made in Shopify", &[("SHOP-ONLY-1", 5)], &s.location);
    s.shop.add_product("Badly keyed", &[("bad sku", 5)], &s.location);
    s.shop
        .place_order(&s.location, &[("SHOP-ONLY-1", 1), ("bad sku", 1), (a.as_str(), 1)]);
    wait_on_hand(&s.db, &a, start - 1, "the good line of a mixed order").await;
    let storage = s.db.storage().await;
    wait_until("the product made from the order", 20, || async {
        let page = storage
            .list_products(&sync_core::storage::ProductFilter {
                search: Some("SHOP-ONLY-1".into()),
                limit: 5,
                ..Default::default()
            })
            .await
            .expect("search");
        page.items
            .first()
            .is_some_and(|p| p.name == "Made in Shopify" && p.total_on_hand() == -1)
    })
    .await;
    let conflicts = storage.open_conflicts(Some(s.channel)).await.expect("conflicts");
    assert!(
        conflicts
            .iter()
            .any(|c| c.sku.as_deref() == Some("bad sku") && c.kind.as_str() == "unknown_sku"),
        "{conflicts:?}"
    );
    s.server.stop().await;
}

#[tokio::test]
async fn forged_webhooks_are_refused_and_recorded() {
    let s = setup().await;
    let client = reqwest::Client::new();
    let url = s.server.url(&format!("/webhooks/shopify/{}", s.channel));
    let body = br##"{"id":1,"name":"#1001"}"##.to_vec();
    let post = |signature: Option<String>| {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-shopify-topic", "orders/create")
            .body(body.clone());
        if let Some(sig) = signature {
            request = request.header("x-shopify-hmac-sha256", sig);
        }
        request.send()
    };
    assert_eq!(post(None).await.expect("sent").status(), 401, "no signature");
    assert_eq!(
        post(Some(webhook_hmac("a guessed secret", &body)))
            .await
            .expect("sent")
            .status(),
        401,
        "signed with the wrong secret"
    );
    assert_eq!(
        post(Some("bm90IGEgc2lnbmF0dXJl".into())).await.expect("sent").status(),
        401,
        "garbage"
    );
    assert_eq!(
        post(Some(webhook_hmac(&s.shop.client_secret(), &body)))
            .await
            .expect("sent")
            .status(),
        200,
        "the shop's own signature"
    );
    let missing = client
        .post(s.server.url("/webhooks/shopify/999"))
        .header("x-shopify-hmac-sha256", webhook_hmac(&s.shop.client_secret(), &body))
        .body(body.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    let storage = s.db.storage().await;
    let refused: Vec<_> = storage
        .recent_events(Some(s.channel), None, 50)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.action == "webhook refused")
        .collect();
    // Refusals are counted, and reported at most once a minute per channel:
    // the first at once, the two after it with the next report.
    assert_eq!(refused.len(), 1, "the first refusal is in the Sync History");
    s.server.stop().await;
}

#[tokio::test]
async fn sync_all_pulls_every_channel_before_it_pushes() {
    let s = setup().await;
    let storage = s.db.storage().await;
    let client = browser_like_client();
    sign_in(&s.server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    tillbridge_tests::wait_for_startup_pulls(&s.db).await;
    // The product push Auto Sync queued goes first: it would carry the edit
    // below to the shop by itself, ahead of the sync under test.
    wait_until("the queued product push sent", 30, || async {
        storage.pending_catalog_pushes(s.channel).await.expect("pending") == 0
    })
    .await;
    // Something for the push to do: a name edited behind the outbox's back,
    // which only a sync's own push carries.
    storage
        .execute_admin("UPDATE products SET name = name || ' (new season)' WHERE id = 1")
        .await
        .expect("edited");
    let from = s.shop.stats().call_log.len();
    let response = tillbridge_tests::form_post(&client, &s.server, "start_sync")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    wait_until("the new name in the shop", 30, || async {
        s.shop
            .product_by_sku(&s.skus[0])
            .is_some_and(|p| p["title"].as_str().is_some_and(|t| t.ends_with("(new season)")))
    })
    .await;
    let log = s.shop.stats().call_log[from..].to_vec();
    let pulled = log.iter().position(|c| c == "orders").expect("orders were pulled");
    let pushed = log
        .iter()
        .position(|c| c == "productSet")
        .expect("the product was pushed");
    assert!(pulled < pushed, "pull first, then push: {log:?}");
    s.server.stop().await;
}

#[tokio::test]
async fn an_update_that_arrives_before_its_create_gives_the_same_stock() {
    let s = setup().await;
    let a = s.skus[0].clone();
    let start = on_hand(&s.db, &a).await;
    // The create's webhooks are held back; the edit's overtake them.
    s.shop.webhook_faults().delay_next(2, Duration::from_secs(3));
    let order = s.shop.place_order(&s.location, &[(a.as_str(), 3)]);
    s.shop.reduce_line_item(&order, &a, 1, true);
    wait_on_hand(&s.db, &a, start - 1, "the order as edited").await;
    assert!(s.shop.wait_for_webhooks(Duration::from_secs(15)).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(on_hand(&s.db, &a).await, start - 1, "the late create changed nothing");
    s.server.stop().await;
}

#[tokio::test]
async fn sync_new_data_pulls_an_order_nobody_announced() {
    let s = setup().await;
    // Nothing else pulls: the start-up pulls are over before the order.
    wait_for_startup_pulls(&s.db).await;
    let a = s.skus[0].clone();
    let start = on_hand(&s.db, &a).await;
    s.shop.webhook_faults().lose_next(2);
    s.shop.place_order(&s.location, &[(a.as_str(), 2)]);
    let client = browser_like_client();
    sign_in(&s.server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    // The new channel's first scheduled sync may still be pushing: a
    // person would press again once it says it is no longer running.
    let started = Instant::now();
    loop {
        let channel = s.channel.get().to_string();
        let pressed = tillbridge_tests::form_post(&client, &s.server, "start_sync")
            .form(&[("channel", channel.as_str()), ("kind", "standard")])
            .send()
            .await
            .expect("sent");
        let notice = tillbridge_tests::notice(&tillbridge_tests::location(&pressed));
        if notice.starts_with("Standard sync of Shopify started") {
            break;
        }
        assert!(
            notice.contains("already running") && started.elapsed() < Duration::from_secs(30),
            "{notice}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_on_hand(&s.db, &a, start - 2, "the order Sync new data pulled").await;
    let storage = s.db.storage().await;
    let runs = storage.recent_runs(Some(s.channel), 50).await.expect("runs");
    storage.close().await;
    assert!(
        runs.iter()
            .any(|r| r.kind.as_str() == "pull_orders" && r.trigger.as_str() == "button"),
        "the button's pull is in the Sync History"
    );
    s.server.stop().await;
}

#[tokio::test]
async fn a_line_removed_from_an_order_gives_its_stock_back_once() {
    let s = setup().await;
    let (a, b) = (s.skus[0].clone(), s.skus[1].clone());
    let (start_a, start_b) = (on_hand(&s.db, &a).await, on_hand(&s.db, &b).await);
    let order = s.shop.place_order(&s.location, &[(a.as_str(), 2), (b.as_str(), 1)]);
    wait_on_hand(&s.db, &b, start_b - 1, "the order").await;
    s.shop.remove_line_item(&order, &b, true);
    wait_on_hand(&s.db, &b, start_b, "the line removed").await;
    // Pulled again: nothing given back twice, the other line kept.
    let (_, out, err) = cli(&s.db, &["sync", "--channel", "Shopify"], "").await;
    assert!(out.contains("orders of \"Shopify\""), "{err}{out}");
    assert_eq!(on_hand(&s.db, &b).await, start_b, "given back once");
    assert_eq!(
        on_hand(&s.db, &a).await,
        start_a - 2,
        "the other line still takes its units"
    );
    s.server.stop().await;
}

#[tokio::test]
async fn a_checkpoint_older_than_the_60_days_shopify_shows_is_reported_as_a_gap() {
    let s = setup().await;
    // The shop shows an app its last 60 days of orders; Tillbridge last
    // pulled 61 days ago (its checkpoint only moves forward, so a fresh
    // channel's is set directly).
    let storage = s.db.storage().await;
    let old = sync_core::domain::Timestamp::from(chrono::Utc::now() - chrono::TimeDelta::days(61));
    set_checkpoint(&storage, s.channel, old).await;
    let (_, out, err) = cli(&s.db, &["sync", "--channel", "Shopify"], "").await;
    assert!(
        out.contains("reconcile them by hand"),
        "the pull's log names the gap: {err}{out}"
    );
    let events = storage
        .recent_events(Some(s.channel), Some(sync_core::storage::EventResult::Failed), 50)
        .await
        .expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.action == "orders gap" && e.error.as_deref().is_some_and(|m| m.contains("60 days"))),
        "the Sync History records the gap: {events:?}"
    );
    storage.close().await;
    s.server.stop().await;
}

/// Sets a channel's orders checkpoint through the storage (it only moves
/// forward, and a fresh channel has none).
async fn set_checkpoint(storage: &sync_core::Storage, channel: ChannelId, at: sync_core::domain::Timestamp) {
    assert!(
        storage
            .orders_checkpoint(channel)
            .await
            .expect("read")
            .is_none_or(|c| c < at),
        "a checkpoint newer than the one set"
    );
    storage
        .advance_orders_checkpoint(channel, Some(at))
        .await
        .expect("checkpoint");
}
