//! The web layer against hostile input (issue 16): where sign-in may send
//! people next, the size of a sign-in, the limit on failed sign-ins, how
//! sessions and the database are kept, trailing-slash addresses, the
//! security headers, and revoking tokens and removing users from the
//! command line.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, api_token, browser_like_client, cli, location, sign_in,
};

use super::browser::{screenshot, sign_in_as, start_browser};

/// A client like `browser_like_client`, connecting from `ip` (any 127.0.0.0/8
/// address reaches the server), so tests can sign in from several addresses.
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::from(ip))
        .build()
        .expect("client")
}

async fn post_sign_in(client: &reqwest::Client, server: &TestServer, email: &str, password: &str) -> reqwest::Response {
    client
        .post(server.url("/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("sign-in request")
}

#[tokio::test]
async fn sign_in_only_ever_leads_to_one_of_our_pages() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    let hostile = [
        "/\t/evil.example",
        "/%09/evil.example",
        "/%2F%2Fevil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/products",
        "/products\r\nSet-Cookie: planted=1",
        "/products\n",
        "/products/caf\u{e9}",
        "/login",
        "/no-such-page",
    ];
    for next in hostile {
        let response = client
            .post(server.url("/login"))
            .form(&[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD), ("next", next)])
            .send()
            .await
            .expect("sign-in request");
        assert_eq!(response.status(), 303, "sign-in with next={next:?}");
        assert_eq!(location(&response), "/products", "sign-in with next={next:?}");
        assert!(response.headers().get("set-cookie").is_some());

        // Signed in, the sign-in page sends a `next` in its query on at once.
        let query = serde_urlencoded::to_string([("next", next)]).expect("query");
        let response = client
            .get(server.url(&format!("/login?{query}")))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 303, "the sign-in page with next={next:?}");
        assert_eq!(location(&response), "/products", "the sign-in page with next={next:?}");
    }
    for ours in ["/products/3", "/history/runs/1", "/settings", "/products?q=sock&page=2"] {
        let response = client
            .post(server.url("/login"))
            .form(&[("email", DEMO_EMAIL), ("password", DEMO_PASSWORD), ("next", ours)])
            .send()
            .await
            .expect("sign-in request");
        assert_eq!(location(&response), ours);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_large_sign_in_is_refused_unread_and_a_long_email_is_never_echoed() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    // Twice the 4 KB limit, small enough to be sent whole before the server
    // answers: a larger body can be cut off mid-send by the early 413.
    let huge = format!("{}@shop.test", "a".repeat(8_000));
    let response = post_sign_in(&client, &server, &huge, "whatever-password").await;
    assert_eq!(response.status(), 413, "a sign-in body is a few fields");

    let long = format!("{}@shop.test", "b".repeat(300));
    let response = post_sign_in(&client, &server, &long, "whatever-password").await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.expect("html");
    assert!(html.contains("Wrong email or password."));
    assert!(
        !html.contains(&"b".repeat(300)),
        "an email too long to be anyone's is not echoed"
    );

    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    server.stop().await;
}

#[tokio::test]
async fn a_right_password_after_wrong_ones_is_answered_at_once() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = client_from([127, 0, 0, 2]);
    for _ in 0..9 {
        let wrong = post_sign_in(&client, &server, DEMO_EMAIL, "not-the-password").await;
        assert_eq!(wrong.status(), 401);
    }
    let started = Instant::now();
    let right = post_sign_in(&client, &server, DEMO_EMAIL, DEMO_PASSWORD).await;
    let took = started.elapsed();
    assert_eq!(right.status(), 303);
    assert!(took < Duration::from_secs(2), "the right password waited {took:?}");
    server.stop().await;
}

/// Sends `emails` wrong passwords at once from `client`; the statuses and
/// the Retry-After of each answer.
async fn wrong_passwords_at_once(
    client: &reqwest::Client,
    server: &TestServer,
    emails: Vec<String>,
) -> Vec<(u16, Option<u64>)> {
    let requests = emails.into_iter().map(|email| {
        let client = client.clone();
        let url = server.url("/login");
        tokio::spawn(async move {
            let response = client
                .post(url)
                .form(&[("email", email.as_str()), ("password", "not-the-password")])
                .send()
                .await
                .expect("sign-in request");
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            (response.status().as_u16(), retry_after)
        })
    });
    let mut answers = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        answers.push(request.await.expect("request task"));
    }
    answers
}

