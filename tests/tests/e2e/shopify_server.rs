//! The Shopify Admin GraphQL test server itself, over real HTTP: tokens,
//! versions, validation errors, cost and throttling, the inventory rules of
//! 2026-04+, productSet, productUpdate/productDelete, orders (incremental
//! reads, the 60-day window), webhook subscriptions and deliveries, product
//! images (productSet files, Product.media, processing), and the fault
//! switches.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};
use tillbridge_tests::shopify::{
    DEFAULT_CLIENT_SECRET, DeliveryOutcome, ShopConfig, ShopifyTestServer, WebhookSettings, sample_png, webhook_hmac,
};

const VERSION: &str = "2026-10";

async fn post(server: &ShopifyTestServer, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(server.graphql_url(VERSION)).json(&body);
    if let Some(t) = token {
        request = request.header("X-Shopify-Access-Token", t);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn gql(server: &ShopifyTestServer, query: &str, variables: Value) -> Value {
    let (status, body) = post(
        server,
        Some(server.token()),
        json!({"query": query, "variables": variables}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

const SET: &str = r#"
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { field message code }
  }
}"#;

fn set_input(quantities: Value) -> Value {
    json!({"name": "available", "reason": "correction", "referenceDocumentUri": "tillbridge://sync/1", "quantities": quantities})
}

/// A shop with one location and products `A-1`..`A-n` at `available` 10.
async fn shop_with(n: usize) -> (ShopifyTestServer, String) {
    let server = ShopifyTestServer::start(ShopConfig::default()).await;
    let loc = server.add_location("Main warehouse");
    for i in 1..=n {
        server.add_product(&format!("Product {i}"), &[(&format!("A-{i}"), 10)], &loc);
    }
    (server, loc)
}

fn item(server: &ShopifyTestServer, sku: &str) -> String {
    server.inventory_item_id(sku).expect("sku exists")
}

#[tokio::test]
async fn shopify_server_refuses_a_missing_or_wrong_token_with_401() {
    let (server, _) = shop_with(0).await;
    let body = json!({"query": "{ shop { name } }"});
    let expected = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
    assert_eq!(post(&server, None, body.clone()).await, (401, expected.clone()));
    assert_eq!(post(&server, Some("shpat_wrong"), body.clone()).await, (401, expected));
    assert_eq!(post(&server, Some(server.token()), body).await.0, 200);
    assert_eq!(server.stats().unauthorized, 2);
    let unknown = reqwest::Client::new()
        .post(format!("{}/admin/api/2019-13/graphql.json", server.base_url()))
        .header("X-Shopify-Access-Token", server.token())
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(unknown.status().as_u16(), 404, "an unknown API version is not served");
}

#[tokio::test]
async fn shopify_server_reports_cost_and_the_bucket_drains_and_refills() {
    let server = ShopifyTestServer::start(ShopConfig {
        bucket_size: 100.0,
        restore_rate: 20.0,
        ..ShopConfig::default()
    })
    .await;
    let loc = server.add_location("Main");
    server.add_product("Hat", &[("HAT", 1)], &loc);
    let body = gql(&server, "{ locations(first: 1) { nodes { id } } }", json!({})).await;
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 3, "{body}");
    assert_eq!(cost["actualQueryCost"], 3);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 100);
    assert_eq!(cost["throttleStatus"]["restoreRate"], 20);
    // A mutation with a nested selection: 10, then 13 with changes { item location }.
    let small = r#"mutation($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) @idempotent(key: "k-small") { inventoryAdjustmentGroup { id } userErrors { field message } } }"#;
    let q =
        json!([{"inventoryItemId": item(&server, "HAT"), "locationId": loc, "quantity": 2, "changeFromQuantity": 1}]);
    let body = gql(&server, small, json!({"input": set_input(q)})).await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 10, "{body}");
    let q =
        json!([{"inventoryItemId": item(&server, "HAT"), "locationId": loc, "quantity": 3, "changeFromQuantity": 2}]);
    let body = gql(&server, SET, json!({"input": set_input(q), "key": "k-big"})).await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 13, "{body}");
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 13);
    let drained = body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_i64()
        .expect("number");
    assert!(drained <= 100 - 3 - 10 - 13 + 2, "the bucket drains: {drained}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let body = gql(&server, "{ shop { name } }", json!({})).await;
    let now = body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_i64()
        .expect("number");
    assert!(now >= drained + 10 - 1, "and refills continuously: {drained} -> {now}");
}

#[tokio::test]
async fn shopify_server_throttles_a_request_the_bucket_cannot_pay_and_runs_nothing() {
    let (server, loc) = shop_with(1).await;
    server.faults().set_bucket_available(5.0);
    let q =
        json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 7, "changeFromQuantity": 10}]);
    let body = gql(&server, SET, json!({"input": set_input(q), "key": "t-1"})).await;
    assert_eq!(body["errors"][0]["message"], "Throttled", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(
        body["errors"][0]["extensions"]["documentation"],
        "https://shopify.dev/api/usage/rate-limits"
    );
    assert!(body.get("data").is_none());
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 13);
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], Value::Null);
    assert_eq!(server.available("A-1", &loc), Some(10), "nothing ran");
    assert_eq!(server.stats().throttled, 1);
    // A single query over 1000 points is refused outright.
    let body = gql(&server, "{ productVariants(first: 250) { nodes { product { id } inventoryItem { inventoryLevel(locationId: \"x\") { location { id } } } } } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Query cost is 1252, which exceeds the single query max cost limit (1000).")
    );
}

#[tokio::test]
async fn shopify_server_refuses_251_quantities_with_max_input_size_exceeded() {
    let (server, loc) = shop_with(1).await;
    let quantities: Vec<Value> = (0..251)
        .map(|_| json!({"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 1, "changeFromQuantity": null}))
        .collect();
    let body = gql(
        &server,
        SET,
        json!({"input": set_input(json!(quantities)), "key": "big"}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"], "The input array size of 251 is greater than the maximum allowed of 250.",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_INPUT_SIZE_EXCEEDED");
    assert_eq!(
        body["errors"][0]["path"],
        json!(["inventorySetQuantities", "input", "quantities"])
    );
    assert!(body.get("data").is_none());
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], Value::Null);
    assert_eq!(server.available("A-1", &loc), Some(10));
}

#[tokio::test]
async fn shopify_server_requires_the_idempotent_directive() {
    let (server, loc) = shop_with(1).await;
    let query = r#"mutation M($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id } userErrors { field message } } }"#;
    let q =
        json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 5, "changeFromQuantity": 10}]);
    let body = gql(&server, query, json!({"input": set_input(q)})).await;
    assert_eq!(
        body["errors"][0]["message"], "The @idempotent directive is required for this mutation but was not provided.",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert_eq!(body["errors"][0]["path"], json!(["inventorySetQuantities"]));
    assert_eq!(body["data"], json!({"inventorySetQuantities": null}));
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 10);
    assert_eq!(server.available("A-1", &loc), Some(10));
}

#[tokio::test]
async fn shopify_server_requires_change_from_quantity_but_an_explicit_null_skips_the_check() {
    let (server, loc) = shop_with(1).await;
    let q = json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 5}]);
    let body = gql(&server, SET, json!({"input": set_input(q), "key": "c-1"})).await;
    assert_eq!(
        body["errors"][0]["message"], "InventoryQuantityInput must include the following argument: changeFromQuantity.",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_FIELD_ARGUMENTS");
    assert_eq!(body["errors"][0]["locations"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["data"], json!({"inventorySetQuantities": null}));
    assert_eq!(server.available("A-1", &loc), Some(10));
    let q = json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 5, "changeFromQuantity": null}]);
    let body = gql(&server, SET, json!({"input": set_input(q), "key": "c-2"})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([]),
        "{body}"
    );
    assert_eq!(server.available("A-1", &loc), Some(5));
}

#[tokio::test]
async fn shopify_server_refuses_a_stale_change_from_quantity_and_applies_nothing() {
    let (server, loc) = shop_with(2).await;
    server.set_available("A-2", &loc, 7);
    let q = json!([
        {"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 4, "changeFromQuantity": 10},
        {"inventoryItemId": item(&server, "A-2"), "locationId": loc, "quantity": 4, "changeFromQuantity": 10},
    ]);
    let body = gql(&server, SET, json!({"input": set_input(q), "key": "s-1"})).await;
    let payload = &body["data"]["inventorySetQuantities"];
    assert_eq!(payload["inventoryAdjustmentGroup"], Value::Null, "{body}");
    assert_eq!(payload["userErrors"][0]["code"], "CHANGE_FROM_QUANTITY_STALE");
    assert_eq!(
        payload["userErrors"][0]["field"],
        json!(["input", "quantities", "1", "changeFromQuantity"])
    );
    assert_eq!(payload["userErrors"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        server.available("A-1", &loc),
        Some(10),
        "the valid quantity was not applied either"
    );
    assert_eq!(server.available("A-2", &loc), Some(7));
    assert!(server.applied_sets().is_empty());
    assert_eq!(server.stats().stale_answers, 1);
}

#[tokio::test]
async fn shopify_server_applies_an_idempotent_retry_once_and_replays_the_answer() {
    let (server, loc) = shop_with(1).await;
    let q =
        json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 4, "changeFromQuantity": 10}]);
    let vars = json!({"input": set_input(q), "key": "retry-1"});
    let first = gql(&server, SET, vars.clone()).await;
    let group = &first["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"];
    assert!(
        group["id"]
            .as_str()
            .unwrap()
            .starts_with("gid://shopify/InventoryAdjustmentGroup/"),
        "{first}"
    );
    assert_eq!(
        group["changes"][0],
        json!({"name": "available", "delta": -6, "quantityAfterChange": null, "item": {"id": item(&server, "A-1")}, "location": {"id": loc}})
    );
    assert_eq!(group["changes"][1]["name"], "on_hand");
    assert_eq!(group["changes"][1]["delta"], -6);
    let second = gql(&server, SET, vars).await;
    assert_eq!(second["data"], first["data"], "the retry answers the original result");
    assert_eq!(server.available("A-1", &loc), Some(4));
    assert_eq!(server.on_hand("A-1", &loc), Some(4));
    assert_eq!(server.applied_sets().len(), 1);
    let applied = &server.applied_sets()[0];
    assert_eq!(
        (applied.sku.as_str(), applied.quantity, applied.change_from),
        ("A-1", 4, Some(10))
    );
    assert_eq!(applied.idempotency_key.as_deref(), Some("retry-1"));
    assert_eq!(server.stats().idempotent_replays, 1);
    assert_eq!(server.stats().calls_to("inventorySetQuantities"), 2);
    // Setting what is already there changes nothing: no adjustment group.
    let q =
        json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 4, "changeFromQuantity": 4}]);
    let body = gql(&server, SET, json!({"input": set_input(q), "key": "same"})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"],
        json!({"inventoryAdjustmentGroup": null, "userErrors": []})
    );
}

