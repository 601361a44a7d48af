//! The scale-out backend: PostgreSQL through the synchronous `postgres` client, which the
//! store drives from its writer thread and blocking readers. Commits use the server's
//! default `synchronous_commit`, so an acknowledged write is on disk. Rows a write
//! transaction reads are locked (`FOR UPDATE`), so several app servers can share one
//! database; uniqueness conflicts between them surface as `StoreError::Conflict` and the
//! writer retries the affected submissions on their own.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Config, NoTls, Statement};
use stammgast_store::StoreError;
use stammgast_store::sql::{Backend, Connection, Dialect, Row, Value};
use std::collections::HashMap;
use std::error::Error;
use std::io::Write;
use std::str::FromStr;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_backbone.sql")),
    (2, include_str!("../migrations/0002_web.sql")),
    (3, include_str!("../migrations/0003_analytics.sql")),
    (4, include_str!("../migrations/0004_custom_segments.sql")),
    (5, include_str!("../migrations/0005_outbox.sql")),
    (6, include_str!("../migrations/0006_journeys.sql")),
    (7, include_str!("../migrations/0007_surveys_and_inbox.sql")),
    (8, include_str!("../migrations/0008_transfers_by_event.sql")),
];
const READERS_MAX: usize = 8;
/// Every statement is planned for its own parameters and the tables' sizes at the time.
/// The server would otherwise settle on a generic plan for a prepared statement after five
/// runs and keep it: the writer's idempotency lookup, planned while the table was nearly
/// empty, stayed a sequential scan as single purchases filled it, and took 95 ms by the end
/// of ten seconds of HTTP load (`stammgast bench`: 2,972 req/s with p99 105 ms before,
/// 6,042 req/s with p99 40 ms after). Planning such a lookup costs well under 0.1 ms.
const SESSION_SETTINGS: &str = "SET plan_cache_mode = force_custom_plan";
/// The database every server has, used to create the configured one when it is missing.
const MAINTENANCE_DATABASE: &str = "postgres";

#[derive(Clone, Debug)]
pub struct PostgresBackend {
    config: Config,
}

impl PostgresBackend {
    /// Reads a `postgres://` or `postgresql://` URL.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        Config::from_str(url)
            .map(|config| Self { config })
            .map_err(|e| StoreError::Other(format!("not a PostgreSQL URL: {e}")))
    }

    /// Creates the configured database if it does not exist yet, with the `C` collation:
    /// text compares byte by byte, as SQLite compares it, rather than by the locale's rules.
    /// Every key is text (ids), and a locale's comparison is the slower one: with it the
    /// server took 9.1 and 8.3 s of CPU for the benchmark's bulk ingestion, with `C` 8.0 and
    /// 7.8 s (runs taken in turn).
    fn create_database(&self) -> Result<(), StoreError> {
        let (mut client, quoted) = self.maintenance()?;
        match client.batch_execute(&format!(
            "CREATE DATABASE {quoted} TEMPLATE template0 LC_COLLATE 'C'"
        )) {
            Ok(()) => Ok(()),
            // Another process created it first (the race shows as either error).
            Err(e)
                if e.code() == Some(&postgres::error::SqlState::DUPLICATE_DATABASE)
                    || e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) =>
            {
                Ok(())
            }
            Err(e) => Err(error(e)),
        }
    }

    /// The server's settings that most shape its speed, as (name, value): its version,
    /// buffer cache, commit durability and WAL size between checkpoints. For reports of
    /// what was measured against it, such as the benchmark's.
    pub fn performance_settings(&self) -> Result<Vec<(&'static str, String)>, StoreError> {
        const SETTINGS: [&str; 4] = [
            "server_version",
            "shared_buffers",
            "synchronous_commit",
            "max_wal_size",
        ];
        let mut client = self.config.connect(NoTls).map_err(error)?;
        SETTINGS
            .into_iter()
            .map(|name| {
                let row = client
                    .query_one("SELECT current_setting($1)", &[&name])
                    .map_err(error)?;
                Ok((name, row.try_get(0).map_err(error)?))
            })
            .collect()
    }

    /// Drops the configured database, ending the connections it still has: for a
    /// throwaway database, such as the benchmark's.
    pub fn drop_database(&self) -> Result<(), StoreError> {
        let (mut client, quoted) = self.maintenance()?;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .map_err(error)
    }

    /// A connection to the maintenance database, and the configured database's quoted name.
    fn maintenance(&self) -> Result<(Client, String), StoreError> {
        let name = self
            .config
            .get_dbname()
            .ok_or_else(|| StoreError::Other("the PostgreSQL URL names no database".into()))?;
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let mut maintenance = self.config.clone();
        maintenance.dbname(MAINTENANCE_DATABASE);
        Ok((maintenance.connect(NoTls).map_err(error)?, quoted))
    }
}

