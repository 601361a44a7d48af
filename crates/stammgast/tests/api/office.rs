//! The back office over HTTP: who may enter, the setup wizard from template to launched
//! program, and the QR material, whose codes an independent decoder (zbarimg) reads.

use crate::helpers::{CASHIER, OWNER, TestApp, spawn_app};
use crate::visitor::Visitor;
use std::path::Path;
use std::process::Command;

pub fn owner(app: &TestApp) -> Visitor {
    let mut owner = Visitor::new(&app.address, "de");
    let page = owner.post("/login", &[("email", OWNER.0), ("password", OWNER.1)]);
    assert_eq!(
        page.location.as_deref(),
        Some("/office"),
        "owners start in the back office"
    );
    owner
}

#[test]
fn cashiers_are_kept_out_of_the_back_office() {
    let app = spawn_app();
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.log_in(CASHIER);
    for path in [
        "/office",
        "/office/setup",
        "/office/qr",
        "/office/qr/poster.pdf",
        "/office/dashboard",
        "/office/dashboard/kpis.csv",
    ] {
        let page = cashier.get(path);
        assert_eq!(
            (page.status, page.location.as_deref()),
            (303, Some("/counter")),
            "{path}"
        );
    }
    let mut stranger = Visitor::new(&app.address, "de");
    assert_eq!(stranger.get("/office").location.as_deref(), Some("/login"));
}

#[test]
fn the_wizard_launches_the_adjusted_template_and_new_members_earn_by_it() {
    let app = spawn_app();
    let mut owner = owner(&app);
    let choose = owner.get("/office/setup");
    for template in ["cafe", "bakery", "salon", "boutique", "webshop"] {
        assert!(
            choose.html.contains(&format!("/office/setup/{template}\"")),
            "{template}"
        );
    }
    let form = owner.get("/office/setup/cafe");
    assert_eq!(form.status, 200);
    let csrf = form.hidden("csrf");
    let fields = |stamps: &'static str, colour: &'static str, step: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("welcome_points", "25".to_owned()),
            ("points_per_euro", "2".to_owned()),
            ("stamps_required", stamps.to_owned()),
            ("stamp_reward_name", "Cappuccino aufs Haus".to_owned()),
            ("brand_color", colour.to_owned()),
            ("call_to_action", "Scannen & Cappuccino sichern".to_owned()),
            ("step", step.to_owned()),
        ]
    };
    let post = |visitor: &mut Visitor, fields: Vec<(&str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        visitor.post("/office/setup/cafe", &borrowed)
    };

    let too_few = post(&mut owner, fields("1", "#1d4e89", "preview"));
    assert_eq!(too_few.status, 422);
    assert!(too_few.html.contains("Eine Karte hat 2 bis 30 Stempel."));
    let too_light = post(&mut owner, fields("8", "#ffee88", "preview"));
    assert_eq!(too_light.status, 422);
    assert!(too_light.html.contains("weiße Schrift gut lesbar"));

    let preview = post(&mut owner, fields("8", "#1d4e89", "preview"));
    assert_eq!(preview.status, 200);
    assert!(preview.html.contains("data-testid=\"preview\""));
    assert!(
        preview.html.contains("3 von 8 Stempeln"),
        "the preview draws the adjusted card"
    );
    assert!(preview.html.contains("Cappuccino aufs Haus"));

    let launched = post(&mut owner, fields("8", "#1d4e89", "launch"));
    assert_eq!(launched.location.as_deref(), Some("/office/qr?launched=1"));
    let joined = app.join("Mia", "mia@example.com");
    let member = app.member(&joined);
    assert_eq!(member["points"], 25, "the new welcome bonus");
    assert_eq!(
        app.purchase(&joined, "10.00", "p1").body["points_earned"],
        20,
        "2 points per euro"
    );
}

