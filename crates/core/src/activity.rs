//! Per-member activity aggregates (visits, purchases, spend, points earned, coupons used and
//! the kinds of product bought) kept per month, from which tier qualification over a window
//! and the analytics' counts of distinct members are derived without scanning history.

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
    /// Purchases and visits.
    pub visits: i64,
    pub spend_cents: i64,
    pub points_earned: i64,
    #[serde(default)]
    pub purchases: i64,
    #[serde(default)]
    pub coupons_used: i64,
    #[serde(default)]
    pub kinds: Kinds,
}

impl Tally {
    /// Adds `other`; the kinds are a union.
    pub fn add(&mut self, other: Tally) {
        self.visits += other.visits;
        self.spend_cents += other.spend_cents;
        self.points_earned += other.points_earned;
        self.purchases += other.purchases;
        self.coupons_used += other.coupons_used;
        self.kinds = self.kinds.union(other.kinds);
    }

    /// Takes back what `other` added (a voided purchase's kinds included).
    fn subtract(&mut self, other: Tally) {
        self.visits -= other.visits;
        self.spend_cents -= other.spend_cents;
        self.points_earned -= other.points_earned;
        self.purchases -= other.purchases;
        self.coupons_used -= other.coupons_used;
        self.kinds = self.kinds.without(other.kinds);
    }
}

/// Up to two kinds of product (item categories) bought, each a 64-bit hash of its name
/// with the number of purchases that had it (a hash of 0 is an empty slot): enough to tell
/// one kind from several, which is all the upsell figures ask, and a voided purchase takes
/// its kinds back. Only a month with three kinds or more, whose tracked ones are then
/// voided, forgets the third.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kinds([(u64, i64); 2]);

impl Kinds {
    pub fn of<'a>(categories: impl IntoIterator<Item = &'a str>) -> Self {
        let mut hashes: Vec<u64> = categories.into_iter().map(kind_hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        hashes
            .into_iter()
            .fold(Self::default(), |kinds, hash| kinds.with(hash, 1))
    }

    fn with(mut self, hash: u64, count: i64) -> Self {
        if hash == 0 || count == 0 {
            return self;
        }
        if let Some(slot) = self.0.iter_mut().find(|(h, _)| *h == hash) {
            slot.1 += count;
        } else if let Some(slot) = self.0.iter_mut().find(|(h, _)| *h == 0) {
            *slot = (hash, count);
        }
        self
    }

    pub fn union(self, other: Kinds) -> Self {
        other
            .0
            .iter()
            .fold(self, |kinds, (hash, count)| kinds.with(*hash, *count))
    }

    fn without(mut self, other: Kinds) -> Self {
        for (hash, count) in other.0.iter().filter(|(hash, _)| *hash != 0) {
            if let Some(slot) = self.0.iter_mut().find(|(h, _)| h == hash) {
                slot.1 -= count;
                if slot.1 <= 0 {
                    *slot = (0, 0);
                }
            }
        }
        self
    }

    /// 0, 1, or 2 for "two or more".
    pub fn count(self) -> u32 {
        self.0.iter().filter(|(hash, _)| *hash != 0).count() as u32
    }
}

/// A category as people mean it: case and surrounding spaces ignored.
pub fn category_key(category: &str) -> String {
    category.trim().to_lowercase()
}

/// FNV-1a of the category's key; never 0.
fn kind_hash(category: &str) -> u64 {
    let hash = category_key(category)
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    hash.max(1)
}

/// One month's tally. Stored as `[month, visits, spend_cents, points_earned, purchases,
/// coupons_used, kind, purchases of it, kind, purchases of it]`: a member's state is rewritten by every transaction, so its
/// size is write volume. States written before purchases and kinds were counted have the
/// first four only, and read back with the others at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<i64>", into = "Vec<i64>")]
pub struct MonthTally {
    pub month: MonthIndex,
    pub tally: Tally,
}

impl TryFrom<Vec<i64>> for MonthTally {
    type Error = String;
    fn try_from(row: Vec<i64>) -> Result<Self, String> {
        let field = |index: usize| row.get(index).copied().unwrap_or(0);
        if row.len() != 4 && row.len() != 10 {
            return Err(format!(
                "a month's tally has 4 or 10 numbers, not {}",
                row.len()
            ));
        }
        Ok(Self {
            month: MonthIndex::try_from(field(0)).map_err(|_| "a month out of range".to_owned())?,
            tally: Tally {
                visits: field(1),
                spend_cents: field(2),
                points_earned: field(3),
                purchases: field(4),
                coupons_used: field(5),
                kinds: Kinds([(field(6) as u64, field(7)), (field(8) as u64, field(9))]),
            },
        })
    }
}

impl From<MonthTally> for Vec<i64> {
    fn from(m: MonthTally) -> Self {
        let t = m.tally;
        let [(first, first_count), (second, second_count)] = t.kinds.0;
        vec![
            i64::from(m.month),
            t.visits,
            t.spend_cents,
            t.points_earned,
            t.purchases,
            t.coupons_used,
            first as i64,
            first_count,
            second as i64,
            second_count,
        ]
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
                    ..Tally::default()
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
                ..Tally::default()
            },
        );
        let json = serde_json::to_string(&activity).unwrap();
        assert!(
            json.contains("\"months\":[[24305,2,740,7,0,0,0,0,0,0]]"),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Activity>(&json).unwrap(), activity);
        let before_purchases_were_counted: Activity =
            serde_json::from_str(r#"{"lifetime": {"visits": 2, "spend_cents": 740, "points_earned": 7}, "months": [[24305, 2, 740, 7]]}"#).unwrap();
        assert_eq!(before_purchases_were_counted.months[0].tally.visits, 2);
        assert_eq!(before_purchases_were_counted.months[0].tally.purchases, 0);
    }

    #[test]
    fn kinds_tell_one_kind_from_several_across_unions() {
        let coffee = Kinds::of(["Coffee", " coffee "]);
        assert_eq!(
            coffee.count(),
            1,
            "case and spaces do not make another kind"
        );
        let cake = Kinds::of(["cake"]);
        assert_eq!(coffee.union(cake).count(), 2);
        assert_eq!(coffee.union(coffee).count(), 1);
        assert_eq!(
            Kinds::of(["a", "b", "c"]).union(coffee).count(),
            2,
            "two or more"
        );
        assert_eq!(Kinds::of([]).count(), 0);
        let twice_coffee_once_cake = coffee.union(coffee).union(cake);
        assert_eq!(
            twice_coffee_once_cake.without(cake).count(),
            1,
            "the cake purchase was voided"
        );
        assert_eq!(
            twice_coffee_once_cake.without(coffee).count(),
            2,
            "coffee was bought twice"
        );
    }
}
