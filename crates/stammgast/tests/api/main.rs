//! The one integration-test binary: the HTTP API end to end on real databases, the CLI,
//! and the crash test against the real binary.

mod helpers;
mod smtp;
mod visitor;
mod webhook;

mod analytics;
mod batch;
mod browser;
mod cli;
mod coupons;
mod crash;
mod isolation;
mod journey_actions;
mod journeys;
mod members;
mod office;
mod openapi;
mod outbox;
mod pages;
mod purchases;
mod segments;
