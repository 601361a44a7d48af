//! Journeys in a real browser (Debian's chromium, driven by playwright-core from npm): the
//! app is served on a fresh database here, and `tests/browser/journeys.mjs` walks through
//! it as a customer or a cashier would. `scripts/test` installs chromium and the npm
//! packages; a missing browser fails these tests rather than skipping them.

use crate::helpers::{CASHIER, OWNER, TestApp, spawn_app};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One browser at a time: two cores run chromium and the server, not four chromiums.
static BROWSER: Mutex<()> = Mutex::new(());

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Where the screenshots go (kept as CI artifacts).
fn screenshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// Runs one journey against `app` and returns what it printed.
fn journey(app: &TestApp, name: &str, member: Option<(&str, &str)>) -> String {
    journey_with(app, name, member, &[])
}

pub fn journey_with(
    app: &TestApp,
    name: &str,
    member: Option<(&str, &str)>,
    extra: &[(&str, &str)],
) -> String {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed in {}: run scripts/test, which installs it",
        dir.display()
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is not installed: run scripts/test, which installs it"
    );
    let _one_at_a_time = BROWSER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let screenshots = screenshots_dir();
    println!("screenshots in {}", screenshots.display());
    let mut command = Command::new("node");
    command
        .arg("journeys.mjs")
        .arg(name)
        .current_dir(&dir)
        .env("BASE_URL", &app.address)
        .env("BUSINESS_ID", &app.business_id)
        .env("CASHIER_EMAIL", CASHIER.0)
        .env("CASHIER_PASSWORD", CASHIER.1)
        .env("OWNER_EMAIL", OWNER.0)
        .env("OWNER_PASSWORD", OWNER.1)
        .env("SCREENSHOTS", &screenshots);
    if let Some((id, code)) = member {
        command.env("MEMBER_ID", id).env("MEMBER_CODE", code);
    }
    command.envs(extra.iter().copied());
    let output = command.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    print!("{stdout}");
    assert!(
        output.status.success(),
        "journey {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn member(app: &TestApp) -> (String, String) {
    let reply = app.post(
        "/api/v1/members",
        None,
        r#"{"first_name": "Ben", "email": "ben@example.com"}"#,
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let field = |name: &str| reply.body[name].as_str().unwrap().to_owned();
    (field("id"), field("code"))
}

#[test]
fn a_customer_joins_from_the_shop_qr_code_to_the_card_in_german_within_30_seconds() {
    let app = spawn_app();
    let printed = journey(&app, "join-de", None);
    assert!(printed.contains("to the card in"));
    let members = app.get("/api/v1/members");
    assert_eq!(members.body["items"][0]["language"], "de");
}

#[test]
fn a_customer_joins_from_the_shop_qr_code_to_the_card_in_english_within_30_seconds() {
    let app = spawn_app();
    journey(&app, "join-en", None);
    let members = app.get("/api/v1/members");
    assert_eq!(members.body["items"][0]["language"], "en");
}

#[test]
fn the_card_shows_the_member_qr_code_without_a_connection() {
    let app = spawn_app();
    journey(&app, "card-offline", None);
}

#[test]
fn a_cashier_finds_a_member_and_books_a_purchase_and_a_stamp() {
    let app = spawn_app();
    let (id, code) = member(&app);
    journey(&app, "counter", Some((&id, &code)));
    let balance = app.member(&id);
    assert_eq!(balance["points"], 50 + 4);
    assert_eq!(
        balance["stamps"]["coffee"], 1,
        "the purchase had no coffee; the stamp button gave one"
    );
}

#[test]
fn visits_recorded_at_the_counter_while_offline_arrive_once_each_when_it_is_back() {
    let app = spawn_app();
    let (id, code) = member(&app);
    journey(&app, "counter-offline", Some((&id, &code)));
    assert_eq!(app.member(&id)["stamps"]["coffee"], 2);
}

#[test]
fn a_member_signs_in_on_a_second_device_with_the_link_a_real_smtp_server_received() {
    let app = spawn_app();
    let (id, code) = member(&app);
    journey_with(
        &app,
        "request-link",
        Some((&id, &code)),
        &[("MEMBER_EMAIL", "ben@example.com")],
    );
    let mail = app.mailbox.wait_for("ben@example.com");
    let start = mail
        .message
        .find("/card/open/")
        .expect("a sign-in link in the mail");
    let link: String = mail.message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    journey_with(&app, "open-link", Some((&id, &code)), &[("LINK", &link)]);
}

#[test]
fn the_owner_launches_a_program_with_the_wizard_and_the_downloaded_poster_leads_to_the_join_page() {
    let app = spawn_app();
    let printed = journey(&app, "wizard", None);
    let join_url = format!("{}/join/{}", app.address, app.business_id);
    let downloads: Vec<&str> = printed
        .lines()
        .filter_map(|line| line.strip_prefix("downloaded "))
        .collect();
    assert_eq!(downloads.len(), 2, "the poster as PDF and PNG");
    for path in downloads {
        let image = if path.ends_with(".pdf") {
            let stem = path.trim_end_matches(".pdf").to_owned() + "-rendered";
            let status = Command::new("pdftoppm")
                .args(["-png", "-r", "150", "-singlefile", path, &stem])
                .status()
                .expect("pdftoppm runs");
            assert!(status.success());
            stem + ".png"
        } else {
            path.to_owned()
        };
        let decoded = Command::new("zbarimg")
            .args(["--quiet", "--raw", &image])
            .output()
            .expect("zbarimg runs");
        assert_eq!(
            String::from_utf8_lossy(&decoded.stdout).trim(),
            join_url,
            "{path}"
        );
    }
    let mut customer = crate::visitor::Visitor::new(&app.address, "de");
    let join_path = format!("/join/{}", app.business_id);
    let form = [
        ("first_name", "Mia"),
        ("email", "mia@example.com"),
        ("terms", "yes"),
    ];
    assert_eq!(customer.post(&join_path, &form).status, 303);
    let card = customer.get("/card").html;
    assert!(
        card.contains("0 von 8 Stempeln"),
        "the card follows the launched program"
    );
}

/// A video of the member's QR code, as a camera would see it held up (YUV4MPEG2, which
/// chromium plays as its camera).
fn qr_video(payload: &str) -> PathBuf {
    let code = qrcode::QrCode::new(payload.as_bytes()).unwrap();
    let (width, height, module) = (640usize, 480usize, 8usize);
    let side = (code.width() + 8) * module;
    let (left, top) = ((width - side) / 2, (height - side) / 2);
    let colors = code.to_colors();
    let mut luma = vec![235u8; width * height];
    for y in 0..side {
        for x in 0..side {
            let (row, column) = (y / module, x / module);
            let inside =
                (4..code.width() + 4).contains(&row) && (4..code.width() + 4).contains(&column);
            if inside && colors[(row - 4) * code.width() + (column - 4)] == qrcode::Color::Dark {
                luma[(top + y) * width + left + x] = 16;
            }
        }
    }
    let mut video = format!("YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..10 {
        video.extend_from_slice(b"FRAME\n");
        video.extend_from_slice(&luma);
        video.extend(std::iter::repeat_n(128u8, width * height / 2));
    }
    let path = std::env::temp_dir().join(format!(
        "stammgast-camera-{}.y4m",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, video).unwrap();
    path
}

#[test]
fn a_cashier_scans_the_member_qr_code_with_the_camera() {
    let app = spawn_app();
    let (id, code) = member(&app);
    let video = qr_video(&format!("SG1:{code}"));
    let printed = journey_with(
        &app,
        "scan",
        Some((&id, &code)),
        &[("FAKE_CAMERA", video.to_str().unwrap())],
    );
    assert!(printed.contains("the camera found the member's card"));
}

#[test]
fn the_owner_imports_a_customer_list_with_a_dry_run_and_a_progress_display() {
    let app = spawn_app();
    let mut csv = String::from("Vorname;E-Mail\n");
    for n in 0..1_200 {
        csv.push_str(&format!("Gast {n};gast{n}@example.com\n"));
    }
    csv.push_str("Ohne Kontakt;\n");
    let path = std::env::temp_dir().join(format!(
        "stammgast-import-{}.csv",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, csv).unwrap();
    let printed = journey_with(
        &app,
        "import",
        None,
        &[("CSV_FILE", path.to_str().unwrap())],
    );
    assert!(printed.contains("Probelauf: 1201 Zeilen, 1200 würden neu angelegt, 0 sind schon Mitglied, 1 mit Fehlern."), "{printed}");
    assert!(
        printed.contains("Importiert: 1201 Zeilen, 1200 neu angelegt"),
        "{printed}"
    );
    assert!(printed.contains("(progress 3/3 parts)"), "{printed}");
    assert_eq!(crate::office::member_count(&app), 1_200);
}

#[test]
fn the_owner_reads_the_dashboard_with_its_charts_and_downloads_a_table() {
    let app = spawn_app();
    let (anna, _) = member(&app);
    let ben = app.join("Ben", "ben.dashboard@example.com");
    for (who, amount, key) in [
        (&anna, "4.50", "d1"),
        (&anna, "6.00", "d2"),
        (&ben, "3.20", "d3"),
    ] {
        assert_eq!(app.purchase(who, amount, key).status, 201);
    }
    let answer = format!(r#"{{"member_id": "{anna}", "score": 10}}"#);
    assert_eq!(app.post("/api/v1/surveys/nps", None, &answer).status, 201);
    let printed = journey(&app, "dashboard", None);
    assert!(printed.contains("dashboard: 5 charts drawn"), "{printed}");
    assert!(printed.contains("dashboard: members 2"), "{printed}");
    assert!(printed.contains("dashboard: revenue €13.70"), "{printed}");
    assert!(printed.contains("dashboard: nps 100.00"), "{printed}");
    assert!(
        printed.contains("dashboard csv: kpi,unit,value,previous,change,formula"),
        "{printed}"
    );
    assert!(
        printed.contains("dashboard csv rows: 22"),
        "a header and 21 KPIs: {printed}"
    );
}

#[test]
fn the_owner_builds_a_segment_from_a_filter_sees_a_typo_marked_and_previews_whom_it_finds() {
    let app = spawn_app();
    let (ben, _) = member(&app);
    let cem = app.join("Cem", "cem.segments@example.com");
    let cake = |member: &str, key: &str| {
        let body = format!(
            r#"{{"member_id": "{member}", "amount": "3.80", "currency": "EUR", "items": [{{"category": "Kuchen"}}]}}"#
        );
        assert_eq!(app.post("/api/v1/purchases", Some(key), &body).status, 201);
    };
    cake(&ben, "s1");
    cake(&ben, "s2");
    cake(&cem, "s3");
    let printed = journey(&app, "segments", None);
    assert!(
        printed.contains(
            "segments error: Zeichen 29: Nach „visits >=“ fehlt eine Zahl; dort steht „zwei“."
        ),
        "{printed}"
    );
    assert!(printed.contains("segments marked: z"), "{printed}");
    assert!(printed.contains("segments invalid: true"), "{printed}");
    assert!(
        printed.contains("segments preview: Dieser Filter findet ein Mitglied: Ben."),
        "the member with two cake purchases: {printed}"
    );
    assert!(
        printed.contains(
            "segments saved: „Kuchenfreunde“ ist gespeichert und hat jetzt ein Mitglied."
        ),
        "{printed}"
    );
    assert!(
        printed.contains("segments row: Kuchenfreunde | bought kuchen und visits >= 2 | 1"),
        "{printed}"
    );
}

#[test]
fn the_owner_sets_up_the_win_back_automation_from_its_template_sees_who_gets_it_and_tests_it() {
    let app = spawn_app();
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(61)).to_rfc3339();
    for (name, email) in [
        ("Anna", "anna.away@example.com"),
        ("Ben", "ben.away@example.com"),
    ] {
        let mut guest = crate::visitor::Visitor::new(&app.address, "de");
        let fields = [
            ("first_name", name),
            ("email", email),
            ("terms", "yes"),
            ("marketing_email", "yes"),
        ];
        assert_eq!(
            guest
                .post(&format!("/join/{}", app.business_id), &fields)
                .status,
            303
        );
        let mail = app.mailbox.wait_for(email);
        let link = crate::pages::link_in(&mail.message, "/consent/confirm/");
        assert_eq!(guest.get(&link).status, 200);
        let body = format!(
            r#"{{"member_id": "{}", "amount": "8.00", "currency": "EUR", "occurred_at": "{long_ago}"}}"#,
            member_id_of(&app, email)
        );
        assert_eq!(
            app.post("/api/v1/purchases", Some(email), &body).status,
            201
        );
    }
    let printed = journey(&app, "win-back", None);
    assert!(
        printed.contains("win-back created: „Wir vermissen dich“ ist angelegt und noch pausiert"),
        "{printed}"
    );
    assert!(
        printed.contains("win-back audience: Jetzt bekämen sie 2 Mitglieder"),
        "both stayed away 61 days: {printed}"
    );
    assert!(
        printed.contains(&format!(
            "win-back test: Die Testmail ist an {} unterwegs.",
            OWNER.0
        )),
        "{printed}"
    );
    assert!(
        printed.contains("win-back row: Wir vermissen dich aktiv"),
        "{printed}"
    );
    assert!(
        printed.contains("win-back uplift: Noch keine Messung"),
        "{printed}"
    );
    let test = app.mailbox.wait_for(OWNER.0);
    assert!(test.message.contains("Hallo "), "{}", test.message);
    assert!(
        test.message.contains("Keine solchen Nachrichten mehr:"),
        "{}",
        test.message
    );
}

/// A member's id, found by their email address in the member list.
fn member_id_of(app: &TestApp, email: &str) -> String {
    let list = app.get("/api/v1/members?limit=100");
    let member = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("{email} is a member: {}", list.body));
    member["id"].as_str().unwrap().to_owned()
}
