use tillbridge_tests::{Database, TestServer, binary, cli, workspace_root};

#[tokio::test]
async fn help_lists_every_subcommand() {
    let db = Database::sqlite();
    let (ok, out, _) = cli(&db, &["--help"], "").await;
    assert!(ok);
    for sub in ["serve", "migrate", "user", "token", "demo"] {
        assert!(out.contains(sub), "--help lacks {sub}:\n{out}");
    }
    let (ok, out, _) = cli(&db, &["user", "add", "--help"], "").await;
    assert!(ok && out.contains("--email") && out.contains("--role"));
}

#[tokio::test]
async fn a_wrong_database_url_is_one_clear_line() {
    let db = Database {
        url: "mysql://localhost/shop".into(),
        data_dir: tempfile::tempdir().expect("dir"),
    };
    let (ok, _, err) = cli(&db, &["migrate"], "").await;
    assert!(!ok);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error:") && lines[0].contains("sqlite://") && !err.contains("panicked"),
        "{err}"
    );

    let unreachable = Database {
        url: "postgres://postgres@127.0.0.1:1/nowhere".into(),
        data_dir: tempfile::tempdir().expect("dir"),
    };
    let (ok, _, err) = cli(&unreachable, &["migrate"], "").await;
    assert!(
        !ok && err.lines().count() == 1 && err.contains("cannot open the database"),
        "{err}"
    );
}

#[tokio::test]
async fn a_port_in_use_is_one_clear_line() {
    let db = Database::sqlite();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = tokio::process::Command::new(binary())
        .args(["serve", "--bind", &addr])
        .current_dir(workspace_root())
        .env("DATABASE_URL", &db.url)
        .env("TILLBRIDGE_DATA_DIR", db.data_dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("ran");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("in use"),
        "{err}"
    );
}

#[tokio::test]
async fn users_and_tokens_are_made_from_the_command_line_and_bad_input_is_refused() {
    let db = Database::sqlite();
    let (ok, out, err) = cli(
        &db,
        &["user", "add", "--email", "Owner@Shop.test", "--role", "owner"],
        "a long password\n",
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("owner@shop.test"));
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "owner@shop.test", "--role", "owner"],
        "another password\n",
    )
    .await;
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "x@shop.test", "--role", "owner"],
        "short\n",
    )
    .await;
    assert!(!ok && err.contains("at least 8"), "{err}");
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "x@shop.test", "--role", "admin"],
        "a long password\n",
    )
    .await;
    assert!(!ok && err.contains("owner, manager or viewer"), "{err}");
    let (ok, out, _) = cli(&db, &["token", "create", "--name", "Till 1", "--role", "manager"], "").await;
    assert!(ok && out.trim().starts_with("tb_") && out.trim().len() == 67, "{out}");

    // The secret key file is created on first start, private to its owner.
    let key = db.data_dir.path().join("secret.key");
    let server = TestServer::start(&db, &["serve"]).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).expect("key exists").permissions().mode() & 0o777,
            0o600
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_demo_loads_into_an_empty_database_only() {
    let db = Database::sqlite();
    let (ok, out, err) = cli(&db, &["demo"], "").await;
    assert!(ok, "{err}");
    assert!(out.contains("3 outlets, 500 products"), "{out}");
    let (ok, _, err) = cli(&db, &["demo"], "").await;
    assert!(!ok && err.contains("empty database"), "{err}");
}

