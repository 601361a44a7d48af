//! `stammgast bench`: ingestion and HTTP figures on SQLite and PostgreSQL, printed.
//!
//! The workload is the demo's simulated café history (regulars, occasional guests,
//! churners; baskets of coffee and pastries). Ingestion runs through the same use case as
//! the bulk endpoint (rules, ledger, stamp cards, tiers, aggregates; 10,000 events per
//! transaction) and is set next to bare inserts of the rows it wrote, on each backend. HTTP load
//! comes from `wrk` (64 connections) posting single purchases, each with its own
//! Idempotency-Key. The analytics figures (`bench_analytics`) come first and after each
//! ingestion.

use crate::demo::purchase;
use crate::history::{self, Customer};
use anyhow::Context;
use chrono::{Duration, Utc};
use stammgast_app::{App, Caller, Clock, JoinMember};
use stammgast_core::batch::Outcome;
use stammgast_core::ids::MemberId;
use stammgast_store::sql::Backend;
use stammgast_store::{PurchaseRows, Store};
use stammgast_store_postgres::PostgresBackend;
use stammgast_store_sqlite::SqliteBackend;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::task::JoinSet;

#[derive(clap::Args)]
pub struct BenchOptions {
    /// Purchases to ingest per backend.
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    /// Customers to simulate (members to enrol).
    #[arg(long, default_value_t = 20_000)]
    customers: usize,
    /// Seconds of HTTP load per backend.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// PostgreSQL server for its figures; a fresh database is created on it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Measure SQLite only.
    #[arg(long)]
    sqlite_only: bool,
    /// Only what the dashboard needs at scale: enrol, ingest, then time the report and the
    /// analytics refresh on SQLite (no bare inserts, ledger check or HTTP load, which
    /// would read every row of a very large history back). The history is loaded member by
    /// member, each member's visits in time order, as a shop's import from its previous
    /// system would: the same purchases and the same state as in time order, but written
    /// next to each other instead of all over a history larger than the machine's memory.
    #[arg(long)]
    dashboard_only: bool,
    /// A Python with the `lifetimes` package, to time it next to `clv fit` (scripts/bench
    /// installs one).
    #[arg(long)]
    lifetimes_python: Option<PathBuf>,
}

const EVENTS_PER_REQUEST: usize = 10_000;
/// Bulk requests a client keeps in flight (the writer may commit them together).
const BULK_REQUESTS_IN_FLIGHT: usize = 4;
const HTTP_CONNECTIONS: usize = 64;
/// Members the HTTP load spreads its purchases over.
const HTTP_MEMBERS: usize = 1_000;

struct Workload {
    customers: Vec<Customer>,
    /// (customer, visit) in time order.
    purchases: Vec<(usize, usize)>,
}

pub async fn run(options: BenchOptions) -> anyhow::Result<()> {
    crate::bench_analytics::model_timings(options.lifetimes_python.as_deref())?;
    let workload = workload(&options);
    println!(
        "workload: {} customers, {} purchases over 18 months (simulated café history), {}",
        workload.customers.len(),
        workload.purchases.len(),
        if options.dashboard_only {
            "loaded member by member"
        } else {
            "in time order"
        }
    );
    let folder = Scratch::create()?;
    let scratch = folder.path();
    if options.dashboard_only {
        let sqlite = Store::open(SqliteBackend::new(scratch.join("stammgast.db"))).await?;
        let ingested = ingest("SQLite", sqlite, &workload, false).await?;
        return report_timings("SQLite", &ingested, &workload).await;
    }
    let bare = bare_sqlite_insert(&workload, &scratch.join("bare.db")).await?;
    println!("SQLite: bare insert of the same event rows: {bare:.0} rows/s");

    let sqlite_path = scratch.join("stammgast.db");
    let sqlite = Store::open(SqliteBackend::new(&sqlite_path)).await?;
    let ingested = ingest("SQLite", sqlite, &workload, true).await?;
    println!(
        "SQLite: ingestion takes {:.2}× the time of the bare insert of its event rows",
        bare / ingested.events_per_second
    );
    let (rows, seconds) = bare_insert_written_rows(
        SqliteBackend::new(&sqlite_path),
        SqliteBackend::new(scratch.join("written.db")),
    )
    .await?;
    report_bare_insert("SQLite", rows, seconds, &ingested);
    ingested.store.checkpoint().await?;
    report_timings("SQLite", &ingested, &workload).await?;
    http_load("SQLite", &ingested, options.seconds).await?;

    if !options.sqlite_only {
        let database = ScratchDatabase(PostgresBackend::from_url(&format!(
            "{}/stammgast_bench_{}",
            options.postgres,
            uuid::Uuid::new_v4().simple()
        ))?);
        let postgres = Store::open(database.0.clone()).await?;
        println!(
            "PostgreSQL: server as configured (not tuned by the benchmark): {}",
            server_settings(&database.0).await?
        );
        let ingested = ingest("PostgreSQL", postgres, &workload, true).await?;
        let bare = ScratchDatabase(PostgresBackend::from_url(&format!(
            "{}/stammgast_bench_bare_{}",
            options.postgres,
            uuid::Uuid::new_v4().simple()
        ))?);
        let (rows, seconds) = bare_insert_written_rows(database.0.clone(), bare.0.clone()).await?;
        report_bare_insert("PostgreSQL", rows, seconds, &ingested);
        drop(bare);
        ingested.store.checkpoint().await?;
        report_timings("PostgreSQL", &ingested, &workload).await?;
        http_load("PostgreSQL", &ingested, options.seconds).await?;
    }
    Ok(())
}

