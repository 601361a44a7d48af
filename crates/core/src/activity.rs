//! Per-member activity aggregates (visits, spend, points earned) kept per month, from which
//! tier qualification over a window is derived without scanning history.

use serde::{Deserialize, Serialize};

/// Months are counted as `year * 12 + (month - 1)` so windows are plain subtraction.
pub type MonthIndex = i32;

pub fn month_index(date: chrono::NaiveDate) -> MonthIndex {
    use chrono::Datelike;
    date.year() * 12 + date.month0() as i32
}

/// How many months of buckets a member keeps: enough for a rolling year plus the previous
/// calendar year, so every window can be evaluated.
pub const MONTHS_KEPT: MonthIndex = 24;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub visits: i64,
    pub spend_cents: i64,
    pub points_earned: i64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.visits += other.visits;
        self.spend_cents += other.spend_cents;
        self.points_earned += other.points_earned;
    }

    fn subtract(&mut self, other: Tally) {
        self.visits -= other.visits;
        self.spend_cents -= other.spend_cents;
        self.points_earned -= other.points_earned;
    }
}

/// One month's tally. Stored as `[month, visits, spend_cents, points_earned]`: a member's
/// state is rewritten by every transaction, so its size is write volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    from = "(MonthIndex, i64, i64, i64)",
    into = "(MonthIndex, i64, i64, i64)"
)]
pub struct MonthTally {
    pub month: MonthIndex,
    pub tally: Tally,
}

impl From<(MonthIndex, i64, i64, i64)> for MonthTally {
    fn from((month, visits, spend_cents, points_earned): (MonthIndex, i64, i64, i64)) -> Self {
        Self {
            month,
            tally: Tally {
                visits,
                spend_cents,
                points_earned,
            },
        }
    }
}

impl From<MonthTally> for (MonthIndex, i64, i64, i64) {
    fn from(m: MonthTally) -> Self {
        (
            m.month,
            m.tally.visits,
            m.tally.spend_cents,
            m.tally.points_earned,
        )
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub lifetime: Tally,
    /// Ascending by month, at most `MONTHS_KEPT` entries.
    pub months: Vec<MonthTally>,
}

impl Activity {
    pub fn add(&mut self, month: MonthIndex, tally: Tally) {
        self.lifetime.add(tally);
        match self.months.iter_mut().find(|m| m.month == month) {
            Some(bucket) => bucket.tally.add(tally),
            None => {
                self.months.push(MonthTally { month, tally });
                self.months.sort_by_key(|m| m.month);
            }
        }
        let newest = self.months.last().map_or(month, |m| m.month);
        self.months.retain(|m| m.month > newest - MONTHS_KEPT);
    }

    /// Takes back what a voided or refunded event added (its bucket may have aged out).
    pub fn subtract(&mut self, month: MonthIndex, tally: Tally) {
        self.lifetime.subtract(tally);
        if let Some(bucket) = self.months.iter_mut().find(|m| m.month == month) {
            bucket.tally.subtract(tally);
        }
    }

    /// The sum over months `from..=to`.
    pub fn between(&self, from: MonthIndex, to: MonthIndex) -> Tally {
        let mut total = Tally::default();
        for bucket in self
            .months
            .iter()
            .filter(|m| (from..=to).contains(&m.month))
        {
            total.add(bucket.tally);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_months_age_out_but_lifetime_keeps_counting() {
        let mut activity = Activity::default();
        for month in 0..30 {
            activity.add(
                month,
                Tally {
                    visits: 1,
                    spend_cents: 100,
                    points_earned: 1,
                },
            );
        }
        assert_eq!(activity.months.len(), MONTHS_KEPT as usize);
        assert_eq!(activity.lifetime.visits, 30);
        assert_eq!(activity.between(18, 29).visits, 12);
    }

    #[test]
    fn months_are_stored_as_compact_rows_and_read_back() {
        let mut activity = Activity::default();
        activity.add(
            24_305,
            Tally {
                visits: 2,
                spend_cents: 740,
                points_earned: 7,
            },
        );
        let json = serde_json::to_string(&activity).unwrap();
        assert!(json.contains("\"months\":[[24305,2,740,7]]"), "{json}");
        assert_eq!(serde_json::from_str::<Activity>(&json).unwrap(), activity);
    }
}
