//! The dashboard in the back office: the KPIs of a period with their trend and formula, the
//! charts (members, active members, visits and revenue, redemptions, liability, segments),
//! the cohort heat map, the lifetime models' estimates, and every table as CSV.

use super::Web;
use super::format;
use super::i18n::text;
use super::office_frame::{OfficeView, Said, render};
use super::session::{Manager, csrf_ok};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use stammgast_app::{AppError, Report, ReportQuery, StaffSession};
use stammgast_core::analytics::kpi::{Kpi, Unit};
use stammgast_core::analytics::segments::LifecycleThresholds;
use stammgast_core::ids::LocationId;
use stammgast_core::member::Language;

pub fn router() -> Router<Web> {
    Router::new()
        .route("/office/dashboard", get(page))
        .route("/office/dashboard/thresholds", post(save_thresholds))
        .route(
            "/office/dashboard/{table}",
            get(super::office_dashboard_csv::download),
        )
}

const VIEW: OfficeView = OfficeView {
    template: "office_dashboard.html",
    title_key: "dashboard_title",
    path: "/office/dashboard",
};

#[derive(Deserialize, Default)]
pub(super) struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    location: Option<String>,
}

impl DashboardQuery {
    /// The report query it asks for; a field that does not read falls back to its default
    /// and is named in the error.
    pub(super) fn read(&self, today: NaiveDate) -> (ReportQuery, Option<&'static str>) {
        let date = |text: &Option<String>| {
            text.as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        };
        let mut problem = None;
        let to = match date(&self.to) {
            Some(Ok(to)) => to,
            Some(Err(_)) => {
                problem = Some("dashboard_bad_date");
                today
            }
            None => today,
        };
        // By default the month so far, which the running aggregates answer at once.
        let month_start = to.with_day(1).unwrap_or(to);
        let from = match date(&self.from) {
            Some(Ok(from)) if from <= to => from,
            Some(_) => {
                problem = Some("dashboard_bad_date");
                month_start
            }
            None => month_start,
        };
        let location = self
            .location
            .as_deref()
            .filter(|l| !l.is_empty())
            .and_then(LocationId::parse);
        (ReportQuery { from, to, location }, problem)
    }

    fn link(&self, query: &ReportQuery, table: &str) -> String {
        let location = query.location.map(|l| l.to_string()).unwrap_or_default();
        format!(
            "/office/dashboard/{table}.csv?from={}&to={}&location={location}",
            query.from, query.to
        )
    }
}

#[derive(Serialize)]
struct Tile {
    key: &'static str,
    label: String,
    help: String,
    value: String,
    previous: String,
    /// "up", "down" or "flat"; empty where there is nothing to compare.
    trend: &'static str,
    change: String,
}

#[derive(Serialize)]
struct LocationChoice {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Serialize)]
struct CohortRow {
    month: String,
    members: String,
    /// Each month since joining: the retention as text and its shade (0–100).
    cells: Vec<(String, u8)>,
}

#[derive(Serialize)]
struct DashboardPage {
    from: String,
    to: String,
    /// Calendar periods to pick at once: (label, link).
    shortcuts: Vec<(String, String)>,
    /// The period the trend compares with, as text.
    previous: String,
    locations: Vec<LocationChoice>,
    tiles: Vec<Tile>,
    /// The charts' data, as JSON for `dashboard.js`.
    series: String,
    cohorts: Vec<CohortRow>,
    cohort_offsets: Vec<usize>,
    segments: Vec<(String, u64)>,
    rfm: Vec<(String, u64)>,
    models: Option<Vec<(String, String)>>,
    model_error: Option<String>,
    downloads: Vec<(String, String)>,
    thresholds: ThresholdsForm,
}

