//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a commit
//! returns only once it is on disk. The store's single writer thread holds one connection;
//! readers use their own and never block it (WAL lets them read the last committed state).
//! A checkpointer thread of its own copies committed pages from the WAL into the database
//! file, so no commit waits for that copy.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use rusqlite::OpenFlags;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::wal::CheckpointMode;
use stammgast_store::StoreError;
use stammgast_store::sql::{Backend, Connection, Dialect, Row, Value};
use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_backbone.sql")),
    (2, include_str!("../migrations/0002_web.sql")),
    (3, include_str!("../migrations/0003_analytics.sql")),
    (4, include_str!("../migrations/0004_custom_segments.sql")),
    (5, include_str!("../migrations/0005_outbox.sql")),
    (6, include_str!("../migrations/0006_journeys.sql")),
    (7, include_str!("../migrations/0007_surveys_and_inbox.sql")),
    (8, include_str!("../migrations/0008_transfers_by_event.sql")),
    (9, include_str!("../migrations/0009_planner_statistics.sql")),
];

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS_MAX: usize = 8;
const STATEMENT_CACHE_SIZE: usize = 128;
/// Durable commits (WAL, `synchronous=FULL`): every commit is on disk in the WAL before it
/// returns. A page cache of up to 64 MiB per connection (it grows only as pages are read):
/// the operating system caches the file beyond that anyway, and at the end of a write
/// transaction SQLite can walk the connection's whole cache (`pcache1Truncate` in the
/// profiles), so a cache of 1 GiB, once filled, made each small commit slower the larger
/// the database. `stammgast bench`, single purchases over HTTP: 2,354/s with 1 GiB, 2,813/s
/// with 64 MiB, 2,504/s with 16 MiB (which also slowed bulk ingestion by a fifth).
/// Pages of 16 KiB, set before the WAL so that a new database file takes them (an existing
/// one keeps its own): for the same rows a quarter of the pages, WAL frames and system
/// calls, and fewer B-tree levels. `stammgast bench`, bulk ingestion: 8,811–11,687 events/s
/// with 4 KiB pages, 13,806–17,575/s with 16 KiB; single purchases over HTTP alike
/// (5,036–5,679/s against 5,002–6,270/s). The WAL file is cut back to 64 MiB (above the
/// 40 MiB the checkpoints keep it to) when it starts again from its beginning: one large
/// transaction, such as four bulk requests gathered into one commit, would otherwise leave
/// it at its largest for good (1.4 GB after an import of 20 million purchases). Public so
/// that the benchmark's bare inserts run with the same settings.
pub const PRAGMAS: &str = "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; \
    PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; \
    PRAGMA journal_size_limit = 67108864;";
/// WAL pages (16 MiB of 16 KiB pages; a database made with smaller pages checkpoints
/// sooner) after which a commit asks the checkpointer to copy them into the database
/// file. Done by the committing connection, as SQLite does by itself, the copy and its
/// flush would hold up the writer and every request waiting on it (the slowest requests
/// took twice as long); on the checkpointer's thread they overlap the writer's next
/// transaction. Fewer pages between checkpoints would copy a page that many commits change
/// more often. The figures below were four times these when pages were 4 KiB; with 16 KiB
/// pages, the old figures (four times the bytes) and these measured alike in `stammgast
/// bench`, bulk and single purchases, so the WAL keeps its size in bytes.
const CHECKPOINT_AFTER_PAGES: c_int = 1_000;
/// The WAL starts again from its beginning only once a checkpoint has copied all of it
/// before a transaction begins, which a checkpointer running beside a busy writer never
/// quite does. So past this many pages a commit copies what is left itself, when the
/// checkpointer has left little ...
const RESTART_AFTER_PAGES: c_int = 1_500;
const PAGES_LEFT_TO_COPY_MAX: c_int = 250;
/// ... and past this many, whatever is left (the checkpointer is far behind, or one large
/// transaction wrote them all).
const WAL_PAGES_MAX: c_int = 2_500;

