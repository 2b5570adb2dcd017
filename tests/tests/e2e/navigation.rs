//! The dashboard as a person uses it: one URL typed, then only clicks
//! (navigation, logo, breadcrumbs, pagination, row links, filters, the
//! phone menu), each page checked for what it shows, at 1440 and 390 px
//! wide, with a screenshot of each. And the forms without JavaScript:
//! every post comes back to a page that says what happened.

use std::time::Duration;

use fantoccini::{Client, Locator};
use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, browser_like_client, form_post, location, sign_in,
};

use super::browser::{Flow, click, failed, fits_both_widths, sign_in_as, start_browser, text_of, wait_for_path};

/// Waits until `css` shows text for which `good` holds; returns it.
async fn wait_text(c: &Client, css: &str, good: impl Fn(&str) -> bool) -> Flow<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    loop {
        if let Ok(found) = c.find(Locator::Css(css)).await
            && let Ok(text) = found.text().await
        {
            if good(&text) {
                return Ok(text);
            }
            last = text;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{css} never showed what was expected; last {last:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page's main heading, once it reads `title`; and no page may say
/// the app could not be reached (the old client-side navigation bug).
async fn landed(c: &Client, title: &str) -> Flow<()> {
    wait_text(c, "main h1", |t| t.trim() == title).await?;
    let main = text_of(c, "main").await?;
    if main.contains("Could not reach Tillbridge") || main.contains("error deserializing") {
        return Err(format!("{title}: the page says {main:?}"));
    }
    Ok(())
}

/// Clicks the main navigation's link to `href`, through the menu when the
/// window is narrow enough to fold it.
async fn nav_to(c: &Client, href: &str) -> Flow<()> {
    let menu = c
        .find(Locator::Css(".menu-button"))
        .await
        .map_err(failed("menu button"))?;
    if menu.is_displayed().await.map_err(failed("menu shown"))? {
        menu.click().await.map_err(failed("open the menu"))?;
    }
    click(c, &format!("#main-nav a[href='{href}']")).await
}

async fn click_through(c: &Client, server: &TestServer) -> Flow<()> {
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
    landed(c, "Products").await?;
    let first = wait_text(c, "#products-range", |t| t.starts_with("Showing 1–50 of ")).await?;
    let total = first.trim_start_matches("Showing 1–50 of ").to_owned();

    // Pagination, both ways.
    click(c, ".pager a[rel=next]").await?;
    wait_text(c, "#products-range", |t| t == format!("Showing 51–100 of {total}")).await?;
    click(c, ".pager a:not([rel])").await?;
    wait_text(c, "#products-range", |t| t == first).await?;

    // A filter applies as it is chosen, shows as a chip, and goes with it.
    click(c, "select[name=status] option[value=inactive]").await?;
    let chip = wait_text(c, "#applied-filters .chip", |t| t.starts_with("Inactive")).await?;
    let narrowed = text_of(c, "#products-range").await?;
    if narrowed == first {
        return Err(format!("the filter {chip:?} changed nothing: {narrowed:?}"));
    }
    click(c, "#applied-filters .chip[data-filter=status]").await?;
    wait_text(c, "#products-range", |t| t == first).await?;
    if c.find(Locator::Css("#applied-filters")).await.is_ok() {
        return Err("the chip stayed after it was removed".into());
    }

    // Sorting by a column header.
    click(c, "#sort-stock").await?;
    wait_text(c, "th[aria-sort=descending]", |t| t.starts_with("Total stock")).await?;
    click(c, "#sort-name").await?;
    wait_text(c, "th[aria-sort=ascending]", |t| t.starts_with("Product")).await?;

    // A row's link, the product's Sync History, the breadcrumb back.
    let name = text_of(c, "#products-table tbody tr td a").await?;
    click(c, "#products-table tbody tr td a").await?;
    landed(c, &name).await?;
    let id = c.current_url().await.map_err(failed("url"))?.path().to_owned();
    click(c, "#product-history").await?;
    wait_for_path(c, "/history").await?;
    wait_text(c, "main", |t| t.contains(&name)).await?;
    c.back().await.map_err(failed("back"))?;
    wait_for_path(c, &id).await?;
    landed(c, &name).await?;
    click(c, "main .crumbs a[href='/products']").await?;
    landed(c, "Products").await?;

    // Create product and the "More actions" menu.
    click(c, "#create-product").await?;
    landed(c, "Create product").await?;
    click(c, "main .crumbs a[href='/products']").await?;
    landed(c, "Products").await?;
    click(c, "#products-more summary").await?;
    click(c, "#products-more a[href='/import']").await?;
    landed(c, "Import and export").await?;

    // Every link of the navigation, and the pages behind them.
    nav_to(c, "/orders").await?;
    landed(c, "Orders").await?;
    nav_to(c, "/channels").await?;
    landed(c, "Channels").await?;
    click(c, "main a[href='/channels/1']").await?;
    wait_for_path(c, "/channels/1").await?;
    wait_text(c, "main h1", |t| t.contains("Sandbox")).await?;
    click(c, "main .crumbs a[href='/channels']").await?;
    landed(c, "Channels").await?;
    nav_to(c, "/history").await?;
    landed(c, "Sync History").await?;
    click(c, "#runs tbody a").await?;
    wait_text(c, "main h1", |t| t.starts_with("Run #")).await?;
    click(c, "main .crumbs a[href='/history']").await?;
    landed(c, "Sync History").await?;
    nav_to(c, "/conflicts").await?;
    landed(c, "Conflicts").await?;
    nav_to(c, "/import").await?;
    landed(c, "Import and export").await?;
    nav_to(c, "/settings").await?;
    landed(c, "Settings").await?;
    nav_to(c, "/products").await?;
    landed(c, "Products").await?;
    // The logo leads home from anywhere.
    nav_to(c, "/orders").await?;
    landed(c, "Orders").await?;
    click(c, ".brand").await?;
    landed(c, "Products").await?;
    wait_text(c, "#products-range", |t| t == first).await?;

    // A bulk action's products get their "listed" dot once the Sandbox
    // store has them, without a reload.
    let row = c
        .find(Locator::Css(
            "#products-table tbody tr:has(button[role=switch][aria-checked=false]):not(:has(.dot-on))",
        ))
        .await
        .map_err(failed("a product not listed anywhere"))?;
    let id = row
        .attr("data-product-id")
        .await
        .map_err(failed("id"))?
        .unwrap_or_default();
    click(c, &format!("tr[data-product-id='{id}'] td.check input")).await?;
    click(c, "#bulk-apply").await?;
    wait_text(c, ".toasts .toast", |t| {
        t.starts_with("Auto Sync turned on for 1 product")
    })
    .await?;
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("tr[data-product-id='{id}'] .dot-on")))
        .await
        .map_err(failed("the listed dot never followed"))?;
    Ok(())
}

#[tokio::test]
async fn every_page_is_reached_by_clicking_and_shows_its_content() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, c) = start_browser(profile.path()).await;
    let outcome = click_through(&c, &server).await;
    let _ = c.close().await;
    server.stop().await;
    outcome.expect("clicking through the dashboard");
}

