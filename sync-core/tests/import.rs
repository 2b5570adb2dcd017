//! Imports and feeds against both engines: stock and catalog files previewed
//! and applied all or nothing, the catalog export taken back unchanged, and
//! feeds fetched from a local HTTP server.

#[path = "common/db.rs"]
mod support;

use std::time::Duration;

use support::TestDb;
use sync_core::Storage;
use sync_core::domain::{Actor, Currency, Money, MovementReason, OutletCode, OutletId, Sku, Timestamp};
use sync_core::import::{
    ApplyOutcome, FeedLimits, StockFileOptions, StockMode, apply_catalog, apply_stock, export_catalog, export_stock,
    fetch_feed, preview_catalog, preview_stock, run_feed,
};
use sync_core::storage::{NewFeed, NewProduct, NewUpload, NewVariant, ProductFilter, RunFilter, RunTrigger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { let db = super::TestDb::sqlite().await; super::$name(&db.storage).await; db.finish().await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { let db = super::TestDb::postgres().await; super::$name(&db.storage).await; db.finish().await; })*
        }
    };
}

contract!(
    a_stock_file_with_bad_rows_names_each_line_and_writes_nothing,
    a_clean_stock_file_of_more_than_a_thousand_rows_applies_in_one_batch,
    an_upload_applied_twice_moves_stock_once,
    the_catalog_export_imports_back_as_no_change,
    a_catalog_file_creates_and_updates_products_all_or_nothing,
    scheduled_feeds_are_claimed_once_when_due,
    a_feed_sending_a_web_page_fails_and_a_csv_feed_applies,
);

fn nzd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("NZD").expect("valid"))
}

/// Two outlets and `n` products of two variants each: `P{i}-A`, `P{i}-B`.
async fn fixture(s: &Storage, n: usize) -> [OutletId; 2] {
    let shop = s
        .create_outlet(&OutletCode::parse("shop").expect("valid"), "Shop")
        .await
        .expect("outlet");
    let store = s
        .create_outlet(&OutletCode::parse("store").expect("valid"), "Store room")
        .await
        .expect("outlet");
    let products: Vec<NewProduct> = (0..n)
        .map(|i| NewProduct {
            name: format!("Product {i:04}"),
            description: format!("Line one, with a comma\nand \"quotes\" for {i}"),
            brand: "Tidewater".into(),
            category: "Tests".into(),
            option_names: vec!["Size".into()],
            active: i % 7 != 0,
            supplier: "Harbour Supply".into(),
            supplier_code: format!("HS-{i}"),
            supplier_price: Some(nzd(900 + i as i64)),
            reorder_point: Some(5),
            reorder_quantity: if i % 2 == 0 { Some(24) } else { None },
            tax_class: "GST 15%".into(),
            tags: vec!["tests".into(), format!("batch {}", i % 3)],
            image_urls: if i % 5 == 0 {
                vec![
                    format!("https://img.example/{i}.jpg"),
                    format!("https://img.example/{i}-b.jpg"),
                ]
            } else {
                vec![]
            },
            variants: ["A", "B"]
                .iter()
                .map(|v| NewVariant {
                    sku: Sku::parse(&format!("P{i}-{v}")).expect("valid"),
                    barcode: (*v == "A").then(|| sync_core::domain::Barcode::parse("012345678905").expect("valid")),
                    option_values: vec![(*v).to_owned()],
                    price: nzd(1999 + i as i64),
                    weight_grams: Some(200),
                    dimensions_mm: (*v == "B").then_some([10, 20, 30]),
                })
                .collect(),
        })
        .collect();
    s.create_products(&products).await.expect("products");
    [shop.id, store.id]
}

fn options(mode: Option<StockMode>) -> StockFileOptions {
    StockFileOptions {
        mode,
        outlet: None,
        reason: MovementReason::FileUpload,
        reference: "test file".into(),
    }
}

