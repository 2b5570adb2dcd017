//! A real Vendure 3.7 for end-to-end tests, from the project's own harness
//! in `tests/vendure`: the harness is copied to `target/vendure-kit`,
//! `npm ci` runs there once (node_modules stays for later runs), and each
//! `VendureServer` is `node server.js` on a free port with an in-memory
//! SQLite, ready in about 2 s. Its order-webhook plugin posts to a relay in
//! the test process, which forwards to whatever address the test points it
//! at (a Tillbridge started later, or nowhere while Tillbridge is down).
//!
//! The test side speaks Vendure's GraphQL itself (an Admin API client and
//! a Shop API shopper), independently of the connector under test, and
//! serves product images from a tiny web server of its own.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

use crate::workspace_root;

/// Where the harness comes from (read only) and where it is installed.
fn kit_source() -> PathBuf {
    workspace_root().join("tests/vendure")
}

fn kit_dir() -> PathBuf {
    workspace_root().join("target/vendure-kit")
}

static INSTALL: Mutex<bool> = Mutex::new(false);

/// Copies the kit into `target/vendure-kit` and runs `npm ci` there, once:
/// a marker records the lockfile it installed, so later runs skip it.
pub fn install_kit() -> PathBuf {
    let mut done = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = kit_dir();
    if *done {
        return dir;
    }
    let source = kit_source();
    assert!(
        source.join("package-lock.json").exists(),
        "the Vendure harness is missing at {}",
        source.display()
    );
    std::fs::create_dir_all(&dir).expect("create target/vendure-kit");
    copy_dir(&source, &dir);
    let lock = std::fs::read(source.join("package-lock.json")).expect("read the kit's lockfile");
    let marker = dir.join("node_modules/.tillbridge-installed");
    // The marker is the lockfile that was installed.
    if std::fs::read(&marker).ok().as_deref() != Some(lock.as_slice()) {
        let node = std::process::Command::new("node")
            .arg("--version")
            .output()
            .expect("node is needed for the Vendure tests (Node >= 20; scripts/test installs it)");
        let version = String::from_utf8_lossy(&node.stdout).trim().to_owned();
        let major: u32 = version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        assert!(major >= 20, "Vendure 3.7 needs Node >= 20, found {version}");
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("run npm ci for the Vendure kit");
        assert!(status.success(), "npm ci failed in {}", dir.display());
        std::fs::write(&marker, &lock).expect("write the install marker");
    }
    *done = true;
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the kit") {
        let entry = entry.expect("kit entry");
        let name = entry.file_name();
        if name == "node_modules" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("create a kit folder");
            copy_dir(&entry.path(), &target);
        } else {
            let text = std::fs::read(entry.path()).expect("read a kit file");
            if std::fs::read(&target).ok().as_deref() != Some(text.as_slice()) {
                // The source is read-only; the copy must stay writable.
                let _ = std::fs::remove_file(&target);
                std::fs::write(&target, text).expect("copy a kit file");
            }
        }
    }
}

/// Forwards the plugin's order events to the current target, if any.
struct Relay {
    target: Mutex<Option<String>>,
    received: AtomicU64,
    forwarded: AtomicU64,
}

