//! The card and counter pages over HTTP, without a browser: joining, the card, staff
//! login, and counter actions, with their refusals and tenant isolation.

use crate::helpers::{CASHIER, OTHER_CASHIER, spawn_app};
use crate::visitor::Visitor;

fn join_form<'a>(first_name: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("first_name", first_name),
        ("email", email),
        ("phone", ""),
        ("terms", "yes"),
    ]
}

#[test]
fn joining_on_the_shop_page_shows_the_card_with_the_signup_bonus_in_german_and_english() {
    let app = spawn_app();
    for (language, greeting, points_label) in [
        ("de", "Hallo Anna!", "Punkte"),
        ("en", "Hello Anna!", "Points"),
    ] {
        let mut customer = Visitor::new(&app.address, language);
        let join_path = format!("/join/{}", app.business_id);
        let form = customer.get(&join_path);
        assert_eq!(form.status, 200);
        assert!(form.html.contains(&format!("<html lang=\"{language}\">")));

        let email = format!("anna-{language}@example.com");
        let joined = customer.post(&join_path, &join_form("Anna", &email));
        assert_eq!(joined.status, 303, "{}", joined.html);
        assert_eq!(joined.location.as_deref(), Some("/card"));

        let card = customer.get("/card");
        assert_eq!(card.status, 200);
        assert!(card.html.contains(greeting), "{}", card.html);
        assert!(card.html.contains(points_label));
        assert!(
            card.html.contains("data-testid=\"points\">50<"),
            "the sign-up bonus is on the card"
        );
        assert!(
            card.html.contains("<svg role=\"img\""),
            "the member QR code is drawn"
        );
    }
    let members = app.get("/api/v1/members");
    let languages: Vec<_> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["language"].clone())
        .collect();
    assert_eq!(
        languages,
        ["de", "en"],
        "each member keeps the language they joined in"
    );
}

#[test]
fn a_join_form_with_mistakes_says_what_to_fix_and_creates_no_member() {
    let app = spawn_app();
    let join_path = format!("/join/{}", app.business_id);
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("first_name", "Anna"), ("email", "anna@example.com")],
            "Bitte stimme den Teilnahmebedingungen zu.",
        ),
        (
            &[
                ("first_name", " "),
                ("email", "anna@example.com"),
                ("terms", "yes"),
            ],
            "Bitte gib deinen Vornamen an",
        ),
        (
            &[("first_name", "Anna"), ("email", "anna@"), ("terms", "yes")],
            "Bitte gib eine gültige E-Mail-Adresse an",
        ),
        (
            &[("first_name", "Anna"), ("terms", "yes")],
            "Bitte gib eine E-Mail-Adresse oder eine Handynummer an.",
        ),
        (
            &[("first_name", "Anna"), ("phone", "0151"), ("terms", "yes")],
            "Bitte gib deine Handynummer mit Ländervorwahl an",
        ),
        (
            &[
                ("first_name", "Anna"),
                ("email", "anna@example.com"),
                ("terms", "yes"),
                ("marketing_sms", "yes"),
            ],
            "Für Angebote per SMS brauchen wir deine Handynummer.",
        ),
    ];
    for (fields, message) in cases {
        let mut customer = Visitor::new(&app.address, "de");
        let page = customer.post(&join_path, fields);
        assert_eq!(page.status, 422, "{fields:?}");
        assert!(page.html.contains(message), "{fields:?}: {}", page.html);
        assert!(page.html.contains("role=\"alert\""));
        assert!(
            customer.get("/card").status == 401,
            "no card session after a refused join"
        );
    }
    let members = app.get("/api/v1/members");
    assert_eq!(members.body["items"].as_array().unwrap().len(), 0);
}

#[test]
fn joining_again_with_the_same_email_is_refused_with_a_clear_message() {
    let app = spawn_app();
    let join_path = format!("/join/{}", app.business_id);
    let mut first = Visitor::new(&app.address, "en");
    assert_eq!(
        first
            .post(&join_path, &join_form("Anna", "anna@example.com"))
            .status,
        303
    );
    let mut second = Visitor::new(&app.address, "en");
    let page = second.post(&join_path, &join_form("Anna", "ANNA@example.com"));
    assert_eq!(page.status, 422);
    assert!(
        page.html
            .contains("There is already a card here with this email address or number.")
    );
}

