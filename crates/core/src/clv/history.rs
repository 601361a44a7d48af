//! From transactions to what the models see of each customer: frequency, recency, age and
//! mean repeat spend in one calibration period, and the set of all customers arranged for
//! fast likelihood evaluation.

use crate::csv;
use chrono::NaiveDate;
use std::ops::Range;

/// One purchase: who, on which day, for how much (in currency units, e.g. euros).
#[derive(Clone, Debug, PartialEq)]
pub struct Transaction<K> {
    pub customer: K,
    pub date: NaiveDate,
    pub amount: f64,
}

/// One customer's history at the end of the calibration period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CustomerHistory {
    /// Purchase days after the first one.
    pub frequency: u32,
    /// Weeks from the first purchase day to the last.
    pub recency_weeks: f64,
    /// Weeks from the first purchase day to the end of the calibration period (T).
    pub age_weeks: f64,
    /// The mean amount of the repeat purchase days; 0 without repeat purchases.
    pub monetary_value: f64,
}

/// Why a transactions file cannot be read: its line (1 is the header) and what to fix.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct TransactionsError {
    pub line: usize,
    pub reason: String,
}

const COLUMNS: [&str; 3] = ["customer_id", "date", "amount"];

/// Reads a CSV file with the columns `customer_id`, `date` (ISO, `1997-01-31`) and
/// `amount` (a decimal number with a point), in any order, comma- or semicolon-separated.
pub fn read_transactions_csv(text: &str) -> Result<Vec<Transaction<String>>, TransactionsError> {
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    let problem = |line: usize, reason: String| TransactionsError { line, reason };
    let (_, header) = lines
        .next()
        .ok_or_else(|| problem(1, "the file is empty".into()))?;
    let separator = csv::separator_of(header);
    let names: Vec<String> = csv::fields(header, separator)
        .iter()
        .map(|name| name.to_lowercase())
        .collect();
    let mut positions = [0; 3];
    for (position, column) in positions.iter_mut().zip(COLUMNS) {
        *position = names
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| {
                problem(
                    1,
                    format!(
                        "the header has no column \"{column}\" (it needs {})",
                        COLUMNS.join(", ")
                    ),
                )
            })?;
    }
    lines
        .map(|(index, line)| {
            // Most exports quote nothing; those lines are split without copying.
            let quoted;
            let values: Vec<&str> = if line.contains('"') {
                quoted = csv::fields(line, separator);
                quoted.iter().map(String::as_str).collect()
            } else {
                line.split(separator).map(str::trim).collect()
            };
            let value = |column: usize| values.get(positions[column]).copied().unwrap_or("");
            transaction(value(0), value(1), value(2)).map_err(|reason| problem(index + 1, reason))
        })
        .collect()
}

/// An ISO date (`1997-01-31`), read directly: a file has one per line.
fn iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    NaiveDate::from_ymd_opt(
        i32::try_from(number(0..4)?).ok()?,
        number(5..7)?,
        number(8..10)?,
    )
}

fn transaction(customer: &str, date: &str, amount: &str) -> Result<Transaction<String>, String> {
    if customer.is_empty() {
        return Err("the customer_id is empty".into());
    }
    let date = iso_date(date).ok_or_else(|| format!("\"{date}\" is not a date like 1997-01-31"))?;
    let amount = amount
        .parse::<f64>()
        .ok()
        .filter(|amount| amount.is_finite() && *amount >= 0.0)
        .ok_or_else(|| format!("\"{amount}\" is not an amount like 12.40"))?;
    Ok(Transaction {
        customer: customer.to_owned(),
        date,
        amount,
    })
}

