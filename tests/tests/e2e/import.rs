//! Stock and catalog files and inventory feeds through the real binary: the
//! command line, the dashboard's upload form, the export taken back into a
//! fresh database, and feeds served by a tiny local HTTP server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use sync_core::Storage;
use sync_core::domain::{MovementReason, OutletCode};
use sync_core::storage::{ProductDetail, ProductFilter, RunFilter, content_hash};
use tillbridge_tests::{
    DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, browser_like_client, cli, cli_env, location, notice, sign_in,
};

/// Lines of the three bad rows in the 5,000-row file.
const BAD_LINES: [u64; 3] = [102, 2503, 5001];

/// Loads the demo store and adds a fourth outlet, so 1,629 SKUs × 4
/// outlets give more than 5,000 distinct rows.
async fn demo_with_four_outlets(db: &Database) -> Storage {
    let (ok, _, err) = cli(db, &["demo"], "").await;
    assert!(ok, "{err}");
    let storage = db.storage().await;
    storage
        .create_outlet(&OutletCode::parse("backroom").expect("valid"), "Back room")
        .await
        .expect("outlet");
    storage
}

/// Every (SKU, outlet) pair of the catalog, SKUs in name order.
async fn pairs(storage: &Storage) -> Vec<(String, String)> {
    let outlets: Vec<String> = storage
        .list_outlets()
        .await
        .expect("outlets")
        .into_iter()
        .map(|o| o.code.to_string())
        .collect();
    let mut out = Vec::new();
    for p in all_products(storage).await {
        for v in p.variants {
            for o in &outlets {
                out.push((v.sku.clone(), o.clone()));
            }
        }
    }
    out
}

/// `sku,outlet,count` with 5,003 rows, bad on `BAD_LINES` (header = line 1).
fn five_thousand_rows(pairs: &[(String, String)], with_bad: bool) -> String {
    let mut file = String::from("sku,outlet,count\n");
    for (i, (sku, outlet)) in pairs.iter().take(5003).enumerate() {
        let line = i as u64 + 2;
        let row = match (with_bad, BAD_LINES.iter().position(|l| *l == line)) {
            (true, Some(0)) => format!("{sku},{outlet},lots"),
            (true, Some(1)) => format!("NO-SUCH-SKU,{outlet},4"),
            (true, Some(2)) => format!("{sku},moon,4"),
            _ => format!("{sku},{outlet},{}", i % 50 + 1),
        };
        file.push_str(&row);
        file.push('\n');
    }
    file
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write file");
    path.display().to_string()
}

/// The line numbers of "  line N: …" in a command's error output.
fn bad_lines(stderr: &str) -> Vec<u64> {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("line ")?.split(':').next()?.parse().ok())
        .collect()
}

async fn stock_export(db: &Database) -> String {
    let (ok, out, err) = cli(db, &["export", "--stock", "-"], "").await;
    assert!(ok, "{err}");
    out
}