#[tokio::test]
async fn failed_sign_ins_past_the_limit_for_an_email_are_refused_at_once_with_retry_after() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "target@shop.test", "--role", "manager"],
        "target-password\n",
    )
    .await;
    assert!(ok, "{err}");

    let started = Instant::now();
    let answers = wrong_passwords_at_once(
        &client_from([127, 0, 0, 3]),
        &server,
        vec!["target@shop.test".to_owned(); 30],
    )
    .await;
    let took = started.elapsed();
    let wrong = answers.iter().filter(|(status, _)| *status == 401).count();
    let refused: Vec<_> = answers.iter().filter(|(status, _)| *status == 429).collect();
    assert_eq!((wrong, refused.len()), (10, 20), "{answers:?}");
    assert!(
        refused
            .iter()
            .all(|(_, after)| after.is_some_and(|s| (1..=900).contains(&s))),
        "every refusal says when to try again: {answers:?}"
    );
    assert!(took < Duration::from_secs(15), "30 attempts took {took:?}");

    // The email is refused from any address until its window ends, without a wait...
    let started = Instant::now();
    let locked = post_sign_in(
        &client_from([127, 0, 0, 4]),
        &server,
        "TARGET@shop.test",
        "target-password",
    )
    .await;
    assert_eq!(locked.status(), 429);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        locked.text().await.expect("html").contains("Too many failed sign-ins."),
        "the page says why"
    );
    // ...while another account signs in from the same address at once.
    let started = Instant::now();
    let other = post_sign_in(&client_from([127, 0, 0, 3]), &server, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(other.status(), 303);
    assert!(started.elapsed() < Duration::from_secs(2));
    server.stop().await;
}

