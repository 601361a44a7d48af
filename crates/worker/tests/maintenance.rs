//! The maintenance pass on a real SQLite store with a clock moved past the expiry date, and
//! the segment moves it records as time passes.

use chrono::{Duration, TimeZone, Utc};
use stammgast_app::{App, Clock, JoinMember};
use stammgast_store::Store;
use stammgast_store_sqlite::SqliteBackend;
use stammgast_worker::{PassReport, Worker};

const PROGRAM: &str = r#"{"points": {"expiry": {"policy": "after_days", "days": 30}},
  "rules": [{"id": "welcome", "when": {"event": "signup"}, "then": {"points": 25}}]}"#;

/// A bakery on a fresh SQLite file where Ida joined at `joined_at`.
struct Bakery {
    store: Store,
    joined_at: chrono::DateTime<Utc>,
    created: stammgast_app::CreatedBusiness,
    app: App,
    caller: stammgast_app::Caller,
}

impl Bakery {
    async fn open(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("stammgast-worker-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let store = Store::open(SqliteBackend::new(&path)).await.unwrap();
        let joined_at = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
        let app = App::new(store.clone(), Clock::fixed(joined_at));
        let created = app
            .create_business("Bäckerei Kranz", Some(PROGRAM))
            .await
            .unwrap();
        let caller = app.authenticate(&created.api_key).await.unwrap();
        let join = JoinMember {
            first_name: "Ida".into(),
            email: Some("ida@example.com".into()),
            ..JoinMember::default()
        };
        app.join_member(&caller, None, join).await.unwrap();
        Self {
            store,
            joined_at,
            created,
            app,
            caller,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_expires_points_that_are_due_and_nothing_else() {
    let Bakery {
        store,
        joined_at,
        created,
        ..
    } = Bakery::open("expiry").await;

    let mut early = Worker::new(
        App::new(store.clone(), Clock::fixed(joined_at + Duration::days(10))),
        100,
    );
    let report = early.pass().await.unwrap();
    assert_eq!(
        report,
        PassReport {
            members_placed: 1,
            segment_moves: 1,
            ..PassReport::default()
        },
        "nothing to expire yet; Ida enters the new members"
    );

    let mut late = Worker::new(
        App::new(store.clone(), Clock::fixed(joined_at + Duration::days(40))),
        100,
    );
    assert_eq!(late.pass().await.unwrap().members_expired, 1);
    assert_eq!(
        late.pass().await.unwrap().members_expired,
        0,
        "nothing is expired twice"
    );
    let members = store
        .members(created.business_id, &Default::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(members.items[0].state.points.available(), 0);
    let moves: Vec<(String, bool)> = store
        .segment_transitions(created.business_id, joined_at, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.segment, t.entered))
        .collect();
    assert_eq!(
        moves,
        [
            ("lifecycle:new".to_owned(), true),
            ("lifecycle:new".to_owned(), false),
            ("lifecycle:active".to_owned(), true),
        ],
        "30 days after joining Ida is no longer new, each move recorded once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_enters_a_custom_segment_when_its_filter_comes_true_once_with_two_workers() {
    let Bakery {
        store,
        joined_at,
        created,
        app,
        caller,
    } = Bakery::open("custom").await;
    let segment = app
        .save_custom_segment(
            &caller,
            None,
            "Lange nicht gesehen",
            "days_since_last_visit >= 30",
        )
        .await
        .unwrap();
    assert_eq!(segment.members, 0, "Ida joined today");

    let worker = || {
        Worker::new(
            App::new(store.clone(), Clock::fixed(joined_at + Duration::days(31))),
            100,
        )
    };
    let (mut first, mut second) = (worker(), worker());
    let (a, b) = tokio::join!(first.pass(), second.pass());
    let custom_moves: Vec<(String, bool)> = store
        .segment_transitions(created.business_id, joined_at, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.segment.starts_with("custom:"))
        .map(|t| (t.segment, t.entered))
        .collect();
    assert_eq!(
        custom_moves,
        [("custom:lange-nicht-gesehen".to_owned(), true)],
        "a month without a visit: Ida enters, recorded once though two workers counted ({a:?}, {b:?})"
    );
    let segments = app.custom_segments(&caller).await.unwrap();
    assert_eq!(segments[0].members, 1);
}
