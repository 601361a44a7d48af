//! The single writer: one thread owns the write connection, gathers every request that has
//! queued up (up to a bound) and commits them in one transaction — group commit. Durability
//! is the database's (`synchronous=FULL`, PostgreSQL's default commit); the batching is what
//! spreads each disk flush over many requests.
//!
//! A transaction that fails as a whole (a uniqueness conflict with another app server, say)
//! is retried one submission at a time, so one bad submission never fails its neighbours.

use crate::batch_tx::{ProgramCache, decide};
use crate::sql::{Backend, Connection};
use crate::{Decision, StoreError};
use stammgast_core::batch::Request;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Requests gathered into one transaction at most (a few full bulk requests): the larger
/// the transaction, the more of its page writes fall on pages it already dirtied.
pub const REQUESTS_PER_TRANSACTION_MAX: usize = 40_000;
/// Submissions that may wait for the writer before senders wait for room.
const QUEUE_DEPTH: usize = 4_096;

struct Submission {
    requests: Vec<Request>,
    reply: oneshot::Sender<Result<Vec<Decision>, StoreError>>,
}

#[derive(Clone)]
pub struct Handle {
    queue: mpsc::Sender<Submission>,
}

impl Handle {
    pub fn start(
        connection: Box<dyn Connection>,
        backend: Arc<dyn Backend>,
    ) -> Result<Self, StoreError> {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        let writer = Writer {
            connection,
            backend,
            programs: ProgramCache::default(),
        };
        std::thread::Builder::new()
            .name("stammgast-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::Other(format!("cannot start the writer: {e}")))?;
        Ok(Self { queue })
    }

    pub async fn submit(&self, requests: Vec<Request>) -> Result<Vec<Decision>, StoreError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        self.queue_and_wait(requests).await
    }

    /// Waits until every submission queued before this call has been committed or refused:
    /// the writer takes submissions in order, so an empty one is answered after them.
    pub async fn settle(&self) -> Result<(), StoreError> {
        self.queue_and_wait(Vec::new()).await.map(drop)
    }

    async fn queue_and_wait(&self, requests: Vec<Request>) -> Result<Vec<Decision>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Submission { requests, reply })
            .await
            .map_err(|_| StoreError::Other("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Other("the writer dropped a request".into()))?
    }
}

struct Writer {
    connection: Box<dyn Connection>,
    backend: Arc<dyn Backend>,
    programs: ProgramCache,
}

impl Writer {
    /// Runs until every handle is dropped.
    fn run(mut self, mut receiver: mpsc::Receiver<Submission>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut gathered = first.requests.len();
            let mut submissions = vec![first];
            while gathered < REQUESTS_PER_TRANSACTION_MAX {
                let Ok(next) = receiver.try_recv() else { break };
                gathered += next.requests.len();
                submissions.push(next);
            }
            self.commit(submissions);
        }
    }

    fn commit(&mut self, submissions: Vec<Submission>) {
        if submissions.len() == 1 {
            for submission in submissions {
                let result = self.transact(&submission.requests);
                let _ = submission.reply.send(result);
            }
            return;
        }
        // The requests move into one list (a bulk request holds thousands, too many to copy)
        // and are cut back into their submissions by their counts.
        let counts: Vec<usize> = submissions.iter().map(|s| s.requests.len()).collect();
        let (requests, replies): (Vec<Vec<Request>>, Vec<_>) = submissions
            .into_iter()
            .map(|s| (s.requests, s.reply))
            .unzip();
        let requests: Vec<Request> = requests.into_iter().flatten().collect();
        match self.transact(&requests) {
            Ok(decisions) => {
                let mut decisions = decisions.into_iter();
                for (reply, count) in replies.into_iter().zip(counts) {
                    let _ = reply.send(Ok(decisions.by_ref().take(count).collect()));
                }
            }
            Err(error) => {
                tracing::warn!(%error, "group commit failed; retrying its submissions one by one");
                let mut requests = requests.as_slice();
                for (reply, count) in replies.into_iter().zip(counts) {
                    let (own, rest) = requests.split_at(count);
                    requests = rest;
                    let _ = reply.send(self.transact(own));
                }
            }
        }
    }

    fn transact(&mut self, requests: &[Request]) -> Result<Vec<Decision>, StoreError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let result = self.try_transact(requests);
        if let Err(error) = &result {
            tracing::warn!(%error, "write transaction failed");
            if self.connection.rollback().is_err() {
                self.reconnect();
            }
        }
        result
    }

    fn try_transact(&mut self, requests: &[Request]) -> Result<Vec<Decision>, StoreError> {
        self.connection.begin()?;
        let decisions = decide(self.connection.as_mut(), &mut self.programs, requests)?;
        self.connection.commit()?;
        Ok(decisions)
    }

    /// A connection that cannot even roll back is broken (the server restarted, say).
    fn reconnect(&mut self) {
        match self.backend.connect() {
            Ok(connection) => self.connection = connection,
            Err(error) => tracing::error!(%error, "cannot reconnect the writer"),
        }
    }
}
