//! The movements API: bad input is refused whole and named; good input
//! reaches the demo's Sandbox channel within a second.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tillbridge_tests::{Database, TestServer, api_token, cli, post_movements};

async fn stock(server: &TestServer, token: &str, sku: &str) -> Value {
    reqwest::Client::new()
        .get(server.url(&format!("/api/v1/stock?sku={sku}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn bad_movements_get_a_4xx_naming_the_problem_and_change_nothing() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let token = api_token(&db, "manager").await;
    let sku = "TEE-0090-S-BLA";
    let before = stock(&server, &token, sku).await;
    assert!(before["outlets"].is_array(), "{before}");
    let good = json!({"sku": sku, "outlet": "downtown", "delta": -1, "reason": "sales_order"});
    let cases: Vec<(String, u16, &str)> = vec![
        (
            json!({"movements": [good, {"sku": "NOPE-1", "outlet": "downtown", "delta": 1, "reason": "sales_order"}]})
                .to_string(),
            422,
            "movements[1].sku: unknown SKU \"NOPE-1\"",
        ),
        (
            json!({"movements": [good, {"sku": sku, "outlet": "mars", "delta": 1, "reason": "sales_order"}]})
                .to_string(),
            422,
            "movements[1].outlet: unknown outlet",
        ),
        (
            json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": 1, "reason": "theft"}]}).to_string(),
            422,
            "movements[0].reason",
        ),
        (
            json!({"movements": [{"sku": sku, "outlet": "downtown", "count": 2.5, "reason": "sales_order"}]})
                .to_string(),
            422,
            "movements[0].count: must be a whole number",
        ),
        (
            json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": 0, "reason": "sales_order"}]}).to_string(),
            422,
            "movements[0].delta: a delta of 0",
        ),
        (
            json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": 1, "count": 1, "reason": "sales_order"}]})
                .to_string(),
            422,
            "not both",
        ),
        (
            json!({"movements": [{"sku": sku, "outlet": "downtown", "delta": "5", "reason": "sales_order"}]})
                .to_string(),
            422,
            "must be a whole number",
        ),
        (
            json!({"movements": vec![good.clone(); 1001]}).to_string(),
            422,
            "1 to 1000",
        ),
        (json!({"movements": []}).to_string(), 422, "1 to 1000"),
        ("{\"movements\": [".to_owned(), 400, "not valid JSON"),
        ("[1, 2]".to_owned(), 422, "expected {\"movements\""),
        (
            format!(
                "{{\"movements\": [{}], \"pad\": \"{}\"}}",
                good,
                "x".repeat(2 * 1024 * 1024)
            ),
            413,
            "larger than",
        ),
    ];
    for (body, status, needle) in cases {
        let response = post_movements(&server, &token, body.clone(), None).await.expect("sent");
        assert_eq!(response.status().as_u16(), status, "{}", &body[..body.len().min(200)]);
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(
            answer["error"]["code"].is_string(),
            "a JSON error for {}: {answer}",
            &body[..body.len().min(100)]
        );
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    let viewer = api_token(&db, "viewer").await;
    let refused = post_movements(&server, &viewer, json!({"movements": [good]}).to_string(), None)
        .await
        .expect("sent");
    assert_eq!(refused.status(), 403);
    assert_eq!(stock(&server, &token, sku).await, before, "nothing changed");
    server.stop().await;
}

#[tokio::test]
async fn a_retried_request_with_the_same_idempotency_key_applies_once() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let token = api_token(&db, "manager").await;
    let sku = "TEE-0090-S-BLA";
    let body = json!({"movements": [{"sku": sku, "outlet": "harbour", "delta": 4, "reason": "purchase_order", "reference": "PO-7"}]}).to_string();
    let first: Value = post_movements(&server, &token, body.clone(), Some("po-7"))
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let again: Value = post_movements(&server, &token, body, Some("po-7"))
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(first["replayed"], false);
    assert_eq!(again["replayed"], true);
    assert_eq!(first["movements"], again["movements"]);
    let before = first["movements"][0]["on_hand_before"].as_i64().expect("before");
    let now = stock(&server, &token, sku).await;
    let harbour = now["outlets"]
        .as_array()
        .expect("outlets")
        .iter()
        .find(|o| o["outlet"] == "harbour")
        .expect("harbour")
        .clone();
    assert_eq!(harbour["on_hand"].as_i64(), Some(before + 4), "applied once");
    let other =
        json!({"movements": [{"sku": sku, "outlet": "harbour", "delta": 1, "reason": "purchase_order"}]}).to_string();
    let conflict = post_movements(&server, &token, other, Some("po-7"))
        .await
        .expect("sent");
    assert_eq!(conflict.status(), 409);
    server.stop().await;
}

#[tokio::test]
async fn a_stock_change_reaches_the_sandbox_store_within_a_second() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (ok, _, err) = cli(&db, &["autosync", "on", "--sku", "TEE-0090-S-BLA"], "").await;
    assert!(ok, "{err}");
    let token = api_token(&db, "manager").await;
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("demo channel");
    let sku = "TEE-0090-S-BLA";
    let in_sandbox = || async {
        storage
            .sandbox_items(channel.id)
            .await
            .expect("read")
            .into_iter()
            .find(|i| i.sku == sku)
            .map(|i| i.available)
    };
    // Turning Auto Sync on lists the product in the Sandbox store.
    let deadline = Instant::now() + Duration::from_secs(10);
    while in_sandbox().await.is_none() {
        assert!(
            Instant::now() < deadline,
            "the product never appeared in the Sandbox store"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Listing it was a push: let the one-second cooldown of a just-pushed SKU pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body = json!({"movements": [{"sku": sku, "outlet": "warehouse", "count": 77, "reason": "manual_adjustment"}]})
        .to_string();
    let sent = Instant::now();
    let answer = post_movements(&server, &token, body, None).await.expect("sent");
    assert_eq!(answer.status(), 200);
    let expected = stock(&server, &token, sku).await["channels"][0]["syncable_balance"]
        .as_i64()
        .expect("balance");
    loop {
        if in_sandbox().await == Some(expected) {
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "the Sandbox store never showed {expected}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = sent.elapsed();
    eprintln!("sandbox store showed the new balance {expected} {took:?} after the movement was sent");
    server.stop().await;
}