#[tokio::test]
async fn shopify_server_refuses_an_idempotency_key_reused_with_other_parameters() {
    let (server, loc) = shop_with(1).await;
    let q = |n: i64, from: i64| json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": n, "changeFromQuantity": from}]);
    gql(&server, SET, json!({"input": set_input(q(8, 10)), "key": "k"})).await;
    let body = gql(&server, SET, json!({"input": set_input(q(6, 8)), "key": "k"})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"],
        json!({"inventoryAdjustmentGroup": null, "userErrors": [{"field": null, "message": "The same idempotency key cannot be used with different operation parameters.", "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}]}),
        "{body}"
    );
    assert_eq!(server.available("A-1", &loc), Some(8));
}

#[tokio::test]
async fn shopify_server_rejects_the_whole_call_when_one_quantity_is_invalid_and_names_its_index() {
    let (server, loc) = shop_with(3).await;
    let mut q: Vec<Value> = (1..=3)
        .map(|i| json!({"inventoryItemId": item(&server, &format!("A-{i}")), "locationId": loc, "quantity": 1, "changeFromQuantity": 10}))
        .collect();
    q.push(json!({"inventoryItemId": "gid://shopify/InventoryItem/999999999999", "locationId": loc, "quantity": 1, "changeFromQuantity": 0}));
    let body = gql(&server, SET, json!({"input": set_input(json!(q)), "key": "u-1"})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"],
        json!({"inventoryAdjustmentGroup": null, "userErrors": [{"field": ["input", "quantities", "3", "inventoryItemId"], "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM"}]}),
        "{body}"
    );
    assert_eq!(server.available("A-1", &loc), Some(10), "all or nothing");
    // Duplicates, names, reasons and bounds, as captured.
    let dup = json!([
        {"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 1, "changeFromQuantity": 10},
        {"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 2, "changeFromQuantity": 10},
    ]);
    let body = gql(&server, SET, json!({"input": set_input(dup), "key": "u-2"})).await;
    let errors = &body["data"]["inventorySetQuantities"]["userErrors"];
    assert_eq!(
        errors[0]["code"], "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
        "{body}"
    );
    assert_eq!(errors[1]["field"], json!(["input", "quantities", "1", "locationId"]));
    let one =
        json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": -1, "changeFromQuantity": 10}]);
    let input = json!({"name": "on_hand", "reason": "not_a_reason", "quantities": one});
    let body = gql(&server, SET, json!({"input": input, "key": "u-3"})).await;
    let codes: Vec<&str> = body["data"]["inventorySetQuantities"]["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["INVALID_REASON", "INVALID_QUANTITY_NEGATIVE"], "{body}");
    let input = json!({"name": "damaged", "reason": "correction", "quantities": [{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 1, "changeFromQuantity": 10}]});
    let body = gql(&server, SET, json!({"input": input, "key": "u-4"})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"][0]["message"],
        "The quantity name must be either 'available' or 'on_hand'."
    );
    let input = set_input(
        json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": -5, "changeFromQuantity": 10}]),
    );
    let body = gql(&server, SET, json!({"input": input, "key": "u-5"})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([]),
        "a negative available is accepted"
    );
    assert_eq!(server.available("A-1", &loc), Some(-5));
}

#[tokio::test]
async fn shopify_server_product_set_creates_a_product_that_sku_search_finds() {
    let server = ShopifyTestServer::start(ShopConfig::default()).await;
    let loc = server.add_location("Main");
    let query = r#"mutation Create($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product { id handle title status variants(first: 10) { nodes { id sku title inventoryItem { id } } } }
    userErrors { field message code }
  }
}"#;
    let input = json!({
        "title": "Trail Shirt", "vendor": "Tillbridge", "productType": "Shirts", "status": "ACTIVE", "descriptionHtml": "<p>Soft</p>",
        "productOptions": [{"name": "Size", "values": [{"name": "S"}, {"name": "M"}]}],
        "variants": [
            {"optionValues": [{"optionName": "Size", "name": "S"}], "price": "12.5", "barcode": "123", "inventoryItem": {"sku": "TS-S", "tracked": true, "measurement": {"weight": {"value": 0.25, "unit": "KILOGRAMS"}}}, "inventoryQuantities": [{"locationId": loc, "name": "available", "quantity": 3}]},
            {"optionValues": [{"optionName": "Size", "name": "M"}], "price": "12.50", "sku": "TS M/1", "inventoryQuantities": [{"locationId": loc, "name": "available", "quantity": 4}]},
        ],
    });
    let body = gql(&server, query, json!({"input": input})).await;
    let product = &body["data"]["productSet"]["product"];
    assert_eq!(body["data"]["productSet"]["userErrors"], json!([]), "{body}");
    assert_eq!(product["handle"], "trail-shirt");
    assert_eq!(product["variants"]["nodes"][0]["title"], "S");
    assert_eq!(product["variants"]["nodes"][1]["sku"], "TS M/1");
    assert_eq!(server.available("TS-S", &loc), Some(3));
    assert_eq!(server.available("TS M/1", &loc), Some(4));
    let stored = server.product_by_sku("TS-S").expect("stored");
    assert_eq!(
        (stored["vendor"].as_str(), stored["productType"].as_str()),
        (Some("Tillbridge"), Some("Shirts"))
    );
    assert_eq!(stored["variant"]["price"], "12.50");
    assert_eq!(
        stored["variant"]["inventoryItem"]["weight"],
        json!({"value": 0.25, "unit": "KILOGRAMS"})
    );

    let search = r#"query Find($q: String!, $loc: ID!) {
  productVariants(first: 10, query: $q) {
    edges { cursor node { id sku title price barcode product { id title handle status } selectedOptions { name value }
      inventoryItem { id sku tracked inventoryLevel(locationId: $loc) { id quantities(names: ["available", "on_hand"]) { name quantity } location { id } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;
    let body = gql(&server, search, json!({"q": "sku:TS-S OR sku:\"TS M/1\"", "loc": loc})).await;
    let edges = body["data"]["productVariants"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 2, "{body}");
    let node = &edges[0]["node"];
    assert_eq!(node["product"]["title"], "Trail Shirt");
    assert_eq!(node["selectedOptions"], json!([{"name": "Size", "value": "S"}]));
    assert_eq!(
        node["inventoryItem"]["inventoryLevel"]["quantities"],
        json!([{"name": "available", "quantity": 3}, {"name": "on_hand", "quantity": 3}])
    );
    assert_eq!(body["data"]["productVariants"]["pageInfo"]["hasNextPage"], false);
    let body = gql(&server, search, json!({"q": "sku:TS-X", "loc": loc})).await;
    assert_eq!(body["data"]["productVariants"]["edges"], json!([]));

    // List semantics: variants left out are deleted; errors as captured.
    let product_id = product["id"].as_str().unwrap().to_owned();
    let update = json!({"variants": [{"optionValues": [{"optionName": "Size", "name": "S"}], "price": "13.00"}], "productOptions": [{"name": "Size", "values": [{"name": "S"}]}]});
    let body = gql(&server, r#"mutation($input: ProductSetInput!, $id: ID!) { productSet(input: $input, identifier: {id: $id}) { product { variants(first: 5) { nodes { sku price } } } userErrors { message } } }"#, json!({"input": update, "id": product_id})).await;
    assert_eq!(
        body["data"]["productSet"]["product"]["variants"]["nodes"],
        json!([{"sku": "TS-S", "price": "13.00"}]),
        "{body}"
    );
    assert_eq!(server.available("TS M/1", &loc), None);
    let errors = r#"mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) { productSet(input: $input, identifier: $identifier) { product { id } userErrors { field message code } } }"#;
    let body = gql(
        &server,
        errors,
        json!({"input": {"id": product_id, "title": "x"}, "identifier": {"handle": "trail-shirt"}}),
    )
    .await;
    assert_eq!(
        body["data"]["productSet"]["userErrors"][0]["code"], "ID_NOT_ALLOWED",
        "{body}"
    );
    let body = gql(
        &server,
        errors,
        json!({"input": {"id": "gid://shopify/Product/1", "title": "x"}}),
    )
    .await;
    assert_eq!(
        body["data"]["productSet"]["userErrors"][0],
        json!({"field": ["input", "id"], "message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"})
    );
    let body = gql(
        &server,
        errors,
        json!({"input": {"title": "Other", "handle": "  TRAIL shirt "}}),
    )
    .await;
    assert_eq!(
        body["data"]["productSet"]["userErrors"][0]["message"],
        "Handle '  TRAIL shirt ' already in use. Please provide a new handle."
    );
    let body = gql(&server, errors, json!({"input": {"title": "Dup", "productOptions": [{"name": "Size", "values": [{"name": "S"}]}], "variants": [
        {"optionValues": [{"optionName": "Size", "name": "S"}]}, {"optionValues": [{"optionName": "Size", "name": "S"}]}]}})).await;
    assert_eq!(
        body["data"]["productSet"]["userErrors"][0]["message"],
        "The variant 'S' already exists. Please change at least one option value.",
        "{body}"
    );
    assert_eq!(body["data"]["productSet"]["product"], Value::Null);
}

#[tokio::test]
async fn shopify_server_answers_unknown_fields_and_bad_syntax_like_graphql_ruby() {
    let (server, _) = shop_with(1).await;
    let body = gql(
        &server,
        "query Q { productVariants(first: 1) { nodes { id colour } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        body,
        json!({"errors": [{"message": "Field 'colour' doesn't exist on type 'ProductVariant'", "locations": [{"line": 1, "column": 50}],
            "path": ["query Q", "productVariants", "nodes", "colour"], "extensions": {"code": "undefinedField", "typeName": "ProductVariant", "fieldName": "colour"}}]})
    );
    let body = gql(&server, "query { shop { id ", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "PARSE_ERROR", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("syntax error, unexpected end of file")
    );
    let body = gql(&server, "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) @idempotent(key: \"x\") { userErrors { field } } }",
        json!({"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": true, "quantities": []}})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_VARIABLE", "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "Variable $input of type InventorySetQuantitiesInput! was provided invalid value for ignoreCompareQuantity (Field is not defined on InventorySetQuantitiesInput)"
    );
    let body = gql(&server, "{ shop }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "selectionMismatch");
}

#[tokio::test]
async fn shopify_server_answers_only_the_selected_fields_with_aliases_and_node_fragments() {
    let (server, loc) = shop_with(3).await;
    let query = r#"query Nodes($ids: [ID!]!, $loc: ID!) {
  first: locations(first: 5) { nodes { id name isActive } pageInfo { hasNextPage endCursor } }
  items: nodes(ids: $ids) {
    __typename
    ... on InventoryItem { id sku inventoryLevel(locationId: $loc) { quantities(names: ["available", "on_hand"]) { name quantity } } }
    ... on ProductVariant { sku }
  }
}"#;
    let ids = json!([
        item(&server, "A-1"),
        "gid://shopify/InventoryItem/1",
        "gid://shopify/Nope/1"
    ]);
    let body = gql(&server, query, json!({"ids": ids, "loc": loc})).await;
    let data = body["data"].as_object().expect("data");
    assert_eq!(data.keys().collect::<Vec<_>>(), ["first", "items"]);
    assert_eq!(
        body["data"]["first"]["nodes"],
        json!([{"id": loc, "name": "Main warehouse", "isActive": true}])
    );
    assert_eq!(
        body["data"]["items"][0],
        json!({"__typename": "InventoryItem", "id": item(&server, "A-1"), "sku": "A-1", "inventoryLevel": {"quantities": [{"name": "available", "quantity": 10}, {"name": "on_hand", "quantity": 10}]}})
    );
    assert_eq!(body["data"]["items"][1], Value::Null);
    assert_eq!(body["data"]["items"][2], Value::Null);
    // Pagination with cursors.
    let page = r#"query($after: String) { productVariants(first: 2, after: $after) { nodes { sku } pageInfo { hasNextPage endCursor } } }"#;
    let one = gql(&server, page, json!({})).await;
    assert_eq!(
        one["data"]["productVariants"]["nodes"],
        json!([{"sku": "A-1"}, {"sku": "A-2"}])
    );
    assert_eq!(one["data"]["productVariants"]["pageInfo"]["hasNextPage"], true);
    let two = gql(
        &server,
        page,
        json!({"after": one["data"]["productVariants"]["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(two["data"]["productVariants"]["nodes"], json!([{"sku": "A-3"}]));
    assert_eq!(two["data"]["productVariants"]["pageInfo"]["hasNextPage"], false);
    let body = gql(&server, "{ productVariants { nodes { id } } }", json!({})).await;
    assert_eq!(body["errors"][0]["message"], "you must provide one of first or last");
    assert_eq!(body["data"], Value::Null);
}

#[tokio::test]
async fn shopify_server_orders_lower_available_and_are_listed_by_updated_at() {
    let (server, loc) = shop_with(2).await;
    let order = server.place_order(&loc, &[("A-1", 3), ("A-2", 1)]);
    assert_eq!(server.available("A-1", &loc), Some(7));
    assert_eq!(
        server.on_hand("A-1", &loc),
        Some(10),
        "sold units stay on hand until fulfilled"
    );
    let query = r#"query($q: String) {
  orders(first: 10, query: $q, sortKey: UPDATED_AT) {
    nodes { id name createdAt updatedAt cancelledAt displayFinancialStatus currencyCode totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 5) { nodes { id sku quantity currentQuantity variant { id } } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;
    let body = gql(&server, query, json!({"q": "updated_at:>='2026-01-01T00:00:00Z'"})).await;
    let o = &body["data"]["orders"]["nodes"][0];
    assert_eq!(o["id"], order, "{body}");
    assert_eq!(o["name"], "#1001");
    assert_eq!(
        o["totalPriceSet"]["shopMoney"],
        json!({"amount": "40.00", "currencyCode": "USD"})
    );
    assert_eq!(o["lineItems"]["nodes"][0]["sku"], "A-1");
    assert_eq!(o["lineItems"]["nodes"][0]["quantity"], 3);
    let body = gql(&server, query, json!({"q": "updated_at:>'2999-01-01T00:00:00Z'"})).await;
    assert_eq!(body["data"]["orders"]["nodes"], json!([]));
    let body = gql(&server, query, json!({"q": "updated_at:>=yesterday-ish"})).await;
    assert_eq!(
        body["errors"][0]["message"], "Invalid timestamp for query filter `updated_at`.",
        "{body}"
    );
}

#[tokio::test]
async fn shopify_server_activates_inventory_and_creates_webhook_subscriptions() {
    let (server, _) = shop_with(1).await;
    let second = server.add_location("Second");
    let activate = r#"mutation($item: ID!, $loc: ID!, $n: Int) {
  inventoryActivate(inventoryItemId: $item, locationId: $loc, available: $n) @idempotent(key: "act-1") {
    inventoryLevel { id quantities(names: ["available"]) { name quantity } } userErrors { field message } } }"#;
    let body = gql(
        &server,
        activate,
        json!({"item": item(&server, "A-1"), "loc": second, "n": 6}),
    )
    .await;
    assert_eq!(
        body["data"]["inventoryActivate"]["inventoryLevel"]["quantities"],
        json!([{"name": "available", "quantity": 6}]),
        "{body}"
    );
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 11);
    assert_eq!(server.available("A-1", &second), Some(6));
    let webhook = r#"mutation($uri: String!) { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $uri, format: JSON}) {
  webhookSubscription { id topic uri } userErrors { field message } } }"#;
    let body = gql(&server, webhook, json!({"uri": "https://hooks.example.com/shopify"})).await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["topic"], "ORDERS_CREATE",
        "{body}"
    );
    assert_eq!(server.webhook_subscriptions().len(), 1);
    let body = gql(&server, webhook, json!({"uri": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([{"field": ["webhookSubscription", "callbackUrl"], "message": "Address protocol http:// is not supported"}])
    );
    server.allow_loopback_webhooks(true);
    let body = gql(&server, webhook, json!({"uri": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([]),
        "{body}"
    );
}

#[tokio::test]
async fn shopify_server_faults_answer_500_refuse_connections_drop_and_delay() {
    let (server, _) = shop_with(1).await;
    let body = json!({"query": "{ shop { name } }"});
    server.faults().set_error_rate(1.0);
    let (status, answer) = post(&server, Some(server.token()), body.clone()).await;
    assert_eq!(
        (status, answer),
        (500, json!({"errors": "An unexpected error occurred"}))
    );
    server.faults().set_error_rate(0.0);
    assert_eq!(server.stats().injected_errors, 1);

    server.faults().set_down(true);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = reqwest::Client::new()
        .post(server.graphql_url(VERSION))
        .header("X-Shopify-Access-Token", server.token())
        .json(&body)
        .send()
        .await
        .expect_err("the server is down");
    assert!(refused.is_connect(), "connection refused: {refused:?}");
    server.faults().set_down(false);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        post(&server, Some(server.token()), body.clone()).await.0,
        200,
        "and back up on the same port"
    );

    server.faults().drop_next(1);
    let dropped = reqwest::Client::new()
        .post(server.graphql_url(VERSION))
        .header("X-Shopify-Access-Token", server.token())
        .json(&body)
        .send()
        .await;
    assert!(dropped.is_err(), "the connection closed without an answer");
    assert_eq!(server.stats().dropped, 1);

    server.faults().set_delay(Duration::from_millis(800));
    let slow = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("client")
        .post(server.graphql_url(VERSION))
        .header("X-Shopify-Access-Token", server.token())
        .json(&body)
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(slow.is_timeout(), "{slow:?}");
    server.faults().set_delay(Duration::ZERO);
    assert_eq!(post(&server, Some(server.token()), body).await.0, 200);
}

#[tokio::test]
async fn shopify_server_serves_older_versions_with_their_own_inventory_rules() {
    let (server, loc) = shop_with(1).await;
    let call = |version: &'static str, query: &'static str, variables: Value| {
        let (url, token) = (server.graphql_url(version), server.token().to_owned());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("X-Shopify-Access-Token", token)
                .json(&json!({"query": query, "variables": variables}))
                .send()
                .await
                .expect("request");
            response.json::<Value>().await.expect("json")
        }
    };
    let plain = r#"mutation($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { inventoryAdjustmentGroup { id } userErrors { field message code } } }"#;
    // 2025-10: no @idempotent, compareQuantity or ignoreCompareQuantity.
    let q = json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 3}]);
    let body = call("2025-10", plain, json!({"input": set_input(q.clone())})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"][0]["code"], "COMPARE_QUANTITY_REQUIRED",
        "{body}"
    );
    let mut ignore = set_input(q);
    ignore["ignoreCompareQuantity"] = json!(true);
    let body = call("2025-10", plain, json!({"input": ignore})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([]),
        "{body}"
    );
    assert_eq!(server.available("A-1", &loc), Some(3));
    let body = call("2025-10", SET, json!({"input": set_input(json!([])), "key": "x"})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "undefinedDirective", "{body}");
    // 2026-01: the directive exists but is optional.
    let q = json!([{"inventoryItemId": item(&server, "A-1"), "locationId": loc, "quantity": 4, "compareQuantity": 3}]);
    let body = call("2026-01", plain, json!({"input": set_input(q)})).await;
    assert_eq!(
        body["data"]["inventorySetQuantities"]["userErrors"],
        json!([]),
        "{body}"
    );
    assert_eq!(server.available("A-1", &loc), Some(4));
}

/// One webhook request as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A webhook endpoint on 127.0.0.1 that records what it receives and
/// answers 200, or 500 while `fail` is above zero.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    fail: Arc<AtomicU32>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/webhooks", listener.local_addr().expect("address"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicU32::new(0));
        let (g, f) = (got.clone(), fail.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (g, f) = (g.clone(), f.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (g, f) = (g.clone(), f.clone());
                        async move {
                            let headers = req.headers().clone();
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            g.lock().expect("lock").push(Received { headers, body });
                            let failing = f
                                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                                .is_ok();
                            let status = if failing { 500 } else { 200 };
                            let response = hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::new()))
                                .expect("response");
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver { url, got, fail }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }

    fn topics(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.header("x-shopify-topic").to_owned())
            .collect()
    }

    /// Waits until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.received().len() < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} webhooks arrived",
                self.received().len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.received()
    }
}

async fn subscribe(server: &ShopifyTestServer, topic: &str, uri: &str) -> String {
    let create = r#"mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id } userErrors { field message } } }"#;
    let body = gql(server, create, json!({"topic": topic, "uri": uri})).await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([]),
        "{body}"
    );
    body["data"]["webhookSubscriptionCreate"]["webhookSubscription"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// A shop (products `A-1`, `A-2`) whose order topics go to a receiver.
async fn shop_with_receiver(config: ShopConfig, topics: &[&str]) -> (ShopifyTestServer, String, Receiver) {
    let server = ShopifyTestServer::start(config).await;
    let loc = server.add_location("Main warehouse");
    server.add_product("Product 1", &[("A-1", 10)], &loc);
    server.add_product("Product 2", &[("A-2", 10)], &loc);
    server.allow_loopback_webhooks(true);
    let receiver = Receiver::start().await;
    for t in topics {
        subscribe(&server, t, &receiver.url).await;
    }
    (server, loc, receiver)
}

fn fast_retries() -> ShopConfig {
    ShopConfig {
        webhooks: WebhookSettings {
            backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(40),
            ..WebhookSettings::default()
        },
        ..ShopConfig::default()
    }
}

#[test]
fn shopify_server_webhook_hmac_matches_rfc_4231() {
    // RFC 4231 test case 2, base64-encoded.
    assert_eq!(
        webhook_hmac("Jefe", b"what do ya want for nothing?"),
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
    );
}

#[tokio::test]
async fn shopify_server_delivers_signed_order_webhooks_for_create_cancel_and_edit() {
    let (server, loc, receiver) = shop_with_receiver(
        ShopConfig::default(),
        &["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_EDITED"],
    )
    .await;
    assert_eq!(server.client_secret(), DEFAULT_CLIENT_SECRET);
    let order = server.place_order(&loc, &[("A-1", 3), ("A-2", 1)]);
    let got = receiver.wait_for(2).await;
    assert_eq!(
        receiver.topics(),
        ["orders/create", "orders/updated"],
        "a new order is also an update"
    );
    for r in &got {
        assert_eq!(
            r.header("x-shopify-hmac-sha256"),
            webhook_hmac(DEFAULT_CLIENT_SECRET, &r.body),
            "signed with the client secret over the raw body"
        );
        assert_ne!(
            r.header("x-shopify-hmac-sha256"),
            webhook_hmac("another secret", &r.body)
        );
        assert_eq!(r.header("x-shopify-shop-domain"), "tillbridge-test.myshopify.com");
        assert_eq!(r.header("x-shopify-api-version"), "2026-10");
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(r.header("x-shopify-webhook-id").len(), 36, "a UUID");
        assert_eq!(r.header("x-shopify-event-id").len(), 36, "a UUID");
        assert!(
            chrono::DateTime::parse_from_rfc3339(r.header("x-shopify-triggered-at")).is_ok(),
            "{}",
            r.header("x-shopify-triggered-at")
        );
    }
    assert_ne!(
        got[0].header("x-shopify-webhook-id"),
        got[1].header("x-shopify-webhook-id")
    );
    let payload = got[0].json();
    let info = server.order(&order).expect("the order");
    assert_eq!(payload["id"], json!(info.legacy_id), "a number");
    assert_eq!(payload["admin_graphql_api_id"], order);
    assert_eq!(payload["name"], "#1001");
    assert_eq!(payload["cancelled_at"], Value::Null);
    assert_eq!(payload["currency"], "USD");
    assert_eq!(payload["total_price"], "40.00");
    assert_eq!(payload["current_total_price"], "40.00");
    assert!(
        payload["created_at"].as_str().expect("a time").ends_with("-05:00"),
        "REST times are in the shop's zone: {payload}"
    );
    let line = &payload["line_items"][0];
    assert_eq!(
        line["id"],
        json!(
            info.lines[0]
                .id
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .parse::<u64>()
                .unwrap_or_default()
        )
    );
    assert_eq!(line["admin_graphql_api_id"], info.lines[0].id);
    assert_eq!(line["sku"], "A-1");
    assert_eq!(line["quantity"], 3);
    assert_eq!(line["current_quantity"], 3);
    assert_eq!(line["price"], "10.00");
    assert_eq!(
        line["variant_id"]
            .as_u64()
            .map(|v| format!("gid://shopify/ProductVariant/{v}")),
        info.lines[0].variant_id
    );
    assert!(line["product_id"].is_u64());

    // An edit: orders/edited names the removed units, orders/updated carries the order.
    let before = server.order(&order).expect("order").updated_at;
    tokio::time::sleep(Duration::from_millis(20)).await;
    server.reduce_line_item(&order, "A-1", 1, true);
    let got = receiver.wait_for(4).await;
    assert_eq!(&receiver.topics()[2..], ["orders/edited", "orders/updated"]);
    let edit = got[2].json();
    assert_eq!(edit["order_edit"]["order_id"], json!(info.legacy_id));
    assert_eq!(edit["order_edit"]["line_items"]["removals"][0]["delta"], 2, "{edit}");
    let updated = got[3].json();
    assert_eq!(updated["line_items"][0]["quantity"], 3);
    assert_eq!(updated["line_items"][0]["current_quantity"], 1);
    assert_eq!(updated["current_total_price"], "20.00");
    assert!(server.order(&order).expect("order").updated_at > before);
    assert_eq!(server.available("A-1", &loc), Some(9), "two units restocked");

    server.cancel_order(&order);
    let got = receiver.wait_for(6).await;
    assert_eq!(&receiver.topics()[4..], ["orders/cancelled", "orders/updated"]);
    let cancelled = got[4].json();
    assert!(cancelled["cancelled_at"].is_string(), "{cancelled}");
    assert_eq!(cancelled["cancel_reason"], "customer");
    assert_eq!(cancelled["line_items"][1]["current_quantity"], 0);
    assert_eq!(server.available("A-1", &loc), Some(10));
    server.cancel_order(&order);
    assert!(server.wait_for_webhooks(Duration::from_secs(5)).await);
    assert_eq!(receiver.received().len(), 6, "cancelling twice changes nothing");
    let log = server.webhook_deliveries();
    assert_eq!(log.len(), 6);
    assert!(
        log.iter()
            .all(|d| d.status() == Some(200) && d.order_id == order && d.attempt == 1)
    );
}

#[tokio::test]
async fn shopify_server_signs_with_the_configured_secret_and_keeps_include_fields() {
    let server = ShopifyTestServer::start(ShopConfig {
        client_secret: "shpss_rotated".to_owned(),
        utc_offset_minutes: 0,
        ..ShopConfig::default()
    })
    .await;
    let loc = server.add_location("Main");
    server.add_product("Hat", &[("HAT", 5)], &loc);
    server.allow_loopback_webhooks(true);
    let receiver = Receiver::start().await;
    let create = r#"mutation($uri: String!) {
  webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $uri, includeFields: ["id", "updated_at", "line_items"]}) {
    userErrors { message } } }"#;
    let body = gql(&server, create, json!({"uri": receiver.url})).await;
    assert_eq!(
        body["data"]["webhookSubscriptionCreate"]["userErrors"],
        json!([]),
        "{body}"
    );
    server.place_order(&loc, &[("HAT", 1)]);
    let got = receiver.wait_for(1).await;
    assert_eq!(
        got[0].header("x-shopify-hmac-sha256"),
        webhook_hmac("shpss_rotated", &got[0].body)
    );
    let payload = got[0].json();
    let keys: Vec<&str> = payload
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "line_items", "updated_at"]);
    assert!(payload["updated_at"].as_str().expect("a time").ends_with("+00:00"));
    server.set_client_secret("shpss_next");
    server.place_order(&loc, &[("HAT", 1)]);
    let got = receiver.wait_for(2).await;
    assert_eq!(
        got[1].header("x-shopify-hmac-sha256"),
        webhook_hmac("shpss_next", &got[1].body)
    );
}

#[tokio::test]
async fn shopify_server_retries_a_failed_webhook_with_the_same_id_payload_and_time() {
    let (server, loc, receiver) = shop_with_receiver(fast_retries(), &["ORDERS_CREATE"]).await;
    receiver.fail.store(2, Ordering::SeqCst);
    let order = server.place_order(&loc, &[("A-1", 1)]);
    let got = receiver.wait_for(3).await;
    assert!(server.wait_for_webhooks(Duration::from_secs(5)).await);
    for r in &got[1..] {
        assert_eq!(r.header("x-shopify-webhook-id"), got[0].header("x-shopify-webhook-id"));
        assert_eq!(r.header("x-shopify-event-id"), got[0].header("x-shopify-event-id"));
        assert_eq!(
            r.header("x-shopify-triggered-at"),
            got[0].header("x-shopify-triggered-at")
        );
        assert_eq!(r.body, got[0].body, "the original payload");
    }
    let log = server.webhook_deliveries();
    let attempts: Vec<(u32, Option<u16>)> = log.iter().map(|d| (d.attempt, d.status())).collect();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);
    assert!(log.iter().all(|d| d.order_id == order && d.topic == "orders/create"));
    assert_eq!(server.webhook_subscriptions().len(), 1);

    // A receiver that never succeeds: every retry fails, then the
    // subscription (made through the Admin API) is deleted.
    receiver.fail.store(u32::MAX, Ordering::SeqCst);
    server.place_order(&loc, &[("A-1", 1)]);
    assert!(server.wait_for_webhooks(Duration::from_secs(10)).await);
    let failed: Vec<_> = server.webhook_deliveries().into_iter().skip(3).collect();
    assert_eq!(failed.len(), 9, "the first attempt and 8 retries");
    assert!(failed.iter().all(|d| d.status() == Some(500)));
    assert!(server.webhook_subscriptions().is_empty());
}

#[tokio::test]
async fn shopify_server_webhook_faults_lose_duplicate_and_reorder_deliveries() {
    let (server, loc, receiver) = shop_with_receiver(ShopConfig::default(), &["ORDERS_CREATE", "ORDERS_UPDATED"]).await;

    // Lost: never sent, never retried.
    server.webhook_faults().lose_next(1);
    server.place_order(&loc, &[("A-1", 1)]);
    assert!(server.wait_for_webhooks(Duration::from_secs(5)).await);
    assert_eq!(receiver.topics(), ["orders/updated"], "the orders/create was lost");
    let log = server.webhook_deliveries();
    assert_eq!(log[0].topic, "orders/create");
    assert_eq!(log[0].outcome, DeliveryOutcome::Lost);

    // Duplicated: the same delivery twice.
    server.webhook_faults().duplicate_next(1);
    server.place_order(&loc, &[("A-1", 1)]);
    let got = receiver.wait_for(4).await;
    assert!(server.wait_for_webhooks(Duration::from_secs(5)).await);
    assert_eq!(
        &receiver.topics()[1..],
        ["orders/create", "orders/create", "orders/updated"]
    );
    assert_eq!(
        got[1].header("x-shopify-webhook-id"),
        got[2].header("x-shopify-webhook-id")
    );
    assert_eq!(got[1].header("x-shopify-event-id"), got[2].header("x-shopify-event-id"));
    assert_eq!(got[1].body, got[2].body);
    assert!(server.webhook_deliveries().iter().any(|d| d.duplicate));

    // Delayed: the update overtakes the create.
    server.webhook_faults().delay_next(1, Duration::from_millis(300));
    let order = server.place_order(&loc, &[("A-2", 1)]);
    let got = receiver.wait_for(6).await;
    assert_eq!(&receiver.topics()[4..], ["orders/updated", "orders/create"]);
    assert_eq!(got[4].json()["admin_graphql_api_id"], order);
    assert_eq!(got[5].json()["admin_graphql_api_id"], order);
}

#[tokio::test]
async fn shopify_server_sends_no_webhook_to_loopback_unless_allowed() {
    let (server, loc, receiver) = shop_with_receiver(fast_retries(), &["ORDERS_CREATE"]).await;
    server.allow_loopback_webhooks(false);
    server.place_order(&loc, &[("A-1", 1)]);
    assert!(server.wait_for_webhooks(Duration::from_secs(5)).await);
    assert!(receiver.received().is_empty());
    assert_eq!(server.webhook_deliveries()[0].outcome, DeliveryOutcome::Refused);
}

const ORDERS: &str = r#"query($q: String, $after: String, $first: Int!) {
  orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) {
    nodes { id legacyResourceId name createdAt updatedAt cancelledAt displayFinancialStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      currentTotalPriceSet { shopMoney { amount } }
      lineItems(first: 10) { nodes { id sku quantity currentQuantity variant { id } title } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

#[tokio::test]
async fn shopify_server_orders_filter_by_updated_at_and_page_by_cursor() {
    let (server, loc) = shop_with(2).await;
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-25T03:00:00Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let base = base.min(chrono::Utc::now() - chrono::Duration::days(1));
    let mut orders = Vec::new();
    for i in 0..5 {
        let o = server.place_order(&loc, &[("A-1", 1), ("A-2", 2)]);
        // Updated one minute apart, the last one first in id order.
        server.set_order_updated_at(&o, base + chrono::Duration::minutes(4 - i));
        orders.push(o);
    }
    let mark = (base + chrono::Duration::minutes(2))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let ids = |body: &Value| -> Vec<String> {
        body["data"]["orders"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("nodes: {body}"))
            .iter()
            .map(|n| n["id"].as_str().expect("id").to_owned())
            .collect()
    };
    // 250 orders with their lines cost more than one query may (1000).
    let body = gql(&server, ORDERS, json!({"first": 250})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["cost"], 6752);
    let body = gql(
        &server,
        ORDERS,
        json!({"q": format!("updated_at:>'{mark}'"), "first": 30}),
    )
    .await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 2 + 30 * 27);
    assert_eq!(ids(&body), [orders[1].clone(), orders[0].clone()], "{body}");
    let body = gql(
        &server,
        ORDERS,
        json!({"q": format!("updated_at:>='{mark}'"), "first": 30}),
    )
    .await;
    assert_eq!(ids(&body), [orders[2].clone(), orders[1].clone(), orders[0].clone()]);
    let node = &body["data"]["orders"]["nodes"][0];
    assert_eq!(
        node["legacyResourceId"],
        orders[2].rsplit('/').next().unwrap_or_default()
    );
    assert_eq!(node["name"], "#1003");
    assert_eq!(node["updatedAt"], mark);
    assert_eq!(node["displayFinancialStatus"], "PAID");
    assert_eq!(
        node["totalPriceSet"]["shopMoney"],
        json!({"amount": "30.00", "currencyCode": "USD"})
    );
    assert_eq!(node["lineItems"]["nodes"][1]["sku"], "A-2");
    assert_eq!(node["lineItems"]["nodes"][1]["currentQuantity"], 2);
    assert_eq!(node["lineItems"]["nodes"][1]["title"], "Product 2");

    // Every order, two a page, oldest update first.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = gql(&server, ORDERS, json!({"first": 2, "after": after})).await;
        seen.extend(ids(&body));
        let page = &body["data"]["orders"]["pageInfo"];
        if page["hasNextPage"] != json!(true) {
            break;
        }
        after = page["endCursor"].clone();
    }
    let mut expected = orders.clone();
    expected.reverse();
    assert_eq!(seen, expected);

    // A change shows in the next pull: currentQuantity drops, updatedAt moves.
    server.reduce_line_item(&orders[4], "A-2", 1, false);
    server.cancel_order(&orders[3]);
    let body = gql(
        &server,
        ORDERS,
        json!({"q": format!("updated_at:>'{mark}'"), "first": 30}),
    )
    .await;
    let got = ids(&body);
    assert_eq!(&got[2..], [orders[4].clone(), orders[3].clone()].as_slice(), "{body}");
    let nodes = body["data"]["orders"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes[2]["lineItems"]["nodes"][1]["currentQuantity"], 1);
    assert_eq!(nodes[2]["currentTotalPriceSet"]["shopMoney"]["amount"], "20.00");
    assert!(nodes[3]["cancelledAt"].is_string());
    assert_eq!(nodes[3]["displayFinancialStatus"], "VOIDED");
    assert_eq!(nodes[3]["lineItems"]["nodes"][0]["currentQuantity"], 0);
    assert_eq!(server.orders().len(), 5);

    let body = gql(&server, "{ orders(first: 251) { nodes { id } } }", json!({})).await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let body = gql(&server, ORDERS, json!({"first": 2, "after": "bm90IGEgY3Vyc29y"})).await;
    assert_eq!(body["errors"][0]["message"], "Malformed cursor", "{body}");
}

#[tokio::test]
async fn shopify_server_hides_orders_older_than_60_days_without_read_all_orders() {
    let (server, loc) = shop_with(1).await;
    let old = server.place_order_at(&loc, &[("A-1", 1)], chrono::Utc::now() - chrono::Duration::days(70));
    let recent = server.place_order(&loc, &[("A-1", 1)]);
    // Updated recently, but created 70 days ago: still out of reach.
    server.set_order_updated_at(&old, chrono::Utc::now());
    let list = r#"{ orders(first: 10) { nodes { id } } }"#;
    let body = gql(&server, list, json!({})).await;
    assert_eq!(body["data"]["orders"]["nodes"], json!([{"id": recent}]), "{body}");
    let one = r#"query($id: ID!) { order(id: $id) { id } }"#;
    let body = gql(&server, one, json!({"id": old})).await;
    assert_eq!(body["data"]["order"], Value::Null);
    assert_eq!(server.orders().len(), 2, "the helper lists every order");

    server.set_read_all_orders(true);
    let body = gql(&server, list, json!({})).await;
    assert_eq!(body["data"]["orders"]["nodes"].as_array().map(Vec::len), Some(2));
    let body = gql(&server, one, json!({"id": old})).await;
    assert_eq!(body["data"]["order"]["id"], old);

    let granted = ShopifyTestServer::start(ShopConfig {
        read_all_orders: true,
        ..ShopConfig::default()
    })
    .await;
    let loc = granted.add_location("Main");
    granted.add_product("Hat", &[("HAT", 3)], &loc);
    granted.place_order_at(&loc, &[("HAT", 1)], chrono::Utc::now() - chrono::Duration::days(400));
    let body = gql(&granted, list, json!({})).await;
    assert_eq!(body["data"]["orders"]["nodes"].as_array().map(Vec::len), Some(1));
}

const PRODUCT_UPDATE: &str = r#"mutation($product: ProductUpdateInput!) {
  productUpdate(product: $product) { product { id title handle status updatedAt } userErrors { field message } } }"#;

#[tokio::test]
async fn shopify_server_product_update_changes_status_and_answers_its_user_errors() {
    let (server, loc) = shop_with(2).await;
    let product = server.add_product("Hat", &[("HAT", 1)], &loc);
    let body = gql(
        &server,
        PRODUCT_UPDATE,
        json!({"product": {"id": product, "status": "DRAFT"}}),
    )
    .await;
    assert_eq!(body["data"]["productUpdate"]["userErrors"], json!([]), "{body}");
    assert_eq!(body["data"]["productUpdate"]["product"]["status"], "DRAFT");
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 10);
    assert_eq!(server.product_status(&product).as_deref(), Some("DRAFT"));
    let body = gql(
        &server,
        PRODUCT_UPDATE,
        json!({"product": {"id": product, "status": "ARCHIVED"}}),
    )
    .await;
    assert_eq!(body["data"]["productUpdate"]["product"]["status"], "ARCHIVED");
    // Archived products drop out of a status filter.
    let active = r#"{ productVariants(first: 10, query: "product_status:active") { nodes { sku } } }"#;
    let body = gql(&server, active, json!({})).await;
    assert_eq!(
        body["data"]["productVariants"]["nodes"],
        json!([{"sku": "A-1"}, {"sku": "A-2"}]),
        "{body}"
    );

    let body = gql(
        &server,
        PRODUCT_UPDATE,
        json!({"product": {"id": "gid://shopify/Product/999999999999999", "status": "DRAFT"}}),
    )
    .await;
    assert_eq!(
        body["data"]["productUpdate"],
        json!({"product": null, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]})
    );
    let body = gql(&server, PRODUCT_UPDATE, json!({"product": {"status": "DRAFT"}})).await;
    assert_eq!(
        body["data"]["productUpdate"]["userErrors"][0]["message"],
        "Product does not exist"
    );
    let body = gql(
        &server,
        PRODUCT_UPDATE,
        json!({"product": {"id": product, "title": ""}}),
    )
    .await;
    assert_eq!(
        body["data"]["productUpdate"]["userErrors"],
        json!([{"field": ["title"], "message": "Title can't be blank"}])
    );
    assert_eq!(
        body["data"]["productUpdate"]["product"]["title"], "Hat",
        "unchanged, and returned"
    );
    let taken = gql(
        &server,
        PRODUCT_UPDATE,
        json!({"product": {"id": product, "handle": "product-1"}}),
    )
    .await;
    assert_eq!(
        taken["data"]["productUpdate"]["userErrors"],
        json!([{"field": ["input", "handle"], "message": "Handle 'product-1' already in use. Please provide a new handle."}])
    );

    // Exactly one of `input` and `product`.
    for args in [
        "",
        r#"(input: {id: "gid://shopify/Product/1"}, product: {id: "gid://shopify/Product/1"})"#,
    ] {
        let query = format!("mutation {{ productUpdate{args} {{ product {{ id }} userErrors {{ message }} }} }}");
        let body = gql(&server, &query, json!({})).await;
        assert_eq!(
            body["errors"][0]["message"],
            "productUpdate must include exactly one of the following arguments: input, product.",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_FIELD_ARGUMENTS");
        assert_eq!(body["errors"][0]["path"], json!(["productUpdate"]));
        assert_eq!(body["data"], json!({"productUpdate": null}));
        assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 10);
    }
    // The deprecated `input` still works; `identifier` exists from 2026-04.
    let legacy = r#"mutation($input: ProductInput!) { productUpdate(input: $input) { product { status } userErrors { message } } }"#;
    let body = gql(&server, legacy, json!({"input": {"id": product, "status": "ACTIVE"}})).await;
    assert_eq!(body["data"]["productUpdate"]["product"]["status"], "ACTIVE", "{body}");
    let by_handle = r#"mutation { productUpdate(identifier: {handle: "hat"}, product: {status: DRAFT}) { product { id status } userErrors { message } } }"#;
    let body = gql(&server, by_handle, json!({})).await;
    assert_eq!(
        body["data"]["productUpdate"]["product"],
        json!({"id": product, "status": "DRAFT"}),
        "{body}"
    );
    let old = reqwest::Client::new()
        .post(server.graphql_url("2026-01"))
        .header("X-Shopify-Access-Token", server.token())
        .json(&json!({"query": by_handle}))
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(old["errors"][0]["extensions"]["code"], "argumentNotAccepted", "{old}");
}

