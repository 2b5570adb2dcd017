//! Hostile input (issue 16): what an attacker, or a careless client, sends
//! is refused clearly and writes nothing it should not.

use std::time::Duration;

use serde_json::{Value, json};
use sync_core::domain::{ChannelId, ChannelKind, ProductId};
use sync_core::storage::{NewChannel, RunKind, RunTrigger};
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer, webhook_hmac};
use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, add_shopify_channel, browser_like_client, cli, post_movements,
    sign_in, wait_for_startup_pulls, wait_until,
};

/// A manager token named `name`, made with the command line.
async fn manager_token(db: &Database, name: &str) -> String {
    let (ok, out, err) = cli(db, &["token", "create", "--name", name, "--role", "manager"], "").await;
    assert!(ok, "token create failed: {err}");
    out.trim().to_owned()
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_the_token_that_used_it() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let till = manager_token(&db, "till one").await;
    let other = manager_token(&db, "till two").await;
    let body =
        json!({"movements": [{"sku": "TEE-0090-S-BLA", "outlet": "harbour", "delta": 2, "reason": "purchase_order"}]})
            .to_string();
    let first: Value = post_movements(&server, &till, body.clone(), Some("shared-key"))
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(first["replayed"], false, "{first}");
    // The same key and body from another token is that token's own request:
    // applied, never answered with the first token's stored movements.
    let second: Value = post_movements(&server, &other, body, Some("shared-key"))
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(second["replayed"], false, "{second}");
    assert_ne!(first["movements"][0]["id"], second["movements"][0]["id"], "{second}");
    // A different body under the same key from a third token is no conflict either.
    let third = manager_token(&db, "till three").await;
    let different =
        json!({"movements": [{"sku": "TEE-0090-S-BLA", "outlet": "harbour", "delta": 1, "reason": "purchase_order"}]})
            .to_string();
    let answer = post_movements(&server, &third, different, Some("shared-key"))
        .await
        .expect("sent");
    assert_eq!(answer.status(), 200, "another token's key is not a conflict");
    server.stop().await;
}

#[tokio::test]
async fn exported_cells_that_look_like_formulas_are_quoted_and_read_back_unchanged() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let token = manager_token(&db, "catalog writer").await;
    let product = json!({
        "name": "=HYPERLINK(\"http://evil.example\",\"click\")",
        "description": "@SUM(1+1)",
        "tags": ["-2+3"],
        "variants": [{"sku": "EVIL-1", "price": "5.00", "currency": "NZD"}]
    });
    let created = reqwest::Client::new()
        .post(server.url("/api/v1/products"))
        .bearer_auth(&token)
        .json(&product)
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let sold = json!({"movements": [{"sku": "EVIL-1", "outlet": "harbour", "delta": -3, "reason": "sales_order"}]});
    let answer = post_movements(&server, &token, sold.to_string(), None)
        .await
        .expect("sent");
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    server.stop().await;

    let (ok, catalog, err) = cli(&db, &["export", "-"], "").await;
    assert!(ok, "{err}");
    let row = catalog
        .lines()
        .find(|l| l.contains("EVIL-1"))
        .expect("the product's row");
    assert!(
        row.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "{row}"
    );
    assert!(row.contains(",'@SUM(1+1),"), "{row}");
    assert!(row.contains(",'-2+3,"), "{row}");
    let (ok, stock, err) = cli(&db, &["export", "--stock", "-"], "").await;
    assert!(ok, "{err}");
    assert!(
        stock.contains("\nEVIL-1,harbour,-3\n"),
        "a negative count stays a number:\n{stock}"
    );

    // The quoted file reads back as the same catalog.
    let fresh = Database::sqlite();
    let (ok, _, err) = cli(&fresh, &["migrate"], "").await;
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("catalog.csv");
    std::fs::write(&file, &catalog).expect("write");
    let file = file.display().to_string();
    let (ok, out, err) = cli(&fresh, &["import", "catalog", &file, "--apply"], "").await;
    assert!(ok, "{out}{err}");
    let (ok, again, err) = cli(&fresh, &["export", "-"], "").await;
    assert!(ok, "{err}");
    assert_eq!(again, catalog, "the export of the import is the same file");
}

