use crate::helpers::{assert_problem, spawn_app};

#[test]
fn a_joined_member_gets_an_id_a_code_and_the_signup_bonus() {
    let app = spawn_app();
    let reply = app.post(
        "/api/v1/members",
        None,
        r#"{"first_name": "Anna", "email": "Anna@Example.com"}"#,
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap();
    assert_eq!(reply.body["code"].as_str().unwrap().len(), 8);
    assert_eq!(reply.body["signup"]["points_earned"], 50);
    let member = app.member(id);
    assert_eq!(member["points"], 50);
    assert_eq!(member["email"], "anna@example.com");
    assert_eq!(member["tier"], "bronze");
    assert_eq!(member["stamps"], serde_json::json!({}));
}

#[test]
fn a_member_is_found_by_the_code_on_the_card_even_in_lower_case() {
    let app = spawn_app();
    let reply = app.post(
        "/api/v1/members",
        None,
        r#"{"first_name": "Ben", "phone": "+49 170 1234567"}"#,
    );
    let code = reply.body["code"].as_str().unwrap().to_lowercase();
    let found = app.get(&format!("/api/v1/members/by-code/{code}"));
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["id"], reply.body["id"]);
}

#[test]
fn bad_sign_ups_are_refused_with_what_to_fix_and_create_nobody() {
    let app = spawn_app();
    let cases = [
        (r#"{"first_name": "Anna"}"#, 422, "validation_failed"),
        (
            r#"{"first_name": "", "email": "a@example.com"}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"first_name": "Anna", "email": "not-an-address"}"#,
            422,
            "validation_failed",
        ),
        (
            r#"{"first_name": "Anna", "email": "a@example.com", "nickname": "A"}"#,
            422,
            "validation_failed",
        ),
        (r#"{"first_name": "Anna", "email": "#, 400, "malformed_json"),
        (
            r#"{"first_name": "Anna", "phone": "0170"}"#,
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let reply = app.post("/api/v1/members", None, body);
        assert_problem(&reply, status, code);
    }
    let members = app.get("/api/v1/members");
    assert_eq!(members.body["items"].as_array().unwrap().len(), 0);
}

#[test]
fn the_same_email_cannot_join_twice() {
    let app = spawn_app();
    app.join("Anna", "anna@example.com");
    let again = app.post(
        "/api/v1/members",
        None,
        r#"{"first_name": "Anna", "email": "anna@example.com"}"#,
    );
    assert_problem(&again, 409, "contact_taken");
}

#[test]
fn the_member_list_pages_with_a_cursor() {
    let app = spawn_app();
    for i in 0..5 {
        app.join("Gast", &format!("gast{i}@example.com"));
    }
    let first = app.get("/api/v1/members?limit=3");
    assert_eq!(first.body["items"].as_array().unwrap().len(), 3);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/members?limit=3&cursor={cursor}"));
    assert_eq!(second.body["items"].as_array().unwrap().len(), 2);
    assert!(second.body["next_cursor"].is_null());
    assert_problem(
        &app.get("/api/v1/members?cursor=garbage"),
        400,
        "invalid_cursor",
    );
    assert_problem(&app.get("/api/v1/members?limit=many"), 400, "invalid_query");
}

#[test]
fn requests_without_a_valid_key_are_refused() {
    let app = spawn_app();
    assert_problem(
        &app.get_as("nonsense", "/api/v1/members"),
        401,
        "unauthenticated",
    );
    let forged = format!("{}x", app.api_key);
    assert_problem(
        &app.get_as(&forged, "/api/v1/members"),
        401,
        "unauthenticated",
    );
}

#[test]
fn adjustments_are_in_the_audit_log_with_who_and_why_and_only_for_their_business() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    let adjusted = app.post(
        &format!("/api/v1/members/{member}/adjustments"),
        Some("a1"),
        r#"{"unit": "points", "delta": 25, "reason": "Kaffee verschüttet"}"#,
    );
    assert_eq!(adjusted.status, 201, "{}", adjusted.body);
    let log = app.get("/api/v1/audit");
    assert_eq!(log.status, 200, "{}", log.body);
    let entry = &log.body["items"][0];
    assert_eq!(entry["action"], "adjust");
    assert_eq!(entry["subject"], format!("member:{member}"));
    assert!(entry["actor"].as_str().unwrap().starts_with("api_key:"));
    assert_eq!(entry["detail"]["reason"], "Kaffee verschüttet");
    let other_key = app.other_api_key.clone();
    let other = app.get_as(&other_key, "/api/v1/audit");
    assert_eq!(
        other.body["items"].as_array().unwrap().len(),
        0,
        "another business sees none of it"
    );
}