#[tokio::test]
async fn shopify_server_product_delete_removes_the_product_and_its_variants() {
    let (server, loc) = shop_with(1).await;
    let product = server.add_product("Hat", &[("HAT-S", 1), ("HAT-M", 2)], &loc);
    let order = server.place_order(&loc, &[("HAT-S", 1)]);
    let delete = r#"mutation($id: ID!) { productDelete(input: {id: $id}) { deletedProductId shop { id } userErrors { field message } } }"#;
    let body = gql(&server, delete, json!({"id": product})).await;
    assert_eq!(
        body["data"]["productDelete"],
        json!({"deletedProductId": product, "shop": {"id": "gid://shopify/Shop/1"}, "userErrors": []}),
        "{body}"
    );
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 10);
    assert_eq!(server.product_status(&product), None);
    assert_eq!(server.variant_count(), 1);
    assert_eq!(server.inventory_item_id("HAT-S"), None);
    let body = gql(
        &server,
        r#"query($id: ID!) { product(id: $id) { id } }"#,
        json!({"id": product}),
    )
    .await;
    assert_eq!(body["data"]["product"], Value::Null);
    let body = gql(
        &server,
        r#"query($id: ID!) { order(id: $id) { lineItems(first: 5) { nodes { sku variant { id } } } } }"#,
        json!({"id": order}),
    )
    .await;
    assert_eq!(
        body["data"]["order"]["lineItems"]["nodes"],
        json!([{"sku": "HAT-S", "variant": null}]),
        "an order keeps its line, without the variant"
    );
    let body = gql(&server, delete, json!({"id": product})).await;
    assert_eq!(
        body["data"]["productDelete"],
        json!({"deletedProductId": null, "shop": {"id": "gid://shopify/Shop/1"}, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]})
    );

    // Asynchronously: an operation that reads COMPLETE later.
    let other = server.add_product("Cap", &[("CAP", 1)], &loc);
    let body = gql(
        &server,
        r#"mutation($id: ID!) { productDelete(input: {id: $id}, synchronous: false) { deletedProductId productDeleteOperation { id status deletedProductId } userErrors { message } } }"#,
        json!({"id": other}),
    )
    .await;
    let op = &body["data"]["productDelete"]["productDeleteOperation"];
    assert_eq!(op["status"], "CREATED", "{body}");
    assert_eq!(body["data"]["productDelete"]["deletedProductId"], Value::Null);
    let body = gql(
        &server,
        r#"query($id: ID!) { productOperation(id: $id) { status ... on ProductDeleteOperation { deletedProductId } } }"#,
        json!({"id": op["id"]}),
    )
    .await;
    assert_eq!(
        body["data"]["productOperation"],
        json!({"status": "COMPLETE", "deletedProductId": other}),
        "{body}"
    );
}

