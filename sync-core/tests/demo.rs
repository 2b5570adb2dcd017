//! The sized demo store and bulk Auto Sync over many products, on SQLite
//! and on PostgreSQL (as the storage contract runs).

#[path = "common/db.rs"]
mod support;

use support::TestDb;
use sync_core::demo::{DemoSize, load_demo_with};
use sync_core::domain::{Currency, Money, Sku};
use sync_core::storage::{NewProduct, NewVariant, ProductFilter, RunFilter};
use sync_core::{Error, Storage};

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { let db = super::TestDb::sqlite().await; super::$name(&db.storage).await; db.finish().await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { let db = super::TestDb::postgres().await; super::$name(&db.storage).await; db.finish().await; })*
        }
    };
}

on_both_engines!(
    a_sized_demo_store_has_stock_in_the_ledger_and_a_sync_history,
    bulk_auto_sync_turns_thousands_of_products_on_at_once,
);

async fn a_sized_demo_store_has_stock_in_the_ledger_and_a_sync_history(s: &Storage) {
    let size = DemoSize::new(Some(1_200), Some(5_000)).expect("valid sizes");
    let summary = load_demo_with(s, size).await.expect("loaded");
    assert_eq!((summary.outlets, summary.products, summary.events), (3, 1_200, 5_000));
    assert!(summary.variants > 1_200, "{} variants", summary.variants);
    assert_eq!(s.count_products(&ProductFilter::default()).await.expect("count"), 1_200);
    let syncing = ProductFilter {
        auto_sync: Some(true),
        ..ProductFilter::default()
    };
    assert_eq!(
        s.count_products(&syncing).await.expect("count"),
        0,
        "a large store starts quiet"
    );

    let page = s
        .list_products(&ProductFilter {
            limit: 50,
            ..ProductFilter::default()
        })
        .await
        .expect("listed");
    for variant in page.items.iter().flat_map(|p| &p.variants) {
        assert_eq!(variant.stock.len(), 3, "stock at every outlet");
        for level in &variant.stock {
            let ledger = s.ledger_total(variant.id, level.outlet_id).await.expect("ledger");
            assert_eq!(ledger, level.on_hand, "{} at {}", variant.sku, level.outlet_code);
        }
    }

    let runs = s
        .list_runs(&RunFilter {
            limit: 500,
            ..RunFilter::default()
        })
        .await
        .expect("runs");
    assert!(
        runs.windows(2)
            .all(|w| w[0].id > w[1].id && w[0].started_at >= w[1].started_at)
    );
    let newest = &runs[0];
    let events = s.events_of(Some(newest.id), None, 1000).await.expect("events");
    assert_eq!(events.len() as i64, newest.items_total);
    let month_ago = sync_core::domain::Timestamp::hours_ago(24 * 30 + 1);
    assert!(runs.iter().all(|r| r.started_at > month_ago));
    let failing = RunFilter {
        status: Some("partially_failed".into()),
        limit: 10,
        ..RunFilter::default()
    };
    assert!(
        !s.list_runs(&failing).await.expect("runs").is_empty(),
        "some runs lose items"
    );

    // Ids set by the load leave room for the next product (PostgreSQL's sequences moved on).
    let nzd = Currency::parse("NZD").expect("currency");
    let extra = NewProduct {
        name: "After the demo".into(),
        active: true,
        variants: vec![NewVariant {
            sku: Sku::parse("AFTER-1").expect("sku"),
            barcode: None,
            option_values: vec![],
            price: Money::new(500, nzd),
            weight_grams: None,
            dimensions_mm: None,
        }],
        ..NewProduct::default()
    };
    s.create_products(&[extra]).await.expect("a product after the load");
    assert!(matches!(load_demo_with(s, size).await, Err(Error::Conflict(_))));
}

async fn bulk_auto_sync_turns_thousands_of_products_on_at_once(s: &Storage) {
    let size = DemoSize::new(Some(1_500), None).expect("valid sizes");
    let summary = load_demo_with(s, size).await.expect("loaded");
    let channel = s
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("the demo's channel")
        .id;
    let ids = s.all_product_ids().await.expect("ids");
    assert_eq!(ids.len(), 1_500);
    let on = s.set_auto_sync(&ids, true).await.expect("on");
    assert_eq!(on.changed, 1_500);
    assert_eq!(
        on.queued, summary.variants as u64,
        "a push per variant for the one channel"
    );
    assert_eq!(
        s.pending_pushes(channel).await.expect("pending"),
        summary.variants as i64
    );
    let again = s.set_auto_sync(&ids, true).await.expect("on again");
    assert_eq!((again.changed, again.queued), (0, 0), "already on");
    let off = s.set_auto_sync(&ids[..700], false).await.expect("off");
    assert_eq!((off.changed, off.queued), (700, 0));
    let syncing = ProductFilter {
        auto_sync: Some(true),
        ..ProductFilter::default()
    };
    assert_eq!(s.count_products(&syncing).await.expect("count"), 800);
}