/// Each main page, reached by clicking, fits 1440 and 390 px without the
/// page scrolling sideways (screenshots of both kept).
async fn every_width(c: &Client, server: &TestServer) -> Flow<Vec<String>> {
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
    landed(c, "Products").await?;
    let mut shots = Vec::new();
    let mut check = |name: &'static str| {
        shots.push(format!(
            "target/screenshots/page-{name}-1440.png, target/screenshots/page-{name}-390.png"
        ));
        format!("page-{name}")
    };
    fits_both_widths(c, &check("products"), "main h1").await?;
    click(c, "#products-table tbody tr td a").await?;
    wait_text(c, "main h1", |t| !t.is_empty() && t != "Products").await?;
    fits_both_widths(c, &check("product"), "main h1").await?;
    click(c, "main .crumbs a[href='/products']").await?;
    landed(c, "Products").await?;
    click(c, "#create-product").await?;
    landed(c, "Create product").await?;
    fits_both_widths(c, &check("create-product"), "#new-product").await?;
    for (href, title, name) in [
        ("/orders", "Orders", "orders"),
        ("/channels", "Channels", "channels"),
        ("/history", "Sync History", "history"),
        ("/conflicts", "Conflicts", "conflicts"),
        ("/import", "Import and export", "import"),
        ("/settings", "Settings", "settings"),
    ] {
        nav_to(c, href).await?;
        landed(c, title).await?;
        fits_both_widths(c, &check(name), "main h1").await?;
    }
    nav_to(c, "/channels").await?;
    click(c, "main a[href='/channels/1']").await?;
    wait_text(c, "main h1", |t| t.contains("Sandbox")).await?;
    fits_both_widths(c, &check("channel-settings"), "main h1").await?;
    click(c, "#sync-force").await?;
    wait_text(c, "main h1", |t| t.starts_with("Force sync")).await?;
    fits_both_widths(c, &check("force-sync"), "main h1").await?;
    nav_to(c, "/channels").await?;
    click(c, "#connect-channel").await?;
    landed(c, "Connect Shopify").await?;
    fits_both_widths(c, &check("connect-shopify"), "#connect-shopify").await?;
    nav_to(c, "/history").await?;
    click(c, "#runs tbody a").await?;
    wait_text(c, "main h1", |t| t.starts_with("Run #")).await?;
    fits_both_widths(c, &check("run"), "main h1").await?;
    Ok(shots)
}

