//! Fresh databases for contract tests: a SQLite file in a temp folder, or a
//! new database on the PostgreSQL server (dropped afterwards).

use sync_core::Storage;

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct TestDb {
    pub storage: Storage,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let storage = Storage::connect(&url).await.expect("open sqlite");
        storage.migrate().await.expect("migrate sqlite");
        Self {
            storage,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    pub async fn postgres() -> Self {
        let admin_url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_owned());
        let admin = Storage::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {admin_url} ({e}). Start it with \
                 `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` \
                 or set TEST_DATABASE_URL."
            )
        });
        let name = format!("tb_test_{}_{}", std::process::id(), rand_suffix());
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("TEST_DATABASE_URL has no database name: {admin_url}"),
        };
        let storage = Storage::connect(&url).await.expect("open test database");
        storage.migrate().await.expect("migrate postgres");
        Self {
            storage,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    pub async fn finish(self) {
        self.storage.close().await;
        if let Cleanup::Postgres { admin_url, name } = self.cleanup
            && let Ok(admin) = Storage::connect(&admin_url).await
        {
            let _ = admin
                .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            admin.close().await;
        }
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
