//! The narrow SQL interface a backend provides: one connection that runs statements with
//! `$1, $2, …` placeholders over three value types. Every query of the store is written once
//! in the portable subset of SQL both SQLite and PostgreSQL accept, so the two backends
//! cannot drift apart; a backend only owns its connection, its dialect details and its
//! migrations.

use crate::StoreError;
use chrono::{DateTime, Utc};

/// A value bound to or read from a statement. Times are epoch milliseconds, ids and JSON
/// are text: types both databases store the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(value: DateTime<Utc>) -> Self {
        Self::Int(value.timestamp_millis())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// Turns anything displayable (ids, slugs, codes, accounts) into a text value.
pub fn text(value: impl std::fmt::Display) -> Value {
    Value::Text(value.to_string())
}

pub type Row = Vec<Value>;

/// Reads typed columns from a row, with an error that names the column on a mismatch.
pub struct Columns<'a> {
    row: &'a [Value],
}

impl<'a> Columns<'a> {
    pub fn of(row: &'a [Value]) -> Self {
        Self { row }
    }

    pub fn int(&self, index: usize) -> Result<i64, StoreError> {
        match self.row.get(index) {
            Some(Value::Int(value)) => Ok(*value),
            other => Err(mismatch(index, "an integer", other)),
        }
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, StoreError> {
        match self.row.get(index) {
            Some(Value::Null) => Ok(None),
            _ => self.int(index).map(Some),
        }
    }

    pub fn text(&self, index: usize) -> Result<&'a str, StoreError> {
        match self.row.get(index) {
            Some(Value::Text(value)) => Ok(value),
            other => Err(mismatch(index, "text", other)),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<&'a str>, StoreError> {
        match self.row.get(index) {
            Some(Value::Null) => Ok(None),
            _ => self.text(index).map(Some),
        }
    }

    pub fn time(&self, index: usize) -> Result<DateTime<Utc>, StoreError> {
        millis_to_time(self.int(index)?)
    }

    pub fn opt_time(&self, index: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_int(index)?.map(millis_to_time).transpose()
    }

    /// Parses a text column with the type's own parser (ids, slugs, codes, accounts).
    pub fn parsed<T>(
        &self,
        index: usize,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, StoreError> {
        let raw = self.text(index)?;
        parse(raw)
            .ok_or_else(|| StoreError::Corrupt(format!("column {index}: cannot read {raw:?}")))
    }

    pub fn opt_parsed<T>(
        &self,
        index: usize,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        match self.opt_text(index)? {
            None => Ok(None),
            Some(_) => self.parsed(index, parse).map(Some),
        }
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<T, StoreError> {
        serde_json::from_str(self.text(index)?)
            .map_err(|e| StoreError::Corrupt(format!("column {index}: {e}")))
    }
}

fn mismatch(index: usize, expected: &str, found: Option<&Value>) -> StoreError {
    StoreError::Corrupt(format!(
        "column {index}: expected {expected}, found {found:?}"
    ))
}

fn millis_to_time(millis: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| StoreError::Corrupt(format!("{millis} is not a time")))
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_string(value)
        .map(Value::Text)
        .map_err(|e| StoreError::Other(format!("cannot encode JSON: {e}")))
}

/// Where the two SQL dialects differ in what the store's queries need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The suffix that locks rows read inside a write transaction. SQLite has one writer
    /// (the transaction holds the database lock), PostgreSQL locks the rows.
    pub fn lock_rows(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// The statement that takes a lock on a name (`$1`) until the transaction ends, for what
    /// rows read cannot lock: the coupons of a reward that its stock and limits count, which
    /// another app server may be issuing at the same time. SQLite lets one writer in anyway.
    pub fn lock_name(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"),
        }
    }

    /// The statement that refreshes the planner's statistics, where they are measured.
    /// PostgreSQL plans from what `ANALYZE` last sampled, and a server with autovacuum off
    /// never samples: a batch's lookup of 500 member states by key then read the whole
    /// business (67 ms instead of 4). SQLite plans from the fixed statistics of its
    /// migrations.
    pub fn statistics_refresh(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("ANALYZE"),
        }
    }

