//! Analytics through the API and the command line: the KPI report counts what was
//! recorded, NPS answers feed it, bad answers are refused and change nothing, one business
//! never sees another's figures; `stammgast kpi` and `stammgast clv fit` keep their
//! contracts.

use crate::cli::{create_business, stammgast, stammgast_with};
use crate::crash::{start_server, start_server_with};
use crate::helpers::{TestApp, assert_problem, fresh_sqlite_path, spawn_app};
use chrono::{Duration, Utc};
use serde_json::Value;

/// A period around now that contains today in any time zone.
fn around_today() -> (String, String) {
    let today = Utc::now().date_naive();
    (
        (today - Duration::days(1)).to_string(),
        (today + Duration::days(1)).to_string(),
    )
}

fn kpis_as(app: &TestApp, key: &str) -> Value {
    let (from, to) = around_today();
    let reply = app.get_as(key, &format!("/api/v1/reports/kpis?from={from}&to={to}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// `stammgast kpi` for the period `from..=to`.
fn kpi_command(
    database: &str,
    business: &str,
    from: &str,
    to: &str,
    environment: &[(&str, &str)],
) -> std::process::Output {
    let args = [
        "kpi",
        "--database",
        database,
        "--business",
        business,
        "--from",
        from,
        "--to",
        to,
    ];
    stammgast_with(&args, environment)
}

fn answer(app: &TestApp, key: &str, body: &str) -> crate::helpers::Reply {
    app.post_as(key, "/api/v1/surveys/nps", None, body)
}

#[test]
fn the_kpi_report_counts_members_purchases_and_survey_answers() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let ben = app.join("Ben", "ben@example.com");
    assert_eq!(app.purchase(&anna, "4.50", "p1").status, 201);
    assert_eq!(app.purchase(&anna, "7.50", "p2").status, 201);
    assert_eq!(app.purchase(&ben, "3.00", "p3").status, 201);
    for (member, score) in [(&anna, 10), (&ben, 9), (&ben, 4)] {
        let reply = answer(
            &app,
            &app.api_key,
            &format!(r#"{{"member_id": "{member}", "score": {score}, "comment": "gut"}}"#),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }

    let report = kpis_as(&app, &app.api_key);
    let value = |key: &str| report["kpis"][key]["value"].as_f64();
    assert_eq!(value("members"), Some(2.0));
    assert_eq!(value("new_members"), Some(2.0));
    assert_eq!(value("member_revenue"), Some(1_500.0), "in cents");
    assert_eq!(value("average_order_value"), Some(500.0));
    assert_eq!(
        value("repeat_purchase_rate"),
        Some(50.0),
        "Anna bought twice, Ben once"
    );
    assert!(
        (value("nps").unwrap() - (200.0 / 3.0 - 100.0 / 3.0)).abs() < 1e-9,
        "{report}"
    );
    assert!(
        report["kpis"]["retention_rate"]["formula"]
            .as_str()
            .unwrap()
            .contains("(E − N) / S")
    );
    assert!(
        report["clv"]["error"].is_string(),
        "two customers are too few for the models"
    );
}

#[test]
fn bad_survey_answers_are_refused_and_change_nothing() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let cases = [
        (
            format!(r#"{{"member_id": "{anna}", "score": 11}}"#),
            422,
            "validation_failed",
        ),
        (
            format!(r#"{{"member_id": "{anna}", "score": -1}}"#),
            422,
            "validation_failed",
        ),
        (
            format!(r#"{{"member_id": "{anna}", "score": 5, "stars": 3}}"#),
            422,
            "validation_failed",
        ),
        (
            r#"{"member_id": "not-an-id", "score": 5}"#.to_owned(),
            422,
            "validation_failed",
        ),
        (
            format!(r#"{{"member_id": "{}", "score": 5}}"#, uuid::Uuid::new_v4()),
            404,
            "not_found",
        ),
        (r#"{"member_id": "#.to_owned(), 400, "malformed_json"),
    ];
    for (body, status, code) in cases {
        assert_problem(&answer(&app, &app.api_key, &body), status, code);
    }
    assert_eq!(
        kpis_as(&app, &app.api_key)["kpis"]["nps"]["value"],
        Value::Null,
        "no answer was stored"
    );
}

#[test]
fn one_business_neither_answers_for_nor_sees_anothers_members() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    assert_eq!(app.purchase(&anna, "9.00", "p1").status, 201);
    let foreign = answer(
        &app,
        &app.other_api_key,
        &format!(r#"{{"member_id": "{anna}", "score": 0}}"#),
    );
    assert_problem(&foreign, 404, "not_found");
    let theirs = kpis_as(&app, &app.other_api_key);
    assert_eq!(theirs["kpis"]["members"]["value"].as_f64(), Some(0.0));
    assert_eq!(
        theirs["kpis"]["member_revenue"]["value"].as_f64(),
        Some(0.0)
    );
    assert_eq!(
        kpis_as(&app, &app.api_key)["kpis"]["nps"]["value"],
        Value::Null
    );
}

#[test]
fn a_period_that_ends_before_it_begins_is_refused() {
    let app = spawn_app();
    let reply = app.get("/api/v1/reports/kpis?from=2026-05-31&to=2026-05-01");
    assert_problem(&reply, 422, "validation_failed");
    let reply = app.get("/api/v1/reports/kpis?from=31.05.2026&to=2026-06-01");
    assert_problem(&reply, 400, "invalid_query");
}

#[test]
fn the_kpi_command_prints_the_same_report_as_the_api() {
    let database = format!("sqlite://{}", fresh_sqlite_path().display());
    let (business, key) = create_business(&database);
    let (mut server, address) = start_server(&database);
    let app = TestApp::attach(address, key);
    let anna = app.join("Anna", "anna@example.com");
    assert_eq!(app.purchase(&anna, "12.40", "p1").status, 201);
    let from_api = kpis_as(&app, &app.api_key);
    server.kill().unwrap();
    server.wait().unwrap();

    let (from, to) = around_today();
    let output = kpi_command(&database, &business, &from, &to, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(
        printed["kpis"]["member_revenue"]["value"].as_f64(),
        Some(1_240.0)
    );
    assert_eq!(printed["kpis"], from_api["kpis"]);
    let unknown = kpi_command(
        &database,
        &uuid::Uuid::new_v4().to_string(),
        &from,
        &to,
        &[],
    );
    assert!(!unknown.status.success());
}

#[test]
fn clv_fit_prints_both_models_estimates_in_weeks() {
    let cdnow = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/fixtures/cdnow_sample.csv"
    );
    let output = stammgast(&[
        "clv",
        "fit",
        "--transactions",
        cdnow,
        "--calibration-end",
        "1997-09-30",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let fit: Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(fit["customers"], 2357);
    for (model, parameter) in [
        ("bgnbd", "r"),
        ("bgnbd", "alpha"),
        ("bgnbd", "a"),
        ("bgnbd", "b"),
        ("bgnbd", "log_likelihood"),
        ("gamma_gamma", "p"),
        ("gamma_gamma", "q"),
        ("gamma_gamma", "v"),
    ] {
        assert!(fit[model][parameter].is_f64(), "{model}.{parameter}: {fit}");
    }
    // Fader, Hardie & Lee (2005) report r = 0.243 and α = 4.414 for this calibration.
    assert_eq!(
        format!("{:.3}", fit["bgnbd"]["r"].as_f64().unwrap()),
        "0.243"
    );
    assert_eq!(
        format!("{:.3}", fit["bgnbd"]["alpha"].as_f64().unwrap()),
        "4.414"
    );

    let bad = std::env::temp_dir().join(format!("tx-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&bad, "customer_id,date,amount\nx,1997-02-30,3\n").unwrap();
    let output = stammgast(&[
        "clv",
        "fit",
        "--transactions",
        bad.to_str().unwrap(),
        "--calibration-end",
        "1997-09-30",
    ]);
    std::fs::remove_file(&bad).unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 2"));
}

#[test]
fn a_calendar_year_read_from_the_running_aggregates_agrees_with_the_days_counted_from_history() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let ben = app.join("Ben", "ben@example.com");
    for (member, amount, key) in [
        (&anna, "4.50", "p1"),
        (&anna, "7.50", "p2"),
        (&ben, "3.00", "p3"),
    ] {
        assert_eq!(app.purchase(member, amount, key).status, 201);
    }
    let year = Utc::now().format("%Y").to_string();
    let reply = app.get(&format!(
        "/api/v1/reports/kpis?from={year}-01-01&to={year}-12-31"
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let days = kpis_as(&app, &app.api_key);
    for key in [
        "members",
        "new_members",
        "active_members",
        "member_revenue",
        "repeat_purchase_rate",
        "points_outstanding",
    ] {
        assert_eq!(
            reply.body["kpis"][key]["value"], days["kpis"][key]["value"],
            "{key}"
        );
    }
    assert_eq!(
        reply.body["kpis"]["active_members"]["value"].as_f64(),
        Some(2.0)
    );
}

#[test]
fn past_its_size_limit_a_history_answers_calendar_spans_and_says_so() {
    let database = format!("sqlite://{}", fresh_sqlite_path().display());
    let (business, key) = create_business(&database);
    let staff = stammgast(&[
        "staff",
        "create",
        "--database",
        &database,
        "--business",
        &business,
        "--email",
        "chefin@example.com",
        "--name",
        "Lena",
    ]);
    assert!(
        staff.status.success(),
        "{}",
        String::from_utf8_lossy(&staff.stderr)
    );
    let staff: Value = serde_json::from_slice(&staff.stdout).unwrap();
    let limit = [("STAMMGAST_ANALYTICS_HISTORY_VISITS_MAX", "1")];
    let (mut server, address) = start_server_with(&database, &limit);
    let app = TestApp::attach(address.clone(), key);
    let anna = app.join("Anna", "anna@example.com");
    assert_eq!(app.purchase(&anna, "4.50", "p1").status, 201);
    assert_eq!(app.purchase(&anna, "5.50", "p2").status, 201);

    // Two days that end before today are never a calendar span or one of them so far
    // (around today would be "this month so far" on the 2nd of a month).
    let today = Utc::now().date_naive();
    let (from, to) = (
        (today - Duration::days(3)).to_string(),
        (today - Duration::days(2)).to_string(),
    );
    let refused = app.get(&format!("/api/v1/reports/kpis?from={from}&to={to}"));
    assert_problem(&refused, 422, "validation_failed");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("calendar month, quarter and year"),
        "{}",
        refused.body
    );
    let year = Utc::now().format("%Y");
    let calendar = app.get(&format!(
        "/api/v1/reports/kpis?from={year}-01-01&to={year}-12-31"
    ));
    assert_eq!(calendar.status, 200, "{}", calendar.body);

    let mut owner = crate::visitor::Visitor::new(&address, "de");
    owner.log_in(("chefin@example.com", staff["password"].as_str().unwrap()));
    let page = owner.get(&format!("/office/dashboard?from={from}&to={to}"));
    assert_eq!(page.status, 422, "what to do is shown");
    assert!(page.html.contains("je Kalendermonat, -quartal und -jahr"));
    let shown_from = page
        .html
        .split("name=\"from\" value=\"")
        .nth(1)
        .and_then(|rest| rest.get(..10));
    assert!(
        shown_from.is_some_and(|date| date.ends_with("-01")),
        "the month so far is shown instead: {shown_from:?}"
    );
    server.kill().unwrap();
    server.wait().unwrap();

    let output = kpi_command(&database, &business, &from, &to, &limit);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("calendar month"));
}
