//! Analytics (SPEC §3, §4): the counted facts of a period and the KPIs computed from them,
//! the cohort retention matrix, and the lifecycle and RFM segments. Pure functions over
//! values the storage layer counts.

pub mod cohort;
pub mod facts;
pub mod filter;
pub mod history;
pub mod kpi;
pub mod membership;
pub mod rollup;
pub mod segments;
pub mod snapshot;
