//! The analytics figures of `stammgast bench`: the dashboard's report read after ingestion,
//! the worker's refresh of models and segments, placing a million members in their
//! segments, and fitting the lifetime models on the CDNOW sample (next to the Python
//! `lifetimes` package, run in the same benchmark) and on a million simulated customers.

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use stammgast_app::{App, ReportQuery};
use stammgast_core::analytics::membership::place;
use stammgast_core::analytics::segments::{LifecycleThresholds, MemberFacts};
use stammgast_core::clv::{self, Histories, simulate};
use stammgast_core::ids::BusinessId;
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
/// with the churn probability known).
fn million_members_placed() {
    let now = Utc::now();
    let members: Vec<MemberFacts> = simulate::histories(&population(), MILLION, 9)
        .iter()
        .enumerate()
        .map(|(n, h)| {
            let joined = now - Duration::seconds((h.age_weeks * 7.0 * 86_400.0) as i64);
            let last = (h.frequency > 0)
                .then(|| joined + Duration::seconds((h.recency_weeks * 7.0 * 86_400.0) as i64));
            let mut facts = MemberFacts::at(
                now,
                joined,
                last,
                u64::from(h.frequency),
                (h.monetary_value * f64::from(h.frequency)) as i64,
                None,
            );
            facts.probability_alive = Some((n % 100) as f64 / 100.0);
            facts
        })
        .collect();
    let thresholds = LifecycleThresholds::default();
    let mut placed = 0;
    let seconds = median_seconds(|| placed = place(&members, &thresholds).len());
    println!(
        "segment recomputation for {placed} members (lifecycle stage and RFM quintiles and segment each): median {:.0} ms",
        seconds * 1_000.0
    );
}
