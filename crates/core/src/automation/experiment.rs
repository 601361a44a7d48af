//! Measuring a journey against its holdout: each arm's return rate and revenue within the
//! measured days, the uplift in return rate (percentage points) with its 95 % confidence
//! interval by the normal approximation for a difference of two proportions, and whether
//! it is significant (the interval leaves out zero).

use serde::Serialize;

/// What one arm's members did within the measured days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ArmResult {
    pub members: u64,
    /// Members who came back (a purchase or visit) within the days.
    pub returned: u64,
    pub revenue_cents: i64,
}

impl ArmResult {
    pub fn return_rate(&self) -> Option<f64> {
        (self.members > 0).then(|| self.returned as f64 / self.members as f64)
    }

    pub fn revenue_per_member_cents(&self) -> Option<f64> {
        (self.members > 0).then(|| self.revenue_cents as f64 / self.members as f64)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Uplift {
    /// Return rate with the message minus without, as a fraction (0.05 = 5 points).
    pub difference: f64,
    pub low: f64,
    pub high: f64,
    pub significant: bool,
}

/// z for a two-sided 95 % interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// The uplift of `message` over `holdout`; `None` while an arm has no members.
pub fn uplift(message: ArmResult, holdout: ArmResult) -> Option<Uplift> {
    let (p1, p0) = (message.return_rate()?, holdout.return_rate()?);
    let standard_error = (p1 * (1.0 - p1) / message.members as f64
        + p0 * (1.0 - p0) / holdout.members as f64)
        .sqrt();
    let difference = p1 - p0;
    let margin = Z_95 * standard_error;
    Some(Uplift {
        difference,
        low: difference - margin,
        high: difference + margin,
        significant: difference - margin > 0.0 || difference + margin < 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(members: u64, returned: u64) -> ArmResult {
        ArmResult {
            members,
            returned,
            revenue_cents: 0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn ten_points_on_two_hundred_against_a_hundred_is_not_significant() {
        // p1 = 0.30, p0 = 0.20; SE = √(0.3·0.7/200 + 0.2·0.8/100) = √0.00265 = 0.051478;
        // margin = 1.96 · SE = 0.100896: the interval (−0.000896, 0.200896) holds zero.
        let u = uplift(arm(200, 60), arm(100, 20)).unwrap();
        assert!(close(u.difference, 0.10));
        assert!(
            close(u.low, -0.000_896) && close(u.high, 0.200_896),
            "{u:?}"
        );
        assert!(!u.significant);
    }

    #[test]
    fn five_points_on_a_thousand_each_is_significant() {
        // p1 = 0.30, p0 = 0.25; SE = √(0.21/1000 + 0.1875/1000) = 0.019937;
        // margin = 0.039076: the interval (0.010924, 0.089076) is above zero.
        let u = uplift(arm(1_000, 300), arm(1_000, 250)).unwrap();
        assert!(close(u.low, 0.010_924) && close(u.high, 0.089_076), "{u:?}");
        assert!(u.significant);
    }

    #[test]
    fn a_worse_message_is_significant_below_zero_and_an_empty_arm_has_no_uplift() {
        let u = uplift(arm(1_000, 200), arm(1_000, 300)).unwrap();
        assert!(u.significant && u.high < 0.0);
        assert_eq!(uplift(arm(10, 3), arm(0, 0)), None);
        assert_eq!(arm(0, 0).return_rate(), None);
        let paid = ArmResult {
            members: 4,
            returned: 2,
            revenue_cents: 1_000,
        };
        assert_eq!(paid.revenue_per_member_cents(), Some(250.0));
    }
}
