//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"):
//! while alive, a customer buys as a Poisson process whose rate is Gamma(r, α)-distributed
//! across customers; after each purchase they leave with a probability that is
//! Beta(a, b)-distributed across customers. Everything is computed in log space.

use super::FitError;
use super::history::{CustomerHistory, Histories};
use super::optimize::maximize_likelihood;
use super::special::hyp2f1;
#[cfg(test)]
use super::special::ln_gamma;
use serde::{Deserialize, Serialize};

/// The fitted parameters, with time in weeks, and the total log-likelihood of the history
/// at them (comparable between fits on the same history).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parameters {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub log_likelihood: f64,
}

/// Maximum-likelihood estimates on `histories` (at least one repeat customer).
pub fn fit(histories: &Histories) -> Result<Parameters, FitError> {
    let repeat_customers: usize = histories
        .by_frequency()
        .filter(|(x, _)| *x > 0.0)
        .map(|(_, group)| group.count())
        .sum();
    if repeat_customers == 0 {
        return Err(FitError::TooFewRepeatCustomers {
            model: "BG/NBD",
            needed: 1,
            found: 0,
        });
    }
    // Start at α of the order of the customers' ages, the others at 1: log space makes the
    // start's exact values matter little.
    let start = [1.0, histories.age_weeks_max().max(1.0), 1.0, 1.0];
    let ([r, alpha, a, b], log_likelihood) = maximize_likelihood(
        |parameters| log_likelihood_and_gradient(histories, parameters),
        histories.len() as f64,
        start,
    )
    .ok_or(FitError::NotConverged { model: "BG/NBD" })?;
    Ok(Parameters {
        r,
        alpha,
        a,
        b,
        log_likelihood,
    })
}

/// The total log-likelihood of `histories` at `[r, α, a, b]` and its gradient.
///
/// The frequency x is a whole number, so the gamma-function ratios of the paper are finite
/// products: Γ(r + x) / Γ(r) = ∏ₖ₌₀ˣ⁻¹ (r + k), and likewise for b and a + b. Summing their
/// logarithms, and writing r ln α − (r + x) ln(α + T) as −r ln(1 + T/α) − x ln(α + T),
/// keeps every term small where r and α grow large together (the Poisson limit of very
/// regular customers), where differences of ln Γ lose all precision.
pub fn log_likelihood_and_gradient(
    histories: &Histories,
    [r, alpha, a, b]: [f64; 4],
) -> (f64, [f64; 4]) {
    let mut total = 0.0;
    let mut gradient = [0.0; 4];
    // Running sums over k < x of ln(r + k), ln(b + k) − ln(a + b + k) and their derivatives.
    let mut products = Products::default();
    for (x, group) in histories.by_frequency() {
        products.extend_to(x, r, a, b);
        let ln_leave = a.ln() - (b + x - 1.0).ln();
        let mut sums = [0.0; 5];
        for (history, weight) in group {
            let (l3, d_alpha3, log1p_t) = exposure(r, alpha, x, history.age_weeks);
            let (ln_sum, weight4, d_alpha4, log1p_tx) = if x > 0.0 {
                let (l4, d_alpha4, log1p_tx) = exposure(r, alpha, x, history.recency_weeks);
                let l4 = ln_leave + l4;
                let ln_sum = log_add_exp(l3, l4);
                (ln_sum, (l4 - ln_sum).exp(), d_alpha4, log1p_tx)
            } else {
                (l3, 0.0, 0.0, 0.0)
            };
            let weight3 = 1.0 - weight4;
            sums[0] += weight * ln_sum;
            sums[1] += weight * (weight3 * log1p_t + weight4 * log1p_tx);
            sums[2] += weight * (weight3 * d_alpha3 + weight4 * d_alpha4);
            sums[3] += weight * weight4;
            sums[4] += weight;
        }
        let [ln_sums, log1p_times, d_alpha, leave_weights, count] = sums;
        total += count * (products.ln_r + products.ln_b_over_ab) + ln_sums;
        gradient[0] += count * products.d_r - log1p_times;
        gradient[1] += d_alpha;
        gradient[2] += -count * products.d_ab + leave_weights / a;
        gradient[3] += count * (products.d_b - products.d_ab);
        if x > 0.0 {
            gradient[3] -= leave_weights / (b + x - 1.0);
        }
    }
    (total, gradient)
}

/// −r ln(1 + t/α) − x ln(α + t), its derivative in α, and ln(1 + t/α) (its derivative in −r).
fn exposure(r: f64, alpha: f64, x: f64, t: f64) -> (f64, f64, f64) {
    let log1p = (t / alpha).ln_1p();
    let value = -r * log1p - x * (alpha + t).ln();
    let d_alpha = (r * t / alpha - x) / (alpha + t);
    (value, d_alpha, log1p)
}

/// Σₖ₌₀ˣ⁻¹ of ln(r + k) and ln(b + k) − ln(a + b + k), and of 1/(r + k), 1/(b + k) and
/// 1/(a + b + k), grown as the frequencies come in ascending order.
#[derive(Default)]
struct Products {
    upto: f64,
    ln_r: f64,
    ln_b_over_ab: f64,
    d_r: f64,
    d_b: f64,
    d_ab: f64,
}

impl Products {
    fn extend_to(&mut self, x: f64, r: f64, a: f64, b: f64) {
        while self.upto < x {
            let k = self.upto;
            self.ln_r += (r + k).ln();
            self.ln_b_over_ab += (b + k).ln() - (a + b + k).ln();
            self.d_r += 1.0 / (r + k);
            self.d_b += 1.0 / (b + k);
            self.d_ab += 1.0 / (a + b + k);
            self.upto += 1.0;
        }
    }
}

