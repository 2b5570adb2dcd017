//! The dashboard's channel work over HTTP with a signed-in session: selling
//! online per channel, connecting Shopify, force sync with its preview, the
//! live progress stream and the conflict actions that need the channel.

use std::time::{Duration, Instant};

use sync_core::demo::{DEMO_EMAIL, DEMO_PASSWORD};
use sync_core::domain::{ChannelId, ProductId};
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::{
    Database, TestServer, browser_like_client, cli, connect_shopify, location, notice, sign_in, wait_until,
};

const SANDBOX: ChannelId = ChannelId::new(1);

#[tokio::test]
async fn selling_online_off_in_a_channel_shows_zero_there_and_on_again_restores_it() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    // Product 3 has Auto Sync on in the demo; wait for its first push.
    let product = storage
        .get_product(ProductId::new(3))
        .await
        .expect("read")
        .expect("product 3");
    assert!(product.auto_sync);
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    let ids: Vec<_> = product.variants.iter().map(|v| v.id).collect();
    let sandbox_of = |skus: Vec<String>| {
        let storage = storage.clone();
        async move {
            storage
                .sandbox_items_by_sku(SANDBOX, &skus)
                .await
                .expect("sandbox")
                .into_iter()
                .map(|i| (i.sku, i.available))
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let balances = storage.balances(SANDBOX, &ids).await.expect("balances");
    assert!(
        balances.values().any(|b| *b > 0),
        "the demo stocks product 3: {balances:?}"
    );
    wait_until("product 3 listed in the Sandbox store", 20, || async {
        sandbox_of(skus.clone()).await.len() == skus.len()
    })
    .await;

    let bulk = |action: &'static str| {
        tillbridge_tests::form_post(&client, &server, "bulk_products")
            .form(&[("action", action), ("ids[]", "3"), ("return_to", "/products")])
            .send()
    };
    let off = bulk("sell_online:1:off").await.expect("sent");
    let message = notice(&location(&off));
    assert!(
        message.starts_with("Stopped selling online in Sandbox store for 1 product"),
        "{message}"
    );
    wait_until("the Sandbox store shows 0 for product 3", 20, || async {
        sandbox_of(skus.clone()).await.values().all(|q| *q == 0)
    })
    .await;
    let zero = storage.balances(SANDBOX, &ids).await.expect("balances");
    assert!(zero.values().all(|b| *b == 0), "{zero:?}");
    let explained = storage.explain_balance(SANDBOX, ids[0]).await.expect("explain");
    assert_eq!(
        explained.steps.last().map(|s| s.label.as_str()),
        Some("not sold online in this channel")
    );
    let filtered = client
        .get(server.url("/products?channel=not_sold:1"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(filtered.contains(&product.name), "the channel filter finds it");
    assert!(filtered.contains("Showing 1–1 of 1 product<"), "and only it");

    let on = bulk("sell_online:1:on").await.expect("sent");
    assert!(notice(&location(&on)).starts_with("Selling online in Sandbox store for 1 product"));
    wait_until("the Sandbox store back to the balances", 20, || async {
        let now = sandbox_of(skus.clone()).await;
        product.variants.iter().all(|v| now.get(&v.sku) == balances.get(&v.id))
    })
    .await;

    for (action, needle) in [
        ("sell_online:999:off", "there is no channel 999"),
        ("sell_online:1:maybe", "sell_online:<channel id>"),
    ] {
        let response = bulk(action).await.expect("sent");
        let to = location(&response);
        assert!(to.contains("notice_error=1"), "{to}");
        assert!(notice(&to).contains(needle), "{action}: {}", notice(&to));
    }
    server.stop().await;
}

#[tokio::test]
async fn an_owner_connects_shopify_from_the_dashboard_and_bad_input_names_its_field() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.add_location("Shop location");
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    let form_page = client
        .get(server.url("/channels/new"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(form_page.contains(r#"id="connect-shopify""#), "the owner sees the form");
    let base = shop.base_url();
    let connect = |domain: &'static str, token: String, location: &'static str| {
        tillbridge_tests::form_post(&client, &server, "connect_shopify")
            .form(&[
                ("name", "Online store"),
                ("shop_domain", domain),
                ("api_base_url", base.as_str()),
                ("token", token.as_str()),
                ("location", location),
                ("outlets[]", "1"),
                ("outlets[]", "3"),
                ("order_outlet", "1"),
                ("safety_buffer", "1"),
            ])
            .send()
    };
    let good_token = shop.token().to_owned();
    for (domain, token, place, field, needle) in [
        (
            "not a domain",
            good_token.clone(),
            "Shop location",
            "shop_domain",
            "not a shop domain",
        ),
        (
            "tillbridge-test.myshopify.com",
            "shpat_wrong".to_owned(),
            "Shop location",
            "token",
            "cannot reach",
        ),
        (
            "tillbridge-test.myshopify.com",
            "  ".to_owned(),
            "Shop location",
            "token",
            "Paste the Admin API access token",
        ),
        (
            "tillbridge-test.myshopify.com",
            good_token.clone(),
            "Basement",
            "location",
            "no active location named",
        ),
    ] {
        let response = connect(domain, token, place).await.expect("sent");
        let to = location(&response);
        assert!(to.starts_with("/channels/new?error_field="), "{to}");
        assert!(to.contains(&format!("error_field={field}")), "{field}: {to}");
        assert!(notice(&to).contains(needle), "{needle:?} not in {:?}", notice(&to));
        assert!(
            !to.contains("&token=") && !to.contains("?token="),
            "the token is never sent back: {to}"
        );
        assert_eq!(
            storage.list_channels().await.expect("channels").len(),
            1,
            "nothing saved"
        );
    }
    let response = connect(
        "https://Tillbridge-Test.myshopify.com/",
        good_token.clone(),
        "shop location",
    )
    .await
    .expect("sent");
    let to = location(&response);
    assert!(
        notice(&to).starts_with("Connected tillbridge-test.myshopify.com"),
        "{to}"
    );
    let channel = storage
        .channel_by_name("Online store")
        .await
        .expect("read")
        .expect("the channel was saved");
    assert_eq!(to.split('?').next(), Some(format!("/channels/{}", channel.id).as_str()));
    let sealed = channel.credentials.clone().expect("credentials");
    assert!(
        !String::from_utf8_lossy(&sealed).contains(&good_token),
        "the token is stored encrypted"
    );
    let settings = storage.channel_settings(channel.id).await.expect("settings");
    assert_eq!(settings.rules.safety_buffer, 1);
    assert_eq!(settings.outlets.len(), 2);
    let page = client
        .get(server.url(&format!("/channels/{}", channel.id)))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(!page.contains(&good_token), "the token is never shown again");
    let id = channel.id.to_string();
    let tested = tillbridge_tests::form_post(&client, &server, "test_connection")
        .form(&[("id", id.as_str())])
        .send()
        .await
        .expect("sent");
    let message = notice(&location(&tested));
    assert!(
        message.starts_with("Connected to tillbridge-test.myshopify.com"),
        "{message}"
    );
    shop.faults().set_down(true);
    let id = channel.id.to_string();
    let tested = tillbridge_tests::form_post(&client, &server, "test_connection")
        .form(&[("id", id.as_str())])
        .send()
        .await
        .expect("sent");
    let to = location(&tested);
    assert!(
        to.contains("notice_error=1") && notice(&to).contains("The connection test failed"),
        "{to}"
    );
    shop.faults().set_down(false);

    // A manager runs syncs but does not handle credentials.
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "mia@shop.example", "--role", "manager"],
        "a long enough password\n",
    )
    .await;
    assert!(ok, "{err}");
    let manager = browser_like_client();
    sign_in(&server, &manager, "mia@shop.example", "a long enough password").await;
    let refused = tillbridge_tests::form_post(&manager, &server, "connect_shopify")
        .form(&[("name", "Sneaky"), ("shop_domain", "x.myshopify.com"), ("token", "t")])
        .send()
        .await
        .expect("sent");
    assert!(notice(&location(&refused)).contains("Only an owner"));
    let refused = tillbridge_tests::form_post(&manager, &server, "test_connection")
        .form(&[("id", id.as_str())])
        .send()
        .await
        .expect("sent");
    assert!(notice(&location(&refused)).contains("Only an owner"));
    assert_eq!(storage.list_channels().await.expect("channels").len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn force_sync_previews_channel_only_products_then_deletes_them_when_asked() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    // Two items someone made in the Sandbox store itself.
    storage
        .sandbox_create(
            SANDBOX,
            &[
                ("GIFT-CARD-50".into(), "Gift card 50".into(), 99),
                ("STORE-ONLY-TOTE".into(), "Store-only tote".into(), 4),
            ],
        )
        .await
        .expect("sandbox items");
    let page = client
        .get(server.url("/channels/1/force"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("Gift card 50") && page.contains("STORE-ONLY-TOTE"),
        "preview lists them"
    );
    assert!(page.contains("Products found only in the channel"));
    let (ok, out, err) = cli(
        &db,
        &["sync", "--channel", "Sandbox store", "--kind", "force", "--preview"],
        "",
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("2 products only in the channel kept"), "{out}");
    assert!(
        out.contains("only in the channel: Gift card 50 (GIFT-CARD-50)"),
        "{out}"
    );
    tillbridge_tests::wait_for_startup_pulls(&db).await;
    let bad = tillbridge_tests::form_post(&client, &server, "start_sync")
        .form(&[("channel", "1"), ("kind", "force"), ("channel_only", "burn")])
        .send()
        .await
        .expect("sent");
    assert!(notice(&location(&bad)).contains("keep, unpublish or delete"));
    assert_eq!(
        storage
            .sandbox_items(SANDBOX)
            .await
            .expect("items")
            .iter()
            .filter(|i| i.sku == "GIFT-CARD-50")
            .count(),
        1
    );

    let started = tillbridge_tests::form_post(&client, &server, "start_sync")
        .form(&[
            ("channel", "1"),
            ("kind", "force"),
            ("channel_only", "delete"),
            ("clear", "1"),
        ])
        .send()
        .await
        .expect("sent");
    assert!(notice(&location(&started)).starts_with("Force sync of Sandbox store started"));
    wait_until("the channel-only items deleted", 60, || async {
        let items = storage.sandbox_items(SANDBOX).await.expect("items");
        !items
            .iter()
            .any(|i| i.sku == "GIFT-CARD-50" || i.sku == "STORE-ONLY-TOTE")
    })
    .await;
    // Cleared and relinked by SKU: every Auto Sync variant is listed again.
    wait_until("relinked", 60, || async {
        let listings = storage.listings(SANDBOX).await.expect("listings");
        let wanted = storage.syncable_variants(SANDBOX).await.expect("variants").len();
        listings
            .iter()
            .filter(|l| l.external_inventory_item_id.is_some())
            .count()
            >= wanted
    })
    .await;
    let events = storage.recent_events(Some(SANDBOX), None, 5000).await.expect("events");
    assert!(
        events.iter().any(|e| e.action == "delete product only in the channel"),
        "recorded in the Sync History"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_progress_stream_sends_the_channel_figures_as_json_events() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let anonymous = browser_like_client();
    let refused = anonymous
        .get(server.url("/channels/1/events"))
        .send()
        .await
        .expect("sent");
    assert!(
        refused.status() == 303 || refused.status() == 401,
        "{}",
        refused.status()
    );
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let missing = client
        .get(server.url("/channels/99/events"))
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
    let mut stream = client.get(server.url("/channels/1/events")).send().await.expect("sent");
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.matches("data: ").count() < 2 {
        assert!(Instant::now() < deadline, "two events within 10 s: {seen}");
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("an event within 5 s")
            .expect("read")
            .expect("open stream");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let first = seen
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("a data line");
    let event: serde_json::Value = serde_json::from_str(first).expect("json");
    assert!(event["pending"].is_i64(), "{event}");
    assert!(event["running"].is_boolean(), "{event}");
    assert!(event["last_push"].is_string(), "{event}");
    server.stop().await;
}

#[tokio::test]
async fn a_conflict_over_a_sku_held_elsewhere_is_settled_by_linking_it() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    let location = shop.add_location("Main warehouse");
    let channel = connect_shopify(&db, &shop, "Shopify", "Main warehouse").await;
    let storage = db.storage().await;
    let first = storage
        .get_product(ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    let second = storage
        .get_product(ProductId::new(2))
        .await
        .expect("read")
        .expect("product 2");
    let (a, b) = (first.variants[0].sku.clone(), second.variants[0].sku.clone());
    shop.add_product(
        "Bundle made in the shop",
        &[(a.as_str(), 5), (b.as_str(), 6)],
        &location,
    );
    // The first is linked by SKU; the second then finds its SKU held by it.
    let (ok, _, err) = cli(&db, &["autosync", "on", "--sku", &a], "").await;
    assert!(ok, "{err}");
    let want_a = storage
        .balances(channel, &[first.variants[0].id])
        .await
        .expect("balance")[&first.variants[0].id];
    wait_until("the first SKU linked and pushed", 30, || async {
        shop.available(&a, &location) == Some(want_a)
    })
    .await;
    let (ok, _, err) = cli(&db, &["autosync", "on", "--sku", &b], "").await;
    assert!(ok, "{err}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let conflict = loop {
        let open = storage.open_conflicts(Some(channel)).await.expect("conflicts");
        if let Some(c) = open.into_iter().find(|c| c.sku.as_deref() == Some(b.as_str())) {
            break c;
        }
        assert!(Instant::now() < deadline, "no sku_elsewhere conflict for {b}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(conflict.kind.as_str(), "sku_elsewhere");
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let resolve = |action: &'static str| {
        client
            .post(server.url("/api/resolve_conflict"))
            .header("accept", "application/json")
            .form(&[("id", conflict.id.to_string()), ("action", action.to_owned())])
            .send()
    };
    let bad = resolve("merge").await.expect("sent");
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text()
            .await
            .expect("body")
            .contains("ignore, retry, link or create")
    );
    let linked = resolve("link").await.expect("sent");
    assert_eq!(linked.status(), 200);
    assert!(
        linked
            .text()
            .await
            .expect("body")
            .contains("linked to the item in Shopify")
    );
    let want = storage
        .balances(channel, &[second.variants[0].id])
        .await
        .expect("balance")[&second.variants[0].id];
    wait_until("the shop shows our figure for the linked SKU", 30, || async {
        shop.available(&b, &location) == Some(want)
    })
    .await;
    assert_eq!(shop.product_count(), 1, "linked, never created twice");
    let open = storage.open_conflicts(Some(channel)).await.expect("conflicts");
    assert!(!open.iter().any(|c| c.sku.as_deref() == Some(b.as_str())), "{open:?}");
    let again = resolve("link").await.expect("sent");
    assert_eq!(again.status(), 409, "already resolved");
    let channels = client
        .get(server.url("/api/list_channels"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    assert!(
        channels.contains("median "),
        "the change-to-channel figures: {channels}"
    );
    server.stop().await;
}

/// Posts the Connect Vendure form as a browser without JavaScript would.
async fn post_connect_vendure(
    client: &reqwest::Client,
    server: &TestServer,
    base: &str,
    key: &str,
    stock_location: &str,
) -> String {
    let response = tillbridge_tests::form_post(client, server, "connect_vendure")
        .form(&[
            ("name", "Vendure store"),
            ("api_base_url", base),
            ("api_key", key),
            ("stock_location", stock_location),
            ("outlets[]", "1"),
            ("outlets[]", "3"),
            ("order_outlet", "1"),
            ("safety_buffer", "0"),
            ("public_url", "https://tillbridge.shop.example"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    location(&response)
}

#[tokio::test]
async fn an_owner_connects_vendure_by_form_and_a_refused_key_or_location_names_its_field() {
    use tillbridge_tests::vendure::VendureServer;
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let vendure = VendureServer::start().await;
    vendure.create_stock_location("Tillbridge online").await;
    // Only what the test turns on goes to the store.
    let (ok, _, err) = cli(&db, &["autosync", "off", "--all"], "").await;
    assert!(ok, "{err}");
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let page = client
        .get(server.url("/channels/new/vendure"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(page.contains(r#"id="connect-vendure""#), "the owner sees the form");
    let storage = db.storage().await;
    let key = vendure.api_key().to_owned();
    for (base, key, place, field, needle) in [
        (
            "not an address",
            key.as_str(),
            "Tillbridge online",
            "api_base_url",
            "not an address",
        ),
        (
            "http://127.0.0.1:9",
            key.as_str(),
            "Tillbridge online",
            "api_base_url",
            "cannot reach",
        ),
        (
            vendure.base.as_str(),
            "wrong-key",
            "Tillbridge online",
            "api_key",
            "cannot reach",
        ),
        (
            vendure.base.as_str(),
            "  ",
            "Tillbridge online",
            "api_key",
            "Paste the API key of a Vendure administrator",
        ),
        (
            vendure.base.as_str(),
            key.as_str(),
            "Basement",
            "stock_location",
            "no stock location named",
        ),
    ] {
        let to = post_connect_vendure(&client, &server, base, key, place).await;
        assert!(to.starts_with("/channels/new/vendure?error_field="), "{to}");
        assert!(to.contains(&format!("error_field={field}")), "{field}: {to}");
        assert!(notice(&to).contains(needle), "{needle:?} not in {:?}", notice(&to));
        assert!(
            !to.contains("&api_key=") && !to.contains("?api_key="),
            "the key is never sent back: {to}"
        );
        assert!(to.contains("name=Vendure+store"), "what was typed is kept: {to}");
        assert_eq!(
            storage.list_channels().await.expect("channels").len(),
            1,
            "nothing saved"
        );
    }
    let to = post_connect_vendure(&client, &server, &vendure.base, &key, "tillbridge online").await;
    let channel = storage
        .channel_by_name("Vendure store")
        .await
        .expect("read")
        .expect("the channel was saved");
    assert_eq!(to.split('?').next(), Some(format!("/channels/{}", channel.id).as_str()));
    let said = notice(&to);
    assert!(said.starts_with(&format!("Connected {}", vendure.base)), "{said}");
    assert!(
        said.contains(&format!(
            "VENDURE_ORDER_WEBHOOK_URL=https://tillbridge.shop.example/webhooks/vendure/{}",
            channel.id
        )),
        "{said}"
    );
    assert_eq!(channel.kind, sync_core::domain::ChannelKind::Vendure);
    let sealed = channel.credentials.clone().expect("credentials");
    assert!(
        !String::from_utf8_lossy(&sealed).contains(&key),
        "the key is stored encrypted"
    );
    let settings = storage.channel_settings(channel.id).await.expect("settings");
    assert_eq!(settings.outlets.len(), 2);

    // A refused key is not saved; the working one is, and the worker goes on with it.
    let id = channel.id.to_string();
    let replace = |secret: &'static str| {
        tillbridge_tests::form_post(&client, &server, "replace_credentials")
            .form(&[("id", id.as_str()), ("secret", secret)])
            .send()
    };
    let refused = location(&replace("not-the-key").await.expect("sent"));
    assert!(refused.contains("error_field=secret"), "{refused}");
    assert!(notice(&refused).contains("cannot reach"), "{}", notice(&refused));
    let kept = storage.channel(channel.id).await.expect("read").expect("channel");
    assert_eq!(
        kept.credentials.as_deref(),
        Some(sealed.as_slice()),
        "the old key stays"
    );
    let response = tillbridge_tests::form_post(&client, &server, "replace_credentials")
        .form(&[("id", id.as_str()), ("secret", key.as_str())])
        .send()
        .await
        .expect("sent");
    let said = notice(&location(&response));
    assert!(said.starts_with("New API key saved"), "{said}");
    let replaced = storage.channel(channel.id).await.expect("read").expect("channel");
    assert_ne!(replaced.credentials, kept.credentials, "sealed again");
    let sku = tillbridge_tests::first_skus(&db, 1).await;
    tillbridge_tests::auto_sync_on(&db, &sku).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while vendure.variants(&sku).await.is_empty() {
        assert!(Instant::now() < deadline, "the product never reached Vendure");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn replacing_a_shopify_token_tries_it_first_and_keeps_the_old_one_when_refused() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    let location_gid = shop.add_location("Shop location");
    let channel = connect_shopify(&db, &shop, "Online store", "Shop location").await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    let before = storage.channel(channel).await.expect("read").expect("channel");
    let page = client
        .get(server.url(&format!("/channels/{channel}")))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(page.contains("New Admin API access token"), "the owner sees the form");
    let id = channel.to_string();
    let replace = |secret: String| {
        tillbridge_tests::form_post(&client, &server, "replace_credentials")
            .form(&[("id", id.clone()), ("secret", secret)])
            .send()
    };
    for (secret, needle) in [
        ("shpat_wrong".to_owned(), "refused our credentials"),
        ("   ".to_owned(), "paste the new Admin API access token"),
    ] {
        let to = location(&replace(secret).await.expect("sent"));
        assert!(
            to.starts_with(&format!("/channels/{channel}?error_field=secret")),
            "{to}"
        );
        assert!(notice(&to).contains(needle), "{needle:?} not in {:?}", notice(&to));
        let kept = storage.channel(channel).await.expect("read").expect("channel");
        assert_eq!(kept.credentials, before.credentials, "the old token stays");
    }
    let to = location(&replace(shop.token().to_owned()).await.expect("sent"));
    assert!(
        notice(&to).starts_with("New token saved for tillbridge-test.myshopify.com"),
        "{to}"
    );
    let after = storage.channel(channel).await.expect("read").expect("channel");
    assert_ne!(after.credentials, before.credentials, "sealed again");
    // The channel's worker starts again with the new token and pushes.
    let skus = tillbridge_tests::first_skus(&db, 1).await;
    tillbridge_tests::auto_sync_on(&db, &skus).await;
    wait_until("the shop stocks the SKU", 30, || async {
        shop.available(&skus[0], &location_gid).is_some()
    })
    .await;
    let history = storage.recent_events(Some(channel), None, 100).await.expect("events");
    assert!(history.iter().any(|e| e.action == "replace credentials"));
    assert!(
        !history
            .iter()
            .any(|e| e.error.as_deref().unwrap_or_default().contains(shop.token())),
        "the token is never in the history"
    );
    server.stop().await;
}