async fn relay(listener: TcpListener, relay: Arc<Relay>) {
    let client = reqwest::Client::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let relay = relay.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let relay = relay.clone();
                let client = client.clone();
                async move {
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    relay.received.fetch_add(1, Ordering::SeqCst);
                    let target = relay.target.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    let status = match target {
                        Some(url) => match client
                            .post(url)
                            .header("content-type", "application/json")
                            .body(body.to_vec())
                            .send()
                            .await
                        {
                            Ok(r) => {
                                relay.forwarded.fetch_add(1, Ordering::SeqCst);
                                StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY)
                            }
                            Err(_) => StatusCode::BAD_GATEWAY,
                        },
                        None => StatusCode::BAD_GATEWAY,
                    };
                    let mut response = Response::new(Full::new(Bytes::new()));
                    *response.status_mut() = status;
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A running Vendure, stopped when dropped.
pub struct VendureServer {
    pub base: String,
    child: Child,
    relay: Arc<Relay>,
    relay_task: tokio::task::JoinHandle<()>,
    admin: AdminClient,
    api_key: String,
}

impl Drop for VendureServer {
    fn drop(&mut self) {
        self.relay_task.abort();
        let _ = self.child.start_kill();
    }
}

impl VendureServer {
    /// Installs the kit if needed, starts Vendure on a free port and makes
    /// an Admin API key for Tillbridge.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A store as Vendure ships, without the barcode and weight custom fields.
    pub async fn start_plain() -> Self {
        Self::start_with(&[("VENDURE_PLAIN_VARIANTS", "1")]).await
    }

    async fn start_with(env: &[(&str, &str)]) -> Self {
        let dir = tokio::task::spawn_blocking(install_kit).await.expect("install the kit");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let relay_addr = listener.local_addr().expect("relay address");
        let relay_state = Arc::new(Relay {
            target: Mutex::new(None),
            received: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
        });
        let relay_task = tokio::spawn(relay(listener, relay_state.clone()));
        let port = crate::free_port();
        let mut child = Command::new("node")
            .arg("server.js")
            .current_dir(&dir)
            .env("VENDURE_PORT", port.to_string())
            .env("VENDURE_HOST", "127.0.0.1")
            .env("VENDURE_LOG_LEVEL", "0")
            .env("VENDURE_DISABLE_TELEMETRY", "true")
            .env("VENDURE_ORDER_WEBHOOK_URL", format!("http://{relay_addr}/"))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start node server.js");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let errors = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = errors.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut seen = sink.lock().unwrap_or_else(|p| p.into_inner());
                if seen.len() < 200 {
                    seen.push(line);
                }
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("VENDURE_READY ").nth(1) {
                    return Some(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
            None
        };
        let base = match tokio::time::timeout(Duration::from_secs(90), wait).await {
            Ok(Some(base)) => base,
            other => panic!(
                "Vendure did not get ready ({}):\n{}",
                if other.is_err() { "timed out" } else { "exited" },
                errors.lock().unwrap_or_else(|p| p.into_inner()).join("\n")
            ),
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut admin = AdminClient::new(&base);
        admin.login("superadmin", "superadmin").await;
        let roles = admin.call("query { roles { items { id code } } }", json!({})).await;
        let role = roles["roles"]["items"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["code"] == "__super_admin_role__"))
            .map(|r| r["id"].clone())
            .expect("the super admin role");
        let key = admin
            .call(
                "mutation Key($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey } }",
                json!({ "input": { "roleIds": [role], "translations": [{ "languageCode": "en", "name": "tillbridge" }] } }),
            )
            .await;
        let api_key = key["createApiKey"]["apiKey"].as_str().expect("an API key").to_owned();
        Self {
            base,
            child,
            relay: relay_state,
            relay_task,
            admin,
            api_key,
        }
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn admin(&self) -> &AdminClient {
        &self.admin
    }

    /// Where the plugin's order events go from now on; None drops them
    /// (as a delivery to a stopped Tillbridge would be lost).
    pub fn forward_webhooks_to(&self, url: Option<String>) {
        *self.relay.target.lock().unwrap_or_else(|p| p.into_inner()) = url;
    }

    /// Order events the plugin sent, and how many reached the target.
    pub fn webhooks(&self) -> (u64, u64) {
        (
            self.relay.received.load(Ordering::SeqCst),
            self.relay.forwarded.load(Ordering::SeqCst),
        )
    }

    pub async fn create_stock_location(&self, name: &str) -> String {
        let data = self
            .admin
            .call(
                "mutation L($input: CreateStockLocationInput!) { createStockLocation(input: $input) { id } }",
                json!({ "input": { "name": name, "description": "" } }),
            )
            .await;
        data["createStockLocation"]["id"]
            .as_str()
            .expect("a location id")
            .to_owned()
    }

    /// Variants by SKU with product, options and stock levels (any order).
    pub async fn variants(&self, skus: &[String]) -> Vec<Value> {
        let mut out = Vec::new();
        for chunk in skus.chunks(100) {
            let data = self
                .admin
                .call(
                    "query V($skus: [String!]!) {
                       productVariants(options: { filter: { sku: { in: $skus } }, take: 100 }) {
                         items { id sku name price enabled trackInventory
                           product { id name description enabled }
                           options { code name group { name } }
                           stockLevels { stockLocationId stockOnHand stockAllocated } }
                       }
                     }",
                    json!({ "skus": chunk }),
                )
                .await;
            out.extend(data["productVariants"]["items"].as_array().cloned().unwrap_or_default());
        }
        out
    }

    /// A product with what seed 004 syncs to it: name, description,
    /// enabled, facet values, images (assets in order, the featured one)
    /// and variants with options, custom fields (when `custom_fields`) and
    /// stock. Null when there is no such product.
    pub async fn product(&self, id: &str, custom_fields: bool) -> Value {
        let custom = if custom_fields {
            "customFields { barcode weight }"
        } else {
            ""
        };
        let query = format!(
            "query P($id: ID!) {{ product(id: $id) {{
               id name slug description enabled
               facetValues {{ id name facet {{ code }} }}
               featuredAsset {{ id name width height }}
               assets {{ id name width height mimeType fileSize }}
               optionGroups {{ id name options {{ name }} }}
               variants {{ id sku name price enabled {custom}
                 options {{ name group {{ name }} }}
                 stockLevels {{ stockLocationId stockOnHand stockAllocated }} }}
             }} }}"
        );
        self.admin.call(&query, json!({ "id": id })).await["product"].clone()
    }

    /// How many assets the store holds in all.
    pub async fn asset_count(&self) -> i64 {
        let data = self.admin.call("query { assets { totalItems } }", json!({})).await;
        data["assets"]["totalItems"].as_i64().unwrap_or(0)
    }

    /// What a shopper can buy of each SKU at `location`: on hand - allocated.
    pub async fn saleable(&self, skus: &[String], location: &str) -> std::collections::HashMap<String, i64> {
        self.variants(skus)
            .await
            .iter()
            .filter_map(|v| {
                let level = v["stockLevels"]
                    .as_array()?
                    .iter()
                    .find(|l| l["stockLocationId"].as_str() == Some(location))?;
                Some((
                    v["sku"].as_str()?.to_owned(),
                    level["stockOnHand"].as_i64()? - level["stockAllocated"].as_i64()?,
                ))
            })
            .collect()
    }

    /// Stock adjustments that raised on hand, per variant id: Vendure records
    /// each absolute write as the difference. Placed orders only allocate,
    /// so while stock only goes down a raise re-offers a unit sold.
    pub async fn raises(&self, variant_ids: &[String]) -> u64 {
        let mut raises = 0;
        for id in variant_ids {
            let data = self
                .admin
                .call(
                    "query M($id: ID!) { productVariant(id: $id) {
                       stockMovements(options: { take: 1000 }) { items { ... on StockMovement { type quantity } } }
                     } }",
                    json!({ "id": id }),
                )
                .await;
            raises += data["productVariant"]["stockMovements"]["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["type"] == "ADJUSTMENT" && m["quantity"].as_i64().unwrap_or(0) > 0)
                .count() as u64;
        }
        raises
    }

    /// Cancels a placed order (its allocation is released).
    pub async fn cancel_order(&self, order_id: &str) {
        let data = self
            .admin
            .call(
                "mutation C($input: CancelOrderInput!) { cancelOrder(input: $input) { __typename ... on ErrorResult { message } } }",
                json!({ "input": { "orderId": order_id, "reason": "test" } }),
            )
            .await;
        assert_eq!(data["cancelOrder"]["__typename"], "Order", "{data}");
    }

    /// A shopper buys `lines` (variant id, quantity) through the Shop API.
    /// Ok(order id) when the order is placed; Err(why) when Vendure refused
    /// (not enough stock, say).
    pub async fn place_order(&self, lines: &[(String, i64)]) -> Result<String, String> {
        let mut shop = GqlClient::new(&format!("{}/shop-api", self.base));
        for (variant, quantity) in lines {
            let data = shop
                .call(
                    "mutation A($v: ID!, $q: Int!) { addItemToOrder(productVariantId: $v, quantity: $q) {
                       __typename ... on Order { id totalQuantity } ... on ErrorResult { errorCode message }
                       ... on InsufficientStockError { quantityAvailable } } }",
                    json!({ "v": variant, "q": quantity }),
                )
                .await?;
            if data["addItemToOrder"]["__typename"] != "Order" {
                return Err(format!("addItemToOrder: {}", data["addItemToOrder"]));
            }
        }
        let n = rand::random::<u32>();
        let steps: [(&str, Value); 3] = [
            (
                "mutation C($input: CreateCustomerInput!) { setCustomerForOrder(input: $input) { __typename ... on ErrorResult { message } } }",
                json!({ "input": { "emailAddress": format!("buyer-{n}@example.com"), "firstName": "Test", "lastName": "Buyer" } }),
            ),
            (
                "mutation S($input: CreateAddressInput!) { setOrderShippingAddress(input: $input) { __typename ... on ErrorResult { message } } }",
                json!({ "input": { "fullName": "Test Buyer", "streetLine1": "1 Main St", "city": "Springfield", "postalCode": "12345", "countryCode": "US" } }),
            ),
            ("query { eligibleShippingMethods { id } }", json!({})),
        ];
        let mut shipping = Value::Null;
        for (query, vars) in steps {
            let data = shop.call(query, vars).await?;
            if let Some(methods) = data.get("eligibleShippingMethods") {
                shipping = methods[0]["id"].clone();
            }
        }
        let data = shop
            .call(
                "mutation M($ids: [ID!]!) { setOrderShippingMethod(shippingMethodId: $ids) { __typename ... on ErrorResult { message } } }",
                json!({ "ids": [shipping] }),
            )
            .await?;
        if data["setOrderShippingMethod"]["__typename"] != "Order" {
            return Err(format!("setOrderShippingMethod: {data}"));
        }
        let data = shop
            .call(
                "mutation T { transitionOrderToState(state: \"ArrangingPayment\") { __typename ... on Order { id } ... on OrderStateTransitionError { message transitionError } } }",
                json!({}),
            )
            .await?;
        if data["transitionOrderToState"]["__typename"] != "Order" {
            return Err(format!("transitionOrderToState: {data}"));
        }
        let data = shop
            .call(
                "mutation P($input: PaymentInput!) { addPaymentToOrder(input: $input) { __typename ... on Order { id state } ... on ErrorResult { errorCode message } } }",
                json!({ "input": { "method": "test-payment", "metadata": {} } }),
            )
            .await?;
        let placed = &data["addPaymentToOrder"];
        if placed["__typename"] == "Order" {
            Ok(placed["id"].as_str().unwrap_or_default().to_owned())
        } else {
            Err(format!("addPaymentToOrder: {placed}"))
        }
    }
}