/// What the commits and the checkpointer thread share.
#[derive(Debug)]
struct Checkpointer {
    nudge: SyncSender<()>,
    /// WAL pages the last checkpoint found copied into the database file.
    copied: AtomicI32,
}

impl Checkpointer {
    /// After a commit that left `pages` in the WAL.
    fn after_commit(&self, wal: &mut rusqlite::hooks::Wal, pages: c_int) {
        if pages < CHECKPOINT_AFTER_PAGES {
            return;
        }
        let left = pages - self.copied.load(Ordering::Relaxed);
        let copy_here = pages >= WAL_PAGES_MAX
            || (pages >= RESTART_AFTER_PAGES && left <= PAGES_LEFT_TO_COPY_MAX);
        if !copy_here {
            // Full means one is asked for already.
            let _ = self.nudge.try_send(());
        } else if let Some(copied) = checkpoint(|| {
            wal.checkpoint_v2(CheckpointMode::PASSIVE)
                .map(|(_, copied)| copied)
        }) {
            self.copied.store(copied, Ordering::Relaxed);
        }
    }
}

/// Runs one checkpoint: the pages it found copied, or none when it could not run (the other
/// side's checkpoint was running, which is no fault: a later commit tries again).
fn checkpoint(run: impl FnOnce() -> rusqlite::Result<c_int>) -> Option<c_int> {
    match run() {
        Ok(copied) => Some(copied),
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if failure.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint failed; a later commit tries again");
            None
        }
    }
}

#[derive(Clone, Debug)]
pub struct SqliteBackend {
    path: PathBuf,
    /// Started with the first connection; its thread ends when the backend and its
    /// connections are gone.
    checkpointer: Arc<OnceLock<Option<Arc<Checkpointer>>>>,
}

impl SqliteBackend {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            checkpointer: Arc::default(),
        }
    }

    /// Reads `sqlite:///absolute/path.db`, `sqlite://relative.db` or `sqlite:relative.db`.
    pub fn from_url(url: &str) -> Option<Self> {
        let path = url.strip_prefix("sqlite:")?;
        let path = path.strip_prefix("//").unwrap_or(path);
        (!path.is_empty()).then(|| Self::new(path))
    }

    /// The checkpointer, or none where its thread could not start (then SQLite
    /// checkpoints on the committing connection, as it does by default).
    fn checkpointer(&self) -> Option<Arc<Checkpointer>> {
        self.checkpointer
            .get_or_init(|| {
                let (nudge, nudges) = sync_channel(1);
                let checkpointer = Arc::new(Checkpointer {
                    nudge,
                    copied: AtomicI32::new(0),
                });
                // The thread holds a weak reference only, so that it ends with the last
                // connection.
                let shared = Arc::downgrade(&checkpointer);
                let path = self.path.clone();
                std::thread::Builder::new()
                    .name("stammgast-checkpoint".into())
                    .spawn(move || run_checkpoints(&path, &nudges, &shared))
                    .inspect_err(|e| tracing::warn!(error = %e, "no checkpointer thread"))
                    .ok()
                    .map(|_| checkpointer)
            })
            .clone()
    }
}

/// Opens the database file, which must exist (see `Backend::connect`).
fn open(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let existing = OpenFlags::default().difference(OpenFlags::SQLITE_OPEN_CREATE);
    let connection = rusqlite::Connection::open_with_flags(path, existing).map_err(|e| {
        StoreError::Other(format!("cannot open the database {}: {e}", path.display()))
    })?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
    connection.execute_batch(PRAGMAS).map_err(error)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_SIZE);
    Ok(connection)
}