#[test]
fn a_join_page_of_an_unknown_business_is_not_found() {
    let app = spawn_app();
    let mut customer = Visitor::new(&app.address, "en");
    assert_eq!(customer.get("/join/not-a-business").status, 404);
    assert_eq!(
        customer
            .get("/join/0190aaaa-0000-7000-8000-000000000000")
            .status,
        404
    );
}

#[test]
fn the_card_page_and_counter_need_a_session() {
    let app = spawn_app();
    let mut visitor = Visitor::new(&app.address, "de");
    assert_eq!(visitor.get("/card").status, 401);
    let counter = visitor.get("/counter");
    assert_eq!(
        (counter.status, counter.location.as_deref()),
        (303, Some("/login"))
    );
}

#[test]
fn a_wrong_password_is_refused_and_repeated_failures_lock_the_login_for_a_while() {
    let app = spawn_app();
    let mut visitor = Visitor::new(&app.address, "en");
    for _ in 0..5 {
        let page = visitor.post(
            "/login",
            &[("email", CASHIER.0), ("password", "wrong-password")],
        );
        assert_eq!(page.status, 401);
        assert!(page.html.contains("Email or password is wrong."));
    }
    let locked = visitor.post("/login", &[("email", CASHIER.0), ("password", CASHIER.1)]);
    assert_eq!(locked.status, 429, "locked even with the right password");
    assert!(locked.html.contains("Too many attempts"));
    visitor.log_in(OTHER_CASHIER);
}