/// The lifecycle thresholds as the form shows and sends them (the churn probability in
/// percent, empty when it is not used).
#[derive(Serialize, Deserialize, Default)]
struct ThresholdsForm {
    #[serde(default)]
    csrf: String,
    new_within_days: String,
    at_risk_after_days: String,
    lapsed_after_days: String,
    #[serde(default)]
    churn_percent: String,
    loyal_from_visits: String,
}

impl ThresholdsForm {
    fn of(thresholds: &LifecycleThresholds) -> Self {
        Self {
            csrf: String::new(),
            new_within_days: thresholds.new_within_days.to_string(),
            at_risk_after_days: thresholds.at_risk_after_days.to_string(),
            lapsed_after_days: thresholds.lapsed_after_days.to_string(),
            churn_percent: thresholds
                .churn_probability_above
                .map_or(String::new(), |p| format!("{:.0}", p * 100.0)),
            loyal_from_visits: thresholds.loyal_from_visits.to_string(),
        }
    }

    /// The thresholds, or the field that is not a whole number.
    fn read(&self) -> Result<LifecycleThresholds, &'static str> {
        fn whole<T: std::str::FromStr>(text: &str, field: &'static str) -> Result<T, &'static str> {
            text.trim().parse().map_err(|_| field)
        }
        let churn = self.churn_percent.trim();
        Ok(LifecycleThresholds {
            new_within_days: whole(&self.new_within_days, "new_within_days")?,
            at_risk_after_days: whole(&self.at_risk_after_days, "at_risk_after_days")?,
            lapsed_after_days: whole(&self.lapsed_after_days, "lapsed_after_days")?,
            churn_probability_above: if churn.is_empty() {
                None
            } else {
                Some(whole::<f64>(churn, "churn_probability_above")? / 100.0)
            },
            loyal_from_visits: whole(&self.loyal_from_visits, "loyal_from_visits")?,
        })
    }
}

async fn page(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Query(query): Query<DashboardQuery>,
) -> Response {
    show(&web, &session, language, &query, None, Said::default()).await
}

/// Saves the lifecycle thresholds and shows the dashboard with every member placed by them.
async fn save_thresholds(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Form(form): Form<ThresholdsForm>,
) -> Response {
    if !csrf_ok(&session.csrf_token, &form.csrf) {
        return web.csrf_refused(language);
    }
    let query = DashboardQuery::default();
    let problem = |field: &str| {
        Said::error(text(
            language,
            &format!("dashboard_thresholds_error_{field}"),
            &[],
        ))
    };
    let thresholds = match form.read() {
        Ok(thresholds) => thresholds,
        Err(field) => {
            return show(&web, &session, language, &query, Some(form), problem(field)).await;
        }
    };
    match web
        .app
        .save_lifecycle_thresholds(&session.caller, thresholds)
        .await
    {
        Ok(refreshed) => {
            let count = refreshed.members.to_string();
            let said = Said::notice(text(
                language,
                "dashboard_thresholds_saved",
                &[("count", &count)],
            ));
            show(&web, &session, language, &query, None, said).await
        }
        Err(AppError::Invalid { field, .. }) => {
            show(
                &web,
                &session,
                language,
                &query,
                Some(form),
                problem(&field),
            )
            .await
        }
        Err(error) => web.failure(language, error),
    }
}

