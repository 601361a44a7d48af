//! Simulated café customers for the demo and the benchmark: regulars who come several times
//! a week, occasional guests, and churners who stop coming after a few months; baskets of
//! coffee, pastries and cake. Deterministic for a given seed.

use chrono::{DateTime, Duration, Utc};
use stammgast_core::seeded::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Habit {
    Regular,
    Occasional,
    Churner,
}

pub struct Product {
    pub sku: &'static str,
    pub category: &'static str,
    pub price_cents: i64,
}

pub const MENU: [Product; 6] = [
    Product {
        sku: "espresso",
        category: "coffee",
        price_cents: 240,
    },
    Product {
        sku: "cappuccino",
        category: "coffee",
        price_cents: 380,
    },
    Product {
        sku: "latte",
        category: "coffee",
        price_cents: 420,
    },
    Product {
        sku: "croissant",
        category: "pastry",
        price_cents: 250,
    },
    Product {
        sku: "franzbroetchen",
        category: "pastry",
        price_cents: 290,
    },
    Product {
        sku: "kaesekuchen",
        category: "cake",
        price_cents: 420,
    },
];

const FIRST_NAMES: [&str; 16] = [
    "Anna", "Lukas", "Mia", "Jonas", "Emma", "Leon", "Hannah", "Felix", "Lea", "Paul", "Sophie",
    "Elias", "Marie", "Noah", "Lina", "Ben",
];

pub struct Customer {
    pub first_name: &'static str,
    pub email: String,
    pub habit: Habit,
    pub joined_at: DateTime<Utc>,
    pub visits: Vec<Visit>,
}

pub struct Visit {
    pub at: DateTime<Utc>,
    /// (index into MENU, quantity)
    pub basket: Vec<(usize, u32)>,
}

impl Visit {
    pub fn amount_cents(&self) -> i64 {
        self.basket
            .iter()
            .map(|(p, q)| MENU[*p].price_cents * i64::from(*q))
            .sum()
    }
}

/// `customers` customers joining over the first 80 % of `start..end`, visiting until `end`.
pub fn simulate(
    customers: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    seed: u64,
) -> Vec<Customer> {
    let mut rng = Rng::new(seed);
    let span_days = (end - start).num_days().max(1) as u64;
    (0..customers)
        .map(|index| {
            let habit = match rng.below(10) {
                0..=1 => Habit::Regular,
                2..=6 => Habit::Occasional,
                _ => Habit::Churner,
            };
            let join_day = start + Duration::days(rng.below(span_days * 4 / 5) as i64);
            let joined_at = at_opening_hours(&mut rng, join_day);
            let visits = visits(&mut rng, habit, joined_at, end);
            Customer {
                first_name: FIRST_NAMES[index % FIRST_NAMES.len()],
                email: format!("gast{index}@example.com"),
                habit,
                joined_at,
                visits,
            }
        })
        .collect()
}

fn visits(rng: &mut Rng, habit: Habit, joined_at: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Visit> {
    let (mean_gap_days, active_days) = match habit {
        Habit::Regular => (3.5, i64::MAX),
        Habit::Occasional => (24.0, i64::MAX),
        Habit::Churner => (9.0, 30 + rng.below(90) as i64),
    };
    let stop = if active_days == i64::MAX {
        end
    } else {
        (joined_at + Duration::days(active_days)).min(end)
    };
    let mut visits = Vec::new();
    let mut day = joined_at;
    loop {
        day += Duration::minutes((rng.exponential(mean_gap_days) * 24.0 * 60.0) as i64 + 60);
        let at = at_opening_hours(rng, day);
        if at >= stop {
            return visits;
        }
        visits.push(Visit {
            at,
            basket: basket(rng),
        });
    }
}

/// Moves a time to a moment between 7:00 and 18:00 UTC on its day.
fn at_opening_hours(rng: &mut Rng, day: DateTime<Utc>) -> DateTime<Utc> {
    let midnight = day - Duration::seconds(i64::from(day.timestamp().rem_euclid(86_400) as i32));
    midnight + Duration::minutes(7 * 60 + rng.below(11 * 60) as i64)
}

fn basket(rng: &mut Rng) -> Vec<(usize, u32)> {
    let coffee = rng.below(3) as usize;
    let mut basket = vec![(coffee, 1 + u32::from(rng.below(4) == 0))];
    if rng.below(2) == 0 {
        basket.push((3 + rng.below(3) as usize, 1));
    }
    basket
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn regulars_visit_far_more_often_than_occasional_guests_and_churners_stop() {
        let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let end = start + Duration::days(540);
        let customers = simulate(600, start, end, 7);
        let mean = |habit: Habit| {
            let group: Vec<_> = customers.iter().filter(|c| c.habit == habit).collect();
            group.iter().map(|c| c.visits.len()).sum::<usize>() as f64 / group.len() as f64
        };
        assert!(mean(Habit::Regular) > 4.0 * mean(Habit::Occasional));
        for churner in customers.iter().filter(|c| c.habit == Habit::Churner) {
            let last = churner.visits.last().map_or(churner.joined_at, |v| v.at);
            assert!(last <= churner.joined_at + Duration::days(121));
        }
        assert!(
            customers
                .iter()
                .flat_map(|c| &c.visits)
                .all(|v| v.at <= end && v.amount_cents() > 0)
        );
    }
}
