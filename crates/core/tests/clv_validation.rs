//! The customer-lifetime models checked against an independent implementation and against
//! themselves: on the CDNOW sample that the Python `lifetimes` package ships, the estimates
//! and predictions agree with lifetimes 0.11.3 (whose figures `scripts/clv-reference.py`
//! wrote to `fixtures/cdnow_lifetimes_reference.json`) to three significant digits; and
//! fits on customers simulated from known parameters recover those parameters.

use chrono::NaiveDate;
use serde_json::Value;
use stammgast_core::clv::{self, CustomerHistory, Histories, bgnbd, gamma_gamma, simulate};
use std::collections::HashMap;

const CDNOW: &str = include_str!("fixtures/cdnow_sample.csv");
const REFERENCE: &str = include_str!("fixtures/cdnow_lifetimes_reference.json");

/// Agreement to three significant digits: within half a unit of the third digit.
fn assert_three_digits(name: &str, ours: f64, theirs: f64) {
    let unit = 10f64.powf(theirs.abs().log10().floor() - 2.0);
    assert!(
        (ours - theirs).abs() <= 0.5 * unit,
        "{name}: ours {ours}, lifetimes {theirs}"
    );
}

fn cdnow_at(calibration_end: &str) -> (Vec<(String, CustomerHistory)>, clv::Fit) {
    let transactions = clv::read_transactions_csv(CDNOW).unwrap();
    let end = NaiveDate::parse_from_str(calibration_end, "%Y-%m-%d").unwrap();
    let summaries = clv::summarise(&transactions, end);
    let fit = clv::fit(&Histories::new(summaries.iter().map(|(_, h)| *h))).expect("fit");
    (summaries, fit)
}

fn assert_agrees_with_lifetimes(calibration_end: &str) {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let theirs = &reference[calibration_end];
    let (summaries, fit) = cdnow_at(calibration_end);
    assert_eq!(fit.customers as u64, theirs["customers"].as_u64().unwrap());
    let number = |model: &str, name: &str| theirs[model][name].as_f64().unwrap();
    let bgnbd::Parameters {
        r,
        alpha,
        a,
        b,
        log_likelihood,
    } = fit.bgnbd;
    for (name, ours) in [
        ("r", r),
        ("alpha", alpha),
        ("a", a),
        ("b", b),
        ("log_likelihood", log_likelihood),
    ] {
        assert_three_digits(name, ours, number("bgnbd", name));
    }
    let gamma_gamma::Parameters { p, q, v } = fit.gamma_gamma;
    for (name, ours) in [("p", p), ("q", q), ("v", v)] {
        assert_three_digits(name, ours, number("gamma_gamma", name));
    }
    let histories: HashMap<&str, &CustomerHistory> =
        summaries.iter().map(|(id, h)| (id.as_str(), h)).collect();
    let predictions = theirs["predictions"].as_array().unwrap();
    assert!(predictions.len() > 20);
    for expected in predictions {
        let history = histories[expected["customer_id"].as_str().unwrap()];
        let field = |name: &str| expected[name].as_f64().unwrap();
        assert_three_digits(
            "P(alive)",
            bgnbd::probability_alive(&fit.bgnbd, history),
            field("probability_alive"),
        );
        assert_three_digits(
            "purchases in 52 weeks",
            bgnbd::expected_purchases(&fit.bgnbd, history, 52.0).unwrap(),
            field("expected_purchases_52_weeks"),
        );
        assert_three_digits(
            "spend per visit",
            gamma_gamma::expected_spend_per_visit(
                &fit.gamma_gamma,
                history.frequency,
                history.monetary_value,
            ),
            field("expected_spend_per_visit"),
        );
    }
}

#[test]
fn cdnow_calibrated_on_its_first_39_weeks_agrees_with_lifetimes() {
    // The calibration period of Fader, Hardie & Lee (2005): 1997-01-01 to 1997-09-30.
    assert_agrees_with_lifetimes("1997-09-30");
}

#[test]
fn cdnow_calibrated_on_all_of_1997_agrees_with_lifetimes() {
    assert_agrees_with_lifetimes("1997-12-31");
}

#[test]
fn fits_recover_the_parameters_customers_were_simulated_with() {
    let population = simulate::Population {
        bgnbd: bgnbd::Parameters {
            r: 0.5,
            alpha: 6.0,
            a: 0.9,
            b: 3.0,
            log_likelihood: 0.0,
        },
        gamma_gamma: gamma_gamma::Parameters {
            p: 4.0,
            q: 5.0,
            v: 30.0,
        },
        age_weeks_min: 10.0,
        age_weeks_max: 80.0,
    };
    let histories = Histories::new(simulate::histories(&population, 50_000, 42));
    let fit = clv::fit(&histories).unwrap();
    let within = |name: &str, estimate: f64, truth: f64, share: f64| {
        assert!(
            (estimate / truth - 1.0).abs() < share,
            "{name}: estimated {estimate}, simulated with {truth}"
        );
    };
    within("r", fit.bgnbd.r, 0.5, 0.05);
    within("alpha", fit.bgnbd.alpha, 6.0, 0.08);
    within("a", fit.bgnbd.a, 0.9, 0.15);
    within("b", fit.bgnbd.b, 3.0, 0.15);
    // Gamma-Gamma's parameters trade off against each other; its mean spend p·v/(q − 1)
    // is what predictions use, and is identified much more tightly.
    let gamma_gamma::Parameters { p, q, v } = fit.gamma_gamma;
    within("p", p, 4.0, 0.1);
    within("mean spend", p * v / (q - 1.0), 4.0 * 30.0 / 4.0, 0.03);
}

#[test]
fn predictions_for_a_cdnow_customer_are_consistent() {
    let (summaries, fit) = cdnow_at("1997-09-30");
    for (_, history) in &summaries {
        let prediction = fit.predict(history).unwrap();
        assert!((0.0..=1.0).contains(&prediction.probability_alive));
        assert!(prediction.expected_visits_90_days <= prediction.expected_visits_365_days);
        assert!(prediction.expected_value_365_days >= 0.0);
    }
}

#[test]
fn a_cafe_of_very_regular_guests_still_fits_and_keeps_their_rate() {
    // Nearly everyone comes twice a week: r and α are large, their ratio is the rate. The
    // likelihood must stay precise there (ln Γ differences would not).
    let population = simulate::Population {
        bgnbd: bgnbd::Parameters {
            r: 400.0,
            alpha: 200.0,
            a: 0.5,
            b: 20.0,
            log_likelihood: 0.0,
        },
        gamma_gamma: gamma_gamma::Parameters {
            p: 6.0,
            q: 40.0,
            v: 200.0,
        },
        age_weeks_min: 20.0,
        age_weeks_max: 78.0,
    };
    let histories = Histories::new(simulate::histories(&population, 5_000, 7));
    let fit = clv::fit(&histories).expect("fit");
    let rate = fit.bgnbd.r / fit.bgnbd.alpha;
    assert!((rate / 2.0 - 1.0).abs() < 0.05, "{rate} visits a week");
}