    /// The statement that copies everything committed so far from the write-ahead log into
    /// the database's own files, and waits until it has.
    pub fn checkpoint(self) -> &'static str {
        match self {
            Self::Sqlite => "PRAGMA wal_checkpoint(TRUNCATE)",
            Self::Postgres => "CHECKPOINT",
        }
    }

    /// Statements that take and release a lock held while migrating, so that servers
    /// starting together migrate one after another. SQLite's write lock does this already.
    pub fn migration_lock(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some((
                "SELECT 1 FROM pg_advisory_lock(7826003)",
                "SELECT 1 FROM pg_advisory_unlock(7826003)",
            )),
        }
    }

    /// Rows per `INSERT` statement. PostgreSQL pays a network round trip per statement, so
    /// rows travel a few hundred at a time; embedded SQLite has no round trip, and measured
    /// faster with one cached single-row statement per row.
    pub fn rows_per_insert(self) -> usize {
        match self {
            Self::Sqlite => 1,
            Self::Postgres => 256,
        }
    }
}

/// One database connection. Statements use `$n` placeholders; the backend translates them
/// where its database wants another form, and caches prepared statements.
pub trait Connection: Send {
    fn dialect(&self) -> Dialect;
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs `sql` once for each list of values: one statement for many rows. A backend that
    /// has a statement to find or translate per run does so once here.
    fn execute_each(
        &mut self,
        sql: &str,
        params: &mut dyn Iterator<Item = Vec<Value>>,
    ) -> Result<u64, StoreError> {
        params.map(|values| self.execute(sql, &values)).sum()
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Appends `rows` (each a value for every one of `columns`) to `table` by the database's
    /// bulk path, where it has one faster than `INSERT` statements (PostgreSQL's `COPY`);
    /// `None` where it has none, and the rows go in by `INSERT`.
    fn copy_rows(
        &mut self,
        _table: &str,
        _columns: &[&str],
        _rows: &[Row],
    ) -> Option<Result<(), StoreError>> {
        None
    }
    /// Starts a transaction that writes (SQLite: `BEGIN IMMEDIATE`).
    fn begin(&mut self) -> Result<(), StoreError>;
    fn commit(&mut self) -> Result<(), StoreError>;
    fn rollback(&mut self) -> Result<(), StoreError>;
    /// Runs a script of several statements without parameters (migrations).
    fn execute_script(&mut self, script: &str) -> Result<(), StoreError>;
}

/// A database: how to open connections and which migrations bring its schema up to date.
pub trait Backend: Send + Sync + 'static {
    /// Creates the database where it does not exist yet. Only opening the store does this.
    fn create_if_missing(&self) -> Result<(), StoreError>;
    /// A connection to the database, which must exist: the writer and the readers reconnect
    /// through this, and a database dropped or deleted under a running server must come back
    /// as an error, never as a new, empty one.
    fn connect(&self) -> Result<Box<dyn Connection>, StoreError>;
    /// The schema's migrations in order, as (version, SQL of several statements).
    fn migrations(&self) -> &'static [(i64, &'static str)];
    /// How many connections may read at once.
    fn readers_max(&self) -> usize;
}

/// Parameters per statement at most; both databases take more (SQLite 32,766, PostgreSQL
/// 65,535).
const PARAMETERS_PER_STATEMENT_MAX: usize = 30_000;

/// Inserts `rows` into `table`, several rows per statement where the dialect gains from it
/// (`INSERT … VALUES (…), (…)`: one round trip per few hundred rows instead of one per
/// row). `suffix` follows the values (an `ON CONFLICT …` clause, say). Rows too many for
/// one statement go by the database's bulk path where it has one and nothing follows the
/// values; fewer go in one prepared statement, which takes one round trip where `COPY`
/// takes two.
pub fn insert_rows(
    connection: &mut dyn Connection,
    table: &str,
    columns: &[&str],
    suffix: &str,
    rows: Vec<Row>,
) -> Result<(), StoreError> {
    let per_statement = rows_per_statement(connection.dialect(), table, columns, &rows)?;
    if suffix.is_empty()
        && rows.len() > per_statement
        && let Some(copied) = connection.copy_rows(table, columns, &rows)
    {
        return copied;
    }
    // Every statement but the last has `per_statement` rows: one text, run for each of them.
    let full_statements = rows.len() / per_statement;
    let mut rows = rows.into_iter();
    if full_statements > 0 {
        let sql = insert_statement(table, columns, per_statement, suffix);
        let mut params = (0..full_statements).map(|_| {
            rows.by_ref()
                .take(per_statement)
                .flatten()
                .collect::<Vec<_>>()
        });
        connection.execute_each(&sql, &mut params)?;
    }
    let rest: Vec<Value> = rows.flatten().collect();
    if !rest.is_empty() {
        let sql = insert_statement(table, columns, rest.len() / columns.len(), suffix);
        connection.execute(&sql, &rest)?;
    }
    Ok(())
}

