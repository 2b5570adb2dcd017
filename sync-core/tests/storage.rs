//! The storage contract: every test runs on SQLite (a fresh file) and on
//! PostgreSQL (a fresh database on the server of TEST_DATABASE_URL).

#[path = "common/db.rs"]
mod support;

use support::TestDb;
use sync_core::connector::ConnectorError;
use sync_core::domain::{
    Actor, ChannelId, ChannelKind, Currency, Email, Money, MovementReason, OutletCode, OutletId, ProductId, Role, Sku,
    StockChange, VariantId,
};
use sync_core::storage::{
    IdempotencyKey, MovementInput, NewChannel, NewMovement, NewProduct, NewVariant, ProductFilter, RowOutcome,
    StockStatus,
};
use sync_core::{Error, Storage};

/// Declares each test once per engine.
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
    a_push_the_channel_keeps_failing_is_given_up_after_bounded_attempts_on_the_workers_clock,
    users_are_stored_with_roles_and_emails_are_unique,
    sign_in_checks_the_password,
    api_tokens_are_found_by_secret_only,
    products_are_listed_by_name_with_keyset_pages,
    search_matches_name_sku_and_barcode_and_treats_wildcards_literally,
    a_product_batch_with_a_duplicate_sku_writes_nothing,
    movements_update_on_hand_in_step_with_the_ledger,
    auto_sync_toggles_persist,
    sessions_round_trip_and_expire,
    channels_include_their_order_outlet,
    the_demo_store_loads_once,
    movements_queue_one_coalesced_push_per_channel_for_auto_sync_products,
    balances_in_sql_follow_the_channel_rules,
    claims_are_exclusive_and_a_bumped_row_stays_pending,
    a_push_waits_for_a_pull_started_after_its_read_and_a_newer_change_decides_again,
    a_retried_idempotent_batch_applies_once,
    unknown_skus_and_outlets_are_named_and_nothing_is_written,
    concurrent_batches_on_the_same_skus_lose_no_update,
    filters_count_and_select_the_same_products,
    history_lists_runs_newest_first_and_counts_events_per_hour,
    a_run_adds_up_its_batches_and_its_events_name_their_sku_and_channel,
    a_retried_conflict_queues_its_push_again_and_leaves_the_list,
    every_sort_pages_through_each_product_once_in_order,
    catalog_changes_queue_one_product_push_per_listed_channel_in_the_same_transaction,
    the_last_owner_can_be_neither_demoted_nor_removed,
    a_revoked_token_is_refused_and_its_last_use_is_written_at_most_once_a_minute,
    the_store_time_zone_is_utc_until_one_is_chosen,
);

fn nzd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("NZD").expect("valid"))
}

fn product(name: &str, skus: &[&str]) -> NewProduct {
    NewProduct {
        name: name.into(),
        brand: "Tidewater".into(),
        category: "Tests".into(),
        active: true,
        option_names: if skus.len() > 1 { vec!["Size".into()] } else { vec![] },
        variants: skus
            .iter()
            .enumerate()
            .map(|(i, sku)| NewVariant {
                sku: Sku::parse(sku).expect("valid sku"),
                barcode: None,
                option_values: if skus.len() > 1 { vec![format!("S{i}")] } else { vec![] },
                price: nzd(1999),
                weight_grams: Some(200),
                dimensions_mm: None,
            })
            .collect(),
        ..NewProduct::default()
    }
}

