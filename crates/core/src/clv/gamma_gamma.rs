//! The Gamma-Gamma model of spend per visit (Fader & Hardie 2013): a customer's amounts are
//! Gamma(p, ν) around their own mean, and ν is Gamma(q, γ)-distributed across customers
//! (`v` here is the paper's γ, as in the `lifetimes` package). Fitted on the customers with
//! repeat purchases, whose mean repeat amount is positive.

use super::FitError;
use super::history::Histories;
use super::optimize::maximize_likelihood;
use super::special::{digamma, ln_gamma};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parameters {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

/// The fewest repeat customers a fit is attempted with: three parameters need more data
/// than a handful of people can give.
const REPEAT_CUSTOMERS_MIN: usize = 10;

/// Maximum-likelihood estimates on the repeat customers of `histories`.
pub fn fit(histories: &Histories) -> Result<Parameters, FitError> {
    let (count, spend_sum) = histories
        .by_frequency()
        .filter(|(x, _)| *x > 0.0)
        .flat_map(|(_, group)| group)
        .filter(|(h, _)| h.monetary_value > 0.0)
        .fold((0.0, 0.0), |(n, sum), (h, weight)| {
            (n + weight, sum + weight * h.monetary_value)
        });
    let count = count as usize;
    if count < REPEAT_CUSTOMERS_MIN {
        return Err(FitError::TooFewRepeatCustomers {
            model: "Gamma-Gamma",
            needed: REPEAT_CUSTOMERS_MIN,
            found: count,
        });
    }
    let customers = count as f64;
    // p = q = 1 and v at the mean spend put the start's mean spend near the data's.
    let start = [1.0, 1.0, (spend_sum / customers).max(1e-9)];
    let ([p, q, v], _) = maximize_likelihood(
        |parameters| log_likelihood_and_gradient(histories, parameters),
        customers,
        start,
    )
    .ok_or(FitError::NotConverged {
        model: "Gamma-Gamma",
    })?;
    Ok(Parameters { p, q, v })
}

/// The total log-likelihood of the repeat customers' mean spends at `[p, q, v]` and its
/// gradient.
pub fn log_likelihood_and_gradient(histories: &Histories, [p, q, v]: [f64; 3]) -> (f64, [f64; 3]) {
    let mut total = 0.0;
    let mut gradient = [0.0; 3];
    let (ln_v, digamma_q, ln_gamma_q) = (v.ln(), digamma(q), ln_gamma(q));
    for (x, group) in histories.by_frequency().filter(|(x, _)| *x > 0.0) {
        let px = p * x;
        let constant = ln_gamma(px + q) - ln_gamma(px) - ln_gamma_q + q * ln_v + px * x.ln();
        let digamma_pxq = digamma(px + q);
        let digamma_px = digamma(px);
        for (history, weight) in group.into_iter().filter(|(h, _)| h.monetary_value > 0.0) {
            let m = history.monetary_value;
            let (ln_m, ln_total) = (m.ln(), (x * m + v).ln());
            total += weight * (constant + (px - 1.0) * ln_m - (px + q) * ln_total);
            gradient[0] += weight * x * (digamma_pxq - digamma_px + ln_m + x.ln() - ln_total);
            gradient[1] += weight * (digamma_pxq - digamma_q + ln_v - ln_total);
            gradient[2] += weight * (q / v - (px + q) / (x * m + v));
        }
    }
    (total, gradient)
}

/// The expected spend per visit of a customer with `frequency` repeat visits and the mean
/// `monetary_value` over them: their own mean weighted against the population's, more
/// towards their own the more often they came. Without repeat visits, or where the
/// population mean is undefined (q ≤ 1), their own mean is all there is.
pub fn expected_spend_per_visit(
    parameters: &Parameters,
    frequency: u32,
    monetary_value: f64,
) -> f64 {
    let Parameters { p, q, v } = *parameters;
    if q <= 1.0 {
        return monetary_value;
    }
    let population_mean = p * v / (q - 1.0);
    let px = p * f64::from(frequency);
    let own_weight = px / (px + q - 1.0);
    (1.0 - own_weight) * population_mean + own_weight * monetary_value
}

#[cfg(test)]
mod tests {
    use super::super::history::CustomerHistory;
    use super::super::optimize::assert_gradient_matches_finite_differences;
    use super::*;

    fn histories() -> Histories {
        let history = |frequency, monetary_value| CustomerHistory {
            frequency,
            recency_weeks: 1.0,
            age_weeks: 2.0,
            monetary_value,
        };
        Histories::new([
            history(1, 12.0),
            history(3, 30.5),
            history(3, 8.0),
            history(0, 0.0),
            history(7, 19.0),
        ])
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let histories = histories();
        assert_gradient_matches_finite_differences(
            |parameters| log_likelihood_and_gradient(&histories, parameters),
            [6.0, 3.7, 15.0],
        );
    }

    #[test]
    fn the_expected_spend_lies_between_the_customers_mean_and_the_populations() {
        let parameters = Parameters {
            p: 6.25,
            q: 3.74,
            v: 15.44,
        };
        let population = 6.25 * 15.44 / 2.74;
        let once = expected_spend_per_visit(&parameters, 1, 100.0);
        let often = expected_spend_per_visit(&parameters, 20, 100.0);
        assert!(
            population < once && once < often && often < 100.0,
            "{once} {often}"
        );
        assert_eq!(expected_spend_per_visit(&parameters, 0, 0.0), population);
    }

    #[test]
    fn a_handful_of_repeat_customers_is_too_few() {
        assert!(matches!(
            fit(&histories()),
            Err(FitError::TooFewRepeatCustomers { found: 4, .. })
        ));
    }
}