async fn five_thousand_rows_are_refused_then_applied_from_the_command_line(db: &Database) {
    let storage = demo_with_four_outlets(db).await;
    let pairs = pairs(&storage).await;
    let dir = tempfile::tempdir().expect("dir");
    let bad = write(dir.path(), "stocktake.csv", five_thousand_rows(&pairs, true));
    let stock_before = stock_export(db).await;
    let ledger_before = storage.count_movements(None).await.expect("count");

    let started = Instant::now();
    let (ok, out, err) = cli(db, &["import", "stock", &bad], "").await;
    let preview_time = started.elapsed();
    assert!(!ok, "a preview with bad rows fails");
    assert!(out.contains("5003 rows") && out.contains("3 bad rows"), "{out}");
    assert_eq!(bad_lines(&err), BAD_LINES, "{err}");

    let (ok, _, err) = cli(db, &["import", "stock", &bad, "--apply"], "").await;
    assert!(!ok);
    assert_eq!(bad_lines(&err), BAD_LINES, "{err}");
    assert!(err.contains("count \"lots\" is not a whole number"), "{err}");
    assert!(err.contains("unknown SKU \"NO-SUCH-SKU\""), "{err}");
    assert!(err.contains("unknown outlet \"moon\""), "{err}");
    assert!(err.contains("error: 3 bad rows; nothing was applied"), "{err}");
    assert_eq!(
        storage.count_movements(None).await.expect("count"),
        ledger_before,
        "the ledger is unchanged"
    );
    assert_eq!(stock_export(db).await, stock_before, "stock is unchanged");

    let good = write(dir.path(), "fixed.csv", five_thousand_rows(&pairs, false));
    let started = Instant::now();
    let (ok, out, err) = cli(db, &["import", "stock", &good, "--apply"], "").await;
    let apply_time = started.elapsed();
    assert!(ok, "{err}");
    let changed = storage
        .count_movements(Some(MovementReason::FileUpload))
        .await
        .expect("count");
    assert!(changed > 4000, "{out}");
    assert!(out.contains(&format!("{changed} changes applied")), "{out}");
    let after = stock_export(db).await;
    let sample = 4001;
    let (sku, outlet) = &pairs[sample];
    assert!(
        after.contains(&format!("\n{sku},{outlet},{}\n", sample % 50 + 1)),
        "{sku} at {outlet}"
    );
    eprintln!(
        "5,003 rows on {}: preview with 3 bad rows {:.2} s, apply of 5,003 rows {:.2} s (each including process start)",
        db.url.split(':').next().unwrap_or_default(),
        preview_time.as_secs_f64(),
        apply_time.as_secs_f64()
    );
    storage.close().await;
}

#[tokio::test]
async fn a_5000_row_stock_file_with_3_bad_rows_is_refused_with_their_lines_and_nothing_applied() {
    five_thousand_rows_are_refused_then_applied_from_the_command_line(&Database::sqlite()).await;
}

#[tokio::test]
async fn the_5000_row_stock_file_is_refused_and_applied_the_same_on_postgresql() {
    five_thousand_rows_are_refused_then_applied_from_the_command_line(&Database::postgres().await).await;
}

/// A multipart body with these text fields and one file.
fn multipart(fields: &[(&str, &str)], file_name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "tillbridge-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads a stock file and returns where the server sent the browser.
async fn upload(server: &TestServer, client: &reqwest::Client, file_name: &str, content: &[u8]) -> String {
    upload_as(server, client, "stock", file_name, content).await
}

async fn upload_as(
    server: &TestServer,
    client: &reqwest::Client,
    kind: &str,
    file_name: &str,
    content: &[u8],
) -> String {
    let (content_type, body) = multipart(&[("kind", kind), ("mode", ""), ("outlet", "")], file_name, content);
    let response = tillbridge_tests::form_post(client, server, "upload_file")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 303);
    location(&response)
}

async fn page(server: &TestServer, client: &reqwest::Client, path: &str) -> String {
    let response = client.get(server.url(path)).send().await.expect("page");
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.expect("html")
}