async fn users_are_stored_with_roles_and_emails_are_unique(s: &Storage) {
    let user = s
        .add_user("Ana@Example.com", "long enough pw", Role::Manager)
        .await
        .expect("added");
    assert_eq!(user.email.as_str(), "ana@example.com");
    assert_eq!(s.get_user(user.id).await.expect("read"), Some(user.clone()));
    let dup = s.add_user("ana@example.com", "another password", Role::Viewer).await;
    assert!(
        matches!(dup, Err(Error::Conflict(ref m)) if m.contains("already exists")),
        "{dup:?}"
    );
    assert!(matches!(
        s.add_user("not-an-email", "long enough pw", Role::Owner).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(s.count_users().await.expect("count"), 1);
}

async fn sign_in_checks_the_password(s: &Storage) {
    s.add_user("owner@example.com", "correct horse", Role::Owner)
        .await
        .expect("added");
    let ok = s.authenticate("OWNER@example.com", "correct horse").await.expect("ran");
    assert_eq!(ok.map(|u| u.role), Some(Role::Owner));
    assert_eq!(
        s.authenticate("owner@example.com", "wrong horse").await.expect("ran"),
        None
    );
    assert_eq!(
        s.authenticate("nobody@example.com", "correct horse")
            .await
            .expect("ran"),
        None
    );
}

async fn api_tokens_are_found_by_secret_only(s: &Storage) {
    let issued = s.issue_api_token("POS", Role::Manager).await.expect("issued");
    let found = s
        .token_for_secret(&issued.secret)
        .await
        .expect("looked up")
        .expect("live token");
    assert_eq!((found.name.as_str(), found.role), ("POS", Role::Manager));
    assert!(found.last_used_at.is_some());
    assert_eq!(s.token_for_secret("tb_0000").await.expect("looked up"), None);
    assert_eq!(s.token_for_secret(&issued.token.name).await.expect("looked up"), None);
}

async fn products_are_listed_by_name_with_keyset_pages(s: &Storage) {
    let names = ["Delta", "alpha", "Charlie", "Bravo", "Echo"];
    let batch: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, n)| product(n, &[&format!("SKU-{i}")]))
        .collect();
    s.create_products(&batch).await.expect("created");
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .list_products(&ProductFilter {
                after,
                limit: 2,
                ..Default::default()
            })
            .await
            .expect("page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|p| p.name.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    expected.sort();
    let mut got = seen.clone();
    got.sort();
    assert_eq!(got, expected, "every product exactly once");
    assert_eq!(seen.len(), 5);
}

async fn search_matches_name_sku_and_barcode_and_treats_wildcards_literally(s: &Storage) {
    let mut tee = product("Merino Crew Tee", &["TEE-BLK-M", "TEE-BLK-L"]);
    tee.variants[0].barcode = Some(sync_core::domain::Barcode::parse("9400000010015").expect("valid"));
    s.create_products(&[
        tee,
        product("Canvas Tote", &["BAG_01"]),
        product("100% Wool Beanie", &["HAT-1"]),
    ])
    .await
    .expect("created");
    let find = |q: &str| {
        let q = q.to_owned();
        async move {
            let page = s
                .list_products(&ProductFilter {
                    search: Some(q),
                    limit: 50,
                    ..Default::default()
                })
                .await
                .expect("listed");
            page.items.into_iter().map(|p| p.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(find("merino").await, vec!["Merino Crew Tee"]);
    assert_eq!(find("tee-blk-l").await, vec!["Merino Crew Tee"]);
    assert_eq!(find("9400000010015").await, vec!["Merino Crew Tee"]);
    assert_eq!(find("100%").await, vec!["100% Wool Beanie"]);
    assert_eq!(find("G_0").await, vec!["Canvas Tote"]);
    assert_eq!(
        find("%").await,
        vec!["100% Wool Beanie"],
        "a % is a literal, not a wildcard"
    );
    let by_sku = s
        .list_products(&ProductFilter {
            sku: Some(Sku::parse("HAT-1").expect("valid")),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("listed");
    assert_eq!(by_sku.items.len(), 1);
    assert_eq!(by_sku.items[0].variants[0].sku, "HAT-1");
}

async fn a_product_batch_with_a_duplicate_sku_writes_nothing(s: &Storage) {
    s.create_products(&[product("First", &["DUP-1"])])
        .await
        .expect("created");
    let result = s
        .create_products(&[product("Second", &["NEW-1"]), product("Third", &["DUP-1"])])
        .await;
    assert!(matches!(result, Err(Error::Conflict(_))), "{result:?}");
    let all = s
        .list_products(&ProductFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("listed");
    assert_eq!(
        all.items.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["First"]
    );
    let no_variants = NewProduct {
        name: "Empty".into(),
        ..NewProduct::default()
    };
    assert!(matches!(
        s.create_products(&[no_variants]).await,
        Err(Error::Invalid(_))
    ));
}

async fn movements_update_on_hand_in_step_with_the_ledger(s: &Storage) {
    let outlet = s
        .create_outlet(&OutletCode::parse("downtown").expect("valid"), "Downtown")
        .await
        .expect("outlet");
    let ids = s.create_products(&[product("Mug", &["MUG-1"])]).await.expect("created");
    let variant = s.get_product(ids[0]).await.expect("read").expect("exists").variants[0].id;
    let mv = |change| NewMovement {
        variant_id: variant,
        outlet_id: outlet.id,
        change,
        reason: MovementReason::ManualAdjustment,
        reference: "test".into(),
        note: String::new(),
    };
    let records = s
        .record_movements(
            &Actor::System,
            &[
                mv(StockChange::Count(10)),
                mv(StockChange::Delta(-3)),
                mv(StockChange::Delta(5)),
            ],
        )
        .await
        .expect("recorded");
    assert_eq!(
        records
            .iter()
            .map(|r| (r.on_hand_before, r.on_hand_after))
            .collect::<Vec<_>>(),
        vec![(0, 10), (10, 7), (7, 12)]
    );
    let detail = s.get_product(ids[0]).await.expect("read").expect("exists");
    assert_eq!(detail.variants[0].stock[0].on_hand, 12);
    assert_eq!(detail.variants[0].stock[0].outlet_code, "downtown");
    assert_eq!(s.ledger_total(variant, outlet.id).await.expect("summed"), 12);
}

async fn auto_sync_toggles_persist(s: &Storage) {
    let ids = s
        .create_products(&[product("A", &["A-1"]), product("B", &["B-1"])])
        .await
        .expect("created");
    assert_eq!(s.set_auto_sync(&ids, true).await.expect("set").changed, 2);
    assert_eq!(s.set_auto_sync(&ids, true).await.expect("set").changed, 0, "already on");
    assert!(s.get_product(ids[0]).await.expect("read").expect("exists").auto_sync);
    assert_eq!(s.set_auto_sync(&[ids[1]], false).await.expect("set").changed, 1);
    assert!(!s.get_product(ids[1]).await.expect("read").expect("exists").auto_sync);
    assert_eq!(
        s.set_auto_sync(&[ProductId::new(999_999)], true)
            .await
            .expect("set")
            .changed,
        0
    );
}

async fn sessions_round_trip_and_expire(s: &Storage) {
    use sync_core::domain::Timestamp;
    let later = Timestamp::from(chrono::Utc::now() + chrono::Duration::hours(1));
    let earlier = Timestamp::from(chrono::Utc::now() - chrono::Duration::hours(1));
    assert!(s.create_session("abc", "{\"user\":1}", later).await.expect("created"));
    assert!(
        !s.create_session("abc", "{}", later).await.expect("ran"),
        "ids are unique"
    );
    assert_eq!(
        s.load_session("abc").await.expect("loaded").map(|r| r.data),
        Some("{\"user\":1}".to_owned())
    );
    s.save_session("old", "{}", earlier).await.expect("saved");
    assert!(
        s.load_session("old").await.expect("loaded").is_none(),
        "expired sessions do not load"
    );
    assert_eq!(s.delete_expired_sessions().await.expect("deleted"), 1);
    s.delete_session("abc").await.expect("deleted");
    assert!(s.load_session("abc").await.expect("loaded").is_none());
}

async fn channels_include_their_order_outlet(s: &Storage) {
    let a = s
        .create_outlet(&OutletCode::parse("a").expect("valid"), "A")
        .await
        .expect("outlet");
    let b = s
        .create_outlet(&OutletCode::parse("b").expect("valid"), "B")
        .await
        .expect("outlet");
    let id = s
        .create_channel(&NewChannel {
            name: "Web".into(),
            kind: ChannelKind::Shopify,
            order_outlet: Some(a.id),
            outlets: vec![b.id],
            ..NewChannel::default()
        })
        .await
        .expect("created");
    let mut outlets = s.channel_outlets(id).await.expect("read");
    outlets.sort();
    assert_eq!(outlets, vec![a.id, b.id]);
    let channels = s.list_channels().await.expect("listed");
    assert_eq!(
        (channels[0].kind.as_str(), channels[0].schedule_minutes),
        ("shopify", Some(30))
    );
}

async fn the_demo_store_loads_once(s: &Storage) {
    let summary = sync_core::demo::load_demo(s).await.expect("loaded");
    assert_eq!((summary.outlets, summary.products), (3, 500));
    let page = s
        .list_products(&ProductFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("listed");
    assert_eq!(page.items.len(), 500);
    assert!(page.items.iter().all(|p| p.variants.iter().all(|v| v.stock.len() == 3)));
    let total: i64 = page.items.iter().map(|p| p.total_on_hand()).sum();
    assert!(total > 10_000, "believable stock, got {total}");
    assert!(sync_core::demo::demo_account_exists(s).await.expect("checked"));
    assert!(
        s.authenticate(sync_core::demo::DEMO_EMAIL, sync_core::demo::DEMO_PASSWORD)
            .await
            .expect("ran")
            .is_some()
    );
    assert!(matches!(sync_core::demo::load_demo(s).await, Err(Error::Conflict(_))));
    let _ = Email::parse("x@y.z");
}

/// Two outlets, a channel combining both, and two products (one with Auto Sync).
async fn channel_fixture(s: &Storage) -> (ChannelId, Vec<VariantId>, [OutletId; 2]) {
    let a = s
        .create_outlet(&OutletCode::parse("shop").expect("valid"), "Shop")
        .await
        .expect("outlet");
    let b = s
        .create_outlet(&OutletCode::parse("depot").expect("valid"), "Depot")
        .await
        .expect("outlet");
    let channel = s
        .create_channel(&NewChannel {
            name: "Web".into(),
            kind: ChannelKind::Sandbox,
            order_outlet: Some(a.id),
            outlets: vec![b.id],
            ..NewChannel::default()
        })
        .await
        .expect("channel");
    let ids = s
        .create_products(&[product("Synced", &["S-1", "S-2"]), product("Manual", &["M-1"])])
        .await
        .expect("created");
    s.set_auto_sync(&ids[..1], true).await.expect("auto sync on");
    let mut variants = Vec::new();
    for id in &ids {
        variants.extend(
            s.get_product(*id)
                .await
                .expect("read")
                .expect("exists")
                .variants
                .iter()
                .map(|v| v.id),
        );
    }
    (channel, variants, [a.id, b.id])
}

fn count(variant: VariantId, outlet: OutletId, n: i64) -> NewMovement {
    NewMovement {
        variant_id: variant,
        outlet_id: outlet,
        change: StockChange::Count(n),
        reason: MovementReason::PurchaseOrder,
        reference: "PO-1".into(),
        note: String::new(),
    }
}

async fn movements_queue_one_coalesced_push_per_channel_for_auto_sync_products(s: &Storage) {
    let (channel, v, [shop, depot]) = channel_fixture(s).await;
    // Turning Auto Sync on queued both variants of "Synced" already.
    assert_eq!(s.pending_pushes(channel).await.expect("count"), 2);
    let claimed = s.claim_outbox(channel, "w1", 10, later(30)).await.expect("claimed");
    s.finish_outbox(
        "w1",
        &claimed.iter().map(|r| (*r, RowOutcome::Pushed)).collect::<Vec<_>>(),
    )
    .await
    .expect("done");
    assert_eq!(s.pending_pushes(channel).await.expect("count"), 0);

    let burst: Vec<NewMovement> = (1..=20)
        .map(|n| count(v[0], if n % 2 == 0 { shop } else { depot }, n))
        .collect();
    s.record_movements(&Actor::System, &burst).await.expect("recorded");
    s.record_movements(&Actor::System, &[count(v[2], shop, 9)])
        .await
        .expect("recorded");
    let claimed = s.claim_outbox(channel, "w1", 10, later(30)).await.expect("claimed");
    assert!(claimed.is_empty(), "a variant just pushed waits out its cooldown");
    let claimed = s
        .claim_outbox_due_by(channel, "w1", 10, later(30), later(2))
        .await
        .expect("claimed");
    assert_eq!(
        claimed.len(),
        1,
        "twenty changes to one SKU are one push; Manual has Auto Sync off"
    );
    assert_eq!(claimed[0].variant_id, v[0]);
}

async fn balances_in_sql_follow_the_channel_rules(s: &Storage) {
    let (channel, v, [shop, depot]) = channel_fixture(s).await;
    s.record_movements(
        &Actor::System,
        &[count(v[0], shop, 7), count(v[0], depot, 5), count(v[1], depot, 2)],
    )
    .await
    .expect("recorded");
    let rules_sql = |buffer: i64, pct: Option<i64>, max: Option<i64>, zero: Option<i64>| {
        format!(
            "UPDATE channels SET safety_buffer = {buffer}, publish_percent = {}, publish_max = {}, zero_at_or_below = {}",
            pct.map_or("NULL".into(), |p| p.to_string()),
            max.map_or("NULL".into(), |p| p.to_string()),
            zero.map_or("NULL".into(), |p| p.to_string())
        )
    };
    for (buffer, pct, max, zero) in [
        (0, None, None, None),
        (1, Some(80), None, None),
        (0, None, Some(5), None),
        (0, None, None, Some(2)),
        (3, Some(50), Some(4), Some(1)),
    ] {
        s.execute_admin(&rules_sql(buffer, pct, max, zero))
            .await
            .expect("rules set");
        let balances = s.balances(channel, &v).await.expect("balances");
        let rules = s.balance_rules(channel).await.expect("rules");
        assert_eq!(balances[&v[0]], rules.apply(12, 0), "{rules:?}");
        assert_eq!(balances[&v[1]], rules.apply(2, 0), "{rules:?}");
        assert_eq!(balances[&v[2]], rules.apply(0, 0), "{rules:?}");
        let explained = s.explain_balance(channel, v[0]).await.expect("explained");
        assert_eq!(explained.balance, balances[&v[0]]);
        assert_eq!(explained.outlets.iter().map(|o| o.on_hand).sum::<i64>(), 12);
        assert_eq!(s.all_balances(channel).await.expect("all")[&v[0]], balances[&v[0]]);
    }
}

async fn claims_are_exclusive_and_a_bumped_row_stays_pending(s: &Storage) {
    let (channel, v, [shop, _]) = channel_fixture(s).await;
    let first = s.claim_outbox(channel, "w1", 1, later(30)).await.expect("claimed");
    let second = s.claim_outbox(channel, "w2", 10, later(30)).await.expect("claimed");
    assert_eq!((first.len(), second.len()), (1, 1), "each row goes to one worker");
    assert_ne!(first[0].id, second[0].id);
    // A change lands while w1 pushes: its row must not end up done.
    s.record_movements(&Actor::System, &[count(first[0].variant_id, shop, 4)])
        .await
        .expect("recorded");
    assert_eq!(
        s.finish_outbox("w1", &[(first[0], RowOutcome::Pushed)])
            .await
            .expect("finished"),
        1
    );
    assert_eq!(
        s.finish_outbox("w3", &[(second[0], RowOutcome::Pushed)])
            .await
            .expect("finished"),
        0,
        "fenced on the owner"
    );
    let again = s
        .claim_outbox_due_by(channel, "w1", 10, later(30), later(2))
        .await
        .expect("claimed");
    assert_eq!(
        again.iter().map(|r| r.variant_id).collect::<Vec<_>>(),
        vec![first[0].variant_id]
    );
    assert!(again[0].version > first[0].version);
    // A lease that ran out is claimable by another worker.
    let expired = s.claim_outbox(channel, "w4", 10, later(-1)).await.expect("claimed");
    assert!(expired.is_empty(), "w2 still holds its row");
    assert_eq!(s.release_outbox("w2").await.expect("released"), 1);
    let _ = v;
}

async fn a_push_waits_for_a_pull_started_after_its_read_and_a_newer_change_decides_again(s: &Storage) {
    let (channel, v, [_, depot]) = channel_fixture(s).await;
    let rows = s.claim_outbox(channel, "w1", 10, later(30)).await.expect("claimed");
    assert_eq!(rows.len(), 2);
    let read_at = later(0);
    let waiting = rows[0];
    let outcomes = vec![
        (
            waiting,
            RowOutcome::AwaitPull {
                since: read_at,
                reason: "would raise a figure read in the channel".into(),
            },
        ),
        (rows[1], RowOutcome::Pushed),
    ];
    s.finish_outbox("w1", &outcomes).await.expect("finished");
    let due = s
        .claim_outbox_due_by(channel, "w2", 10, later(30), later(60))
        .await
        .expect("claimed");
    assert!(due.is_empty(), "a push waiting for a pull is not claimed, however late");
    assert_eq!(s.channels_awaiting_pull().await.expect("read"), vec![channel]);
    assert_eq!(s.pushes_awaiting_pull(channel).await.expect("read"), 1);

    // A pull that started before the read may not hold the sale behind it.
    let before = later(-1);
    assert_eq!(s.orders_pulled(channel, before).await.expect("pulled"), 0);
    assert_eq!(s.pulled_through(channel).await.expect("read"), Some(before));
    assert_eq!(s.orders_pulled(channel, later(1)).await.expect("pulled"), 1);
    assert!(s.channels_awaiting_pull().await.expect("read").is_empty());
    let due = s.claim_outbox(channel, "w2", 10, later(30)).await.expect("claimed");
    assert_eq!(due.iter().map(|r| r.id).collect::<Vec<_>>(), vec![waiting.id]);

    // Waiting again, then a newer change: its balance may be lower, which
    // never waits, so the row is due at once to be decided again.
    s.finish_outbox(
        "w2",
        &[(
            due[0],
            RowOutcome::AwaitPull {
                since: later(2),
                reason: "again".into(),
            },
        )],
    )
    .await
    .expect("finished");
    s.record_movements(&Actor::System, &[count(waiting.variant_id, depot, 1)])
        .await
        .expect("recorded");
    assert_eq!(s.pushes_awaiting_pull(channel).await.expect("read"), 0);
    let due = s.claim_outbox(channel, "w3", 10, later(30)).await.expect("claimed");
    assert_eq!(due.iter().map(|r| r.id).collect::<Vec<_>>(), vec![waiting.id]);
    let _ = v;
}

async fn a_retried_idempotent_batch_applies_once(s: &Storage) {
    let (_, _, _) = channel_fixture(s).await;
    let input = MovementInput {
        sku: Sku::parse("S-1").expect("valid"),
        outlet: OutletCode::parse("shop").expect("valid"),
        change: StockChange::Delta(5),
        reason: MovementReason::SalesOrder,
        reference: "POS-1".into(),
        note: String::new(),
    };
    let key = IdempotencyKey {
        key: "retry-1".into(),
        request_hash: "h1".into(),
    };
    let first = s
        .apply_movements(&Actor::System, std::slice::from_ref(&input), Some(&key))
        .await
        .expect("applied");
    let again = s
        .apply_movements(&Actor::System, std::slice::from_ref(&input), Some(&key))
        .await
        .expect("replayed");
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.records, again.records);
    let other = IdempotencyKey {
        key: "retry-1".into(),
        request_hash: "h2".into(),
    };
    assert!(matches!(
        s.apply_movements(&Actor::System, &[input], Some(&other)).await,
        Err(Error::Conflict(_))
    ));
    let variant = first.records[0].variant_id;
    assert_eq!(
        s.ledger_total(variant, first.records[0].outlet_id).await.expect("sum"),
        5,
        "applied once"
    );
}

async fn unknown_skus_and_outlets_are_named_and_nothing_is_written(s: &Storage) {
    let (_, v, [shop, _]) = channel_fixture(s).await;
    let good = MovementInput {
        sku: Sku::parse("S-1").expect("valid"),
        outlet: OutletCode::parse("shop").expect("valid"),
        change: StockChange::Delta(5),
        reason: MovementReason::SalesOrder,
        reference: String::new(),
        note: String::new(),
    };
    let bad_sku = MovementInput {
        sku: Sku::parse("NOPE-9").expect("valid"),
        ..good.clone()
    };
    let bad_outlet = MovementInput {
        outlet: OutletCode::parse("mars").expect("valid"),
        ..good.clone()
    };
    let err = s
        .apply_movements(&Actor::System, &[good.clone(), bad_sku, bad_outlet], None)
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("movements[1].sku") && text.contains("NOPE-9"), "{text}");
    assert!(text.contains("movements[2].outlet") && text.contains("mars"), "{text}");
    assert_eq!(s.ledger_total(v[0], shop).await.expect("sum"), 0, "all or nothing");
    let too_many = vec![good; 1001];
    assert!(
        s.apply_movements(&Actor::System, &too_many, None)
            .await
            .expect_err("refused")
            .to_string()
            .contains("1 to 1000")
    );
}

fn later(seconds: i64) -> sync_core::domain::Timestamp {
    sync_core::domain::Timestamp::from(chrono::Utc::now() + chrono::Duration::seconds(seconds))
}

async fn concurrent_batches_on_the_same_skus_lose_no_update(s: &Storage) {
    let (_, v, [shop, depot]) = channel_fixture(s).await;
    let delta = |variant, outlet| NewMovement {
        variant_id: variant,
        outlet_id: outlet,
        change: StockChange::Delta(1),
        reason: MovementReason::SalesOrder,
        reference: String::new(),
        note: String::new(),
    };
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            // Each batch touches the same rows, in a different order.
            let mut batch: Vec<NewMovement> = (0..30)
                .flat_map(|_| [delta(v[0], shop), delta(v[1], depot), delta(v[0], depot)])
                .collect();
            if t % 2 == 1 {
                batch.reverse();
            }
            tokio::spawn(async move { s.record_movements(&Actor::System, &batch).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("joined").expect("recorded");
    }
    for (variant, outlet) in [(v[0], shop), (v[1], depot), (v[0], depot)] {
        assert_eq!(s.ledger_total(variant, outlet).await.expect("sum"), 120);
    }
    let product = s
        .list_products(&ProductFilter {
            sku: Some(Sku::parse("S-1").expect("sku")),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("read");
    let level = product.items[0].variants[0]
        .stock
        .iter()
        .find(|l| l.outlet_id == shop)
        .map(|l| l.on_hand);
    assert_eq!(level, Some(120), "on hand agrees with the ledger");
}

async fn filters_count_and_select_the_same_products(s: &Storage) {
    let (_, v, [shop, _]) = channel_fixture(s).await;
    let mut other = product("Hoodie", &["H-1"]);
    other.category = "Hoodies".into();
    other.brand = "Salt Road".into();
    s.create_products(&[other]).await.expect("created");
    s.record_movements(&Actor::System, &[count(v[0], shop, 3), count(v[1], shop, 40)])
        .await
        .expect("stock");
    let ids = |f: ProductFilter| async move { s.product_ids_matching(&f).await.expect("ids").len() };
    let all = ProductFilter {
        limit: 50,
        ..Default::default()
    };
    assert_eq!(s.count_products(&all).await.expect("count"), 3);
    let synced = ProductFilter {
        auto_sync: Some(true),
        ..all.clone()
    };
    assert_eq!(
        (
            s.count_products(&synced).await.expect("count"),
            ids(synced.clone()).await
        ),
        (1, 1)
    );
    let hoodies = ProductFilter {
        category: Some("Hoodies".into()),
        brand: Some("Salt Road".into()),
        ..all.clone()
    };
    assert_eq!(s.list_products(&hoodies).await.expect("page").items[0].name, "Hoodie");
    // "Synced" holds 43 (in stock), "Manual" and "Hoodie" nothing.
    let out = ProductFilter {
        stock: Some(StockStatus::Out),
        ..all.clone()
    };
    assert_eq!(s.count_products(&out).await.expect("count"), 2);
    let in_stock = ProductFilter {
        stock: Some(StockStatus::InStock),
        ..all.clone()
    };
    assert_eq!(s.list_products(&in_stock).await.expect("page").items[0].name, "Synced");
    assert_eq!(
        s.set_active(&s.product_ids_matching(&out).await.expect("ids"), false)
            .await
            .expect("set")
            .0,
        2
    );
    assert_eq!(
        s.count_products(&ProductFilter {
            active: Some(false),
            ..all.clone()
        })
        .await
        .expect("count"),
        2
    );
    let (categories, brands) = s.product_facets().await.expect("facets");
    assert_eq!(
        (categories, brands),
        (
            vec!["Hoodies".to_owned(), "Tests".to_owned()],
            vec!["Salt Road".to_owned(), "Tidewater".to_owned()]
        )
    );
    assert!(StockStatus::parse("plenty").is_err());
}

async fn history_lists_runs_newest_first_and_counts_events_per_hour(s: &Storage) {
    use sync_core::storage::{EventResult, NewEvent, RunFilter, RunKind, RunTrigger};
    let (channel, v, _) = channel_fixture(s).await;
    let mut runs = Vec::new();
    for i in 0..3 {
        let run = s
            .start_run(Some(channel), RunKind::Auto, RunTrigger::StockChange, "Tillbridge")
            .await
            .expect("run");
        let event = |result| NewEvent {
            product_id: None,
            variant_id: Some(v[0]),
            action: "quantity".into(),
            before: Some("1".into()),
            after: Some("2".into()),
            result,
            error: None,
            attempt: 1,
        };
        s.record_events(
            Some(run),
            Some(channel),
            "Tillbridge",
            &[event(EventResult::Succeeded), event(EventResult::Failed)],
        )
        .await
        .expect("events");
        s.finish_run(run, 1, i, "log").await.expect("finished");
        runs.push(run);
    }
    let page = s
        .list_runs(&RunFilter {
            channel: Some(channel),
            limit: 2,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert_eq!(page.iter().map(|r| r.id).collect::<Vec<_>>(), vec![runs[2], runs[1]]);
    let older = s
        .list_runs(&RunFilter {
            before: Some(runs[1]),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert_eq!(older.iter().map(|r| r.id).collect::<Vec<_>>(), vec![runs[0]]);
    let ok_only = s
        .list_runs(&RunFilter {
            status: Some("succeeded".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert_eq!(ok_only.iter().map(|r| r.id).collect::<Vec<_>>(), vec![runs[0]]);
    assert_eq!(s.events_of(Some(runs[0]), None, 10).await.expect("events").len(), 2);
    let hours = s.events_per_hour(Some(channel), later(-3600)).await.expect("hours");
    assert_eq!(hours.len(), 1);
    assert_eq!((hours[0].succeeded, hours[0].failed), (3, 3));
    assert_eq!(hours[0].hour.len(), 13, "YYYY-MM-DDTHH: {}", hours[0].hour);
}

async fn a_run_adds_up_its_batches_and_its_events_name_their_sku_and_channel(s: &Storage) {
    use sync_core::storage::{ChartFilter, EventResult, NewEvent, RunDelta, RunKind, RunStatus, RunTrigger};
    let (channel, v, _) = channel_fixture(s).await;
    let run = s
        .start_run(Some(channel), RunKind::Force, RunTrigger::Button, "owner@example.test")
        .await
        .expect("run");
    s.expect_in_run(run, 3, 1).await.expect("expected");
    let event = |result| NewEvent {
        product_id: None,
        variant_id: Some(v[0]),
        action: "quantity".into(),
        before: Some("4".into()),
        after: Some("4".into()),
        result,
        error: None,
        attempt: 1,
    };
    // Two batches, as a sync a person started records them.
    for batch in [
        vec![event(EventResult::Succeeded), event(EventResult::Skipped)],
        vec![event(EventResult::Failed)],
    ] {
        s.record_events(Some(run), Some(channel), "owner@example.test", &batch)
            .await
            .expect("events");
        let mut delta = RunDelta::of_events(&batch);
        delta.quantities_done = batch.len() as i64;
        s.add_to_run(run, delta).await.expect("added");
    }
    let going = s.run(run).await.expect("read").expect("run");
    assert_eq!(going.status, RunStatus::Running);
    assert_eq!(
        (going.quantities_done, going.quantities_total, going.products_total),
        (3, 3, 1)
    );
    s.close_run(run, "done").await.expect("closed");
    let done = s.run(run).await.expect("read").expect("run");
    assert_eq!(
        (
            done.items_succeeded,
            done.items_skipped,
            done.items_failed,
            done.items_total
        ),
        (1, 1, 1, 3)
    );
    assert_eq!(done.status, RunStatus::PartiallyFailed);
    assert_eq!(done.actor_label, "owner@example.test");
    let events = s.events_of(Some(run), None, 10).await.expect("events");
    assert_eq!(events.len(), 3);
    let sku = s.push_targets(channel, &[v[0]]).await.expect("targets")[&v[0]]
        .sku
        .clone();
    assert!(
        events.iter().all(|e| e.sku.as_deref() == Some(sku.as_str())
            && e.channel_name.is_some()
            && e.actor_label == "owner@example.test"),
        "{events:?}"
    );
    // The chart counts the events of the runs the filters list.
    let chart = |kind: &str| ChartFilter {
        channel: Some(channel),
        kind: Some(kind.into()),
        status: None,
        since: later(-3600),
        daily: false,
    };
    let force = s.events_over_time(&chart("force")).await.expect("chart");
    assert_eq!(
        force.iter().map(|h| (h.succeeded, h.failed)).collect::<Vec<_>>(),
        vec![(1, 1)]
    );
    assert!(s.events_over_time(&chart("auto")).await.expect("chart").is_empty());
    let days = s
        .events_over_time(&ChartFilter {
            daily: true,
            kind: None,
            ..chart("force")
        })
        .await
        .expect("chart");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].hour.len(), 10, "YYYY-MM-DD: {}", days[0].hour);
    // A sync that stopped short says so, whatever its batches did.
    s.fail_run(run, "stopped").await.expect("failed");
    let failed = s.run(run).await.expect("read").expect("run");
    assert_eq!((failed.status, failed.log.as_str()), (RunStatus::Failed, "stopped"));
}

async fn a_retried_conflict_queues_its_push_again_and_leaves_the_list(s: &Storage) {
    use sync_core::storage::{ConflictAction, ConflictKind, NewConflict};
    let (channel, v, _) = channel_fixture(s).await;
    let claimed = s.claim_outbox(channel, "w", 10, later(30)).await.expect("claimed");
    let dead: Vec<_> = claimed
        .iter()
        .map(|r| {
            (
                *r,
                RowOutcome::Dead {
                    error: "INVALID_INVENTORY_ITEM".into(),
                },
            )
        })
        .collect();
    s.finish_outbox("w", &dead).await.expect("finished");
    assert_eq!(s.pending_pushes(channel).await.expect("count"), 0);
    let conflict = NewConflict {
        kind: ConflictKind::PushRejected,
        product_id: None,
        variant_id: Some(v[0]),
        sku: Some("S-1".into()),
        external_id: None,
        ours: "quantity 4".into(),
        theirs: "INVALID_INVENTORY_ITEM".into(),
        detail: "rejected".into(),
    };
    s.open_conflict(channel, &conflict).await.expect("opened");
    s.open_conflict(channel, &conflict)
        .await
        .expect("refreshed, not doubled");
    assert_eq!(s.count_open_conflicts().await.expect("count"), 1);
    let id = s.open_conflicts(Some(channel)).await.expect("list")[0].id;
    assert!(
        s.resolve_conflict(id, ConflictAction::Retry, "ana@example.com")
            .await
            .expect("resolved")
    );
    assert!(
        !s.resolve_conflict(id, ConflictAction::Ignore, "ana@example.com")
            .await
            .expect("ran"),
        "only once"
    );
    assert_eq!(s.count_open_conflicts().await.expect("count"), 0);
    let again = s.claim_outbox(channel, "w", 10, later(30)).await.expect("claimed");
    assert_eq!(
        again.iter().map(|r| r.variant_id).collect::<Vec<_>>(),
        vec![v[0]],
        "its push is due again"
    );
}

async fn every_sort_pages_through_each_product_once_in_order(s: &Storage) {
    use sync_core::storage::ProductSort;
    let (_, _, [shop, _]) = channel_fixture(s).await;
    let names = ["Kauri", "Ash", "Totara", "Beech", "Rimu", "Matai", "Miro"];
    let ids = s
        .create_products(
            &names
                .iter()
                .enumerate()
                .map(|(i, n)| product(n, &[&format!("K-{i}")]))
                .collect::<Vec<_>>(),
        )
        .await
        .expect("created");
    // Stock 7, 0, 3, 3, 9, 0, 1 (ties on purpose).
    let stock = [7, 0, 3, 3, 9, 0, 1];
    let mut movements = Vec::new();
    for (id, n) in ids.iter().zip(stock) {
        let v = s.get_product(*id).await.expect("read").expect("exists").variants[0].id;
        if n > 0 {
            movements.push(count(v, shop, n));
        }
    }
    s.record_movements(&Actor::System, &movements).await.expect("stock");
    for sort in [ProductSort::Name, ProductSort::Updated, ProductSort::Stock] {
        let mut seen: Vec<(String, i64)> = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .list_products(&ProductFilter {
                    sort,
                    after,
                    limit: 2,
                    ..Default::default()
                })
                .await
                .expect("page");
            seen.extend(page.items.iter().map(|p| (p.name.clone(), p.total_on_hand())));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 9, "{sort:?}: every product once: {seen:?}");
        let unique: std::collections::HashSet<_> = seen.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(unique.len(), 9, "{sort:?}");
        match sort {
            ProductSort::Name => assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}"),
            ProductSort::Stock => assert!(seen.windows(2).all(|w| w[0].1 >= w[1].1), "{seen:?}"),
            ProductSort::Updated => {}
        }
    }
    assert!(ProductSort::parse("price").is_err());
}

/// A channel whose items are there (at 5) but whose stock updates always
/// fail as an outage does.
struct DownChannel;

impl sync_core::connector::Connector for DownChannel {
    fn max_batch(&self) -> usize {
        100
    }

    async fn find_by_sku(
        &self,
        skus: &[String],
    ) -> Result<std::collections::HashMap<String, sync_core::connector::FoundItem>, ConnectorError> {
        Ok(skus
            .iter()
            .map(|sku| {
                let item = sync_core::connector::FoundItem {
                    sku: sku.clone(),
                    product_id: format!("p-{sku}"),
                    variant_id: format!("v-{sku}"),
                    inventory_item_id: format!("i-{sku}"),
                    quantity: Some(5),
                };
                (sku.clone(), item)
            })
            .collect())
    }

    async fn create_product(
        &self,
        _: &sync_core::connector::ProductToList,
    ) -> Result<sync_core::connector::ProductWritten, ConnectorError> {
        Err(ConnectorError::Permanent("not in this test".into()))
    }

    async fn update_product(
        &self,
        _: &sync_core::connector::ProductToList,
        _: &str,
        _: &std::collections::HashMap<String, String>,
    ) -> Result<sync_core::connector::ProductWritten, ConnectorError> {
        Err(ConnectorError::Permanent("not in this test".into()))
    }

    async fn set_quantities(
        &self,
        _: &[sync_core::connector::QuantitySet],
        _: &str,
        _: &str,
    ) -> Result<Vec<sync_core::connector::SetOutcome>, ConnectorError> {
        Err(ConnectorError::Transient("HTTP 503 Service Unavailable".into()))
    }

    async fn read_quantities(&self, _: &[String]) -> Result<std::collections::HashMap<String, i64>, ConnectorError> {
        Err(ConnectorError::Transient("HTTP 503 Service Unavailable".into()))
    }

    async fn list_items(&self) -> Result<Vec<sync_core::connector::ChannelItem>, ConnectorError> {
        Ok(Vec::new())
    }

    async fn pull_orders(
        &self,
        _: Option<sync_core::domain::Timestamp>,
        _: &sync_core::connector::KnownOrders,
    ) -> Result<sync_core::connector::PulledOrders, ConnectorError> {
        Err(ConnectorError::Transient("HTTP 503 Service Unavailable".into()))
    }

    async fn register_order_webhooks(&self, _: &str) -> Result<(), ConnectorError> {
        Ok(())
    }

    async fn retire_product(&self, _: &str, _: sync_core::connector::Retire) -> Result<(), ConnectorError> {
        Ok(())
    }
}

async fn a_push_the_channel_keeps_failing_is_given_up_after_bounded_attempts_on_the_workers_clock(s: &Storage) {
    use sync_core::sync::{ChannelWorker, MAX_PUSH_ATTEMPTS, ManualClock};
    let (channel, v, [_, depot]) = channel_fixture(s).await;
    let clock = ManualClock::starting_at(sync_core::domain::Timestamp::now());
    let worker =
        ChannelWorker::new(s.clone(), channel, DownChannel, "w1".into()).with_clock(std::sync::Arc::new(clock.clone()));
    for attempt in 1..=MAX_PUSH_ATTEMPTS {
        let report = worker.run_once().await.expect("a batch");
        assert_eq!(report.claimed, 2, "attempt {attempt}: both variants of Synced");
        if attempt < MAX_PUSH_ATTEMPTS {
            assert_eq!(report.retrying, 2, "attempt {attempt} is retried");
            let early = worker.run_once().await.expect("a batch");
            assert_eq!(
                early.claimed, 0,
                "attempt {attempt}: not due before its backoff on the worker's clock"
            );
            // Past the longest backoff (5 minutes, +25 % jitter).
            clock.advance(std::time::Duration::from_secs(400));
        } else {
            assert_eq!(report.failed, 2, "the last attempt gives up");
        }
    }
    clock.advance(std::time::Duration::from_secs(3600));
    assert_eq!(
        worker.run_once().await.expect("a batch").claimed,
        0,
        "nothing is tried again"
    );
    assert_eq!(s.pending_pushes(channel).await.expect("count"), 0);
    let conflicts = s.open_conflicts(Some(channel)).await.expect("conflicts");
    assert_eq!(conflicts.len(), 2, "one for a person per variant");
    assert!(
        conflicts.iter().all(|c| c
            .detail
            .contains(&format!("gave up after {MAX_PUSH_ATTEMPTS} attempts"))
            && c.detail.contains("503")),
        "{conflicts:?}"
    );
    let failed = s
        .recent_events(Some(channel), Some(sync_core::storage::EventResult::Failed), 100)
        .await
        .expect("events");
    assert_eq!(
        failed.len() as i64,
        2 * MAX_PUSH_ATTEMPTS,
        "every attempt is in the Sync History"
    );
    assert!(
        failed
            .iter()
            .any(|e| e.error.as_deref().is_some_and(|m| m.starts_with("gave up after"))),
        "and the giving up"
    );
    // The next change to the item tries again.
    s.record_movements(&Actor::System, &[count(v[0], depot, 3)])
        .await
        .expect("recorded");
    assert_eq!(s.pending_pushes(channel).await.expect("count"), 1);
}

async fn catalog_changes_queue_one_product_push_per_listed_channel_in_the_same_transaction(s: &Storage) {
    use sync_core::storage::{Figure, NewListing};
    let (channel, v, _) = channel_fixture(s).await;
    let named = |name: &'static str| async move {
        let page = s
            .list_products(&ProductFilter {
                limit: 50,
                ..ProductFilter::default()
            })
            .await
            .expect("products");
        page.items.iter().find(|p| p.name == name).expect("product").id
    };
    let (synced, manual) = (named("Synced").await, named("Manual").await);
    // Not listed anywhere yet: an edit queues nothing.
    assert_eq!(
        s.set_active(&[synced, manual], false).await.expect("deactivated"),
        (2, 0)
    );
    assert_eq!(s.pending_catalog_pushes(channel).await.expect("count"), 0);
    // Listed (linked by SKU): it gets its fields, once however often it changes.
    s.save_listings(
        channel,
        &[NewListing {
            variant_id: v[0],
            external_product_id: "P-1".into(),
            external_variant_id: "V-1".into(),
            external_inventory_item_id: "I-1".into(),
            seen_quantity: Some(3),
            figure: Figure::Read,
        }],
    )
    .await
    .expect("linked");
    assert_eq!(s.listed_products(channel).await.expect("listed"), vec![synced]);
    for _ in 0..5 {
        s.set_active(&[synced], true).await.expect("on");
        s.set_active(&[synced], false).await.expect("off");
    }
    assert_eq!(
        s.pending_catalog_pushes(channel).await.expect("count"),
        1,
        "ten changes to one product are one push"
    );
    let claimed = s
        .claim_catalog(channel, "w1", 10, later(30), later(0))
        .await
        .expect("claimed");
    assert_eq!(claimed.iter().map(|r| r.product_id).collect::<Vec<_>>(), vec![synced]);
    assert!(
        s.claim_catalog(channel, "w2", 10, later(30), later(0))
            .await
            .expect("claimed")
            .is_empty(),
        "a claimed product push goes to one worker"
    );
    // An edit while it is pushed: the row stays pending for the newer content.
    s.set_active(&[synced], true).await.expect("on");
    assert_eq!(
        s.finish_catalog("w1", &[(claimed[0], RowOutcome::Pushed)], later(1))
            .await
            .expect("finished"),
        1
    );
    let again = s
        .claim_catalog(channel, "w1", 10, later(30), later(2))
        .await
        .expect("claimed");
    assert_eq!(again.len(), 1, "the newer change is pushed too");
    s.finish_catalog("w1", &[(again[0], RowOutcome::Pushed)], later(2))
        .await
        .expect("finished");
    assert_eq!(s.pending_catalog_pushes(channel).await.expect("count"), 0);
    // Deleting queues the deletion there, drops its quantity pushes, and is done once.
    assert!(s.delete_product(synced).await.expect("deleted"));
    assert!(!s.delete_product(synced).await.expect("again"), "already deleted");
    assert_eq!(s.pending_catalog_pushes(channel).await.expect("count"), 1);
    let target = s.catalog_target(channel, synced).await.expect("read").expect("target");
    assert!(target.deleted);
    assert_eq!(target.external_product_id.as_deref(), Some("P-1"));
    assert_eq!(s.pending_pushes(channel).await.expect("quantities"), 0);
    let deleted = s
        .deleted_product_skus(&[Sku::parse("S-1").expect("sku")])
        .await
        .expect("skus");
    assert!(deleted.contains("S-1"));
    assert!(
        s.get_product(synced).await.expect("read").is_none(),
        "gone from every list"
    );
}

async fn the_last_owner_can_be_neither_demoted_nor_removed(s: &Storage) {
    use sync_core::storage::OwnerGuarded;
    let ann = s
        .add_user("ann@example.com", "correct horse", Role::Owner)
        .await
        .expect("added");
    let bob = s
        .add_user("bob@example.com", "correct horse", Role::Manager)
        .await
        .expect("added");
    assert_eq!(
        s.set_user_role(ann.id, Role::Viewer).await.expect("ran"),
        OwnerGuarded::LastOwner
    );
    assert_eq!(s.delete_user(ann.id).await.expect("ran"), OwnerGuarded::LastOwner);
    assert_eq!(
        s.set_user_role(bob.id, Role::Owner).await.expect("ran"),
        OwnerGuarded::Done
    );
    assert_eq!(
        s.set_user_role(ann.id, Role::Viewer).await.expect("ran"),
        OwnerGuarded::Done
    );
    assert_eq!(s.delete_user(bob.id).await.expect("ran"), OwnerGuarded::LastOwner);
    assert_eq!(s.delete_user(ann.id).await.expect("ran"), OwnerGuarded::Done);
    assert_eq!(s.delete_user(ann.id).await.expect("ran"), OwnerGuarded::NoSuchUser);
    let left: Vec<(String, Role)> = s
        .list_users()
        .await
        .expect("listed")
        .into_iter()
        .map(|u| (u.email.to_string(), u.role))
        .collect();
    assert_eq!(left, [("bob@example.com".to_owned(), Role::Owner)]);
}

async fn a_revoked_token_is_refused_and_its_last_use_is_written_at_most_once_a_minute(s: &Storage) {
    let issued = s.issue_api_token("Till 1", Role::Manager).await.expect("issued");
    let first = s.token_for_secret(&issued.secret).await.expect("ran").expect("live");
    let again = s.token_for_secret(&issued.secret).await.expect("ran").expect("live");
    assert!(first.last_used_at.is_some());
    assert_eq!(
        again.last_used_at, first.last_used_at,
        "a second use within the minute writes nothing"
    );
    let listed = s.list_api_tokens().await.expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, first.last_used_at);
    let revoked = s
        .revoke_api_token(issued.token.id)
        .await
        .expect("ran")
        .expect("revoked");
    assert_eq!(revoked.name, "Till 1");
    assert_eq!(s.revoke_api_token(issued.token.id).await.expect("ran"), None);
    assert_eq!(s.token_for_secret(&issued.secret).await.expect("ran"), None);
    assert!(s.list_api_tokens().await.expect("listed").is_empty());
}

async fn the_store_time_zone_is_utc_until_one_is_chosen(s: &Storage) {
    use sync_core::domain::StoreZone;
    assert_eq!(s.store_zone().await.expect("read").name(), "UTC");
    let berlin = StoreZone::parse("Europe/Berlin").expect("a zone");
    s.set_store_zone(berlin).await.expect("saved");
    assert_eq!(s.store_zone().await.expect("read"), berlin);
}
