//! The dashboard in headless Chromium: sign in through the form, wait for
//! hydration, turn Auto Sync on for a product, reload, see it still on.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tillbridge_tests::{DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, cli, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub(super) async fn start_browser(profile: &std::path::Path) -> (tokio::process::Child, Client) {
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

pub(super) async fn wait_for_hydration(c: &Client) -> Result<(), fantoccini::error::CmdError> {
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
        .strip_prefix(&format!("Auto Sync turned on for {product} · "))
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
pub(super) async fn toast_text(c: &Client) -> Result<String, String> {
    let toast = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".toasts .toast"))
        .await
        .map_err(|e| format!("no confirmation toast: {e}"))?;
    toast.text().await.map_err(|e| format!("toast text: {e}"))
}

/// Where browser tests keep their screenshots (target/screenshots).
pub(super) fn screenshot_dir() -> std::path::PathBuf {
    let dir = tillbridge_tests::workspace_root().join("target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

pub(super) async fn screenshot(c: &Client, name: &str) -> Result<(), String> {
    let png = c.screenshot().await.map_err(|e| format!("screenshot: {e}"))?;
    let path = screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub(super) async fn sign_in_as(
    c: &Client,
    server: &TestServer,
    email: &str,
    password: &str,
    page: &str,
) -> Result<(), String> {
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
    // "… · N quantities queued for Sandbox": the outbox was filled in the same transaction.
    if !toast.starts_with("Auto Sync turned on for 50 products · ") || !toast.contains("quantities queued for ") {
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
    // Over 50 products: it asks first, naming the action and the count.
    let question = text_of(c, "#bulk-confirm-question").await?;
    screenshot(c, "products-bulk-confirm").await?;
    let expected = format!(
        "Turn off Auto Sync for {} products?",
        label
            .trim_start_matches("Select all ")
            .split(' ')
            .next()
            .unwrap_or_default()
    );
    if question != expected {
        return Err(format!("the confirmation asked {question:?}, expected {expected:?}"));
    }
    if switches_on(c).await? == 0 {
        return Err("the switches turned off before the confirmation was answered".into());
    }
    click(c, "#bulk-confirm-yes").await?;
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
    if !toast.ends_with("→ 250") || !toast.contains(" at Downtown: ") {
        return Err(format!("unexpected toast {toast:?} (the outlet by its name)"));
    }
    // Applied: the quantity is empty again for the next count.
    let left = c
        .find(Locator::Css("#adjust-stock input[name=amount]"))
        .await
        .map_err(e("amount"))?
        .prop("value")
        .await
        .map_err(e("amount value"))?
        .unwrap_or_default();
    if !left.is_empty() {
        return Err(format!("the quantity still reads {left:?} after applying"));
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
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#channel-only"))
        .await
        .map_err(e("channel-only table"))?
        .text()
        .await
        .map_err(e("table text"))?;
    if !only.contains("Gift card 50") {
        return Err(format!("the preview lists {only:?}"));
    }
    // A way back, and a backup first.
    let attr = |css: &'static str| {
        let c = c.clone();
        async move {
            c.find(Locator::Css(css))
                .await
                .map_err(|err| format!("{css}: {err}"))?
                .attr("href")
                .await
                .map_err(|err| format!("{css} href: {err}"))
        }
    };
    if attr("#cancel-force").await?.as_deref() != Some("/channels/1") {
        return Err("the preview's Cancel does not lead back to the channel".into());
    }
    if attr("#catalog-backup").await?.as_deref() != Some("/export/catalog.csv") {
        return Err("the preview offers no catalog backup".into());
    }
    fits_both_widths(c, "force-preview", "#force-preview").await?;
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
    if !toast.starts_with("Force sync of Sandbox store started") {
        return Err(format!("unexpected toast {toast:?}"));
    }
    // The page follows the run its button started: `?run=` names it.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let run = loop {
        let url = c.current_url().await.map_err(e("url"))?;
        if let Some((_, run)) = url.query_pairs().find(|(k, _)| k == "run") {
            break run.into_owned();
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the page does not follow the force run: {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_for_hydration(c)
        .await
        .map_err(e("hydration after the run started"))?;
    let followed = |c: &Client| {
        let c = c.clone();
        async move {
            match c.find(Locator::Css("#latest-run")).await {
                Ok(el) => (
                    el.attr("data-run").await.ok().flatten().unwrap_or_default(),
                    el.text().await.unwrap_or_default(),
                ),
                Err(_) => (String::new(), String::new()),
            }
        }
    };
    // However busy the machine, and whatever other runs start meanwhile,
    // the page ends on this run's log.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (id, text) = followed(c).await;
        if id == run && text.contains("only in the channel deleted") {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the force run #{run}'s log never showed: #{id} {text:?}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Its figures: how many of its quantities and products it did.
    let progress = c
        .find(Locator::Css("#run-progress"))
        .await
        .map_err(e("run progress"))?
        .text()
        .await
        .map_err(e("progress text"))?;
    let figures_ok = progress.starts_with("Force sync ")
        && !progress.contains("running")
        && progress.contains(" of ")
        && progress.contains("quantities")
        && progress.contains("products");
    // "563 of 563 quantities": done, of what the run set out to do.
    let quantities: Vec<i64> = progress
        .split(" · ")
        .find(|part| part.ends_with("quantities"))
        .map(|part| part.split(' ').filter_map(|w| w.parse().ok()).collect())
        .unwrap_or_default();
    let counted = matches!(quantities[..], [done, total] if done > 0 && done <= total);
    if !figures_ok || !counted {
        return Err(format!("the run's progress says {progress:?}"));
    }
    fits_both_widths(c, "force-run", "#live-status").await?;
    // A sync started elsewhere does not take the page over.
    let (ok, _, err) = cli(db, &["sync", "--channel", "Sandbox store"], "").await;
    if !ok {
        return Err(err);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (id, text) = followed(c).await;
    if id != run {
        return Err(format!("the page left run #{run} for #{id}: {text:?}"));
    }
    screenshot(c, "channel-live").await?;
    Ok(format!("{toast:?}; run #{run}: {progress:?}; {text:?}"))
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
    // Every field at fault at once: the token left empty is named too.
    let token = text_of(c, "#token-error").await?;
    if !token.contains("Paste the Admin API access token") {
        return Err(format!("the empty token said {token:?}"));
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

// ---- Product deletion, sell online per channel, the product form's
// ---- variants, and channel administration (issue 14, items 5, 6 and 8).

const SANDBOX: sync_core::domain::ChannelId = sync_core::domain::ChannelId::new(1);

pub(super) type Flow<T> = Result<T, String>;

pub(super) fn failed(what: &'static str) -> impl Fn(fantoccini::error::CmdError) -> String {
    move |err| format!("{what}: {err}")
}

pub(super) async fn click(c: &Client, css: &str) -> Flow<()> {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("{css}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("click {css}: {e}"))
}

pub(super) async fn text_of(c: &Client, css: &str) -> Flow<String> {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("{css}: {e}"))?
        .text()
        .await
        .map_err(|e| format!("text of {css}: {e}"))
}

/// Waits until the browser is at `path` (the path of its URL).
pub(super) async fn wait_for_path(c: &Client, path: &str) -> Flow<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let url = c.current_url().await.map_err(failed("url"))?;
        if url.path() == path {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("expected to land on {path}, still at {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// At 1440 and 390 px wide: `selector` (or the box a wide table scrolls
/// in) is shown inside the window's width and the page does not scroll
/// sideways. Keeps a screenshot of each.
pub(super) async fn fits_both_widths(c: &Client, name: &str, selector: &str) -> Flow<()> {
    for (width, height) in [(1440u32, 1000u32), (390, 844)] {
        c.set_window_size(width, height).await.map_err(failed("window size"))?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let measured = c
            .execute(
                "const found = document.querySelector(arguments[0]);
                 if (!found) { return null; }
                 // A wide table scrolls inside its own box: that box must fit.
                 const el = found.closest('.table-scroll') || found;
                 el.scrollIntoView({ block: 'start' });
                 const r = el.getBoundingClientRect();
                 return [r.left, r.right, r.width, window.innerWidth, document.documentElement.scrollWidth];",
                vec![serde_json::json!(selector)],
            )
            .await
            .map_err(failed("measure"))?;
        screenshot(c, &format!("{name}-{width}")).await?;
        let figures: Vec<f64> = serde_json::from_value(measured.clone())
            .map_err(|_| format!("{selector} is not on the page at {width} px ({measured})"))?;
        let [left, right, shown, inner, scroll] = figures[..] else {
            return Err(format!("unexpected measure {measured}"));
        };
        if shown <= 0.0 || left < -1.0 || right > inner + 1.0 || scroll > inner + 1.0 {
            return Err(format!(
                "{name} at {width} px ({inner} inside): {selector} spans {left}..{right} and the page is {scroll} wide"
            ));
        }
    }
    c.set_window_size(1400, 1000).await.map_err(failed("window size"))?;
    Ok(())
}

/// A product the demo syncs to the Sandbox store from the start, with at
/// least `variants` variants, once every variant is listed there.
async fn listed_product(db: &Database, variants: usize) -> sync_core::storage::ProductDetail {
    let storage = db.storage().await;
    let page = storage
        .list_products(&sync_core::storage::ProductFilter {
            auto_sync: Some(true),
            limit: 200,
            ..Default::default()
        })
        .await
        .expect("products");
    let product = page
        .items
        .into_iter()
        .find(|p| p.variants.len() >= variants)
        .expect("a demo product with enough variants syncs to the Sandbox store");
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    tillbridge_tests::wait_until("the product listed in the Sandbox store", 30, || async {
        storage
            .sandbox_items_by_sku(SANDBOX, &skus)
            .await
            .expect("sandbox")
            .len()
            == skus.len()
    })
    .await;
    storage.close().await;
    product
}

async fn delete_flow(c: &Client, server: &TestServer, product: &sync_core::storage::ProductDetail) -> Flow<String> {
    let page = format!("/products/{}", product.id);
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, &page).await?;
    click(c, "#delete-product").await?;
    let question = text_of(c, "#delete-confirmation h2").await?;
    let what = text_of(c, "#delete-what").await?;
    if question != format!("Delete {}?", product.name)
        || !what.contains("deleted from every channel that lists it")
        || !what.contains("Sandbox store")
    {
        return Err(format!("the confirmation reads {question:?} / {what:?}"));
    }
    fits_both_widths(c, "product-delete-confirmation", "#delete-confirmation").await?;
    // Cancel leaves everything as it was.
    click(c, "#delete-cancel").await?;
    wait_for_hydration(c).await.map_err(failed("hydration"))?;
    if c.find(Locator::Css("#delete-confirmation")).await.is_ok() {
        return Err("Cancel left the confirmation open".into());
    }
    click(c, "#delete-product").await?;
    click(c, "#delete-understood").await?;
    click(c, "#delete-confirmed").await?;
    wait_for_path(c, "/products").await?;
    let toast = toast_text(c).await?;
    if toast != format!("Deleted {}; the channels that list it delete it too", product.name) {
        return Err(format!("unexpected toast {toast:?}"));
    }
    wait_for_hydration(c).await.map_err(failed("hydration"))?;
    let rows = c
        .find_all(Locator::Css(&format!(r#"tr[data-product-id="{}"]"#, product.id)))
        .await
        .map_err(failed("rows"))?;
    if !rows.is_empty() {
        return Err("the deleted product is still in the products table".into());
    }
    screenshot(c, "products-after-delete").await?;
    c.goto(&server.url(&page))
        .await
        .map_err(failed("open the deleted product"))?;
    let gone = text_of(c, "#product-deleted h1").await?;
    let said = text_of(c, "#product-deleted").await?;
    fits_both_widths(c, "product-deleted", "#product-deleted").await?;
    if gone != "This product was deleted" || !said.contains(&product.name) {
        return Err(format!("the deleted product's page reads {said:?}"));
    }
    Ok(toast)
}

#[tokio::test]
async fn deleting_a_product_after_confirming_removes_it_here_and_from_the_sandbox_store() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let product = listed_product(&db, 1).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = delete_flow(&client, &server, &product).await;
    let _ = client.close().await;
    let toast = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    let storage = db.storage().await;
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    tillbridge_tests::wait_until("the Sandbox store no longer lists the product", 30, || async {
        storage
            .sandbox_items_by_sku(SANDBOX, &skus)
            .await
            .expect("sandbox")
            .is_empty()
    })
    .await;
    assert!(storage.get_product(product.id).await.expect("read").is_none());
    // The page answers 410 Gone without JavaScript too.
    let client = tillbridge_tests::browser_like_client();
    tillbridge_tests::sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let response = client
        .get(server.url(&format!("/products/{}", product.id)))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 410);
    assert!(
        response
            .text()
            .await
            .expect("page")
            .contains("This product was deleted")
    );
    eprintln!("delete: {toast:?}; the Sandbox store no longer lists {skus:?}");
    server.stop().await;
}

/// The switch's state and text for the Sandbox store, once it reads `want`.
async fn sell_switch_reads(c: &Client, want: &str) -> Flow<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = text_of(c, "#sell-online-1").await.unwrap_or_default();
        if text == want {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the switch reads {text:?}, expected {want:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sell_online_flow(
    c: &Client,
    server: &TestServer,
    db: &Database,
    product: &sync_core::storage::ProductDetail,
) -> Flow<(String, String)> {
    let storage = db.storage().await;
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    let published = |want: bool| {
        let (storage, skus) = (storage.clone(), skus.clone());
        async move {
            let items = storage.sandbox_items_by_sku(SANDBOX, &skus).await.expect("sandbox");
            items.len() == skus.len() && items.iter().all(|i| i.published == want)
        }
    };
    sign_in_as(
        c,
        server,
        DEMO_EMAIL,
        DEMO_PASSWORD,
        &format!("/products/{}", product.id),
    )
    .await?;
    let hint = text_of(c, r#"#sell-online li[data-channel-id="1"]"#).await?;
    if !hint.contains("hidden from shoppers in Sandbox store, not just 0 in stock") {
        return Err(format!("the channel section reads {hint:?}"));
    }
    sell_switch_reads(c, "Selling in Sandbox store").await?;
    fits_both_widths(c, "product-sell-online", "#channel-stock").await?;
    click(c, "#sell-online-1").await?;
    let off = toast_text(c).await?;
    sell_switch_reads(c, "Not sold in Sandbox store").await?;
    let checked = c
        .find(Locator::Css("#sell-online-1"))
        .await
        .map_err(failed("switch"))?
        .attr("aria-checked")
        .await
        .map_err(failed("state"))?;
    if checked.as_deref() != Some("false") {
        return Err(format!("the switch is aria-checked={checked:?} when off"));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !published(false).await {
        if std::time::Instant::now() > deadline {
            return Err("the Sandbox store still shows the product".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    screenshot(c, "product-not-sold").await?;
    click(c, "#sell-online-1").await?;
    let on = toast_text_after(c, &off).await?;
    sell_switch_reads(c, "Selling in Sandbox store").await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !published(true).await {
        if std::time::Instant::now() > deadline {
            return Err("the Sandbox store never showed the product again".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    storage.close().await;
    Ok((off, on))
}

/// The newest toast, once it is another than `before`.
pub(super) async fn toast_text_after(c: &Client, before: &str) -> Flow<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let toasts = c
            .find_all(Locator::Css(".toasts .toast"))
            .await
            .map_err(failed("toasts"))?;
        if let Some(last) = toasts.last() {
            let text = last.text().await.unwrap_or_default();
            if text != before && !text.is_empty() {
                return Ok(text);
            }
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("no new toast after {before:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn selling_online_off_and_on_from_the_product_page_hides_and_shows_it_in_the_sandbox_store() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let product = listed_product(&db, 1).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = sell_online_flow(&client, &server, &db, &product).await;
    let _ = client.close().await;
    let (off, on) = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    assert_eq!(
        off,
        format!(
            "{} is no longer sold in Sandbox store: hidden from shoppers there, not just 0 in stock",
            product.name
        )
    );
    assert!(
        on.starts_with(&format!("Selling {} in Sandbox store again", product.name)),
        "{on}"
    );
    let storage = db.storage().await;
    let ids: Vec<_> = product.variants.iter().map(|v| v.id).collect();
    let balances = storage.balances(SANDBOX, &ids).await.expect("balances");
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    tillbridge_tests::wait_until("the Sandbox store back to the balances", 30, || async {
        let items = storage.sandbox_items_by_sku(SANDBOX, &skus).await.expect("sandbox");
        product.variants.iter().all(|v| {
            items
                .iter()
                .any(|i| i.sku == v.sku && Some(&i.available) == balances.get(&v.id))
        })
    })
    .await;
    server.stop().await;
}

async fn variants_flow(c: &Client, server: &TestServer, product: &sync_core::storage::ProductDetail) -> Flow<String> {
    let (first, second) = (&product.variants[0], &product.variants[1]);
    sign_in_as(
        c,
        server,
        DEMO_EMAIL,
        DEMO_PASSWORD,
        &format!("/products/{}", product.id),
    )
    .await?;
    click(c, "#edit-product summary").await?;
    let sku_input = format!(r#"#edit-variants tr[data-sku="{}"] input[name$="[sku]"]"#, first.sku);
    let field = c.find(Locator::Css(&sku_input)).await.map_err(failed("SKU field"))?;
    field.clear().await.map_err(failed("clear"))?;
    field.send_keys("NEW SKU").await.map_err(failed("type"))?;
    click(c, "#save-product").await?;
    let error = text_of(c, "#sku-error").await?;
    if !error.contains(&format!("SKU of {}", first.sku)) || !error.contains("cannot contain") {
        return Err(format!("the SKU's error reads {error:?}"));
    }
    fits_both_widths(c, "product-form-sku-error", "#sku-error").await?;
    let renamed = format!("{}-R", first.sku);
    let field = c.find(Locator::Css(&sku_input)).await.map_err(failed("SKU field"))?;
    field.clear().await.map_err(failed("clear"))?;
    field.send_keys(&renamed).await.map_err(failed("type"))?;
    click(
        c,
        &format!(
            r#"#edit-variants tr[data-sku="{}"] input[name$="[remove]"]"#,
            second.sku
        ),
    )
    .await?;
    // Removing asks for the confirmation first.
    click(c, "#save-product").await?;
    let error = text_of(c, "#confirm_remove-error").await?;
    if !error.contains("every channel that lists them") {
        return Err(format!("the confirmation's error reads {error:?}"));
    }
    click(c, "#confirm-remove").await?;
    click(c, "#save-product").await?;
    let saved = toast_text_after(c, &error).await?;
    if !saved.starts_with("Product saved") {
        return Err(format!("unexpected toast {saved:?}"));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let skus = text_of(c, "#variants tbody").await.unwrap_or_default();
        if skus.contains(&renamed) && !skus.contains(&second.sku) {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the variants read {skus:?}"));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    fits_both_widths(c, "product-variants-saved", "#variants").await?;
    Ok(saved)
}

#[tokio::test]
async fn renaming_a_sku_and_removing_a_variant_on_the_product_form_reach_the_sandbox_store() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let product = listed_product(&db, 2).await;
    let storage = db.storage().await;
    let first_item = storage
        .sandbox_items_by_sku(SANDBOX, std::slice::from_ref(&product.variants[0].sku))
        .await
        .expect("sandbox")
        .remove(0);
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = variants_flow(&client, &server, &product).await;
    let _ = client.close().await;
    let saved = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    let renamed = format!("{}-R", product.variants[0].sku);
    let after = storage
        .get_product(product.id)
        .await
        .expect("read")
        .expect("the product");
    assert_eq!(after.variants.len(), product.variants.len() - 1);
    assert_eq!(after.variants[0].id, product.variants[0].id, "renamed, not replaced");
    assert_eq!(after.variants[0].sku, renamed);
    // The Sandbox store renames the same item and drops the removed one.
    tillbridge_tests::wait_until("the Sandbox store follows the form", 30, || async {
        let items = storage.sandbox_items(SANDBOX).await.expect("sandbox");
        items
            .iter()
            .any(|i| i.sku == renamed && i.item_id == first_item.item_id)
            && !items
                .iter()
                .any(|i| i.sku == product.variants[0].sku || i.sku == product.variants[1].sku)
    })
    .await;
    eprintln!("product form: {saved:?}; {} is now {renamed}", product.variants[0].sku);
    server.stop().await;
}

async fn disconnect_flow(c: &Client, server: &TestServer, channel: sync_core::domain::ChannelId) -> Flow<String> {
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, &format!("/channels/{channel}")).await?;
    click(c, "#disconnect-channel").await?;
    let question = text_of(c, "#disconnect-confirmation h2").await?;
    let what = text_of(c, "#disconnect-what").await?;
    if question != "Disconnect Online store?" || !what.contains("products already in the channel stay") {
        return Err(format!("the confirmation reads {question:?} / {what:?}"));
    }
    fits_both_widths(c, "channel-disconnect-confirmation", "#disconnect-confirmation").await?;
    click(c, "#disconnect-understood").await?;
    click(c, "#disconnect-confirmed").await?;
    wait_for_path(c, "/channels").await?;
    let toast = toast_text(c).await?;
    wait_for_hydration(c).await.map_err(failed("hydration"))?;
    let listed = text_of(c, "#channels").await?;
    if listed.contains("Online store") {
        return Err(format!("the channels still list it: {listed:?}"));
    }
    fits_both_widths(c, "channels-after-disconnect", "#channels").await?;
    // The owner connects the next one from here.
    click(c, "#connect-vendure").await?;
    text_of(c, "#connect-vendure").await?;
    fits_both_widths(c, "connect-vendure", "#connect-vendure").await?;
    Ok(toast)
}

#[tokio::test]
async fn disconnecting_a_channel_stops_its_pushes_at_once_and_keeps_its_history() {
    use tillbridge_tests::shopify::{ShopConfig, ShopifyTestServer};
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let shop = ShopifyTestServer::start(ShopConfig::default()).await;
    let location = shop.add_location("Shop location");
    let channel = tillbridge_tests::connect_shopify(&db, &shop, "Online store", "Shop location").await;
    let skus = tillbridge_tests::first_skus(&db, 3).await;
    tillbridge_tests::auto_sync_on(&db, &skus).await;
    tillbridge_tests::wait_until("the shop stocks the SKUs", 30, || async {
        skus.iter().all(|s| shop.available(s, &location).is_some())
    })
    .await;
    let storage = db.storage().await;
    tillbridge_tests::wait_until("nothing left to push to the shop", 30, || async {
        storage.pending_pushes(channel).await.expect("pending") == 0
    })
    .await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = disconnect_flow(&client, &server, channel).await;
    let _ = client.close().await;
    let toast = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    assert!(
        toast.starts_with("Disconnected Online store: nothing more is pushed there"),
        "{toast}"
    );
    let (sets, requests) = (shop.applied_sets().len(), shop.stats().requests);

    // A stock change now reaches the Sandbox store but never the shop.
    let token = tillbridge_tests::api_token(&db, "manager").await;
    let body = serde_json::json!({ "movements": [
        { "sku": skus[0], "outlet": "downtown", "delta": 7, "reason": "manual_adjustment" }
    ]});
    let response = tillbridge_tests::post_movements(&server, &token, body.to_string(), Some("after-disconnect"))
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let variant = storage
        .variant_ids_by_sku(&[sync_core::domain::Sku::parse(&skus[0]).expect("sku")])
        .await
        .expect("variant")[&skus[0]];
    tillbridge_tests::wait_until("the Sandbox store takes the change", 30, || async {
        let want = storage.balances(SANDBOX, &[variant]).await.expect("balance")[&variant];
        storage
            .sandbox_items_by_sku(SANDBOX, std::slice::from_ref(&skus[0]))
            .await
            .expect("sandbox")
            .first()
            .is_some_and(|i| i.available == want)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(shop.applied_sets().len(), sets, "nothing more set in the shop");
    assert_eq!(shop.stats().requests, requests, "the shop was not called again");
    assert_eq!(
        storage.pending_pushes(channel).await.expect("pending"),
        0,
        "nothing queued for it"
    );
    // Its history stays, with the disconnection in it; its name is free again.
    let events = storage.recent_events(Some(channel), None, 1000).await.expect("events");
    assert!(
        events.iter().any(|e| e.action == "disconnect channel"),
        "the disconnection is in the history"
    );
    assert!(
        events.iter().any(|e| e.action != "disconnect channel"),
        "the earlier pushes stay"
    );
    assert!(storage.channel_by_name("Online store").await.expect("read").is_none());
    server.stop().await;
}

async fn manager_flow(c: &Client, server: &TestServer) -> Flow<()> {
    sign_in_as(c, server, "mia@shop.example", "a long enough password", "/channels").await?;
    text_of(c, "#channels").await?;
    for owner_only in ["#connect-channel", "#connect-vendure"] {
        if c.find(Locator::Css(owner_only)).await.is_ok() {
            return Err(format!("a manager sees {owner_only} on the channels page"));
        }
    }
    c.goto(&server.url("/channels/1?disconnect=1"))
        .await
        .map_err(failed("open channel"))?;
    wait_for_hydration(c).await.map_err(failed("hydration"))?;
    text_of(c, "#channel-settings").await?;
    for owner_only in [
        "#connection",
        "#disconnect-channel",
        "#replace-credentials",
        "#test-connection",
        "#disconnect-confirmation",
    ] {
        if c.find(Locator::Css(owner_only)).await.is_ok() {
            return Err(format!("a manager sees {owner_only} on a channel's page"));
        }
    }
    screenshot(c, "channel-manager").await?;
    // Managers look after products: they may delete one.
    c.goto(&server.url("/products/3"))
        .await
        .map_err(failed("open product"))?;
    wait_for_hydration(c).await.map_err(failed("hydration"))?;
    text_of(c, "#delete-product").await?;
    Ok(())
}

#[tokio::test]
async fn a_manager_sees_no_channel_administration_and_a_forged_post_is_refused() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "mia@shop.example", "--role", "manager"],
        "a long enough password\n",
    )
    .await;
    assert!(ok, "{err}");
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = manager_flow(&client, &server).await;
    let _ = client.close().await;
    outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    let manager = tillbridge_tests::browser_like_client();
    tillbridge_tests::sign_in(&server, &manager, "mia@shop.example", "a long enough password").await;
    for (endpoint, form) in [
        ("disconnect_channel", vec![("id", "1"), ("confirm", "on")]),
        ("replace_credentials", vec![("id", "1"), ("secret", "shpat_forged")]),
        (
            "connect_vendure",
            vec![
                ("name", "Sneaky"),
                ("api_base_url", "http://127.0.0.1:9"),
                ("api_key", "k"),
                ("stock_location", "x"),
                ("outlets[]", "1"),
                ("order_outlet", "1"),
            ],
        ),
    ] {
        let response = tillbridge_tests::form_post(&manager, &server, endpoint)
            .form(&form)
            .send()
            .await
            .expect("sent");
        let to = tillbridge_tests::location(&response);
        assert!(
            to.contains("notice_error=1") && tillbridge_tests::notice(&to).contains("Only an owner"),
            "{endpoint}: {to}"
        );
    }
    let storage = db.storage().await;
    let channels = storage.list_channels().await.expect("channels");
    assert_eq!(channels.len(), 1, "the Sandbox store is still connected, and only it");
    assert_eq!(channels[0].name, "Sandbox store");
    server.stop().await;
}
