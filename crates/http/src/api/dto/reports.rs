//! The shapes of the analytics endpoints: a KPI report (also what `stammgast kpi` prints)
//! and an NPS survey answer.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stammgast_app::Report;
use std::collections::BTreeMap;

/// An answer to the NPS survey ("How likely are you to recommend us?").
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswerRequest {
    pub member_id: String,
    /// 0 (not at all) to 10 (extremely likely).
    pub score: u8,
    #[serde(default)]
    pub comment: String,
    pub location_id: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SurveyAnswerRecorded {
    pub recorded: bool,
}

/// `GET /reports/kpis`: the period (days in the shop's time zone, both included) and
/// optionally one location.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiQuery {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub location_id: Option<String>,
}

/// One KPI: its value in the period and in the period of the same length before.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KpiValue {
    pub value: Option<f64>,
    pub previous: Option<f64>,
    pub change: Option<f64>,
    /// count, percent, cents, points or number.
    pub unit: String,
    /// The exact formula.
    pub formula: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KpiReport {
    pub business_id: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub location_id: Option<String>,
    pub kpis: BTreeMap<String, KpiValue>,
    /// The BG/NBD and Gamma-Gamma estimates on the history up to the period's end (time in
    /// weeks, amounts in cents), or `{"error": …}` where they could not be fitted.
    pub clv: Value,
}

impl KpiReport {
    pub fn new(business_id: impl ToString, report: &Report) -> Self {
        let kpis = report
            .kpis
            .iter()
            .map(|kpi| {
                let value = KpiValue {
                    value: kpi.value,
                    previous: kpi.previous,
                    change: kpi.change,
                    unit: serde_json::to_value(kpi.unit)
                        .ok()
                        .and_then(|unit| unit.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    formula: kpi.formula.to_owned(),
                };
                (kpi.key.to_owned(), value)
            })
            .collect();
        let clv = match &report.fit {
            Ok(fit) => serde_json::to_value(fit).unwrap_or(Value::Null),
            Err(error) => serde_json::json!({"error": error.to_string()}),
        };
        Self {
            business_id: business_id.to_string(),
            from: report.query.from,
            to: report.query.to,
            location_id: report.query.location.map(|l| l.to_string()),
            kpis,
            clv,
        }
    }
}