/// The benchmark's own folder for its databases, removed when the run ends, however it ends
/// (a database of a large run takes tens of gigabytes).
struct Scratch(PathBuf);

impl Scratch {
    fn create() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("stammgast-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The benchmark's PostgreSQL database, dropped when the run ends, however it ends (half a
/// gigabyte for the default run).
struct ScratchDatabase(PostgresBackend);

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        // The synchronous client runs a runtime of its own, which must not start on one of
        // tokio's threads.
        let backend = self.0.clone();
        let dropped = std::thread::spawn(move || backend.drop_database()).join();
        if let Ok(Err(error)) = dropped {
            eprintln!("cannot drop the benchmark's PostgreSQL database: {error}");
        }
    }
}

/// The server's settings that most shape its figures, as one line.
async fn server_settings(backend: &PostgresBackend) -> anyhow::Result<String> {
    let backend = backend.clone();
    // The synchronous client must not run on one of tokio's threads.
    let settings = tokio::task::spawn_blocking(move || backend.performance_settings()).await??;
    Ok(settings
        .iter()
        .map(|(name, value)| format!("{name} {value}"))
        .collect::<Vec<_>>()
        .join(", "))
}

fn workload(options: &BenchOptions) -> Workload {
    let end = Utc::now();
    let customers = history::simulate(options.customers, end - Duration::days(540), end, 42);
    let mut purchases: Vec<(usize, usize)> = customers
        .iter()
        .enumerate()
        .flat_map(|(c, customer)| (0..customer.visits.len()).map(move |v| (c, v)))
        .collect();
    purchases.sort_by_key(|&(c, v)| customers[c].visits[v].at);
    purchases.truncate(options.events);
    if options.dashboard_only {
        // Member by member; a member's visits are in time order already.
        purchases.sort_unstable();
    }
    Workload {
        customers,
        purchases,
    }
}

/// The dashboard's report and the analytics refresh on the ingested business.
async fn report_timings(
    name: &str,
    ingested: &Ingested,
    workload: &Workload,
) -> anyhow::Result<()> {
    let app = App::new(ingested.store.clone(), Clock::system());
    crate::bench_analytics::report_timings(
        name,
        &app,
        ingested.business_id,
        workload.customers.len(),
        workload.purchases.len(),
    )
    .await
}

fn report_bare_insert(name: &str, rows: usize, seconds: f64, ingested: &Ingested) {
    println!(
        "{name}: bare insert of the event and transfer rows the ingestion wrote ({rows} rows): \
         {seconds:.2} s; ingestion took {:.2} s ({:.2}×)",
        ingested.seconds,
        ingested.seconds / seconds
    );
}

/// A backend after ingestion: what the HTTP load needs, and how fast it went.
struct Ingested {
    store: Store,
    business_id: stammgast_core::ids::BusinessId,
    api_key: String,
    members: Vec<MemberId>,
    seconds: f64,
    events_per_second: f64,
}

