//! The workspace's one door: the dashboard and the server reach the sync
//! core through its services only, and every dashboard form posts to a
//! server function.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

#[test]
fn the_app_and_the_server_never_touch_the_storage() {
    let mut found = Vec::new();
    for crate_dir in ["app/src", "server/src"] {
        for file in rust_files(&workspace().join(crate_dir)) {
            let text = std::fs::read_to_string(&file).expect("readable");
            for (n, line) in text.lines().enumerate() {
                if line.contains("sync_core::storage") || line.contains("sync_core::Storage") {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "storage used outside sync-core:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_dashboard_form_posts_to_a_server_function() {
    let mut found = Vec::new();
    for file in rust_files(&workspace().join("app/src")) {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            // ActionForm posts to its server function's URL; a plain form must name one.
            if line.contains(r#"method="post""#)
                && !line.contains(r#"action="/api/"#)
                && !line.contains(r#"action="/logout""#)
            {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "forms posting elsewhere:\n{}", found.join("\n"));
}