/// The `data-line` values of the rows of the table with this id.
fn table_lines(html: &str, id: &str) -> Vec<u64> {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else {
        return Vec::new();
    };
    let table = &html[start..start + html[start..].find("</table>").unwrap_or(0)];
    table
        .split("data-line=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

async fn apply(server: &TestServer, client: &reqwest::Client, token: &str, hash: &str) -> String {
    let response = tillbridge_tests::form_post(client, server, "apply_upload")
        .form(&[("token", token), ("hash", hash)])
        .send()
        .await
        .expect("apply");
    assert_eq!(response.status(), 303);
    location(&response)
}

#[tokio::test]
async fn the_dashboard_shows_the_bad_lines_refuses_the_file_and_applies_a_good_one_once() {
    let db = Database::sqlite();
    let server = TestServer::start_with_demo(&db).await;
    let storage = db.storage().await;
    storage
        .create_outlet(&OutletCode::parse("backroom").expect("valid"), "Back room")
        .await
        .expect("outlet");
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let ledger_before = storage.count_movements(None).await.expect("count");

    let bad = five_thousand_rows(&pairs(&storage).await, true);
    let to = upload(&server, &client, "stocktake.csv", bad.as_bytes()).await;
    let token = to.strip_prefix("/import?upload=").expect("the preview page").to_owned();
    let html = page(&server, &client, &to).await;
    assert_eq!(table_lines(&html, "bad-rows"), BAD_LINES, "the three bad lines");
    assert!(html.contains("id=\"import-refused\"") && !html.contains("id=\"apply-form\""));
    assert!(html.contains("5003 rows") && html.contains("3 bad rows"), "the summary");
    // Applying it anyway (a hand-made request) is refused too.
    let back = apply(&server, &client, &token, &content_hash(bad.as_bytes())).await;
    assert!(notice(&back).contains("3 bad rows; nothing was applied"), "{back}");
    assert_eq!(storage.count_movements(None).await.expect("count"), ledger_before);

    let good = "sku,outlet,count,delta\r\nTEE-0059-S-BLA,downtown,41,\r\n\"TEE-0059-M-BLA\",harbour,,-2\r\n";
    let skus = storage
        .variant_ids_by_sku(&[sync_core::domain::Sku::parse("TEE-0059-S-BLA").expect("valid")])
        .await
        .expect("read");
    if skus.is_empty() {
        panic!("the demo's SKUs changed; pick two others for this test");
    }
    let to = upload(&server, &client, "adjust.csv", good.as_bytes()).await;
    let token = to.strip_prefix("/import?upload=").expect("the preview page").to_owned();
    let html = page(&server, &client, &to).await;
    assert_eq!(table_lines(&html, "changes"), [2, 3]);
    assert!(html.contains("id=\"apply-form\""), "an Apply button");
    let hash = content_hash(good.as_bytes());
    assert!(html.contains(&hash), "the form carries the file's hash");

    let back = apply(&server, &client, &token, "0000").await;
    assert!(notice(&back).contains("not the one previewed"), "{back}");
    let back = apply(&server, &client, &token, &hash).await;
    assert!(
        notice(&back).contains("Applied 2 stock changes from adjust.csv"),
        "{back}"
    );
    assert_eq!(
        storage
            .count_movements(Some(MovementReason::FileUpload))
            .await
            .expect("count"),
        2
    );
    let downtown = storage
        .list_outlets()
        .await
        .expect("outlets")
        .into_iter()
        .find(|o| o.code.as_str() == "downtown")
        .expect("downtown");
    assert_eq!(
        storage
            .ledger_total(skus["TEE-0059-S-BLA"], downtown.id)
            .await
            .expect("sum"),
        41
    );
    let again = apply(&server, &client, &token, &hash).await;
    assert!(notice(&again).contains("already applied or has expired"), "{again}");
    assert_eq!(
        storage
            .count_movements(Some(MovementReason::FileUpload))
            .await
            .expect("count"),
        2,
        "applied once"
    );

    // The catalog download, edited and uploaded again: one price changes.
    let csv = client
        .get(server.url("/export/catalog.csv"))
        .send()
        .await
        .expect("download");
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment; filename=\"tillbridge-catalog-"))
    );
    let catalog = csv.text().await.expect("body");
    assert!(catalog.starts_with("handle,name,description,"));
    let row = catalog
        .lines()
        .find(|l| l.contains(",TEE-0059-S-BLA,"))
        .expect("the SKU's row");
    let line = catalog.lines().position(|l| l == row).expect("there") + 1;
    // The variant's own columns come last and hold no commas: sku, barcode, price, ….
    let (head, tail) = row.split_once(",TEE-0059-S-BLA,").expect("the SKU's cell");
    let mut cells: Vec<&str> = tail.split(',').collect();
    cells[1] = "99.95";
    let edited_row = format!("{head},TEE-0059-S-BLA,{}", cells.join(","));
    let edited = catalog.replace(row, &edited_row);
    let to = upload_as(&server, &client, "catalog", "catalog.csv", edited.as_bytes()).await;
    let token = to.strip_prefix("/import?upload=").expect("the preview page").to_owned();
    let html = page(&server, &client, &to).await;
    assert_eq!(table_lines(&html, "changes"), [line as u64], "one product changes");
    assert!(html.contains("price of TEE-0059-S-BLA"), "the change is named");
    let back = apply(&server, &client, &token, &content_hash(edited.as_bytes())).await;
    assert!(notice(&back).contains("Applied 1 product changes"), "{back}");
    let variant = storage
        .list_products(&ProductFilter {
            sku: Some(sync_core::domain::Sku::parse("TEE-0059-S-BLA").expect("valid")),
            limit: 1,
            ..ProductFilter::default()
        })
        .await
        .expect("read")
        .items
        .remove(0)
        .variants
        .into_iter()
        .find(|v| v.sku == "TEE-0059-S-BLA")
        .expect("variant");
    assert_eq!(variant.price_minor, 9995);

    // Viewers may download but not import.
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "--email", "viewer@shop.test", "--role", "viewer"],
        "viewer password\n",
    )
    .await;
    assert!(ok, "{err}");
    let viewer = browser_like_client();
    sign_in(&server, &viewer, "viewer@shop.test", "viewer password").await;
    let refused = upload(&server, &viewer, "adjust.csv", good.as_bytes()).await;
    assert!(notice(&refused).contains("can view but not change"), "{refused}");
    assert_eq!(
        viewer
            .get(server.url("/export/stock.csv"))
            .send()
            .await
            .expect("download")
            .status(),
        200
    );
    let anonymous = browser_like_client()
        .get(server.url("/export/catalog.csv"))
        .send()
        .await
        .expect("request");
    assert_ne!(anonymous.status(), 200, "downloads need a signed-in user");
    storage.close().await;
    server.stop().await;
}

