#!/usr/bin/env python3
"""The reference CLV fit by the Python `lifetimes` package (0.11.3), against which
`stammgast clv fit` is validated and benchmarked.

Usage: clv-reference.py TRANSACTIONS.csv CALIBRATION_END [REPEATS]

Reads `customer_id,date,amount`, summarises the calibration period the way
`stammgast clv fit` does (time in weeks as days / 7: `freq='D', freq_multiplier=7`), fits
BG/NBD and Gamma-Gamma with lifetimes' defaults, and prints one JSON object with the
estimates, the total log-likelihood and the median fit time over REPEATS runs (seconds).
"""
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data


def main():
    path, calibration_end = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    transactions = pd.read_csv(path, dtype={"customer_id": str}, parse_dates=["date"])
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        summary = summary_data_from_transaction_data(
            transactions[transactions["date"] <= calibration_end],
            "customer_id",
            "date",
            monetary_value_col="amount",
            observation_period_end=calibration_end,
            freq="D",
            freq_multiplier=7,
        )
        bgnbd = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        repeaters = summary[summary["frequency"] > 0]
        gamma_gamma = GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary_value"])
        timings.append(time.perf_counter() - started)
    # lifetimes fits in rescaled time; its own likelihood function, evaluated at the
    # estimates on the data in weeks, gives the total log-likelihood in weeks.
    log_likelihood = -len(summary) * BetaGeoFitter._negative_log_likelihood(
        np.log(bgnbd.params_[["r", "alpha", "a", "b"]].to_numpy()),
        summary["frequency"].to_numpy(),
        summary["recency"].to_numpy(),
        summary["T"].to_numpy(),
        np.ones(len(summary)),
        0.0,
    )
    # Predictions for every 100th customer: P(alive), purchases in the next 52 weeks and
    # the expected spend per visit, each from lifetimes' own estimates.
    sample = summary.iloc[::100]
    predictions = [
        {
            "customer_id": customer_id,
            "probability_alive": float(np.ravel(bgnbd.conditional_probability_alive(row["frequency"], row["recency"], row["T"]))[0]),
            "expected_purchases_52_weeks": float(
                np.ravel(bgnbd.conditional_expected_number_of_purchases_up_to_time(52, row["frequency"], row["recency"], row["T"]))[0]
            ),
            "expected_spend_per_visit": float(
                np.ravel(gamma_gamma.conditional_expected_average_profit(row["frequency"], row["monetary_value"]))[0]
            ),
        }
        for customer_id, row in sample.iterrows()
    ]
    print(json.dumps({
        "bgnbd": {**{k: float(v) for k, v in bgnbd.params_.items()}, "log_likelihood": float(log_likelihood)},
        "gamma_gamma": {k: float(v) for k, v in gamma_gamma.params_.items()},
        "customers": int(len(summary)),
        "fit_seconds": statistics.median(timings),
        "predictions": predictions,
    }))


if __name__ == "__main__":
    main()
