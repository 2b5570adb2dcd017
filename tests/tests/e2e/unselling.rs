//! No un-selling (DESIGN section 4): a till posts sales while shoppers buy
//! the same SKUs in the Shopify test server, whose sale moves `available`
//! to `committed` at once, as Shopify's does. Stock only goes down, so
//! Tillbridge must never raise the shop's figure; afterwards every SKU in
//! the shop equals its syncable balance and every sale counted once. Then
//! the same with lost webhooks and failing calls, and a change made in the
//! shop's admin (no order) overwritten after a pull, with the history
//! telling why.

use std::time::Duration;

use serde_json::json;
use tillbridge_tests::post_movements;
use tillbridge_tests::race::{CHANNEL, Race, START, Tally, closing_order, exact, race, setup};

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
    assert_eq!(
        stats.raises, raises,
        "the shop's figure was raised while stock only went down"
    );

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
    let lost = r.shop.webhook_deliveries().iter().filter(|d| !d.sent()).count();
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
    assert_eq!(
        stats.raises, raises,
        "the shop's figure was raised while stock only went down"
    );
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
    let resp = post_movements(&r.server, &r.token, body.to_string(), Some(key))
        .await
        .expect("post");
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
        events.iter().any(
            |e| e.contains(&format!("the channel showed {}, we expected {START}", START - 2))
                && e.contains("not applied")
        ),
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
            .any(|c| c.kind.as_str() == "changed_in_channel" && c.sku.as_deref() == Some(sku.as_str())),
        "the change made in the shop is listed for a person: {conflicts:?}"
    );
}

#[tokio::test]
async fn clear_all_data_and_force_sync_pull_the_shops_orders_before_raising_anything() {
    let r = setup(2).await;
    let mut tally = Tally::default();
    let sku = r.skus[0].clone();
    let raises = r.shop.stats().raises;
    // Signed in first: signing in pulls a channel not pulled lately, and
    // that pull must be over before the sale, which only the force sync's
    // own pull may find (and a channel pulling would refuse the button).
    let client = tillbridge_tests::browser_like_client();
    tillbridge_tests::sign_in(
        &r.server,
        &client,
        tillbridge_tests::DEMO_EMAIL,
        tillbridge_tests::DEMO_PASSWORD,
    )
    .await;
    tillbridge_tests::wait_for_startup_pulls(&r.db).await;
    // A sale nobody announced: the shop shows 2 fewer than Tillbridge knows.
    r.shop.webhook_faults().lose_next(2);
    r.shop.try_place_order(&r.location, &[(&sku, 2)]).expect("order");
    *tally.shop.entry(sku.clone()).or_default() += 2;
    tally.orders += 1;
    // "Clear all data and sync" forgets every link, finds the items again by
    // SKU with the shop's figures, and would push Tillbridge's older balance
    // over the sold units if it did not pull first.
    let channel = r.channel.get().to_string();
    let started = tillbridge_tests::form_post(&client, &r.server, "start_sync")
        .form(&[
            ("channel", channel.as_str()),
            ("kind", "force"),
            ("channel_only", "keep"),
            ("clear", "1"),
        ])
        .send()
        .await
        .expect("sent");
    let notice = tillbridge_tests::notice(&tillbridge_tests::location(&started));
    assert!(notice.starts_with("Force sync of Shopify started"), "{notice}");
    // Nothing else pulls: the force sync does, before it pushes.
    exact(&r, &tally, Duration::from_secs(30)).await;
    let events = history(&r).await;
    let waited = format!("{sku} would go from {} to {START}", START - 2);
    assert!(
        events
            .iter()
            .any(|e| e.contains(&waited) && e.contains("waiting for the channel's orders")),
        "the relinked item's push waited for the orders:\n{}",
        events.join("\n")
    );
    assert_eq!(r.shop.stats().raises, raises, "the sold units were never offered again");
    assert_eq!(r.shop.available(&sku, &r.location), Some(START - 2));
}
