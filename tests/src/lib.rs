//! Starts the real `tillbridge` binary (built by `scripts/build`) on a free
//! port with a fresh database, for HTTP and browser tests.

pub mod race;
pub mod shopify;
pub mod vendure;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use sync_core::storage::{RunKind, RunStatus};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

pub const DEMO_EMAIL: &str = "demo@tillbridge.test";
pub const DEMO_PASSWORD: &str = "tillbridge-demo";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The server binary; the test command builds it once before the tests.
/// TILLBRIDGE_BIN points elsewhere (the benchmark uses a release build).
pub fn binary() -> PathBuf {
    let path = std::env::var_os("TILLBRIDGE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/tillbridge"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build (scripts/test does) first",
        path.display()
    );
    path
}

/// Where a test server keeps its state.
pub struct Database {
    pub url: String,
    pub data_dir: tempfile::TempDir,
}

impl Database {
    /// A new database on the PostgreSQL server of TEST_DATABASE_URL (default
    /// postgres://postgres@127.0.0.1:5432/test); left behind for inspection.
    pub async fn postgres() -> Self {
        let admin_url =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let admin = sync_core::Storage::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is unreachable at {admin_url} ({e}); start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
        });
        let name = format!("tb_e2e_{}_{}", std::process::id(), free_port());
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        admin.close().await;
        let (base, _) = admin_url.rsplit_once('/').expect("TEST_DATABASE_URL names a database");
        Self {
            url: format!("{base}/{name}"),
            data_dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Opens the same database the server uses, to check its state.
    pub async fn storage(&self) -> sync_core::Storage {
        sync_core::Storage::connect(&self.url)
            .await
            .expect("open the test database")
    }

    /// A new SQLite file in a fresh temp folder.
    pub fn sqlite() -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", data_dir.path().join("tillbridge.db").display());
        Self { url, data_dir }
    }
}

/// Runs `tillbridge <args>` against `db`, feeding `stdin`; returns (status ok, stdout, stderr).
pub async fn cli(db: &Database, args: &[&str], stdin: &str) -> (bool, String, String) {
    cli_within(db, args, stdin, Duration::from_secs(60)).await
}

/// The tests' feed servers listen on loopback, which a store's feeds may
/// not reach unless the operator allows it: the harness allows it, as an
/// operator would for a feed on the shop's own network.
pub const TEST_FEED_NETWORKS: &str = "127.0.0.0/8,::1/128";

/// `cli` for commands that may take longer than a minute (seeding a large store).
pub async fn cli_within(db: &Database, args: &[&str], stdin: &str, limit: Duration) -> (bool, String, String) {
    cli_env(db, args, stdin, limit, &[]).await
}

/// `cli_within` with `env` set over the harness's own variables.
pub async fn cli_env(
    db: &Database,
    args: &[&str],
    stdin: &str,
    limit: Duration,
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(workspace_root())
        .env("DATABASE_URL", &db.url)
        .env("TILLBRIDGE_DATA_DIR", db.data_dir.path())
        .env("RUST_LOG", "warn")
        .env("TILLBRIDGE_FEED_ALLOW_NETWORKS", TEST_FEED_NETWORKS)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start tillbridge");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).await.expect("write stdin");
    }
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("tillbridge {args:?} did not finish within {limit:?}"))
        .expect("ran");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running `tillbridge serve`, killed when dropped.
pub struct TestServer {
    pub base: String,
    child: Child,
}

impl TestServer {
    /// Starts the server on a free port with the demo store loaded.
    pub async fn start_with_demo(db: &Database) -> Self {
        Self::start(db, &["serve", "--demo"]).await
    }

    pub async fn start(db: &Database, args: &[&str]) -> Self {
        Self::start_env(db, args, &[]).await
    }