async fn show(
    web: &Web,
    session: &StaffSession,
    language: Language,
    query: &DashboardQuery,
    thresholds: Option<ThresholdsForm>,
    said: Said,
) -> Response {
    let today = match web.app.shop_today(session.caller.business_id).await {
        Ok(today) => today,
        Err(error) => return web.failure(language, error),
    };
    let (report_query, problem) = query.read(today);
    let (report, refused) = match web.app.report(&session.caller, report_query).await {
        Ok(report) => (report, None),
        // A period the history is too large to count: the month so far, with the reason.
        Err(AppError::Invalid { reason, .. }) => match web
            .app
            .report(&session.caller, DashboardQuery::default().read(today).0)
            .await
        {
            Ok(report) => (report, Some(reason)),
            Err(error) => return web.failure(language, error),
        },
        Err(error) => return web.failure(language, error),
    };
    let locations = match web.app.locations(&session.caller).await {
        Ok(locations) => locations,
        Err(error) => return web.failure(language, error),
    };
    let thresholds = match thresholds {
        Some(form) => form,
        None => match web
            .app
            .lifecycle_thresholds(session.caller.business_id)
            .await
        {
            Ok(thresholds) => ThresholdsForm::of(&thresholds),
            Err(error) => return web.failure(language, error),
        },
    };
    let tr = |key: &str| text(language, key, &[]).unwrap_or_default();
    let page = DashboardPage {
        from: report.query.from.to_string(),
        to: report.query.to.to_string(),
        shortcuts: shortcuts(today, &report.query, language),
        previous: format!(
            "{} – {}",
            format::date(report.previous.0, language),
            format::date(report.previous.1, language)
        ),
        locations: locations
            .into_iter()
            .map(|l| LocationChoice {
                selected: Some(l.id) == report.query.location,
                id: l.id.to_string(),
                name: l.name,
            })
            .collect(),
        tiles: report.kpis.iter().map(|kpi| tile(kpi, language)).collect(),
        series: series(&report, language).to_string(),
        cohort_offsets: (0..report
            .cohorts
            .iter()
            .map(|c| c.active.len())
            .max()
            .unwrap_or(0))
            .collect(),
        cohorts: cohort_rows(&report, language),
        segments: report
            .lifecycle
            .iter()
            .map(|(stage, n)| (tr(&format!("segment_{}", stage.as_str())), *n))
            .collect(),
        rfm: report
            .rfm
            .iter()
            .map(|(segment, n)| (tr(&format!("rfm_{}", segment.as_str())), *n))
            .collect(),
        models: report.fit.as_ref().ok().map(|fit| {
            let b = &fit.bgnbd;
            let g = &fit.gamma_gamma;
            [
                ("r", b.r),
                ("α", b.alpha),
                ("a", b.a),
                ("b", b.b),
                ("p", g.p),
                ("q", g.q),
                ("v", g.v),
            ]
            .iter()
            .map(|(name, value)| (name.to_string(), format::decimal(*value, 3, language)))
            .collect()
        }),
        model_error: report
            .fit
            .as_ref()
            .err()
            .map(|_| tr("dashboard_models_unfitted")),
        downloads: super::office_dashboard_csv::TABLES
            .iter()
            .map(|table| {
                (
                    tr(&format!("dashboard_csv_{table}")),
                    query.link(&report.query, table),
                )
            })
            .collect(),
        thresholds,
    };
    let said = match (problem, refused) {
        (Some(key), _) => Said::error(Some(tr(key))),
        (None, Some(_)) => Said::error(Some(tr("dashboard_calendar_only"))),
        (None, None) => said,
    };
    render(web, session, language, VIEW, page, said).await
}

/// This month, last month, this quarter and this year (so far), at the location chosen.
fn shortcuts(today: NaiveDate, query: &ReportQuery, language: Language) -> Vec<(String, String)> {
    let first_of_month = today.with_day(1).unwrap_or(today);
    let last_month_end = first_of_month.pred_opt().unwrap_or(first_of_month);
    let last_month = last_month_end.with_day(1).unwrap_or(last_month_end);
    let quarter = first_of_month
        .with_month(first_of_month.month0() / 3 * 3 + 1)
        .unwrap_or(first_of_month);
    let year = first_of_month.with_month(1).unwrap_or(first_of_month);
    let location = query.location.map(|l| l.to_string()).unwrap_or_default();
    [
        ("dashboard_this_month", first_of_month, today),
        ("dashboard_last_month", last_month, last_month_end),
        ("dashboard_this_quarter", quarter, today),
        ("dashboard_this_year", year, today),
    ]
    .into_iter()
    .map(|(key, from, to)| {
        let label = text(language, key, &[]).unwrap_or_default();
        (
            label,
            format!("/office/dashboard?from={from}&to={to}&location={location}"),
        )
    })
    .collect()
}

