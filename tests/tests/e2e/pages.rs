use tillbridge_tests::{DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, browser_like_client, cli, sign_in};

#[tokio::test]
async fn pages_and_server_functions_need_a_signed_in_user() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    let page = client.get(server.url("/products/1")).send().await.expect("request");
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=/products/1");
    let call = client
        .post(server.url("/api/set_auto_sync"))
        .header("accept", "application/json")
        .form(&[("product_id", "1"), ("enabled", "true")])
        .send()
        .await
        .expect("request");
    assert_eq!(call.status(), 401);
    let list = client
        .get(server.url("/api/list_products"))
        .send()
        .await
        .expect("request");
    assert_eq!(list.status(), 401);

    let login = client
        .get(server.url("/login"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    assert!(login.contains(r#"<label for="email">Email</label>"#));
    assert!(login.contains(r#"<label for="password">Password</label>"#));
    assert!(
        login.contains(DEMO_EMAIL) && login.contains(DEMO_PASSWORD),
        "the demo account is hinted"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_right_one_opens_the_products_table() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    let wrong = client
        .post(server.url("/login"))
        .form(&[("email", DEMO_EMAIL), ("password", "tillbridge-dem0")])
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.expect("html");
    assert!(html.contains("Wrong email or password."));
    assert!(html.contains(&format!(r#"value="{DEMO_EMAIL}""#)), "the email is kept");

    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let html = client
        .get(server.url("/products"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    assert!(html.contains("index-table"));
    assert_eq!(
        html.matches("role=\"switch\"").count(),
        50,
        "one Auto Sync switch per row, 50 rows a page"
    );
    assert!(html.contains("rel=\"next\""), "a next page link");

    let search = client
        .get(server.url("/products?q=sock"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    let rows = search.matches("data-product-id=").count();
    assert!(rows > 0 && search.contains("Sock"), "search finds socks");
    assert!(!search.contains(">Hoodie<"), "and only socks");

    let signed_out = client.post(server.url("/logout")).send().await.expect("request");
    assert_eq!(signed_out.status(), 303);
    assert_eq!(
        client
            .get(server.url("/products"))
            .send()
            .await
            .expect("request")
            .status(),
        303
    );
    server.stop().await;
}

#[tokio::test]
async fn a_viewer_can_read_but_the_auto_sync_server_function_refuses_them() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "viewer@shop.test", "--role", "viewer"],
        "viewer-password\n",
    )
    .await;
    assert!(ok, "{err}");
    let client = browser_like_client();
    sign_in(&server, &client, "viewer@shop.test", "viewer-password").await;
    let html = client
        .get(server.url("/products/1"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Variants and stock") && html.contains("Downtown"));

    let refused = client
        .post(server.url("/api/set_auto_sync"))
        .header("accept", "application/json")
        .form(&[("product_id", "1"), ("enabled", "true")])
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.expect("body");
    assert!(body.contains("can view but not change"), "{body}");
    let html = client
        .get(server.url("/products/1"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    assert!(html.contains(r#"aria-checked="false""#), "nothing changed");
    server.stop().await;
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let forged = client
        .post(server.url("/api/set_auto_sync"))
        .header("origin", "https://evil.example")
        .form(&[("product_id", "1"), ("enabled", "true")])
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), 403);
    let html = client
        .get(server.url("/products/1"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains(r#"aria-checked="false""#),
        "the forged request changed nothing"
    );
    server.stop().await;
}

#[tokio::test]
async fn sessions_survive_a_restart_because_they_live_in_the_database() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let base = server.base.clone();
    server.stop().await;
    let server = TestServer::start(&db, &["serve"]).await;
    // The cookie jar is keyed by host; the new server listens on a new port of the same host.
    assert_ne!(server.base, base);
    let page = client.get(server.url("/products")).send().await.expect("request");
    assert_eq!(page.status(), 200, "still signed in after the restart");
    server.stop().await;
}

#[tokio::test]
async fn the_sign_in_cookie_is_http_only_and_same_site() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let response = browser_like_client()
        .post(server.url("/login"))
        .form(&[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .expect("request");
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.starts_with("tillbridge_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_server_function_and_form_refuses_a_caller_without_a_session() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    for (path, post) in [
        ("/api/current_user", false),
        ("/api/list_products", false),
        ("/api/get_product?id=1", false),
        ("/api/list_history", false),
        ("/api/get_run?id=1", false),
        ("/api/list_conflicts", false),
        ("/api/list_channels", false),
        ("/api/get_channel_settings?id=1", false),
        ("/api/set_auto_sync", true),
        ("/api/adjust_stock", true),
        ("/api/resolve_conflict", true),
    ] {
        let request = if post {
            client.post(server.url(path)).form(&[("id", "1")])
        } else {
            client.get(server.url(path))
        };
        let status = request
            .header("accept", "application/json")
            .send()
            .await
            .expect("sent")
            .status();
        assert_eq!(status, 401, "{path} without a session");
    }
    for path in ["bulk_products", "save_channel_settings"] {
        let response = tillbridge_tests::form_post(&client, &server, path)
            .form(&[("action", "activate"), ("ids[]", "1"), ("id", "1")])
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 303, "{path}");
        assert!(
            response.headers()["location"]
                .to_str()
                .unwrap_or_default()
                .starts_with("/login"),
            "{path} sends to sign-in"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_form_input_gets_a_clear_error_and_writes_nothing() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    let product = storage
        .get_product(sync_core::domain::ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    let sku = product.variants[0].sku.clone();
    let adjust = |amount: &'static str, outlet: &'static str, reason: &'static str| {
        client
            .post(server.url("/api/adjust_stock"))
            .header("accept", "application/json")
            .form(&[
                ("sku", sku.as_str()),
                ("outlet", outlet),
                ("mode", "delta"),
                ("amount", amount),
                ("reason", reason),
                ("note", ""),
            ])
            .send()
    };
    for (amount, outlet, reason, needle) in [
        ("abc", "downtown", "manual_adjustment", "not a whole number"),
        ("0", "downtown", "manual_adjustment", "a delta of 0"),
        ("5", "mars", "manual_adjustment", "unknown outlet"),
        ("5", "downtown", "theft", "not a reason"),
        ("1e3", "downtown", "manual_adjustment", "not a whole number"),
    ] {
        let response = adjust(amount, outlet, reason).await.expect("sent");
        assert_eq!(response.status(), 422, "{amount} {outlet} {reason}");
        let body = response.text().await.expect("body");
        assert!(body.contains(needle), "{needle:?} not in {body}");
    }
    let after = storage
        .get_product(sync_core::domain::ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    assert_eq!(after.variants[0].stock, product.variants[0].stock, "nothing written");
    let bad_bulk = tillbridge_tests::form_post(&client, &server, "bulk_products")
        .form(&[
            ("action", "delete_everything"),
            ("ids[]", "1"),
            ("return_to", "/products"),
        ])
        .send()
        .await
        .expect("sent");
    let location = bad_bulk.headers()["location"].to_str().unwrap_or_default().to_owned();
    assert!(
        location.contains("notice_error=1") && location.contains("not+a+bulk+action"),
        "{location}"
    );
    let bad_settings = tillbridge_tests::form_post(&client, &server, "save_channel_settings")
        .form(&[("id", "1"), ("outlets[]", "1"), ("safety_buffer", "-3")])
        .send()
        .await
        .expect("sent");
    let location = bad_settings.headers()["location"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        location.contains("notice_error=1") && location.contains("negative"),
        "{location}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_product_form_saves_every_field_or_names_the_one_at_fault() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    let before = storage
        .get_product(sync_core::domain::ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    let v = before.variants[0].id;
    let form = |price: &'static str, barcode: &'static str| {
        vec![
            ("name".to_owned(), "Renamed Sock".to_owned()),
            ("brand".to_owned(), "Salt Road".to_owned()),
            ("category".to_owned(), "Socks".to_owned()),
            ("description".to_owned(), "Warm.".to_owned()),
            ("active".to_owned(), "on".to_owned()),
            ("supplier_price".to_owned(), "4.10".to_owned()),
            ("reorder_point".to_owned(), "3".to_owned()),
            ("tags".to_owned(), "winter".to_owned()),
            ("id".to_owned(), "1".to_owned()),
            ("variants[0][id]".to_owned(), v.to_string()),
            ("variants[0][price]".to_owned(), price.to_owned()),
            ("variants[0][barcode]".to_owned(), barcode.to_owned()),
            ("variants[0][weight]".to_owned(), "90".to_owned()),
        ]
        .into_iter()
        .chain(before.variants.iter().enumerate().skip(1).flat_map(|(i, o)| {
            let price = format!("{}.{:02}", o.price_minor / 100, o.price_minor % 100);
            [
                (format!("variants[{i}][id]"), o.id.to_string()),
                (format!("variants[{i}][price]"), price),
                (format!("variants[{i}][barcode]"), o.barcode.clone().unwrap_or_default()),
            ]
        }))
        .collect::<Vec<_>>()
    };
    let post = |fields: Vec<(String, String)>| {
        tillbridge_tests::form_post(&client, &server, "save_product")
            .form(&fields)
            .send()
    };
    for (price, barcode, needle) in [("12.999", "", "price+of"), ("12.50", "12345", "barcode+of")] {
        let response = post(form(price, barcode)).await.expect("sent");
        let location = response.headers()["location"].to_str().unwrap_or_default().to_owned();
        assert!(
            location.contains("notice_error=1") && location.contains(needle),
            "{location}"
        );
    }
    let untouched = storage
        .get_product(sync_core::domain::ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    assert_eq!(untouched.name, before.name, "a refused form writes nothing");
    let response = post(form("12.50", "9400000010015")).await.expect("sent");
    let location = response.headers()["location"].to_str().unwrap_or_default().to_owned();
    assert!(location.contains("Product+saved"), "{location}");
    let after = storage
        .get_product(sync_core::domain::ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1");
    assert_eq!(
        (after.name.as_str(), after.brand.as_str(), after.tags.as_str()),
        ("Renamed Sock", "Salt Road", "winter")
    );
    assert_eq!(
        (after.variants[0].price_minor, after.variants[0].barcode.as_deref()),
        (1250, Some("9400000010015"))
    );
    assert_eq!(
        (
            after.supplier_price_minor,
            after.reorder_point,
            after.variants[0].weight_grams
        ),
        (Some(410), Some(3), Some(90))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_products_table_sorts_by_stock_and_names_a_bad_sort() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let html = client
        .get(server.url("/products?sort=stock"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    let totals: Vec<i64> = html
        .split(r#"<td class="num">"#)
        .skip(1)
        .filter_map(|cell| cell.split('<').next().and_then(|n| n.parse().ok()))
        .collect();
    assert_eq!(totals.len(), 50, "one total per row");
    assert!(
        html.contains("Syncable stock in this channel") && html.contains(">Sandbox store</th>"),
        "a column per channel"
    );
    assert_eq!(html.matches("channel-cell").count(), 50, "one Sandbox cell per row");
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "most stock first: {totals:?}");
    assert!(
        html.contains("sort=stock&amp;after=") || html.contains("sort=stock&after="),
        "the next page keeps the sort"
    );
    let bad = client
        .get(server.url("/products?sort=price"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    assert!(
        bad.contains("not a sort; use name, updated or stock"),
        "the bad parameter is named"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_sync_button_starts_one_run_and_a_second_click_says_it_is_running() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    tillbridge_tests::wait_for_startup_pulls(&db).await;
    let click = || {
        tillbridge_tests::form_post(&client, &server, "start_sync")
            .form(&[("channel", "1"), ("kind", "force")])
            .send()
    };
    let (a, b) = tokio::join!(click(), click());
    let notices: Vec<String> = [a, b]
        .into_iter()
        .map(|r| {
            r.expect("sent").headers()["location"]
                .to_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        notices
            .iter()
            .filter(|n| n.contains("Force+sync+of+Sandbox+store+started"))
            .count(),
        1,
        "{notices:?}"
    );
    assert_eq!(
        notices.iter().filter(|n| n.contains("already+running")).count(),
        1,
        "{notices:?}"
    );
    // Once the button's run is over, Sync All may start it again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let all = tillbridge_tests::form_post(&client, &server, "start_sync")
            .send()
            .await
            .expect("sent");
        let location = all.headers()["location"].to_str().unwrap_or_default().to_owned();
        if !location.contains("already+running") {
            assert!(location.contains("Sync+All+started+for+1+channel%3B"), "{location}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the button's sync never finished");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let storage = db.storage().await;
    let runs = storage.recent_runs(None, 100).await.expect("runs");
    assert!(
        runs.iter()
            .any(|r| r.kind.as_str() == "force" && r.trigger.as_str() == "button"),
        "the run is in the Sync History"
    );
    server.stop().await;
}

/// The product form as the page posts it: every variant's row (with its
/// SKU), `extra` fields on top.
fn product_form(product: &sync_core::storage::ProductDetail, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = vec![
        ("id".into(), product.id.to_string()),
        ("name".into(), product.name.clone()),
        ("active".into(), "on".into()),
        ("sku_shown".into(), "1".into()),
    ];
    for (i, v) in product.variants.iter().enumerate() {
        form.extend([
            (format!("variants[{i}][id]"), v.id.to_string()),
            (format!("variants[{i}][sku]"), v.sku.clone()),
            (
                format!("variants[{i}][price]"),
                format!("{}.{:02}", v.price_minor / 100, v.price_minor % 100),
            ),
            (format!("variants[{i}][barcode]"), v.barcode.clone().unwrap_or_default()),
        ]);
    }
    for (k, v) in extra {
        match form.iter_mut().find(|(key, _)| key == k) {
            Some(field) => field.1 = (*v).to_owned(),
            None => form.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    form
}

#[tokio::test]
async fn the_product_form_renames_skus_removes_variants_once_confirmed_and_orders_images() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    let page = storage
        .list_products(&sync_core::storage::ProductFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("products");
    let product = page
        .items
        .iter()
        .find(|p| p.variants.len() >= 2)
        .expect("a product with two variants")
        .clone();
    let other = page.items.iter().find(|p| p.id != product.id).expect("another product");
    let post = |form: Vec<(String, String)>| {
        let client = client.clone();
        let request = tillbridge_tests::form_post(&client, &server, "save_product").form(&form);
        async move { tillbridge_tests::location(&request.send().await.expect("sent")) }
    };
    let refused = |to: &str, field: &str, needle: &str| {
        assert!(to.contains(&format!("error_field={field}")), "{field}: {to}");
        assert!(
            tillbridge_tests::notice(to).contains(needle),
            "{needle:?} not in {:?}",
            tillbridge_tests::notice(to)
        );
    };
    let (v0, v1) = (&product.variants[0], &product.variants[1]);
    let remove_second = "variants[1][remove]";
    let remove_keys: Vec<String> = (0..product.variants.len())
        .map(|i| format!("variants[{i}][remove]"))
        .collect();
    let remove_all: Vec<(&str, &str)> = remove_keys
        .iter()
        .map(|k| (k.as_str(), "on"))
        .chain([("confirm_remove", "on")])
        .collect();
    for (extra, field, needle) in [
        (vec![("variants[0][sku]", "two words")], "sku", "cannot contain"),
        (vec![("variants[0][sku]", "")], "sku", "cannot be empty"),
        (
            vec![("variants[0][sku]", other.variants[0].sku.as_str())],
            "sku",
            "belongs to another product",
        ),
        (
            vec![("variants[0][sku]", v1.sku.as_str())],
            "sku",
            "two variants cannot share",
        ),
        (
            vec![(remove_second, "on")],
            "confirm_remove",
            "every channel that lists them",
        ),
        (remove_all, "remove", "keeps at least one variant"),
        (
            vec![
                ("images[0][url]", "ftp://cdn.example/a.jpg"),
                ("images[0][position]", "1"),
            ],
            "images",
            "is not an address",
        ),
    ] {
        let to = post(product_form(&product, &extra)).await;
        refused(&to, field, needle);
    }
    let untouched = storage.get_product(product.id).await.expect("read").expect("product");
    assert_eq!(untouched, product, "a refused form writes nothing");

    let renamed = format!("{}-NEW", v0.sku);
    let to = post(product_form(
        &product,
        &[
            ("variants[0][sku]", renamed.as_str()),
            (remove_second, "on"),
            ("confirm_remove", "on"),
            ("images[0][url]", "https://cdn.example/back.jpg"),
            ("images[0][alt]", "Back"),
            ("images[0][position]", "2"),
            ("images[1][url]", "https://cdn.example/front.jpg"),
            ("images[1][alt]", "Front"),
            ("images[1][position]", "1"),
            ("images[2][url]", ""),
            ("images[2][position]", "3"),
        ],
    ))
    .await;
    assert!(tillbridge_tests::notice(&to).starts_with("Product saved"), "{to}");
    let after = storage.get_product(product.id).await.expect("read").expect("product");
    assert_eq!(after.variants[0].id, v0.id, "the same variant, renamed");
    assert_eq!(after.variants[0].sku, renamed);
    assert!(
        !after.variants.iter().any(|v| v.id == v1.id),
        "the second variant is gone"
    );
    assert_eq!(after.variants.len(), product.variants.len() - 1);
    let images: Vec<(&str, &str)> = after.images.iter().map(|i| (i.url.as_str(), i.alt.as_str())).collect();
    assert_eq!(
        images,
        [
            ("https://cdn.example/front.jpg", "Front"),
            ("https://cdn.example/back.jpg", "Back")
        ]
    );
    // Remove one, keep the other: the images follow the rows.
    let to = post(product_form(
        &after,
        &[
            ("images[0][url]", "https://cdn.example/front.jpg"),
            ("images[0][remove]", "on"),
            ("images[1][url]", "https://cdn.example/back.jpg"),
            ("images[1][alt]", "Back, again"),
        ],
    ))
    .await;
    assert!(tillbridge_tests::notice(&to).starts_with("Product saved"), "{to}");
    let last = storage.get_product(product.id).await.expect("read").expect("product");
    let images: Vec<(&str, &str)> = last.images.iter().map(|i| (i.url.as_str(), i.alt.as_str())).collect();
    assert_eq!(images, [("https://cdn.example/back.jpg", "Back, again")]);
    // The page shows the form's new fields.
    let html = client
        .get(server.url(&format!("/products/{}", product.id)))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(html.contains(&format!(r#"value="{renamed}""#)), "the SKU is editable");
    assert!(html.contains("https://cdn.example/back.jpg") && html.contains(r#"id="confirm-remove""#));
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_product_needs_its_confirmation_and_a_viewer_cannot() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "viewer@shop.test", "--role", "viewer"],
        "viewer-password\n",
    )
    .await;
    assert!(ok, "{err}");
    let storage = db.storage().await;
    let product = storage
        .get_product(sync_core::domain::ProductId::new(2))
        .await
        .expect("read")
        .expect("product 2");
    let delete = |client: &reqwest::Client, confirm: Option<&'static str>| {
        let mut form = vec![("id", "2")];
        form.extend(confirm.map(|c| ("confirm", c)));
        tillbridge_tests::form_post(client, &server, "delete_product")
            .form(&form)
            .send()
    };
    let viewer = browser_like_client();
    sign_in(&server, &viewer, "viewer@shop.test", "viewer-password").await;
    let page = viewer
        .get(server.url("/products/2?delete=1"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(
        !page.contains(r#"id="delete-product""#) && !page.contains(r#"id="delete-confirmation""#),
        "a viewer is offered no deletion"
    );
    let to = tillbridge_tests::location(&delete(&viewer, Some("on")).await.expect("sent"));
    assert!(
        tillbridge_tests::notice(&to).contains("can view but not change"),
        "{to}"
    );

    let owner = browser_like_client();
    sign_in(&server, &owner, DEMO_EMAIL, DEMO_PASSWORD).await;
    let page = owner
        .get(server.url("/products/2?delete=1"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("page");
    assert!(
        page.contains(&format!("Delete {}?", product.name)),
        "the confirmation names it"
    );
    let to = tillbridge_tests::location(&delete(&owner, None).await.expect("sent"));
    assert!(
        to.starts_with("/products/2?") && to.contains("delete=1") && to.contains("error_field=confirm"),
        "{to}"
    );
    assert!(
        storage.get_product(product.id).await.expect("read").is_some(),
        "not deleted"
    );

    let to = tillbridge_tests::location(&delete(&owner, Some("on")).await.expect("sent"));
    assert_eq!(to.split('?').next(), Some("/products"));
    assert_eq!(
        tillbridge_tests::notice(&to),
        format!("Deleted {}; the channels that list it delete it too", product.name)
    );
    assert!(storage.get_product(product.id).await.expect("read").is_none());
    let gone = owner.get(server.url("/products/2")).send().await.expect("sent");
    assert_eq!(gone.status(), 410);
    assert!(gone.text().await.expect("page").contains("This product was deleted"));
    let missing = owner.get(server.url("/products/99999")).send().await.expect("sent");
    assert_eq!(missing.status(), 404);
    // Deleting it again finds nothing to delete.
    let to = tillbridge_tests::location(&delete(&owner, Some("on")).await.expect("sent"));
    assert!(to.contains("notice_error=1"), "{to}");
    server.stop().await;
}
