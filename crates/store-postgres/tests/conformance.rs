//! The storage conformance suite on a real PostgreSQL server, each case in a fresh
//! database. The server comes from `STAMMGAST_TEST_POSTGRES` (a URL without a database
//! name), by default the local one the test command starts.

use stammgast_store::Store;
use stammgast_store_postgres::PostgresBackend;

/// A database of its own on the test server (created when a store first opens it).
fn fresh_database_url() -> String {
    let server = std::env::var("STAMMGAST_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    format!("{server}/stammgast_test_{}", uuid::Uuid::new_v4().simple())
}

/// A fresh database as the store creates and migrates it, its store closed again.
async fn created_database_url() -> String {
    let url = fresh_database_url();
    drop(
        Store::open(PostgresBackend::from_url(&url).unwrap())
            .await
            .unwrap(),
    );
    url
}

async fn open() -> Store {
    let backend = PostgresBackend::from_url(&fresh_database_url()).expect("a PostgreSQL URL");
    Store::open(backend)
        .await
        .expect("opens a fresh PostgreSQL store")
}

stammgast_store::conformance_suite!(open);

/// Two app servers: two stores, each with its own writer, on one fresh database.
async fn two_app_servers() -> (Store, Store) {
    let url = fresh_database_url();
    let open = || async {
        Store::open(PostgresBackend::from_url(&url).unwrap())
            .await
            .unwrap()
    };
    (open().await, open().await)
}

/// Several app servers may start at once against a new database: each must find the schema
/// migrated exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_together_migrate_the_database_once() {
    let url = fresh_database_url();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::open(PostgresBackend::from_url(&url).unwrap()).await })
        })
        .collect();
    for start in starts {
        let started = start.await.unwrap();
        assert!(started.is_ok(), "every server starts: {:?}", started.err());
    }
}

/// Two app servers (two stores, two writers) on one database, recording purchases for the
/// same member at once and retrying each other's idempotency keys: nothing is lost, nothing
/// counted twice, and the ledger reconciles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_servers_on_one_database_keep_one_consistent_ledger() {
    use stammgast_store::conformance::*;
    let (first, second) = two_app_servers().await;
    let business = new_business(&first).await;
    let member = join(&first, business, "anna@example.com").await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let request = keyed(
                request(business, purchase(member, 1, now())),
                &format!("k{}", i / 2),
                "same",
            );
            tokio::spawn(async move { store.submit(vec![request]).await })
        })
        .collect();
    for task in tasks {
        let decisions = task.await.unwrap().expect("the store answers");
        assert!(decisions[0].is_ok(), "{decisions:?}");
    }
    assert_eq!(points(&second, business, member).await, 10 + 50);
    assert_ledger_consistent(&first, business).await;
}

/// The planner's statistics follow the data even on a server whose autovacuum is off (as
/// on the test machines): the worker's refresh samples every table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statistics_refresh_tells_the_planner_how_many_rows_there_are() {
    use stammgast_store::conformance::*;
    let url = fresh_database_url();
    let store = Store::open(PostgresBackend::from_url(&url).unwrap())
        .await
        .unwrap();
    let business = new_business(&store).await;
    for email in ["anna@example.com", "ben@example.com", "cem@example.com"] {
        join(&store, business, email).await;
    }
    store.refresh_statistics().await.unwrap();
    let row = query_one(
        url,
        "SELECT reltuples FROM pg_class WHERE relname = 'member_states'",
    );
    let estimated: f32 = row.await.get(0);
    assert_eq!(estimated, 3.0, "the planner's estimate of member states");
}

/// A database the store creates compares text byte by byte (the `C` collation), as SQLite
/// does: ids compare fast, and both backends sort names alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_the_store_creates_compares_text_byte_by_byte() {
    let url = created_database_url().await;
    let row = query_one(
        url,
        "SELECT datcollate, 'Zoe' < 'anna' FROM pg_database WHERE datname = current_database()",
    )
    .await;
    assert_eq!(row.get::<_, String>(0), "C");
    assert!(
        row.get::<_, bool>(1),
        "capitals sort before small letters, byte by byte"
    );
}

/// The benchmark reports the server's settings as the server itself states them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_performance_settings_are_read_as_it_states_them() {
    let url = created_database_url().await;
    let backend = PostgresBackend::from_url(&url).unwrap();
    let settings = tokio::task::spawn_blocking(move || backend.performance_settings())
        .await
        .unwrap()
        .unwrap();
    let stated = query_one(url, "SHOW synchronous_commit").await;
    let names: Vec<&str> = settings.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "server_version",
            "shared_buffers",
            "synchronous_commit",
            "max_wal_size"
        ]
    );
    assert_eq!(settings[2].1, stated.get::<_, String>(0));
    assert!(settings.iter().all(|(_, value)| !value.is_empty()));
}

