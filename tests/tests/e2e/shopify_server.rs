//! The Shopify Admin GraphQL test server itself, over real HTTP: tokens,
//! versions, validation errors, cost and throttling, the inventory rules of
//! 2026-04+, productSet, orders, webhooks and the fault switches.

use std::time::Duration;

use serde_json::{Value, json};
use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};

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
