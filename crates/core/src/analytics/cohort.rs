//! The cohort retention matrix: members grouped by the month they joined, and for each
//! month after, the share of the cohort that came (a purchase or a visit) in that month.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A calendar month, ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    pub fn of(date: NaiveDate) -> Self {
        Self(date.year() * 12 + date.month0() as i32)
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1 to 12.
    pub fn number(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year(), self.number(), 1)
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    pub fn previous(self) -> Self {
        Self(self.0 - 1)
    }

    /// Whole months from `earlier` to `self`.
    pub fn months_since(self, earlier: Month) -> i32 {
        self.0 - earlier.0
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.number())
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One cohort: its join month, its size, and how many of it came back in each month since
/// (index 0 is the join month itself).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cohort {
    pub month: Month,
    pub members: u64,
    pub active: Vec<u64>,
    /// `active` as percentages of `members`.
    pub retention_percent: Vec<f64>,
}

/// The matrix up to and including `last`, from the cohorts' sizes and the counts of
/// distinct members of each cohort active in each month.
pub fn matrix(
    sizes: &BTreeMap<Month, u64>,
    active: &BTreeMap<(Month, Month), u64>,
    last: Month,
) -> Vec<Cohort> {
    sizes
        .iter()
        .filter(|(month, _)| **month <= last)
        .map(|(&month, &members)| {
            let offsets = usize::try_from(last.months_since(month)).unwrap_or(0) + 1;
            let mut counts = vec![0; offsets];
            for ((_, active_month), count) in active.range((month, month)..=(month, last)) {
                if let Ok(offset) = usize::try_from(active_month.months_since(month)) {
                    counts[offset] = *count;
                }
            }
            let retention_percent = counts
                .iter()
                .map(|&count| {
                    if members == 0 {
                        0.0
                    } else {
                        100.0 * count as f64 / members as f64
                    }
                })
                .collect();
            Cohort {
                month,
                members,
                active: counts,
                retention_percent,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(text: &str) -> Month {
        Month::of(NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").unwrap())
    }

    #[test]
    fn months_print_and_count_across_years() {
        assert_eq!(month("2025-12").next().to_string(), "2026-01");
        assert_eq!(month("2026-01").previous().to_string(), "2025-12");
        assert_eq!(month("2026-02").months_since(month("2025-11")), 3);
    }

    #[test]
    fn each_cohort_row_has_one_cell_per_month_since_it_joined() {
        let sizes = BTreeMap::from([(month("2026-01"), 10), (month("2026-02"), 4)]);
        let active = BTreeMap::from([
            ((month("2026-01"), month("2026-01")), 10),
            ((month("2026-01"), month("2026-03")), 5),
            ((month("2026-02"), month("2026-02")), 3),
            ((month("2026-02"), month("2026-03")), 1),
        ]);
        let rows = matrix(&sizes, &active, month("2026-03"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].active, [10, 0, 5]);
        assert_eq!(rows[0].retention_percent, [100.0, 0.0, 50.0]);
        assert_eq!(rows[1].active, [3, 1]);
        assert_eq!(rows[1].retention_percent, [75.0, 25.0]);
    }
}