/// At 390 px the navigation is a menu: closed, it hides the links; opened,
/// it shows them; a link followed closes it. Its button is a 44 px target.
async fn phone_menu(c: &Client, server: &TestServer) -> Flow<()> {
    c.set_window_size(390, 844).await.map_err(failed("window size"))?;
    c.goto(&server.url("/products"))
        .await
        .map_err(failed("open /products"))?;
    super::browser::wait_for_hydration(c)
        .await
        .map_err(failed("hydration"))?;
    landed(c, "Products").await?;
    let nav = c.find(Locator::Css("#main-nav")).await.map_err(failed("nav"))?;
    if nav.is_displayed().await.map_err(failed("nav shown"))? {
        return Err("at 390 px the navigation should be folded into its menu".into());
    }
    let button = c
        .find(Locator::Css(".menu-button"))
        .await
        .map_err(failed("menu button"))?;
    let height: f64 = c
        .execute(
            "return document.querySelector('.menu-button').getBoundingClientRect().height",
            vec![],
        )
        .await
        .map_err(failed("measure"))?
        .as_f64()
        .unwrap_or_default();
    if height < 44.0 {
        return Err(format!("the menu button is {height} px high; touch targets need 44"));
    }
    if button
        .attr("aria-expanded")
        .await
        .map_err(failed("expanded"))?
        .as_deref()
        != Some("false")
    {
        return Err("the closed menu should say aria-expanded=false".into());
    }
    button.click().await.map_err(failed("open the menu"))?;
    if !nav.is_displayed().await.map_err(failed("nav shown"))? {
        return Err("the opened menu shows no links".into());
    }
    super::browser::screenshot(c, "page-menu-open-390").await?;
    click(c, "#main-nav a[href='/channels']").await?;
    landed(c, "Channels").await?;
    if nav.is_displayed().await.map_err(failed("nav shown"))? {
        return Err("following a link should close the menu".into());
    }
    Ok(())
}

#[tokio::test]
async fn every_main_page_fits_a_phone_and_a_desktop_and_the_menu_folds() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, c) = start_browser(profile.path()).await;
    let shots = every_width(&c, &server).await;
    let menu = match &shots {
        Ok(_) => phone_menu(&c, &server).await,
        Err(_) => Ok(()),
    };
    let _ = c.close().await;
    server.stop().await;
    for line in shots.expect("every page at both widths") {
        println!("screenshots: {line}");
    }
    menu.expect("the phone menu");
}

