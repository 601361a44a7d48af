//! kill -9 during bulk ingestion: every event the server acknowledged is there after a
//! restart, and the ledger checks out.

use crate::cli::{create_business, stammgast};
use crate::helpers::{TestApp, fresh_postgres_url, fresh_sqlite_path};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub fn start_server(database: &str) -> (Child, String) {
    start_server_with(database, &[])
}

/// The real server with extra environment (`STAMMGAST_*` settings).
pub fn start_server_with(database: &str, environment: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stammgast"))
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .envs(environment.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let address = first_line
        .trim()
        .strip_prefix("listening on ")
        .expect("the server says where it listens")
        .to_owned();
    (child, address)
}

type Acknowledged = Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>;

/// Sends batches until the server goes away, recording every event it acknowledged.
fn ingest(
    app: &TestApp,
    members: &[String],
    sender: usize,
    acknowledged: &Acknowledged,
    stop: &AtomicBool,
) {
    for round in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let events: Vec<_> = (0..200)
            .map(|i| json!({"type": "purchase", "member_id": members[(i + round) % members.len()], "amount": "3.80", "currency": "EUR"}))
            .collect();
        let body = json!({"events": events}).to_string();
        let key = format!("s{sender}-r{round}");
        let Ok(reply) = app.try_post_as(&app.api_key, "/api/v1/events:batch", Some(&key), &body)
        else {
            return;
        };
        if reply.status != 200 {
            return;
        }
        let mut acknowledged = acknowledged.lock().unwrap();
        for result in reply.body["results"].as_array().unwrap() {
            let event = &result["event"];
            acknowledged
                .entry(event["member_id"].as_str().unwrap().to_owned())
                .or_default()
                .insert(event["event_id"].as_str().unwrap().to_owned());
        }
    }
}

#[test]
fn every_acknowledged_event_survives_kill_9_and_the_ledger_checks_out_on_sqlite() {
    survives_kill_9(&format!("sqlite://{}", fresh_sqlite_path().display()));
}

#[test]
fn every_acknowledged_event_survives_kill_9_and_the_ledger_checks_out_on_postgres() {
    survives_kill_9(&fresh_postgres_url());
}

fn survives_kill_9(database: &str) {
    let (_, api_key) = create_business(database);
    let (mut server, address) = start_server(database);
    let app = TestApp::attach(address, api_key.clone());
    let members: Vec<String> = (0..20)
        .map(|i| app.join("Gast", &format!("gast{i}@example.com")))
        .collect();

    let acknowledged: Acknowledged = Arc::default();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for sender in 0..3 {
            let (app, members, acknowledged, stop) = (&app, &members, &acknowledged, &stop);
            scope.spawn(move || ingest(app, members, sender, acknowledged, stop));
        }
        while acknowledged
            .lock()
            .unwrap()
            .values()
            .map(BTreeSet::len)
            .sum::<usize>()
            < 3_000
        {
            std::thread::yield_now();
        }
        server.kill().expect("kill -9");
        server.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
    });

    let (mut restarted, address) = start_server(database);
    let app = TestApp::attach(address, api_key);
    let acknowledged = acknowledged.lock().unwrap();
    for (member, events) in acknowledged.iter() {
        let mut stored = BTreeSet::new();
        let mut cursor = String::new();
        loop {
            let page = app.get(&format!(
                "/api/v1/members/{member}/events?limit=500{cursor}"
            ));
            for item in page.body["items"].as_array().unwrap() {
                stored.insert(item["event_id"].as_str().unwrap().to_owned());
            }
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        let lost: Vec<_> = events.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "acknowledged but lost after kill -9: {lost:?}"
        );
    }
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    let check = stammgast(&["check", "--database", database]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