#[tokio::test]
async fn a_channel_publishes_its_share_of_its_own_outlets_and_bad_rules_are_refused() {
    let db = Database::sqlite();
    let (ok, _, err) = cli(&db, &["demo"], "").await;
    assert!(ok, "{err}");
    let (ok, _, err) = cli(
        &db,
        &[
            "channel",
            "add",
            "sandbox",
            "--name",
            "Half",
            "--outlets",
            "warehouse",
            "--publish-percent",
            "150",
        ],
        "",
    )
    .await;
    assert!(!ok && err.contains("0 to 100"), "{err}");
    let (ok, _, err) = cli(
        &db,
        &["channel", "add", "sandbox", "--name", "Half", "--outlets", "mars"],
        "",
    )
    .await;
    assert!(
        !ok && err.contains("no outlet has the code mars") && err.contains("downtown"),
        "{err}"
    );
    let args = [
        "channel",
        "add",
        "sandbox",
        "--name",
        "Half",
        "--outlets",
        "warehouse",
        "--publish-percent",
        "50",
        "--publish-max",
        "10",
    ];
    let (ok, _, err) = cli(&db, &args, "").await;
    assert!(ok, "{err}");
    let (ok, out, _) = cli(&db, &["channel", "list"], "").await;
    assert!(ok && out.contains("Half") && out.contains("warehouse"), "{out}");

    let server = TestServer::start(&db, &["serve"]).await;
    let token = tillbridge_tests::api_token(&db, "viewer").await;
    let stock: serde_json::Value = reqwest::Client::new()
        .get(server.url("/api/v1/stock?sku=TEE-0090-S-BLA"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let warehouse = stock["outlets"]
        .as_array()
        .expect("outlets")
        .iter()
        .find(|o| o["outlet"] == "warehouse")
        .expect("warehouse")["on_hand"]
        .as_i64()
        .expect("figure");
    let half = stock["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .find(|c| c["channel"] == "Half")
        .expect("channel")["syncable_balance"]
        .as_i64();
    assert_eq!(half, Some((warehouse.max(0) * 50 / 100).min(10)), "{stock}");
    server.stop().await;
}

#[tokio::test]
async fn a_product_is_deleted_from_the_command_line_by_sku_or_by_handle() {
    let db = Database::sqlite();
    let (ok, _, err) = cli(&db, &["demo"], "").await;
    assert!(ok, "{err}");
    let storage = db.storage().await;
    let product = |id: i64| {
        let storage = &storage;
        async move {
            storage
                .get_product(sync_core::domain::ProductId::new(id))
                .await
                .expect("read")
        }
    };
    let first = product(1).await.expect("product 1");
    let second = product(2).await.expect("product 2");
    let sku = first.variants[1].sku.clone();

    let (ok, out, err) = cli(&db, &["product", "delete", "--sku", &sku], "").await;
    assert!(ok, "{err}");
    assert!(
        out.contains("Deleted") && out.contains(&first.name) && out.contains(&first.handle),
        "{out}"
    );
    assert!(product(1).await.is_none(), "gone");
    let (ok, _, err) = cli(&db, &["product", "delete", "--sku", &sku], "").await;
    assert!(!ok && err.contains("deleted already"), "{err}");
    let (ok, _, err) = cli(&db, &["product", "delete", "--handle", &first.handle], "").await;
    assert!(!ok && err.contains("deleted already"), "{err}");

    // A handle given as a SKU, and a SKU as a handle, say which to use.
    let (ok, _, err) = cli(&db, &["product", "delete", "--sku", &second.handle], "").await;
    assert!(!ok && err.contains(&format!("--handle {}", second.handle)), "{err}");
    let second_sku = second.variants[0].sku.clone();
    let (ok, _, err) = cli(&db, &["product", "delete", "--handle", &second_sku], "").await;
    assert!(!ok && err.contains(&format!("--sku {second_sku}")), "{err}");
    let (ok, _, err) = cli(&db, &["product", "delete", "--sku", "NO-SUCH-SKU"], "").await;
    assert!(
        !ok && err.starts_with("error: no product has the SKU NO-SUCH-SKU"),
        "{err}"
    );
    let (ok, _, err) = cli(&db, &["product", "delete", "--sku", "HAS SPACE"], "").await;
    assert!(!ok && err.contains("--sku"), "{err}");
    let (ok, _, _) = cli(&db, &["product", "delete"], "").await;
    assert!(!ok, "a product must be named");
    let (ok, _, _) = cli(
        &db,
        &["product", "delete", "--sku", &second_sku, "--handle", &second.handle],
        "",
    )
    .await;
    assert!(!ok, "by one or the other");
    assert!(product(2).await.is_some(), "nothing deleted by mistake");

    let (ok, out, err) = cli(&db, &["product", "delete", "--handle", &second.handle], "").await;
    assert!(ok && out.contains(&second.name), "{err}");
    assert!(product(2).await.is_none());
    storage.close().await;
}