/// Keyboard: the first Tab reaches the skip link, which moves the focus
/// into the page; the Auto Sync switch keeps the focus after it saves.
async fn keyboard(c: &Client, server: &TestServer) -> Flow<()> {
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
    landed(c, "Products").await?;
    let body = c.find(Locator::Css("body")).await.map_err(failed("body"))?;
    body.send_keys("\u{e004}").await.map_err(failed("tab"))?;
    let focused = c
        .execute("return document.activeElement.textContent", vec![])
        .await
        .map_err(failed("focus"))?;
    if focused.as_str() != Some("Skip to content") {
        return Err(format!("the first Tab reached {focused}, not the skip link"));
    }
    c.active_element()
        .await
        .map_err(failed("active"))?
        .send_keys("\u{e007}")
        .await
        .map_err(failed("enter"))?;
    let at = c
        .execute("return document.activeElement.id", vec![])
        .await
        .map_err(failed("focus"))?;
    if at.as_str() != Some("main") {
        return Err(format!("the skip link moved the focus to {at}, not the page's content"));
    }
    let switch = "#products-table tbody tr:first-child button[role=switch]";
    c.execute(&format!("document.querySelector('{switch}').focus()"), vec![])
        .await
        .map_err(failed("focus the switch"))?;
    c.active_element()
        .await
        .map_err(failed("active"))?
        .send_keys(" ")
        .await
        .map_err(failed("press space"))?;
    wait_text(c, ".toasts .toast", |t| t.starts_with("Auto Sync turned on")).await?;
    let still = c
        .execute(
            &format!("return document.activeElement === document.querySelector('{switch}')"),
            vec![],
        )
        .await
        .map_err(failed("focus"))?;
    if still.as_bool() != Some(true) {
        return Err("the switch lost the focus after it saved".into());
    }
    Ok(())
}

#[tokio::test]
async fn the_keyboard_skips_to_the_content_and_a_switch_keeps_its_focus() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, c) = start_browser(profile.path()).await;
    let outcome = keyboard(&c, &server).await;
    let _ = c.close().await;
    server.stop().await;
    outcome.expect("keyboard use");
}