async fn all_products(storage: &Storage) -> Vec<ProductDetail> {
    let mut filter = ProductFilter {
        limit: 500,
        ..ProductFilter::default()
    };
    let mut out = Vec::new();
    loop {
        let page = storage.list_products(&filter).await.expect("page");
        out.extend(page.items);
        match page.next_after {
            Some(a) => filter.after = Some(a),
            None => return out,
        }
    }
}

/// A product with everything a database assigns (ids, times) taken out,
/// and its stock as on hand per outlet code (absent = 0).
fn comparable(p: &ProductDetail) -> (String, Vec<String>) {
    let mut p = p.clone();
    p.id = sync_core::domain::ProductId::new(0);
    p.updated_at = p.created_at;
    let created = p.created_at;
    let mut variants = Vec::new();
    for v in &mut p.variants {
        v.id = sync_core::domain::VariantId::new(0);
        v.product_id = p.id;
        let mut stock: Vec<String> = v
            .stock
            .iter()
            .filter(|s| s.on_hand != 0 || s.committed != 0)
            .map(|s| {
                format!(
                    "{} ({}): {} on hand, {} committed",
                    s.outlet_code, s.outlet_name, s.on_hand, s.committed
                )
            })
            .collect();
        stock.sort();
        variants.push(format!("{} {:?}", v.sku, stock));
        v.stock.clear();
    }
    let _ = created;
    (format!("{p:?}").replace(&format!("{created:?}"), "T"), variants)
}

