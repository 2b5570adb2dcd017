//! The dashboard in headless Chromium: sign in through the form, wait for
//! hydration, turn Auto Sync on for a product, reload, see it still on.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tillbridge_tests::{DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, cli, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

async fn start_browser(profile: &std::path::Path) -> (tokio::process::Child, Client) {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(tool).exists(),
            "{tool} is missing: install Debian's chromium and chromium-driver (scripts/test does)"
        );
    }
    let port = free_port();
    let driver = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let mut ready = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "chromedriver did not listen on port {port}");
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1000",
    ];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("open a Chromium session");
    (driver, client)
}

async fn wait_for_hydration(c: &Client) -> Result<(), fantoccini::error::CmdError> {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(r#".frame[data-hydrated="true"]"#))
        .await
        .map(|_| ())
}

/// What the browser saw, for the report.
#[derive(Debug)]
struct Seen {
    product: String,
    toast: String,
}

async fn turn_auto_sync_on_and_reload(c: &Client, server: &TestServer) -> Result<Seen, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    c.goto(&server.url("/products")).await.map_err(e("open /products"))?;
    let url = c.current_url().await.map_err(e("read url"))?;
    if !url.path().starts_with("/login") {
        return Err(format!("expected the sign-in page, got {url}"));
    }
    c.find(Locator::Css("#email"))
        .await
        .map_err(e("email field"))?
        .send_keys(DEMO_EMAIL)
        .await
        .map_err(e("type email"))?;
    c.find(Locator::Css("#password"))
        .await
        .map_err(e("password field"))?
        .send_keys(DEMO_PASSWORD)
        .await
        .map_err(e("type password"))?;
    c.find(Locator::Css("button[type=submit]"))
        .await
        .map_err(e("sign-in button"))?
        .click()
        .await
        .map_err(e("click sign in"))?;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("table.index-table"))
        .await
        .map_err(e("products table"))?;
    wait_for_hydration(c).await.map_err(e("the page never hydrated"))?;

    let row = c
        .find(Locator::Css("tbody tr[data-product-id]"))
        .await
        .map_err(e("first row"))?;
    let id = row
        .attr("data-product-id")
        .await
        .map_err(e("row id"))?
        .ok_or("row without id")?;
    let product = row
        .find(Locator::Css("td a"))
        .await
        .map_err(e("name link"))?
        .text()
        .await
        .map_err(e("name"))?;
    let switch = format!(r#"tr[data-product-id="{id}"] button[role="switch"]"#);
    let before = c
        .find(Locator::Css(&switch))
        .await
        .map_err(e("switch"))?
        .attr("aria-checked")
        .await
        .map_err(e("state"))?;
    if before.as_deref() != Some("false") {
        return Err(format!("Auto Sync should start off for {product}, was {before:?}"));
    }
    c.find(Locator::Css(&switch))
        .await
        .map_err(e("switch"))?
        .click()
        .await
        .map_err(e("click switch"))?;
    let on = format!(r#"{switch}[aria-checked="true"]"#);
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(&on))
        .await
        .map_err(e("switch never turned on"))?;
    let toast = toast_text(c).await?;
    // Turning it on queues one push per variant for the Sandbox store.
    let queued = toast
        .strip_prefix(&format!("Auto Sync turned on for {product}; "))
        .unwrap_or_default();
    if !(queued.ends_with("quantities queued") || queued == "1 quantity queued") {
        return Err(format!("unexpected toast {toast:?}"));
    }
    let url = c.current_url().await.map_err(e("read url"))?;
    if url.path() != "/products" {
        return Err(format!("the switch should not navigate away, but went to {url}"));
    }

    // `TILLBRIDGE_SCREENSHOT=path.png` keeps a picture of the page (the README's).
    if let Ok(path) = std::env::var("TILLBRIDGE_SCREENSHOT") {
        let png = c.screenshot().await.map_err(e("screenshot"))?;
        std::fs::write(&path, png).map_err(|err| format!("cannot write {path}: {err}"))?;
    }
    c.refresh().await.map_err(e("reload"))?;
    wait_for_hydration(c)
        .await
        .map_err(e("the reloaded page never hydrated"))?;
    let after = c
        .find(Locator::Css(&switch))
        .await
        .map_err(e("switch after reload"))?
        .attr("aria-checked")
        .await
        .map_err(e("state"))?;
    if after.as_deref() != Some("true") {
        return Err(format!(
            "after a reload Auto Sync for {product} is {after:?}, expected on"
        ));
    }
    Ok(Seen { product, toast })
}

