use crate::helpers::{Backend, assert_problem, spawn_app, spawn_app_on};
use std::sync::Barrier;

#[test]
fn a_reward_is_redeemed_into_a_coupon_that_holds_its_cost_until_used() {
    let app = spawn_app();
    let member = app.join("Anna", "anna@example.com");
    app.purchase(&member, "120.00", "p1");
    let path = format!("/api/v1/members/{member}/redemptions");
    let coupon = app.post(&path, Some("r1"), r#"{"reward_id": "cake"}"#);
    assert_eq!(coupon.status, 201, "{}", coupon.body);
    assert_eq!(coupon.body["status"], "issued");
    let balance = app.member(&member);
    assert_eq!(
        (balance["points"].as_i64(), balance["points_held"].as_i64()),
        (Some(20), Some(150))
    );
    assert_problem(
        &app.post(&path, Some("r2"), r#"{"reward_id": "cake"}"#),
        409,
        "insufficient_points",
    );
    assert_problem(
        &app.post(&path, Some("r3"), r#"{"reward_id": "yacht"}"#),
        404,
        "reward_not_found",
    );
    let code = coupon.body["code"].as_str().unwrap();
    let cancelled = app.post(&format!("/api/v1/coupons/{code}/cancel"), None, "");
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(app.member(&member)["points"], 170, "the hold is released");
    assert_problem(
        &app.post(&format!("/api/v1/coupons/{code}/redeem"), None, ""),
        409,
        "coupon_cancelled",
    );
    assert_problem(
        &app.post("/api/v1/coupons/ZZZZZZZZZZZZ/redeem", None, ""),
        404,
        "coupon_not_found",
    );
}

fn fifty_concurrent_redemptions_use_a_coupon_exactly_once(backend: Backend) {
    let app = spawn_app_on(backend);
    let member = app.join("Anna", "anna@example.com");
    app.purchase(&member, "200.00", "p1");
    let coupon = app.post(
        &format!("/api/v1/members/{member}/redemptions"),
        Some("r1"),
        r#"{"reward_id": "cake"}"#,
    );
    let code = coupon.body["code"].as_str().unwrap().to_owned();
    let start = Barrier::new(50);
    let replies: Vec<_> = std::thread::scope(|scope| {
        let attempts: Vec<_> = (0..50)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    app.post(&format!("/api/v1/coupons/{code}/redeem"), None, "")
                })
            })
            .collect();
        attempts.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let succeeded = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(succeeded, 1);
    for reply in replies.iter().filter(|r| r.status != 200) {
        assert_problem(reply, 409, "coupon_already_used");
    }
    let balance = app.member(&member);
    assert_eq!(
        (balance["points"].as_i64(), balance["points_held"].as_i64()),
        (Some(100), Some(0))
    );
}

#[test]
fn fifty_concurrent_redemptions_use_a_coupon_exactly_once_on_sqlite() {
    fifty_concurrent_redemptions_use_a_coupon_exactly_once(Backend::Sqlite);
}

#[test]
fn fifty_concurrent_redemptions_use_a_coupon_exactly_once_on_postgres() {
    fifty_concurrent_redemptions_use_a_coupon_exactly_once(Backend::Postgres);
}
