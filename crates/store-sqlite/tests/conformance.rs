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

/// A database file deleted under a running server comes back as an error when the writer or
/// a reader reconnects, never as a new, empty database taking its place.
#[test]
fn a_connection_never_creates_a_missing_database() {
    use stammgast_store::sql::Backend;
    let path = std::env::temp_dir()
        .join("stammgast-conformance")
        .join(format!("{}-missing.db", uuid_like()));
    let backend = SqliteBackend::new(&path);

    let refused = backend
        .connect()
        .err()
        .expect("no connection to a missing file");
    assert!(
        refused.to_string().contains("cannot open the database"),
        "says what failed: {refused}"
    );
    assert!(!path.exists(), "connecting created {}", path.display());

    backend.create_if_missing().unwrap();
    assert!(
        backend.connect().is_ok(),
        "opens once the store has created it"
    );
}