/// One row of `sql` on the database at `url`, read on a blocking thread (the synchronous
/// client runs a runtime of its own).
async fn query_one(url: String, sql: &'static str) -> postgres::Row {
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client.query_one(sql, &[]).unwrap()
    })
    .await
    .unwrap()
}

/// A lookup prepared while its table was nearly empty still uses the index once the table
/// has grown: the store's connections plan each run for the table as it is, where a cached
/// generic plan would have stayed a sequential scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_prepared_on_a_small_table_uses_the_index_once_it_has_grown() {
    use stammgast_store::sql::{Backend, Columns, Connection};
    let url = created_database_url().await;
    let (sequential, indexed) = tokio::task::spawn_blocking(move || {
        let backend = PostgresBackend::from_url(&url).unwrap();
        let mut connection = backend.connect().unwrap();
        let lookup = |connection: &mut Box<dyn Connection>| {
            connection
                .query(
                    "SELECT outcome FROM idempotency WHERE business_id = $1 AND key = $2",
                    &["b".into(), "k-7".into()],
                )
                .unwrap()
        };
        connection.execute_script("ANALYZE idempotency").unwrap();
        for _ in 0..10 {
            lookup(&mut connection);
        }
        connection
            .execute_script(
                "INSERT INTO idempotency (business_id, key, fingerprint, outcome, created_at) \
                 SELECT 'b', 'k-' || n, 'f', repeat('x', 500), 0 FROM generate_series(1, 20000) n",
            )
            .unwrap();
        // The server's count of this session's scans of the table, before and after.
        let scans = |connection: &mut Box<dyn Connection>| {
            let rows = connection
                .query(
                    "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables \
                     WHERE relname = 'idempotency'",
                    &[],
                )
                .unwrap();
            let columns = Columns::of(&rows[0]);
            (columns.int(0).unwrap(), columns.int(1).unwrap())
        };
        connection.begin().unwrap();
        let before = scans(&mut connection);
        for _ in 0..3 {
            assert_eq!(lookup(&mut connection).len(), 1);
        }
        let after = scans(&mut connection);
        (after.0 - before.0, after.1 - before.1)
    })
    .await
    .unwrap();
    assert_eq!((sequential, indexed), (0, 3), "sequential and index scans");
}

/// Two app servers redeeming the one item a reward has in stock, for twenty members at
/// once: exactly one coupon is issued, every other redemption is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_servers_never_issue_more_coupons_than_a_reward_has_in_stock() {
    use stammgast_core::batch::{Command, Outcome};
    use stammgast_core::ids::Slug;
    use stammgast_store::conformance::*;
    let (first, second) = two_app_servers().await;
    let business = new_business(&first).await;
    let one_in_stock = PROGRAM.replace(
        r#""cost": {"points": 20},"#,
        r#""cost": {"points": 20}, "stock": 1,"#,
    );
    assert_ne!(one_in_stock, PROGRAM, "the reward gets a stock");
    first
        .publish_program(business, one_in_stock, now())
        .await
        .unwrap();
    let mut members = Vec::new();
    for index in 0..20 {
        let member = join(&first, business, &format!("m{index}@example.com")).await;
        first
            .submit(vec![request(business, purchase(member, 25, now()))])
            .await
            .unwrap();
        members.push(member);
    }
    let redemptions: Vec<_> = members
        .into_iter()
        .enumerate()
        .map(|(index, member)| {
            let store = if index % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let command = Command::Redeem {
                member_id: member,
                reward_id: Slug::parse("cake").unwrap(),
            };
            tokio::spawn(async move { store.submit(vec![request(business, command)]).await })
        })
        .collect();
    let (mut issued, mut refused) = (0, 0);
    for redemption in redemptions {
        let mut decisions = redemption.await.unwrap().expect("the store answers");
        match decisions.remove(0) {
            Ok(Outcome::Coupon(_)) => issued += 1,
            Err(_) => refused += 1,
            Ok(other) => panic!("a redemption answered {other:?}"),
        }
    }
    assert_eq!(issued, 1, "coupons issued of a reward with one in stock");
    assert_eq!(refused, 19, "redemptions refused");
    assert_ledger_consistent(&first, business).await;
}