/// Each customer's history at `calibration_end` (purchases on that day included; later
/// ones and customers who first bought later are left out), in customer order.
pub fn summarise<K: Ord + Clone>(
    transactions: &[Transaction<K>],
    calibration_end: NaiveDate,
) -> Vec<(K, CustomerHistory)> {
    let mut purchases: Vec<&Transaction<K>> = transactions
        .iter()
        .filter(|t| t.date <= calibration_end)
        .collect();
    purchases.sort_by(|a, b| (&a.customer, a.date).cmp(&(&b.customer, b.date)));
    let mut summaries = Vec::new();
    for customer in purchases.chunk_by(|a, b| a.customer == b.customer) {
        let days: Vec<(NaiveDate, f64)> = customer
            .chunk_by(|a, b| a.date == b.date)
            .map(|day| (day[0].date, day.iter().map(|t| t.amount).sum()))
            .collect();
        summaries.push((
            customer[0].customer.clone(),
            history(&days, calibration_end),
        ));
    }
    summaries
}

/// One customer's history from their purchase days (in order, each with its total).
fn history(days: &[(NaiveDate, f64)], calibration_end: NaiveDate) -> CustomerHistory {
    let weeks = |from: NaiveDate, to: NaiveDate| (to - from).num_days() as f64 / 7.0;
    let first = days[0].0;
    let last = days[days.len() - 1].0;
    let repeats = &days[1..];
    let monetary_value = if repeats.is_empty() {
        0.0
    } else {
        repeats.iter().map(|(_, amount)| amount).sum::<f64>() / repeats.len() as f64
    };
    CustomerHistory {
        frequency: u32::try_from(repeats.len()).unwrap_or(u32::MAX),
        recency_weeks: weeks(first, last),
        age_weeks: weeks(first, calibration_end),
        monetary_value,
    }
}

/// A member's history as the models see it from their aggregates at `at`: joining is the
/// first purchase, every visit after it a repeat, each worth the mean spend per visit.
/// The product fits on these (the aggregates are kept for every member, so a million
/// members need no scan of their history); `clv fit` reads purchase days instead, as the
/// literature and the `lifetimes` package do.
pub fn member_history(
    joined_at: chrono::DateTime<chrono::Utc>,
    last_visit_at: Option<chrono::DateTime<chrono::Utc>>,
    visits: u64,
    spend_cents: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> CustomerHistory {
    let weeks = |to: chrono::DateTime<chrono::Utc>| {
        ((to - joined_at).num_seconds().max(0)) as f64 / (7.0 * 86_400.0)
    };
    CustomerHistory {
        frequency: u32::try_from(visits).unwrap_or(u32::MAX),
        recency_weeks: last_visit_at.map_or(0.0, weeks),
        age_weeks: weeks(at),
        monetary_value: if visits > 0 {
            spend_cents as f64 / visits as f64
        } else {
            0.0
        },
    }
}

/// Every customer's history, ordered by frequency so that a likelihood evaluates the terms
/// that depend only on the frequency once per distinct frequency, not once per customer;
/// customers with the same history are one entry with their number as its weight (the many
/// one-time buyers who first came on the same day, say).
#[derive(Clone, Debug)]
pub struct Histories {
    entries: Vec<(CustomerHistory, f64)>,
    groups: Vec<Range<usize>>,
    customers: usize,
}

impl Histories {
    pub fn new(histories: impl IntoIterator<Item = CustomerHistory>) -> Self {
        let mut histories: Vec<CustomerHistory> = histories.into_iter().collect();
        let customers = histories.len();
        let key = |h: &CustomerHistory| {
            (
                h.frequency,
                h.recency_weeks.to_bits(),
                h.age_weeks.to_bits(),
                h.monetary_value.to_bits(),
            )
        };
        histories.sort_unstable_by_key(key);
        let entries: Vec<(CustomerHistory, f64)> = histories
            .chunk_by(|a, b| key(a) == key(b))
            .map(|same| (same[0], same.len() as f64))
            .collect();
        let mut groups = Vec::new();
        let mut start = 0;
        for group in entries.chunk_by(|a, b| a.0.frequency == b.0.frequency) {
            groups.push(start..start + group.len());
            start += group.len();
        }
        Self {
            entries,
            groups,
            customers,
        }
    }

    /// The number of customers.
    pub fn len(&self) -> usize {
        self.customers
    }

    pub fn is_empty(&self) -> bool {
        self.customers == 0
    }

    /// The customers of one frequency at a time: the frequency, and each distinct history
    /// with how many customers have it.
    pub fn by_frequency(&self) -> impl Iterator<Item = (f64, Group<'_>)> {
        self.groups.iter().map(|range| {
            let group = &self.entries[range.clone()];
            (f64::from(group[0].0.frequency), Group(group))
        })
    }

    /// The largest age (T) of any customer, in weeks.
    pub fn age_weeks_max(&self) -> f64 {
        self.entries
            .iter()
            .map(|(h, _)| h.age_weeks)
            .fold(0.0, f64::max)
    }
}

/// The distinct histories of one frequency with their weights.
#[derive(Clone, Copy, Debug)]
pub struct Group<'a>(&'a [(CustomerHistory, f64)]);

