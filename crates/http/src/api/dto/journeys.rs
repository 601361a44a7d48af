//! The shapes of journeys and their measured results.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stammgast_app::JourneyReport;
use stammgast_core::automation::experiment::{ArmResult, Uplift};
use stammgast_core::automation::journey::Journey;
use stammgast_core::money::Cents;

/// Which of the setup's templates to start a journey from (`win_back`, `welcome`,
/// `nps_survey`, …); it is created paused.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FromTemplateRequest {
    pub template: String,
}

/// One arm of a journey's measurement.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ArmFigures {
    pub members: u64,
    /// Members who came back (a purchase or visit) within the journey's `measure_days`.
    pub returned: u64,
    pub return_rate: Option<f64>,
    /// What they spent then, in the currency's units (`"12.40"`).
    pub revenue: String,
}

impl From<ArmResult> for ArmFigures {
    fn from(arm: ArmResult) -> Self {
        Self {
            members: arm.members,
            returned: arm.returned,
            return_rate: arm.return_rate(),
            revenue: Cents::new(arm.revenue_cents)
                .map(|c| c.to_string())
                .unwrap_or_default(),
        }
    }
}

/// The return rate with the message minus without it (fractions: 0.05 is 5 points), with
/// its 95 % confidence interval.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UpliftFigures {
    pub difference: f64,
    pub low: f64,
    pub high: f64,
    /// Whether the interval excludes zero.
    pub significant: bool,
}

impl From<Uplift> for UpliftFigures {
    fn from(uplift: Uplift) -> Self {
        Self {
            difference: uplift.difference,
            low: uplift.low,
            high: uplift.high,
            significant: uplift.significant,
        }
    }
}

/// A journey and how it does: each arm, and the uplift of each message over the holdout.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JourneyResults {
    pub journey: Journey,
    pub message: ArmFigures,
    pub holdout: ArmFigures,
    pub uplift: Option<UpliftFigures>,
    /// In an A/B test: the second message's arm and its uplift.
    pub variant_b: Option<ArmFigures>,
    pub variant_b_uplift: Option<UpliftFigures>,
}

impl From<JourneyReport> for JourneyResults {
    fn from(report: JourneyReport) -> Self {
        let (variant_b, variant_b_uplift) = match report.variant_b {
            Some((arm, uplift)) => (Some(arm.into()), uplift.map(Into::into)),
            None => (None, None),
        };
        Self {
            journey: report.journey,
            message: report.message.into(),
            holdout: report.holdout.into(),
            uplift: report.uplift.map(Into::into),
            variant_b,
            variant_b_uplift,
        }
    }
}
