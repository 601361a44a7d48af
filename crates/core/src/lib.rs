//! The Stammgast domain: deterministic, and free of I/O. No clock, no randomness, no
//! database, no network: callers pass `now`, ids and seeds in, and get values back.
//!
//! Money, points and stamps ([`money`], [`points`], [`ids`]), members ([`member`]), events
//! ([`event`]), the program format and its evaluation ([`program`]), the double-entry
//! ledger ([`ledger`]), the engine that applies commands to member state ([`engine`]), and
//! the customer-lifetime models ([`clv`]) and the analytics built on them ([`analytics`]).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod activity;
pub mod analytics;
pub mod automation;
pub mod batch;
pub mod clv;
pub mod csv;
pub mod engine;
pub mod event;
pub mod ids;
pub mod ledger;
pub mod member;
pub mod money;
pub mod outbox;
pub mod points;
pub mod program;
pub mod seeded;
