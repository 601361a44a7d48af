//! What a journey does besides writing, on a simulated clock with a real SMTP server: a
//! coupon given once through the ledger and shown with its QR code, even when the mail
//! needs a second try; the milestones an event brings (one stamp short) as triggers; an
//! A/B test splitting the members not held out; and the NPS survey answered from the mail.

use crate::outbox::Shop;
use crate::pages::link_in;
use chrono::Duration;
use stammgast_app::{NewEventKind, SurveyAnswer, journey_template};
use stammgast_core::automation::journey::{Arm, Journey};
use stammgast_core::automation::message::MessageText;
use stammgast_core::ids::{MemberId, Slug};

/// Moves the shop's clock on.
fn advance(shop: &Shop, by: Duration) {
    shop.hand.set(shop.app().now() + by);
}

/// Runs the journeys, delivers, and returns how many members were enrolled.
async fn run(shop: &Shop) -> usize {
    let app = shop.app();
    let enrolled = app.run_journeys(shop.business).await.unwrap();
    app.deliver_messages(shop.business).await.unwrap();
    enrolled
}

/// The text after `label` up to the end of its line.
fn after<'a>(message: &'a str, label: &str) -> &'a str {
    let start = message
        .find(label)
        .unwrap_or_else(|| panic!("\"{label}\" in {message}"))
        + label.len();
    message[start..].lines().next().unwrap().trim()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journeys_coupon_is_given_once_through_the_ledger_and_shown_with_its_qr_code() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let mut journey = journey_template("win_back").unwrap();
    journey.holdout_percent = 0;
    journey.message.de.body = "Hallo {first_name}, dein Code: {coupon_code}".into();
    let without_coupon = app.save_journey(&caller, journey.clone()).await;
    assert!(
        matches!(&without_coupon, Err(stammgast_app::AppError::Invalid { field, .. }) if field == "issue_coupon"),
        "{{coupon_code}} needs a coupon: {without_coupon:?}"
    );
    journey.issue_coupon = Some(Slug::parse("no-such-reward").unwrap());
    assert!(app.save_journey(&caller, journey.clone()).await.is_err());
    journey.issue_coupon = Some(Slug::parse("cake").unwrap());
    app.save_journey(&caller, journey).await.unwrap();
    // The server says "later" to this address once: the coupon must not be given twice.
    let anna = shop
        .member_confirmed_for_email("Anna", "busy.anna@example.com", "de")
        .await;
    shop.buys(anna, 12).await;
    let start = app.now();
    shop.hand
        .set(start + Duration::days(60) + Duration::hours(1));
    assert_eq!(run(&shop).await, 1);
    assert_eq!(
        shop.tried(anna, 1).await,
        "pending",
        "the server said later"
    );
    assert!(shop.mailbox.messages_to("busy.anna@example.com").is_empty());
    shop.hand
        .set(start + Duration::days(60) + Duration::hours(2));
    app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(shop.tried(anna, 2).await, "sent");

    let mail = shop.mailbox.wait_for("busy.anna@example.com").message;
    assert_eq!(shop.mailbox.attempts_to("busy.anna@example.com"), 2);
    let code = after(&mail, "dein Code:").to_owned();
    assert_eq!(
        after(&mail, "Dein Gutschein (an der Kasse zeigen):"),
        code,
        "{mail}"
    );
    assert!(
        mail.contains(&format!(
            "<img src=\"http://shop.example/coupon-qr/{code}\""
        )),
        "{mail}"
    );
    let coupons = shop
        .store
        .member_coupons(shop.business, anna)
        .await
        .unwrap();
    assert_eq!(coupons.len(), 1, "one coupon for two tries of the mail");
    assert_eq!(coupons[0].code.as_str(), code);
    assert_eq!(coupons[0].reward_id.as_str(), "cake");
    let member = shop
        .store
        .member(shop.business, anna)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        member.state.points.available(),
        62,
        "a present costs no points"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stamp_short_writes_right_after_the_stamp_before_the_last_with_what_is_missing() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let journey = Journey {
        active: true,
        holdout_percent: 0,
        ..journey_template("one_stamp_short").unwrap()
    };
    app.save_journey(&caller, journey).await.unwrap();
    let anna = shop
        .member_confirmed_for_email("Anna", "anna@example.com", "de")
        .await;
    // The coffee card takes 10 stamps, 3 a day at most: a visit is a stamp.
    for visit in 1..=9 {
        if visit % 3 == 1 && visit > 1 {
            advance(&shop, Duration::days(1));
        }
        shop.records(anna, NewEventKind::Visit).await;
        let enrolled = run(&shop).await;
        assert_eq!(enrolled, usize::from(visit == 9), "after visit {visit}");
    }
    let mail = shop.mailbox.wait_for("anna@example.com").message;
    assert!(
        mail.contains("fehlt nur noch ein Stempel bis Kaffee aufs Haus"),
        "{mail}"
    );
    advance(&shop, Duration::hours(3));
    assert_eq!(run(&shop).await, 0, "once per milestone");
    let milestones = shop
        .store
        .segment_transitions(shop.business, app.now() - Duration::days(5), 10)
        .await
        .unwrap();
    assert!(
        milestones
            .iter()
            .any(|t| t.member_id == anna && t.segment == "stamp-short:coffee" && t.entered),
        "{milestones:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ab_test_sends_each_member_not_held_out_one_of_two_versions_and_reports_both() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let template = journey_template("win_back").unwrap();
    let mut variant_b = template.message.clone();
    variant_b.de = MessageText {
        subject: "Lange nicht gesehen, {first_name}".into(),
        body: "Hallo {first_name}, komm mal wieder vorbei.".into(),
    };
    let journey = Journey {
        holdout_percent: 20,
        variant_b: Some(variant_b),
        ..template
    };
    app.save_journey(&caller, journey.clone()).await.unwrap();
    let members = shop.guests(30).await;
    advance(&shop, Duration::days(60) + Duration::hours(1));
    assert_eq!(run(&shop).await, 30, "everyone is enrolled in an arm");
    let mut arms = std::collections::HashMap::new();
    for (member, address) in &members {
        let arm = journey.arm_of(*member);
        *arms.entry(arm).or_insert(0_u64) += 1;
        let mails = shop.mailbox.messages_to(address);
        let expected_subject = match arm {
            Arm::Message => Some("Wir vermissen dich, Gast!"),
            Arm::VariantB => Some("Lange nicht gesehen, Gast"),
            Arm::Holdout => None,
        };
        match expected_subject {
            Some(subject) => {
                let mail = shop.mailbox.wait_for(address).message;
                assert!(mail.contains(subject), "{arm:?}: {mail}");
            }
            None => assert!(mails.is_empty(), "held out: {address}"),
        }
    }
    assert!(
        arms.get(&Arm::Message) > Some(&0) && arms.get(&Arm::VariantB) > Some(&0),
        "{arms:?}"
    );
    let report = app.journey_report(&caller, "win-back").await.unwrap();
    let (b, _) = report.variant_b.unwrap();
    assert_eq!(b.members, arms[&Arm::VariantB]);
    assert_eq!(report.message.members, arms[&Arm::Message]);
    assert_eq!(
        report.holdout.members,
        arms.get(&Arm::Holdout).copied().unwrap_or(0)
    );
}

