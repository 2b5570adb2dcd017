//! The products API writes: a product created, read, changed (a SKU
//! renamed, a variant added and one removed) and deleted through
//! /api/v1/products on both engines; bad bodies with real-world mistakes
//! refused field by field with nothing written; viewers only read.

use serde_json::{Value, json};
use tillbridge_tests::{Database, TestServer, api_token, post_movements};

/// Sends `method path` with a JSON body (or raw bytes), returning status, headers and body.
async fn send(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Vec<u8>>,
    key: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body);
    }
    if let Some(k) = key {
        request = request.header("idempotency-key", k);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap_or(Value::Null))
}

async fn get(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let (status, _, body) = send(server, token, reqwest::Method::GET, path, None, None).await;
    (status, body)
}

async fn post(server: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    let (status, _, body) = send(
        server,
        token,
        reqwest::Method::POST,
        "/api/v1/products",
        Some(bytes),
        None,
    )
    .await;
    (status, body)
}

async fn patch(server: &TestServer, token: &str, id: i64, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    let path = format!("/api/v1/products/{id}");
    let (status, _, body) = send(server, token, reqwest::Method::PATCH, &path, Some(bytes), None).await;
    (status, body)
}

/// The paths a refusal names.
fn refused_paths(body: &Value) -> Vec<String> {
    body["error"]["problems"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["path"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The message a refusal gives for `path`.
fn problem_at<'b>(body: &'b Value, path: &str) -> &'b str {
    body["error"]["problems"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["path"] == path))
        .and_then(|p| p["message"].as_str())
        .unwrap_or_else(|| panic!("no problem at {path}: {body}"))
}

