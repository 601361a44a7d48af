//! Journeys on a simulated clock with a real SMTP server: the win-back journey writes once
//! to a member who stayed away 60 days, in their language and with their figures; not to
//! a member without consent; not to a member held out, who is counted in the control arm;
//! never twice, even with two workers; and its unsubscribe link ends the marketing mail.

use crate::outbox::Shop;
use crate::pages::link_in;
use chrono::Duration;
use stammgast_app::journey_template;
use stammgast_core::automation::journey::Journey;

fn win_back(holdout_percent: u8) -> Journey {
    Journey {
        holdout_percent,
        ..journey_template("win_back").unwrap()
    }
}

/// The body of the one mail to `address`.
fn only_mail_to(shop: &Shop, address: &str) -> String {
    let mails = shop.mailbox.messages_to(address);
    assert_eq!(mails.len(), 1, "one mail to {address}");
    mails[0].message.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_away_for_sixty_days_gets_one_win_back_mail_in_their_language() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    app.save_journey(&caller, win_back(0)).await.unwrap();
    let anna = shop
        .member_confirmed_for_email("Anna", "anna@example.com", "de")
        .await;
    let ben = shop
        .member_confirmed_for_email("Ben", "ben@example.com", "en")
        .await;
    let cem = shop.member("Cem", "cem@example.com", "de").await;
    for member in [anna, ben, cem] {
        shop.buys(member, 12).await;
    }
    let start = app.now();

    shop.hand.set(start + Duration::days(59));
    assert_eq!(app.run_journeys(shop.business).await.unwrap(), 0, "not yet");
    shop.hand
        .set(start + Duration::days(60) + Duration::hours(1));
    // The worker's pass: it refreshes the segments, runs the journeys on the members the
    // refresh read, and delivers.
    let pass = stammgast_worker::Worker::new(app.clone(), 500)
        .pass()
        .await
        .unwrap();
    assert_eq!(
        pass.journey_enrolments, 2,
        "Anna and Ben; Cem has no consent"
    );
    app.deliver_messages(shop.business).await.unwrap();
    // Delivery started by the enrolments may still be on its way.
    shop.mailbox.wait_for("anna@example.com");
    shop.mailbox.wait_for("ben@example.com");
    let german = only_mail_to(&shop, "anna@example.com");
    assert!(german.contains("Hallo Anna,"), "{german}");
    assert!(german.contains("15 % auf deinen Einkauf"), "{german}");
    assert!(
        german.contains("Du hast übrigens 62 Punkte"),
        "50 + 12: {german}"
    );
    assert!(
        german.contains("Keine solchen Nachrichten mehr:"),
        "{german}"
    );
    assert!(german.contains("text/html"), "an HTML part too: {german}");
    let english = only_mail_to(&shop, "ben@example.com");
    assert!(english.contains("Hello Ben,"), "{english}");
    assert!(shop.mailbox.messages_to("cem@example.com").is_empty());
    // A send still in flight holds its lease for two minutes of the clock, which jumps.
    assert_eq!(shop.tried(anna, 1).await, "sent");

    shop.hand.set(start + Duration::days(63));
    assert_eq!(
        app.run_journeys(shop.business).await.unwrap(),
        0,
        "once per member and lapse"
    );
    app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(shop.mailbox.messages_to("anna@example.com").len(), 1);

    let link = link_in(&german, "/unsubscribe/");
    let token = link.trim_start_matches("/unsubscribe/");
    assert_eq!(app.unsubscribe(token).await.unwrap(), "Café Morgenrot");
    let profiles = shop.store.member_profiles(shop.business).await.unwrap();
    let anna_now = profiles
        .iter()
        .find(|p| p.aggregate.member_id == anna)
        .unwrap();
    assert!(anna_now.consents.is_empty(), "unsubscribed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_held_out_get_nothing_and_are_the_control_arm_of_the_report() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    app.save_journey(&caller, win_back(50)).await.unwrap();
    let members = shop.guests(24).await;
    let start = app.now();
    shop.hand.set(start + Duration::days(61));
    let (one, other) = (shop.app(), shop.app());
    let (a, b) = tokio::join!(
        one.run_journeys(shop.business),
        other.run_journeys(shop.business)
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        24,
        "each member enrolled once by two workers"
    );
    app.deliver_messages(shop.business).await.unwrap();
    let report = app.journey_report(&caller, "win-back").await.unwrap();
    assert_eq!(report.message.members + report.holdout.members, 24);
    assert!(
        report.holdout.members > 0 && report.message.members > 0,
        "{report:?}"
    );
    // Deliveries started by the enrolments may still be on their way.
    let mailed = || {
        members
            .iter()
            .filter(|(_, address)| !shop.mailbox.messages_to(address).is_empty())
            .count() as u64
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while mailed() < report.message.members && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(mailed(), report.message.members, "the holdout got nothing");
    for (_, address) in &members {
        assert!(shop.mailbox.messages_to(address).len() <= 1, "never twice");
    }

    // Two of them come back within the measured days.
    shop.hand.set(start + Duration::days(65));
    for (member, _) in members.iter().take(2) {
        shop.buys(*member, 20).await;
    }
    let report = app.journey_report(&caller, "win-back").await.unwrap();
    assert_eq!(report.message.returned + report.holdout.returned, 2);
    assert_eq!(
        report.message.revenue_cents + report.holdout.revenue_cents,
        4_000
    );
    assert!(report.uplift.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_entering_a_segment_gets_the_journey_on_it_once() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let anna = shop
        .member_confirmed_for_email("Anna", "anna@example.com", "de")
        .await;
    shop.buys(anna, 4).await;
    let on = |segment: &str| Journey {
        holdout_percent: 0,
        trigger: stammgast_core::automation::journey::Trigger::EnteredSegment {
            segment: segment.into(),
        },
        active: true,
        ..journey_template("vip").unwrap()
    };
    let refused = app.save_journey(&caller, on("custom:kaeufer")).await;
    assert!(
        matches!(&refused, Err(stammgast_app::AppError::Invalid { field, .. }) if field == "trigger.segment"),
        "{refused:?}"
    );
    app.save_custom_segment(&caller, None, "Käufer", "visits >= 1")
        .await
        .unwrap();
    app.save_journey(&caller, on("custom:kaeufer"))
        .await
        .unwrap();
    assert_eq!(
        app.run_journeys(shop.business).await.unwrap(),
        1,
        "Anna entered"
    );
    assert_eq!(app.run_journeys(shop.business).await.unwrap(), 0, "once");
    app.deliver_messages(shop.business).await.unwrap();
    let mail = shop.mailbox.wait_for("anna@example.com");
    assert!(mail.message.contains("Als Stammgast"), "{}", mail.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_template_the_setup_offers_is_a_valid_journey_in_both_languages() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    for name in stammgast_app::JOURNEY_TEMPLATES {
        let journey = app.journey_from_template(&caller, name).await.unwrap();
        assert!(!journey.active, "{name} starts paused");
        assert_ne!(
            journey.message.de.subject, journey.message.en.subject,
            "{name}"
        );
    }
    let again = app
        .journey_from_template(&caller, "win_back")
        .await
        .unwrap();
    assert_eq!(
        again.slug.as_str(),
        "win-back-2",
        "a second one gets a slug of its own"
    );
    assert_eq!(
        app.journeys(&caller).await.unwrap().len(),
        stammgast_app::JOURNEY_TEMPLATES.len() + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_campaign_goes_once_at_its_time_to_the_segment_it_names() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let anna = shop
        .member_confirmed_for_email("Anna", "anna@example.com", "de")
        .await;
    shop.member_confirmed_for_email("Ben", "ben@example.com", "de")
        .await;
    shop.buys(anna, 4).await;
    app.save_custom_segment(&caller, None, "Käufer", "visits >= 1")
        .await
        .unwrap();
    let set_up = app
        .journey_from_template(&caller, "campaign")
        .await
        .unwrap();
    let send_at = app.now() + Duration::hours(1);
    let campaign = Journey {
        trigger: stammgast_core::automation::journey::Trigger::Campaign {
            segment: "custom:kaeufer".into(),
            send_at,
        },
        holdout_percent: 0,
        active: true,
        ..set_up
    };
    app.save_journey(&caller, campaign).await.unwrap();
    assert_eq!(app.run_journeys(shop.business).await.unwrap(), 0, "not yet");
    shop.hand.set(send_at + Duration::minutes(5));
    assert_eq!(
        app.run_journeys(shop.business).await.unwrap(),
        1,
        "Anna only"
    );
    assert_eq!(app.run_journeys(shop.business).await.unwrap(), 0, "once");
    app.deliver_messages(shop.business).await.unwrap();
    shop.mailbox.wait_for("anna@example.com");
    assert!(shop.mailbox.messages_to("ben@example.com").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_arm_gets_the_journeys_points_through_the_ledger_once_and_its_tag() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let generous = Journey {
        grant_points: 25,
        add_tag: Some(stammgast_core::ids::Slug::parse("zurueckgeholt").unwrap()),
        ..win_back(0)
    };
    app.save_journey(&caller, generous).await.unwrap();
    let anna = shop
        .member_confirmed_for_email("Anna", "anna@example.com", "de")
        .await;
    shop.buys(anna, 12).await;
    let points = |app: &stammgast_app::App| {
        let app = app.clone();
        let caller = caller.clone();
        async move {
            app.member(&caller, anna)
                .await
                .unwrap()
                .state
                .points
                .available()
        }
    };
    assert_eq!(points(&app).await, 62);
    shop.hand.set(app.now() + Duration::days(61));
    assert_eq!(app.run_journeys(shop.business).await.unwrap(), 1);
    for _ in 0..2 {
        app.deliver_messages(shop.business).await.unwrap();
    }
    shop.mailbox.wait_for("anna@example.com");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while points(&app).await == 62 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(points(&app).await, 62 + 25, "booked once");
    assert_eq!(app.run_journeys(shop.business).await.unwrap(), 0);
    app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(points(&app).await, 62 + 25, "still once");
    let tags = app.member_tags(&caller, anna).await.unwrap();
    assert_eq!(
        tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["zurueckgeholt"]
    );
    let audit = shop.store.audit_log(shop.business, None, 10).await.unwrap();
    assert!(
        audit.items.iter().any(|a| a.actor == "journey:win-back"),
        "the booking is audited: {:?}",
        audit.items
    );
}

#[test]
fn an_integrator_sets_up_changes_and_reads_a_journey_through_the_api_of_its_own_business_only() {
    let app = crate::helpers::spawn_app();
    let created = app.post(
        "/api/v1/journeys:from-template",
        None,
        r#"{"template": "win_back"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["slug"], "win-back");
    assert_eq!(created.body["active"], false, "it starts paused");
    let unknown = app.post(
        "/api/v1/journeys:from-template",
        None,
        r#"{"template": "spam"}"#,
    );
    crate::helpers::assert_problem(&unknown, 422, "validation_failed");

    let mut journey = created.body.clone();
    journey["active"] = true.into();
    journey["holdout_percent"] = 20.into();
    journey["trigger"]["days"] = 45.into();
    let saved = app.put_as(
        &app.api_key,
        "/api/v1/journeys/win-back",
        &journey.to_string(),
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.body["journey"]["holdout_percent"], 20);
    assert_eq!(saved.body["message"]["members"], 0);
    assert!(saved.body["uplift"].is_null(), "nothing measured yet");
    let listed = app.get("/api/v1/journeys");
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["journey"]["active"], true);
    assert_eq!(listed.body[0]["journey"]["trigger"]["days"], 45);

    let mut typo = journey.clone();
    typo["holdout"] = 5.into();
    let refused = app.put_as(&app.api_key, "/api/v1/journeys/win-back", &typo.to_string());
    crate::helpers::assert_problem(&refused, 422, "validation_failed");
    let elsewhere = app.put_as(&app.api_key, "/api/v1/journeys/other", &journey.to_string());
    crate::helpers::assert_problem(&elsewhere, 422, "validation_failed");
    let mut too_many = journey.clone();
    too_many["holdout_percent"] = 80.into();
    let refused = app.put_as(
        &app.api_key,
        "/api/v1/journeys/win-back",
        &too_many.to_string(),
    );
    crate::helpers::assert_problem(&refused, 422, "validation_failed");
    assert_eq!(
        app.get("/api/v1/journeys/win-back").body["journey"]["holdout_percent"],
        20,
        "a refused change changes nothing"
    );
    assert_eq!(
        app.get("/api/v1/journeys/win-back/audience").body["members"],
        0
    );

    let other = &app.other_api_key;
    assert_eq!(app.get_as(other, "/api/v1/journeys/win-back").status, 404);
    assert_eq!(
        app.get_as(other, "/api/v1/journeys").body,
        serde_json::json!([])
    );
    assert_eq!(
        app.get_as(other, "/api/v1/journeys/win-back/audience")
            .status,
        404
    );
}

#[test]
fn an_integration_records_and_withdraws_consents_per_channel_with_their_proof() {
    let app = crate::helpers::spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let path = |channel: &str| format!("/api/v1/members/{anna}/consents/{channel}");
    let proof = r#"{"text_version": "app-2026-12", "source": "app"}"#;
    let consenting = |filter: &str| {
        let body = format!(r#"{{"filter": "{filter}"}}"#);
        app.post("/api/v1/segments:preview", None, &body).body["members"].clone()
    };
    let no_phone = app.put_as(&app.api_key, &path("sms"), proof);
    crate::helpers::assert_problem(&no_phone, 422, "validation_failed");
    crate::helpers::assert_problem(
        &app.put_as(&app.api_key, &path("fax"), proof),
        422,
        "validation_failed",
    );
    crate::helpers::assert_problem(
        &app.put_as(&app.api_key, &path("push"), "{}"),
        422,
        "validation_failed",
    );
    let pushed = app.put_as(&app.api_key, &path("push"), proof);
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let push = pushed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "push")
        .unwrap();
    assert_eq!(
        (push["source"].as_str(), push["text_version"].as_str()),
        (Some("app"), Some("app-2026-12"))
    );
    assert_eq!(consenting("consent push"), 1);

    let mailed = app.put_as(&app.api_key, &path("email"), proof);
    assert_eq!(mailed.status, 200, "{}", mailed.body);
    let mail = app.mailbox.wait_for("anna@example.com");
    assert!(
        mail.message.contains("/consent/confirm/"),
        "the double opt-in"
    );
    assert_eq!(consenting("consent email"), 0, "not before it is confirmed");

    let elsewhere = app.delete_as(&app.other_api_key, &path("push"));
    assert_eq!(
        elsewhere.status, 404,
        "another business's key changes nothing"
    );
    assert_eq!(consenting("consent push"), 1);
    let withdrawn = app.delete_as(&app.api_key, &path("push"));
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    assert_eq!(consenting("consent push"), 0);
}