/// Joins a member through the API and returns (id, code).
fn member(app: &crate::helpers::TestApp, email: &str) -> (String, String) {
    let reply = app.post(
        "/api/v1/members",
        None,
        &format!(r#"{{"first_name": "Ben", "email": "{email}", "phone": "+49 151 1234 5678"}}"#),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    (
        reply.body["id"].as_str().unwrap().to_owned(),
        reply.body["code"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_cashier_finds_a_member_by_code_qr_email_or_phone() {
    let app = spawn_app();
    let (id, code) = member(&app, "ben@example.com");
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.log_in(CASHIER);
    let lowercase_code = code.to_lowercase();
    let qr = format!("SG1:{code}");
    for query in [
        code.as_str(),
        lowercase_code.as_str(),
        qr.as_str(),
        "BEN@example.com",
        "0049 151 12345678",
    ] {
        let found = cashier.get(&format!(
            "/counter?q={}",
            query
                .replace('+', "%2B")
                .replace(' ', "+")
                .replace(':', "%3A")
                .replace('@', "%40")
        ));
        assert_eq!(
            found.location,
            Some(format!("/counter/members/{id}")),
            "{query}"
        );
    }
    let missing = cashier.get("/counter?q=ZZZZZZZZ");
    assert_eq!(missing.status, 404);
    assert!(missing.html.contains("Keine Karte gefunden"));
}

#[test]
fn a_purchase_booked_at_the_counter_earns_once_even_when_the_form_is_sent_again() {
    let app = spawn_app();
    let (id, _) = member(&app, "ben@example.com");
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.log_in(CASHIER);
    let page = cashier.get(&format!("/counter/members/{id}"));
    let (csrf, key) = (page.hidden("csrf"), page.hidden("key"));
    let path = format!("/counter/members/{id}/purchase");
    let fields = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("amount", "12,40"),
        ("category", "coffee"),
    ];
    for _ in 0..2 {
        let booked = cashier.post(&path, &fields);
        assert_eq!(booked.status, 200, "{}", booked.html);
        assert!(
            booked.html.contains("Gebucht: 12 Punkte, 1 Stempel"),
            "{}",
            booked.html
        );
    }
    let balance = app.member(&id);
    assert_eq!(
        balance["points"], 62,
        "50 for joining + 12 for 12,40 €, booked once"
    );
    assert_eq!(balance["stamps"]["coffee"], 1);

    let stamp = cashier.post(
        &format!("/counter/members/{id}/stamp"),
        &[
            ("csrf", &csrf),
            ("key", &page.hidden("key").replace('-', "0")),
        ],
    );
    assert_eq!(stamp.status, 200);
    assert_eq!(app.member(&id)["stamps"]["coffee"], 2);
}

#[test]
fn counter_posts_without_the_session_token_or_with_a_bad_amount_change_nothing() {
    let app = spawn_app();
    let (id, _) = member(&app, "ben@example.com");
    let mut cashier = Visitor::new(&app.address, "en");
    cashier.log_in(CASHIER);
    let page = cashier.get(&format!("/counter/members/{id}"));
    let path = format!("/counter/members/{id}/purchase");
    let forged = cashier.post(
        &path,
        &[("csrf", "forged"), ("key", "k1"), ("amount", "10")],
    );
    assert_eq!(forged.status, 403);
    assert!(forged.html.contains("This form has expired"));
    for amount in ["", "abc", "-5", "0"] {
        let refused = cashier.post(
            &path,
            &[
                ("csrf", &page.hidden("csrf")),
                ("key", "k2"),
                ("amount", amount),
            ],
        );
        assert_eq!(refused.status, 422, "{amount}");
        assert!(refused.html.contains("Please enter an amount like 4.50."));
    }
    assert_eq!(app.member(&id)["points"], 50, "only the sign-up bonus");
}

#[test]
fn a_cashier_redeems_a_reward_and_uses_the_coupon_in_the_same_screen() {
    let app = spawn_app();
    let (id, _) = member(&app, "ben@example.com");
    assert_eq!(app.purchase(&id, "120.00", "p1").status, 201);
    let mut cashier = Visitor::new(&app.address, "en");
    cashier.log_in(CASHIER);
    let page = cashier.get(&format!("/counter/members/{id}"));
    assert!(
        page.html.contains("name=\"reward\" value=\"cake\""),
        "150 points reach the cake"
    );
    let csrf = page.hidden("csrf");
    let redeemed = cashier.post(
        &format!("/counter/members/{id}/redeem"),
        &[("csrf", &csrf), ("key", "r1"), ("reward", "cake")],
    );
    assert_eq!(redeemed.status, 200, "{}", redeemed.html);
    assert!(redeemed.html.contains("issued"), "{}", redeemed.html);
    let coupon = redeemed.hidden("coupon");
    let used = cashier.post(
        &format!("/counter/members/{id}/coupons/use"),
        &[("csrf", &csrf), ("key", "u1"), ("coupon", &coupon)],
    );
    assert_eq!(used.status, 200);
    assert!(used.html.contains(&format!("Coupon {coupon} used.")));
    assert_eq!(app.member(&id)["points"], 50 + 120 - 150);
}

#[test]
fn a_cashier_cannot_open_or_book_for_a_member_of_another_business() {
    let app = spawn_app();
    let (id, code) = member(&app, "ben@example.com");
    let mut other = Visitor::new(&app.address, "en");
    other.log_in(OTHER_CASHIER);
    assert_eq!(other.get(&format!("/counter/members/{id}")).status, 404);
    assert_eq!(other.get(&format!("/counter?q={code}")).status, 404);
    let own = other.get("/counter");
    let csrf = own.hidden("csrf");
    let booked = other.post(
        &format!("/counter/members/{id}/purchase"),
        &[("csrf", &csrf), ("key", "x"), ("amount", "10")],
    );
    assert_eq!(booked.status, 404);
    assert_eq!(app.member(&id)["points"], 50);
}

/// The link under `path` (`/card/open/`, say) in a mail.
pub fn link_in(message: &str, path: &str) -> String {
    let start = message
        .find(path)
        .unwrap_or_else(|| panic!("the mail has a link to {path}: {message}"));
    let end = message[start..]
        .find(char::is_whitespace)
        .map_or(message.len(), |e| e + start);
    message[start..end].to_owned()
}

#[test]
fn a_member_signs_in_on_another_device_with_a_link_that_works_once() {
    let app = spawn_app();
    let join_path = format!("/join/{}", app.business_id);
    let mut phone = Visitor::new(&app.address, "de");
    assert_eq!(
        phone
            .post(&join_path, &join_form("Anna", "anna@example.com"))
            .status,
        303
    );

    let mut laptop = Visitor::new(&app.address, "de");
    let sign_in = format!("{join_path}/sign-in");
    let asked = laptop.post(&sign_in, &[("email", "Anna@Example.com")]);
    assert_eq!(asked.status, 200);
    assert!(asked.html.contains("ist der Link unterwegs"));
    let mail = app.mailbox.wait_for("anna@example.com");
    assert!(
        mail.message.contains("Subject: Dein Anmeldelink"),
        "{}",
        mail.message
    );
    assert!(
        mail.message.contains("Hallo Anna"),
        "in the member's language: {}",
        mail.message
    );
    let link = link_in(&mail.message, "/card/open/");

    let opened = laptop.get(&link);
    assert_eq!(
        (opened.status, opened.location.as_deref()),
        (303, Some("/card"))
    );
    assert!(laptop.get("/card").html.contains("Hallo Anna!"));
    let mut stranger = Visitor::new(&app.address, "de");
    assert_eq!(stranger.get(&link).status, 401, "the link works once");
}

#[test]
fn asking_for_a_link_reveals_nothing_about_unknown_addresses_and_is_limited() {
    let app = spawn_app();
    let sign_in = format!("/join/{}/sign-in", app.business_id);
    let mut visitor = Visitor::new(&app.address, "en");
    let unknown = visitor.post(&sign_in, &[("email", "nobody@example.com")]);
    assert_eq!(unknown.status, 200);
    assert!(
        unknown
            .html
            .contains("If there is a card for this address, the link is on its way.")
    );
    let malformed = visitor.post(&sign_in, &[("email", "nobody@")]);
    assert_eq!(malformed.status, 422);
    assert!(
        malformed
            .html
            .contains("Please enter a valid email address")
    );
    for _ in 0..2 {
        assert_eq!(
            visitor
                .post(&sign_in, &[("email", "nobody@example.com")])
                .status,
            200
        );
    }
    let limited = visitor.post(&sign_in, &[("email", "nobody@example.com")]);
    assert_eq!(limited.status, 422);
    assert!(limited.html.contains("Too many requests for this address."));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        app.mailbox.messages_to("nobody@example.com").is_empty(),
        "no mail to a non-member"
    );
}

/// A customer who joined on the page (with marketing by email), signed in on the card.
fn joined_customer(app: &crate::helpers::TestApp, language: &'static str) -> Visitor {
    let mut customer = Visitor::new(&app.address, language);
    let mut form = join_form("Anna", "anna@example.com");
    form.push(("marketing_email", "yes"));
    let joined = customer.post(&format!("/join/{}", app.business_id), &form);
    assert_eq!(joined.status, 303);
    customer
}

#[test]
fn a_member_downloads_everything_stored_about_them_as_json_and_csv() {
    let app = spawn_app();
    let mut customer = joined_customer(&app, "de");
    let json = customer.get("/card/data.json");
    assert_eq!(json.status, 200);
    let data: serde_json::Value = serde_json::from_str(&json.html).unwrap();
    assert_eq!(data["member"]["email"], "anna@example.com");
    assert_eq!(data["balances"]["points"], 50);
    let purposes: Vec<_> = data["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["purpose"].as_str().unwrap(),
                c["channel"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(purposes, ["marketing email", "terms "]);
    assert_eq!(data["events"][0]["event"]["kind"]["type"], "signup");
    assert_eq!(
        data["transfers"].as_array().unwrap().len(),
        1,
        "the sign-up bonus"
    );

    let csv = customer.get("/card/data.csv");
    assert_eq!(csv.status, 200);
    let mut lines = csv.html.lines();
    assert_eq!(
        lines.next(),
        Some("kind,time,detail,amount_cents,points,stamps")
    );
    assert!(csv.html.contains("email: anna@example.com"));
    assert!(
        csv.html
            .lines()
            .any(|line| line.starts_with("event,") && line.ends_with(",signup,0,50,0")),
        "{}",
        csv.html
    );
}

#[test]
fn a_member_changes_language_and_withdraws_marketing_consent_which_stays_as_proof() {
    let app = spawn_app();
    let mut customer = joined_customer(&app, "de");
    let settings = customer.get("/card/settings");
    assert!(
        settings
            .html
            .contains("id=\"marketing_email\" name=\"marketing_email\" value=\"yes\" checked")
    );
    let csrf = settings.hidden("csrf");
    let saved = customer.post("/card/settings", &[("csrf", &csrf), ("language", "en")]);
    assert_eq!(saved.status, 200, "{}", saved.html);
    assert!(
        saved.html.contains("Saved."),
        "the page follows the new language"
    );
    let refused = customer.post(
        "/card/settings",
        &[
            ("csrf", &csrf),
            ("language", "en"),
            ("marketing_sms", "yes"),
        ],
    );
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("we need your mobile number"));

    let data: serde_json::Value =
        serde_json::from_str(&customer.get("/card/data.json").html).unwrap();
    assert_eq!(data["member"]["language"], "en");
    let marketing = data["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == "marketing")
        .unwrap();
    assert!(
        marketing["withdrawn_at"].is_string(),
        "withdrawn, and still on record: {marketing}"
    );
    assert!(
        marketing.get("confirmed_at").is_some(),
        "the double opt-in's confirmation is part of the proof: {marketing}"
    );
}

#[test]
fn deleting_the_account_erases_personal_data_and_keeps_the_ledger_balanced() {
    let app = spawn_app();
    let mut customer = joined_customer(&app, "en");
    let code = customer
        .get("/card")
        .html
        .split("data-testid=\"member-code\">")
        .nth(1)
        .unwrap()[..8]
        .to_owned();
    let member_id = app.get("/api/v1/members").body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.purchase(&member_id, "12.00", "p1").status, 201);
    let csrf = customer.get("/card/settings").hidden("csrf");

    let unconfirmed = customer.post("/card/delete", &[("csrf", &csrf)]);
    assert_eq!(unconfirmed.status, 422);
    assert!(unconfirmed.html.contains("Please confirm"));
    assert_eq!(
        app.member(&member_id)["email"],
        "anna@example.com",
        "nothing changed"
    );

    let deleted = customer.post("/card/delete", &[("csrf", &csrf), ("confirm", "yes")]);
    assert_eq!(deleted.status, 200);
    assert!(
        deleted
            .html
            .contains("Your personal data has been deleted.")
    );
    assert_eq!(customer.get("/card").status, 401, "signed out");

    let erased = app.member(&member_id);
    assert_eq!(
        (erased["first_name"].as_str(), erased["email"].as_str()),
        (Some(""), None)
    );
    assert_ne!(
        erased["code"].as_str(),
        Some(code.as_str()),
        "the old card no longer finds the account"
    );
    assert_eq!(
        app.get(&format!("/api/v1/members/by-code/{code}")).status,
        404
    );
    let ledger = app.get(&format!("/api/v1/members/{member_id}/ledger"));
    assert_eq!(
        ledger.body["items"].as_array().unwrap().len(),
        2,
        "the ledger stays for the accounts"
    );

    let mut again = Visitor::new(&app.address, "en");
    assert_eq!(
        again
            .post(
                &format!("/join/{}", app.business_id),
                &join_form("Anna", "anna@example.com")
            )
            .status,
        303,
        "the address is free again"
    );
}

#[test]
fn a_cashier_voids_a_recent_purchase_with_a_reason_and_its_points_are_taken_back() {
    let app = spawn_app();
    let (id, _) = member(&app, "ben@example.com");
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.log_in(CASHIER);
    let page = cashier.get(&format!("/counter/members/{id}"));
    let csrf = page.hidden("csrf");
    let booked = cashier.post(
        &format!("/counter/members/{id}/purchase"),
        &[("csrf", &csrf), ("key", "b1"), ("amount", "12,40")],
    );
    assert_eq!(app.member(&id)["points"], 62);
    let event = booked.hidden("event");
    let void_path = format!("/counter/members/{id}/void");
    let no_reason = cashier.post(
        &void_path,
        &[
            ("csrf", &csrf),
            ("key", "v1"),
            ("event", &event),
            ("reason", " "),
        ],
    );
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.html.contains("Bitte einen Grund angeben."));
    let voided = cashier.post(
        &void_path,
        &[
            ("csrf", &csrf),
            ("key", "v2"),
            ("event", &event),
            ("reason", "falscher Betrag"),
        ],
    );
    assert_eq!(voided.status, 200, "{}", voided.html);
    assert!(
        voided.html.contains("Storniert: 12 Punkte"),
        "{}",
        voided.html
    );
    assert_eq!(app.member(&id)["points"], 50);
}

#[test]
fn a_cashier_cannot_void_outside_the_shops_window_but_the_owner_can() {
    let app = spawn_app();
    let (id, _) = member(&app, "ben@example.com");
    let two_hours_ago = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    let old = app.post(
        "/api/v1/purchases",
        Some("old"),
        &format!(r#"{{"member_id": "{id}", "amount": "10.00", "currency": "EUR", "occurred_at": "{two_hours_ago}"}}"#),
    );
    assert_eq!(old.status, 201, "{}", old.body);
    let event = old.body["event_id"].as_str().unwrap().to_owned();
    let mut cashier = Visitor::new(&app.address, "en");
    cashier.log_in(CASHIER);
    let page = cashier.get(&format!("/counter/members/{id}"));
    assert!(
        !page.html.contains("name=\"event\""),
        "no void button for an old booking"
    );
    let fields = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("key", "v".to_owned()),
            ("event", event.clone()),
            ("reason", "mistake".to_owned()),
        ]
    };
    let post = |visitor: &mut Visitor, fields: Vec<(&str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        visitor.post(&format!("/counter/members/{id}/void"), &borrowed)
    };
    let refused = post(&mut cashier, fields(&page.hidden("csrf")));
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("too old to void at the counter"));
    assert_eq!(app.member(&id)["points"], 60);

    let mut owner = Visitor::new(&app.address, "en");
    owner.log_in(crate::helpers::OWNER);
    let csrf = owner.get(&format!("/counter/members/{id}")).hidden("csrf");
    assert_eq!(post(&mut owner, fields(&csrf)).status, 200);
    assert_eq!(app.member(&id)["points"], 50);
}

