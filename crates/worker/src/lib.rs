//! Background maintenance: a bounded loop that expires due points, re-evaluates tiers
//! (downgrades happen only here, after the grace period) and, every few minutes per
//! business, refits the lifetime models and places every member in their segments; and it
//! runs the journeys on every member and delivers the outbox, trying again what could not
//! be sent. Each
//! pass handles at most `batch_size` members per business for expiry and tiers, so one
//! pass has a bounded cost; what is left waits for the next pass. All of it is
//! idempotent, so several app servers running the loop at once change nothing twice.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use stammgast_app::{App, AppError};
use stammgast_core::ids::{BusinessId, MemberId};
use std::collections::HashMap;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct WorkerSettings {
    pub interval: Duration,
    pub batch_size: usize,
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub members_expired: usize,
    pub tiers_evaluated: usize,
    /// Members placed in their segments, and the moves between segments recorded.
    pub members_placed: usize,
    pub segment_moves: usize,
    /// Members enrolled in journeys (each once per occasion).
    pub journey_enrolments: usize,
    /// Messages of the outbox: sent, to be tried again, given up, skipped, bounced.
    pub messages: stammgast_app::Delivered,
}

/// How often a business's models and segments are refreshed: a lifecycle stage changes
/// by the day, and a refresh of a million members takes seconds.
const ANALYTICS_INTERVAL: Duration = Duration::from_secs(300);
/// How often the database's planner statistics are refreshed (a sample of each table, a
/// few seconds at most on a large database; `Store::refresh_statistics` says why).
const STATISTICS_INTERVAL: Duration = Duration::from_secs(600);

/// Runs passes every `interval` until `shutdown` resolves.
pub async fn run(
    app: App,
    settings: WorkerSettings,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut worker = Worker::new(app, settings.batch_size);
    let mut ticks = tokio::time::interval(settings.interval);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = ticks.tick() => match worker.pass().await {
                Ok(report) if report != PassReport::default() => tracing::info!(?report, "maintenance pass"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "maintenance pass failed"),
            },
        }
    }
}

pub struct Worker {
    app: App,
    batch_size: usize,
    /// Where each business's tier evaluation goes on next pass (it walks members in id order).
    tier_cursors: HashMap<BusinessId, MemberId>,
    /// When each business's analytics were last refreshed by this worker.
    analytics_refreshed: HashMap<BusinessId, std::time::Instant>,
    /// When this worker last refreshed the database's planner statistics.
    statistics_refreshed: Option<std::time::Instant>,
}

impl Worker {
    pub fn new(app: App, batch_size: usize) -> Self {
        Self {
            app,
            batch_size,
            tier_cursors: HashMap::new(),
            analytics_refreshed: HashMap::new(),
            statistics_refreshed: None,
        }
    }

    /// One pass over every business.
    pub async fn pass(&mut self) -> Result<PassReport, AppError> {
        let mut report = PassReport::default();
        let store = self.app.store().clone();
        let now = self.app.now();
        if self
            .statistics_refreshed
            .is_none_or(|at| at.elapsed() >= STATISTICS_INTERVAL)
        {
            store.refresh_statistics().await?;
            self.statistics_refreshed = Some(std::time::Instant::now());
        }
        for business in store.businesses().await? {
            let due = store
                .members_with_expired_points(business, now, self.batch_size)
                .await?;
            self.app.expire_points(business, &due).await?;
            report.members_expired += due.len();
            let after = self.tier_cursors.get(&business).copied();
            let tiered = store
                .members_with_tier(business, after, self.batch_size)
                .await?;
            self.app.evaluate_tiers(business, &tiered).await?;
            report.tiers_evaluated += tiered.len();
            match tiered.last() {
                Some(last) if tiered.len() == self.batch_size => {
                    self.tier_cursors.insert(business, *last)
                }
                _ => self.tier_cursors.remove(&business),
            };
            let due = self
                .analytics_refreshed
                .get(&business)
                .is_none_or(|at| at.elapsed() >= ANALYTICS_INTERVAL);
            if due {
                let refreshed = self.app.refresh_analytics(business).await?;
                report.members_placed += refreshed.members;
                report.segment_moves += refreshed.moves;
                report.journey_enrolments += self
                    .app
                    .run_journeys_on(business, &refreshed.profiles)
                    .await?;
                self.analytics_refreshed
                    .insert(business, std::time::Instant::now());
            }
            report.messages += self.app.deliver_messages(business).await?;
        }
        Ok(report)
    }
}