impl<'a> Group<'a> {
    /// How many customers the group has.
    pub fn count(self) -> usize {
        self.0.iter().map(|(_, weight)| *weight as usize).sum()
    }
}

impl<'a> IntoIterator for Group<'a> {
    type Item = (&'a CustomerHistory, f64);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (CustomerHistory, f64)>,
        fn(&'a (CustomerHistory, f64)) -> (&'a CustomerHistory, f64),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(history, weight)| (history, *weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn purchases_on_one_day_count_once_and_the_first_day_is_not_a_repeat() {
        let transactions = read_transactions_csv(
            "customer_id,date,amount\n\
             a,1997-01-01,10\na,1997-01-01,5\na,1997-01-15,20\na,1997-01-29,30\n\
             b,1997-01-08,7\nc,1997-02-01,9\n",
        )
        .unwrap();
        let summaries = summarise(&transactions, day("1997-01-29"));
        assert_eq!(
            summaries.len(),
            2,
            "c bought only after the calibration end"
        );
        let (customer, a) = &summaries[0];
        assert_eq!(customer, "a");
        assert_eq!(a.frequency, 2);
        assert_eq!(a.recency_weeks, 4.0);
        assert_eq!(a.age_weeks, 4.0);
        assert_eq!(a.monetary_value, 25.0);
        let b = summaries[1].1;
        assert_eq!(
            (b.frequency, b.recency_weeks, b.age_weeks, b.monetary_value),
            (0, 0.0, 3.0, 0.0)
        );
    }

    #[test]
    fn a_file_with_a_bad_line_says_which_and_why() {
        let text = "date;amount;customer_id\n1997-01-01;12.40;x\n01.02.1997;3;y\n";
        let error = read_transactions_csv(text).unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.reason.contains("01.02.1997"), "{error}");
        let error = read_transactions_csv("customer,date,amount\n").unwrap_err();
        assert!(error.reason.contains("customer_id"), "{error}");
        let error =
            read_transactions_csv("customer_id,date,amount\nx,1997-01-01,-3\n").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn histories_are_grouped_by_frequency() {
        let history = |frequency| CustomerHistory {
            frequency,
            recency_weeks: 1.0,
            age_weeks: 2.0,
            monetary_value: 1.0,
        };
        let histories = Histories::new([3, 0, 3, 1, 0].map(history));
        let groups: Vec<(f64, usize)> = histories
            .by_frequency()
            .map(|(x, g)| (x, g.count()))
            .collect();
        assert_eq!(groups, [(0.0, 2), (1.0, 1), (3.0, 2)]);
        let distinct: usize = histories
            .by_frequency()
            .map(|(_, g)| g.into_iter().count())
            .sum();
        assert_eq!(distinct, 3, "alike customers are one weighted entry");
        assert_eq!(histories.len(), 5);
    }
}