#[tokio::test]
async fn the_catalog_and_stock_export_import_into_a_fresh_database_as_the_same_catalog() {
    let original = Database::sqlite();
    let (ok, _, err) = cli(&original, &["demo"], "").await;
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().expect("dir");
    let catalog = dir.path().join("catalog.csv").display().to_string();
    let stock = dir.path().join("stock.csv").display().to_string();
    for args in [
        vec!["export", catalog.as_str()],
        vec!["export", "--stock", stock.as_str()],
    ] {
        let (ok, _, err) = cli(&original, &args, "").await;
        assert!(ok, "{err}");
    }

    let fresh = Database::sqlite();
    let (ok, _, err) = cli(&fresh, &["migrate"], "").await;
    assert!(ok, "{err}");
    let from = original.storage().await;
    let to = fresh.storage().await;
    // The outlets first, with their codes and names, as a person restoring a backup would.
    let (ok, outlets, err) = cli(&original, &["outlet", "list"], "").await;
    assert!(ok, "{err}");
    for line in outlets.lines() {
        let (code, name) = line.split_once('\t').expect("code and name");
        let (ok, _, err) = cli(&fresh, &["outlet", "add", "--code", code, "--name", name], "").await;
        assert!(ok, "{err}");
    }
    let started = Instant::now();
    let (ok, out, err) = cli(&fresh, &["import", "catalog", &catalog, "--apply"], "").await;
    assert!(ok, "{err}");
    assert!(out.contains("1629 rows; 500 changes applied"), "{out}");
    let (ok, out, err) = cli(&fresh, &["import", "stock", &stock, "--apply"], "").await;
    assert!(ok, "{err}");
    eprintln!(
        "catalog (1,629 rows) and stock imported into a fresh database in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert!(out.contains("0 bad rows"), "{out}");

    let before = all_products(&from).await;
    let after = all_products(&to).await;
    assert_eq!(before.len(), 500);
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(comparable(a), comparable(b), "{} came back different", a.handle);
    }
    // And the fresh database exports the same files.
    let (ok, again, err) = cli(&fresh, &["export", "-"], "").await;
    assert!(ok, "{err}");
    assert_eq!(again, std::fs::read_to_string(&catalog).expect("read"));
    // Importing the export again changes nothing.
    let (ok, out, err) = cli(&fresh, &["import", "catalog", &catalog], "").await;
    assert!(
        ok && out.contains("0 changes to apply, 500 already as the file says"),
        "{out}{err}"
    );
    from.close().await;
    to.close().await;
}

/// Serves each path's (status, content type, body), changeable while it
/// runs; a 3xx answer's body is its `Location`. Counts the requests.
#[derive(Clone, Default)]
struct FeedServer(Routes, Arc<std::sync::atomic::AtomicUsize>);

/// Path → (status, content type, body).
type Routes = Arc<Mutex<HashMap<String, (u16, String, String)>>>;