/// Inserts as `insert_rows` does, with a `suffix` that ends in `RETURNING …`: the rows the
/// statements returned (those inserted, when the suffix also says `ON CONFLICT DO NOTHING`).
pub fn insert_rows_returning(
    connection: &mut dyn Connection,
    table: &str,
    columns: &[&str],
    suffix: &str,
    rows: Vec<Row>,
) -> Result<Vec<Row>, StoreError> {
    let per_statement = rows_per_statement(connection.dialect(), table, columns, &rows)?;
    let mut returned = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Row> = rows.by_ref().take(per_statement).collect();
        let sql = insert_statement(table, columns, chunk.len(), suffix);
        let params: Vec<Value> = chunk.into_iter().flatten().collect();
        returned.extend(connection.query(&sql, &params)?);
    }
    Ok(returned)
}

/// Rows per `INSERT` statement for the dialect and width, once every row is checked to
/// have a value for each column.
fn rows_per_statement(
    dialect: Dialect,
    table: &str,
    columns: &[&str],
    rows: &[Row],
) -> Result<usize, StoreError> {
    if let Some(row) = rows.iter().find(|row| row.len() != columns.len()) {
        return Err(StoreError::Other(format!(
            "{table}: a row of {} values for {} columns",
            row.len(),
            columns.len()
        )));
    }
    Ok(dialect
        .rows_per_insert()
        .min(PARAMETERS_PER_STATEMENT_MAX / columns.len().max(1))
        .max(1))
}

fn insert_statement(table: &str, columns: &[&str], rows: usize, suffix: &str) -> String {
    use std::fmt::Write;
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns.len() {
            let separator = if column == 0 { "" } else { ", " };
            let _ = write!(sql, "{separator}${}", row * columns.len() + column + 1);
        }
        sql.push(')');
    }
    if !suffix.is_empty() {
        sql.push(' ');
        sql.push_str(suffix);
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_inserts_number_their_placeholders_row_by_row() {
        assert_eq!(
            insert_statement("t", &["a", "b"], 2, "ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
    }

    /// Records the statements it is asked to run, with the number of values of each.
    struct Recorder {
        dialect: Dialect,
        statements: Vec<(usize, usize)>,
    }

    impl Connection for Recorder {
        fn dialect(&self) -> Dialect {
            self.dialect
        }
        fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
            let rows = sql.matches('(').count() - 1;
            self.statements.push((rows, params.len()));
            Ok(rows as u64)
        }
        fn query(&mut self, _: &str, _: &[Value]) -> Result<Vec<Row>, StoreError> {
            unreachable!("inserts only execute")
        }
        fn begin(&mut self) -> Result<(), StoreError> {
            Ok(())
        }
        fn commit(&mut self) -> Result<(), StoreError> {
            Ok(())
        }
        fn rollback(&mut self) -> Result<(), StoreError> {
            Ok(())
        }
        fn execute_script(&mut self, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn insert(dialect: Dialect, rows: i64) -> Vec<(usize, usize)> {
        let mut recorder = Recorder {
            dialect,
            statements: Vec::new(),
        };
        let rows = (0..rows)
            .map(|n| vec![Value::Int(n), Value::Null])
            .collect();
        insert_rows(&mut recorder, "t", &["a", "b"], "", rows).unwrap();
        recorder.statements
    }

    #[test]
    fn every_row_is_inserted_once_in_statements_of_the_dialects_size() {
        let postgres = insert(Dialect::Postgres, 600);
        assert_eq!(postgres, vec![(256, 512), (256, 512), (88, 176)]);
        assert_eq!(insert(Dialect::Postgres, 512).len(), 2);
        let sqlite = insert(Dialect::Sqlite, 3);
        assert_eq!(sqlite, vec![(1, 2); 3]);
        assert!(insert(Dialect::Sqlite, 0).is_empty());
    }

    #[test]
    fn a_row_without_a_value_for_each_column_is_refused_before_anything_runs() {
        let mut recorder = Recorder {
            dialect: Dialect::Sqlite,
            statements: Vec::new(),
        };
        let rows = vec![vec![Value::Int(1), Value::Null], vec![Value::Int(2)]];
        let refused = insert_rows(&mut recorder, "t", &["a", "b"], "", rows);
        assert!(
            matches!(refused, Err(StoreError::Other(m)) if m.contains("a row of 1 values for 2 columns"))
        );
        assert!(recorder.statements.is_empty());
    }
}
