//! The counted facts of one period from which every KPI is computed: the storage layer
//! counts them (or reads them from its running aggregates), this module only defines them
//! and folds one member's activity into them.

use serde::Serialize;

/// One member's activity in the period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberActivity {
    /// Purchases, not voided.
    pub purchases: u32,
    /// Visits without a purchase ("+1 stamp").
    pub visits: u32,
    /// What the purchases came to, after refunds.
    pub revenue_cents: i64,
    /// How many kinds of product (item categories) the purchases contained.
    pub kinds: u32,
    /// Coupons the member used.
    pub coupons_used: u32,
}

/// Survey answers (0–10) in the period, by the NPS's three groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NpsAnswers {
    /// 9 or 10.
    pub promoters: u64,
    /// 7 or 8.
    pub passives: u64,
    /// 0 to 6.
    pub detractors: u64,
}

impl NpsAnswers {
    pub fn add(&mut self, score: u8) {
        match score {
            9.. => self.promoters += 1,
            7 | 8 => self.passives += 1,
            _ => self.detractors += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }
}

/// Everything the KPIs of one period (and one location, or all) are computed from.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PeriodFacts {
    /// The period's length in days.
    pub days: f64,
    /// Members who had joined before the period began (S).
    pub members_at_start: u64,
    /// Members who had joined by its end (E).
    pub members_at_end: u64,
    /// Members who joined in it (N).
    pub new_members: u64,
    /// Members with a purchase or a visit in it.
    pub active_members: u64,
    /// Members with at least one purchase.
    pub purchasing_members: u64,
    /// Members with more than one purchase.
    pub repeat_members: u64,
    /// Purchasing members whose purchases were of one kind of product, and of several.
    pub single_kind_members: u64,
    pub multi_kind_members: u64,
    /// Active members who used a coupon.
    pub redeeming_members: u64,
    pub purchases: u64,
    pub visits: u64,
    pub revenue_cents: i64,
    pub coupons_used: u64,
    /// Points moved in the period, and what members hold at its end.
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub points_expired: i64,
    pub points_outstanding: i64,
    /// What 100 points are worth to the business (the program's setting).
    pub value_per_100_points_cents: i64,
    /// What the coupons used in the period gave away, where it is known (fixed discounts,
    /// and rewards paid in points at the points' value).
    pub reward_cost_cents: i64,
    /// The days from joining to the last visit by the period's end, summed over the
    /// members who had visited by then, and how many they are; for the historic CLV.
    pub lifetime_days: f64,
    pub lifetime_members: u64,
    pub nps: NpsAnswers,
    /// The predictive model's expected value over the next 365 days, summed over the
    /// members at the end of the period; `None` where the model could not be fitted.
    pub predicted_value_365_days_cents: Option<f64>,
}

impl PeriodFacts {
    /// Counts one member's activity in the period.
    pub fn add_activity(&mut self, activity: &MemberActivity) {
        if activity.purchases + activity.visits == 0 && activity.coupons_used == 0 {
            return;
        }
        let active = activity.purchases + activity.visits > 0;
        self.active_members += u64::from(active);
        self.purchasing_members += u64::from(activity.purchases > 0);
        self.repeat_members += u64::from(activity.purchases > 1);
        self.single_kind_members += u64::from(activity.purchases > 0 && activity.kinds <= 1);
        self.multi_kind_members += u64::from(activity.kinds > 1);
        self.redeeming_members += u64::from(active && activity.coupons_used > 0);
        self.purchases += u64::from(activity.purchases);
        self.visits += u64::from(activity.purchases + activity.visits);
        self.revenue_cents += activity.revenue_cents;
        self.coupons_used += u64::from(activity.coupons_used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_members_activity_counts_once_in_each_group_it_belongs_to() {
        let mut facts = PeriodFacts::default();
        let regular = MemberActivity {
            purchases: 3,
            visits: 1,
            revenue_cents: 1_500,
            kinds: 2,
            coupons_used: 1,
        };
        let once = MemberActivity {
            purchases: 1,
            revenue_cents: 400,
            kinds: 1,
            ..MemberActivity::default()
        };
        let stamp_only = MemberActivity {
            visits: 2,
            ..MemberActivity::default()
        };
        for activity in [regular, once, stamp_only, MemberActivity::default()] {
            facts.add_activity(&activity);
        }
        assert_eq!(facts.active_members, 3);
        assert_eq!(facts.purchasing_members, 2);
        assert_eq!(facts.repeat_members, 1);
        assert_eq!(
            (facts.single_kind_members, facts.multi_kind_members),
            (1, 1)
        );
        assert_eq!(facts.redeeming_members, 1);
        assert_eq!(
            (facts.purchases, facts.visits, facts.revenue_cents),
            (4, 7, 1_900)
        );
    }

    #[test]
    fn nps_answers_fall_into_their_groups_at_the_boundaries() {
        let mut answers = NpsAnswers::default();
        for score in [0, 6, 7, 8, 9, 10] {
            answers.add(score);
        }
        assert_eq!(
            (answers.detractors, answers.passives, answers.promoters),
            (2, 2, 2)
        );
    }
}
