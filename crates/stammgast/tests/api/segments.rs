//! Custom segments and tags through the API: a filter finds the members it says, a bad
//! filter is refused with where and why and changes nothing, a void takes a member out at
//! the next count, and one business never sees or changes another's segments or tags.

use crate::helpers::{TestApp, assert_problem, spawn_app};
use serde_json::{Value, json};

fn purchase_of(app: &TestApp, member: &str, category: &str, key: &str) -> String {
    let body = json!({
        "member_id": member, "amount": "4.50", "currency": "EUR",
        "items": [{"category": category, "amount": "4.50"}]
    });
    let reply = app.post("/api/v1/purchases", Some(key), &body.to_string());
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["event_id"].as_str().unwrap().to_owned()
}

fn segments(app: &TestApp, key: &str) -> Vec<Value> {
    let reply = app.get_as(key, "/api/v1/segments");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body.as_array().unwrap().clone()
}

fn create(app: &TestApp, name: &str, filter: &str) -> crate::helpers::Reply {
    app.post(
        "/api/v1/segments",
        None,
        &json!({"name": name, "filter": filter}).to_string(),
    )
}

#[test]
fn a_segment_finds_the_members_its_filter_describes_and_a_void_takes_one_out() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.org");
    let ben = app.join("Ben", "ben@example.org");
    let cake = purchase_of(&app, &anna, " Kuchen ", "a1");
    purchase_of(&app, &ben, "Kaffee", "b1");
    let tagged = app.put_as(
        &app.api_key,
        &format!("/api/v1/members/{anna}/tags/Stamm%20Gast"),
        "",
    );
    assert_eq!(tagged.status, 200, "{}", tagged.body);
    assert_eq!(tagged.body["tags"], json!(["stamm-gast"]));

    let preview = app.post(
        "/api/v1/segments:preview",
        None,
        r#"{"filter": "visits >= 1 and spend >= 4.50"}"#,
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["members"], 2);
    let mut names: Vec<&str> = preview.body["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["first_name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Anna", "Ben"]);

    let filter = "bought kuchen and tag \"Stamm Gast\"";
    let created = create(&app, "Kuchenfreunde", filter);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["slug"], "kuchenfreunde");
    assert_eq!(created.body["members"], 1, "Anna only: {}", created.body);
    assert_eq!(segments(&app, &app.api_key)[0]["filter"], filter);

    let voided = app.post(
        &format!("/api/v1/events/{cake}/void"),
        Some("void-cake"),
        r#"{"reason": "falsch gebucht"}"#,
    );
    assert_eq!(voided.status, 200, "{}", voided.body);
    let recounted = app.put_as(
        &app.api_key,
        "/api/v1/segments/kuchenfreunde",
        &json!({"name": "Kuchenfreunde", "filter": filter}).to_string(),
    );
    assert_eq!(recounted.status, 200, "{}", recounted.body);
    assert_eq!(
        recounted.body["members"], 0,
        "the voided purchase bought nothing"
    );

    let deleted = app.delete_as(&app.api_key, "/api/v1/segments/kuchenfreunde");
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(segments(&app, &app.api_key).is_empty());
    let untagged = app.delete_as(
        &app.api_key,
        &format!("/api/v1/members/{anna}/tags/stamm-gast"),
    );
    assert_eq!(untagged.body["tags"], json!([]));
    let again = app.delete_as(
        &app.api_key,
        &format!("/api/v1/members/{anna}/tags/stamm-gast"),
    );
    assert_problem(&again, 404, "not_found");
}

#[test]
fn a_bad_filter_is_refused_with_where_and_why_and_changes_nothing() {
    let app = spawn_app();
    for (filter, words) in [
        (
            "visits >= viele",
            "at character 11: expected a number after visits >=",
        ),
        ("tier = platin", "'platin' is not a tier"),
        ("bought", "expected a category after bought"),
        ("", "the filter is empty"),
    ] {
        let refused = create(&app, "Test", filter);
        assert_problem(&refused, 422, "validation_failed");
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains(words), "{filter}: {detail}");
        assert_eq!(
            refused.body["errors"][0]["field"], "filter",
            "{}",
            refused.body
        );
        let preview = app.post(
            "/api/v1/segments:preview",
            None,
            &json!({"filter": filter}).to_string(),
        );
        assert_problem(&preview, 422, "validation_failed");
    }
    assert_problem(&create(&app, "  ", "visits > 1"), 422, "validation_failed");
    let unknown_field = app.post(
        "/api/v1/segments",
        None,
        r#"{"name": "A", "filter": "visits > 1", "colour": "red"}"#,
    );
    assert_eq!(unknown_field.status / 100, 4, "{}", unknown_field.body);
    assert!(
        segments(&app, &app.api_key).is_empty(),
        "nothing was created"
    );
    let member = app.join("Anna", "anna@example.org");
    let bad_tag = app.put_as(
        &app.api_key,
        &format!("/api/v1/members/{member}/tags/%21%21"),
        "",
    );
    assert_problem(&bad_tag, 422, "validation_failed");
}

#[test]
fn one_business_cannot_see_or_change_another_business_segments_or_tags() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.org");
    assert_eq!(create(&app, "Alle", "visits >= 0").body["members"], 1);
    let other = &app.other_api_key;
    assert!(segments(&app, other).is_empty());
    let changed = app.put_as(
        other,
        "/api/v1/segments/alle",
        r#"{"name": "Meins", "filter": "visits >= 0"}"#,
    );
    assert_problem(&changed, 404, "not_found");
    assert_problem(
        &app.delete_as(other, "/api/v1/segments/alle"),
        404,
        "not_found",
    );
    let preview = app.post_as(
        other,
        "/api/v1/segments:preview",
        None,
        r#"{"filter": "visits >= 0"}"#,
    );
    assert_eq!(
        preview.body["members"], 0,
        "the other business has no members"
    );
    for reply in [
        app.put_as(other, &format!("/api/v1/members/{anna}/tags/vip"), ""),
        app.get_as(other, &format!("/api/v1/members/{anna}/tags")),
    ] {
        assert_problem(&reply, 404, "not_found");
    }
    let mine = segments(&app, &app.api_key);
    assert_eq!(
        (mine[0]["name"].as_str(), mine[0]["members"].as_u64()),
        (Some("Alle"), Some(1))
    );
    let tags = app.get(&format!("/api/v1/members/{anna}/tags"));
    assert_eq!(
        tags.body["tags"],
        json!([]),
        "the other business tagged nothing"
    );
}
