//! The dashboard's tables as CSV files: the KPIs with their formulas, the monthly figures,
//! the cohorts and the segments, for the period the dashboard shows.

use super::Web;
use super::download::{attachment, csv_table};
use super::office_dashboard::DashboardQuery;
use super::session::Manager;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use stammgast_app::Report;

/// The tables there are.
pub(super) const TABLES: [&str; 4] = ["kpis", "months", "cohorts", "segments"];

pub(super) async fn download(
    State(web): State<Web>,
    Manager(session, language): Manager,
    Path(table): Path<String>,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let today = match web.app.shop_today(session.caller.business_id).await {
        Ok(today) => today,
        Err(error) => return web.failure(language, error),
    };
    let (report_query, _) = query.read(today);
    let Some(name) = table.strip_suffix(".csv").filter(|t| TABLES.contains(t)) else {
        return web.failure(language, stammgast_app::AppError::NotFound);
    };
    let report = match web.app.report(&session.caller, report_query).await {
        Ok(report) => report,
        Err(error) => return web.failure(language, error),
    };
    let rows = match name {
        "kpis" => kpi_rows(&report),
        "months" => month_rows(&report),
        "cohorts" => cohort_table(&report),
        _ => segment_rows(&report),
    };
    let file = format!(
        "stammgast-{name}-{}-{}.csv",
        report.query.from, report.query.to
    );
    attachment("text/csv; charset=utf-8", &file, csv_table(&rows))
}

fn cells(values: impl IntoIterator<Item = impl ToString>) -> Vec<String> {
    values.into_iter().map(|v| v.to_string()).collect()
}

fn optional(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn kpi_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![cells([
        "kpi", "unit", "value", "previous", "change", "formula",
    ])];
    for kpi in &report.kpis {
        let unit = serde_json::to_value(kpi.unit)
            .ok()
            .and_then(|u| u.as_str().map(str::to_owned))
            .unwrap_or_default();
        rows.push(vec![
            kpi.key.to_owned(),
            unit,
            optional(kpi.value),
            optional(kpi.previous),
            optional(kpi.change),
            kpi.formula.to_owned(),
        ]);
    }
    rows
}

fn month_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![cells([
        "month",
        "members",
        "new_members",
        "active_members",
        "visits",
        "purchases",
        "revenue_cents",
        "coupons_used",
        "points_issued",
        "points_redeemed",
        "points_expired",
        "points_outstanding",
    ])];
    for month in &report.months {
        let f = &month.facts;
        let mut row = vec![month.month.to_string()];
        row.extend(cells([
            f.members_at_end,
            f.new_members,
            f.active_members,
            f.visits,
            f.purchases,
        ]));
        row.extend(cells([f.revenue_cents]));
        row.extend(cells([f.coupons_used]));
        row.extend(cells([
            f.points_issued,
            f.points_redeemed,
            f.points_expired,
            f.points_outstanding,
        ]));
        rows.push(row);
    }
    rows
}

fn cohort_table(report: &Report) -> Vec<Vec<String>> {
    let width = report
        .cohorts
        .iter()
        .map(|c| c.active.len())
        .max()
        .unwrap_or(0);
    let mut header = cells(["join_month", "members"]);
    header.extend((0..width).map(|offset| format!("month_{offset}_percent")));
    let mut rows = vec![header];
    for cohort in &report.cohorts {
        let mut row = vec![cohort.month.to_string(), cohort.members.to_string()];
        row.extend(cohort.retention_percent.iter().map(|p| format!("{p:.1}")));
        rows.push(row);
    }
    rows
}

fn segment_rows(report: &Report) -> Vec<Vec<String>> {
    let mut rows = vec![cells(["kind", "segment", "members"])];
    rows.extend(
        report
            .lifecycle
            .iter()
            .map(|(s, n)| vec!["lifecycle".into(), s.as_str().into(), n.to_string()]),
    );
    rows.extend(
        report
            .rfm
            .iter()
            .map(|(s, n)| vec!["rfm".into(), s.as_str().into(), n.to_string()]),
    );
    rows
}