/// The survey journey started, a member with a confirmed consent who bought something,
/// and the survey's mail the day after (none on the day itself).
async fn surveyed(shop: &Shop, name: &str, language: &str) -> (MemberId, String) {
    let caller = shop.caller().await;
    let journey = Journey {
        active: true,
        ..journey_template("nps_survey").unwrap()
    };
    shop.app().save_journey(&caller, journey).await.unwrap();
    let address = format!("{}@example.com", name.to_lowercase());
    let member = shop
        .member_confirmed_for_email(name, &address, language)
        .await;
    shop.buys(member, 9).await;
    assert_eq!(run(shop).await, 0, "not on the day of the visit");
    advance(shop, Duration::hours(25));
    assert_eq!(run(shop).await, 1);
    (member, shop.mailbox.wait_for(&address).message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_survey_after_a_visit_is_answered_from_the_mail_and_counts_in_the_nps() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let (ben, mail) = surveyed(&shop, "Ben", "en").await;
    assert!(
        mail.contains("How likely are you to recommend us"),
        "{mail}"
    );
    let link = link_in(&mail, "/survey/");
    let token = link.trim_start_matches("/survey/");
    for score in 0..=10 {
        assert!(mail.contains(&format!("{link}?score={score}\"")), "{mail}");
    }
    let survey = app.survey(token).await.unwrap();
    assert_eq!(
        (survey.first_name.as_str(), survey.language.as_str()),
        ("Ben", "en")
    );
    let too_high = SurveyAnswer {
        score: 11,
        comment: String::new(),
        publish: false,
    };
    assert!(app.answer_survey(token, too_high).await.is_err());
    assert!(app.survey_comments(&caller).await.unwrap().is_empty());
    let first = SurveyAnswer {
        score: 6,
        comment: "Good cake".into(),
        publish: false,
    };
    app.answer_survey(token, first).await.unwrap();
    let again = SurveyAnswer {
        score: 10,
        comment: "Best cake in town".into(),
        publish: true,
    };
    app.answer_survey(token, again).await.unwrap();
    let comments = app.survey_comments(&caller).await.unwrap();
    assert_eq!(comments.len(), 1, "answering again replaces the answer");
    assert_eq!(
        (comments[0].score, comments[0].comment.as_str()),
        (10, "Best cake in town")
    );
    assert!(comments[0].publish_consent_at.is_some());
    let nps = shop
        .store
        .nps_answers(
            shop.business,
            app.now() - Duration::days(1),
            app.now() + Duration::days(1),
            None,
        )
        .await
        .unwrap();
    assert_eq!(nps.promoters + nps.passives + nps.detractors, 1, "{nps:?}");
    assert_eq!(nps.promoters, 1);
    advance(&shop, Duration::days(20));
    shop.buys(ben, 4).await;
    advance(&shop, Duration::hours(25));
    assert_eq!(
        run(&shop).await,
        0,
        "one survey a quarter, however often he comes"
    );
    assert!(
        app.survey("not-a-link").await.is_err(),
        "an unknown link opens nothing"
    );
}

#[test]
fn the_qr_image_of_a_mailed_coupon_reads_as_its_code_and_nothing_else_is_drawn() {
    let app = crate::helpers::spawn_app();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut reply = agent
        .get(format!("{}/coupon-qr/K7Q2-M9XA", app.address))
        .call()
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "image/png");
    let png = reply.body_mut().read_to_vec().unwrap();
    let path = std::env::temp_dir().join(format!("coupon-{}.png", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, png).unwrap();
    let decoded = crate::office::decode(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(decoded, "K7Q2M9XA");
    let refused = agent
        .get(format!(
            "{}/coupon-qr/https:%2F%2Fevil.example",
            app.address
        ))
        .call()
        .unwrap();
    assert_eq!(refused.status(), 404, "only coupon codes are drawn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_answers_the_mailed_survey_on_a_phone_and_the_office_reads_the_comment() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let app = shop.app();
    let (_, mail) = surveyed(&shop, "Lea", "de").await;
    // As if she tapped the 9 in the mail.
    let tapped = format!("{}?score=9", link_in(&mail, "/survey/"));
    let owner = stammgast_app::NewStaffAccount {
        email: crate::helpers::OWNER.0.into(),
        name: "Lena".into(),
        role: stammgast_core::member::StaffRole::Owner,
        password: crate::helpers::OWNER.1.into(),
    };
    app.create_staff(shop.business, owner).await.unwrap();
    let server = shop.serve().await;
    let reviews = tokio::task::spawn_blocking(move || {
        crate::browser::journey_with(&server, "survey", None, &[("LINK", &tapped)]);
        crate::office::owner(&server).get("/office/reviews")
    })
    .await
    .unwrap();
    assert!(
        reviews.html.contains("Der beste Kuchen der Stadt")
            && reviews.html.contains("erlaubt seit"),
        "{}",
        reviews.html
    );
    let comments = app.survey_comments(&caller).await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (comments[0].first_name.as_str(), comments[0].score),
        ("Lea", 10)
    );
    assert_eq!(comments[0].comment, "Der beste Kuchen der Stadt");
    assert!(comments[0].publish_consent_at.is_some(), "she allowed it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_on_sms_goes_through_the_providers_webhook_once_to_those_who_agreed_to_sms() {
    use stammgast_core::member::{Channel, Consent, ConsentPurpose};
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let journey = Journey {
        holdout_percent: 0,
        channel: Channel::Sms,
        ..journey_template("win_back").unwrap()
    };
    let refused = shop.app().save_journey(&caller, journey.clone()).await;
    assert!(
        matches!(&refused, Err(stammgast_app::AppError::Invalid { field, .. }) if field == "channel"),
        "no provider, no SMS journeys: {refused:?}"
    );
    // The provider is busy at first.
    let (url, provider) = crate::webhook::Provider::start(&[503]);
    let texter = stammgast_mail::WebhookTexter::new(&url, "geheim").unwrap();
    let app = shop.app().with_texter(std::sync::Arc::new(texter));
    app.save_journey(&caller, journey).await.unwrap();
    let mut members = Vec::new();
    for (name, phone, sms) in [
        ("Anna", "+491701234567", true),
        ("Ben", "+491707654321", false),
    ] {
        let join = stammgast_app::JoinMember {
            first_name: name.into(),
            phone: Some(phone.into()),
            language: Some("de".into()),
            ..stammgast_app::JoinMember::default()
        };
        let Ok(stammgast_core::batch::Outcome::Joined { member_id, .. }) =
            app.join_member(&caller, None, join).await
        else {
            panic!("{name} joins");
        };
        if sms {
            let consent = Consent {
                purpose: ConsentPurpose::Marketing(Channel::Sms),
                text_version: "test".into(),
                source: "test".into(),
            };
            shop.store
                .change_consents(shop.business, member_id, vec![consent], vec![], app.now())
                .await
                .unwrap();
        }
        shop.buys(member_id, 12).await;
        members.push(member_id);
    }
    advance(&shop, Duration::days(60) + Duration::hours(1));
    assert_eq!(
        app.run_journeys(shop.business).await.unwrap(),
        1,
        "Anna only"
    );
    app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(
        shop.tried(members[0], 1).await,
        "pending",
        "the provider was busy"
    );
    advance(&shop, Duration::minutes(2));
    app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(shop.tried(members[0], 2).await, "sent");
    let received = provider.received();
    assert_eq!(received.len(), 2, "a retry after the 503: {received:?}");
    assert_eq!(
        received[0].body["id"], received[1].body["id"],
        "the same message"
    );
    let sms = &received[1];
    assert_eq!(sms.authorization, "Bearer geheim");
    assert_eq!(sms.body["channel"], "sms");
    assert_eq!(sms.body["to"], "+491701234567");
    let text = sms.body["text"].as_str().unwrap();
    assert!(
        text.starts_with("Wir vermissen dich, Anna!\nHallo Anna,"),
        "{text}"
    );
    assert!(!text.contains("<p>"), "no HTML in an SMS: {text}");
    advance(&shop, Duration::minutes(2));
    app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(provider.received().len(), 2, "nothing more once delivered");

    let link = link_in(text, "/unsubscribe/");
    app.unsubscribe(link.trim_start_matches("/unsubscribe/"))
        .await
        .unwrap();
    let profiles = shop.store.member_profiles(shop.business).await.unwrap();
    let anna = profiles
        .iter()
        .find(|p| p.aggregate.member_id == members[0])
        .unwrap();
    assert!(
        !anna.consents.contains(&Channel::Sms),
        "the SMS's link ends the SMS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_card_shows_the_message_a_journey_sent_in_its_message_box() {
    let shop = Shop::open().await;
    let caller = shop.caller().await;
    let journey = Journey {
        holdout_percent: 0,
        ..journey_template("win_back").unwrap()
    };
    shop.app().save_journey(&caller, journey).await.unwrap();
    let server = shop.serve().await;
    let business = shop.business.to_string();
    let (mut guest, card) = tokio::task::spawn_blocking(move || {
        let mut guest = crate::visitor::Visitor::new(&server.address, "de");
        let fields = [
            ("first_name", "Mia"),
            ("email", "mia@example.com"),
            ("terms", "yes"),
            ("marketing_email", "yes"),
        ];
        assert_eq!(
            guest.post(&format!("/join/{business}"), &fields).status,
            303
        );
        let mail = server.mailbox.wait_for("mia@example.com");
        let confirmed = guest.get(&link_in(&mail.message, "/consent/confirm/"));
        assert_eq!(confirmed.status, 200);
        let card = guest.get("/card");
        (guest, card)
    })
    .await
    .unwrap();
    assert!(
        !card.html.contains("data-testid=\"messages\""),
        "no messages yet"
    );
    let email = stammgast_core::member::Email::parse("mia@example.com").unwrap();
    let mia = shop
        .store
        .member_by_email(shop.business, &email)
        .await
        .unwrap()
        .unwrap()
        .id;
    shop.buys(mia, 6).await;
    advance(&shop, Duration::days(60) + Duration::hours(1));
    assert_eq!(run(&shop).await, 1);
    assert_eq!(shop.tried(mia, 1).await, "sent");
    let card = tokio::task::spawn_blocking(move || guest.get("/card"))
        .await
        .unwrap();
    assert_eq!(card.status, 200);
    assert!(
        card.html.contains("data-testid=\"messages\""),
        "{}",
        card.html
    );
    assert!(
        card.html.contains("Wir vermissen dich, Mia!"),
        "{}",
        card.html
    );
}
