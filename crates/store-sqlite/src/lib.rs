//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a commit
//! returns only once it is on disk. The store's single writer thread holds one connection;
//! readers use their own and never block it (WAL lets them read the last committed state).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use rusqlite::types::{ToSqlOutput, ValueRef};
use stammgast_store::StoreError;
use stammgast_store::sql::{Backend, Connection, Dialect, Row, Value};
use std::path::PathBuf;
use std::time::Duration;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_backbone.sql")),
    (2, include_str!("../migrations/0002_web.sql")),
    (3, include_str!("../migrations/0003_analytics.sql")),
    (4, include_str!("../migrations/0004_custom_segments.sql")),
    (5, include_str!("../migrations/0005_outbox.sql")),
    (6, include_str!("../migrations/0006_journeys.sql")),
    (7, include_str!("../migrations/0007_surveys_and_inbox.sql")),
];

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS_MAX: usize = 8;
const STATEMENT_CACHE_SIZE: usize = 128;
/// Durable commits (WAL, `synchronous=FULL`). A page cache of up to 1 GiB per connection
/// (it grows only as pages are read) keeps a large business's member states and indexes
/// in memory; checkpoints every 10,000 pages (about 40 MB of WAL) write a page changed by
/// many commits once instead of once per 1,000 pages. Neither weakens durability: every
/// commit is still on disk in the WAL before it returns.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
    PRAGMA cache_size = -1048576; PRAGMA wal_autocheckpoint = 10000;";

#[derive(Clone, Debug)]
pub struct SqliteBackend {
    path: PathBuf,
}

impl SqliteBackend {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Reads `sqlite:///absolute/path.db`, `sqlite://relative.db` or `sqlite:relative.db`.
    pub fn from_url(url: &str) -> Option<Self> {
        let path = url.strip_prefix("sqlite:")?;
        let path = path.strip_prefix("//").unwrap_or(path);
        (!path.is_empty()).then(|| Self::new(path))
    }
}

impl SqliteBackend {
    fn open(&self) -> Result<rusqlite::Connection, StoreError> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Other(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let connection = rusqlite::Connection::open(&self.path).map_err(error)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
        connection.execute_batch(PRAGMAS).map_err(error)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_SIZE);
        Ok(connection)
    }
}

impl Backend for SqliteBackend {
    fn connect(&self) -> Result<Box<dyn Connection>, StoreError> {
        Ok(Box::new(SqliteConnection {
            connection: self.open()?,
        }))
    }

    fn migrations(&self) -> &'static [(i64, &'static str)] {
        MIGRATIONS
    }

    fn readers_max(&self) -> usize {
        READERS_MAX
    }
}

struct SqliteConnection {
    connection: rusqlite::Connection,
}

impl Connection for SqliteConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(&numbered_placeholders(sql))
            .map_err(error)?;
        check_parameter_count(&statement, params)?;
        let changed = statement
            .execute(rusqlite::params_from_iter(params.iter().map(Param)))
            .map_err(error)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(&numbered_placeholders(sql))
            .map_err(error)?;
        check_parameter_count(&statement, params)?;
        let width = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params.iter().map(Param)))
            .map_err(error)?;
        let mut result = Vec::new();
        while let Some(row) = rows.next().map_err(error)? {
            let values = (0..width)
                .map(|index| row.get_ref(index).map_err(error).and_then(value))
                .collect::<Result<Row, _>>()?;
            result.push(values);
        }
        Ok(result)
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        self.connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(error)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.connection.execute_batch("COMMIT").map_err(error)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        if self.connection.is_autocommit() {
            return Ok(());
        }
        self.connection.execute_batch("ROLLBACK").map_err(error)
    }

    fn execute_script(&mut self, script: &str) -> Result<(), StoreError> {
        self.connection.execute_batch(script).map_err(error)
    }
}

/// A statement given more or fewer values than it has placeholders is a bug; SQLite itself
/// would ignore surplus values.
fn check_parameter_count(
    statement: &rusqlite::Statement<'_>,
    params: &[Value],
) -> Result<(), StoreError> {
    if statement.parameter_count() == params.len() {
        Ok(())
    } else {
        Err(StoreError::Other(format!(
            "a statement with {} placeholders was given {} values",
            statement.parameter_count(),
            params.len()
        )))
    }
}

/// SQLite reads `$1` as a *named* parameter; `?1` is the numbered form it binds by position.
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(value) => ValueRef::Integer(*value),
            Value::Text(value) => ValueRef::Text(value.as_bytes()),
        }))
    }
}

fn value(raw: ValueRef<'_>) -> Result<Value, StoreError> {
    match raw {
        ValueRef::Null => Ok(Value::Null),
        ValueRef::Integer(value) => Ok(Value::Int(value)),
        ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec())
            .map(Value::Text)
            .map_err(|e| StoreError::Corrupt(e.to_string())),
        other => Err(StoreError::Corrupt(format!(
            "unexpected SQLite value {other:?}"
        ))),
    }
}

fn error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(error.to_string())
        }
        _ => StoreError::Other(format!("SQLite: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            numbered_placeholders("SELECT $1, '$x', $12 FROM t WHERE a = $2"),
            "SELECT ?1, '$x', ?12 FROM t WHERE a = ?2"
        );
    }

    #[test]
    fn urls_name_the_database_file() {
        assert_eq!(
            SqliteBackend::from_url("sqlite:///tmp/a.db").map(|b| b.path),
            Some("/tmp/a.db".into())
        );
        assert_eq!(
            SqliteBackend::from_url("sqlite://a.db").map(|b| b.path),
            Some("a.db".into())
        );
        assert_eq!(
            SqliteBackend::from_url("sqlite:a.db").map(|b| b.path),
            Some("a.db".into())
        );
        assert!(SqliteBackend::from_url("postgres://x").is_none());
        assert!(SqliteBackend::from_url("sqlite://").is_none());
    }
}
