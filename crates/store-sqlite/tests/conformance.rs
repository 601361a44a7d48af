//! The storage conformance suite on SQLite, each case on a fresh database file.

use stammgast_store::Store;
use stammgast_store_sqlite::SqliteBackend;

async fn open() -> Store {
    let path = std::env::temp_dir()
        .join("stammgast-conformance")
        .join(format!("{}.db", uuid_like()));
    Store::open(SqliteBackend::new(path))
        .await
        .expect("opens a fresh SQLite store")
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos}-{:?}", std::thread::current().id()).replace(['(', ')'], "")
}

stammgast_store::conformance_suite!(open);
