use crate::helpers::fresh_sqlite_path;
use std::process::{Command, Output};

pub fn stammgast(args: &[&str]) -> Output {
    stammgast_with(args, &[])
}

/// The binary with extra environment (`STAMMGAST_*` settings).
pub fn stammgast_with(args: &[&str], environment: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stammgast"))
        .args(args)
        .env_remove("STAMMGAST_DATABASE")
        .envs(environment.iter().copied())
        .output()
        .expect("the binary runs")
}

pub fn create_business(database: &str) -> (String, String) {
    let output = stammgast(&[
        "business",
        "create",
        "--database",
        database,
        "--name",
        "Café Morgenrot",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    (
        created["business_id"].as_str().unwrap().to_owned(),
        created["api_key"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn business_create_prints_an_id_and_a_key_and_check_passes_on_the_new_database() {
    let database = format!("sqlite://{}", fresh_sqlite_path().display());
    let (business_id, api_key) = create_business(&database);
    assert_eq!(business_id.len(), 36);
    assert!(api_key.starts_with("sg_"));
    let check = stammgast(&["check", "--database", &database]);
    assert!(check.status.success());
    assert!(String::from_utf8_lossy(&check.stdout).contains(&format!("business {business_id}")));
}

#[test]
fn an_invalid_program_is_refused_with_its_path_and_reason() {
    let database = format!("sqlite://{}", fresh_sqlite_path().display());
    let program = std::env::temp_dir().join(format!("program-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(
        &program,
        r#"{"rules": [{"id": "x", "when": {"weekdays": ["mox"]}, "then": {"points": 1}}]}"#,
    )
    .unwrap();
    let output = stammgast(&[
        "business",
        "create",
        "--database",
        &database,
        "--name",
        "X",
        "--program",
        program.to_str().unwrap(),
    ]);
    std::fs::remove_file(&program).unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("rules[0].when.weekdays[0]"), "{stderr}");
}

#[test]
fn config_example_prints_every_setting() {
    let output = stammgast(&["config", "example"]);
    let text = String::from_utf8_lossy(&output.stdout);
    for setting in [
        "database",
        "listen",
        "worker_interval_seconds",
        "worker_batch_size",
    ] {
        assert!(text.contains(&format!("{setting} = ")), "{setting}");
    }
}

#[test]
fn a_database_url_of_an_unknown_kind_is_refused() {
    let output = stammgast(&["migrate", "--database", "mysql://localhost/x"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a database URL"));
}

#[test]
fn check_reports_a_balance_that_no_longer_matches_the_ledger_and_exits_non_zero() {
    let path = fresh_sqlite_path();
    let database = format!("sqlite://{}", path.display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let member = runtime.block_on(async {
        let store = stammgast_store::Store::open(stammgast_store_sqlite::SqliteBackend::new(&path))
            .await
            .unwrap();
        let app = stammgast_app::App::new(store, stammgast_app::Clock::system());
        let created = app.create_business("Café Morgenrot", None).await.unwrap();
        let caller = app.authenticate(&created.api_key).await.unwrap();
        let join = stammgast_app::JoinMember {
            first_name: "Anna".into(),
            email: Some("anna@example.com".into()),
            ..Default::default()
        };
        match app.join_member(&caller, None, join).await.unwrap() {
            stammgast_core::batch::Outcome::Joined { member_id, .. } => member_id,
            other => panic!("{other:?}"),
        }
    });
    drop(runtime);
    assert!(
        stammgast(&["check", "--database", &database])
            .status
            .success()
    );

    let tampered = rusqlite::Connection::open(&path).unwrap();
    tampered
        .execute("UPDATE member_states SET points = points + 5", [])
        .unwrap();
    drop(tampered);

    let check = stammgast(&["check", "--database", &database]);
    assert!(!check.status.success());
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        report.contains("FAILED") && report.contains(&member.to_string()),
        "{report}"
    );
}

#[test]
fn staff_create_prints_a_password_the_owner_logs_in_with() {
    let database = format!("sqlite://{}", fresh_sqlite_path().display());
    let (business_id, _) = create_business(&database);
    let output = stammgast(&[
        "staff",
        "create",
        "--database",
        &database,
        "--business",
        &business_id,
        "--email",
        "Lena@Morgenrot.example",
        "--name",
        "Lena",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(created["email"], "lena@morgenrot.example");
    let password = created["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 20);

    let again = stammgast(&[
        "staff",
        "create",
        "--database",
        &database,
        "--business",
        &business_id,
        "--email",
        "lena@morgenrot.example",
        "--name",
        "Lena",
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has a staff account"));
    let bad_role = stammgast(&[
        "staff",
        "create",
        "--database",
        &database,
        "--business",
        &business_id,
        "--email",
        "x@y.de",
        "--name",
        "X",
        "--role",
        "boss",
    ]);
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("is not a role"));

    let (mut server, address) = crate::crash::start_server(&database);
    let mut owner = crate::visitor::Visitor::new(&address, "de");
    let page = owner.post(
        "/login",
        &[("email", "lena@morgenrot.example"), ("password", &password)],
    );
    assert_eq!(page.location.as_deref(), Some("/office"));
    server.kill().unwrap();
    server.wait().unwrap();
}