impl FeedServer {
    /// Requests served so far.
    fn hits(&self) -> usize {
        self.1.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn set(&self, path: &str, status: u16, content_type: &str, body: &str) {
        self.0
            .lock()
            .expect("lock")
            .insert(path.to_owned(), (status, content_type.to_owned(), body.to_owned()));
    }

    async fn start(&self) -> String {
        self.start_on("127.0.0.1").await
    }

    async fn start_on(&self, ip: &str) -> String {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (routes, hits) = (self.0.clone(), self.1.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (routes, hits) = (routes.clone(), hits.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let found = routes.lock().expect("lock").get(req.uri().path()).cloned();
                        async move {
                            let (status, content_type, body) =
                                found.unwrap_or((404, "text/plain".into(), "not found".into()));
                            let mut response = hyper::Response::builder()
                                .status(status)
                                .header("content-type", content_type);
                            if (300..400).contains(&status) {
                                response = response.header("location", body.clone());
                            }
                            let response = response
                                .body(Full::new(Bytes::from(body)))
                                .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())));
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }
}

async fn feed_runs(storage: &Storage) -> Vec<sync_core::storage::RunRow> {
    storage
        .list_runs(&RunFilter {
            kind: Some("feed".into()),
            limit: 50,
            ..RunFilter::default()
        })
        .await
        .expect("runs")
}

#[tokio::test]
async fn a_feed_returning_html_changes_nothing_and_a_csv_feed_applies_on_request_and_on_schedule() {
    let db = Database::sqlite();
    let (ok, _, err) = cli(&db, &["demo"], "").await;
    assert!(ok, "{err}");
    let feeds = FeedServer::default();
    let base = feeds.start().await;
    feeds.set(
        "/login",
        200,
        "text/html; charset=utf-8",
        "<!doctype html><html><body>Please sign in</body></html>",
    );
    feeds.set(
        "/stock.csv",
        200,
        "text/csv",
        "sku,count\nTEE-0059-S-BLA,17\nTEE-0059-M-BLA,0\n",
    );
    let storage = db.storage().await;
    let ledger_before = storage.count_movements(None).await.expect("count");
    let stock_before = stock_export(&db).await;

    let html_url = format!("{base}/login");
    let (ok, out, err) = cli(
        &db,
        &[
            "feed",
            "add",
            "--name",
            "Supplier portal",
            "--url",
            &html_url,
            "--outlet",
            "downtown",
        ],
        "",
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli(&db, &["feed", "run", "--name", "Supplier portal"], "").await;
    assert!(!ok, "a feed that sent a web page fails");
    assert!(
        out.contains("failed, so nothing changed") && out.contains("web page"),
        "{out}{err}"
    );
    assert_eq!(storage.count_movements(None).await.expect("count"), ledger_before);
    assert_eq!(stock_export(&db).await, stock_before);
    let runs = feed_runs(&storage).await;
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].status.as_str(), runs[0].trigger.as_str()), ("failed", "cli"));
    assert!(runs[0].log.contains("web page"), "{}", runs[0].log);

    let csv_url = format!("{base}/stock.csv");
    let (ok, out, err) = cli(
        &db,
        &[
            "feed",
            "add",
            "--name",
            "Warehouse",
            "--url",
            &csv_url,
            "--outlet",
            "warehouse",
        ],
        "",
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli(&db, &["feed", "run", "--name", "Warehouse"], "").await;
    assert!(ok, "{out}{err}");
    let after = stock_export(&db).await;
    assert!(
        after.contains("\nTEE-0059-S-BLA,warehouse,17\n"),
        "the feed's count is applied"
    );
    assert!(
        after.contains("\nTEE-0059-M-BLA,warehouse,0\n"),
        "the feed's count is applied"
    );
    let applied = storage
        .count_movements(Some(MovementReason::InventoryFeed))
        .await
        .expect("count");
    assert!(applied >= 1, "{out}");
    assert_eq!(feed_runs(&storage).await[0].status.as_str(), "succeeded");

    // Scheduled: a feed due every minute is fetched by `serve` soon after it starts.
    feeds.set(
        "/nightly.csv",
        200,
        "text/plain",
        "\u{feff}sku;quantity\r\nTEE-0059-S-BLA;23\r\n",
    );
    let nightly_url = format!("{base}/nightly.csv");
    let (ok, out, err) = cli(
        &db,
        &[
            "feed",
            "add",
            "--name",
            "Nightly",
            "--url",
            &nightly_url,
            "--outlet",
            "harbour",
            "--every",
            "1",
        ],
        "",
    )
    .await;
    assert!(ok, "{out}{err}");
    let server = TestServer::start(&db, &["serve"]).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs = feed_runs(&storage).await;
        if runs
            .iter()
            .any(|r| r.trigger.as_str() == "schedule" && r.status.as_str() == "succeeded")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no scheduled feed run: {runs:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(stock_export(&db).await.contains("\nTEE-0059-S-BLA,harbour,23\n"));

    // "Fetch now" on the Import page, for the feed that sends a web page.
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    let harbour = storage
        .list_outlets()
        .await
        .expect("outlets")
        .into_iter()
        .find(|o| o.code.as_str() == "harbour")
        .expect("harbour")
        .id;
    let added = tillbridge_tests::form_post(&client, &server, "add_feed")
        .form(&[
            ("name", "From the form"),
            ("url", "http://127.0.0.1:9/x.csv"),
            ("outlet", &harbour.to_string()),
            ("mode", "count"),
            ("every", ""),
        ])
        .send()
        .await
        .expect("add feed");
    assert!(notice(&location(&added)).contains("Added the feed \"From the form\""));
    let html = page(&server, &client, "/import").await;
    assert!(
        html.contains("Supplier portal") && html.contains("Nightly"),
        "the feeds are listed"
    );
    let id = storage
        .feed_by_name("Supplier portal")
        .await
        .expect("read")
        .expect("there")
        .id;
    let id = id.get().to_string();
    let response = tillbridge_tests::form_post(&client, &server, "fetch_feed")
        .form(&[("id", id.as_str())])
        .send()
        .await
        .expect("fetch now");
    assert_eq!(response.status(), 303);
    let to = location(&response);
    assert!(
        notice(&to).contains("web page") && to.contains("notice_error=1"),
        "{to}"
    );
    let runs = feed_runs(&storage).await;
    assert_eq!(
        (runs[0].status.as_str(), runs[0].trigger.as_str()),
        ("failed", "button")
    );
    let history = page(&server, &client, "/history?kind=feed").await;
    assert!(
        history.contains("Inventory feed") && history.contains("failed") && history.contains("succeeded"),
        "feed runs are in the Sync History"
    );
    storage.close().await;
    server.stop().await;
}

#[tokio::test]
async fn ugly_files_are_refused_with_the_line_and_the_problem() {
    let db = Database::sqlite();
    let (ok, _, err) = cli(&db, &["demo"], "").await;
    assert!(ok, "{err}");
    let dir = tempfile::tempdir().expect("dir");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "headers",
            b"sku,outlet,qty\nTEE-0059-S-BLA,downtown,4\n".to_vec(),
            "line 1: missing column(s) count, delta or quantity; unknown column(s) \"qty\"",
        ),
        (
            "latin1",
            b"sku,outlet,count,note\nTEE-0059-S-BLA,downtown,4,ok\nTEE-0059-M-BLA,downtown,4,caf\xe9\n".to_vec(),
            "line 3: is not UTF-8 text",
        ),
        (
            "duplicate",
            b"sku,outlet,count\nTEE-0059-S-BLA,downtown,4\nTEE-0059-S-BLA,downtown,5\n".to_vec(),
            "line 3: TEE-0059-S-BLA at downtown is already on line 2",
        ),
        (
            "zero",
            b"sku,outlet,delta\n\nTEE-0059-S-BLA,downtown,0\n".to_vec(),
            "line 3: a delta of 0 changes nothing",
        ),
        (
            "comma",
            b"sku,outlet,count,note\nTEE-0059-S-BLA,downtown,4,from the back, left\n".to_vec(),
            "line 2: has 5 values where the header has 4 columns (a value with a comma in it needs \"quotes\")",
        ),
        (
            "negative",
            b"sku,outlet,count\r\nTEE-0059-S-BLA,downtown,-3\r\n".to_vec(),
            "line 2: a count must be between 0 and 1000000000, not -3",
        ),
        (
            "huge",
            [b"sku,outlet,count\n".to_vec(), vec![b'#'; 10 * 1024 * 1024]].concat(),
            "line 1: the file is 10.0 MB; the limit is 10 MB",
        ),
    ];
    for (name, content, expected) in cases {
        let path = write(dir.path(), &format!("{name}.csv"), content);
        let (ok, _, err) = cli(&db, &["import", "stock", &path, "--apply"], "").await;
        assert!(!ok, "{name} was accepted");
        assert!(err.contains(expected), "{name}: expected {expected:?} in\n{err}");
    }
    // A BOM, CRLF, a quoted note with a comma and a newline, and blank lines are fine.
    let tidy = write(
        dir.path(),
        "tidy.csv",
        "\u{feff}sku,outlet,delta,note\r\n\r\nTEE-0059-S-BLA,downtown,+2,\"back room, top\r\nshelf\"\r\n\r\n",
    );
    let (ok, out, err) = cli(&db, &["import", "stock", &tidy, "--apply"], "").await;
    assert!(ok && out.contains("1 row; 1 change applied"), "{out}{err}");
    let catalog = write(dir.path(), "catalog.csv", "handle,title,sku\nx,y,Z-1\n");
    let (ok, _, err) = cli(&db, &["import", "catalog", &catalog], "").await;
    assert!(!ok && err.contains("line 1: unknown column(s) \"title\""), "{err}");
}