async fn on_hand(s: &Storage, sku: &str, outlet: OutletId) -> i64 {
    let variants = s
        .variant_ids_by_sku(&[Sku::parse(sku).expect("valid")])
        .await
        .expect("read");
    s.ledger_total(variants[sku], outlet).await.expect("sum")
}

async fn a_stock_file_with_bad_rows_names_each_line_and_writes_nothing(s: &Storage) {
    let [shop, _] = fixture(s, 3).await;
    let file = "\u{feff}sku,outlet,count\r\n\
                P0-A,shop,5\r\n\
                P0-B,shop,twelve\r\n\
                \r\n\
                NOPE,shop,3\r\n\
                P1-A,mars,3\r\n\
                P1-B,store,-2\r\n\
                P0-A,shop,6\r\n\
                \"P2-A\",\"store\",\"7\"\r\n";
    let preview = preview_stock(s, file.as_bytes(), &options(None)).await.expect("read");
    let lines: Vec<u64> = preview.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 5, 6, 7, 8], "{:?}", preview.errors);
    let reasons: Vec<&str> = preview.errors.iter().map(|e| e.reason.as_str()).collect();
    assert!(reasons[0].contains("\"twelve\" is not a whole number"), "{reasons:?}");
    assert!(reasons[1].contains("unknown SKU \"NOPE\""), "{reasons:?}");
    assert!(
        reasons[2].contains("unknown outlet \"mars\"") && reasons[2].contains("shop, store"),
        "{reasons:?}"
    );
    assert!(reasons[3].contains("between 0 and"), "{reasons:?}");
    assert!(reasons[4].contains("already on line 2"), "{reasons:?}");
    assert_eq!(preview.rows, 7);
    assert_eq!(preview.changes.len(), 2);
    let outcome = apply_stock(s, &Actor::System, file.as_bytes(), &options(None), None)
        .await
        .expect("ran");
    assert!(matches!(outcome, ApplyOutcome::Refused(_)));
    assert_eq!(s.count_movements(None).await.expect("count"), 0, "all or nothing");
    assert_eq!(on_hand(s, "P0-A", shop).await, 0);

    let wrong = preview_stock(s, b"sku,qty\nP0-A,1\n", &options(None))
        .await
        .expect("read");
    assert_eq!(wrong.errors.len(), 1);
    assert_eq!(wrong.errors[0].line, 1);
    assert!(
        wrong.errors[0].reason.contains("unknown column(s) \"qty\"") && wrong.errors[0].reason.contains("missing"),
        "{:?}",
        wrong.errors
    );
    let zero = preview_stock(s, b"sku,outlet,delta\nP0-A,shop,0\n", &options(None))
        .await
        .expect("read");
    assert!(zero.errors[0].reason.contains("changes nothing"), "{:?}", zero.errors);
    let quantity = preview_stock(s, b"sku,outlet,quantity\nP0-A,shop,4\n", &options(None))
        .await
        .expect("read");
    assert!(
        quantity.errors[0].reason.contains("needs a mode"),
        "{:?}",
        quantity.errors
    );
}