pub fn decode(path: &Path) -> String {
    let output = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(path)
        .output()
        .expect("zbarimg runs");
    assert!(
        output.status.success(),
        "zbarimg found no code in {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn every_printed_qr_code_leads_to_the_join_page_as_an_independent_decoder_reads_it() {
    let app = spawn_app();
    let mut owner = owner(&app);
    let page = owner.get("/office/qr");
    let join_url = format!("{}/join/{}", app.address, app.business_id);
    assert!(page.html.contains(&join_url));
    let dir = std::env::temp_dir().join(format!("stammgast-qr-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for material in ["poster", "table-tent", "sticker", "receipt"] {
        let pdf = owner.get_bytes(&format!("/office/qr/{material}.pdf"));
        assert!(pdf.starts_with(b"%PDF-1.4"), "{material}");
        let pdf_path = dir.join(format!("{material}.pdf"));
        std::fs::write(&pdf_path, pdf).unwrap();
        let rendered = dir.join(material);
        let status = Command::new("pdftoppm")
            .args(["-png", "-r", "150", "-singlefile"])
            .arg(&pdf_path)
            .arg(&rendered)
            .status()
            .expect("pdftoppm runs");
        assert!(status.success(), "{material}: the PDF renders");
        assert_eq!(
            decode(&rendered.with_extension("png")),
            join_url,
            "{material}.pdf"
        );

        let svg =
            String::from_utf8(owner.get_bytes(&format!("/office/qr/{material}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("Café Morgenrot"),
            "{material}.svg"
        );
    }
    let png_path = dir.join("qr.png");
    std::fs::write(&png_path, owner.get_bytes("/office/qr/poster.png")).unwrap();
    assert_eq!(decode(&png_path), join_url, "poster.png");
    let line = String::from_utf8(owner.get_bytes("/office/qr/receipt.txt")).unwrap();
    assert_eq!(
        line,
        format!("Scannen & Gratis-Kaffee sichern: {join_url}\n")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_owner_finds_members_sees_their_timeline_and_corrects_a_balance_with_a_reason() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    app.join("Ben", "ben@example.com");
    assert_eq!(app.purchase(&anna, "12.40", "p1").status, 201);
    let other_key = app.other_api_key.clone();
    let stranger = app.post_as(
        &other_key,
        "/api/v1/members",
        None,
        r#"{"first_name": "Anna", "email": "anna@other.example"}"#,
    );
    let stranger_id = stranger.body["id"].as_str().unwrap().to_owned();
    let mut owner = owner(&app);

    let all = owner.get("/office/members");
    assert!(all.html.contains("Anna") && all.html.contains("Ben"));
    assert!(
        !all.html.contains("anna@other.example"),
        "another business's members stay hidden"
    );
    let found = owner.get("/office/members?q=ANNA");
    assert!(found.html.contains(&format!("/office/members/{anna}")) && !found.html.contains("Ben"));
    let bronze = owner.get("/office/members?tier=bronze");
    assert!(bronze.html.contains("Anna"), "members start in Bronze");
    assert!(
        owner
            .get("/office/members?tier=gold")
            .html
            .contains("Keine Mitglieder gefunden.")
    );

    let profile = owner.get(&format!("/office/members/{anna}"));
    assert!(
        profile.html.contains("Einkauf 12,40"),
        "the timeline: {}",
        profile.html
    );
    assert_eq!(
        owner.get(&format!("/office/members/{stranger_id}")).status,
        404
    );

    let csrf = profile.hidden("csrf");
    let key = profile.hidden("key");
    let path = format!("/office/members/{anna}/adjust");
    let no_reason = owner.post(
        &path,
        &[
            ("csrf", &csrf),
            ("key", &key),
            ("unit", "points"),
            ("delta", "20"),
            ("reason", ""),
        ],
    );
    assert_eq!(no_reason.status, 422);
    let fields = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("unit", "points"),
        ("delta", "+20"),
        ("reason", "Kaffee verschüttet"),
    ];
    for _ in 0..2 {
        let adjusted = owner.post(&path, &fields);
        assert_eq!(adjusted.status, 200, "{}", adjusted.html);
        assert!(adjusted.html.contains("Korrigiert: +20."));
    }
    assert_eq!(app.member(&anna)["points"], 50 + 12 + 20, "applied once");
    let after = owner.get(&format!("/office/members/{anna}"));
    assert!(
        after
            .html
            .contains("Korrektur: +20 Punkte — Kaffee verschüttet"),
        "{}",
        after.html
    );
    let audit = owner.get("/office/audit");
    assert!(
        audit.html.contains("Kaffee verschüttet") && audit.html.contains("<td>Tom</td>"),
        "the audit log names the owner: {}",
        audit.html
    );
    let stamps = owner.post(
        &path,
        &[
            ("csrf", &csrf),
            ("key", "k2"),
            ("unit", "stamps:coffee"),
            ("delta", "-1"),
            ("reason", "Test"),
        ],
    );
    assert_eq!(
        stamps.status, 422,
        "no stamps to take: the ledger refuses a negative balance"
    );
    assert!(
        stamps.html.contains("Dafür reichen die Stempel nicht."),
        "in the page's language"
    );
}

/// How many members the business has, through the API.
pub fn member_count(app: &TestApp) -> usize {
    let mut count = 0;
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/api/v1/members?limit=500{cursor}"));
        count += page.body["items"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return count,
        }
    }
}

#[test]
fn a_csv_import_is_checked_in_a_dry_run_that_writes_nothing_and_never_adds_anyone_twice() {
    let app = spawn_app();
    app.join("Anna", "anna@example.com");
    let mut owner = owner(&app);
    let csrf = owner.get("/office/import").hidden("csrf");
    let csv = "Vorname;E-Mail;Telefon;Geburtstag\nAnna;ANNA@example.com;;\nBen;ben@example.com;;1990-04-23\nCem;;0151 123;\n;dora@example.com;;\nEmil;emil@example.com;;31.02.1990\nFritz;ben@example.com;;\nGül;;+49 151 7654321;\n";
    let dry = owner.post(
        "/office/import",
        &[("csrf", &csrf), ("csv", csv), ("step", "check")],
    );
    assert_eq!(dry.status, 200);
    assert!(
        dry.html.contains(
            "Probelauf: 7 Zeilen, 2 würden neu angelegt, 1 sind schon Mitglied, 4 mit Fehlern."
        ),
        "{}",
        dry.html
    );
    for line in [
        "Zeile 4: phone",
        "Zeile 5: first_name",
        "Zeile 6: birthday",
        "Zeile 7: email",
    ] {
        assert!(dry.html.contains(line), "{line}: {}", dry.html);
    }
    assert_eq!(member_count(&app), 1, "a dry run writes nothing");

    let imported = owner.post(
        "/office/import",
        &[("csrf", &csrf), ("csv", csv), ("step", "import")],
    );
    assert!(
        imported.html.contains("2 neu angelegt"),
        "{}",
        imported.html
    );
    assert_eq!(member_count(&app), 3);
    let again = owner.post(
        "/office/import",
        &[("csrf", &csrf), ("csv", csv), ("step", "import")],
    );
    assert!(
        again
            .html
            .contains("0 neu angelegt, 3 waren schon Mitglied"),
        "{}",
        again.html
    );
    assert_eq!(member_count(&app), 3);
}

#[test]
fn the_owner_adds_a_cashier_who_can_log_in_and_removing_them_ends_their_session() {
    let app = spawn_app();
    let mut owner = owner(&app);
    let team = owner.get("/office/team");
    assert!(team.html.contains(OWNER.0) && team.html.contains(CASHIER.0));
    let csrf = team.hidden("csrf");
    let short = owner.post(
        "/office/team",
        &[
            ("csrf", &csrf),
            ("name", "Mia"),
            ("email", "mia@morgenrot.example"),
            ("role", "cashier"),
            ("password", "short"),
        ],
    );
    assert_eq!(short.status, 422);
    assert!(short.html.contains("mindestens 10 Zeichen"));
    let taken = owner.post(
        "/office/team",
        &[
            ("csrf", &csrf),
            ("name", "Tom"),
            ("email", CASHIER.0),
            ("role", "cashier"),
            ("password", "long-enough-1"),
        ],
    );
    assert!(taken.html.contains("hat schon einen Zugang"));
    let added = owner.post(
        "/office/team",
        &[
            ("csrf", &csrf),
            ("name", "Mia"),
            ("email", "mia@morgenrot.example"),
            ("role", "cashier"),
            ("password", "mias-passwort-1"),
        ],
    );
    assert_eq!(added.status, 200);
    assert!(added.html.contains("Mia kann sich jetzt anmelden."));

    let mut mia = Visitor::new(&app.address, "de");
    mia.log_in(("mia@morgenrot.example", "mias-passwort-1"));
    assert_eq!(mia.get("/counter").status, 200);
    // Mia's row is the one after her email; its remove form names her id.
    let after_mia = &added.html[added.html.find("mia@morgenrot.example").unwrap()..];
    let id = after_mia
        .split("/office/team/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    assert_eq!(
        owner
            .post(&format!("/office/team/{id}/remove"), &[("csrf", &csrf)])
            .status,
        303
    );
    assert_eq!(
        mia.get("/counter").location.as_deref(),
        Some("/login"),
        "the session ended"
    );
}

#[test]
fn the_owners_legal_texts_replace_the_defaults_on_the_public_pages_and_are_shown_as_text() {
    let app = spawn_app();
    let mut visitor = Visitor::new(&app.address, "de");
    let join = visitor.get(&format!("/join/{}", app.business_id));
    let base = format!("/join/{}", app.business_id);
    for page in ["imprint", "privacy", "terms"] {
        assert!(
            join.html.contains(&format!("{base}/{page}\"")),
            "the footer links the {page}"
        );
    }
    assert!(
        visitor
            .get(&format!("{base}/imprint"))
            .html
            .contains("noch kein Impressum")
    );
    assert!(
        visitor
            .get(&format!("{base}/privacy"))
            .html
            .contains("Art. 6 Abs. 1 lit. b DSGVO")
    );

    let mut owner = owner(&app);
    let csrf = owner.get("/office/legal").hidden("csrf");
    let imprint = "Café Morgenrot GmbH\nHauptstraße 1, 10115 Berlin\n<script>alert(1)</script>";
    let saved = owner.post(
        "/office/legal",
        &[
            ("csrf", &csrf),
            ("imprint", imprint),
            ("privacy_notice", ""),
            ("terms", "Eigene Bedingungen."),
        ],
    );
    assert_eq!(saved.status, 200);
    assert!(saved.html.contains("Gespeichert."));
    let shown = visitor.get(&format!("{base}/imprint")).html;
    assert!(shown.contains("Hauptstraße 1, 10115 Berlin"));
    assert!(
        shown.contains("&lt;script&gt;") && !shown.contains("<script>alert"),
        "shown as text"
    );
    assert!(
        visitor
            .get(&format!("{base}/terms"))
            .html
            .contains("Eigene Bedingungen.")
    );
    assert!(
        visitor
            .get(&format!("{base}/privacy"))
            .html
            .contains("DSGVO"),
        "empty: the default"
    );
    let too_long = "x".repeat(20_001);
    assert_eq!(
        owner
            .post(
                "/office/legal",
                &[
                    ("csrf", &csrf),
                    ("imprint", &too_long),
                    ("privacy_notice", ""),
                    ("terms", "")
                ]
            )
            .status,
        422
    );
}

#[test]
fn the_owner_edits_the_reward_catalog_and_stamp_card_and_members_see_it_at_once() {
    let app = spawn_app();
    let mut owner = owner(&app);
    let page = owner.get("/office/rewards");
    let csrf = page.hidden("csrf");
    let added = owner.post(
        "/office/rewards",
        &[
            ("csrf", &csrf),
            ("name", "Latte Macchiato"),
            ("points", "80"),
            ("kind", "free_product"),
            ("value", "Latte Macchiato"),
            ("valid_days", "30"),
        ],
    );
    assert_eq!(added.status, 200, "{}", added.html);
    assert!(added.html.contains("Gespeichert (Programmversion 2)."));
    let bad = owner.post(
        "/office/rewards",
        &[
            ("csrf", &csrf),
            ("name", "Zu viel"),
            ("points", "10"),
            ("kind", "percent_discount"),
            ("value", "150"),
            ("valid_days", "30"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("1 bis 100 Prozent"));
    let card_reward = owner.post("/office/rewards/free-coffee/remove", &[("csrf", &csrf)]);
    assert_eq!(card_reward.status, 422, "the stamp card's reward stays");
    let card = owner.post(
        "/office/rewards/cards/coffee",
        &[
            ("csrf", &csrf),
            ("name", "Kaffeekarte"),
            ("stamps_required", "12"),
            ("daily_limit", ""),
        ],
    );
    assert_eq!(card.status, 200);
    assert_eq!(
        owner
            .post("/office/rewards/five-off/remove", &[("csrf", &csrf)])
            .status,
        303
    );

    let mut customer = Visitor::new(&app.address, "de");
    let form = [
        ("first_name", "Mia"),
        ("email", "mia@example.com"),
        ("terms", "yes"),
    ];
    customer.post(&format!("/join/{}", app.business_id), &form);
    let member = app.get("/api/v1/members").body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.purchase(&member, "40.00", "p1").status, 201);
    let shown = customer.get("/card").html;
    assert!(shown.contains("0 von 12 Stempeln"), "the new card size");
    assert!(
        shown.contains("<strong>Latte Macchiato</strong> <span>Jetzt einlösbar</span>"),
        "90 points reach the new reward: {shown}"
    );
    assert!(!shown.contains("5 € Rabatt"), "the removed reward is gone");
}

#[test]
fn a_counter_device_books_to_the_location_it_was_set_to() {
    let app = spawn_app();
    let mut owner = owner(&app);
    let csrf = owner.get("/office/locations").hidden("csrf");
    let added = owner.post(
        "/office/locations",
        &[
            ("csrf", &csrf),
            ("name", "Filiale Mitte"),
            ("address", "Hauptstraße 1"),
        ],
    );
    assert!(added.html.contains("Filiale Mitte ist angelegt."));
    assert_eq!(
        owner
            .post(
                "/office/locations",
                &[("csrf", &csrf), ("name", " "), ("address", "")]
            )
            .status,
        422
    );

    let member = app.join("Ben", "ben@example.com");
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.log_in(CASHIER);
    let counter = cashier.get("/counter");
    let location = counter
        .html
        .split("<option value=\"")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let chosen = cashier.post(
        "/counter/location",
        &[("csrf", &counter.hidden("csrf")), ("location", &location)],
    );
    assert_eq!(chosen.status, 303);
    assert!(
        cashier
            .get("/counter")
            .html
            .contains(&format!("<option value=\"{location}\" selected>"))
    );
    let page = cashier.get(&format!("/counter/members/{member}"));
    let booked = cashier.post(
        &format!("/counter/members/{member}/purchase"),
        &[
            ("csrf", &page.hidden("csrf")),
            ("key", "l1"),
            ("amount", "3,20"),
        ],
    );
    assert_eq!(booked.status, 200);
    let events = app.get(&format!("/api/v1/members/{member}/events"));
    assert_eq!(
        events.body["items"][0]["location_id"],
        location.as_str(),
        "{}",
        events.body
    );
}

#[test]
fn the_owners_colour_and_logo_appear_on_the_join_page_and_svg_logos_are_refused() {
    use base64ct::{Base64, Encoding};
    let app = spawn_app();
    let mut owner = owner(&app);
    let csrf = owner.get("/office/branding").hidden("csrf");
    let saved = owner.post(
        "/office/branding",
        &[
            ("csrf", &csrf),
            ("brand_color", "#1d4e89"),
            ("call_to_action", "Scannen & sparen"),
            ("void_window_minutes", "5"),
        ],
    );
    assert_eq!(saved.status, 200, "{}", saved.html);
    let too_light = owner.post(
        "/office/branding",
        &[
            ("csrf", &csrf),
            ("brand_color", "#eeeeee"),
            ("call_to_action", "x"),
            ("void_window_minutes", "5"),
        ],
    );
    assert_eq!(too_light.status, 422);

    let png = owner.get_bytes("/office/qr/sticker.png");
    let svg = Base64::encode_string(
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    );
    let refused = owner.post(
        "/office/branding/logo",
        &[
            ("csrf", &csrf),
            ("content_type", "image/svg+xml"),
            ("data", &svg),
        ],
    );
    assert_eq!(refused.status, 422);
    let uploaded = owner.post(
        "/office/branding/logo",
        &[
            ("csrf", &csrf),
            ("content_type", "image/png"),
            ("data", &Base64::encode_string(&png)),
        ],
    );
    assert_eq!(uploaded.status, 200);

    let mut visitor = Visitor::new(&app.address, "de");
    let join = visitor.get(&format!("/join/{}", app.business_id));
    assert!(
        join.html.contains("style=\"--brand: #1d4e89\""),
        "the shop's colour"
    );
    let logo_url = format!("/join/{}/logo?v=1", app.business_id);
    assert!(join.html.contains(&logo_url), "the logo: {}", join.html);
    assert_eq!(visitor.get_bytes(&logo_url), png);
}

#[test]
fn the_api_refuses_a_location_that_is_not_one_of_the_businesss() {
    let app = spawn_app();
    let mut owner = owner(&app);
    let csrf = owner.get("/office/locations").hidden("csrf");
    owner.post(
        "/office/locations",
        &[("csrf", &csrf), ("name", "Filiale Nord"), ("address", "")],
    );
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.log_in(CASHIER);
    let counter = cashier.get("/counter");
    let location = counter
        .html
        .split("<option value=\"")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let member = app.join("Ben", "ben@example.com");
    let purchase = |key: &str, location: &str| {
        app.post(
            "/api/v1/purchases",
            Some(key),
            &format!(r#"{{"member_id": "{member}", "amount": "5.00", "currency": "EUR", "location_id": "{location}"}}"#),
        )
    };
    assert_eq!(purchase("p1", &location).status, 201);
    let stranger = purchase("p2", "0190aaaa-0000-7000-8000-000000000000");
    crate::helpers::assert_problem(&stranger, 422, "validation_failed");
    assert!(
        stranger.body["detail"]
            .as_str()
            .unwrap()
            .contains("location_id")
    );
    assert_eq!(
        app.member(&member)["points"],
        55,
        "only the purchase at the real location counted"
    );
}

#[test]
fn the_dashboard_shows_the_kpis_of_the_period_asked_for_and_its_tables_download_as_csv() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    assert_eq!(app.purchase(&anna, "12.40", "p1").status, 201);
    let mut owner = owner(&app);
    let page = owner.get("/office/dashboard");
    assert_eq!(page.status, 200);
    for text in [
        "Kundenbindungsrate (CRR)",
        "CRR = (E − N) / S × 100",
        "12,40\u{a0}€",
        "data-chart=\"segments\"",
        "Kohorten",
    ] {
        assert!(page.html.contains(text), "{text}");
    }
    let bad = owner.get("/office/dashboard?from=gestern&to=2026-01-01");
    assert_eq!(bad.status, 422, "what to fix is shown");
    assert!(
        bad.html
            .contains("Bitte geben Sie den Zeitraum als Datum an")
    );
    let long_ago = owner.get("/office/dashboard?from=2020-01-01&to=2020-01-31");
    assert!(long_ago.html.contains("value=\"2020-01-31\""));
    assert!(
        !long_ago.html.contains("12,40\u{a0}€"),
        "nothing was bought in January 2020"
    );

    let csv = String::from_utf8(owner.get_bytes("/office/dashboard/months.csv")).unwrap();
    assert!(
        csv.starts_with("month,members,new_members,active_members,visits,purchases,revenue_cents"),
        "{csv}"
    );
    assert!(
        csv.contains(",1240,"),
        "this month's revenue in cents: {csv}"
    );
    let segments = String::from_utf8(owner.get_bytes("/office/dashboard/segments.csv")).unwrap();
    assert!(segments.contains("lifecycle,new,1"), "{segments}");
    assert_eq!(owner.get("/office/dashboard/secrets.csv").status, 404);
}

#[test]
fn the_owner_sets_lifecycle_thresholds_and_contradicting_ones_are_explained() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    assert_eq!(app.purchase(&anna, "4.50", "p1").status, 201);
    let mut owner = owner(&app);
    let page = owner.get("/office/dashboard");
    let csrf = page.hidden("csrf");
    assert!(
        page.html.contains("value=\"30\""),
        "the default for new members is shown"
    );
    let fields = |new: &'static str, at_risk: &'static str, lapsed: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("new_within_days", new.to_owned()),
            ("at_risk_after_days", at_risk.to_owned()),
            ("lapsed_after_days", lapsed.to_owned()),
            ("churn_percent", String::new()),
            ("loyal_from_visits", "5".to_owned()),
        ]
    };
    let post = |owner: &mut crate::visitor::Visitor, fields: Vec<(&str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        owner.post("/office/dashboard/thresholds", &borrowed)
    };
    let refused = post(&mut owner, fields("30", "60", "45"));
    assert_eq!(refused.status, 422);
    assert!(
        refused.html.contains("mehr als bei „Gefährdet“"),
        "what to fix"
    );
    assert!(
        refused.html.contains("value=\"45\""),
        "the form keeps what was typed"
    );
    let not_a_number = post(&mut owner, fields("dreißig", "60", "90"));
    assert_eq!(not_a_number.status, 422);
    let saved = post(&mut owner, fields("0", "60", "90"));
    assert_eq!(saved.status, 200);
    assert!(
        saved
            .html
            .contains("Gespeichert; 1 Mitglieder sind neu eingeordnet."),
        "{}",
        saved.html
    );
    let segments = String::from_utf8(owner.get_bytes("/office/dashboard/segments.csv")).unwrap();
    assert!(
        segments.contains("lifecycle,new,0") && segments.contains("lifecycle,active,1"),
        "Anna is no longer new: {segments}"
    );
}

#[test]
fn the_owner_tags_a_member_on_their_page_and_a_segment_on_the_tag_finds_them() {
    let app = spawn_app();
    let anna = app.join("Anna", "anna@example.com");
    let mut owner = owner(&app);
    let profile = owner.get(&format!("/office/members/{anna}"));
    let csrf = profile.hidden("csrf");
    let path = format!("/office/members/{anna}/tags");
    let refused = owner.post(&path, &[("csrf", &csrf), ("tag", "!!"), ("action", "add")]);
    assert_eq!(refused.status, 422);
    assert!(
        refused.html.contains("mindestens ein Buchstabe"),
        "what to fix"
    );
    let tagged = owner.post(
        &path,
        &[("csrf", &csrf), ("tag", "Kuchen Fan"), ("action", "add")],
    );
    assert_eq!(tagged.status, 200, "{}", tagged.html);
    assert!(tagged.html.contains("Schlagwort „Kuchen Fan“ hinzugefügt."));
    assert!(
        tagged.html.contains("kuchen-fan"),
        "the tag as filters name it"
    );

    let saved = owner.post(
        "/office/segments",
        &[
            ("csrf", &csrf),
            ("name", "Fans"),
            ("filter", "tag \"Kuchen Fan\""),
            ("action", "save"),
        ],
    );
    assert_eq!(saved.status, 200, "{}", saved.html);
    assert!(
        saved
            .html
            .contains("„Fans“ ist gespeichert und hat jetzt ein Mitglied."),
        "{}",
        saved.html
    );
    let removed = owner.post(
        &path,
        &[("csrf", &csrf), ("tag", "kuchen-fan"), ("action", "remove")],
    );
    assert!(removed.html.contains("Schlagwort „kuchen-fan“ entfernt."));
    let refused = owner.post(
        "/office/segments",
        &[
            ("csrf", &csrf),
            ("name", "Kaputt"),
            ("filter", "tag"),
            ("action", "save"),
        ],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .html
            .contains("Zeichen 4: Nach tag fehlt ein Schlagwort; dort steht das Ende des Filters."),
        "{}",
        refused.html
    );
    let listed = owner.get("/office/segments");
    assert!(
        !listed.html.contains("Kaputt"),
        "a refused segment is not saved"
    );
}

#[test]
fn a_journey_form_with_mistakes_says_what_to_fix_and_keeps_what_was_typed() {
    let app = spawn_app();
    let mut owner = owner(&app);
    let page = owner.get("/office/journeys");
    let csrf = page.hidden("csrf");
    let created = owner.post(
        "/office/journeys",
        &[("csrf", &csrf), ("action", "template:win_back")],
    );
    assert_eq!(created.status, 200, "{}", created.html);
    assert!(created.html.contains("ist angelegt und noch pausiert"));
    let form = |holdout: &'static str, body_de: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("action", "save".to_owned()),
            ("slug", "win-back".to_owned()),
            ("name", "Wir vermissen dich".to_owned()),
            ("days", "45".to_owned()),
            ("holdout_percent", holdout.to_owned()),
            ("grant_points", "0".to_owned()),
            ("add_tag", String::new()),
            ("subject_de", "Hallo {first_name}".to_owned()),
            ("body_de", body_de.to_owned()),
            ("subject_en", "Hello {first_name}".to_owned()),
            ("body_en", "Come back, {first_name}.".to_owned()),
        ]
    };
    let post = |owner: &mut Visitor, fields: Vec<(&str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        owner.post("/office/journeys", &borrowed)
    };
    let too_many = post(&mut owner, form("80", "Komm wieder, {first_name}."));
    assert_eq!(too_many.status, 422);
    assert!(
        too_many
            .html
            .contains("Die Kontrollgruppe ist eine ganze Zahl von 0 bis 50.")
    );
    assert!(
        too_many.html.contains("value=\"80\""),
        "the form keeps what was typed"
    );
    let typo = post(&mut owner, form("10", "Komm wieder, {vorname}."));
    assert_eq!(typo.status, 422);
    assert!(
        typo.html.contains(
            "Der deutsche Text hat 1 bis 5000 Zeichen und nur die genannten Platzhalter."
        )
    );
    let saved = post(&mut owner, form("10", "Komm wieder, {first_name}."));
    assert_eq!(saved.status, 200, "{}", saved.html);
    assert!(saved.html.contains("45 Tage ohne Besuch"), "{}", saved.html);
    let mut cashier = Visitor::new(&app.address, "de");
    cashier.post("/login", &[("email", CASHIER.0), ("password", CASHIER.1)]);
    assert_ne!(
        cashier.get("/office/journeys").status,
        200,
        "cashiers stay out"
    );
}

