//! The Sync History a merchant can trust (issue 15): who started each
//! run, one run per action, rows naming their SKU and channel, a chart with
//! axes and a legend that follows the filters, kinds and statuses in words,
//! empty states, and a product's own history. One URL is opened (sign-in
//! at /products); everything after is clicks.

use std::time::Duration;

use fantoccini::{Client, Locator};
use sync_core::domain::ChannelId;
use sync_core::storage::{RunKind, RunTrigger};
use tillbridge_tests::{DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, cli};

use super::browser::{
    Flow, click, failed, fits_both_widths, sign_in_as, start_browser, text_of, toast_text, wait_for_hydration,
    wait_for_path,
};

const SANDBOX: ChannelId = ChannelId::new(1);

/// Waits until the demo's first pushes are done and no run is open.
async fn settled(db: &Database) {
    tillbridge_tests::wait_for_startup_pulls(db).await;
    let storage = db.storage().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let pending = storage.pending_pushes(SANDBOX).await.expect("pending");
        let running = storage
            .recent_runs(None, 50)
            .await
            .expect("runs")
            .iter()
            .any(|r| r.status.as_str() == "running");
        if pending == 0 && !running {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the demo's pushes never settled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    storage.close().await;
}

/// The texts of every element `css` finds.
async fn texts(c: &Client, css: &str) -> Flow<Vec<String>> {
    let mut out = Vec::new();
    for el in c.find_all(Locator::Css(css)).await.map_err(failed("find"))? {
        out.push(el.text().await.map_err(failed("text"))?);
    }
    Ok(out)
}

/// Picks `value` in the history filter `name` and submits the form.
async fn filter_by(c: &Client, name: &str, value: &str) -> Flow<()> {
    click(
        c,
        &format!("#history-filters select[name={name}] option[value=\"{value}\"]"),
    )
    .await?;
    click(c, "#history-filters button[type=submit]").await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let url = c.current_url().await.map_err(failed("url"))?;
        if url.query().unwrap_or_default().contains(&format!("{name}={value}")) {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the filter {name}={value} is not in the URL: {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_hydration(c).await.map_err(failed("hydration after filtering"))
}

/// Clicks the navigation's "Sync History" until the runs table shows a row
/// that `ok` accepts (a sync started a moment ago may still be running).
async fn history_until(c: &Client, what: &str, ok: impl Fn(&[String]) -> bool) -> Flow<Vec<String>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        click(c, r#".nav a[href="/history"]"#).await?;
        wait_for_path(c, "/history").await?;
        c.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#runs, #no-runs"))
            .await
            .map_err(failed("the runs"))?;
        let rows = texts(c, "#runs tbody tr").await?;
        if ok(&rows) {
            return Ok(rows);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{what}: the history shows {rows:#?}"));
        }
        // Away and back, so the next click fetches the page afresh.
        click(c, r#".nav a[href="/channels"]"#).await?;
        wait_for_path(c, "/channels").await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn history_flow(c: &Client, server: &TestServer) -> Flow<String> {
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
    // Sync All, from the Channels page.
    click(c, r#".nav a[href="/channels"]"#).await?;
    wait_for_path(c, "/channels").await?;
    click(c, "#sync-all").await?;
    let toast = toast_text(c).await?;
    if !toast.starts_with("Sync All started") {
        return Err(format!("unexpected toast {toast:?}"));
    }
    // The button's runs name the person who clicked, and say their kinds in words.
    let rows = history_until(c, "the Sync All's runs", |rows| {
        rows.iter()
            .any(|r| r.contains("Standard sync") && r.contains(DEMO_EMAIL) && !r.contains("Running"))
            && rows.iter().any(|r| r.contains("Order pull") && r.contains(DEMO_EMAIL))
    })
    .await?;
    if rows
        .iter()
        .any(|r| r.contains("pull_orders") || r.contains("Tillbridge"))
    {
        return Err(format!("a raw kind or a 'Tillbridge' who: {rows:#?}"));
    }
    let legend = text_of(c, "#chart-legend").await?;
    if !legend.contains("Pushed") || !legend.contains("Failed") {
        return Err(format!("the chart's legend says {legend:?}"));
    }
    let axis = texts(c, "#history-chart svg text").await?;
    if axis.iter().all(|t| !t.contains(":00")) || !axis.iter().any(|t| t == "0") {
        return Err(format!("the chart's axes say {axis:?}"));
    }
    fits_both_widths(c, "history-chart", "#history-chart").await?;
    fits_both_widths(c, "history", "#runs").await?;

    // Filter: Standard syncs only; open the button's run.
    filter_by(c, "kind", "standard").await?;
    let kinds = texts(c, "#runs tbody td.kind").await?;
    if kinds.is_empty() || kinds.iter().any(|k| k != "Standard sync") {
        return Err(format!("the kind filter lists {kinds:?}"));
    }
    let mine = c
        .find(Locator::XPath(&format!(
            "//table[@id='runs']//tr[td[@class='who'][text()='{DEMO_EMAIL}']]//a"
        )))
        .await
        .map_err(failed("the button's run"))?;
    mine.click().await.map_err(failed("open the run"))?;
    let who = text_of(c, "#run-who").await?;
    if who != DEMO_EMAIL {
        return Err(format!("the run page's who is {who:?}"));
    }
    fits_both_widths(c, "sync-run", "#run-log").await?;
    // The breadcrumb leads back.
    click(c, "#crumb-history").await?;
    wait_for_path(c, "/history").await?;

    // An auto run's rows each name their SKU and channel, and its counts
    // agree with its rows.
    filter_by(c, "kind", "auto").await?;
    click(c, "#runs tbody tr:first-child td a").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#events tbody tr"))
        .await
        .map_err(failed("the run's rows"))?;
    let skus = texts(c, "#events tbody td.sku").await?;
    let channels = texts(c, "#events tbody td.channel").await?;
    if skus.is_empty() || skus.iter().any(|s| s.trim().is_empty() || s == "—") {
        return Err(format!("rows without a SKU: {skus:?}"));
    }
    if channels.iter().any(|ch| ch != "Sandbox store") {
        return Err(format!("rows without their channel: {channels:?}"));
    }
    let counts = text_of(c, "#run-counts").await?;
    let succeeded = c
        .find_all(Locator::Css(r#"#events tbody tr[data-result="succeeded"]"#))
        .await
        .map_err(failed("rows"))?
        .len();
    let skipped = c
        .find_all(Locator::Css(r#"#events tbody tr[data-result="skipped"]"#))
        .await
        .map_err(failed("rows"))?
        .len();
    if !counts.contains(&format!("{succeeded} pushed")) || !counts.contains(&format!("{skipped} already up to date")) {
        return Err(format!(
            "the run says {counts:?} over {succeeded} pushed and {skipped} skipped rows"
        ));
    }
    fits_both_widths(c, "sync-run-items", "#events").await?;
    click(c, "#crumb-history").await?;
    wait_for_path(c, "/history").await?;

    // A filter nothing matches: said so, with a way out.
    filter_by(c, "status", "interrupted").await?;
    let empty = text_of(c, "#no-runs").await?;
    if !empty.contains("No runs match these filters") {
        return Err(format!("the empty state says {empty:?}"));
    }
    click(c, "#clear-filters").await?;
    wait_for_path(c, "/history").await?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#runs tbody tr"))
        .await
        .map_err(failed("runs again"))?;

    // More than 50 runs: the older ones are a click away.
    let first_page = texts(c, "#runs tbody tr").await?.len();
    click(c, "#older-runs").await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.map_err(failed("url"))?;
        if url.query().unwrap_or_default().contains("before=") {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("Older runs did not page: {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#runs tbody tr"))
        .await
        .map_err(failed("older runs"))?;

    // A product's own history: its page, then its full history.
    click(c, r#".nav a[href="/products"]"#).await?;
    wait_for_path(c, "/products").await?;
    let row = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(
            r#"tbody tr:has(button[role="switch"][aria-checked="true"]) td a[href^="/products/"]"#,
        ))
        .await
        .map_err(failed("a product with Auto Sync on"))?;
    let name = row.text().await.map_err(failed("its name"))?;
    row.click().await.map_err(failed("open the product"))?;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#product-sync-history #events tbody tr"))
        .await
        .map_err(failed("the product's own Sync History"))?;
    let own = texts(c, "#product-sync-history #events tbody td.channel").await?;
    if own.is_empty() || own.iter().any(|ch| ch != "Sandbox store") {
        return Err(format!("the product page's history names channels {own:?}"));
    }
    click(c, "#product-history").await?;
    wait_for_path(c, "/history").await?;
    let title = text_of(c, "#product-history-title").await?;
    if title != format!("Sync History of {name}") {
        return Err(format!("the product's history is titled {title:?}, not of {name:?}"));
    }
    let rows = texts(c, "#events tbody td.sku").await?;
    if rows.is_empty() {
        return Err("the product's full history lists no events".into());
    }
    Ok(format!(
        "{toast:?}; {} runs on the first page; an auto run of {} rows ({counts:?}); {name}: {} events",
        first_page,
        skus.len(),
        rows.len()
    ))
}

#[tokio::test]
async fn the_sync_history_names_who_clicked_lists_items_by_sku_and_pages_through_clicks() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    settled(&db).await;
    // Enough older runs for a second page.
    let storage = db.storage().await;
    for _ in 0..60 {
        let run = storage
            .start_run(Some(SANDBOX), RunKind::PullOrders, RunTrigger::Schedule, "schedule")
            .await
            .expect("run");
        storage.finish_run(run, 0, 0, "0 orders pulled").await.expect("finish");
    }
    storage.close().await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = history_flow(&client, &server).await;
    let _ = client.close().await;
    let seen = outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    eprintln!("sync history: {seen}");
    server.stop().await;
}

#[tokio::test]
async fn a_bulk_action_is_one_run_of_its_person_with_its_batches_inside_and_its_counts_agree_with_its_rows() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    settled(&db).await;
    let storage = db.storage().await;
    let before = storage.recent_runs(None, 1).await.expect("runs").first().map(|r| r.id);
    // Auto Sync on for every product, from the Products page's bulk menu:
    // more quantities than one batch (250) holds.
    let client = tillbridge_tests::browser_like_client();
    tillbridge_tests::sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let response = tillbridge_tests::form_post(&client, &server, "bulk_products")
        .form(&[
            ("action", "auto_sync_on"),
            ("all_matching", "true"),
            ("return_to", "/products"),
        ])
        .send()
        .await
        .expect("sent");
    let message = tillbridge_tests::notice(&tillbridge_tests::location(&response));
    assert!(message.starts_with("Auto Sync turned on for 500 products"), "{message}");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let runs: Vec<_> = storage
            .recent_runs(Some(SANDBOX), 100)
            .await
            .expect("runs")
            .into_iter()
            .filter(|r| before.is_none_or(|b| r.id > b) && r.kind == RunKind::Auto)
            .collect();
        let pending = storage.pending_pushes(SANDBOX).await.expect("pending");
        if pending == 0 && !runs.is_empty() && runs.iter().all(|r| r.status.as_str() != "running") {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bulk action's pushes never ended"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(runs.len(), 1, "one action, one run: {runs:#?}");
    let run = &runs[0];
    assert_eq!(run.actor_label, DEMO_EMAIL, "the run names who clicked");
    assert_eq!(run.trigger, RunTrigger::Button);
    assert!(run.log.contains("batches"), "its batches are inside: {}", run.log);
    let events: Vec<_> = storage
        .recent_events(Some(SANDBOX), None, 100_000)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.run_id == Some(run.id))
        .collect();
    let count = |r: &str| events.iter().filter(|e| e.result.as_str() == r).count() as i64;
    assert_eq!(run.items_succeeded, count("succeeded"), "{}", run.log);
    assert_eq!(run.items_skipped, count("skipped"), "{}", run.log);
    assert_eq!(run.items_failed, count("failed"), "{}", run.log);
    assert!(
        events
            .iter()
            .all(|e| e.sku.is_some() && e.channel_name.as_deref() == Some("Sandbox store")),
        "every row names its SKU and channel"
    );
    let created = events.iter().filter(|e| e.action == "create product").count() as i64;
    let pushed = format!(
        "{} quantities pushed, {} already up to date",
        run.items_succeeded - created,
        run.items_skipped
    );
    assert!(
        run.log.contains(&pushed),
        "the log's figures are the run's: {} vs {run:?}",
        run.log
    );
    storage.close().await;
    server.stop().await;
}

#[tokio::test]
async fn a_sync_from_the_command_line_says_so_and_a_product_without_events_says_so() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    settled(&db).await;
    let (ok, out, err) = cli(&db, &["sync", "--channel", "Sandbox store"], "").await;
    assert!(ok, "{out}{err}");
    let storage = db.storage().await;
    let runs = storage.recent_runs(Some(SANDBOX), 20).await.expect("runs");
    let cli_runs: Vec<_> = runs.iter().filter(|r| r.trigger == RunTrigger::Cli).collect();
    assert!(
        cli_runs.iter().any(|r| r.kind == RunKind::Standard) && cli_runs.iter().any(|r| r.kind == RunKind::PullOrders),
        "the command line's pull and push are runs: {runs:#?}"
    );
    assert!(
        cli_runs.iter().all(|r| r.actor_label == "command line"),
        "{cli_runs:#?}"
    );
    // A product never pushed anywhere: its history says so.
    let quiet = storage
        .list_products(&sync_core::storage::ProductFilter {
            auto_sync: Some(false),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("products")
        .items
        .into_iter()
        .next()
        .expect("a product with Auto Sync off");
    assert!(
        storage
            .events_of(None, Some(quiet.id), 10)
            .await
            .expect("events")
            .is_empty()
    );
    storage.close().await;
    let client = tillbridge_tests::browser_like_client();
    tillbridge_tests::sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let page = client
        .get(server.url(&format!("/history?product={}", quiet.id)))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("body");
    assert!(page.contains("No sync events for this product yet"), "{page}");
    server.stop().await;
}
