//! The analytics figures of `stammgast bench`: the dashboard's report read after ingestion,
//! the worker's refresh of models and segments, placing a million members in their
//! segments, and fitting the lifetime models on the CDNOW sample (next to the Python
//! `lifetimes` package, run in the same benchmark) and on a million simulated customers.

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use stammgast_app::{App, ReportQuery};
use stammgast_core::analytics::filter::{self, Filter, MemberProfile};
use stammgast_core::analytics::membership::place;
use stammgast_core::analytics::segments::LifecycleThresholds;
use stammgast_core::analytics::snapshot::{MemberAggregate, member_facts};
use stammgast_core::clv::{self, Histories, simulate};
use stammgast_core::ids::{BusinessId, MemberId, Slug};
use stammgast_core::member::Channel;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Runs of each timed step; the median is printed.
const REPEATS: usize = 7;
/// The CDNOW sample and its calibration period, as in the validation tests.
const CDNOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/tests/fixtures/cdnow_sample.csv"
);
const CDNOW_CALIBRATION_END: &str = "1997-09-30";
const MILLION: usize = 1_000_000;

fn median_seconds(mut run: impl FnMut()) -> f64 {
    let mut seconds: Vec<f64> = (0..REPEATS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    seconds[REPEATS / 2]
}

/// The dashboard's report for this month, this quarter and this year after ingestion,
/// and one refresh of the models and segments.
pub async fn report_timings(
    name: &str,
    app: &App,
    business: BusinessId,
    members: usize,
    events: usize,
) -> anyhow::Result<()> {
    let today = app.now().date_naive();
    let month = today.with_day(1).context("a month")?;
    let quarter = month
        .with_month(month.month0() / 3 * 3 + 1)
        .context("a quarter")?;
    let year = month.with_month(1).context("a year")?;
    let refresh = Instant::now();
    let refreshed = app.refresh_analytics(business).await?;
    println!(
        "{name}: analytics refresh (read {} members' aggregates, fit both models, place every member, record {} moves): {:.2} s",
        refreshed.members,
        refreshed.moves,
        refresh.elapsed().as_secs_f64()
    );
    for (label, from) in [("month", month), ("quarter", quarter), ("year", year)] {
        let query = ReportQuery {
            from,
            to: today,
            location: None,
        };
        let mut times = Vec::new();
        let mut from_aggregates = false;
        for _ in 0..REPEATS {
            let started = Instant::now();
            let report = app.business_report(business, query).await?;
            times.push(started.elapsed().as_secs_f64() * 1_000.0);
            from_aggregates = report.from_aggregates;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: dashboard report for this {label} ({members} members, {events} purchases; from the running aggregates: {from_aggregates}): median {:.1} ms",
            times[REPEATS / 2]
        );
    }
    Ok(())
}

/// Fitting on CDNOW here and in `lifetimes`, fitting on a million customers, and placing a
/// million members in their segments.
pub fn model_timings(lifetimes_python: Option<&Path>) -> anyhow::Result<()> {
    let calibration_end = NaiveDate::parse_from_str(CDNOW_CALIBRATION_END, "%Y-%m-%d")?;
    let text = std::fs::read_to_string(CDNOW)?;
    let transactions = clv::read_transactions_csv(&text)?;
    // Timed as lifetimes is: from the transactions in memory, summarising and both fits.
    let mut fit = None;
    let ours = median_seconds(|| {
        let histories = clv::summarise(&transactions, calibration_end);
        fit = clv::fit(&Histories::new(histories.into_iter().map(|(_, h)| h))).ok();
    });
    let reading = median_seconds(|| drop(clv::read_transactions_csv(&text)));
    let fit = fit.context("CDNOW fits")?;
    println!(
        "clv fit on CDNOW (2,357 customers, calibration to {CDNOW_CALIBRATION_END}; summarising, both models): median {:.2} ms, and {:.2} ms to read the CSV (r = {:.4}, α = {:.4}, a = {:.4}, b = {:.4}; p = {:.3}, q = {:.3}, v = {:.3})",
        ours * 1_000.0,
        reading * 1_000.0,
        fit.bgnbd.r,
        fit.bgnbd.alpha,
        fit.bgnbd.a,
        fit.bgnbd.b,
        fit.gamma_gamma.p,
        fit.gamma_gamma.q,
        fit.gamma_gamma.v
    );
    match lifetimes_python.map(lifetimes_seconds).transpose()? {
        Some(theirs) => println!(
            "lifetimes 0.11.3 on the same data in the same run (summary_data_from_transaction_data and both fits): median {:.1} ms; clv fit is {:.0}× faster ({:.0}× counting its CSV reading)",
            theirs * 1_000.0,
            theirs / ours,
            theirs / (ours + reading)
        ),
        None => {
            println!("lifetimes: not measured (scripts/bench installs it; pass --lifetimes-python)")
        }
    }
    million_customers_fit()?;
    million_members_placed();
    Ok(())
}

/// Runs `scripts/clv-reference.py` and reads its median fit time.
fn lifetimes_seconds(python: &Path) -> anyhow::Result<f64> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/clv-reference.py"
    );
    let output = Command::new(python)
        .args([script, CDNOW, CDNOW_CALIBRATION_END, &REPEATS.to_string()])
        .output()
        .with_context(|| format!("cannot run {}", python.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "lifetimes failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    printed["fit_seconds"]
        .as_f64()
        .context("lifetimes printed no fit_seconds")
}

fn population() -> simulate::Population {
    simulate::Population {
        bgnbd: clv::bgnbd::Parameters {
            r: 0.6,
            alpha: 5.0,
            a: 0.8,
            b: 3.0,
            log_likelihood: 0.0,
        },
        gamma_gamma: clv::gamma_gamma::Parameters {
            p: 5.0,
            q: 4.0,
            v: 1_500.0,
        },
        age_weeks_min: 1.0,
        age_weeks_max: 78.0,
    }
}

fn million_customers_fit() -> anyhow::Result<()> {
    let histories = Histories::new(simulate::histories(&population(), MILLION, 3));
    let started = Instant::now();
    let fit = clv::fit(&histories)?;
    println!(
        "clv fit on 1,000,000 simulated customers (both models): {:.2} s (r = {:.3} for 0.6, α = {:.3} for 5.0, a = {:.3} for 0.8, b = {:.3} for 3.0)",
        started.elapsed().as_secs_f64(),
        fit.bgnbd.r,
        fit.bgnbd.alpha,
        fit.bgnbd.a,
        fit.bgnbd.b
    );
    Ok(())
}

/// Lifecycle stages and RFM quintiles for a million members (the segments' recomputation,
/// with the churn probability known), then three custom segments' filters over them.
fn million_members_placed() {
    let now = Utc::now();
    let profiles: Vec<MemberProfile> = simulate::histories(&population(), MILLION, 9)
        .iter()
        .enumerate()
        .map(|(n, h)| {
            let joined_at = now - Duration::seconds((h.age_weeks * 7.0 * 86_400.0) as i64);
            let last_visit_at = (h.frequency > 0)
                .then(|| joined_at + Duration::seconds((h.recency_weeks * 7.0 * 86_400.0) as i64));
            let categories = ["coffee", "pastry", "cake"][..1 + n % 3]
                .iter()
                .map(|c| c.to_string())
                .collect();
            MemberProfile {
                aggregate: MemberAggregate {
                    member_id: MemberId::from_uuid(uuid::Uuid::from_u128(n as u128)),
                    joined_at,
                    last_visit_at,
                    visits: u64::from(h.frequency),
                    spend_cents: (h.monetary_value * f64::from(h.frequency)) as i64,
                },
                points: i64::from(h.frequency) * 40,
                tier: None,
                birthday: chrono::NaiveDate::from_ymd_opt(1990, 1 + (n % 12) as u32, 1),
                next_expiry_at: None,
                segments: Vec::new(),
                categories,
                tags: if n % 50 == 0 {
                    vec![Slug::parse("stammtisch").unwrap_or_else(|_| unreachable!())]
                } else {
                    Vec::new()
                },
                consents: if n % 3 == 0 {
                    Vec::new()
                } else {
                    vec![Channel::Email]
                },
            }
        })
        .collect();
    let aggregates: Vec<MemberAggregate> = profiles.iter().map(|p| p.aggregate).collect();
    let mut members = member_facts(&aggregates, now, None);
    for (n, facts) in members.iter_mut().enumerate() {
        facts.probability_alive = Some((n % 100) as f64 / 100.0);
    }
    let thresholds = LifecycleThresholds::default();
    let mut placements = Vec::new();
    let seconds = median_seconds(|| placements = place(&members, &thresholds));
    println!(
        "segment recomputation for {} members (lifecycle stage and RFM quintiles and segment each): median {:.0} ms",
        placements.len(),
        seconds * 1_000.0
    );
    let filters = [
        "bought cake and visits >= 5",
        "days_since_last_visit >= 60 and consent email",
        "tag stammtisch or (rfm = champions and birthday_month = 12)",
    ]
    .map(|text| Filter::parse(text, &[]).unwrap_or_else(|e| unreachable!("{text}: {e}")));
    let mut sizes = Vec::new();
    let seconds = median_seconds(|| {
        sizes = filters
            .iter()
            .map(|f| filter::matching(f, &profiles, &members, &placements).len())
            .collect();
    });
    println!(
        "custom segments for {} members (three filters, {sizes:?} members in them): median {:.0} ms",
        profiles.len(),
        seconds * 1_000.0
    );
}