async fn a_clean_stock_file_of_more_than_a_thousand_rows_applies_in_one_batch(s: &Storage) {
    let [shop, store] = fixture(s, 300).await;
    let mut file = String::from("sku,outlet,quantity,note\n");
    for i in 0..300 {
        for (v, outlet) in [("A", "shop"), ("B", "shop"), ("A", "store"), ("B", "store")] {
            file.push_str(&format!("P{i}-{v},{outlet},{},counted\n", i % 9 + 1));
        }
    }
    let outcome = apply_stock(
        s,
        &Actor::System,
        file.as_bytes(),
        &options(Some(StockMode::Count)),
        None,
    )
    .await
    .expect("applied");
    let ApplyOutcome::Applied { preview, replayed } = outcome else {
        panic!("refused: {:?}", outcome.preview().errors)
    };
    assert!(!replayed);
    assert_eq!((preview.rows, preview.changes.len()), (1200, 1200));
    assert_eq!(
        s.count_movements(Some(MovementReason::FileUpload))
            .await
            .expect("count"),
        1200
    );
    assert_eq!(on_hand(s, "P10-B", store).await, 2);

    // The same counts again change nothing; deltas add.
    let again = preview_stock(s, file.as_bytes(), &options(Some(StockMode::Count)))
        .await
        .expect("read");
    assert_eq!((again.changes.len(), again.unchanged), (0, 1200));
    let deltas = "sku,outlet,delta\nP10-B,store,-5\nP11-A,shop,+3\n";
    apply_stock(s, &Actor::System, deltas.as_bytes(), &options(None), None)
        .await
        .expect("applied");
    assert_eq!(on_hand(s, "P10-B", store).await, -3);
    assert_eq!(on_hand(s, "P11-A", shop).await, 6);

    let exported = String::from_utf8(export_stock(s).await.expect("export")).expect("utf-8");
    assert!(exported.starts_with("sku,outlet,count\n"), "{exported}");
    assert!(exported.contains("\nP10-B,store,-3\n"), "{exported}");
}

async fn an_upload_applied_twice_moves_stock_once(s: &Storage) {
    let [shop, _] = fixture(s, 1).await;
    let content = b"sku,outlet,delta\nP0-A,shop,4\n".to_vec();
    let upload = s
        .save_upload(&NewUpload {
            kind: "stock".into(),
            mode: None,
            outlet_code: None,
            file_name: "adjust.csv".into(),
            content: content.clone(),
            user: None,
        })
        .await
        .expect("saved");
    let kept = s.upload(&upload.token).await.expect("read").expect("kept");
    assert_eq!((kept.content, kept.content_hash.len()), (content.clone(), 64));
    let key = sync_core::storage::IdempotencyKey {
        key: format!("import:{}", upload.token),
        request_hash: upload.content_hash.clone(),
    };
    for expect_replayed in [false, true] {
        let outcome = apply_stock(s, &Actor::System, &content, &options(None), Some(&key))
            .await
            .expect("applied");
        assert!(matches!(outcome, ApplyOutcome::Applied { replayed, .. } if replayed == expect_replayed));
    }
    assert_eq!(on_hand(s, "P0-A", shop).await, 4);
    s.delete_upload(&upload.token).await.expect("deleted");
    assert_eq!(s.upload(&upload.token).await.expect("read"), None);
}

async fn all_products(s: &Storage) -> Vec<sync_core::storage::ProductDetail> {
    let mut filter = ProductFilter {
        limit: 500,
        ..ProductFilter::default()
    };
    let mut out = Vec::new();
    loop {
        let page = s.list_products(&filter).await.expect("page");
        out.extend(page.items);
        match page.next_after {
            Some(a) => filter.after = Some(a),
            None => return out,
        }
    }
}

