use serde_json::Value;
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
use tillbridge_tests::{Database, TestServer, add_shopify_channel, cli, first_skus, wait_until};

async fn token(db: &Database, role: &str) -> String {
    let (ok, out, err) = cli(
        db,
        &["token", "create", "--name", &format!("{role} till"), "--role", role],
        "",
    )
    .await;
    assert!(ok, "token create failed: {err}");
    out.trim().to_owned()
}

async fn get(server: &TestServer, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(server.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_api_refuses_requests_without_a_valid_token_with_a_json_error() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (status, body) = get(&server, "/api/v1/products", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Authorization")
    );
    let (status, body) = get(&server, "/api/v1/outlets", Some("tb_not-a-real-token")).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not valid")
    );
    let (status, _) = get(&server, "/healthz", None).await;
    assert_eq!(status, 200, "health needs no token");
    server.stop().await;
}

#[tokio::test]
async fn products_come_with_variants_stock_per_outlet_and_keyset_pages() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let viewer = token(&db, "viewer").await;

    let (status, outlets) = get(&server, "/api/v1/outlets", Some(&viewer)).await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = outlets["outlets"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|o| o["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["downtown", "harbour", "warehouse"]);

    let mut seen = std::collections::HashSet::new();
    let mut after: Option<i64> = None;
    let mut pages = 0;
    loop {
        let path = match after {
            Some(a) => format!("/api/v1/products?limit=200&after={a}"),
            None => "/api/v1/products?limit=200".to_owned(),
        };
        let (status, page) = get(&server, &path, Some(&viewer)).await;
        assert_eq!(status, 200, "{page}");
        for p in page["products"].as_array().expect("products") {
            assert!(
                seen.insert(p["id"].as_i64().expect("id")),
                "a product appeared twice across pages"
            );
            let variant = &p["variants"][0];
            assert!(variant["sku"].is_string());
            assert_eq!(variant["price"]["currency"], "NZD");
            assert_eq!(
                variant["stock"].as_array().expect("stock").len(),
                3,
                "stock at each outlet"
            );
        }
        pages += 1;
        match page["next_after"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 500);
    assert_eq!(pages, 3);

    let (_, first) = get(&server, "/api/v1/products?limit=1", Some(&viewer)).await;
    let sku = first["products"][0]["variants"][0]["sku"]
        .as_str()
        .expect("sku")
        .to_owned();
    let (status, by_sku) = get(&server, &format!("/api/v1/products?sku={sku}"), Some(&viewer)).await;
    assert_eq!(status, 200);
    assert_eq!(by_sku["products"].as_array().map(Vec::len), Some(1));
    assert_eq!(by_sku["products"][0]["id"], first["products"][0]["id"]);
    server.stop().await;
}

#[tokio::test]
async fn a_bad_query_parameter_gets_a_400_that_names_it() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let viewer = token(&db, "viewer").await;
    for (query, name) in [
        ("limit=ten", "`limit`"),
        ("limit=100000", "`limit`"),
        ("after=%27%3B%20DROP%20TABLE%20products", "`after`"),
        ("sku=TEE%20BLK", "`sku`"),
        ("colour=red", "`colour`"),
    ] {
        let (status, body) = get(&server, &format!("/api/v1/products?{query}"), Some(&viewer)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter");
        assert!(
            body["error"]["message"].as_str().unwrap_or_default().contains(name),
            "{query}: {body}"
        );
    }
    let (status, _) = get(&server, "/api/v1/products?limit=1", Some(&viewer)).await;
    assert_eq!(status, 200, "products survived");
    server.stop().await;
}

#[tokio::test]
async fn a_viewer_token_cannot_change_auto_sync_and_a_manager_token_can() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let viewer = token(&db, "viewer").await;
    let manager = token(&db, "manager").await;
    let (_, first) = get(&server, "/api/v1/products?limit=1", Some(&viewer)).await;
    let id = first["products"][0]["id"].as_i64().expect("id");
    let client = reqwest::Client::new();
    let put = |t: &str, body: &'static str| {
        client
            .put(server.url(&format!("/api/v1/products/{id}/auto_sync")))
            .bearer_auth(t)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let refused = put(&viewer, r#"{"enabled": true}"#).await.expect("sent");
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["error"]["message"].as_str().unwrap_or_default().contains("viewer"),
        "{body}"
    );

    let bad = put(&manager, r#"{"enabled": "yes"}"#).await.expect("sent");
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("enabled"),
        "{body}"
    );

    let (_, still) = get(&server, "/api/v1/products?limit=1", Some(&viewer)).await;
    assert_eq!(
        still["products"][0]["auto_sync"], false,
        "refused requests change nothing"
    );

    let ok = put(&manager, r#"{"enabled": true}"#).await.expect("sent");
    assert_eq!(ok.status(), 200);
    let (_, after) = get(&server, "/api/v1/products?limit=1", Some(&viewer)).await;
    assert_eq!(after["products"][0]["auto_sync"], true);
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_endpoints() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let viewer = token(&db, "viewer").await;
    let (status, doc) = get(&server, "/api/v1/openapi.json", Some(&viewer)).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap_or_default().starts_with("3."));
    for path in ["/api/v1/products", "/api/v1/outlets", "/api/v1/products/{id}/auto_sync"] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Each type has its own name: a variant's stock per outlet is not the
    // stock endpoint's answer (two types once shared the name StockJson).
    let schemas = &doc["components"]["schemas"];
    let variant_stock = schemas["VariantJson"]["properties"]["stock"]["items"]["$ref"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(variant_stock, "#/components/schemas/VariantStockJson");
    assert!(schemas["VariantStockJson"]["properties"]["outlet"].is_object());
    for field in ["sku", "outlets", "channels"] {
        assert!(
            schemas["StockJson"]["properties"][field].is_object(),
            "the stock answer's {field}"
        );
    }
    // The bounds the server holds requests to are in the document.
    let param = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .map(|p| p["schema"].clone())
            .unwrap_or_else(|| panic!("{path} takes {name}"))
    };
    assert_eq!(param("/api/v1/products", "limit")["minimum"], 1);
    assert_eq!(param("/api/v1/products", "limit")["maximum"], 500);
    assert_eq!(param("/api/v1/orders", "limit")["minimum"], 1);
    assert_eq!(param("/api/v1/stock", "sku")["minLength"], 1);
    assert_eq!(param("/api/v1/products", "sku")["minLength"], 1);
    assert_eq!(schemas["MovementsRequest"]["properties"]["movements"]["minItems"], 1);
    assert_eq!(schemas["MovementsRequest"]["properties"]["movements"]["maxItems"], 1000);
    assert_eq!(schemas["MovementJson"]["properties"]["sku"]["minLength"], 1);
    assert_eq!(schemas["MovementJson"]["properties"]["note"]["maxLength"], 1000);
    assert_eq!(schemas["MovementJson"]["additionalProperties"], false);
    let reasons = schemas["MovementJson"]["properties"]["reason"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        reasons.contains(&Value::from("sales_order")) && reasons.len() == 8,
        "{reasons:?}"
    );
    // Every error answer each operation can give.
    let answers = |path: &str, method: &str| -> Vec<String> {
        let responses = doc["paths"][path][method]["responses"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        responses.keys().cloned().collect()
    };
    for (path, method, wanted) in [
        (
            "/api/v1/stock/movements",
            "post",
            &["400", "401", "403", "413", "415", "422"][..],
        ),
        ("/api/v1/products", "post", &["400", "401", "403", "413", "415", "422"]),
        (
            "/api/v1/products/{id}",
            "patch",
            &["400", "401", "403", "404", "413", "415", "422"],
        ),
        ("/api/v1/products/{id}", "get", &["400", "401", "404"]),
        ("/api/v1/products", "get", &["400", "401"]),
        ("/api/v1/outlets", "get", &["401"]),
    ] {
        let have = answers(path, method);
        for status in wanted {
            assert!(
                have.iter().any(|h| h == status),
                "{method} {path} documents {status}: {have:?}"
            );
        }
    }
    assert!(
        !answers("/api/v1/outlets", "get").iter().any(|s| s == "400"),
        "an operation without parameters or body never answers 400"
    );
    let (status, body) = get(&server, "/api/v1/nope", Some(&viewer)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    server.stop().await;
}

/// A body must say it is JSON: anything else is a 415 that says how to send it.
#[tokio::test]
async fn a_body_not_sent_as_json_is_refused_with_415() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let manager = token(&db, "manager").await;
    let movement =
        r#"{"movements": [{"sku": "TEE-0090-S-BLA", "outlet": "downtown", "delta": -1, "reason": "sales_order"}]}"#;
    let client = reqwest::Client::new();
    let before = stock_of(&server, &manager, "TEE-0090-S-BLA").await;
    for content_type in [None, Some("application/x-www-form-urlencoded"), Some("text/plain")] {
        let mut request = client
            .post(server.url("/api/v1/stock/movements"))
            .bearer_auth(&manager)
            .body(movement);
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let response = request.send().await.expect("sent");
        assert_eq!(response.status(), 415, "{content_type:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "unsupported_media_type");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("Content-Type: application/json"),
            "{body}"
        );
    }
    assert_eq!(
        stock_of(&server, &manager, "TEE-0090-S-BLA").await,
        before,
        "nothing written"
    );
    let response = client
        .post(server.url("/api/v1/stock/movements"))
        .bearer_auth(&manager)
        .header("content-type", "Application/JSON; charset=utf-8")
        .body(movement)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200, "a charset and any case are fine");
    server.stop().await;
}

/// On hand per outlet of `sku`, as the API answers it.
async fn stock_of(server: &TestServer, token: &str, sku: &str) -> Value {
    let (status, body) = get(server, &format!("/api/v1/stock?sku={sku}"), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body["outlets"].clone()
}

/// Every page of `GET /api/v1/orders?<query>`, following `next_cursor`.
async fn all_orders(server: &TestServer, token: &str, query: &[(&str, &str)]) -> (usize, Vec<Value>) {
    let mut after: Option<String> = None;
    let (mut pages, mut orders) = (0, Vec::new());
    loop {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        if let Some(a) = &after {
            q.push(("after", a));
        }
        let response = reqwest::Client::new()
            .get(server.url("/api/v1/orders"))
            .query(&q)
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.expect("json");
        pages += 1;
        orders.extend(page["orders"].as_array().expect("orders").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return (pages, orders),
        }
    }
}

#[tokio::test]
async fn orders_come_oldest_change_first_in_pages_and_again_when_they_change() {
    order_feed(Database::sqlite()).await;
}

#[tokio::test]
async fn orders_come_oldest_change_first_in_pages_and_again_when_they_change_on_postgres() {
    order_feed(Database::postgres().await).await;
}

async fn order_feed(db: Database) {
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    shop.allow_loopback_webhooks(true);
    let location = shop.add_location("Main warehouse");
    let channel = add_shopify_channel(
        &db,
        &shop,
        "Shopify",
        "Main warehouse",
        "downtown,warehouse",
        Some(&server.base),
    )
    .await;
    let viewer = token(&db, "viewer").await;
    let skus = first_skus(&db, 2).await;
    shop.add_product(
        "Sold online",
        &[(skus[0].as_str(), 100), (skus[1].as_str(), 100)],
        &location,
    );
    let placed: Vec<String> = (1..=5)
        .map(|n| shop.place_order(&location, &[(skus[0].as_str(), 1), (skus[1].as_str(), n)]))
        .collect();
    let storage = db.storage().await;
    wait_until("the five orders recorded", 30, || async {
        storage.count_orders(channel).await.expect("count") == 5
    })
    .await;

    let (pages, orders) = all_orders(&server, &viewer, &[("limit", "2")]).await;
    assert_eq!((pages, orders.len()), (3, 5), "{orders:?}");
    let recorded: Vec<&str> = orders.iter().filter_map(|o| o["recorded_at"].as_str()).collect();
    assert!(
        recorded.windows(2).all(|w| w[0] <= w[1]),
        "oldest change first: {recorded:?}"
    );
    let ids: std::collections::BTreeSet<i64> = orders.iter().filter_map(|o| o["id"].as_i64()).collect();
    assert_eq!(ids.len(), 5, "each order once");
    for order in &orders {
        assert_eq!(order["channel"], "Shopify");
        assert_eq!(order["cancelled"], false);
        assert!(order["number"].is_string() && order["placed_at"].is_string() && order["total"].is_string());
        let lines = order["lines"].as_array().expect("lines");
        assert_eq!(lines.len(), 2, "{order}");
        for line in lines {
            assert!(skus.iter().any(|s| line["sku"] == s.as_str()), "{line}");
            assert!(line["title"].is_string(), "{line}");
            assert!(line["price"].is_string(), "{line}");
            assert_eq!(line["taken_from_stock"], line["quantity"], "{line}");
            assert_eq!(line["outlet"], "downtown", "the channel's order outlet");
        }
    }

    // Asking again from the newest change seen: that order alone (the
    // bound is inclusive); a cancellation brings its order again.
    let newest = recorded[4].to_owned();
    let (_, since) = all_orders(&server, &viewer, &[("updated_since", &newest)]).await;
    assert_eq!(since.len(), 1);
    assert_eq!(since[0]["id"], orders[4]["id"]);
    let first = orders[0]["id"].clone();
    shop.cancel_order(&placed[0]);
    wait_until("the cancellation recorded", 30, || async {
        let (_, since) = all_orders(&server, &viewer, &[("updated_since", &newest)]).await;
        since.iter().any(|o| o["id"] == first && o["cancelled"] == true)
    })
    .await;
    let (_, since) = all_orders(&server, &viewer, &[("updated_since", &newest)]).await;
    let cancelled = since.last().expect("the cancelled order, newest");
    assert_eq!(cancelled["id"], first);
    assert!(cancelled["recorded_at"].as_str() > Some(newest.as_str()));
    assert!(
        cancelled["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .all(|l| l["taken_from_stock"] == 0),
        "{cancelled}"
    );
    let (pages, all) = all_orders(&server, &viewer, &[("limit", "500")]).await;
    assert_eq!(
        (pages, all.len()),
        (1, 5),
        "an order is listed once, at its latest change"
    );

    let (_, future) = all_orders(&server, &viewer, &[("updated_since", "2999-01-01T00:00:00Z")]).await;
    assert!(future.is_empty());
    for (query, name) in [
        ("updated_since=yesterday", "`updated_since`"),
        ("after=not-a-cursor", "`after`"),
        ("limit=501", "`limit`"),
        ("status=open", "`status`"),
    ] {
        let (status, body) = get(&server, &format!("/api/v1/orders?{query}"), Some(&viewer)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap_or_default().contains(name),
            "{query}: {body}"
        );
    }
    storage.close().await;
    server.stop().await;
}
