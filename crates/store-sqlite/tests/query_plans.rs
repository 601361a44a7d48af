//! The planner finds one member's rows through the member's indexes, never by reading the
//! whole business (what SQLite would do without the statistics of migration 0009). Each
//! query has the shape of one the store sends.

use stammgast_store::Store;
use stammgast_store_sqlite::SqliteBackend;

const MEMBER_QUERIES: &[(&str, &str)] = &[
    (
        "a member's transfers tied to no event (history, lots)",
        "SELECT * FROM transfers WHERE business_id = ?1 AND member_id = ?2 AND event_id IS NULL",
    ),
    (
        "the transfers of a member's events (history, lots)",
        "SELECT t.* FROM events e JOIN transfers t ON t.business_id = e.business_id \
         AND t.event_id = e.id WHERE e.business_id = ?1 AND e.member_id = ?2",
    ),
    (
        "what was taken from a lot",
        "SELECT SUM(amount) FROM lot_consumptions WHERE business_id = ?1 AND lot_id = ?2",
    ),
    (
        "a member's coupons",
        "SELECT record FROM coupons WHERE business_id = ?1 AND member_id = ?2",
    ),
    (
        "a member's events, newest first",
        "SELECT * FROM events WHERE business_id = ?1 AND member_id = ?2 \
         ORDER BY occurred_at DESC LIMIT 20",
    ),
];

#[tokio::test]
async fn a_members_rows_are_found_by_their_index_not_by_reading_the_whole_business() {
    let path = std::env::temp_dir().join(format!("stammgast-plans-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    drop(Store::open(SqliteBackend::new(&path)).await.unwrap());
    let connection = rusqlite::Connection::open(&path).unwrap();
    for (what, sql) in MEMBER_QUERIES {
        let mut statement = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let steps: Vec<String> = statement
            .query_map(["business", "member"], |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            steps.iter().all(|step| !step.contains("(business_id=?)")),
            "{what} reads the whole business: {steps:?}"
        );
    }
    let _ = std::fs::remove_file(&path);
}
