//! The storage conformance suite on a real PostgreSQL server, each case in a fresh
//! database. The server comes from `STAMMGAST_TEST_POSTGRES` (a URL without a database
//! name), by default the local one the test command starts.

use stammgast_store::Store;
use stammgast_store_postgres::PostgresBackend;

async fn open() -> Store {
    let server = std::env::var("STAMMGAST_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("stammgast_test_{}", uuid::Uuid::new_v4().simple());
    let backend = PostgresBackend::from_url(&format!("{server}/{name}")).expect("a PostgreSQL URL");
    Store::open(backend)
        .await
        .expect("opens a fresh PostgreSQL store")
}

stammgast_store::conformance_suite!(open);

/// Several app servers may start at once against a new database: each must find the schema
/// migrated exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_together_migrate_the_database_once() {
    let server = std::env::var("STAMMGAST_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let url = format!("{server}/stammgast_test_{}", uuid::Uuid::new_v4().simple());
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::open(PostgresBackend::from_url(&url).unwrap()).await })
        })
        .collect();
    for start in starts {
        let started = start.await.unwrap();
        assert!(started.is_ok(), "every server starts: {:?}", started.err());
    }
}