/// Posts a dashboard form as the server function client does (asking for
/// JSON): the status and the body.
async fn server_fn(
    client: &reqwest::Client,
    server: &TestServer,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = client
        .post(server.url(&format!("/api/{endpoint}")))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .expect("sent");
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test]
async fn dashboard_forms_refuse_bad_fields_with_a_4xx_naming_them_and_write_nothing() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    let product = storage
        .get_product(ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    let sku = product.variants[0].sku.clone();
    let outlet = product.variants[0].stock[0].outlet_code.clone();
    let long_note = "n".repeat(200_000);
    let adjust = |mode: &str, note: &str| {
        vec![
            ("product_id", "1".to_owned()),
            ("sku", sku.clone()),
            ("outlet", outlet.clone()),
            ("mode", mode.to_owned()),
            ("amount", "5".to_owned()),
            ("reason", "manual_adjustment".to_owned()),
            ("note", note.to_owned()),
        ]
    };
    for (form, field) in [(adjust("weird", ""), "mode"), (adjust("delta", &long_note), "note")] {
        let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = server_fn(&client, &server, "adjust_stock", &borrowed).await;
        let shown: String = body.chars().take(300).collect();
        assert_eq!(status, 422, "{field}: {shown}");
        assert!(
            body.contains(&format!("\"field\":\"{field}\"")),
            "{field} not named: {shown}"
        );
    }
    // Posted without its fields at all: 400, naming the first one missing.
    let (status, body) = server_fn(&client, &server, "adjust_stock", &[("product_id", "1")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("sku"), "{body}");
    let after = storage
        .get_product(ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    assert_eq!(after.variants[0].stock, product.variants[0].stock, "no stock written");

    // A channel setting naming an outlet that does not exist.
    let sandbox = ChannelId::new(1);
    let settings_before = storage.channel_settings(sandbox).await.expect("settings");
    for (form, field) in [
        (
            vec![("id", "1"), ("outlets[]", "999"), ("order_outlet", "1")],
            "outlets",
        ),
        (
            vec![("id", "1"), ("outlets[]", "1"), ("order_outlet", "999")],
            "order_outlet",
        ),
    ] {
        let (status, body) = server_fn(&client, &server, "save_channel_settings", &form).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body.contains(&format!("\"field\":\"{field}\"")) && body.contains("no outlet 999"),
            "{body}"
        );
    }
    assert_eq!(
        storage.channel_settings(sandbox).await.expect("settings"),
        settings_before
    );

    // A bulk action on a product that exists and one that does not.
    let auto_sync_before = storage
        .get_product(ProductId::new(261))
        .await
        .expect("read")
        .expect("261")
        .auto_sync;
    let action = if auto_sync_before {
        "auto_sync_off"
    } else {
        "auto_sync_on"
    };
    let (status, body) = server_fn(
        &client,
        &server,
        "bulk_products",
        &[
            ("action", action),
            ("ids[]", "261"),
            ("ids[]", "999999"),
            ("return_to", "/products"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"field\":\"ids\"") && body.contains("999999"), "{body}");
    assert!(!body.contains("2 products"), "{body}");
    let auto_sync_after = storage
        .get_product(ProductId::new(261))
        .await
        .expect("read")
        .expect("261")
        .auto_sync;
    assert_eq!(auto_sync_after, auto_sync_before, "nothing written");
    server.stop().await;
}

/// A running Tillbridge with the Shopify test server connected as a channel
/// whose webhooks are signed with the shop's client secret.
async fn shopify_channel() -> (Database, TestServer, ShopifyTestServer, ChannelId) {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.allow_loopback_webhooks(true);
    shop.add_location("Main warehouse");
    let channel = add_shopify_channel(
        &db,
        &shop,
        "Shopify",
        "Main warehouse",
        "downtown,warehouse",
        Some(&server.base),
    )
    .await;
    wait_for_startup_pulls(&db).await;
    (db, server, shop, channel)
}

/// Order pulls a webhook asked for on `channel`.
async fn webhook_pulls(db: &Database, channel: ChannelId) -> usize {
    let storage = db.storage().await;
    let runs = storage.recent_runs(Some(channel), 500).await.expect("runs");
    storage.close().await;
    runs.iter()
        .filter(|r| r.kind == RunKind::PullOrders && r.trigger == RunTrigger::Webhook)
        .count()
}

#[tokio::test]
async fn refused_webhooks_are_counted_not_written_and_replays_are_ignored() {
    let (db, server, shop, channel) = shopify_channel().await;
    let client = reqwest::Client::new();
    let url = server.url(&format!("/webhooks/shopify/{}", channel.get()));
    let body = br##"{"id":1,"name":"#1001"}"##.to_vec();

    // 100 unsigned posts with a 6 KB topic: one history row, its topic cut short.
    let topic = "t".repeat(6 * 1024);
    for _ in 0..100 {
        let answer = client
            .post(&url)
            .header("x-shopify-topic", &topic)
            .body(body.clone())
            .send()
            .await
            .expect("sent");
        assert_eq!(answer.status(), 401);
    }
    let storage = db.storage().await;
    let refused: Vec<_> = storage
        .recent_events(Some(channel), None, 500)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.action == "webhook refused")
        .collect();
    assert_eq!(refused.len(), 1, "one report a minute, not a row per post");
    let kept = refused[0].before_value.clone().unwrap_or_default();
    assert!(
        kept.chars().count() <= 101,
        "the topic is cut: {} characters",
        kept.chars().count()
    );

    // Validly signed, but triggered 10 minutes ago: acknowledged, not acted on.
    let signed = |webhook_id: String, triggered_at: String| {
        client
            .post(&url)
            .header("x-shopify-topic", "orders/create")
            .header("x-shopify-hmac-sha256", webhook_hmac(&shop.client_secret(), &body))
            .header("x-shopify-webhook-id", webhook_id)
            .header("x-shopify-triggered-at", triggered_at)
            .body(body.clone())
            .send()
    };
    let before = webhook_pulls(&db, channel).await;
    let old = (chrono::Utc::now() - chrono::TimeDelta::minutes(10)).to_rfc3339();
    let stale = signed("stale-1".into(), old).await.expect("sent");
    assert_eq!(stale.status(), 200);
    assert!(
        stale.text().await.expect("body").starts_with("ignored"),
        "a stale delivery is ignored"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        webhook_pulls(&db, channel).await,
        before,
        "no pull for a stale delivery"
    );

    // A fresh one pulls; the same webhook id again is a replay.
    let now = chrono::Utc::now().to_rfc3339();
    let fresh = signed("fresh-1".into(), now.clone()).await.expect("sent");
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.text().await.expect("body"), "");
    let replay = signed("fresh-1".into(), now).await.expect("sent");
    assert_eq!(replay.status(), 200);
    assert!(
        replay.text().await.expect("body").starts_with("ignored"),
        "a repeated id is ignored"
    );
    wait_until("the fresh delivery's pull", 30, || async {
        webhook_pulls(&db, channel).await > before
    })
    .await;

    // 100 fresh, validly signed deliveries in a burst cause a bounded number of pulls.
    let started = webhook_pulls(&db, channel).await;
    for i in 0..100 {
        let answer = signed(format!("burst-{i}"), chrono::Utc::now().to_rfc3339())
            .await
            .expect("sent");
        assert_eq!(answer.status(), 200);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pulls = webhook_pulls(&db, channel).await - started;
    eprintln!("100 signed deliveries caused {pulls} pulls");
    assert!(pulls <= 10, "pulls are coalesced per channel: {pulls}");
    storage.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_vendure_order_event_needs_the_channel_s_secret_in_its_address() {
    let db = Database::sqlite();
    let (ok, _, err) = cli(&db, &["demo"], "").await;
    assert!(ok, "{err}");
    // A Vendure channel as connecting one leaves it (the store itself is not
    // needed: only the webhook address is under test), with its secret's hash.
    let storage = db.storage().await;
    let outlet = storage.list_outlets().await.expect("outlets")[0].id;
    let channel = storage
        .create_channel(&NewChannel {
            name: "Vendure".into(),
            kind: ChannelKind::Vendure,
            settings: json!({"api_base_url": "http://127.0.0.1:9", "stock_location_id": "1", "stock_location_name": "Main"}),
            order_outlet: Some(outlet),
            outlets: vec![outlet],
            ..NewChannel::default()
        })
        .await
        .expect("channel");
    let (secret, stored) = sync_core::webhook::new_vendure_secret();
    storage.set_webhook_secret(channel, &stored).await.expect("secret");
    storage.close().await;
    let server = TestServer::start(&db, &["serve"]).await;
    let client = reqwest::Client::new();
    let event = json!({"code": "ORD-1", "toState": "PaymentSettled"}).to_string();
    let post = |path: String| client.post(server.url(&path)).body(event.clone()).send();
    let id = channel.get();

    // Unsigned, guessed and almost-right addresses are refused.
    let mut almost = secret.clone();
    almost.replace_range(63.., if secret.ends_with('0') { "1" } else { "0" });
    for path in [
        format!("/webhooks/vendure/{id}"),
        format!("/webhooks/vendure/{id}/guessed"),
        format!("/webhooks/vendure/{id}/{almost}"),
    ] {
        assert_eq!(post(path.clone()).await.expect("sent").status(), 401, "{path}");
    }
    // The refusals are counted: one report, not a row each.
    let storage = db.storage().await;
    let refused = storage
        .recent_events(Some(channel), None, 50)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.action == "webhook refused")
        .count();
    assert_eq!(refused, 1);
    storage.close().await;
    // The address with the secret is taken (the pull it asks for is
    // coalesced per channel, as the Shopify test above counts); the secret
    // of one channel opens no other.
    assert_eq!(
        post(format!("/webhooks/vendure/{id}/{secret}"))
            .await
            .expect("sent")
            .status(),
        200
    );
    assert_eq!(
        post(format!("/webhooks/vendure/1/{secret}"))
            .await
            .expect("sent")
            .status(),
        404,
        "the Sandbox store is no Vendure channel"
    );
    server.stop().await;
}