    /// `start` with `env` set over the harness's own variables.
    pub async fn start_env(db: &Database, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(binary())
            .args(args)
            .current_dir(workspace_root())
            .env("DATABASE_URL", &db.url)
            .env("TILLBRIDGE_DATA_DIR", db.data_dir.path())
            .env("TILLBRIDGE_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .env("TILLBRIDGE_FEED_ALLOW_NETWORKS", TEST_FEED_NETWORKS)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start tillbridge serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let wait = async {
            let mut seen = Vec::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = line.split("listening on ").nth(1) {
                    return Ok(addr.trim().to_owned());
                }
                seen.push(line);
            }
            Err(seen.join("\n"))
        };
        let base = match tokio::time::timeout(Duration::from_secs(60), wait).await {
            Ok(Ok(base)) => base,
            Ok(Err(log)) => panic!("tillbridge exited before listening:\n{log}"),
            Err(_) => panic!("tillbridge did not listen within 60 s"),
        };
        // Keep draining the log so the server never blocks on a full pipe;
        // TILLBRIDGE_TEST_LOG names a file to keep it in, for debugging.
        let keep = std::env::var_os("TILLBRIDGE_TEST_LOG")
            .and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
        tokio::spawn(async move {
            use std::io::Write;
            let mut keep = keep;
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(file) = keep.as_mut() {
                    let _ = writeln!(file, "{line}");
                }
            }
        });
        Self { base, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's process id (for its memory in /proc), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Asks the server to stop (SIGTERM) and waits; true if it exited cleanly.
    pub async fn terminate(mut self) -> bool {
        let Some(pid) = self.child.id() else { return false };
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .is_ok_and(|s| s.success());
        let exited = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
        sent && matches!(exited, Ok(Ok(status)) if status.success())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A reqwest client that keeps cookies and does not follow redirects.
pub fn browser_like_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A dashboard form posted as a browser without JavaScript posts it: to
/// the server function's endpoint, asking for HTML, so the answer is a
/// redirect back to the page with the confirmation or the refusal.
pub fn form_post(client: &reqwest::Client, server: &TestServer, endpoint: &str) -> reqwest::RequestBuilder {
    client
        .post(server.url(&format!("/api/{endpoint}")))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header("origin", server.base.as_str())
}

/// Signs `client` in through the form; panics unless it succeeds.
pub async fn sign_in(server: &TestServer, client: &reqwest::Client, email: &str, password: &str) {
    let response = client
        .post(server.url("/login"))
        .form(&[("email", email), ("password", password), ("next", "/products")])
        .send()
        .await
        .expect("sign-in request");
    assert_eq!(response.status(), 303, "sign-in as {email} should redirect");
}

/// A free TCP port on 127.0.0.1 (for chromedriver, which cannot take port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Creates an API token with `role` through the CLI.
pub async fn api_token(db: &Database, role: &str) -> String {
    let (ok, out, err) = cli(
        db,
        &["token", "create", "--name", &format!("{role} test"), "--role", role],
        "",
    )
    .await;
    assert!(ok, "token create failed: {err}");
    out.trim().to_owned()
}

/// Posts a movements body; `key` becomes the Idempotency-Key header.
pub async fn post_movements(
    server: &TestServer,
    token: &str,
    body: impl Into<reqwest::Body>,
    key: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let mut request = reqwest::Client::new()
        .post(server.url("/api/v1/stock/movements"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body);
    if let Some(k) = key {
        request = request.header("idempotency-key", k);
    }
    request.send().await
}

/// Connects the Shopify test server as channel `name`, stocked at its
/// location `location` and combining the demo's three outlets. The demo's
/// own Auto Sync is turned off first, so a test pushes only what it chooses.
pub async fn connect_shopify(
    db: &Database,
    shop: &shopify::ShopifyTestServer,
    name: &str,
    location: &str,
) -> sync_core::domain::ChannelId {
    add_shopify_channel(db, shop, name, location, "downtown,harbour,warehouse", None).await
}

/// `tillbridge channel add shopify` for the test shop: stocked at its
/// location `location`, combining `outlets` (the first takes the orders),
/// and with `webhooks_to` (Tillbridge's address) its order webhooks are
/// registered there, signed with the shop's client secret. The demo's own
/// Auto Sync is turned off first.
pub async fn add_shopify_channel(
    db: &Database,
    shop: &shopify::ShopifyTestServer,
    name: &str,
    location: &str,
    outlets: &str,
    webhooks_to: Option<&str>,
) -> sync_core::domain::ChannelId {
    let (ok, _, err) = cli(db, &["autosync", "off", "--all"], "").await;
    assert!(ok, "{err}");
    let base = shop.base_url();
    let mut args = vec![
        "channel",
        "add",
        "shopify",
        "--name",
        name,
        "--shop-domain",
        "tillbridge-test.myshopify.com",
        "--api-base-url",
        &base,
        "--location",
        location,
        "--outlets",
        outlets,
    ];
    let mut stdin = format!("{}\n", shop.token());
    if let Some(url) = webhooks_to {
        args.extend(["--public-url", url]);
        stdin.push_str(&format!("{}\n", shop.client_secret()));
    }
    let (ok, out, err) = cli(db, &args, &stdin).await;
    assert!(ok, "channel add failed: {err}{out}");
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name(name)
        .await
        .expect("read")
        .expect("channel saved")
        .id;
    storage.close().await;
    channel
}

/// The first `n` demo SKUs, by product name.
pub async fn first_skus(db: &Database, n: usize) -> Vec<String> {
    let storage = db.storage().await;
    let page = storage
        .list_products(&sync_core::storage::ProductFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("products");
    storage.close().await;
    page.items
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .take(n)
        .collect()
}

/// Turns Auto Sync on for the products of `skus`, from the command line.
pub async fn auto_sync_on(db: &Database, skus: &[String]) {
    let mut args = vec!["autosync", "on", "--sku"];
    args.extend(skus.iter().map(String::as_str));
    let (ok, _, err) = cli(db, &args, "").await;
    assert!(ok, "{err}");
}

/// Waits until the server's start-up pull of every channel's orders is over,
/// so a test's own sync is not told the channel is busy.
pub async fn wait_for_startup_pulls(db: &Database) {
    let storage = db.storage().await;
    let channels = storage.list_channels().await.expect("channels").len();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let runs = storage.recent_runs(None, 200).await.expect("runs");
        let pulled = runs
            .iter()
            .filter(|r| r.kind == RunKind::PullOrders && r.status != RunStatus::Running)
            .filter_map(|r| r.channel_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let busy = runs.iter().any(|r| r.status == RunStatus::Running);
        if pulled >= channels && !busy {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the start-up pulls never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    storage.close().await;
}

/// Polls `done` until it holds; panics naming `what` after `secs` seconds.
pub async fn wait_until<F, Fut>(what: &str, secs: u64, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Where a form POST redirected to; panics if it did not redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("a redirect")
        .to_owned()
}

/// The notice a form's redirect carries, decoded.
pub fn notice(location: &str) -> String {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "notice")
        .map(|(_, v)| v)
        .unwrap_or_default()
}