impl Backend for PostgresBackend {
    fn create_if_missing(&self) -> Result<(), StoreError> {
        match self.config.connect(NoTls) {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&postgres::error::SqlState::INVALID_CATALOG_NAME) => {
                self.create_database()
            }
            Err(e) => Err(error(e)),
        }
    }

    fn connect(&self) -> Result<Box<dyn Connection>, StoreError> {
        let mut client = self.config.connect(NoTls).map_err(error)?;
        client.batch_execute(SESSION_SETTINGS).map_err(error)?;
        Ok(Box::new(PostgresConnection {
            client: Some(client),
            statements: HashMap::new(),
        }))
    }

    fn migrations(&self) -> &'static [(i64, &'static str)] {
        MIGRATIONS
    }

    fn readers_max(&self) -> usize {
        READERS_MAX
    }
}

struct PostgresConnection {
    /// Always present; taken only on drop.
    client: Option<Client>,
    /// Prepared statements by SQL text: each query is parsed by the server once.
    statements: HashMap<String, Statement>,
}

/// The synchronous client blocks on its own runtime when it closes, which tokio forbids on
/// an async thread (where the store's reader pool may be dropped); close it on a thread of
/// its own instead.
impl Drop for PostgresConnection {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("stammgast-pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

impl PostgresConnection {
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Other("the PostgreSQL connection is closed".into()))
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client()?.prepare(sql).map_err(error)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn copy_in(&mut self, table: &str, columns: &[&str], rows: &[Row]) -> Result<(), StoreError> {
        let mut data = Vec::new();
        for row in rows {
            copy_text_row(&mut data, row);
        }
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let mut writer = self.client()?.copy_in(&sql).map_err(error)?;
        writer
            .write_all(&data)
            .map_err(|e| StoreError::Other(format!("PostgreSQL: copying into {table}: {e}")))?;
        writer.finish().map_err(error)?;
        Ok(())
    }
}

/// One row in `COPY`'s text format: values separated by tabs, `\N` for null, and the
/// characters that would end a value or a row escaped.
fn copy_text_row(data: &mut Vec<u8>, row: &[Value]) {
    for (index, value) in row.iter().enumerate() {
        if index > 0 {
            data.push(b'\t');
        }
        match value {
            Value::Null => data.extend_from_slice(b"\\N"),
            // Writing into a `Vec` cannot fail.
            Value::Int(number) => {
                let _ = write!(data, "{number}");
            }
            Value::Text(text) => {
                for byte in text.bytes() {
                    match byte {
                        b'\\' => data.extend_from_slice(b"\\\\"),
                        b'\t' => data.extend_from_slice(b"\\t"),
                        b'\n' => data.extend_from_slice(b"\\n"),
                        b'\r' => data.extend_from_slice(b"\\r"),
                        other => data.push(other),
                    }
                }
            }
        }
    }
    data.push(b'\n');
}

fn params(values: &[Value]) -> Vec<Param<'_>> {
    values.iter().map(Param).collect()
}

fn refs<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Connection for PostgresConnection {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        let params = params(values);
        self.client()?
            .execute(&statement, &refs(&params))
            .map_err(error)
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        let params = params(values);
        let rows = self
            .client()?
            .query(&statement, &refs(&params))
            .map_err(error)?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|index| {
                        row.try_get::<_, Cell>(index)
                            .map(|cell| cell.0)
                            .map_err(error)
                    })
                    .collect()
            })
            .collect()
    }

    /// `COPY … FROM STDIN` in the text format: the rows travel as one stream and the server
    /// appends them without planning a statement for every few hundred of them.
    fn copy_rows(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[Row],
    ) -> Option<Result<(), StoreError>> {
        Some(self.copy_in(table, columns, rows))
    }

    fn begin(&mut self) -> Result<(), StoreError> {
        self.client()?.batch_execute("BEGIN").map_err(error)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.client()?.batch_execute("COMMIT").map_err(error)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        let client = self.client()?;
        if client.is_closed() {
            return Err(StoreError::Other(
                "the PostgreSQL connection is closed".into(),
            ));
        }
        client.batch_execute("ROLLBACK").map_err(error)
    }

    fn execute_script(&mut self, script: &str) -> Result<(), StoreError> {
        self.client()?.batch_execute(script).map_err(error)
    }
}

#[derive(Debug)]
struct Param<'a>(&'a Value);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match (self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(value), &Type::INT4) => i32::try_from(*value)?.to_sql(ty, out),
            (Value::Int(value), _) => value.to_sql(ty, out),
            (Value::Text(value), _) => value.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::INT8, Type::INT4, Type::TEXT, Type::VARCHAR].contains(ty)
    }

    to_sql_checked!();
}

/// One column value as the store's [`Value`].
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Cell(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            _ => Value::Text(String::from_sql(ty, raw)?),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn Error + Sync + Send>> {
        Ok(Cell(Value::Null))
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT8,
            Type::INT4,
            Type::TEXT,
            Type::VARCHAR,
            Type::NAME,
        ]
        .contains(ty)
    }
}

fn error(error: postgres::Error) -> StoreError {
    match error.code() {
        Some(code) if *code == postgres::error::SqlState::UNIQUE_VIOLATION => {
            StoreError::Conflict(describe(&error))
        }
        _ => StoreError::Other(format!("PostgreSQL: {}", describe(&error))),
    }
}

/// The server's own message where there is one ("db error" alone says nothing).
fn describe(error: &postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.to_string())
}