async fn the_catalog_export_imports_back_as_no_change(s: &Storage) {
    fixture(s, 40).await;
    let before = all_products(s).await;
    let file = export_catalog(s).await.expect("export");
    let preview = preview_catalog(s, &file).await.expect("read");
    assert!(preview.is_clean(), "{:?}", preview.errors);
    assert_eq!((preview.rows, preview.unchanged), (80, 40));
    assert!(preview.changes.is_empty(), "{:?}", preview.changes.first());
    apply_catalog(s, &file).await.expect("applied");
    let after = all_products(s).await;
    let strip = |ps: Vec<sync_core::storage::ProductDetail>| {
        ps.into_iter()
            .map(|mut p| {
                p.updated_at = p.created_at;
                p
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(before), strip(after));
}

async fn a_catalog_file_creates_and_updates_products_all_or_nothing(s: &Storage) {
    fixture(s, 2).await;
    let header = "handle,name,option1_name,option1_value,sku,price,currency,barcode,image_urls";
    let good = format!(
        "{header}\n\
         product-0000,Product Zero,Size,A,P0-A,25.50,NZD,,https://img.example/new.jpg\n\
         product-0000,,,C,P0-C,26.00,NZD,4006381333931,\n\
         wool-socks,Wool Socks,Size,M,SOCK-M,12,NZD,,\n\
         wool-socks,,,L,SOCK-L,12,NZD,,\n"
    );
    let preview = preview_catalog(s, good.as_bytes()).await.expect("read");
    assert!(preview.errors.is_empty(), "{:?}", preview.errors);
    assert_eq!(preview.changes.len(), 2);
    assert!(preview.changes.iter().any(|c| c.created && c.handle == "wool-socks"));
    let updated = preview.changes.iter().find(|c| !c.created).expect("an update");
    assert!(
        updated.details.iter().any(|d| d.contains("new variant P0-C")),
        "{updated:?}"
    );
    assert!(
        updated.details.iter().any(|d| d.contains("price of P0-A")),
        "{updated:?}"
    );

    let bad = format!(
        "{header}\n\
         wool-socks,Wool Socks,Size,M,SOCK-M,12,NZD,,\n\
         Bad Handle,X,,,X-1,1,NZD,,\n\
         product-0001,Product One,Size,A,P0-B,1,NZD,,\n\
         wool-socks,Other Name,Size,L,SOCK-L,12,NZD,,\n\
         ,New Thing,,,NEW-1,abc,NZD,,\n"
    );
    let refused = apply_catalog(s, bad.as_bytes()).await.expect("ran");
    let lines: Vec<u64> = refused.preview().errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6], "{:?}", refused.preview().errors);
    assert!(matches!(refused, ApplyOutcome::Refused(_)));
    assert_eq!(all_products(s).await.len(), 2, "nothing written");

    apply_catalog(s, good.as_bytes()).await.expect("applied");
    let products = all_products(s).await;
    assert_eq!(products.len(), 3);
    let zero = products.iter().find(|p| p.handle == "product-0000").expect("kept");
    assert_eq!(zero.name, "Product Zero");
    assert_eq!(zero.supplier, "Harbour Supply", "columns not in the file are kept");
    assert_eq!(zero.image_urls(), ["https://img.example/new.jpg"]);
    let skus: Vec<&str> = zero.variants.iter().map(|v| v.sku.as_str()).collect();
    assert_eq!(skus, ["P0-A", "P0-B", "P0-C"]);
    assert_eq!(zero.variants[0].price_minor, 2550);
    assert_eq!(zero.variants[2].barcode.as_deref(), Some("4006381333931"));
    let socks = products.iter().find(|p| p.handle == "wool-socks").expect("created");
    assert_eq!(socks.variants.len(), 2);
    assert!(socks.active && !socks.auto_sync);
}

async fn scheduled_feeds_are_claimed_once_when_due(s: &Storage) {
    let [shop, _] = fixture(s, 1).await;
    let feed = |name: &str, every: Option<i64>| NewFeed {
        name: name.into(),
        url: "http://127.0.0.1:9/stock.csv".into(),
        outlet: shop,
        mode: "count".into(),
        schedule_minutes: every,
    };
    s.add_feed(&feed("hourly", Some(60))).await.expect("added");
    s.add_feed(&feed("on request", None)).await.expect("added");
    assert!(s.add_feed(&feed("hourly", None)).await.is_err(), "names are unique");
    assert!(
        s.add_feed(&NewFeed {
            url: "ftp://x".into(),
            ..feed("ftp", None)
        })
        .await
        .is_err()
    );
    let claimed = s.claim_due_feeds(Timestamp::now()).await.expect("claimed");
    assert_eq!(claimed.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["hourly"]);
    assert!(s.claim_due_feeds(Timestamp::now()).await.expect("claimed").is_empty());
    let later = Timestamp::from(chrono::Utc::now() + chrono::Duration::minutes(61));
    assert_eq!(s.claim_due_feeds(later).await.expect("claimed").len(), 1);
    s.finish_feed(claimed[0].id, false, "no answer").await.expect("saved");
    let row = s.feed_by_name("hourly").await.expect("read").expect("there");
    assert_eq!(
        (row.last_status.as_deref(), row.last_message.as_str()),
        (Some("failed"), "no answer")
    );
}

