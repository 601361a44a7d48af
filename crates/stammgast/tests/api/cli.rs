use crate::helpers::fresh_sqlite_path;
use std::process::{Command, Output};

pub fn stammgast(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stammgast"))
        .args(args)
        .env_remove("STAMMGAST_DATABASE")
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