#[test]
fn a_cashier_signs_up_a_customer_who_gets_the_link_to_their_card_by_mail() {
    let app = spawn_app();
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.log_in(CASHIER);
    let csrf = cashier.get("/counter/enrol").hidden("csrf");
    let without_terms = cashier.post(
        "/counter/enrol",
        &[
            ("csrf", &csrf),
            ("first_name", "Ida"),
            ("email", "ida@example.com"),
        ],
    );
    assert_eq!(without_terms.status, 422);
    let enrolled = cashier.post(
        "/counter/enrol",
        &[
            ("csrf", &csrf),
            ("first_name", "Ida"),
            ("email", "ida@example.com"),
            ("terms", "yes"),
        ],
    );
    assert_eq!(enrolled.status, 303, "{}", enrolled.html);
    let member_page = cashier.get(enrolled.location.as_deref().unwrap());
    assert!(
        member_page
            .html
            .contains("Der Link zur Karte ist per E-Mail unterwegs.")
    );

    let mail = app.mailbox.wait_for("ida@example.com");
    let mut customer = Visitor::new(&app.address, "de");
    assert_eq!(
        customer.get(&link_in(&mail.message, "/card/open/")).status,
        303
    );
    let data: serde_json::Value =
        serde_json::from_str(&customer.get("/card/data.json").html).unwrap();
    assert_eq!(data["consents"][0]["source"], "counter");
    assert_eq!(data["balances"]["points"], 50);
}

#[test]
fn joins_on_one_shops_page_are_limited_so_a_script_cannot_flood_the_program() {
    let app = spawn_app();
    let join_path = format!("/join/{}", app.business_id);
    for n in 0..120 {
        let mut customer = Visitor::new(&app.address, "en");
        let email = format!("guest{n}@example.com");
        assert_eq!(
            customer
                .post(&join_path, &join_form("Guest", &email))
                .status,
            303,
            "join {n}"
        );
    }
    let mut one_too_many = Visitor::new(&app.address, "en");
    let refused = one_too_many.post(&join_path, &join_form("Guest", "late@example.com"));
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("Please try again in a few minutes."));
    assert_eq!(
        crate::office::member_count(&app),
        120,
        "the refused join created nobody"
    );
}
