//! When a lot of points expires, computed in the shop's local calendar.

use crate::program::{Expiry, RoundTo};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant the points earned at `earned_at` expire: the first moment after the last day
/// they are valid on (local midnight), or `None` if they never expire.
pub fn expires_at(policy: &Expiry, earned_at: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
    let earned_on = earned_at.with_timezone(&zone).date_naive();
    let last_valid_day = match policy {
        Expiry::Never => return None,
        Expiry::AfterDays { days, round_to } => round_up(
            earned_on.checked_add_days(Days::new(u64::from(*days)))?,
            *round_to,
        ),
        Expiry::AfterMonths { months, round_to } => round_up(
            earned_on.checked_add_months(Months::new(*months))?,
            *round_to,
        ),
        Expiry::EndOfFollowingYear => NaiveDate::from_ymd_opt(earned_on.year() + 1, 12, 31)?,
        Expiry::FixedDate { date } => *date,
    };
    let first_expired_day = last_valid_day.succ_opt()?;
    let midnight = first_expired_day.and_hms_opt(0, 0, 0)?;
    let local = zone.from_local_datetime(&midnight).earliest()?;
    Some(local.with_timezone(&Utc))
}

fn round_up(day: NaiveDate, round_to: RoundTo) -> NaiveDate {
    match round_to {
        RoundTo::EndOfDay => day,
        RoundTo::EndOfWeek => day + Days::new(u64::from(6 - day.weekday().num_days_from_monday())),
        RoundTo::EndOfMonth => {
            let first_of_next = if day.month() == 12 {
                NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
            };
            first_of_next.and_then(|d| d.pred_opt()).unwrap_or(day)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn twelve_months_rounded_to_month_end_expire_at_local_midnight() {
        let policy = Expiry::AfterMonths {
            months: 12,
            round_to: RoundTo::EndOfMonth,
        };
        let expiry = expires_at(
            &policy,
            at("2026-03-10T12:00:00Z"),
            chrono_tz::Europe::Berlin,
        );
        // Valid through 31 March 2027; expired from 1 April 2027 00:00 CEST (UTC+2).
        assert_eq!(expiry, Some(at("2027-03-31T22:00:00Z")));
    }

    #[test]
    fn end_of_following_year() {
        let expiry = expires_at(
            &Expiry::EndOfFollowingYear,
            at("2026-06-01T10:00:00Z"),
            chrono_tz::Europe::Berlin,
        );
        assert_eq!(expiry, Some(at("2027-12-31T23:00:00Z")));
    }

    #[test]
    fn end_of_week_rounds_to_sunday() {
        let policy = Expiry::AfterDays {
            days: 1,
            round_to: RoundTo::EndOfWeek,
        };
        // Earned Monday 23 Nov 2026, +1 day = Tuesday, rounded to Sunday 29 Nov.
        let expiry = expires_at(
            &policy,
            at("2026-11-23T10:00:00Z"),
            chrono_tz::Europe::Berlin,
        );
        assert_eq!(expiry, Some(at("2026-11-29T23:00:00Z")));
    }

    #[test]
    fn never_means_never() {
        assert_eq!(
            expires_at(&Expiry::Never, at("2026-01-01T00:00:00Z"), chrono_tz::UTC),
            None
        );
    }
}