/// Without JavaScript: the stock form comes back to the product with its
/// confirmation on the page, a bad quantity with its reason next to the
/// field and what was typed (never a raw answer), and going below zero
/// needs "Allow below zero". The create form names every field at fault.
#[tokio::test]
async fn forms_posted_without_javascript_come_back_with_their_confirmation_or_every_error() {
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
    let stock = &product.variants[0].stock[0];
    let (outlet, outlet_name, on_hand) = (stock.outlet_code.clone(), stock.outlet_name.clone(), stock.on_hand);
    let post = |amount: &str, below_zero: bool| {
        let mut form = vec![
            ("product_id", "1".to_owned()),
            ("sku", sku.clone()),
            ("outlet", outlet.clone()),
            ("mode", "delta".to_owned()),
            ("amount", amount.to_owned()),
            ("reason", "manual_adjustment".to_owned()),
            ("note", "counted twice".to_owned()),
        ];
        if below_zero {
            form.push(("below_zero", "on".to_owned()));
        }
        form_post(&client, &server, "adjust_stock").form(&form).send()
    };
    let page_after = |response: reqwest::Response| {
        let client = client.clone();
        let server = &server;
        async move {
            assert_eq!(response.status(), 303, "a plain post is sent back to a page");
            let to = location(&response);
            assert!(to.starts_with("/products/1?"), "back to the product, not {to}");
            let page = client.get(server.url(&to)).send().await.expect("page");
            assert_eq!(page.status(), 200);
            page.text().await.expect("html")
        }
    };

    // Applied: the confirmation is on the page, naming the outlet.
    let html = page_after(post("2", false).await.expect("sent")).await;
    let confirmation = format!("Stock of {sku} at {outlet_name}: {on_hand} → {}", on_hand + 2);
    assert!(
        html.contains(&confirmation) && html.contains(r#"id="notice""#),
        "the page shows {confirmation:?}"
    );

    // A bad quantity: its reason next to the field, what was typed kept.
    let html = page_after(post("12abc", false).await.expect("sent")).await;
    assert!(!html.contains(r#"{"Invalid""#), "no raw answer: {html}");
    assert!(
        html.contains(r#"id="amount-error""#) && html.contains("is not a whole number"),
        "the reason next to the quantity"
    );
    assert!(html.contains("counted twice"), "the note typed is kept");

    // Below zero: refused until allowed, then applied.
    let far = format!("-{}", on_hand + 2 + 5);
    let html = page_after(post(&far, false).await.expect("sent")).await;
    assert!(
        html.contains("below zero") && html.contains("Allow below zero"),
        "going below zero asks first"
    );
    let now = storage
        .get_product(sync_core::domain::ProductId::new(1))
        .await
        .expect("read")
        .expect("product 1")
        .variants[0]
        .stock[0]
        .on_hand;
    assert_eq!(now, on_hand + 2, "nothing was written before it was allowed");
    let html = page_after(post(&far, true).await.expect("sent")).await;
    assert!(html.contains("→ -5"), "applied once allowed");

    // Create product: every refusal at once, next to its field.
    let response = form_post(&client, &server, "create_product")
        .form(&[
            ("name", ""),
            ("sku", sku.as_str()),
            ("price", "twelve"),
            ("currency", "NZD"),
            ("brand", "Matai"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.starts_with("/products/new?"), "back to the form, not {to}");
    let html = client
        .get(server.url(&to))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    for field in ["name", "sku", "price"] {
        // Each reason is shown next to its own field, all at once.
        assert!(
            html.contains(&format!(r#"id="{field}-error""#)),
            "the {field} field names its fault: {to}"
        );
    }
    assert!(html.contains(r#"value="Matai""#), "what was typed is kept");
    let response = form_post(&client, &server, "create_product")
        .form(&[
            ("name", "Harbour Beanie"),
            ("sku", "HB-001"),
            ("price", "24.00"),
            ("currency", "NZD"),
            ("active", "on"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.starts_with("/products/"), "on to the new product, not {to}");
    let html = client
        .get(server.url(&to))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Created Harbour Beanie"),
        "the new product's page confirms it"
    );
    storage.close().await;
    server.stop().await;
}

/// The channel settings form: every field at fault named at once, in the
/// form's words (never an internal name), with what was typed kept.
async fn settings_errors(c: &Client, server: &TestServer) -> Flow<()> {
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
    nav_to(c, "/channels").await?;
    landed(c, "Channels").await?;
    click(c, "main a[href='/channels/1']").await?;
    wait_text(c, "main h1", |t| t.contains("Sandbox")).await?;
    let typed = [
        ("safety_buffer", "-3"),
        ("publish_percent", "140"),
        ("schedule_minutes", "every hour"),
    ];
    for (name, value) in typed {
        let field = c
            .find(Locator::Css(&format!("#channel-settings input[name={name}]")))
            .await
            .map_err(failed("field"))?;
        field.clear().await.map_err(failed("clear"))?;
        field.send_keys(value).await.map_err(failed("type"))?;
    }
    click(c, "#channel-settings button[type=submit]").await?;
    for (name, value) in typed {
        let error = text_of(c, &format!("#{name}-error")).await?;
        if error.contains('_') || error.is_empty() {
            return Err(format!("{name}: {error:?} is not in plain words"));
        }
        let kept = c
            .find(Locator::Css(&format!("#channel-settings input[name={name}]")))
            .await
            .map_err(failed("field"))?
            .prop("value")
            .await
            .map_err(failed("value"))?
            .unwrap_or_default();
        if kept != value {
            return Err(format!("{name} kept {kept:?}, typed {value:?}"));
        }
    }
    super::browser::screenshot(c, "channel-settings-errors").await?;
    Ok(())
}

#[tokio::test]
async fn the_channel_settings_form_names_every_error_at_once_and_keeps_what_was_typed() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, c) = start_browser(profile.path()).await;
    let outcome = settings_errors(&c, &server).await;
    let _ = c.close().await;

    // Without JavaScript, the same: back to the page with every error and
    // every value typed, and nothing saved.
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let storage = db.storage().await;
    let sandbox = sync_core::domain::ChannelId::new(1);
    let before = storage.channel_settings(sandbox).await.expect("settings");
    let response = form_post(&client, &server, "save_channel_settings")
        .form(&[
            ("id", "1"),
            ("outlets[]", "1"),
            ("safety_buffer", "9999999999"),
            ("publish_percent", "-5"),
            ("publish_max", "12 units"),
            ("zero_at_or_below", ""),
            ("schedule_minutes", "0"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let to = location(&response);
    let html = client
        .get(server.url(&to))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    for field in ["safety_buffer", "publish_percent", "publish_max", "schedule_minutes"] {
        assert!(html.contains(&format!(r#"id="{field}-error""#)), "{field} named: {to}");
    }
    for typed in ["9999999999", "-5", "12 units"] {
        assert!(html.contains(&format!(r#"value="{typed}""#)), "{typed} kept");
    }
    let after = storage.channel_settings(sandbox).await.expect("settings");
    assert_eq!(after.rules, before.rules, "nothing saved");
    assert_eq!(after.schedule_minutes, before.schedule_minutes, "nothing saved");
    storage.close().await;
    server.stop().await;
    outcome.expect("the settings form");
}

/// A product page left open follows what happens elsewhere (another tab,
/// the till): a count recorded behind its back shows within seconds, in
/// the variants table and in what the Sandbox store was sent.
async fn live_product(c: &Client, server: &TestServer, db: &Database) -> Flow<()> {
    sign_in_as(c, server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
    click(c, "#products-table tbody tr td a").await?;
    let name = wait_text(c, "main h1", |t| !t.is_empty() && t != "Products").await?;
    let sku = text_of(c, "#variants tbody tr:first-child td.mono").await?;
    let outlet = text_of(c, "#variants thead th[data-outlet]").await?;
    let code = c
        .find(Locator::Css("#variants thead th[data-outlet]"))
        .await
        .map_err(failed("outlet column"))?
        .attr("data-outlet")
        .await
        .map_err(failed("outlet code"))?
        .unwrap_or_default();
    let storage = db.storage().await;
    storage
        .apply_movements(
            &sync_core::domain::Actor::System,
            &[sync_core::storage::MovementInput {
                sku: sync_core::domain::Sku::parse(&sku).map_err(|e| e.message)?,
                outlet: sync_core::domain::OutletCode::parse(&code).map_err(|e| e.message)?,
                change: sync_core::domain::StockChange::count(4321).map_err(|e| e.message)?,
                reason: sync_core::domain::MovementReason::ManualAdjustment,
                reference: "counted in another tab".into(),
                note: String::new(),
            }],
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    storage.close().await;
    wait_text(c, "#variants tbody tr:first-child", |t| t.contains("4321"))
        .await
        .map_err(|e| format!("{name}: {sku} at {outlet} never showed 4321 without a reload: {e}"))?;
    Ok(())
}

#[tokio::test]
async fn an_open_product_page_follows_stock_recorded_elsewhere() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, c) = start_browser(profile.path()).await;
    let outcome = live_product(&c, &server, &db).await;
    let _ = c.close().await;
    server.stop().await;
    outcome.expect("the product page follows");
}

/// Without JavaScript, the Auto Sync switch and a conflict's buttons come
/// back to their page with what they did, not a raw answer.
#[tokio::test]
async fn the_switch_and_the_conflict_buttons_work_without_javascript() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let response = form_post(&client, &server, "set_auto_sync")
        .form(&[
            ("product_id", "2"),
            ("enabled", "true"),
            ("return_to", "/products?q=merino"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(
        to.starts_with("/products?q=merino&notice="),
        "back to the list it was on: {to}"
    );
    let html = client
        .get(server.url(&to))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("Auto Sync turned on for "), "the page says what happened");
    // Somewhere else than our pages is never where a post goes back to.
    let response = form_post(&client, &server, "set_auto_sync")
        .form(&[
            ("product_id", "2"),
            ("enabled", "false"),
            ("return_to", "//evil.example/"),
        ])
        .send()
        .await
        .expect("sent");
    let to = location(&response);
    assert!(to.starts_with("/products?notice="), "{to}");
    let response = form_post(&client, &server, "resolve_conflict")
        .form(&[("id", "999999"), ("action", "ignore")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.starts_with("/conflicts?") && to.contains("notice_error=1"), "{to}");
    server.stop().await;
}

/// A shop that does not answer is said at the shop's address, not at the
/// token (which was never tried).
#[tokio::test]
async fn connecting_a_shop_that_does_not_answer_names_its_address() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    // A port nothing listens on.
    let silent = format!("http://127.0.0.1:{}", tillbridge_tests::free_port());
    let response = form_post(&client, &server, "connect_shopify")
        .form(&[
            ("name", "Web store"),
            ("shop_domain", "tillbridge-test.myshopify.com"),
            ("token", "shpat_0123456789abcdef"),
            ("location", "Shop location"),
            ("outlets[]", "1"),
            ("order_outlet", "1"),
            ("safety_buffer", "0"),
            ("api_base_url", silent.as_str()),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(to.contains("error_field=shop_domain"), "{to}");
    assert!(!to.contains("shpat_"), "the token is never sent back: {to}");
    server.stop().await;
}
