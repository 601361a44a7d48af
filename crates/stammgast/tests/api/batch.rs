use crate::helpers::{assert_problem, spawn_app};
use serde_json::json;

#[test]
fn a_batch_records_every_valid_event_and_reports_each_refusal() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let unknown = "0190c3a0-0000-7000-8000-000000000000";
    let body = json!({"events": [
        {"type": "purchase", "member_id": anna, "amount": "10.00", "currency": "EUR"},
        {"type": "visit", "member_id": anna},
        {"type": "purchase", "member_id": unknown, "amount": "5.00", "currency": "EUR"},
        {"type": "purchase", "member_id": anna, "amount": "2.50", "currency": "EUR", "items": [{"category": "coffee"}]},
    ]});
    let reply = app.post("/api/v1/events:batch", Some("batch-1"), &body.to_string());
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        (
            reply.body["recorded"].as_i64(),
            reply.body["refused"].as_i64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(
        reply.body["results"][2]["problem"]["code"],
        "member_not_found"
    );
    let member = app.member(&anna);
    assert_eq!(member["points"], 62);
    assert_eq!(member["stamps"]["coffee"], 2);

    let replay = app.post("/api/v1/events:batch", Some("batch-1"), &body.to_string());
    assert_eq!(replay.body["results"][0], reply.body["results"][0]);
    assert_eq!(
        app.member(&anna)["points"],
        62,
        "a replayed batch earns nothing twice"
    );
}

#[test]
fn a_malformed_event_refuses_the_whole_batch_and_names_it() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let body = json!({"events": [
        {"type": "purchase", "member_id": anna, "amount": "10.00", "currency": "EUR"},
        {"type": "purchase", "member_id": anna, "amount": "-1", "currency": "EUR"},
    ]});
    let reply = app.post("/api/v1/events:batch", None, &body.to_string());
    assert_problem(&reply, 422, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "events[1].amount");
    let missing = json!({"events": [{"type": "purchase", "member_id": anna, "currency": "EUR"}]});
    let reply = app.post("/api/v1/events:batch", None, &missing.to_string());
    assert_eq!(
        reply.body["errors"][0]["field"], "events[0].amount",
        "{}",
        reply.body
    );
    assert_eq!(app.member(&anna)["points"], 50);
}

#[test]
fn a_batch_takes_ten_thousand_events_and_no_more() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let event = json!({"type": "visit", "member_id": anna});
    let full = json!({"events": vec![event.clone(); 10_000]});
    let reply = app.post("/api/v1/events:batch", None, &full.to_string());
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["recorded"], 10_000);
    let over = json!({"events": vec![event; 10_001]});
    assert_problem(
        &app.post("/api/v1/events:batch", None, &over.to_string()),
        422,
        "validation_failed",
    );
    assert_eq!(app.member(&anna)["visits"], 10_000);
}