/// Runs a passive checkpoint (it never blocks the writer or a reader) whenever a commit
/// has nudged, until every nudge's sender is gone.
fn run_checkpoints(path: &Path, nudges: &Receiver<()>, shared: &Weak<Checkpointer>) {
    let mut connection = None;
    while nudges.recv().is_ok() {
        if connection.is_none() {
            connection = open(path)
                .inspect_err(|e| tracing::warn!(error = %e, "the checkpointer cannot connect"))
                .ok();
        }
        let Some(connection) = &connection else {
            continue;
        };
        let copied = checkpoint(|| {
            connection
                .wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE)
                .map(|(_, copied)| copied)
        });
        if let (Some(copied), Some(shared)) = (copied, shared.upgrade()) {
            shared.copied.store(copied, Ordering::Relaxed);
        }
    }
}

impl Backend for SqliteBackend {
    /// Creates the file and its folder; the settings `open` gives every connection (page
    /// size, WAL) then take effect on the empty database.
    fn create_if_missing(&self) -> Result<(), StoreError> {
        let path = &self.path;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Other(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        drop(rusqlite::Connection::open(path).map_err(error)?);
        Ok(())
    }

    fn connect(&self) -> Result<Box<dyn Connection>, StoreError> {
        let mut connection = open(&self.path)?;
        if let Some(checkpointer) = self.checkpointer() {
            // Replaces SQLite's own checkpointing on commit. Never an error: the commit has
            // happened, and a failed checkpoint is tried again.
            connection
                .wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages| {
                    checkpointer.after_commit(wal, pages);
                    Ok(())
                }))
                .map_err(error)?;
        }
        Ok(Box::new(SqliteConnection { connection }))
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
        let mut statement = self.prepared(sql)?;
        run(&mut statement, params)
    }

    /// The statement is found in the cache (its text translated and hashed) once, not per
    /// row: the writer's CPU time for the benchmark's 200,000 purchases fell from 7.0 s to
    /// 6.3 s (three runs each).
    fn execute_each(
        &mut self,
        sql: &str,
        params: &mut dyn Iterator<Item = Vec<Value>>,
    ) -> Result<u64, StoreError> {
        let mut statement = self.prepared(sql)?;
        params.map(|values| run(&mut statement, &values)).sum()
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut statement = self.prepared(sql)?;
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

impl SqliteConnection {
    /// The cached statement for `sql`, its `$n` placeholders translated.
    fn prepared(&self, sql: &str) -> Result<rusqlite::CachedStatement<'_>, StoreError> {
        self.connection
            .prepare_cached(&numbered_placeholders(sql))
            .map_err(error)
    }
}

