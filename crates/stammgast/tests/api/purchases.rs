use crate::helpers::{assert_problem, spawn_app};

#[test]
fn join_purchase_balance() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let reply = app.post(
        "/api/v1/purchases",
        Some("p-1"),
        &format!(
            r#"{{"member_id": "{member}", "amount": "12.40", "currency": "EUR",
                "items": [{{"sku": "latte", "category": "coffee", "quantity": 2, "amount": "8.40"}}]}}"#
        ),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["points_earned"], 12);
    assert_eq!(reply.body["stamps_earned"]["coffee"], 2);
    assert!(
        reply.body["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("+12 points"))
    );
    let balance = app.member(&member);
    assert_eq!(balance["points"], 62);
    assert_eq!(balance["stamps"]["coffee"], 2);
    assert_eq!(balance["visits"], 1);
    assert_eq!(balance["spend"], "12.40");
    let history = app.get(&format!("/api/v1/members/{member}/events"));
    assert_eq!(history.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(history.body["items"][0]["type"], "purchase");
}

#[test]
fn a_replayed_purchase_returns_the_same_body_and_earns_nothing_more() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let first = app.purchase(&member, "20.00", "same-key");
    let again = app.purchase(&member, "20.00", "same-key");
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(first.body, again.body);
    assert_eq!(app.member(&member)["points"], 70);
    let other = app.purchase(&member, "30.00", "same-key");
    assert_problem(&other, 422, "idempotency_key_reused");
    assert_eq!(app.member(&member)["points"], 70);
}

#[test]
fn bad_purchases_get_clear_problems_and_change_nothing() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let unknown = "0190c3a0-0000-7000-8000-000000000000";
    let cases = [
        (
            format!(r#"{{"member_id": "{member}", "amount": "-5.00", "currency": "EUR"}}"#),
            422,
            "validation_failed",
            Some("amount"),
        ),
        (
            format!(r#"{{"member_id": "{member}", "amount": "abc", "currency": "EUR"}}"#),
            422,
            "validation_failed",
            Some("amount"),
        ),
        (
            format!(r#"{{"member_id": "{member}", "amount": "1.234", "currency": "EUR"}}"#),
            422,
            "validation_failed",
            Some("amount"),
        ),
        (
            format!(r#"{{"member_id": "{member}", "amount": "5.00", "currency": "USD"}}"#),
            422,
            "validation_failed",
            Some("currency"),
        ),
        (
            format!(
                r#"{{"member_id": "{member}", "amount": "5.00", "currency": "EUR", "tip": "1"}}"#
            ),
            422,
            "validation_failed",
            None,
        ),
        (
            format!(r#"{{"member_id": "{member}", "amount": "5.00""#),
            400,
            "malformed_json",
            None,
        ),
        (
            format!(r#"{{"member_id": "{unknown}", "amount": "5.00", "currency": "EUR"}}"#),
            404,
            "member_not_found",
            None,
        ),
        (
            r#"{"member_id": "not-an-id", "amount": "5.00", "currency": "EUR"}"#.to_owned(),
            422,
            "validation_failed",
            Some("member_id"),
        ),
    ];
    for (index, (body, status, code, field)) in cases.iter().enumerate() {
        let reply = app.post("/api/v1/purchases", Some(&format!("bad-{index}")), body);
        assert_problem(&reply, *status, code);
        if let Some(field) = field {
            assert_eq!(reply.body["errors"][0]["field"], *field, "{}", reply.body);
        }
    }
    assert_eq!(app.member(&member)["points"], 50, "nothing changed");
    let history = app.get(&format!("/api/v1/members/{member}/events"));
    assert_eq!(
        history.body["items"].as_array().unwrap().len(),
        1,
        "only the sign-up"
    );
}

#[test]
fn a_purchase_without_an_idempotency_key_is_refused() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let body = format!(r#"{{"member_id": "{member}", "amount": "5.00", "currency": "EUR"}}"#);
    assert_problem(
        &app.post("/api/v1/purchases", None, &body),
        400,
        "idempotency_key_required",
    );
    assert_eq!(app.member(&member)["points"], 50);
}

#[test]
fn a_void_takes_back_the_points_and_a_refund_takes_back_its_share() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let first = app.purchase(&member, "40.00", "p1");
    let second = app.purchase(&member, "20.00", "p2");
    let first_id = first.body["event_id"].as_str().unwrap();
    let second_id = second.body["event_id"].as_str().unwrap();
    let void = app.post(
        &format!("/api/v1/events/{first_id}/void"),
        Some("v1"),
        r#"{"reason": "wrong card"}"#,
    );
    assert_eq!(void.status, 200, "{}", void.body);
    assert_eq!(void.body["points_reversed"], 40);
    let refund = app.post(
        &format!("/api/v1/events/{second_id}/refunds"),
        Some("r1"),
        r#"{"amount": "10.00", "reason": "returned"}"#,
    );
    assert_eq!(refund.status, 200, "{}", refund.body);
    assert_eq!(refund.body["points_reversed"], 10);
    assert_eq!(app.member(&member)["points"], 60);
    let again = app.post(
        &format!("/api/v1/events/{first_id}/void"),
        Some("v2"),
        r#"{"reason": "again"}"#,
    );
    assert_problem(&again, 409, "transaction_already_voided");
    let too_much = app.post(
        &format!("/api/v1/events/{second_id}/refunds"),
        Some("r2"),
        r#"{"amount": "50.00", "reason": "x"}"#,
    );
    assert_problem(&too_much, 422, "refund_too_large");
}

#[test]
fn a_manual_adjustment_needs_a_reason_and_never_overdraws() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let path = format!("/api/v1/members/{member}/adjustments");
    let added = app.post(
        &path,
        Some("a1"),
        r#"{"unit": "points", "delta": 25, "reason": "Entschuldigung für die Wartezeit"}"#,
    );
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["balance"]["points"], 75);
    assert_problem(
        &app.post(
            &path,
            Some("a2"),
            r#"{"unit": "points", "delta": 5, "reason": " "}"#,
        ),
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post(
            &path,
            Some("a3"),
            r#"{"unit": "points", "delta": -500, "reason": "x"}"#,
        ),
        409,
        "insufficient_points",
    );
    assert_problem(
        &app.post(
            &path,
            Some("a4"),
            r#"{"unit": "gold", "delta": 5, "reason": "x"}"#,
        ),
        422,
        "validation_failed",
    );
    assert_eq!(app.member(&member)["points"], 75);
}
