use crate::helpers::{assert_problem, spawn_app};

#[test]
fn one_business_cannot_read_or_change_anothers_members() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let code = app.member(&member)["code"].as_str().unwrap().to_owned();
    let purchase = app.purchase(&member, "10.00", "p1");
    let event = purchase.body["event_id"].as_str().unwrap().to_owned();
    let other = app.other_api_key.clone();

    for path in [
        format!("/api/v1/members/{member}"),
        format!("/api/v1/members/by-code/{code}"),
        format!("/api/v1/members/{member}/events"),
        format!("/api/v1/members/{member}/ledger"),
        format!("/api/v1/members/{member}/coupons"),
    ] {
        let reply = app.get_as(&other, &path);
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
    }
    let writes = [
        (
            "/api/v1/purchases".to_owned(),
            format!(r#"{{"member_id": "{member}", "amount": "99.00", "currency": "EUR"}}"#),
        ),
        (
            format!("/api/v1/members/{member}/adjustments"),
            r#"{"unit": "points", "delta": -10, "reason": "x"}"#.to_owned(),
        ),
        (
            format!("/api/v1/members/{member}/redemptions"),
            r#"{"reward_id": "cake"}"#.to_owned(),
        ),
        (
            format!("/api/v1/events/{event}/void"),
            r#"{"reason": "x"}"#.to_owned(),
        ),
    ];
    for (index, (path, body)) in writes.iter().enumerate() {
        let reply = app.post_as(&other, path, Some(&format!("intruder-{index}")), body);
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json");
    }
    let listed = app.get_as(&other, "/api/v1/members");
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(app.member(&member)["points"], 60, "untouched");
    assert_problem(
        &app.get_as(&other, &format!("/api/v1/members/{member}")),
        404,
        "not_found",
    );
}