fn tile(kpi: &Kpi, language: Language) -> Tile {
    let show = |value: Option<f64>| {
        value.map_or_else(|| "–".to_owned(), |v| formatted(kpi.unit, v, language))
    };
    let trend = match kpi.change {
        Some(change) if change > 1e-9 => "up",
        Some(change) if change < -1e-9 => "down",
        Some(_) => "flat",
        None => "",
    };
    let change = kpi.change.map_or_else(String::new, |change| {
        let sign = if change > 0.0 { "+" } else { "" };
        format!("{sign}{}", formatted(kpi.unit, change, language))
    });
    Tile {
        key: kpi.key,
        label: text(language, &format!("kpi_{}", kpi.key), &[])
            .unwrap_or_else(|| kpi.key.to_owned()),
        help: text(language, &format!("kpi_{}_help", kpi.key), &[])
            .unwrap_or_else(|| kpi.formula.to_owned()),
        value: show(kpi.value),
        previous: show(kpi.previous),
        trend,
        change,
    }
}

/// A KPI's value as the page's language writes it.
fn formatted(unit: Unit, value: f64, language: Language) -> String {
    match unit {
        Unit::Count | Unit::Points => format::number(value.round() as i64, language),
        Unit::Percent => format::percent(value, language),
        Unit::Cents => format::euros(value.round() as i64, language),
        Unit::Number => format::decimal(value, 2, language),
    }
}

/// The charts' series: one point per month (its first day, in seconds since 1970).
fn series(report: &Report, language: Language) -> serde_json::Value {
    let months = &report.months;
    let column =
        |value: &dyn Fn(&stammgast_core::analytics::facts::PeriodFacts) -> f64| -> Vec<f64> {
            months.iter().map(|m| value(&m.facts)).collect()
        };
    let tr = |key: &str| text(language, key, &[]).unwrap_or_default();
    json!({
        "months": months.iter().map(|m| m.month.first_day().map_or(0, |d| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp())).collect::<Vec<_>>(),
        "members": column(&|f| f.members_at_end as f64),
        "active": column(&|f| f.active_members as f64),
        "visits": column(&|f| f.visits as f64),
        "revenue": column(&|f| f.revenue_cents as f64 / 100.0),
        "coupons": column(&|f| f.coupons_used as f64),
        "points_redeemed": column(&|f| f.points_redeemed as f64),
        "liability": column(&|f| f.points_outstanding as f64 * f.value_per_100_points_cents as f64 / 10_000.0),
        "segments": report.lifecycle.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        "segment_names": report.lifecycle.iter().map(|(s, _)| tr(&format!("segment_{}", s.as_str()))).collect::<Vec<_>>(),
        "labels": {
            "month": tr("dashboard_month"),
            "members": tr("kpi_members"), "active": tr("kpi_active_members"), "visits": tr("kpi_visits"),
            "revenue": tr("kpi_member_revenue"), "coupons": tr("kpi_coupons_used"),
            "points_redeemed": tr("dashboard_points_redeemed"), "liability": tr("kpi_points_liability"),
        },
        "locale": if language == Language::De { "de-DE" } else { "en-GB" },
    })
}

fn cohort_rows(report: &Report, language: Language) -> Vec<CohortRow> {
    report
        .cohorts
        .iter()
        .rev()
        .map(|cohort| CohortRow {
            month: cohort.month.to_string(),
            members: format::number(cohort.members as i64, language),
            cells: cohort
                .retention_percent
                .iter()
                .map(|percent| {
                    (
                        format::percent(*percent, language),
                        percent.clamp(0.0, 100.0).round() as u8,
                    )
                })
                .collect(),
        })
        .collect()
}