/// Serves `responses` in turn (status line, content type, body), one per connection.
async fn serve(responses: Vec<(&'static str, &'static str, String)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        for (status, content_type, body) in responses {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            if status == "hang" {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    drop(socket);
                });
                continue;
            }
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        }
    });
    format!("http://{addr}/stock.csv")
}

async fn a_feed_sending_a_web_page_fails_and_a_csv_feed_applies(s: &Storage) {
    let [shop, _] = fixture(s, 2).await;
    // The test's feed listens on loopback: allowed here, as an operator would.
    let limits = FeedLimits {
        timeout: Duration::from_millis(500),
        max_bytes: 1024,
        allowed: std::sync::Arc::new(sync_core::import::AllowedNetworks::parse("127.0.0.1/32").expect("network")),
    };
    let csv = "sku,count\nP0-A,7\nP1-B,3\n".to_owned();
    let url = serve(vec![
        (
            "200 OK",
            "text/html; charset=utf-8",
            "<!doctype html><p>Sign in</p>".into(),
        ),
        ("200 OK", "text/csv", csv.clone()),
        ("200 OK", "application/json", "{\"P0-A\": 1}".into()),
        ("200 OK", "text/plain", "   ".into()),
        ("404 Not Found", "text/plain", "gone".into()),
        ("500 Internal Server Error", "text/plain", "oops".into()),
        ("200 OK", "text/csv", "x".repeat(2000)),
        ("hang", "", String::new()),
        ("200 OK", "text/csv", "sku,count\nP0-A,abc\n".into()),
    ])
    .await;
    s.add_feed(&NewFeed {
        name: "Supplier".into(),
        url: url.clone(),
        outlet: shop,
        mode: "count".into(),
        schedule_minutes: None,
    })
    .await
    .expect("added");
    let feed = s.feed_by_name("Supplier").await.expect("read").expect("there");

    let html = run_feed(s, &feed, RunTrigger::Cli, &Actor::System, &limits)
        .await
        .expect("ran");
    assert!(!html.succeeded && html.message.contains("web page"), "{}", html.message);
    assert_eq!(s.count_movements(None).await.expect("count"), 0, "nothing changed");
    let good = run_feed(s, &feed, RunTrigger::Cli, &Actor::System, &limits)
        .await
        .expect("ran");
    assert!(good.succeeded && good.changes == 2, "{}", good.message);
    assert_eq!(on_hand(s, "P0-A", shop).await, 7);
    assert_eq!(
        s.count_movements(Some(MovementReason::InventoryFeed))
            .await
            .expect("count"),
        2
    );

    let runs = s
        .list_runs(&RunFilter {
            kind: Some("feed".into()),
            limit: 10,
            ..RunFilter::default()
        })
        .await
        .expect("runs");
    let statuses: Vec<&str> = runs.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["succeeded", "failed"]);
    assert_eq!(s.events_of(Some(runs[0].id), None, 10).await.expect("events").len(), 2);

    for expected in [
        "JSON",
        "an empty body",
        "404",
        "500",
        "larger than",
        "no answer within",
        "\"abc\" is not a whole number",
    ] {
        let r = run_feed(s, &feed, RunTrigger::Schedule, &Actor::System, &limits)
            .await
            .expect("ran");
        assert!(
            !r.succeeded && r.message.contains(expected),
            "{expected}: {}",
            r.message
        );
    }
    assert_eq!(on_hand(s, "P0-A", shop).await, 7, "failed feeds change nothing");
    assert!(fetch_feed("https://127.0.0.1:9/x.csv", &limits).await.is_err());
}