/// Enrols the customers, ingests their purchases in bulk and checks the ledger (`check`).
async fn ingest(
    name: &str,
    store: Store,
    workload: &Workload,
    check: bool,
) -> anyhow::Result<Ingested> {
    let app = App::new(store.clone(), Clock::system());
    let created = app.create_business("Café Morgenrot", None).await?;
    let caller = app.authenticate(&created.api_key).await?;
    let started = Instant::now();
    let members = enrol(&app, &caller, &workload.customers).await?;
    let joins_per_second = members.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "{name}: {} concurrent sign-ups at {joins_per_second:.0}/s (group commit)",
        members.len()
    );
    // What the worker's first pass does (on PostgreSQL: ANALYZE, which a server with
    // autovacuum off, like this machine's, never runs by itself).
    store.refresh_statistics().await?;

    let started = Instant::now();
    let mut recorded = 0;
    let mut in_flight = JoinSet::new();
    for chunk in workload.purchases.chunks(EVENTS_PER_REQUEST) {
        let events = chunk
            .iter()
            .map(|&(c, v)| (None, purchase(members[c], &workload.customers[c].visits[v])))
            .collect();
        let (app, caller) = (app.clone(), caller.clone());
        in_flight.spawn(async move { app.record_events(&caller, events).await });
        if in_flight.len() >= BULK_REQUESTS_IN_FLIGHT {
            recorded += count_recorded(in_flight.join_next().await)?;
        }
    }
    while let Some(done) = in_flight.join_next().await {
        recorded += count_recorded(Some(done))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let events_per_second = recorded as f64 / seconds;
    println!(
        "{name}: batch ingestion of {recorded} events (rules, ledger, stamp cards, tiers, aggregates) at {events_per_second:.0} events/s"
    );
    let reports = if check {
        app.check().await?
    } else {
        Vec::new()
    };
    for report in reports {
        let verdict = if report.violations.is_empty() {
            "ok"
        } else {
            "FAILED"
        };
        println!(
            "{name}: ledger check after ingestion: {} transfers, {verdict}",
            report.transfers
        );
    }
    let members = members[..members.len().min(HTTP_MEMBERS)].to_vec();
    Ok(Ingested {
        store,
        business_id: created.business_id,
        api_key: created.api_key,
        members,
        seconds,
        events_per_second,
    })
}

/// Enrols every customer through the join use case, many at once.
async fn enrol(
    app: &App,
    caller: &Caller,
    customers: &[Customer],
) -> anyhow::Result<Vec<MemberId>> {
    let mut members = vec![None; customers.len()];
    let mut joins = JoinSet::new();
    for (index, customer) in customers.iter().enumerate() {
        let (app, caller) = (app.clone(), caller.clone());
        let join = JoinMember {
            first_name: customer.first_name.into(),
            email: Some(customer.email.clone()),
            ..JoinMember::default()
        };
        joins.spawn(async move { (index, app.join_member(&caller, None, join).await) });
        if joins.len() >= 256 {
            collect_join(joins.join_next().await, &mut members)?;
        }
    }
    while let Some(joined) = joins.join_next().await {
        collect_join(Some(joined), &mut members)?;
    }
    members
        .into_iter()
        .map(|m| m.context("a member did not join"))
        .collect()
}

type Recorded =
    Result<Result<Vec<stammgast_app::Decision>, stammgast_app::AppError>, tokio::task::JoinError>;

fn count_recorded(done: Option<Recorded>) -> anyhow::Result<usize> {
    let Some(done) = done else { return Ok(0) };
    Ok(done??.iter().filter(|d| d.is_ok()).count())
}

type Joined = Result<(usize, Result<Outcome, stammgast_app::AppError>), tokio::task::JoinError>;

fn collect_join(joined: Option<Joined>, members: &mut [Option<MemberId>]) -> anyhow::Result<()> {
    if let Some(joined) = joined {
        let (index, outcome) = joined?;
        if let Outcome::Joined { member_id, .. } = outcome? {
            members[index] = Some(member_id);
        }
    }
    Ok(())
}

/// Reads every event and transfer row the ingestion wrote for the purchases and appends
/// them again, in the order they were written, to a fresh database of the same backend
/// (the store's schema, settings and durability) through the store's own bulk insert
/// (multi-row `INSERT` on SQLite, `COPY` on PostgreSQL), one transaction per 10,000
/// events, but nothing else: no rules, no reads, no member states, no aggregates. The rows
/// written and the seconds it took.
async fn bare_insert_written_rows<B: Backend + Clone>(
    ingested: B,
    bare: B,
) -> anyhow::Result<(usize, f64)> {
    drop(Store::open(bare.clone()).await?);
    // Both clients block; the PostgreSQL one must not run on one of tokio's threads.
    tokio::task::spawn_blocking(move || append_again(&ingested, &bare)).await?
}