#[tokio::test]
async fn shopify_server_lists_every_variant_with_its_stock_in_pages_the_cost_limit_allows() {
    let server = ShopifyTestServer::start(ShopConfig::default()).await;
    let loc = server.add_location("Main");
    let other = server.add_location("Other");
    for i in 0..26 {
        let skus: Vec<String> = (0..10).map(|j| format!("V-{i:02}-{j}")).collect();
        let variants: Vec<(&str, i64)> = skus.iter().map(|s| (s.as_str(), 5)).collect();
        server.add_product(&format!("Product {i}"), &variants, &loc);
    }
    // Each variant with product, item, level and quantities costs 5: a
    // page of 250 would cost 1252, over the 1000 a query may cost.
    let page = r#"query($first: Int!, $after: String, $loc: ID!) {
  productVariants(first: $first, after: $after) {
    nodes { id sku product { id title status }
      inventoryItem { id inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { name quantity } } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;
    let body = gql(&server, page, json!({"first": 250, "loc": loc})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["cost"], 1252);
    let mut skus = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let body = gql(&server, page, json!({"first": 199, "after": after, "loc": loc})).await;
        assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 997);
        let nodes = body["data"]["productVariants"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("nodes: {body}"))
            .clone();
        for n in &nodes {
            assert_eq!(n["product"]["status"], "ACTIVE");
            assert_eq!(
                n["inventoryItem"]["inventoryLevel"]["quantities"],
                json!([{"name": "available", "quantity": 5}])
            );
            skus.push(n["sku"].as_str().expect("sku").to_owned());
        }
        pages += 1;
        let info = &body["data"]["productVariants"]["pageInfo"];
        if info["hasNextPage"] != json!(true) {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(pages, 2);
    assert_eq!(skus.len(), 260);
    let mut unique = skus.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 260);
    let body = gql(&server, page, json!({"first": 1, "loc": other})).await;
    assert_eq!(
        body["data"]["productVariants"]["nodes"][0]["inventoryItem"]["inventoryLevel"],
        Value::Null,
        "not stocked there"
    );
}

/// An image host on 127.0.0.1: `/front.png` (4x3) and `/back.png` (2x2) are
/// PNGs, `/page.html` an HTML page, `/slow.png` answers after 2 s, anything
/// else 404. Counts the requests per path.
struct ImageOrigin {
    base: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl ImageOrigin {
    async fn start() -> ImageOrigin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let h = h.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let h = h.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            h.lock().expect("lock").push(path.clone());
                            let (status, kind, body) = match path.as_str() {
                                "/front.png" => (200, "image/png", sample_png(4, 3)),
                                "/back.png" => (200, "image/png", sample_png(2, 2)),
                                "/page.html" => (200, "text/html", b"<html><body>Not an image</body></html>".to_vec()),
                                "/slow.png" => {
                                    tokio::time::sleep(Duration::from_secs(2)).await;
                                    (200, "image/png", sample_png(1, 1))
                                }
                                _ => (404, "text/plain", b"Not Found".to_vec()),
                            };
                            let response = hyper::Response::builder()
                                .status(status)
                                .header("content-type", kind)
                                .body(Full::new(Bytes::from(body)))
                                .expect("response");
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        ImageOrigin { base, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().expect("lock").iter().filter(|p| *p == path).count()
    }
}

/// A shop that may download from 127.0.0.1, and an image host.
async fn shop_with_images() -> (ShopifyTestServer, ImageOrigin) {
    let server = ShopifyTestServer::start(ShopConfig::default()).await;
    server.add_location("Main");
    server.allow_internal_media_sources(true);
    (server, ImageOrigin::start().await)
}

const SET_FILES: &str = r#"mutation Set($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier) {
    product { id title media(first: 10) { nodes { __typename id alt status mediaContentType ... on MediaImage { image { url } mimeType } } } }
    userErrors { field message code }
  }
}"#;

