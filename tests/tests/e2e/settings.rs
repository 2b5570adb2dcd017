//! The Settings page: an owner adds, changes and removes users and creates
//! and revokes API tokens (the secret shown once, its last use shown); the
//! store's time zone changes every time the dashboard shows; a manager
//! sees no administration and a forged post is refused. In Chromium
//! (reached by clicking, from one signed-in page) and as plain form posts
//! without JavaScript.

use std::time::Duration;

use fantoccini::{Client, Locator};
use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, browser_like_client, cli, form_post, location, notice, sign_in,
};

use super::browser::{
    Flow, click, failed, fits_both_widths, screenshot, sign_in_as, start_browser, text_of, wait_for_hydration,
    wait_for_path,
};

/// Clicks the "Settings" link of the navigation and waits for the page.
async fn open_settings(c: &Client) -> Flow<()> {
    click(c, r#".nav a[href="/settings"]"#).await?;
    wait_for_path(c, "/settings").await?;
    text_of(c, "#users").await.map(|_| ())
}

/// Waits until `css` matches nothing (a removed row).
async fn wait_gone(c: &Client, css: &str) -> Flow<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while c.find(Locator::Css(css)).await.is_ok() {
        if std::time::Instant::now() > deadline {
            return Err(format!("{css} is still on the page"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Clicks `css` once scrolled to the top of the window, clear of the
/// toasts stacked in the lower-left corner.
async fn click_clear_of_toasts(c: &Client, css: &str) -> Flow<()> {
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView({ block: 'start' });",
        vec![serde_json::json!(css)],
    )
    .await
    .map_err(failed("scroll"))?;
    click(c, css).await
}

async fn type_into(c: &Client, css: &str, text: &str) -> Flow<()> {
    let field = c.find(Locator::Css(css)).await.map_err(failed("find a field"))?;
    field.clear().await.map_err(failed("clear a field"))?;
    field.send_keys(text).await.map_err(failed("type"))
}

async fn choose(c: &Client, css: &str, value: &str) -> Flow<()> {
    c.find(Locator::Css(css))
        .await
        .map_err(failed("find a select"))?
        .select_by_value(value)
        .await
        .map_err(failed("choose an option"))
}

/// Waits for a toast that says `wanted`; its whole text.
async fn toast_saying(c: &Client, wanted: &str) -> Flow<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        for toast in c
            .find_all(Locator::Css(".toasts .toast"))
            .await
            .map_err(failed("toasts"))?
        {
            let text = toast.text().await.unwrap_or_default();
            if text.contains(wanted) {
                return Ok(text);
            }
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("no toast says {wanted:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn users_flow(c: &Client) -> Flow<()> {
    open_settings(c).await?;
    // The only owner keeps the role, and is told why.
    text_of(c, "#only-owner").await?;
    let me = r#"#users tr[data-email="demo@tillbridge.test"]"#;
    choose(c, &format!("{me} select[name=role]"), "manager").await?;
    click_clear_of_toasts(c, &format!("{me} button.change-role")).await?;
    toast_saying(c, "You are the store's only owner, so you cannot change your own role").await?;
    text_of(c, &format!(r#"{me}[data-role="owner"]"#)).await?;
    // A bad form: every problem at once, the email kept.
    type_into(c, "#new-user-email", "kai-at-shop").await?;
    type_into(c, "#new-user-password", "short").await?;
    click_clear_of_toasts(c, "#add-user-submit").await?;
    let email_error = text_of(c, "#email-error").await?;
    let password_error = text_of(c, "#password-error").await?;
    if !email_error.contains("is not an email address") || !password_error.contains("at least 8 characters") {
        return Err(format!("errors: {email_error:?}, {password_error:?}"));
    }
    let kept = c
        .find(Locator::Css("#new-user-email"))
        .await
        .map_err(failed("email field"))?
        .prop("value")
        .await
        .map_err(failed("email value"))?;
    if kept.as_deref() != Some("kai-at-shop") {
        return Err(format!("the email typed was not kept: {kept:?}"));
    }
    toast_saying(c, "2 fields need correcting").await?;

    // Add a manager.
    type_into(c, "#new-user-email", "kai@shop.example").await?;
    type_into(c, "#new-user-password", "a long enough password").await?;
    choose(c, "#new-user-role", "manager").await?;
    click_clear_of_toasts(c, "#add-user-submit").await?;
    toast_saying(c, "Added kai@shop.example as manager").await?;
    for field in ["#new-user-email", "#new-user-password"] {
        let left = c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(field))
            .await
            .map_err(failed("a field"))?
            .prop("value")
            .await
            .map_err(failed("its value"))?;
        if left.as_deref() != Some("") {
            return Err(format!("{field} still holds {left:?} after the user was added"));
        }
    }
    let row = r#"#users tr[data-email="kai@shop.example"]"#;
    text_of(c, &format!(r#"{row}[data-role="manager"]"#)).await?;

    // Make them a viewer.
    choose(c, &format!("{row} select[name=role]"), "viewer").await?;
    click_clear_of_toasts(c, &format!("{row} button.change-role")).await?;
    toast_saying(c, "kai@shop.example is now viewer").await?;
    text_of(c, &format!(r#"{row}[data-role="viewer"]"#)).await?;

    // Remove them, once confirmed.
    click_clear_of_toasts(c, &format!("{row} a.remove-user")).await?;
    let asked = text_of(c, "#remove-user-confirmation").await?;
    if !asked.contains("Remove kai@shop.example?") {
        return Err(format!("confirmation: {asked:?}"));
    }
    click_clear_of_toasts(c, "#remove-understood").await?;
    click_clear_of_toasts(c, "#remove-confirmed").await?;
    toast_saying(c, "Removed kai@shop.example").await?;
    wait_gone(c, row).await?;
    wait_gone(c, "#remove-user-confirmation").await
}

/// Creates a token on the page; its secret, shown this once.
async fn create_token(c: &Client) -> Flow<String> {
    type_into(c, "#token-name", "Till 1").await?;
    choose(c, "#token-role", "manager").await?;
    click_clear_of_toasts(c, "#create-token-submit").await?;
    toast_saying(c, "Copy its secret now: it will not be shown again").await?;
    let shown = text_of(c, "#new-token").await?;
    if !shown.contains("Copy it now: it will not be shown again") {
        return Err(format!("the secret's box says {shown:?}"));
    }
    let secret = text_of(c, "#token-secret").await?;
    if !secret.starts_with("tb_") {
        return Err(format!("not a token secret: {secret:?}"));
    }
    Ok(secret)
}

async fn outlets_status(server: &TestServer, secret: &str) -> u16 {
    reqwest::Client::new()
        .get(server.url("/api/v1/outlets"))
        .bearer_auth(secret)
        .send()
        .await
        .expect("API request")
        .status()
        .as_u16()
}

async fn tokens_flow(c: &Client, server: &TestServer) -> Flow<()> {
    let secret = create_token(c).await?;
    let row = r#"#tokens tr[data-token="Till 1"]"#;
    let never = text_of(c, &format!("{row} td.last-used")).await?;
    if never != "never" {
        return Err(format!("a new token was last used {never:?}"));
    }
    let status = outlets_status(server, &secret).await;
    if status != 200 {
        return Err(format!("the API answered the new token {status}"));
    }
    c.refresh().await.map_err(failed("reload"))?;
    wait_for_hydration(c).await.map_err(failed("hydration after reload"))?;
    let used = text_of(c, &format!("{row} td.last-used")).await?;
    if used == "never" || !used.ends_with(" UTC") {
        return Err(format!("after a call the token was last used {used:?}"));
    }
    if c.find(Locator::Css("#token-secret")).await.is_ok() {
        return Err("the secret is shown again after a reload".into());
    }
    fits_both_widths(c, "settings", "#settings").await?;

    click_clear_of_toasts(c, &format!("{row} a.revoke-token")).await?;
    text_of(c, "#revoke-token-confirmation").await?;
    click_clear_of_toasts(c, "#revoke-understood").await?;
    click_clear_of_toasts(c, "#revoke-confirmed").await?;
    toast_saying(c, "Revoked the API token Till 1").await?;
    wait_gone(c, row).await?;
    let status = outlets_status(server, &secret).await;
    if status != 401 {
        return Err(format!("the API answered a revoked token {status}"));
    }
    Ok(())
}

#[tokio::test]
async fn an_owner_adds_changes_and_removes_a_user_and_creates_uses_and_revokes_a_token() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = async {
        sign_in_as(&client, &server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
        users_flow(&client).await?;
        tokens_flow(&client, &server).await
    }
    .await;
    if outcome.is_err() {
        let _ = screenshot(&client, "settings-failed").await;
    }
    let _ = client.close().await;
    outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    server.stop().await;
}

async fn time_zone_flow(c: &Client, db: &Database) -> Flow<()> {
    open_settings(c).await?;
    type_into(c, "#time-zone", "Mars/Olympus").await?;
    click_clear_of_toasts(c, "#save-time-zone").await?;
    let refused = text_of(c, "#time_zone-error").await?;
    if !refused.contains("is not a time zone name") {
        return Err(format!("an unknown zone was answered {refused:?}"));
    }
    // Kolkata: +05:30 all year, so the expected time needs no zone rules.
    type_into(c, "#time-zone", "Asia/Kolkata").await?;
    click_clear_of_toasts(c, "#save-time-zone").await?;
    toast_saying(c, "Times are now shown in Asia/Kolkata (IST)").await?;
    text_of(c, "#time-zone-now").await?;

    click(c, r#".nav a[href="/history"]"#).await?;
    wait_for_path(c, "/history").await?;
    let first = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#runs tbody tr[data-run]"))
        .await
        .map_err(failed("a run"))?;
    let id: i64 = first
        .attr("data-run")
        .await
        .map_err(failed("run id"))?
        .and_then(|id| id.parse().ok())
        .ok_or("a run row without its id")?;
    let started = first
        .find(Locator::Css("td:nth-child(6)"))
        .await
        .map_err(failed("started cell"))?
        .text()
        .await
        .map_err(failed("started"))?;
    let run = db
        .storage()
        .await
        .run(sync_core::storage::RunId::new(id))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the run is not in the database")?;
    let expected = (run.started_at.as_datetime() + chrono::TimeDelta::minutes(330))
        .format("%Y-%m-%d %H:%M:%S IST")
        .to_string();
    if started != expected {
        return Err(format!("run {id} started {started:?}, expected {expected:?}"));
    }
    Ok(())
}

#[tokio::test]
async fn the_store_time_zone_chosen_in_settings_is_the_one_the_sync_history_shows() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = async {
        sign_in_as(&client, &server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
        time_zone_flow(&client, &db).await
    }
    .await;
    let _ = client.close().await;
    outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    server.stop().await;
}

async fn manager_flow(c: &Client) -> Flow<()> {
    open_settings(c).await?;
    let read_only = text_of(c, "#users-read-only").await?;
    if !read_only.contains("Only an owner can manage users") {
        return Err(format!("a manager is told {read_only:?}"));
    }
    text_of(c, r#"#users tr[data-email="demo@tillbridge.test"]"#).await?;
    let tokens = text_of(c, "#tokens-owner-only").await?;
    if !tokens.contains("Only an owner can manage API tokens") {
        return Err(format!("a manager is told {tokens:?}"));
    }
    for owner_only in [
        "#add-user",
        "a.remove-user",
        "select[name=role]",
        "#create-token",
        "#tokens",
        "#time-zone-form",
    ] {
        if c.find(Locator::Css(owner_only)).await.is_ok() {
            return Err(format!("a manager sees {owner_only} on the Settings page"));
        }
    }
    screenshot(c, "settings-manager").await
}

#[tokio::test]
async fn a_manager_sees_no_user_or_token_administration_and_a_forged_post_is_refused() {
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
    let outcome = async {
        sign_in_as(
            &client,
            &server,
            "mia@shop.example",
            "a long enough password",
            "/products",
        )
        .await?;
        manager_flow(&client).await
    }
    .await;
    let _ = client.close().await;
    outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));

    let manager = browser_like_client();
    sign_in(&server, &manager, "mia@shop.example", "a long enough password").await;
    for (endpoint, form) in [
        (
            "add_user",
            vec![
                ("email", "sneaky@shop.example"),
                ("password", "a long enough password"),
                ("role", "owner"),
            ],
        ),
        ("change_role", vec![("id", "2"), ("role", "owner")]),
        ("remove_user", vec![("id", "1"), ("confirm", "on")]),
        ("create_token", vec![("token_name", "Sneaky"), ("token_role", "owner")]),
        ("revoke_token", vec![("id", "1"), ("confirm", "on")]),
        ("set_time_zone", vec![("time_zone", "Europe/Berlin")]),
    ] {
        let called = manager
            .post(server.url(&format!("/api/{endpoint}")))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .expect("sent");
        assert_eq!(called.status(), 403, "{endpoint}");
        let posted = form_post(&manager, &server, endpoint)
            .form(&form)
            .send()
            .await
            .expect("sent");
        assert_eq!(posted.status(), 303, "{endpoint}");
        let to = location(&posted);
        assert!(
            to.starts_with("/settings") && to.contains("notice_error=1") && notice(&to).contains("Only an owner"),
            "{endpoint}: {to}"
        );
    }
    let storage = db.storage().await;
    let users = storage.list_users().await.expect("users");
    let roles: Vec<(String, String)> = users
        .iter()
        .map(|u| (u.email.to_string(), u.role.to_string()))
        .collect();
    assert_eq!(
        roles,
        [
            ("demo@tillbridge.test".to_owned(), "owner".to_owned()),
            ("mia@shop.example".to_owned(), "manager".to_owned())
        ],
        "nothing changed"
    );
    assert_eq!(storage.store_zone().await.expect("zone").name(), "UTC");
    server.stop().await;
}

/// The page a plain form post was sent back to, as HTML.
async fn page_after(client: &reqwest::Client, server: &TestServer, to: &str) -> String {
    client
        .get(server.url(to))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html")
}

#[tokio::test]
async fn without_javascript_the_settings_forms_come_back_to_the_page_with_their_answer() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let owner = browser_like_client();
    sign_in(&server, &owner, DEMO_EMAIL, DEMO_PASSWORD).await;

    let added = form_post(&owner, &server, "add_user")
        .form(&[
            ("email", "ivy@shop.example"),
            ("password", "a long enough password"),
            ("role", "manager"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(added.status(), 303);
    let to = location(&added);
    assert!(to.starts_with("/settings?"), "{to}");
    let html = page_after(&owner, &server, &to).await;
    assert!(
        html.contains("Added ivy@shop.example as manager"),
        "the confirmation is on the page"
    );
    assert!(
        html.contains(r#"data-email="ivy@shop.example""#),
        "and the user in the list"
    );

    // Every problem at once; the email kept, the password never.
    let refused = form_post(&owner, &server, "add_user")
        .form(&[("email", "ivy-at-shop"), ("password", "short"), ("role", "manager")])
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 303);
    let to = location(&refused);
    assert!(
        to.contains("error.email=") && to.contains("error.password=") && !to.contains("short"),
        "{to}"
    );
    let html = page_after(&owner, &server, &to).await;
    assert!(html.contains("is not an email address") && html.contains("at least 8 characters"));
    assert!(html.contains(r#"value="ivy-at-shop""#), "the email typed is kept");
    let empty = form_post(&owner, &server, "add_user")
        .form(&[("email", ""), ("password", "short"), ("role", "viewer")])
        .send()
        .await
        .expect("sent");
    let html = page_after(&owner, &server, &location(&empty)).await;
    assert!(html.contains("enter the person") && html.contains("at least 8 characters"));

    // The last owner stays one.
    let storage = db.storage().await;
    let users = storage.list_users().await.expect("users");
    let demo = users
        .iter()
        .find(|u| u.email.as_str() == DEMO_EMAIL)
        .expect("the demo owner")
        .id;
    let demoted = form_post(&owner, &server, "change_role")
        .form(&[("id", demo.to_string()), ("role", "viewer".to_owned())])
        .send()
        .await
        .expect("sent");
    let to = location(&demoted);
    assert!(notice(&to).contains("only owner"), "{to}");
    let kept = storage.get_user(demo).await.expect("read");
    assert_eq!(kept.map(|u| u.role.to_string()).as_deref(), Some("owner"));

    // A new token's secret: on the page after the redirect, once.
    let created = form_post(&owner, &server, "create_token")
        .form(&[("token_name", "Back office"), ("token_role", "viewer")])
        .send()
        .await
        .expect("sent");
    let to = location(&created);
    assert!(
        to.contains("reveal=") && !to.contains("tb_"),
        "the secret is never in the URL: {to}"
    );
    let html = page_after(&owner, &server, &to).await;
    let shown = html.find(r#"id="token-secret""#).expect("the secret is shown");
    let start = shown + html[shown..].find("tb_").expect("a secret");
    let secret = &html[start..start + 67];
    assert!(secret.starts_with("tb_"), "{secret}");
    assert_eq!(outlets_status(&server, secret).await, 200);
    let again = page_after(&owner, &server, &to).await;
    assert!(!again.contains(secret), "the secret is shown only once");

    let zone = form_post(&owner, &server, "set_time_zone")
        .form(&[("time_zone", "Europe/Berlin")])
        .send()
        .await
        .expect("sent");
    let html = page_after(&owner, &server, &location(&zone)).await;
    assert!(html.contains("Times are now shown in Europe/Berlin"));
    server.stop().await;
}
