//! Opens the store named by a database URL: the one place a concrete backend is chosen.

use anyhow::Context;
use stammgast_store::Store;
use stammgast_store_postgres::PostgresBackend;
use stammgast_store_sqlite::SqliteBackend;

pub async fn open(url: &str) -> anyhow::Result<Store> {
    let shown = crate::config::redact(url);
    if let Some(backend) = SqliteBackend::from_url(url) {
        return Store::open(backend)
            .await
            .with_context(|| format!("cannot open {shown}"));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let backend = PostgresBackend::from_url(url)?;
        return Store::open(backend)
            .await
            .with_context(|| format!("cannot open {shown}"));
    }
    anyhow::bail!(
        "\"{shown}\" is not a database URL: use sqlite:///path/to/file.db or postgres://user@host/db"
    )
}