const MEDIA: &str = r#"query Media($id: ID!) {
  product(id: $id) {
    mediaCount { count }
    featuredMedia { id }
    media(first: 10) {
      nodes {
        __typename id alt status mediaContentType
        mediaErrors { code details message }
        preview { status image { url } }
        ... on MediaImage { fileStatus mimeType fileErrors { code } image { id url altText width height } originalSource { url fileSize } }
        ... on Video { duration }
      }
    }
  }
}"#;

async fn media_of(server: &ShopifyTestServer, product: &str) -> Vec<Value> {
    let body = gql(server, MEDIA, json!({"id": product})).await;
    body["data"]["product"]["media"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("media: {body}"))
        .clone()
}

fn ids(nodes: &[Value]) -> Vec<String> {
    nodes.iter().map(|n| n["id"].as_str().expect("id").to_owned()).collect()
}

#[tokio::test]
async fn shopify_server_product_set_files_become_media_that_turn_ready_after_the_answer() {
    let (server, origin) = shop_with_images().await;
    let input = json!({"title": "Camp Mug", "files": [
        {"originalSource": origin.url("/front.png"), "alt": "Front", "contentType": "IMAGE"},
        {"originalSource": origin.url("/back.png"), "alt": "Back"},
    ]});
    let body = gql(&server, SET_FILES, json!({"input": input})).await;
    assert_eq!(body["data"]["productSet"]["userErrors"], json!([]), "{body}");
    let product = body["data"]["productSet"]["product"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Processing happens after the answer: nothing is ready in it.
    let answered = body["data"]["productSet"]["product"]["media"]["nodes"].clone();
    assert_eq!(
        answered[0],
        json!({"__typename": "MediaImage", "id": answered[0]["id"], "alt": "Front", "status": "UPLOADED",
            "mediaContentType": "IMAGE", "image": null, "mimeType": null})
    );
    assert_eq!(answered[1]["alt"], "Back");
    assert!(server.product_images(&product).iter().all(|i| i.status != "READY"));

    assert!(server.wait_for_media(Duration::from_secs(10)).await);
    let nodes = media_of(&server, &product).await;
    assert_eq!(ids(&nodes), ids(answered.as_array().expect("list")), "the order given");
    let front = &nodes[0];
    assert_eq!(front["status"], "READY", "{front}");
    assert_eq!(front["fileStatus"], "READY");
    assert_eq!(front["mediaErrors"], json!([]));
    assert_eq!(front["fileErrors"], json!([]));
    assert_eq!(front["mimeType"], "image/png");
    assert_eq!(
        (front["image"]["width"].as_i64(), front["image"]["height"].as_i64()),
        (Some(4), Some(3))
    );
    assert_eq!(front["image"]["altText"], "Front");
    let id_tail = front["id"]
        .as_str()
        .expect("id")
        .rsplit('/')
        .next()
        .expect("tail")
        .to_owned();
    assert_eq!(front["image"]["id"], format!("gid://shopify/ImageSource/{id_tail}"));
    let url = front["image"]["url"].as_str().expect("a CDN URL").to_owned();
    assert!(
        url.starts_with(&server.base_url()) && url.contains("/s/files/") && url.contains("front.png?v="),
        "{url}"
    );
    assert_eq!(front["preview"], json!({"status": "READY", "image": {"url": url}}));
    assert_eq!(
        front["originalSource"]["fileSize"].as_u64(),
        Some(sample_png(4, 3).len() as u64)
    );
    let served = reqwest::get(&url).await.expect("the CDN answers");
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.expect("bytes").to_vec(), sample_png(4, 3));

    let body = gql(&server, MEDIA, json!({"id": product})).await;
    assert_eq!(body["data"]["product"]["mediaCount"]["count"], 2);
    assert_eq!(body["data"]["product"]["featuredMedia"]["id"], front["id"]);
    let images = server.product_images(&product);
    assert_eq!(
        images
            .iter()
            .map(|i| (i.alt.as_str(), i.status.as_str(), i.source.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("Front", "READY", origin.url("/front.png")),
            ("Back", "READY", origin.url("/back.png"))
        ]
    );
    assert_eq!(images[0].url.as_deref(), Some(url.as_str()));
    assert_eq!(server.product(&product).expect("stored")["media"][1]["alt"], "Back");

    // A MediaImage is a node; each file costs 1.9 points of a productSet.
    let node = gql(
        &server,
        "query($id: ID!) { node(id: $id) { __typename ... on Media { alt } } }",
        json!({"id": front["id"]}),
    )
    .await;
    assert_eq!(
        node["data"]["node"],
        json!({"__typename": "MediaImage", "alt": "Front"})
    );
    let cheap = r#"mutation($input: ProductSetInput!) { productSet(input: $input) { userErrors { message } } }"#;
    let files = json!([{"originalSource": origin.url("/front.png")}, {"originalSource": origin.url("/back.png")}]);
    let body = gql(&server, cheap, json!({"input": {"title": "Costly", "files": files}})).await;
    assert_eq!(
        body["extensions"]["cost"]["requestedQueryCost"], 14,
        "10 + 2 x 1.9: {body}"
    );
}

#[tokio::test]
async fn shopify_server_product_set_files_replace_reorder_and_remove_media_and_absent_files_leave_them() {
    let (server, origin) = shop_with_images().await;
    let input = json!({"title": "Tent", "files": [
        {"originalSource": origin.url("/front.png"), "alt": "A"},
        {"originalSource": origin.url("/back.png"), "alt": "B"},
    ]});
    let body = gql(&server, SET_FILES, json!({"input": input})).await;
    let product = body["data"]["productSet"]["product"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(server.wait_for_media(Duration::from_secs(10)).await);
    let before = media_of(&server, &product).await;
    let (a, b) = (before[0]["id"].clone(), before[1]["id"].clone());
    let b_url = before[1]["image"]["url"].clone();

    // B first with a new alt, then a new image; A is left out.
    let files = json!([{"id": b, "alt": "B again"}, {"originalSource": origin.url("/front.png"), "alt": "C"}]);
    let body = gql(
        &server,
        SET_FILES,
        json!({"input": {"files": files}, "identifier": {"id": product}}),
    )
    .await;
    assert_eq!(body["data"]["productSet"]["userErrors"], json!([]), "{body}");
    let answered = &body["data"]["productSet"]["product"]["media"]["nodes"];
    assert_eq!(answered[0]["id"], b);
    assert_eq!(
        (answered[0]["alt"].as_str(), answered[0]["status"].as_str()),
        (Some("B again"), Some("READY"))
    );
    assert_eq!(answered[1]["status"], "UPLOADED");
    assert!(server.wait_for_media(Duration::from_secs(10)).await);
    let after = media_of(&server, &product).await;
    assert_eq!(after.len(), 2);
    assert!(
        !ids(&after).contains(&a.as_str().expect("id").to_owned()),
        "A was removed"
    );
    assert_eq!(after[0]["image"]["url"], b_url, "a kept image is not processed again");
    assert_eq!(origin.hits("/back.png"), 1);
    assert_eq!(
        (after[1]["alt"].as_str(), after[1]["status"].as_str()),
        (Some("C"), Some("READY"))
    );
    assert_ne!(
        after[1]["image"]["url"], before[0]["image"]["url"],
        "a file name in use gets a UUID"
    );

    // Without files the media stay as they are.
    let body = gql(
        &server,
        SET_FILES,
        json!({"input": {"title": "Tent 2"}, "identifier": {"id": product}}),
    )
    .await;
    assert_eq!(body["data"]["productSet"]["product"]["title"], "Tent 2");
    assert_eq!(ids(&media_of(&server, &product).await), ids(&after));

    // Reordering only.
    let files = json!([{"id": after[1]["id"]}, {"id": after[0]["id"]}]);
    gql(
        &server,
        SET_FILES,
        json!({"input": {"files": files}, "identifier": {"id": product}}),
    )
    .await;
    let swapped = media_of(&server, &product).await;
    assert_eq!(ids(&swapped), vec![ids(&after)[1].clone(), ids(&after)[0].clone()]);
    assert_eq!(swapped[1]["alt"], "B again", "alt is kept when not given");

    // An empty list removes every image.
    gql(
        &server,
        SET_FILES,
        json!({"input": {"files": []}, "identifier": {"id": product}}),
    )
    .await;
    assert_eq!(media_of(&server, &product).await, Vec::<Value>::new());
    assert_eq!(server.product_images(&product), vec![]);
}

#[tokio::test]
async fn shopify_server_media_whose_source_cannot_be_downloaded_fail_while_the_update_succeeds() {
    let (server, origin) = shop_with_images().await;
    server.set_media_download_timeout(Duration::from_millis(300));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/gone.png", l.local_addr().expect("address"))
    };
    let input = json!({"title": "Stove", "vendor": "Camp Co", "files": [
        {"originalSource": origin.url("/missing.png"), "alt": "404"},
        {"originalSource": closed, "alt": "refused"},
        {"originalSource": origin.url("/slow.png"), "alt": "too slow"},
        {"originalSource": origin.url("/page.html"), "alt": "not an image"},
        {"originalSource": origin.url("/front.png"), "alt": "fine"},
    ]});
    let body = gql(&server, SET_FILES, json!({"input": input})).await;
    assert_eq!(body["data"]["productSet"]["userErrors"], json!([]), "{body}");
    let product = body["data"]["productSet"]["product"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(server.product(&product).expect("stored")["vendor"], "Camp Co");
    assert!(server.wait_for_media(Duration::from_secs(10)).await);

    let nodes = media_of(&server, &product).await;
    let download_failure = json!([{"code": "IMAGE_DOWNLOAD_FAILURE", "details": null,
        "message": "Media could not be processed because the image could not be downloaded."}]);
    for n in &nodes[..3] {
        assert_eq!(
            (n["status"].as_str(), n["fileStatus"].as_str()),
            (Some("FAILED"), Some("FAILED")),
            "{n}"
        );
        assert_eq!(n["mediaErrors"], download_failure, "{n}");
        assert_eq!(n["fileErrors"], json!([{"code": "IMAGE_DOWNLOAD_FAILURE"}]));
        assert_eq!((&n["image"], &n["preview"]["image"]), (&Value::Null, &Value::Null));
    }
    assert_eq!(
        nodes[3]["mediaErrors"][0]["code"], "UNSUPPORTED_IMAGE_FILE_TYPE",
        "{}",
        nodes[3]
    );
    assert_eq!(nodes[4]["status"], "READY");
    let images = server.product_images(&product);
    assert_eq!(images[0].error_code.as_deref(), Some("IMAGE_DOWNLOAD_FAILURE"));
    assert_eq!(
        images[0].error_message.as_deref(),
        Some("Media could not be processed because the image could not be downloaded.")
    );
    assert_eq!(images[4].error_code, None);

    // Shopify can't reach a private address: refused unless the test allows it.
    server.allow_internal_media_sources(false);
    let files = json!([{"originalSource": origin.url("/back.png")}]);
    gql(
        &server,
        SET_FILES,
        json!({"input": {"files": files}, "identifier": {"id": product}}),
    )
    .await;
    assert!(server.wait_for_media(Duration::from_secs(10)).await);
    assert_eq!(
        server.product_images(&product)[0].error_code.as_deref(),
        Some("IMAGE_DOWNLOAD_FAILURE")
    );
    assert_eq!(origin.hits("/back.png"), 0, "never fetched");
}

#[tokio::test]
async fn shopify_server_refuses_invalid_files_with_user_errors_and_changes_nothing() {
    let (server, origin) = shop_with_images().await;
    let input = json!({"title": "Lamp", "files": [{"originalSource": origin.url("/front.png"), "alt": "Lit"}]});
    let body = gql(&server, SET_FILES, json!({"input": input})).await;
    let product = body["data"]["productSet"]["product"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let before = server.product_images(&product);

    let refused = |file: Value| json!({"input": {"title": "Changed", "files": [{"originalSource": origin.url("/back.png")}, file]}, "identifier": {"id": product}});
    let cases = [
        (
            json!({"originalSource": "data:image/png;base64,iVBORw0KGgo="}),
            "originalSource",
            "File URL is invalid",
        ),
        (
            json!({"originalSource": "not-a-url"}),
            "originalSource",
            "File URL is invalid",
        ),
        (json!({"alt": "no source"}), "originalSource", "File URL is invalid"),
        (
            json!({"originalSource": origin.url("/front.png"), "filename": "front.jpg"}),
            "filename",
            "Provided filename extension must match original source.",
        ),
        (
            json!({"originalSource": origin.url("/front.PNG"), "filename": "front.png"}),
            "filename",
            "Provided filename extension must match original source.",
        ),
        (
            json!({"originalSource": origin.url("/front.png"), "duplicateResolutionMode": "REPLACE"}),
            "duplicateResolutionMode",
            "Duplicate resolution mode 'REPLACE' is not supported for 'MISSING' media type.",
        ),
        (
            json!({"originalSource": origin.url("/front.png"), "contentType": "IMAGE", "duplicateResolutionMode": "REPLACE"}),
            "filename",
            "Missing filename argument when attempting to use REPLACE duplicate mode.",
        ),
        (
            json!({"originalSource": origin.url("/front.png"), "alt": "x".repeat(513)}),
            "alt",
            "The alt value exceeds the maximum limit of 512 characters.",
        ),
    ];
    for (file, field, message) in cases {
        let body = gql(&server, SET_FILES, refused(file.clone())).await;
        assert_eq!(
            body["data"]["productSet"]["userErrors"],
            json!([{"field": ["input", "files", "1", field], "message": message, "code": "INVALID_INPUT"}]),
            "{file}: {body}"
        );
    }
    let body = gql(&server, SET_FILES, refused(json!({"id": "gid://shopify/MediaImage/1"}))).await;
    assert_eq!(
        body["data"]["productSet"]["userErrors"],
        json!([{"field": ["input", "files", "1", "id"], "message": "File id gid://shopify/MediaImage/1 does not exist.", "code": "NOT_FOUND"}])
    );
    // A FileSetInput field that doesn't exist fails variable coercion.
    let body = gql(&server, SET_FILES, refused(json!({"url": "https://example.com/a.png"}))).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_VARIABLE", "{body}");

    assert!(server.wait_for_media(Duration::from_secs(10)).await);
    let after = server.product_images(&product);
    assert_eq!(
        after.iter().map(|i| &i.id).collect::<Vec<_>>(),
        before.iter().map(|i| &i.id).collect::<Vec<_>>()
    );
    assert_eq!(server.product(&product).expect("stored")["title"], "Lamp");
    assert_eq!(origin.hits("/back.png"), 0, "nothing was downloaded");
}

#[tokio::test]
async fn shopify_server_helpers_read_products_and_edit_them_behind_the_connectors_back() {
    let server = ShopifyTestServer::start(ShopConfig::default()).await;
    let loc = server.add_location("Main");
    let product = server.add_product("Kettle", &[("KET-1", 4), ("KET-2", 1)], &loc);
    assert!(server.product_exists(&product));
    assert!(!server.product_exists("gid://shopify/Product/1"));
    server.set_compare_at_price("KET-2", Some("19.9"));
    let stored = server.product(&product).expect("stored");
    assert_eq!(stored["title"], "Kettle");
    assert_eq!(stored["variant"], Value::Null);
    assert_eq!(stored["variants"][1]["compareAtPrice"], "19.90");
    assert_eq!(stored["options"][0]["values"], json!(["KET-1", "KET-2"]));
    assert_eq!(
        server.product_by_sku("KET-2").expect("by sku")["variant"]["sku"],
        "KET-2"
    );
    let read = gql(
        &server,
        "query($id: ID!) { product(id: $id) { variants(first: 5) { nodes { compareAtPrice } } } }",
        json!({"id": product}),
    )
    .await;
    assert_eq!(
        read["data"]["product"]["variants"]["nodes"],
        json!([{"compareAtPrice": null}, {"compareAtPrice": "19.90"}])
    );
    server.set_compare_at_price("KET-2", None);
    assert_eq!(
        server.product(&product).expect("stored")["variants"][1]["compareAtPrice"],
        Value::Null
    );

    let origin = ImageOrigin::start().await;
    server.allow_internal_media_sources(true);
    let image = server.add_product_image(&product, &origin.url("/front.png"), "Side");
    assert!(server.wait_for_media(Duration::from_secs(10)).await);
    let images = server.product_images(&product);
    assert_eq!(images.len(), 1);
    assert_eq!(
        (images[0].id.as_str(), images[0].status.as_str()),
        (image.as_str(), "READY")
    );
    assert_eq!(
        server.product(&product).expect("stored")["media"][0]["source"],
        origin.url("/front.png")
    );
}