/// A group commit that fails as a whole fails none of the requests in it but the one at
/// fault. Here another app server's open transaction has claimed an email that one of three
/// sign-ups gathered into one group also claims: the group reads the email as free, its
/// insert waits for that transaction and fails once it commits. The three sign-ups are then
/// tried one by one: two join, and the third is refused because its email is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_fails_as_a_whole_is_retried_so_only_the_request_at_fault_is_refused() {
    use stammgast_core::batch::Outcome;
    use stammgast_core::engine::DomainError;
    use stammgast_store::conformance::*;
    let url = fresh_database_url();
    let store = Store::open(PostgresBackend::from_url(&url).unwrap())
        .await
        .unwrap();
    let business = new_business(&store).await;
    let sign_up = |email: &str| {
        let (store, request) = (store.clone(), request(business, join_command(email)));
        tokio::spawn(async move { store.submit(vec![request]).await.unwrap().remove(0) })
    };
    // The writer waits on a first sign-up while the three queue up behind it, so that it
    // gathers them into one transaction.
    let mut holds_zed = OtherServer::connect(&url).await;
    holds_zed.claim(business, "zed@example.com").await;
    let zed = sign_up("zed@example.com");
    until_the_writer_waits_for_another_server(&url).await;
    let group = ["anna@example.com", "ben@example.com", "cem@example.com"].map(sign_up);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut holds_anna = OtherServer::connect(&url).await;
    holds_anna.claim(business, "anna@example.com").await;
    holds_zed.run("ROLLBACK").await;
    assert!(matches!(zed.await.unwrap(), Ok(Outcome::Joined { .. })));
    until_the_writer_waits_for_another_server(&url).await;
    holds_anna.run("COMMIT").await;

    let [anna, ben, cem] = group;
    assert_eq!(
        anna.await.unwrap(),
        Err(DomainError::ContactTaken("email".into()))
    );
    assert!(matches!(ben.await.unwrap(), Ok(Outcome::Joined { .. })));
    assert!(matches!(cem.await.unwrap(), Ok(Outcome::Joined { .. })));
}

/// Another app server's session, as plain SQL on a connection of its own.
struct OtherServer(Option<postgres::Client>);

/// The synchronous client blocks when it closes, which an async thread must not.
impl Drop for OtherServer {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            std::thread::spawn(move || drop(client));
        }
    }
}

impl OtherServer {
    async fn connect(url: &str) -> Self {
        let url = url.to_owned();
        let client =
            tokio::task::spawn_blocking(move || postgres::Client::connect(&url, postgres::NoTls))
                .await
                .unwrap()
                .unwrap();
        Self(Some(client))
    }

    async fn run(&mut self, sql: &str) {
        let (mut client, sql) = (self.0.take().unwrap(), sql.to_owned());
        let client = tokio::task::spawn_blocking(move || {
            client.batch_execute(&sql).unwrap();
            client
        })
        .await
        .unwrap();
        self.0 = Some(client);
    }

    /// Opens a transaction that signs up a member with this email and leaves it open.
    async fn claim(&mut self, business: stammgast_core::ids::BusinessId, email: &str) {
        let id = uuid::Uuid::new_v4();
        let code = &id.simple().to_string()[..8];
        self.run(&format!(
            "BEGIN; INSERT INTO members (business_id, id, code, first_name, email, language, joined_at) \
             VALUES ('{business}', '{id}', '{code}', 'Other', '{email}', 'de', 0)"
        ))
        .await;
    }
}

/// Returns once a session of this database waits for a lock another holds (the writer's
/// insert, waiting for the other server's transaction to end).
async fn until_the_writer_waits_for_another_server(url: &str) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        for _ in 0..1_000 {
            let waiting: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    &[],
                )
                .unwrap()
                .get(0);
            if waiting > 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the writer never waited for the other server's transaction");
    })
    .await
    .unwrap();
}

/// A database dropped under a running server comes back as an error when the writer or a
/// reader reconnects, never as a new, empty database taking its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_never_creates_a_dropped_database() {
    use stammgast_store::sql::Backend;
    let url = created_database_url().await;
    tokio::task::spawn_blocking(move || {
        let backend = PostgresBackend::from_url(&url).unwrap();
        backend.drop_database().unwrap();

        for attempt in ["first", "second"] {
            let refused = backend
                .connect()
                .err()
                .expect("no connection to a dropped database");
            assert!(
                refused.to_string().contains("does not exist"),
                "the {attempt} attempt says what failed: {refused}"
            );
        }

        backend.create_if_missing().unwrap();
        assert!(
            backend.connect().is_ok(),
            "opens once the store has created it"
        );
        backend.drop_database().unwrap();
    })
    .await
    .unwrap();
}