/// ln(eˣ + eʸ) without overflow.
fn log_add_exp(x: f64, y: f64) -> f64 {
    let max = x.max(y);
    max + ((x - max).exp() + (y - max).exp()).ln()
}

/// The probability that the customer is still alive at the end of their history.
pub fn probability_alive(parameters: &Parameters, history: &CustomerHistory) -> f64 {
    if history.frequency == 0 {
        return 1.0;
    }
    1.0 / (1.0 + odds_of_having_left(parameters, history))
}

/// a / (b + x − 1) · ((α + T) / (α + tₓ))^(r + x): the odds that the customer left after
/// their last purchase, against being alive and quiet since.
fn odds_of_having_left(parameters: &Parameters, history: &CustomerHistory) -> f64 {
    let Parameters { r, alpha, a, b, .. } = *parameters;
    let x = f64::from(history.frequency);
    ((a / (b + x - 1.0)).ln()
        + (r + x) * ((alpha + history.age_weeks).ln() - (alpha + history.recency_weeks).ln()))
    .exp()
}

/// The expected number of purchases in the next `horizon_weeks` after the customer's
/// history (the model's conditional expectation, equation 10 of the paper). `None` where
/// the hypergeometric series does not settle.
pub fn expected_purchases(
    parameters: &Parameters,
    history: &CustomerHistory,
    horizon_weeks: f64,
) -> Option<f64> {
    let Parameters { r, alpha, a, b, .. } = *parameters;
    let x = f64::from(history.frequency);
    let t = horizon_weeks;
    let age = history.age_weeks;
    let z = t / (alpha + age + t);
    let series = hyp2f1(r + x, b + x, a + b + x - 1.0, z)?;
    let discounted = ((r + x) * ((alpha + age) / (alpha + age + t)).ln()).exp() * series;
    let numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - discounted);
    let left = if history.frequency > 0 {
        odds_of_having_left(parameters, history)
    } else {
        0.0
    };
    let expected = numerator / (1.0 + left);
    expected.is_finite().then_some(expected.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::super::optimize::assert_gradient_matches_finite_differences;
    use super::*;

    fn histories() -> Histories {
        let history = |frequency, recency_weeks, age_weeks| CustomerHistory {
            frequency,
            recency_weeks,
            age_weeks,
            monetary_value: 10.0,
        };
        Histories::new([
            history(0, 0.0, 30.0),
            history(2, 20.0, 38.0),
            history(1, 5.0, 35.0),
            history(6, 37.0, 39.0),
            history(0, 0.0, 12.0),
        ])
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let histories = histories();
        assert_gradient_matches_finite_differences(
            |parameters| log_likelihood_and_gradient(&histories, parameters),
            [0.4, 3.0, 0.8, 2.5],
        );
    }

    #[test]
    fn the_likelihood_of_one_customer_is_the_papers_formula() {
        // Equation 6 of the paper, written out for x = 2, tₓ = 20, T = 38.
        let (r, alpha, a, b): (f64, f64, f64, f64) = (0.4, 3.0, 0.8, 2.5);
        let beta = |p: f64, q: f64| (ln_gamma(p) + ln_gamma(q) - ln_gamma(p + q)).exp();
        let gamma = |p: f64| ln_gamma(p).exp();
        let common = gamma(r + 2.0) * alpha.powf(r) / gamma(r);
        let expected = beta(a, b + 2.0) / beta(a, b) * common / (alpha + 38.0).powf(r + 2.0)
            + beta(a + 1.0, b + 1.0) / beta(a, b) * common / (alpha + 20.0).powf(r + 2.0);
        let one = Histories::new([CustomerHistory {
            frequency: 2,
            recency_weeks: 20.0,
            age_weeks: 38.0,
            monetary_value: 0.0,
        }]);
        let (ll, _) = log_likelihood_and_gradient(&one, [r, alpha, a, b]);
        assert!(
            (ll - expected.ln()).abs() < 1e-12,
            "{ll} vs {}",
            expected.ln()
        );
    }

    #[test]
    fn a_customer_quiet_for_long_after_frequent_visits_is_probably_gone() {
        let parameters = Parameters {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
            log_likelihood: 0.0,
        };
        let regular = |recency_weeks| CustomerHistory {
            frequency: 10,
            recency_weeks,
            age_weeks: 40.0,
            monetary_value: 0.0,
        };
        let recent = probability_alive(&parameters, &regular(39.0));
        let quiet = probability_alive(&parameters, &regular(10.0));
        assert!(recent > 0.9 && quiet < 0.01, "{recent} {quiet}");
        let visits_recent = expected_purchases(&parameters, &regular(39.0), 52.0).unwrap();
        let visits_quiet = expected_purchases(&parameters, &regular(10.0), 52.0).unwrap();
        assert!(
            visits_recent > 5.0 && visits_quiet < 0.1,
            "{visits_recent} {visits_quiet}"
        );
    }

    #[test]
    fn a_history_without_repeat_purchases_cannot_be_fitted() {
        let one = Histories::new([CustomerHistory {
            frequency: 0,
            recency_weeks: 0.0,
            age_weeks: 3.0,
            monetary_value: 0.0,
        }]);
        assert!(matches!(
            fit(&one),
            Err(FitError::TooFewRepeatCustomers { .. })
        ));
    }
}
