//! Predictive customer lifetime value: the BG/NBD model of how often a customer comes back
//! and whether they are still a customer at all (Fader, Hardie & Lee 2005), and the
//! Gamma-Gamma model of how much they spend per visit (Fader & Hardie 2013), each fitted by
//! maximum likelihood on a business's own history.
//!
//! Time is measured in weeks, as in the literature: a customer's history is their number of
//! repeat purchase days (`frequency`), the weeks from their first to their last purchase
//! (`recency_weeks`) and from their first purchase to the end of the calibration period
//! (`age_weeks`, the models' T), and the mean amount of their repeat purchase days.
//! Purchases on one day count as one, as in the `lifetimes` package with daily periods.

pub mod bgnbd;
pub mod gamma_gamma;
mod history;
mod optimize;
pub mod simulate;
pub mod special;

pub use history::{
    CustomerHistory, Histories, Transaction, TransactionsError, member_history,
    read_transactions_csv, summarise,
};

use serde::{Deserialize, Serialize};

/// Why a model could not be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error(
        "the {model} model needs at least {needed} customers with a repeat purchase, and the history has {found}"
    )]
    TooFewRepeatCustomers {
        model: &'static str,
        needed: usize,
        found: usize,
    },
    #[error("the {model} model's likelihood did not converge (the history may be degenerate)")]
    NotConverged { model: &'static str },
}

/// The result of fitting both models on one calibration period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub bgnbd: bgnbd::Parameters,
    pub gamma_gamma: gamma_gamma::Parameters,
    /// Customers with a purchase in the calibration period.
    pub customers: usize,
}

/// Fits BG/NBD on every customer and Gamma-Gamma on those with repeat purchases.
pub fn fit(histories: &Histories) -> Result<Fit, FitError> {
    Ok(Fit {
        bgnbd: bgnbd::fit(histories)?,
        gamma_gamma: gamma_gamma::fit(histories)?,
        customers: histories.len(),
    })
}

/// What the models expect of one customer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// The probability that the customer still buys (has not silently left).
    pub probability_alive: f64,
    pub expected_visits_90_days: f64,
    pub expected_visits_365_days: f64,
    /// The expected spend per visit, in the history's currency units.
    pub expected_spend_per_visit: f64,
    pub expected_value_90_days: f64,
    pub expected_value_365_days: f64,
}

impl Fit {
    /// The prediction for one customer; `None` only where the hypergeometric series of the
    /// expected visits does not settle (a horizon thousands of times the history).
    pub fn predict(&self, history: &CustomerHistory) -> Option<Prediction> {
        let visits = |days: f64| bgnbd::expected_purchases(&self.bgnbd, history, days / 7.0);
        let expected_visits_90_days = visits(90.0)?;
        let expected_visits_365_days = visits(365.0)?;
        let expected_spend_per_visit = gamma_gamma::expected_spend_per_visit(
            &self.gamma_gamma,
            history.frequency,
            history.monetary_value,
        );
        Some(Prediction {
            probability_alive: bgnbd::probability_alive(&self.bgnbd, history),
            expected_visits_90_days,
            expected_visits_365_days,
            expected_spend_per_visit,
            expected_value_90_days: expected_visits_90_days * expected_spend_per_visit,
            expected_value_365_days: expected_visits_365_days * expected_spend_per_visit,
        })
    }
}