/// GraphQL over HTTP with Vendure's session token header.
pub struct GqlClient {
    url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl GqlClient {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            token: None,
            http: reqwest::Client::new(),
        }
    }

    /// Ok(data) or Err(the GraphQL errors / transport failure).
    pub async fn call(&mut self, query: &str, variables: Value) -> Result<Value, String> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = &self.token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        if let Some(t) = response
            .headers()
            .get("vendure-auth-token")
            .and_then(|v| v.to_str().ok())
        {
            self.token = Some(t.to_owned());
        }
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if let Some(errors) = body.get("errors") {
            return Err(errors.to_string());
        }
        Ok(body["data"].clone())
    }
}

/// The Admin API as the superadmin (the test's own view of the store).
pub struct AdminClient {
    url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl AdminClient {
    fn new(base: &str) -> Self {
        Self {
            url: format!("{base}/admin-api"),
            token: None,
            http: reqwest::Client::new(),
        }
    }

    async fn login(&mut self, user: &str, password: &str) {
        let mut client = GqlClient::new(&self.url);
        let data = client
            .call(
                "mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { __typename } }",
                json!({ "u": user, "p": password }),
            )
            .await
            .expect("log in to Vendure");
        assert_eq!(data["login"]["__typename"], "CurrentUser");
        self.token = client.token;
    }

    /// Panics on GraphQL errors: the test's own calls must work.
    pub async fn call(&self, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = &self.token {
            request = request.bearer_auth(t);
        }
        let body: Value = request
            .send()
            .await
            .expect("Vendure answers")
            .json()
            .await
            .expect("JSON");
        assert!(body.get("errors").is_none(), "Vendure refused {query}: {body}");
        body["data"].clone()
    }
}

/// Connects `vendure` as channel `name` through the CLI (the key on stdin),
/// stocked at its location `location`, over `outlets` with the first taking
/// orders. The demo's own Auto Sync is turned off first.
pub async fn connect_vendure(
    db: &crate::Database,
    vendure: &VendureServer,
    name: &str,
    location: &str,
    outlets: &str,
) -> sync_core::domain::ChannelId {
    connect_vendure_with_webhook(db, vendure, name, location, outlets)
        .await
        .0
}

/// As `connect_vendure`, with the path of the channel's webhook address
/// (`/webhooks/vendure/ID/SECRET`) the command line prints once.
pub async fn connect_vendure_with_webhook(
    db: &crate::Database,
    vendure: &VendureServer,
    name: &str,
    location: &str,
    outlets: &str,
) -> (sync_core::domain::ChannelId, String) {
    const PUBLIC: &str = "https://tillbridge.invalid";
    let (ok, _, err) = crate::cli(db, &["autosync", "off", "--all"], "").await;
    assert!(ok, "{err}");
    let args = [
        "channel",
        "add",
        "vendure",
        "--name",
        name,
        "--api-base-url",
        &vendure.base,
        "--stock-location",
        location,
        "--outlets",
        outlets,
        "--public-url",
        PUBLIC,
    ];
    let (ok, out, err) = crate::cli(db, &args, &format!("{}\n", vendure.api_key())).await;
    assert!(ok, "channel add vendure failed: {err}{out}");
    let path = out
        .split("VENDURE_ORDER_WEBHOOK_URL=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|url| url.strip_prefix(PUBLIC))
        .unwrap_or_else(|| panic!("no webhook address printed: {out}"))
        .to_owned();
    let storage = db.storage().await;
    let channel = storage
        .channel_by_name(name)
        .await
        .expect("read")
        .expect("channel saved")
        .id;
    storage.close().await;
    (channel, path)
}

/// What an `ImageServer` serves: path → (Content-Type, body).
type Files = Arc<Mutex<std::collections::HashMap<String, (&'static str, Vec<u8>)>>>;

/// A tiny web server of product images for a test: each path serves what
/// was put there, anything else is 404. Stopped when dropped.
pub struct ImageServer {
    base: String,
    files: Files,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ImageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ImageServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the image server");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let files: Files = Arc::default();
        let served = files.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let files = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let found = files
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get(req.uri().path())
                            .cloned();
                        async move {
                            let response = match found {
                                Some((content_type, bytes)) => Response::builder()
                                    .header("content-type", content_type)
                                    .body(Full::new(Bytes::from(bytes))),
                                None => Response::builder()
                                    .status(StatusCode::NOT_FOUND)
                                    .body(Full::new(Bytes::from_static(b"not found"))),
                            };
                            Ok::<_, Infallible>(response.expect("a response"))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { base, files, task }
    }

    /// Serves a GIF of `width` × `height` at `path`; returns its address.
    pub fn gif(&self, path: &str, width: u16, height: u16) -> String {
        self.put(path, "image/gif", gif(width, height))
    }

    /// Serves `bytes` as `content_type` at `path`; returns its address.
    pub fn put(&self, path: &str, content_type: &'static str, bytes: Vec<u8>) -> String {
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_owned(), (content_type, bytes));
        format!("{}{path}", self.base)
    }

    /// An address on this server that serves nothing (404).
    pub fn missing(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A valid one-pixel GIF whose header says `width` × `height`: what a
/// store reads as the image's size, so a test can tell images apart.
pub fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    // A global colour table of two colours, black and white.
    out.extend_from_slice(&[0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff]);
    // One 1×1 image: its descriptor, then LZW data for one pixel.
    out.push(0x2c);
    for n in [0u16, 0, 1, 1] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&[0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b]);
    out
}
