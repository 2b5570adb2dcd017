//! Disconnecting a channel, and the Sandbox store following product writes
//! (renamed SKUs, removed variants, hidden and shown, deleted), on SQLite
//! and on PostgreSQL (as the storage contract runs).

#[path = "common/db.rs"]
mod support;

use std::collections::HashMap;

use support::TestDb;
use sync_core::Storage;
use sync_core::connector::{Connector, ProductToList, Retire, SandboxConnector, VariantToList};
use sync_core::domain::{ChannelId, ChannelKind, Currency, Money, ProductId, VariantId};
use sync_core::storage::{ConflictKind, NewChannel, NewConflict};

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
    a_disconnected_channel_loses_its_work_and_credentials_but_keeps_its_history,
    the_sandbox_store_follows_a_product_write,
);

async fn a_disconnected_channel_loses_its_work_and_credentials_but_keeps_its_history(s: &Storage) {
    sync_core::demo::load_demo(s).await.expect("demo");
    let sandbox = s
        .channel_by_name("Sandbox store")
        .await
        .expect("read")
        .expect("the demo's channel");
    assert!(
        s.pending_pushes(sandbox.id).await.expect("pending") > 0,
        "the demo queues its first pushes"
    );
    let conflict = NewConflict {
        kind: ConflictKind::ChangedInChannel,
        product_id: None,
        variant_id: None,
        sku: Some("TEE-1".into()),
        external_id: None,
        ours: "3".into(),
        theirs: "2".into(),
        detail: "moved".into(),
    };
    s.open_conflict(sandbox.id, &conflict).await.expect("conflict");

    let name = s
        .disconnect_channel(sandbox.id, "owner@shop.test")
        .await
        .expect("disconnect");
    assert_eq!(name.as_deref(), Some("Sandbox store"));
    assert_eq!(
        s.pending_pushes(sandbox.id).await.expect("pending"),
        0,
        "its queue went with it"
    );
    assert!(s.channel_outlets(sandbox.id).await.expect("outlets").is_empty());
    assert!(s.open_conflicts(Some(sandbox.id)).await.expect("conflicts").is_empty());
    assert!(
        s.channel(sandbox.id).await.expect("read").is_none(),
        "gone for the workers"
    );
    assert!(s.list_channels().await.expect("list").is_empty());
    assert!(s.channel_configs().await.expect("configs").is_empty());
    assert!(s.channel_schedules().await.expect("schedules").is_empty());
    assert!(
        !s.set_channel_credentials(sandbox.id, b"sealed").await.expect("set"),
        "no new credentials"
    );
    assert_eq!(
        s.disconnect_channel(sandbox.id, "owner@shop.test")
            .await
            .expect("again"),
        None
    );
    // The history still names it, and its name is free for a new channel.
    let names = s.channel_names().await.expect("names");
    assert_eq!(
        names,
        [(sandbox.id, format!("Sandbox store (disconnected #{})", sandbox.id))]
    );
    let again = s
        .create_channel(&NewChannel {
            name: "Sandbox store".into(),
            kind: ChannelKind::Sandbox,
            ..NewChannel::default()
        })
        .await
        .expect("the name is free again");
    assert_ne!(again, sandbox.id);
    assert!(s.set_channel_credentials(again, b"sealed").await.expect("set"));
}

fn tee(active: bool, skus: &[&str]) -> ProductToList {
    let nzd = Currency::parse("NZD").expect("currency");
    ProductToList {
        product_id: ProductId::new(7),
        name: "Tee".into(),
        description: String::new(),
        brand: String::new(),
        category: String::new(),
        active,
        option_names: vec!["Size".into()],
        images: None,
        removed_skus: Vec::new(),
        variants: skus
            .iter()
            .enumerate()
            .map(|(i, sku)| VariantToList {
                variant_id: VariantId::new(i as i64 + 1),
                sku: (*sku).to_owned(),
                barcode: None,
                option_values: vec![format!("size {i}")],
                price: Money::new(1000, nzd),
                weight_grams: None,
                quantity: 5,
            })
            .collect(),
    }
}

async fn the_sandbox_store_follows_a_product_write(s: &Storage) {
    let channel: ChannelId = s
        .create_channel(&NewChannel {
            name: "Sandbox store".into(),
            kind: ChannelKind::Sandbox,
            ..NewChannel::default()
        })
        .await
        .expect("channel");
    let shop = SandboxConnector::new(s.clone(), channel);
    let created = shop
        .create_product(&tee(true, &["TEE-S", "TEE-M"]))
        .await
        .expect("create");
    let external = created.items[0].product_id.clone();
    assert_eq!(external, "sandbox-product:7");
    let items = s.sandbox_items(channel).await.expect("items");
    assert!(
        items
            .iter()
            .all(|i| i.published && i.product_ref.as_deref() == Some(external.as_str()))
    );

    // TEE-S renamed (the same item keeps its quantity), TEE-M removed, the product hidden.
    let small = created.items[0].variant_id.clone();
    let existing: HashMap<String, String> = [("TEE-SMALL".to_owned(), small.clone())].into();
    shop.update_product(&tee(false, &["TEE-SMALL"]), &external, &existing)
        .await
        .expect("update");
    let items = s.sandbox_items(channel).await.expect("items");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        (
            items[0].sku.as_str(),
            items[0].item_id.as_str(),
            items[0].published,
            items[0].available
        ),
        ("TEE-SMALL", small.as_str(), false, 5)
    );
    // Shown again, with a new variant on the SKU whose old item id is taken.
    let existing: HashMap<String, String> = [("TEE-SMALL".to_owned(), small)].into();
    shop.update_product(&tee(true, &["TEE-SMALL", "TEE-S"]), &external, &existing)
        .await
        .expect("update");
    let items = s.sandbox_items(channel).await.expect("items");
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items.iter().all(|i| i.published));
    let found = shop.find_by_sku(&["TEE-S".to_owned()]).await.expect("find");
    assert_eq!(
        found["TEE-S"].product_id, external,
        "found as the product it belongs to"
    );

    shop.retire_product(&external, Retire::Delete).await.expect("delete");
    assert!(
        s.sandbox_items(channel).await.expect("items").is_empty(),
        "every item of it"
    );
}
