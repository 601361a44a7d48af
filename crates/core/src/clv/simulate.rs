//! Customers drawn from the models themselves, for checking that a fit recovers the
//! parameters it was simulated with, and for measuring fits on a million customers.
//! Deterministic for a given seed.

use super::history::CustomerHistory;
use super::{bgnbd, gamma_gamma};
use crate::seeded::Rng;

/// The population to draw from: both models' parameters, and the range of ages (weeks
/// since the first purchase, the customers' T) over which customers joined.
#[derive(Clone, Copy, Debug)]
pub struct Population {
    pub bgnbd: bgnbd::Parameters,
    pub gamma_gamma: gamma_gamma::Parameters,
    pub age_weeks_min: f64,
    pub age_weeks_max: f64,
}

/// `customers` histories drawn from `population`.
pub fn histories(population: &Population, customers: usize, seed: u64) -> Vec<CustomerHistory> {
    let mut rng = Rng::new(seed);
    (0..customers)
        .map(|_| customer(population, &mut rng))
        .collect()
}

/// One customer: a purchase rate λ ~ Gamma(r, 1/α) and a drop-out probability
/// p ~ Beta(a, b); purchases as a Poisson process from the first one at age 0, with a
/// chance p of leaving after each repeat; amounts Gamma(p, 1/ν) with ν ~ Gamma(q, 1/v).
fn customer(population: &Population, rng: &mut Rng) -> CustomerHistory {
    let bgnbd::Parameters { r, alpha, a, b, .. } = population.bgnbd;
    let gamma_gamma::Parameters { p, q, v } = population.gamma_gamma;
    let age_weeks = population.age_weeks_min
        + rng.unit() * (population.age_weeks_max - population.age_weeks_min);
    let rate = rng.gamma(r, 1.0 / alpha);
    let drop_out = rng.beta(a, b);
    let spend_rate = rng.gamma(q, 1.0 / v);
    let (mut time, mut frequency, mut recency_weeks, mut spend) = (0.0, 0u32, 0.0, 0.0);
    loop {
        time += rng.exponential(1.0 / rate);
        if time > age_weeks {
            break;
        }
        frequency += 1;
        recency_weeks = time;
        spend += rng.gamma(p, 1.0 / spend_rate);
        if rng.unit() < drop_out {
            break;
        }
    }
    CustomerHistory {
        frequency,
        recency_weeks,
        age_weeks,
        monetary_value: if frequency > 0 {
            spend / f64::from(frequency)
        } else {
            0.0
        },
    }
}
