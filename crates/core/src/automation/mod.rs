//! Automation (SPEC §5): journeys that fire on what members do or stop doing, the messages
//! they send in the member's language, the holdout that measures them, and the statistics
//! of the measurement. Pure functions; the app stores and sends.

pub mod experiment;
pub mod journey;
pub mod message;
