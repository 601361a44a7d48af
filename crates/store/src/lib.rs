//! The storage port: the [`Store`] every use case goes through, over any SQL [`Backend`].
//!
//! Balance-changing requests go to one writer thread that gathers whatever has queued up
//! and applies it in one transaction (group commit), running the core's batch protocol.
//! Reads use a small pool of their own connections and never wait for the writer. The
//! queries are written once in the SQL both backends speak ([`sql`]); a backend brings its
//! connection and its migrations. [`conformance`] is the behavioural suite every backend
//! runs.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod accounts;
mod analytics;
mod batch_tx;
mod codec;
pub mod conformance;
mod custom_segments;
mod journeys;
mod locations;
mod migrate;
mod outbox;
mod purchase_rows;
mod reads;
mod records;
mod segments;
mod shop_settings;
pub mod sql;
mod writer;

pub use analytics::{NewSurveyAnswer, SurveyComment};
pub use custom_segments::{CustomMove, CustomSegmentRecord, custom_segment_name};
pub use journeys::Enrolment;
pub use outbox::{InboxMessage, OutboxMessage, Settled};
pub use purchase_rows::PurchaseRows;
pub use records::*;
pub use segments::{PlacementChange, SegmentTransition, StoredPlacement};

use sql::{Backend, Connection};
use stammgast_core::batch::{Outcome, Request};
use stammgast_core::engine::DomainError;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write (a concurrent request won).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data that cannot be read back: a bug or a damaged database.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A pagination cursor this store did not hand out.
    #[error("\"{0}\" is not a cursor of this list")]
    BadCursor(String),
    #[error("{0}")]
    Other(String),
}

/// What one submitted request came to: its outcome, or why the domain refused it.
pub type Decision = Result<Outcome, DomainError>;

/// The store: cheap to clone, shared by every handler and worker.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    readers: Arc<Mutex<Vec<Box<dyn Connection>>>>,
    writer: writer::Handle,
}

impl Store {
    /// Opens the database, brings its schema up to date and starts the writer.
    pub async fn open(backend: impl Backend) -> Result<Self, StoreError> {
        let backend: Arc<dyn Backend> = Arc::new(backend);
        let opened = Arc::clone(&backend);
        let connection = blocking(move || {
            opened.create_if_missing()?;
            let mut connection = opened.connect()?;
            migrate::run(connection.as_mut(), opened.migrations())?;
            Ok(connection)
        })
        .await?;
        Ok(Self {
            writer: writer::Handle::start(connection, Arc::clone(&backend))?,
            backend,
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Applies the requests in order, in one transaction shared with whatever else is
    /// queued. Returns once the transaction is durable.
    pub async fn submit(&self, requests: Vec<Request>) -> Result<Vec<Decision>, StoreError> {
        self.writer.submit(requests).await
    }

    /// Waits until every request submitted before this call has been committed or refused,
    /// including those whose callers have stopped waiting (the benchmark drops its database
    /// only after that).
    pub async fn settle(&self) -> Result<(), StoreError> {
        self.writer.settle().await
    }

    /// Refreshes the planner's statistics where the database measures them (the worker does
    /// this now and then, so that plans follow the data even where autovacuum is off).
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        self.with_connection(
            |connection| match connection.dialect().statistics_refresh() {
                Some(statement) => connection.execute_script(statement),
                None => Ok(()),
            },
        )
        .await
    }

    /// Copies what the write-ahead log holds into the database files (`stammgast bench` does
    /// so between ingestion and HTTP load, so that the load is measured on a settled
    /// database rather than next to a backlog of that work). PostgreSQL allows it to
    /// superusers and the `pg_checkpoint` role only.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        self.with_connection(|connection| {
            let statement = connection.dialect().checkpoint();
            connection.execute_script(statement)
        })
        .await
    }

    /// Runs `work` on a pooled connection (not the writer's) on a blocking thread.
    async fn with_connection<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        blocking(move || {
            let mut connection = store.take_reader()?;
            let result = work(connection.as_mut());
            if result.is_ok() {
                store.return_reader(connection);
            }
            result
        })
        .await
    }

    fn take_reader(&self) -> Result<Box<dyn Connection>, StoreError> {
        let pooled = self.readers.lock().map_err(poisoned)?.pop();
        match pooled {
            Some(connection) => Ok(connection),
            None => self.backend.connect(),
        }
    }

    fn return_reader(&self, connection: Box<dyn Connection>) {
        if let Ok(mut readers) = self.readers.lock()
            && readers.len() < self.backend.readers_max()
        {
            readers.push(connection);
        }
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Other("a store lock was poisoned by a panic".into())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Other(format!("storage task failed: {e}")))?
}