#[tokio::test]
async fn failed_sign_ins_past_the_limit_for_an_address_are_refused_for_any_email() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = client_from([127, 0, 0, 5]);
    let emails = (0..30).map(|n| format!("guess{n}@shop.test")).collect();
    let answers = wrong_passwords_at_once(&client, &server, emails).await;
    assert!(answers.iter().all(|(status, _)| *status == 401), "{answers:?}");

    let refused = post_sign_in(&client, &server, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let elsewhere = post_sign_in(&client_from([127, 0, 0, 6]), &server, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(elsewhere.status(), 303, "other addresses are not held back");
    server.stop().await;
}

/// The session id the sign-in cookie carries.
fn session_id(response: &reqwest::Response) -> String {
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    cookie
        .strip_prefix("tillbridge_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("the session cookie")
        .to_owned()
}

#[tokio::test]
async fn the_database_keeps_a_hash_of_each_session_id_never_the_id() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    let response = post_sign_in(&client, &server, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 303);
    let id = session_id(&response);
    assert!(id.len() >= 16, "{id}");
    let page = client.get(server.url("/products")).send().await.expect("request");
    assert_eq!(page.status(), 200, "the session works");

    let file = db.url.strip_prefix("sqlite://").expect("a SQLite URL");
    let mut stored = Vec::new();
    for path in [file.to_owned(), format!("{file}-wal")] {
        if let Ok(bytes) = std::fs::read(&path) {
            stored.extend(bytes);
        }
    }
    assert!(stored.len() > 4096, "read the database");
    assert!(
        !stored.windows(id.len()).any(|w| w == id.as_bytes()),
        "the session id is in the database file"
    );
    server.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_and_its_folder_are_created_for_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let folder = data_dir.path().join("state").join("db");
    let file = folder.join("tillbridge.db");
    let db = Database {
        url: format!("sqlite://{}", file.display()),
        data_dir,
    };
    let (ok, _, err) = cli(&db, &["migrate"], "").await;
    assert!(ok, "{err}");
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600, "the database file");
    assert_eq!(mode(&folder), 0o700, "its folder");
    assert_eq!(
        mode(folder.parent().expect("parent")),
        0o700,
        "and the folder above, created too"
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_address_is_https() {
    let db = Database::sqlite();
    let server = TestServer::start(
        &db,
        &["serve", "--demo", "--public-url", "https://tillbridge.my-shop.example"],
    )
    .await;
    let response = post_sign_in(&browser_like_client(), &server, DEMO_EMAIL, DEMO_PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    server.stop().await;

    let server = TestServer::start(&db, &["serve", "--public-url", "http://127.0.0.1"]).await;
    let response = post_sign_in(&browser_like_client(), &server, DEMO_EMAIL, DEMO_PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(
        !cookie.contains("Secure"),
        "plain http keeps the cookie usable: {cookie}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_address_with_a_trailing_slash_redirects_to_its_page_behind_sign_in() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let client = browser_like_client();
    for (with_slash, page) in [
        ("/products/", "/products"),
        ("/products/1/?tab=stock", "/products/1?tab=stock"),
        ("/settings//", "/settings"),
        ("/export/stock.csv/", "/export/stock.csv"),
    ] {
        let response = client.get(server.url(with_slash)).send().await.expect("request");
        assert_eq!(response.status(), 308, "{with_slash}");
        assert_eq!(location(&response), page, "{with_slash}");
        assert!(
            response.text().await.expect("body").is_empty(),
            "no page shell for {with_slash}"
        );
        let followed = client.get(server.url(page)).send().await.expect("request");
        assert_eq!(followed.status(), 303, "{page} needs sign-in");
        assert!(location(&followed).starts_with("/login?next="));
    }
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let response = client.get(server.url("/products/")).send().await.expect("request");
    assert_eq!(location(&response), "/products");
    let page = client.get(server.url("/products")).send().await.expect("request");
    assert!(page.text().await.expect("html").contains("index-table"));
    server.stop().await;
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header on {}", response.url()))
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_pages_name_their_scripts_nonce() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let token = api_token(&db, "viewer").await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;

    let page = client.get(server.url("/products")).send().await.expect("request");
    let policy = header(&page, "content-security-policy").to_owned();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"))
        .to_owned();
    assert!(nonce.len() >= 16, "{policy}");
    assert!(
        policy.contains("frame-ancestors 'none'") && policy.contains("object-src 'none'"),
        "{policy}"
    );
    let script_src = policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .expect("a script-src");
    assert!(!script_src.contains("unsafe-inline"), "{policy}");
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    assert_eq!(header(&page, "referrer-policy"), "same-origin");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    let html = page.text().await.expect("html");
    let scripts: Vec<&str> = html
        .split("<script")
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or_default())
        .collect();
    assert!(!scripts.is_empty(), "the hydration bootstrap is inline");
    assert!(
        scripts.iter().all(|tag| tag.contains(&format!("nonce=\"{nonce}\""))),
        "every inline script carries the nonce: {scripts:?}"
    );
    let again = client.get(server.url("/products")).send().await.expect("request");
    assert!(
        !header(&again, "content-security-policy").contains(&nonce),
        "a new nonce each page"
    );

    let sign_in_page = reqwest::get(server.url("/login")).await.expect("request");
    let api = reqwest::Client::new()
        .get(server.url("/api/v1/outlets"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    for response in [&sign_in_page, &api] {
        let policy = header(response, "content-security-policy");
        assert!(
            !policy.contains("nonce-") && policy.contains("default-src 'self'"),
            "{policy}"
        );
        assert_eq!(header(response, "x-frame-options"), "DENY");
        assert_eq!(header(response, "referrer-policy"), "same-origin");
        assert_eq!(header(response, "x-content-type-options"), "nosniff");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_dashboard_hydrates_under_its_security_policy() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let profile = tempfile::tempdir().expect("profile dir");
    let (_driver, client) = start_browser(profile.path()).await;
    let outcome = async {
        sign_in_as(&client, &server, DEMO_EMAIL, DEMO_PASSWORD, "/products").await?;
        client
            .goto(&server.url("/channels"))
            .await
            .map_err(|e| format!("open /channels: {e}"))?;
        super::browser::wait_for_hydration(&client)
            .await
            .map_err(|e| format!("/channels never hydrated: {e}"))
    }
    .await;
    if outcome.is_err() {
        let _ = screenshot(&client, "hardening-hydration-failed").await;
    }
    let _ = client.close().await;
    outcome.unwrap_or_else(|e| panic!("browser test failed: {e}"));
    server.stop().await;
}

#[tokio::test]
async fn tokens_are_revoked_and_users_removed_from_the_command_line() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let token = api_token(&db, "manager").await;
    let outlets = |token: String| {
        let url = server.url("/api/v1/outlets");
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    };
    assert_eq!(outlets(token.clone()).await, 200);
    let (ok, out, err) = cli(&db, &["token", "list"], "").await;
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("manager test"))
        .unwrap_or_else(|| panic!("the token is listed:\n{out}"));
    let id = line.split('\t').next().expect("an id").to_owned();
    let (ok, out, err) = cli(&db, &["token", "revoke", &id], "").await;
    assert!(ok, "{err}");
    assert!(out.contains(&format!("Revoked API token {id}")), "{out}");
    assert_eq!(outlets(token).await, 401, "the API refuses a revoked token");
    let (ok, _, err) = cli(&db, &["token", "revoke", &id], "").await;
    assert!(!ok && err.contains("not found") && err.lines().count() == 1, "{err}");

    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "leaver@shop.test", "--role", "manager"],
        "leaver-password\n",
    )
    .await;
    assert!(ok, "{err}");
    let client = browser_like_client();
    sign_in(&server, &client, "leaver@shop.test", "leaver-password").await;
    let (ok, out, err) = cli(&db, &["user", "remove", "--email", "leaver@shop.test"], "").await;
    assert!(ok && out.contains("Removed leaver@shop.test"), "{out}{err}");
    let page = client.get(server.url("/products")).send().await.expect("request");
    assert_eq!(page.status(), 303, "the removed user's session ends");
    let refused = post_sign_in(&client, &server, "leaver@shop.test", "leaver-password").await;
    assert_eq!(refused.status(), 401);

    let (ok, _, err) = cli(&db, &["user", "remove", "--email", DEMO_EMAIL], "").await;
    assert!(!ok && err.contains("only owner"), "the last owner stays: {err}");
    let (ok, _, err) = cli(&db, &["user", "remove", "--email", "nobody@shop.test"], "").await;
    assert!(!ok && err.contains("not found"), "{err}");
    server.stop().await;
}