fn skus(doc: &Value) -> Vec<&str> {
    doc["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .filter_map(|v| v["sku"].as_str())
        .collect()
}

async fn round_trip(db: Database) {
    let server = TestServer::start_with_demo(&db).await;
    let manager = api_token(&db, "manager").await;
    let new = json!({
        "name": "Harbour Wool Socks",
        "description": "  Knitted in Dunedin.\nTwo pairs.  ",
        "brand": "Tidewater",
        "category": "Socks",
        "options": ["Size"],
        "auto_sync": false,
        "supplier": "Bay Trading Co",
        "supplier_code": "BT-55",
        "supplier_price": "6.10",
        "supplier_currency": "NZD",
        "reorder_point": 4,
        "reorder_quantity": 12,
        "tax_class": "GST 15%",
        "tags": ["wool", "winter"],
        "images": [{"url": "https://img.example/socks.jpg", "alt": "Grey socks"}],
        "variants": [
            {"sku": "SOCK-M", "barcode": "9400000999016", "option_values": ["M"], "price": "14.50", "currency": "NZD",
             "weight_grams": 80, "length_mm": 250, "width_mm": 90, "height_mm": 20},
            {"sku": "SOCK-L", "option_values": ["L"], "price": 14.5, "currency": "NZD"}
        ]
    });
    let bytes = serde_json::to_vec(&new).expect("json");
    let (status, headers, created) = send(
        &server,
        &manager,
        reqwest::Method::POST,
        "/api/v1/products",
        Some(bytes.clone()),
        Some("socks-1"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(headers["location"], format!("/api/v1/products/{id}").as_str());
    assert_eq!(created["handle"], "harbour-wool-socks", "made from the name");
    assert_eq!(created["active"], true, "active by default");
    assert_eq!(
        created["description"], "  Knitted in Dunedin.\nTwo pairs.  ",
        "kept as sent"
    );
    assert_eq!(created["supplier_price"], "6.10");
    assert_eq!(created["tags"], json!(["wool", "winter"]));
    assert_eq!(
        created["images"],
        json!([{"url": "https://img.example/socks.jpg", "alt": "Grey socks"}])
    );
    assert_eq!(skus(&created), ["SOCK-M", "SOCK-L"]);
    assert_eq!(
        created["variants"][1]["price"], "14.50",
        "a JSON number read as written"
    );
    assert_eq!(created["variants"][0]["height_mm"], 20);

    // A retry with the same key creates nothing more; the key on another request is a conflict.
    let (status, headers, again) = send(
        &server,
        &manager,
        reqwest::Method::POST,
        "/api/v1/products",
        Some(bytes),
        Some("socks-1"),
    )
    .await;
    assert_eq!((status, again["id"].as_i64()), (200, Some(id)), "{again}");
    assert_eq!(headers["idempotent-replayed"], "true");
    let other = serde_json::to_vec(&json!({"name": "Other", "variants": []})).expect("json");
    let (status, _, conflict) = send(
        &server,
        &manager,
        reqwest::Method::POST,
        "/api/v1/products",
        Some(other),
        Some("socks-1"),
    )
    .await;
    assert_eq!(status, 409, "{conflict}");

    // Read back: the same document, which a PATCH takes back unchanged.
    let path = format!("/api/v1/products/{id}");
    let (status, read) = get(&server, &manager, &path).await;
    assert_eq!((status, &read), (200, &created));
    let (status, unchanged) = patch(&server, &manager, id, &read).await;
    assert_eq!((status, &unchanged), (200, &created));

    // A SKU renamed, a variant added, one removed, fields changed and cleared, images replaced.
    let medium = created["variants"][0]["id"].as_i64().expect("variant id");
    let large = created["variants"][1]["id"].as_i64().expect("variant id");
    let (status, changed) = patch(
        &server,
        &manager,
        id,
        &json!({
            "name": "Harbour Merino Socks",
            "reorder_point": null,
            "brand": null,
            "images": [{"url": "https://img.example/socks-2.jpg"}],
            "variants": [
                {"id": medium, "sku": "SOCK-MERINO-M", "price": "15.00"},
                {"sku": "SOCK-XL", "option_values": ["XL"], "price": "16.00", "currency": "NZD"}
            ],
            "remove_variant_ids": [large]
        }),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Harbour Merino Socks");
    assert_eq!(changed["handle"], "harbour-wool-socks", "the handle stays");
    assert_eq!(
        (&changed["reorder_point"], &changed["brand"]),
        (&Value::Null, &json!(""))
    );
    assert_eq!(changed["reorder_quantity"], 12, "not given: kept");
    assert_eq!(
        changed["images"],
        json!([{"url": "https://img.example/socks-2.jpg", "alt": ""}])
    );
    assert_eq!(skus(&changed), ["SOCK-MERINO-M", "SOCK-XL"]);
    assert_eq!(changed["variants"][0]["id"], medium, "renamed, not replaced");
    assert_eq!(changed["variants"][0]["price"], "15.00");
    assert_eq!(changed["variants"][0]["barcode"], "9400000999016", "not given: kept");
    let storage = db.storage().await;
    let stored = storage
        .get_product(sync_core::domain::ProductId::new(id))
        .await
        .expect("read")
        .expect("there");
    assert_eq!(stored.variants.len(), 2);
    assert_eq!(stored.variants[0].sku, "SOCK-MERINO-M");

    // Stock for it, then deleted: gone, and its SKUs take no more stock.
    let movement = |sku: &str| {
        json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": 3, "reason": "purchase_order"}]}).to_string()
    };
    let taken = post_movements(&server, &manager, movement("SOCK-XL"), None)
        .await
        .expect("sent");
    assert_eq!(taken.status(), 200);
    let (status, _, deleted) = send(&server, &manager, reqwest::Method::DELETE, &path, None, None).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(
        (deleted["id"].as_i64(), &deleted["name"]),
        (Some(id), &json!("Harbour Merino Socks"))
    );
    let (status, _) = get(&server, &manager, &path).await;
    assert_eq!(status, 404);
    let (status, _) = patch(&server, &manager, id, &json!({"name": "Back"})).await;
    assert_eq!(status, 404, "a deleted product cannot be changed");
    let (status, _, _) = send(&server, &manager, reqwest::Method::DELETE, &path, None, None).await;
    assert_eq!(status, 404, "deleted once");
    for sku in ["SOCK-XL", "SOCK-MERINO-M"] {
        let refused = post_movements(&server, &manager, movement(sku), None)
            .await
            .expect("sent");
        assert_eq!(refused.status(), 422);
        let body: Value = refused.json().await.expect("json");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("belongs to a deleted product"),
            "{body}"
        );
    }
    // Its SKUs and handle stay taken.
    let (status, body) = post(
        &server,
        &manager,
        &json!({"name": "Socks again", "handle": "harbour-wool-socks",
                "variants": [{"sku": "SOCK-XL", "price": "1", "currency": "NZD"}]}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        problem_at(&body, "variants[0].sku").contains("deleted product"),
        "{body}"
    );
    assert!(problem_at(&body, "handle").contains("taken"), "{body}");
    storage.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_product_is_created_read_changed_and_deleted_through_the_api() {
    round_trip(Database::sqlite()).await;
}

#[tokio::test]
async fn a_product_is_created_read_changed_and_deleted_through_the_api_on_postgres() {
    round_trip(Database::postgres().await).await;
}

#[tokio::test]
async fn bad_product_bodies_are_refused_naming_every_field_and_nothing_is_written() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let manager = api_token(&db, "manager").await;
    let (_, first) = get(&server, &manager, "/api/v1/products/1").await;
    let (_, second) = get(&server, &manager, "/api/v1/products/2").await;
    let other_sku = second["variants"][0]["sku"].as_str().expect("sku").to_owned();
    let (_, before) = get(&server, &manager, "/api/v1/products?limit=500").await;
    let count = |page: &Value| page["products"].as_array().map_or(0, Vec::len);
    let variant = |sku: &str| json!({"sku": sku, "option_values": ["M"], "price": "10.00", "currency": "NZD"});
    let good = json!({"name": "Good Tee", "options": ["Size"], "variants": [variant("GOOD-M")]});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let with_variants = |variants: Vec<Value>| with("variants", Value::Array(variants));
    let mut bad_price = variant("TEE-C");
    bad_price["price"] = json!("12,50");
    let mut negative = variant("GOOD-M");
    negative["weight_grams"] = json!(-5);

    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("an empty name", with("name", json!("")), "name", "needs a name"),
        (
            "a 300-character name",
            with("name", json!("x".repeat(300))),
            "name",
            "at most 255",
        ),
        (
            "a decimal comma",
            with_variants(vec![variant("TEE-A"), variant("TEE-B"), bad_price]),
            "variants[2].price",
            "\"12,50\" is not an amount",
        ),
        (
            "a negative weight",
            with_variants(vec![negative]),
            "variants[0].weight_grams",
            "0 or more",
        ),
        (
            "one SKU twice",
            with_variants(vec![variant("TWICE"), variant("TWICE")]),
            "variants[1].sku",
            "also given for variants[0]",
        ),
        (
            "another product's SKU",
            with_variants(vec![variant(&other_sku)]),
            "variants[0].sku",
            "belongs to the product with handle",
        ),
        (
            "an unknown field",
            with("colour", json!("red")),
            "colour",
            "unknown field",
        ),
        (
            "a number for a name",
            with("name", json!(42)),
            "name",
            "must be a string",
        ),
        (
            "a word for a flag",
            with("active", json!("yes")),
            "active",
            "true or false",
        ),
        (
            "a word for a count",
            with("reorder_point", json!("five")),
            "reorder_point",
            "whole number",
        ),
        (
            "variants as text",
            with("variants", json!("GOOD-M")),
            "variants",
            "must be a list",
        ),
        (
            "no variants",
            with("variants", json!([])),
            "variants",
            "at least one variant",
        ),
        (
            "an ftp image",
            with("images", json!([{"url": "ftp://img.example/a.jpg"}])),
            "images[0].url",
            "http",
        ),
        (
            "a handle with spaces",
            with("handle", json!("Good Tee")),
            "handle",
            "not a handle",
        ),
        ("a tag with a comma", with("tags", json!(["a,b"])), "tags[0]", "comma"),
        (
            "a fourth option",
            with("options", json!(["A", "B", "C", "D"])),
            "options",
            "at most 3",
        ),
        ("not an object", json!(["Good Tee"]), "", "JSON object"),
    ];
    for (what, body, path, says) in &cases {
        let (status, refused) = post(&server, &manager, body).await;
        assert_eq!(status, 422, "{what}: {refused}");
        assert_eq!(refused["error"]["code"], "invalid_product", "{what}");
        assert!(problem_at(&refused, path).contains(says), "{what}: {refused}");
    }

    // Every problem of one body at once.
    let mut all = with_variants(vec![
        json!({"sku": "ALL-1", "option_values": ["M"], "price": "12,50", "currency": "NZD", "weight_grams": -5}),
        json!({"sku": other_sku, "option_values": ["M"], "price": "1", "currency": "NZD"}),
        json!({"sku": "ALL-1", "option_values": ["M"], "price": true, "currency": "NZD"}),
    ]);
    all["name"] = json!("");
    all["colour"] = json!("red");
    let (status, refused) = post(&server, &manager, &all).await;
    assert_eq!(status, 422);
    assert_eq!(
        refused_paths(&refused),
        [
            "colour",
            "name",
            "variants[0].price",
            "variants[0].weight_grams",
            "variants[1].sku",
            "variants[2].price",
            "variants[2].sku",
        ],
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("7 problems, so nothing was written"),
        "{refused}"
    );

    // Not JSON, too big.
    for (what, bytes, want) in [
        ("not JSON", b"name=Good+Tee".to_vec(), 400),
        ("a 2 MB body", vec![b' '; 2 * 1024 * 1024], 413),
    ] {
        let (status, _, body) = send(
            &server,
            &manager,
            reqwest::Method::POST,
            "/api/v1/products",
            Some(bytes),
            None,
        )
        .await;
        assert_eq!(status, want, "{what}: {body}");
        assert!(body["error"]["message"].is_string(), "{what}: a JSON error");
    }

    // A change with one bad field changes nothing, not even its good fields.
    let variant_id = first["variants"][0]["id"].as_i64().expect("id");
    let bad_changes = [
        (
            json!({"name": "Renamed", "variants": [{"id": variant_id, "price": "12,50"}]}),
            "variants[0].price",
        ),
        (
            json!({"name": "Renamed", "variants": [{"id": variant_id, "sku": other_sku}]}),
            "variants[0].sku",
        ),
        (
            json!({"name": "Renamed", "variants": [{"id": 999999, "price": "1"}]}),
            "variants[0].id",
        ),
        (json!({"name": "Renamed", "handle": "renamed"}), "handle"),
        (json!({"name": "Renamed", "id": 2}), "id"),
        (
            json!({"name": "Renamed", "variants": [{"id": variant_id, "weight_grams": -1}]}),
            "variants[0].weight_grams",
        ),
        (json!({"name": "Renamed", "options": []}), "options"),
        (json!({"name": "Renamed", "stock": 5}), "stock"),
    ];
    for (body, path) in &bad_changes {
        let (status, refused) = patch(&server, &manager, 1, body).await;
        assert_eq!(status, 422, "{body}: {refused}");
        problem_at(&refused, path);
    }
    let (status, _) = patch(&server, &manager, 1, &json!("Renamed")).await;
    assert_eq!(status, 422);

    let (_, after) = get(&server, &manager, "/api/v1/products/1").await;
    assert_eq!(after, first, "product 1 is unchanged");
    let (_, after) = get(&server, &manager, "/api/v1/products?limit=500").await;
    assert_eq!(count(&after), count(&before), "no product was created");
    let (status, _) = get(&server, &manager, "/api/v1/products?sku=ALL-1").await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn a_viewer_token_reads_a_product_but_cannot_create_change_or_delete_one() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let viewer = api_token(&db, "viewer").await;
    let (status, before) = get(&server, &viewer, "/api/v1/products/1").await;
    assert_eq!(status, 200);
    let body = serde_json::to_vec(&json!({"name": "Viewer's"})).expect("json");
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/products"),
        (reqwest::Method::PATCH, "/api/v1/products/1"),
        (reqwest::Method::DELETE, "/api/v1/products/1"),
    ] {
        let (status, _, refused) = send(&server, &viewer, method.clone(), path, Some(body.clone()), None).await;
        assert_eq!(status, 403, "{method} {path}: {refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("viewer"),
            "{refused}"
        );
    }
    let (_, after) = get(&server, &viewer, "/api/v1/products/1").await;
    assert_eq!(after, before);
    let (status, _) = get(&server, &viewer, "/api/v1/products/0").await;
    assert_eq!(status, 400, "not a product id");
    let (status, _) = get(&server, &viewer, "/api/v1/products/99999").await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_product_writes_and_orders() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let viewer = api_token(&db, "viewer").await;
    let (status, doc) = get(&server, &viewer, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let paths = &doc["paths"];
    assert!(paths["/api/v1/products"]["post"]["requestBody"].is_object());
    for method in ["get", "patch", "delete"] {
        assert!(
            paths["/api/v1/products/{id}"][method].is_object(),
            "{method} /products/{{id}}"
        );
    }
    assert!(paths["/api/v1/orders"]["get"]["parameters"].is_array());
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "ProductDocument",
        "NewProductDocument",
        "ProductChanges",
        "VariantChanges",
        "OrderList",
        "OrderJson",
        "OrderLineJson",
        "ProblemJson",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema} missing");
    }
    assert!(schemas["ProductDocument"]["properties"]["variants"].is_object());
    server.stop().await;
}