/// Runs a statement that returns no rows once with `params`: the rows it changed.
fn run(statement: &mut rusqlite::Statement<'_>, params: &[Value]) -> Result<u64, StoreError> {
    check_parameter_count(statement, params)?;
    let changed = statement
        .execute(rusqlite::params_from_iter(params.iter().map(Param)))
        .map_err(error)?;
    Ok(changed as u64)
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
/// (Every statement passes through here, so it copies whole runs between dollars.)
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut runs = sql.split('$');
    out.push_str(runs.next().unwrap_or_default());
    for run in runs {
        out.push(if run.starts_with(|c: char| c.is_ascii_digit()) {
            '?'
        } else {
            '$'
        });
        out.push_str(run);
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
    use stammgast_store::sql::Columns;

    #[test]
    fn placeholders_become_numbered_question_marks() {
        assert_eq!(
            numbered_placeholders("$9 SELECT $1, '$x', $12, '$' FROM t WHERE a = $2"),
            "?9 SELECT ?1, '$x', ?12, '$' FROM t WHERE a = ?2"
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

    /// Rows of a table read from the database file alone, as a copy without its WAL.
    fn rows_in_the_file_alone(path: &Path, table: &str) -> Option<i64> {
        let copy = path.with_extension("copy.db");
        std::fs::copy(path, &copy).ok()?;
        let counted = rusqlite::Connection::open(&copy)
            .and_then(|c| c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)))
            .ok();
        let _ = std::fs::remove_file(&copy);
        counted
    }

    /// A database of its own with a table of notes, each nearly a page long; removed when
    /// dropped.
    struct NotesDatabase {
        dir: PathBuf,
        path: PathBuf,
        writer: Box<dyn Connection>,
        page_bytes: i64,
    }

    impl NotesDatabase {
        fn create(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "stammgast-{name}-{}-{:?}",
                std::process::id(),
                std::time::SystemTime::now()
            ));
            let path = dir.join("notes.db");
            let backend = SqliteBackend::new(&path);
            backend.create_if_missing().unwrap();
            let mut writer = backend.connect().unwrap();
            writer
                .execute_script("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
                .unwrap();
            let mut notes = Self {
                dir,
                path,
                writer,
                page_bytes: 0,
            };
            notes.page_bytes = notes.setting("page_size");
            notes
        }

        fn setting(&mut self, pragma: &str) -> i64 {
            let rows = self.writer.query(&format!("PRAGMA {pragma}"), &[]).unwrap();
            Columns::of(&rows[0]).int(0).unwrap()
        }

        /// Commits the notes with these ids in one transaction.
        fn commit(&mut self, ids: std::ops::Range<i64>) {
            let body = Value::Text("x".repeat(usize::try_from(self.page_bytes).unwrap() - 100));
            self.writer.begin().unwrap();
            for id in ids {
                self.writer
                    .execute(
                        "INSERT INTO notes (id, body) VALUES ($1, $2)",
                        &[Value::Int(id), body.clone()],
                    )
                    .unwrap();
            }
            self.writer.commit().unwrap();
        }

        fn wal_bytes(&self) -> u64 {
            std::fs::metadata(self.path.with_extension("db-wal"))
                .unwrap()
                .len()
        }
    }

    impl Drop for NotesDatabase {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn committed_pages_reach_the_database_file_and_the_wal_does_not_grow_for_ever() {
        let mut notes = NotesDatabase::create("checkpoints");
        // A page and its frame header of 24 bytes.
        let wal_frame_bytes = u64::try_from(notes.page_bytes).unwrap() + 24;
        // Twice the WAL's hard limit in rows of nearly a page each, ten to a commit.
        let rows = 2 * i64::from(WAL_PAGES_MAX);
        for commit in 0..rows / 10 {
            notes.commit(commit * 10..commit * 10 + 10);
        }
        // The checkpointer runs on its own thread: wait for it.
        let in_the_file = |found: Option<i64>| found.is_some_and(|found| found >= rows * 8 / 10);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut found = None;
        while std::time::Instant::now() < deadline && !in_the_file(found) {
            std::thread::sleep(Duration::from_millis(50));
            found = rows_in_the_file_alone(&notes.path, "notes");
        }
        assert!(
            in_the_file(found),
            "the database file alone holds {found:?} of the {rows} committed rows"
        );
        // The log started again from its beginning, well before the hard limit would
        // have made a commit copy all of it.
        let wal_pages = notes.wal_bytes() / wal_frame_bytes;
        let restarted_by = u64::try_from(RESTART_AFTER_PAGES + WAL_PAGES_MAX).unwrap() / 2;
        assert!(
            wal_pages < restarted_by,
            "the WAL holds {wal_pages} pages after {rows} pages of commits"
        );
    }

    #[test]
    fn after_one_large_transaction_the_wal_file_is_cut_back_to_its_limit() {
        let mut notes = NotesDatabase::create("wal-limit");
        let limit = notes.setting("journal_size_limit");
        assert!(limit > 0, "the WAL file has a size limit: {limit}");
        let limit = u64::try_from(limit).unwrap();
        // Rows of nearly a page each, twice the limit's worth in one transaction.
        let rows = 2 * i64::try_from(limit).unwrap() / notes.page_bytes;
        notes.commit(0..rows);
        assert!(
            notes.wal_bytes() > limit,
            "the large transaction fills the WAL"
        );
        // That commit copied its pages into the database file; the next starts the WAL
        // again from its beginning.
        notes.commit(rows..rows + 1);
        assert!(
            notes.wal_bytes() <= limit,
            "the WAL file has {} bytes, its limit is {limit}",
            notes.wal_bytes()
        );
    }
}