#[test]
fn the_owner_gives_a_coupon_tests_a_second_version_and_previews_both_with_a_members_data() {
    let app = spawn_app();
    let member = app.join("Mira", "mira@example.com");
    app.purchase(&member, "8.00", "mira-1");
    let mut owner = owner(&app);
    let csrf = owner.get("/office/journeys").hidden("csrf");
    let created = owner.post(
        "/office/journeys",
        &[("csrf", &csrf), ("action", "template:reward_ready")],
    );
    assert!(
        created.html.contains("eine Prämie ist einlösbar"),
        "{}",
        created.html
    );
    assert!(
        !created.html.contains("id=\"days\""),
        "this trigger takes no days"
    );
    let form = |action: &str, subject_b_de: &str, coupon: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("action", action.to_owned()),
            ("slug", "reward-ready".to_owned()),
            ("name", "Prämie einlösbar".to_owned()),
            ("holdout_percent", "10".to_owned()),
            ("grant_points", "0".to_owned()),
            ("add_tag", String::new()),
            ("issue_coupon", coupon.to_owned()),
            ("survey", "yes".to_owned()),
            ("ab", "yes".to_owned()),
            (
                "subject_de",
                "{next_reward} wartet, {first_name}".to_owned(),
            ),
            (
                "body_de",
                "Noch {stamps_left} Stempel. Code: {coupon_code}".to_owned(),
            ),
            ("subject_en", "{next_reward} is waiting".to_owned()),
            ("body_en", "Code: {coupon_code}".to_owned()),
            ("subject_b_de", subject_b_de.to_owned()),
            (
                "body_b_de",
                "Hallo {first_name}, zuletzt: {last_product}".to_owned(),
            ),
            ("subject_b_en", "Version B".to_owned()),
            ("body_b_en", "Hello {first_name}".to_owned()),
        ]
    };
    let post = |owner: &mut Visitor, fields: Vec<(&str, String)>| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        owner.post("/office/journeys", &borrowed)
    };
    let no_coupon = post(&mut owner, form("save", "Fassung B", ""));
    assert_eq!(no_coupon.status, 422, "{{coupon_code}} without a coupon");
    assert!(
        no_coupon
            .html
            .contains("der Text nennt {coupon_code}, das gibt es nur mit Gutschein"),
        "{}",
        no_coupon.html
    );
    let empty_b = post(&mut owner, form("save", " ", "cake"));
    assert_eq!(empty_b.status, 422);
    assert!(
        empty_b
            .html
            .contains("Der deutsche Betreff der Fassung B hat 1 bis 150 Zeichen"),
        "{}",
        empty_b.html
    );
    let saved = post(
        &mut owner,
        form("save", "Fassung B für {first_name}", "cake"),
    );
    assert_eq!(saved.status, 200, "{}", saved.html);
    assert!(saved.html.contains("<option value=\"cake\" selected>"));
    assert!(
        saved.html.contains("data-testid=\"variant-b\""),
        "the list shows B's arm"
    );
    let mut by_sms = form("save", "Fassung B für {first_name}", "cake");
    by_sms.push(("channel", "sms".to_owned()));
    let no_provider = post(&mut owner, by_sms);
    assert_eq!(no_provider.status, 422);
    assert!(
        no_provider
            .html
            .contains("SMS und Push brauchen einen eingerichteten Anbieter"),
        "{}",
        no_provider.html
    );
    let preview = post(
        &mut owner,
        form("preview", "Fassung B für {first_name}", "cake"),
    );
    assert_eq!(preview.status, 200, "{}", preview.html);
    assert_eq!(
        preview.html.matches("data-testid=\"preview\"").count(),
        2,
        "A and B"
    );
    assert!(
        preview.html.contains("Fassung B für Mira"),
        "a real member's data"
    );
    assert!(
        preview.html.contains("Code: TEST2026"),
        "a sample coupon code"
    );
    assert!(
        preview.html.contains("zuletzt: –"),
        "her purchase named no product"
    );
    assert!(preview.html.contains("score=10"), "the survey's scale");
}
