//! The use cases: join a member, record purchases and visits, void and refund, redeem
//! rewards and use coupons, adjust balances, read balances and history, create businesses
//! and check their ledgers. The only caller of the store; it owns the clock, fresh ids and
//! randomness, and what each operation means. No HTTP here: callers are the API, the
//! pages, the worker and the CLI.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod analytics;
mod business;
mod card;
pub mod catalog;
mod counter;
mod custom_segments;
mod error;
mod events;
mod fresh;
pub mod import;
mod journeys;
mod keys;
mod locations;
mod mail;
mod members;
mod outbox;
mod privacy;
mod rewards;
mod sessions;
pub mod setup;
mod shop;
mod staff;
mod surveys;
mod tokens;

pub use analytics::{MonthFacts, Report, ReportQuery};
pub use business::{CheckReport, CreatedBusiness, DEFAULT_PROGRAM};
pub use card::Card;
pub use counter::Enrolled;
pub use custom_segments::{CustomSegment, SegmentPreview};
pub use error::AppError;
pub use events::{NewEvent, NewEventKind};
pub use journeys::{JourneyReport, TEMPLATES as JOURNEY_TEMPLATES, journey_template};
pub use keys::{Actor, Caller, Scope};
pub use mail::{LogMailer, Mail, MailError, Mailer, Sending, Text, Texter};
pub use members::{JoinMember, MemberProfile};
pub use outbox::Delivered;
pub use privacy::{MemberExport, Preferences};
pub use sessions::{
    CardSession, NewStaffAccount, StaffSession, generate_password, parse_role, role_name,
};
pub use shop::check_branding;
pub use staff::TeamMember;
pub use stammgast_store::{
    ConsentRecord, Decision, LegalTexts, LocationRecord, MemberFilter, MemberRecord, Page, Store,
    StoreError,
};
pub use surveys::{Survey, SurveyAnswer};

use chrono::{DateTime, Utc};
use stammgast_core::batch::{Command, IdempotencyKey, Outcome, Request};
use stammgast_core::ids::BusinessId;
use stammgast_core::money::Currency;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// Where the app reads the time: the system clock, or a fixed one in tests and simulations.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Utc::now))
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Arc::new(move || at))
    }

    /// A clock that reads whatever `hand` was last set to (simulations, replays).
    pub fn manual(hand: &ClockHand) -> Self {
        let millis = Arc::clone(&hand.0);
        Self(Arc::new(move || {
            DateTime::from_timestamp_millis(millis.load(Ordering::Relaxed)).unwrap_or_default()
        }))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

/// Sets the time of the clocks made with [`Clock::manual`].
#[derive(Clone, Debug)]
pub struct ClockHand(Arc<AtomicI64>);

impl ClockHand {
    pub fn at(time: DateTime<Utc>) -> Self {
        Self(Arc::new(AtomicI64::new(time.timestamp_millis())))
    }

    pub fn set(&self, time: DateTime<Utc>) {
        self.0.store(time.timestamp_millis(), Ordering::Relaxed);
    }
}

/// The application: cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct App {
    store: Store,
    clock: Clock,
    /// Each business's currency, so a purchase in another currency is refused before it
    /// reaches the writer. Refreshed when this process publishes a program.
    currencies: Arc<RwLock<HashMap<BusinessId, Currency>>>,
    verified_keys: Arc<keys::VerifiedKeys>,
    /// Locations seen to belong to their business (they are never removed).
    known_locations: Arc<RwLock<HashSet<(BusinessId, stammgast_core::ids::LocationId)>>>,
    /// The most visits a report counts exactly from the history.
    history_visits_max: u64,
    login_throttle: Arc<sessions::Throttle>,
    link_throttle: Arc<sessions::Throttle>,
    join_throttle: Arc<sessions::Throttle>,
    mailer: Arc<dyn Mailer>,
    /// The SMS and push provider, when one is configured.
    texter: Option<Arc<dyn Texter>>,
    /// Where the app is reached from outside, for the links in mail the worker sends.
    public_url: String,
}

impl App {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self {
            store,
            clock,
            currencies: Arc::default(),
            verified_keys: Arc::default(),
            known_locations: Arc::default(),
            history_visits_max: analytics::HISTORY_VISITS_MAX,
            login_throttle: Arc::new(sessions::Throttle::for_logins()),
            link_throttle: Arc::new(sessions::Throttle::for_links()),
            join_throttle: Arc::new(sessions::Throttle::for_joins()),
            mailer: Arc::new(LogMailer),
            texter: None,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }

    /// The app counting reports exactly from a history of at most `visits` (larger ones
    /// answer calendar spans only, from the running aggregates).
    pub fn with_history_visits_max(mut self, visits: u64) -> Self {
        self.history_visits_max = visits;
        self
    }

    /// The app sending its mail through `mailer` (the log by default).
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = mailer;
        self
    }

    /// The app sending SMS and push messages through `texter` (none by default: journeys
    /// on those channels cannot be saved).
    pub fn with_texter(mut self, texter: Arc<dyn Texter>) -> Self {
        self.texter = Some(texter);
        self
    }

    /// The app's address as members reach it (`https://treue.cafe-morgenrot.de`).
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.public_url = url.trim_end_matches('/').to_owned();
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn request(&self, caller: &Caller, key: Option<IdempotencyKey>, command: Command) -> Request {
        self.request_as(caller.business_id, caller.actor(), key, command)
    }

    /// A request stamped with the app's clock and fresh randomness.
    fn request_as(
        &self,
        business_id: BusinessId,
        actor: String,
        key: Option<IdempotencyKey>,
        command: Command,
    ) -> Request {
        Request {
            business_id,
            key,
            actor,
            now: self.now(),
            seed: fresh::seed(),
            command,
        }
    }

    /// Submits one command and returns its outcome, or the domain's refusal as an error.
    async fn submit(
        &self,
        caller: &Caller,
        key: Option<IdempotencyKey>,
        command: Command,
    ) -> Result<Outcome, AppError> {
        let request = self.request(caller, key, command);
        let mut decisions = self.store.submit(vec![request]).await?;
        let decision = decisions
            .pop()
            .ok_or_else(|| StoreError::Other("the store returned no decision".into()))?;
        Ok(decision?)
    }
}