/// A feed may not reach what only the server can (issue 16, finding 2):
/// a private or local address is refused when the feed is added; a name
/// that resolves to one, and a redirect to one, are refused when it is
/// fetched, and the address is never asked; an operator can allow a
/// network; what a feed answered is echoed only as a short excerpt.
#[tokio::test]
async fn a_feed_never_reaches_a_private_address_unless_the_operator_allows_its_network() {
    let db = Database::sqlite();
    let (ok, _, err) = cli(&db, &["demo"], "").await;
    assert!(ok, "{err}");
    let inside = FeedServer::default();
    let base = inside.start().await;
    inside.set("/stock.csv", 200, "text/csv", "sku,count\nTEE-0059-S-BLA,17\n");
    // No network allowed: what a store runs with.
    let strict = [("TILLBRIDGE_FEED_ALLOW_NETWORKS", "")];
    let port = base.rsplit(':').next().expect("port").to_owned();
    for (name, url) in [
        ("Loopback", format!("{base}/stock.csv")),
        ("Metadata", "http://169.254.169.254/latest/meta-data/".to_owned()),
        ("Mapped", format!("http://[::ffff:127.0.0.1]:{port}/stock.csv")),
        ("Private", "http://10.0.0.7/stock.csv".to_owned()),
    ] {
        let (ok, out, err) = cli_env(
            &db,
            &["feed", "add", "--name", name, "--url", &url, "--outlet", "warehouse"],
            "",
            Duration::from_secs(60),
            &strict,
        )
        .await;
        assert!(!ok, "{url} was accepted: {out}");
        assert!(err.contains("private or local address"), "{url}: {out}{err}");
    }
    // A name that resolves to loopback is added (names are checked when
    // fetched, every time) and refused when fetched; nothing is asked.
    let named = format!("http://localhost:{port}/stock.csv");
    let (ok, out, err) = cli_env(
        &db,
        &[
            "feed",
            "add",
            "--name",
            "Named",
            "--url",
            &named,
            "--outlet",
            "warehouse",
        ],
        "",
        Duration::from_secs(60),
        &strict,
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli_env(
        &db,
        &["feed", "run", "--name", "Named"],
        "",
        Duration::from_secs(60),
        &strict,
    )
    .await;
    assert!(!ok && out.contains("private or local address"), "{out}{err}");
    assert_eq!(inside.hits(), 0, "the local address was never asked");

    // Allowed network (127.0.0.1 only): a redirect to 127.0.0.2 is refused
    // before it is followed.
    let elsewhere = FeedServer::default();
    let other = elsewhere.start_on("127.0.0.2").await;
    elsewhere.set("/stock.csv", 200, "text/csv", "sku,count\nTEE-0059-S-BLA,99\n");
    inside.set("/moved.csv", 302, "text/plain", &format!("{other}/stock.csv"));
    let only_one = [("TILLBRIDGE_FEED_ALLOW_NETWORKS", "127.0.0.1/32")];
    let moved = format!("{base}/moved.csv");
    let (ok, out, err) = cli_env(
        &db,
        &[
            "feed",
            "add",
            "--name",
            "Moved",
            "--url",
            &moved,
            "--outlet",
            "warehouse",
        ],
        "",
        Duration::from_secs(60),
        &only_one,
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli_env(
        &db,
        &["feed", "run", "--name", "Moved"],
        "",
        Duration::from_secs(60),
        &only_one,
    )
    .await;
    assert!(!ok && out.contains("127.0.0.2"), "{out}{err}");
    assert_eq!(elsewhere.hits(), 0, "the redirect's target was never asked");

    // What a feed answered comes back as a short excerpt at most.
    let secret_line = format!("{},sku\n", "s3cr3t".repeat(2000));
    inside.set("/leak.csv", 200, "text/csv", &secret_line);
    let leak = format!("{base}/leak.csv");
    let (ok, out, err) = cli_env(
        &db,
        &["feed", "add", "--name", "Leak", "--url", &leak, "--outlet", "warehouse"],
        "",
        Duration::from_secs(60),
        &only_one,
    )
    .await;
    assert!(ok, "{out}{err}");
    let _ = cli_env(
        &db,
        &["feed", "run", "--name", "Leak"],
        "",
        Duration::from_secs(60),
        &only_one,
    )
    .await;
    let storage = db.storage().await;
    let runs = feed_runs(&storage).await;
    let logged = runs
        .iter()
        .find(|r| r.log.contains("Leak") || r.log.contains("s3cr3t"))
        .map(|r| r.log.clone());
    let longest = runs.iter().map(|r| r.log.chars().count()).max().unwrap_or(0);
    assert!(longest < 600, "a run's log echoed {longest} characters: {logged:?}");
    storage.close().await;
}
