//! Brings a database's schema up to date with its backend's migrations, each applied once,
//! in order, in its own transaction; on PostgreSQL under an advisory lock, so servers starting
//! together against a new database migrate it once.

use crate::StoreError;
use crate::sql::{Columns, Connection};

pub fn run(connection: &mut dyn Connection, migrations: &[(i64, &str)]) -> Result<(), StoreError> {
    let Some((lock, unlock)) = connection.dialect().migration_lock() else {
        return apply(connection, migrations);
    };
    connection.query(lock, &[])?;
    let applied = apply(connection, migrations);
    connection.query(unlock, &[])?;
    applied
}

fn apply(connection: &mut dyn Connection, migrations: &[(i64, &str)]) -> Result<(), StoreError> {
    connection.execute_script(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    for (version, script) in migrations {
        connection.begin()?;
        let applied = connection.query(
            "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
            &[(*version).into()],
        );
        let result = applied.and_then(|rows| {
            let count = rows
                .first()
                .map(|row| Columns::of(row).int(0))
                .transpose()?;
            if count.unwrap_or(0) > 0 {
                return Ok(());
            }
            connection.execute_script(script)?;
            connection.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[(*version).into(), chrono::Utc::now().into()],
            )?;
            Ok(())
        });
        match result {
            Ok(()) => connection.commit()?,
            Err(error) => {
                connection.rollback()?;
                return Err(error);
            }
        }
    }
    Ok(())
}