#[tokio::test]
async fn signing_in_and_turning_auto_sync_on_survives_a_reload() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = turn_auto_sync_on_and_reload(&client, &server).await;
    // Close before asserting, or a failure leaves Chromium running.
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    eprintln!(
        "browser saw: product {:?}, toast {:?}, switch on after reload",
        seen.product, seen.toast
    );
    server.stop().await;
}

/// The text of the confirmation toast, waiting for it to appear.
async fn toast_text(c: &Client) -> Result<String, String> {
    let toast = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".toasts .toast"))
        .await
        .map_err(|e| format!("no confirmation toast: {e}"))?;
    toast.text().await.map_err(|e| format!("toast text: {e}"))
}

/// Where browser tests keep their screenshots (target/screenshots).
fn screenshot_dir() -> std::path::PathBuf {
    let dir = tillbridge_tests::workspace_root().join("target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

async fn screenshot(c: &Client, name: &str) -> Result<(), String> {
    let png = c.screenshot().await.map_err(|e| format!("screenshot: {e}"))?;
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

async fn sign_in_as(c: &Client, server: &TestServer, email: &str, password: &str, page: &str) -> Result<(), String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    c.goto(&server.url(page)).await.map_err(e("open page"))?;
    c.find(Locator::Css("#email"))
        .await
        .map_err(e("email field"))?
        .send_keys(email)
        .await
        .map_err(e("type email"))?;
    c.find(Locator::Css("#password"))
        .await
        .map_err(e("password field"))?
        .send_keys(password)
        .await
        .map_err(e("type password"))?;
    c.find(Locator::Css("button[type=submit]"))
        .await
        .map_err(e("sign-in button"))?
        .click()
        .await
        .map_err(e("click sign in"))?;
    wait_for_hydration(c).await.map_err(e("the page never hydrated"))
}

async fn switches_on(c: &Client) -> Result<usize, String> {
    Ok(
        c.find_all(Locator::Css(r#"tbody button[role="switch"][aria-checked="true"]"#))
            .await
            .map_err(|e| e.to_string())?
            .len(),
    )
}

async fn bulk_flows(c: &Client, server: &TestServer, db: &Database) -> Result<String, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    // Page 1 of the products whose Auto Sync is off: select the page, turn it on.
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products?auto_sync=off").await?;
    c.find(Locator::Css("#select-page"))
        .await
        .map_err(e("header checkbox"))?
        .click()
        .await
        .map_err(e("select page"))?;
    let summary = c
        .find(Locator::Css("#selection-summary"))
        .await
        .map_err(e("summary"))?
        .text()
        .await
        .map_err(e("text"))?;
    if summary != "50 selected" {
        return Err(format!("after ticking the header: {summary:?}"));
    }
    c.find(Locator::Css("#bulk-apply"))
        .await
        .map_err(e("apply"))?
        .click()
        .await
        .map_err(e("click apply"))?;
    let found = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".toasts .toast"))
        .await;
    if found.is_err() {
        let url = c.current_url().await.map_err(e("url"))?;
        let _ = screenshot(c, "products-bulk-failed").await;
        return Err(format!("no toast after the bulk action; at {url}"));
    }
    let toast = found
        .map_err(e("no toast after the bulk action"))?
        .text()
        .await
        .map_err(e("toast"))?;
    // "…; N quantities queued": the outbox was filled in the same transaction.
    if !toast.starts_with("Auto Sync turned on for 50 products;") || !toast.ends_with("quantities queued") {
        return Err(format!("unexpected toast {toast:?}"));
    }
    screenshot(c, "products-bulk-toast").await?;
    // The view stays filtered on "off": the 50 rows left it.
    let storage = db.storage().await;
    let on = storage
        .count_products(&sync_core::storage::ProductFilter {
            auto_sync: Some(true),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;

    // Select all matching a filter across pages: one brand, then turn Auto Sync off for it.
    c.goto(&server.url("/products?brand=Tidewater"))
        .await
        .map_err(e("open the brand"))?;
    wait_for_hydration(c).await.map_err(e("hydration"))?;
    c.find(Locator::Css("#select-page"))
        .await
        .map_err(e("header checkbox"))?
        .click()
        .await
        .map_err(e("select page"))?;
    let all = c
        .find(Locator::Css("#select-all-matching"))
        .await
        .map_err(e("select all matching button"))?;
    let label = all.text().await.map_err(e("label"))?;
    all.click().await.map_err(e("select all matching"))?;
    c.find(Locator::Css("select[name=action] option[value=auto_sync_off]"))
        .await
        .map_err(e("menu"))?
        .click()
        .await
        .map_err(e("choose"))?;
    c.find(Locator::Css("#bulk-apply"))
        .await
        .map_err(e("apply"))?
        .click()
        .await
        .map_err(e("click apply"))?;
    let toast = toast_text(c).await?;
    let hoodies = storage
        .count_products(&sync_core::storage::ProductFilter {
            brand: Some("Tidewater".into()),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let hoodies_on = storage
        .count_products(&sync_core::storage::ProductFilter {
            brand: Some("Tidewater".into()),
            auto_sync: Some(true),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    if toast != format!("Auto Sync turned off for {hoodies} products") || hoodies_on != 0 || hoodies <= 50 {
        return Err(format!(
            "{label:?} then {toast:?}: {hoodies_on} of {hoodies} Tidewater products still on"
        ));
    }
    if switches_on(c).await? != 0 {
        return Err("the brand's page still shows switches on".into());
    }
    screenshot(c, "products-all-matching").await?;
    storage.close().await;
    Ok(format!(
        "{toast:?} after {label:?}; {on} products had Auto Sync on after the page's bulk action"
    ))
}

#[tokio::test]
async fn bulk_actions_on_a_page_and_on_everything_matching_a_filter() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = bulk_flows(&client, &server, &db).await;
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    eprintln!("bulk actions: {seen}");
    server.stop().await;
}

async fn viewer_flow(c: &Client, server: &TestServer) -> Result<(), String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    sign_in_as(c, server, "viewer@shop.test", "viewer-password", "/products").await?;
    let enabled_switches = c
        .find_all(Locator::Css(r#"tbody button[role="switch"]:not([disabled])"#))
        .await
        .map_err(e("switches"))?
        .len();
    let apply_disabled = c
        .find(Locator::Css("#bulk-apply"))
        .await
        .map_err(e("apply"))?
        .attr("disabled")
        .await
        .map_err(e("attr"))?;
    screenshot(c, "products-viewer").await?;
    if enabled_switches != 0 || apply_disabled.is_none() {
        return Err(format!(
            "a viewer sees {enabled_switches} enabled switches; Apply disabled: {apply_disabled:?}"
        ));
    }
    Ok(())
}

#[tokio::test]
async fn a_viewer_sees_no_enabled_action() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (ok, _, err) = tillbridge_tests::cli(
        &db,
        &["user", "add", "--email", "viewer@shop.test", "--role", "viewer"],
        "viewer-password\n",
    )
    .await;
    assert!(ok, "{err}");
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = viewer_flow(&client, &server).await;
    let _ = client.close().await;
    outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    server.stop().await;
}

async fn adjust_flow(c: &Client, server: &TestServer) -> Result<String, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    // Product 3 is one of the demo's Auto Sync products, listed in the Sandbox store.
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products/3").await?;
    let cell = r#"#channel-stock tbody tr:first-child td:nth-child(4)"#;
    let in_channel = |c: &Client| {
        let c = c.clone();
        async move {
            c.find(Locator::Css(cell))
                .await
                .map_err(|e| e.to_string())?
                .text()
                .await
                .map_err(|e| e.to_string())
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while in_channel(c).await? == "not listed" {
        if std::time::Instant::now() > deadline {
            return Err("the product never appeared in the Sandbox store".into());
        }
        c.refresh().await.map_err(e("reload"))?;
        wait_for_hydration(c).await.map_err(e("hydration"))?;
    }
    let before = in_channel(c).await?;
    c.find(Locator::Css("#adjust-stock select[name=outlet] option[value=downtown]"))
        .await
        .map_err(e("outlet"))?
        .click()
        .await
        .map_err(e("pick outlet"))?;
    c.find(Locator::Css("#adjust-stock select[name=mode] option[value=count]"))
        .await
        .map_err(e("mode"))?
        .click()
        .await
        .map_err(e("pick count"))?;
    c.find(Locator::Css("#adjust-stock input[name=amount]"))
        .await
        .map_err(e("amount"))?
        .send_keys("250")
        .await
        .map_err(e("type"))?;
    c.find(Locator::Css("#adjust-stock button[type=submit]"))
        .await
        .map_err(e("save"))?
        .click()
        .await
        .map_err(e("click save"))?;
    let toast = toast_text(c).await?;
    if !toast.ends_with("→ 250") {
        return Err(format!("unexpected toast {toast:?}"));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut next_reload = std::time::Instant::now() + Duration::from_secs(4);
    loop {
        // The page re-reads once after an adjustment; on a busy machine the
        // push may come later, so look again as a merchant would.
        if std::time::Instant::now() > next_reload {
            c.refresh().await.map_err(e("reload"))?;
            wait_for_hydration(c).await.map_err(e("hydration"))?;
            next_reload = std::time::Instant::now() + Duration::from_secs(3);
        }
        // The table is re-rendered as figures arrive; a moment without it is not a failure.
        let balance_cell = "#channel-stock tbody tr:first-child td:nth-child(3) summary";
        let read = async {
            let now = in_channel(c).await.ok()?;
            let balance = c.find(Locator::Css(balance_cell)).await.ok()?.text().await.ok()?;
            Some((now, balance))
        };
        let (now, balance) = read.await.unwrap_or_default();
        if now != before && !now.is_empty() && now == balance {
            screenshot(c, "product-adjust-stock").await?;
            // The product's own Sync History shows the push (seed 003's path).
            // The page re-renders as figures arrive: read where the link points, then go there.
            let mut href = None;
            for _ in 0..5 {
                if let Ok(link) = c.find(Locator::Css("#product-history")).await
                    && let Ok(Some(h)) = link.attr("href").await
                {
                    href = Some(h);
                    break;
                }
            }
            if href.as_deref() != Some("/history?product=3") {
                return Err(format!("the product's Sync History link points to {href:?}"));
            }
            c.goto(&server.url("/history?product=3"))
                .await
                .map_err(e("open history"))?;
            c.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("#events tbody tr"))
                .await
                .map_err(e("no events"))?;
            let rows = c
                .find_all(Locator::Css("#events tbody tr"))
                .await
                .map_err(e("events"))?;
            let mut texts = Vec::new();
            for r in rows {
                texts.push(r.text().await.map_err(e("row"))?);
            }
            screenshot(c, "product-history").await?;
            if !texts.iter().any(|t| t.contains(&format!("{before} → {now}"))) {
                return Err(format!("the product's history lacks {before} → {now}: {texts:?}"));
            }
            return Ok(format!(
                "{toast:?}; the Sandbox store went from {before} to {now}, and the product's history shows it"
            ));
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "the Sandbox store still shows {now} (was {before}), balance {balance}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn adjusting_stock_on_a_product_page_moves_the_sandbox_store() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = adjust_flow(&client, &server).await;
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    eprintln!("product page: {seen}");
    server.stop().await;
}

async fn history_flow(c: &Client, server: &TestServer) -> Result<String, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    // The demo's first pushes to the Sandbox store are auto runs.
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/history").await?;
    c.find(Locator::Css("#history-filters select[name=kind] option[value=auto]"))
        .await
        .map_err(e("kind"))?
        .click()
        .await
        .map_err(e("pick"))?;
    c.find(Locator::Css(
        "#history-filters select[name=status] option[value=succeeded]",
    ))
    .await
    .map_err(e("status"))?
    .click()
    .await
    .map_err(e("pick"))?;
    c.find(Locator::Css("#history-filters button[type=submit]"))
        .await
        .map_err(e("filter"))?
        .click()
        .await
        .map_err(e("submit"))?;
    // A plain GET form: wait for the new page, with the filter in its URL.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.map_err(e("url"))?;
        if url.query().unwrap_or_default().contains("kind=auto") {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the filter is not in the URL: {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_hydration(c).await.map_err(e("hydration"))?;
    let rows = c.find_all(Locator::Css("#runs tbody tr")).await.map_err(e("rows"))?;
    let statuses = c
        .find_all(Locator::Css(r#"#runs tbody tr:not([data-status="succeeded"])"#))
        .await
        .map_err(e("rows"))?;
    if rows.is_empty() || !statuses.is_empty() {
        return Err(format!("{} runs listed, {} not succeeded", rows.len(), statuses.len()));
    }
    screenshot(c, "sync-history").await?;
    c.find(Locator::Css("#runs tbody tr:first-child td a"))
        .await
        .map_err(e("run link"))?
        .click()
        .await
        .map_err(e("open run"))?;
    let log = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#run-log pre"))
        .await
        .map_err(e("run log"))?;
    let log = log.text().await.map_err(e("log text"))?;
    let events = c
        .find_all(Locator::Css("#events tbody tr"))
        .await
        .map_err(e("events"))?
        .len();
    screenshot(c, "sync-run").await?;
    if !log.contains("pushed") || events == 0 {
        return Err(format!("run log {log:?} with {events} events"));
    }
    Ok(format!(
        "{} auto runs listed; a run's log says {log:?} over {events} item events",
        rows.len()
    ))
}

#[tokio::test]
async fn the_sync_history_filters_and_opens_a_run() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    // Wait for the demo's first pushes to finish.
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("channel");
    for _ in 0..100 {
        if storage.pending_pushes(channel.id).await.expect("count") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = history_flow(&client, &server).await;
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    eprintln!("sync history: {seen}");
    server.stop().await;
}

async fn conflict_flow(c: &Client, server: &TestServer) -> Result<String, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/conflicts").await?;
    let badge = c
        .find(Locator::Css("#conflict-count"))
        .await
        .map_err(e("badge"))?
        .text()
        .await
        .map_err(e("badge text"))?;
    if badge != "1" {
        return Err(format!("the navigation shows {badge:?} conflicts"));
    }
    let row = c
        .find(Locator::Css("#conflicts tbody tr"))
        .await
        .map_err(e("conflict row"))?
        .text()
        .await
        .map_err(e("row"))?;
    screenshot(c, "conflicts").await?;
    c.find(Locator::Css(r#"button[data-action="ignore"]"#))
        .await
        .map_err(e("ignore"))?
        .click()
        .await
        .map_err(e("click"))?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#no-conflicts"))
        .await
        .map_err(e("still listed"))?;
    c.refresh().await.map_err(e("reload"))?;
    wait_for_hydration(c).await.map_err(e("hydration"))?;
    if c.find(Locator::Css("#conflict-count")).await.is_ok() {
        return Err("the badge is still there after resolving".into());
    }
    Ok(row)
}

#[tokio::test]
async fn resolving_a_conflict_removes_it_and_records_who() {
    use sync_core::storage::{ConflictKind, NewConflict};
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("channel");
    let conflict = NewConflict {
        kind: ConflictKind::ChangedInChannel,
        product_id: None,
        variant_id: None,
        sku: Some("TEE-0090-S-BLA".into()),
        external_id: None,
        ours: "12".into(),
        theirs: "9".into(),
        detail: "the channel's quantity moved from 12 to 9".into(),
    };
    storage.open_conflict(channel.id, &conflict).await.expect("conflict");
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = conflict_flow(&client, &server).await;
    let _ = client.close().await;
    let row = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    assert!(
        row.contains("TEE-0090-S-BLA") && row.contains("12") && row.contains("9"),
        "both sides shown: {row}"
    );
    let recorded = storage
        .recent_events(Some(channel.id), None, 100_000)
        .await
        .expect("events");
    assert!(
        recorded
            .iter()
            .any(|e| e.action == "conflict" && e.after_value.as_deref() == Some("ignore")),
        "the resolution is in the Sync History"
    );
    server.stop().await;
}

async fn channel_settings_flow(c: &Client, server: &TestServer) -> Result<String, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/channels").await?;
    let outlets = c
        .find(Locator::Css("#channels tbody tr td:nth-child(3)"))
        .await
        .map_err(e("outlets cell"))?
        .text()
        .await
        .map_err(e("text"))?;
    screenshot(c, "channels").await?;
    c.find(Locator::Css("#channels tbody tr td a"))
        .await
        .map_err(e("settings link"))?
        .click()
        .await
        .map_err(e("open settings"))?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#channel-settings"))
        .await
        .map_err(e("settings form"))?;
    wait_for_hydration(c).await.map_err(e("hydration"))?;
    // The live status polls the channel once the page has hydrated.
    let live = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#pending-pushes"))
        .await
        .map_err(e("no live status"))?
        .text()
        .await
        .map_err(e("live status"))?;
    if !live.ends_with("pushes pending") {
        return Err(format!("live status reads {live:?}"));
    }
    // Untick every outlet but the order outlet (Downtown), tick nothing new.
    for checkbox in c
        .find_all(Locator::Css(r#"#channel-settings input[name="outlets[]"]:checked"#))
        .await
        .map_err(e("boxes"))?
    {
        let label = checkbox
            .find(Locator::XPath(".."))
            .await
            .map_err(e("label"))?
            .text()
            .await
            .map_err(e("label text"))?;
        if !label.starts_with("Downtown") {
            checkbox.click().await.map_err(e("untick"))?;
        }
    }
    c.find(Locator::Css("#channel-settings button[type=submit]"))
        .await
        .map_err(e("save"))?
        .click()
        .await
        .map_err(e("click save"))?;
    let toast = toast_text(c).await?;
    screenshot(c, "channel-settings").await?;
    if !toast.starts_with("Settings saved") {
        return Err(format!("unexpected toast {toast:?}"));
    }
    Ok(format!("outlets were {outlets:?}; {toast:?}"))
}

#[tokio::test]
async fn unticking_an_outlet_on_a_channel_changes_its_balances() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("channel");
    let product = storage
        .get_product(sync_core::domain::ProductId::new(3))
        .await
        .expect("read")
        .expect("product 3");
    let variant = &product.variants[0];
    let at = |code: &str| {
        variant
            .stock
            .iter()
            .find(|s| s.outlet_code == code)
            .map_or(0, |s| s.on_hand)
    };
    let before = storage.balances(channel.id, &[variant.id]).await.expect("balance")[&variant.id];
    assert_eq!(
        before,
        (at("downtown") + at("warehouse")).max(0),
        "Downtown and Warehouse to start with"
    );
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = channel_settings_flow(&client, &server).await;
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    let after = storage.balances(channel.id, &[variant.id]).await.expect("balance")[&variant.id];
    eprintln!("channel settings: {seen}; {} balance {before} → {after}", variant.sku);
    assert_eq!(after, at("downtown").max(0), "only Downtown counts now");
    server.stop().await;
}

async fn force_sync_flow(c: &Client, server: &TestServer, db: &Database) -> Result<String, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/channels/1").await?;
    wait_for_hydration(c).await.map_err(e("hydration"))?;
    c.find(Locator::Css("#sync-force"))
        .await
        .map_err(e("force link"))?
        .click()
        .await
        .map_err(e("open force"))?;
    let only = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("#channel-only"))
        .await
        .map_err(e("channel-only table"))?
        .text()
        .await
        .map_err(e("table text"))?;
    if !only.contains("Gift card 50") {
        return Err(format!("the preview lists {only:?}"));
    }
    screenshot(c, "force-preview").await?;
    c.find(Locator::Css(r#"#force-form input[value="delete"]"#))
        .await
        .map_err(e("delete choice"))?
        .click()
        .await
        .map_err(e("choose delete"))?;
    c.find(Locator::Css("#run-force"))
        .await
        .map_err(e("run"))?
        .click()
        .await
        .map_err(e("click run"))?;
    let toast = toast_text(c).await?;
    if !toast.starts_with("force sync of Sandbox store started") {
        return Err(format!("unexpected toast {toast:?}"));
    }
    wait_for_hydration(c)
        .await
        .map_err(e("hydration after the run started"))?;
    let latest = |c: &Client| {
        let c = c.clone();
        async move {
            match c.find(Locator::Css("#latest-run")).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            }
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    while !latest(c).await.contains("only in the channel deleted") {
        if std::time::Instant::now() > deadline {
            return Err(format!("the force run's log never showed: {:?}", latest(c).await));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let before = latest(c).await;
    // A sync started elsewhere shows up on the open page through its events.
    let (ok, _, err) = cli(db, &["sync", "--channel", "Sandbox store"], "").await;
    if !ok {
        return Err(err);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while latest(c).await == before {
        if std::time::Instant::now() > deadline {
            return Err(format!("the live status stayed at {before:?}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    screenshot(c, "channel-live").await?;
    Ok(format!("{toast:?}; {before:?} then {:?}", latest(c).await))
}

#[tokio::test]
async fn force_sync_shows_its_preview_and_the_page_follows_runs_live() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let storage = db.storage().await;
    let sandbox = sync_core::domain::ChannelId::new(1);
    storage
        .sandbox_create(sandbox, &[("GIFT-CARD-50".into(), "Gift card 50".into(), 99)])
        .await
        .expect("a channel-only item");
    tillbridge_tests::wait_for_startup_pulls(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = force_sync_flow(&client, &server, &db).await;
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    eprintln!("force sync: {seen}");
    let items = storage.sandbox_items(sandbox).await.expect("items");
    assert!(!items.iter().any(|i| i.sku == "GIFT-CARD-50"), "deleted as chosen");
    server.stop().await;
}

async fn connect_and_orders_flow(c: &Client, server: &TestServer) -> Result<String, String> {
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/channels").await?;
    c.find(Locator::Css("#connect-channel"))
        .await
        .map_err(e("connect link"))?
        .click()
        .await
        .map_err(e("open connect"))?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#connect-shopify"))
        .await
        .map_err(e("connect form"))?;
    // A bad domain comes back next to its field, the rest as typed.
    for (name, value) in [
        ("name", "Web store"),
        ("shop_domain", "not a domain"),
        ("location", "Shop"),
    ] {
        c.find(Locator::Css(&format!(r#"#connect-shopify input[name="{name}"]"#)))
            .await
            .map_err(e("field"))?
            .send_keys(value)
            .await
            .map_err(e("type"))?;
    }
    c.find(Locator::Css("#connect"))
        .await
        .map_err(e("connect button"))?
        .click()
        .await
        .map_err(e("submit"))?;
    let error = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#shop_domain-error"))
        .await
        .map_err(e("the field's error"))?
        .text()
        .await
        .map_err(e("error text"))?;
    let kept = c
        .find(Locator::Css(r#"#connect-shopify input[name="name"]"#))
        .await
        .map_err(e("name field"))?
        .prop("value")
        .await
        .map_err(e("name value"))?
        .unwrap_or_default();
    screenshot(c, "connect-shopify").await?;
    if !error.contains("not a shop domain") || kept != "Web store" {
        return Err(format!("error {error:?}, name kept as {kept:?}"));
    }
    c.goto(&server.url("/orders")).await.map_err(e("orders"))?;
    let empty = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#no-orders"))
        .await
        .map_err(e("orders page"))?
        .text()
        .await
        .map_err(e("orders text"))?;
    screenshot(c, "orders").await?;
    Ok(format!("{error:?}; {empty:?}"))
}

#[tokio::test]
async fn connecting_shopify_names_the_field_at_fault_and_the_orders_page_explains_itself() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = connect_and_orders_flow(&client, &server).await;
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    eprintln!("connect and orders: {seen}");
    let storage = db.storage().await;
    assert_eq!(
        storage.list_channels().await.expect("channels").len(),
        1,
        "nothing saved"
    );
    server.stop().await;
}