fn append_again(ingested: &dyn Backend, bare: &dyn Backend) -> anyhow::Result<(usize, f64)> {
    let written = PurchaseRows::read(ingested.connect()?.as_mut())?;
    let mut target = bare.connect()?;
    let rows = written.len();
    // Cut into transactions before the clock starts.
    let transactions = written.events.len().div_ceil(EVENTS_PER_REQUEST).max(1);
    let transfers_per_transaction = written.transfers.len().div_ceil(transactions).max(1);
    let (mut events, mut transfers) = (written.events.into_iter(), written.transfers.into_iter());
    let batches: Vec<PurchaseRows> = (0..transactions)
        .map(|_| PurchaseRows {
            events: events.by_ref().take(EVENTS_PER_REQUEST).collect(),
            transfers: transfers.by_ref().take(transfers_per_transaction).collect(),
        })
        .collect();
    let started = Instant::now();
    for batch in batches {
        target.begin()?;
        batch.append(target.as_mut())?;
        target.commit()?;
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

/// A connection to a fresh database of the store's schema, with the store's settings.
async fn bare_connection(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    drop(Store::open(SqliteBackend::new(path)).await?);
    let connection = rusqlite::Connection::open(path)?;
    connection.execute_batch(stammgast_store_sqlite::PRAGMAS)?;
    Ok(connection)
}

/// Inserts the workload's event rows into the `events` table of a fresh database, with the
/// store's settings (durability, page size, cache) and the same 10,000 rows per transaction.
async fn bare_sqlite_insert(workload: &Workload, path: &Path) -> anyhow::Result<f64> {
    let connection = bare_connection(path).await?;
    let business = uuid::Uuid::now_v7().to_string();
    let members: Vec<MemberId> = (0..workload.customers.len())
        .map(|_| MemberId::from_uuid(uuid::Uuid::now_v7()))
        .collect();
    let started = Instant::now();
    for chunk in workload.purchases.chunks(EVENTS_PER_REQUEST) {
        let transaction = connection.unchecked_transaction()?;
        {
            let mut insert = transaction.prepare_cached(
                "INSERT INTO events (business_id, id, member_id, type, amount_cents, location_id, occurred_at, voided_at, record)
                 VALUES (?1, ?2, ?3, 'purchase', ?4, NULL, ?5, NULL, ?6)",
            )?;
            for &(c, v) in chunk {
                let visit = &workload.customers[c].visits[v];
                let record = serde_json::json!({"member_id": members[c], "amount": visit.amount_cents(), "basket": visit.basket});
                insert.execute(rusqlite::params![
                    business,
                    uuid::Uuid::now_v7().to_string(),
                    members[c].to_string(),
                    visit.amount_cents(),
                    visit.at.timestamp_millis(),
                    record.to_string(),
                ])?;
            }
        }
        transaction.commit()?;
    }
    Ok(workload.purchases.len() as f64 / started.elapsed().as_secs_f64())
}

async fn http_load(name: &str, ingested: &Ingested, seconds: u64) -> anyhow::Result<()> {
    let app = App::new(ingested.store.clone(), Clock::system());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(stammgast_http::serve(
        listener,
        stammgast_http::router(app, stammgast_http::Site::default()),
        async {
            let _ = stopped.await;
        },
    ));
    let script = wrk_script(&ingested.api_key, &ingested.members)?;
    let output = tokio::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{HTTP_CONNECTIONS}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(format!("http://{address}/api/v1/purchases"))
        .output()
        .await
        .context("cannot run wrk (install it: apt-get install wrk, or use scripts/bench)");
    let _ = std::fs::remove_file(&script);
    let output = output?;
    let _ = stop.send(());
    let _ = server.await;
    // Requests wrk left behind when it stopped are still queued for the writer; they are
    // committed before the run goes on (and drops the database under them).
    ingested.store.settle().await?;
    let report = String::from_utf8_lossy(&output.stdout);
    let figure = |label: &str| {
        report
            .lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix(label)
                    .map(|rest| rest.trim().to_owned())
            })
            .unwrap_or_else(|| "?".into())
    };
    println!(
        "{name}: HTTP single purchases, {HTTP_CONNECTIONS} connections, {seconds} s: {} req/s, p50 {}, p99 {}{}",
        figure("Requests/sec:"),
        figure("50%"),
        figure("99%"),
        report
            .lines()
            .find(|l| l.contains("Non-2xx"))
            .map(|l| format!(" — {}", l.trim()))
            .unwrap_or_default()
    );
    Ok(())
}

/// A wrk script that posts purchases for random members, each with a unique key.
fn wrk_script(api_key: &str, members: &[MemberId]) -> anyhow::Result<PathBuf> {
    let ids: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
    let script = format!(
        r#"local members = {{{ids}}}
local counter = 0
local next_thread = 0
setup = function(thread)
  next_thread = next_thread + 1
  thread:set("thread_id", next_thread)
end
request = function()
  counter = counter + 1
  local member = members[math.random(#members)]
  local body = '{{"member_id":"' .. member .. '","amount":"4.20","currency":"EUR","items":[{{"category":"coffee"}}]}}'
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer {api_key}"
  headers["Idempotency-Key"] = "bench-" .. thread_id .. "-" .. counter
  return wrk.format("POST", nil, headers, body)
end
"#,
        ids = ids.join(",")
    );
    let path = std::env::temp_dir().join(format!("stammgast-bench-{}.lua", std::process::id()));
    std::fs::write(&path, script)?;
    Ok(path)
}
