"""Savings-plan sizing on real fleet traces: smsim's forecast-based recommendation against
AWS-style 7/30/60-day lookbacks and the hindsight optimum, scored on usage that really happened.

Usage series (on-demand-equivalent USD per hour):

- ``alibaba``: Alibaba GPU cluster v2023 (openb) pods. GPUs in use per hour = sum over scheduled
  pods of ``num_gpu * gpu_milli / 1000`` x the seconds each runs in the hour / 3600, priced at
  ml.g5.xlarge (one A10G GPU) on-demand, 1.41 USD/GPU-hour (us-east-1 list price in the catalog).
- ``philly``: Microsoft Philly per-VC arrivals and GPU counts (Gavel), all 15 VCs on one clock,
  each job given a runtime drawn (seeded) from the Philly runtime distribution, priced at
  ml.p4d.24xlarge / 8 = 3.156 USD/GPU-hour. The pairing of runtimes with arrivals is synthetic.

For each series and several forecast origins: fit on all hours before the origin, recommend, and
score every recommendation on the next ``EVAL_DAYS`` of actual usage (realized savings of the new
commitment over that window, nominal). The plan is a 1-year term, so this scores its first weeks.

Run: ``python benchmarks/bench_commit.py`` (about a minute).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.commit.api import recommend_commitment
from smsim.commit.usage import usage_from_series

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EVAL_DAYS = 28
G5_XLARGE_USD_PER_GPU_HOUR = 1.41
P4D_USD_PER_GPU_HOUR = 25.2513 / 8


def _busy_hours(start_s: np.ndarray, end_s: np.ndarray, weight: np.ndarray, n_hours: int) -> np.ndarray:
    """Weighted busy time per hour (in hours), exact: integrate a step function of +w / -w events."""
    grid = np.arange(n_hours + 1) * 3600.0
    start_s = np.clip(start_s, 0, grid[-1])
    end_s = np.clip(end_s, 0, grid[-1])

    def integral(t):  # sum_i w_i * max(0, min(t, end_i) - start_i) for each grid point
        order_s = np.argsort(start_s)
        s_sorted, ws = start_s[order_s], weight[order_s]
        cum_w, cum_ws = np.concatenate([[0], np.cumsum(ws)]), np.concatenate([[0], np.cumsum(ws * s_sorted)])
        k = np.searchsorted(s_sorted, t, side="right")
        started = cum_w[k] * t - cum_ws[k]
        order_e = np.argsort(end_s)
        e_sorted, we = end_s[order_e], weight[order_e]
        cum_we, cum_wee = np.concatenate([[0], np.cumsum(we)]), np.concatenate([[0], np.cumsum(we * e_sorted)])
        j = np.searchsorted(e_sorted, t, side="right")
        ended = cum_we[j] * t - cum_wee[j]
        return started - ended

    return np.diff(integral(grid)) / 3600.0


def alibaba_series() -> pd.Series:
    pods = pd.read_csv(DATA / "alibaba-gpu-v2023-openb" / "openb_pod_list_default.csv")
    pods = pods[pods["scheduled_time"].notna() & (pods["num_gpu"] > 0)]
    gpus = pods["num_gpu"].to_numpy() * pods["gpu_milli"].to_numpy() / 1000.0
    start = pods["scheduled_time"].to_numpy(dtype=float)
    end = pods["deletion_time"].to_numpy(dtype=float)
    n_hours = int(np.floor(end.max() / 3600.0))
    usd = _busy_hours(start, end, gpus, n_hours) * G5_XLARGE_USD_PER_GPU_HOUR
    return pd.Series(usd, index=pd.date_range("2026-01-01", periods=n_hours, freq="h", tz="UTC"))


def philly_series(seed: int = 0) -> pd.Series:
    jobs = pd.read_csv(DATA / "gavel-philly-vc-arrivals" / "philly_vc_jobs_seed0.csv")
    runtimes = pd.read_csv(DATA / "philly-runtime-alibaba" / "philly_runtime.csv")["runtime"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    start = jobs["arrival_time_s"].to_numpy(dtype=float)
    end = start + rng.choice(runtimes, size=len(start))
    n_hours = int(np.floor(start.max() / 3600.0))
    usd = _busy_hours(start, end, jobs["num_gpus"].to_numpy(dtype=float), n_hours) * P4D_USD_PER_GPU_HOUR
    return pd.Series(usd, index=pd.date_range("2026-01-01", periods=n_hours, freq="h", tz="UTC"))


def run_case(name: str, series: pd.Series, origin_day: int, discount: float, n_paths: int, seed: int) -> dict:
    cut = origin_day * 24
    history, actual = series.iloc[:cut], series.iloc[cut : cut + EVAL_DAYS * 24]
    result = recommend_commitment(
        usage_from_series(history), discount=discount, horizon_hours=len(actual), n_paths=n_paths, seed=seed,
        actual=usage_from_series(actual), stage_at_hours=None,
    )
    ev = result.evaluation
    row = {"series": name, "origin_day": origin_day, "d": discount,
           "actual_od_usd": ev["actual_ondemand_usd"]}
    for key, label in (("smsim", "smsim"), ("lookback_7d", "lb7"), ("lookback_30d", "lb30"),
                       ("lookback_60d", "lb60"), ("hindsight_optimum", "best")):
        row[f"{label}_c"] = ev[key]["commitment_usd_per_hour"]
        row[f"{label}_sav"] = ev[key]["realized_savings_usd"]
    row["smsim_p10"] = result.recommended["p10_savings_usd"]
    row["smsim_p90"] = result.recommended["p90_savings_usd"]
    row["model"] = result.model
    return row


def main(n_paths: int = 200, seed: int = 0) -> pd.DataFrame:
    cases = []
    series = {"alibaba": alibaba_series(), "philly": philly_series()}
    for name, s in series.items():
        days = len(s) // 24
        origins = [d for d in range(60, days - EVAL_DAYS + 1, 14)]
        print(f"{name}: {days} days, mean {s.mean():,.0f} USD/h, origins {origins}", file=sys.stderr)
        for origin in origins:
            for d in (0.20, 0.44):
                cases.append(run_case(name, s, origin, d, n_paths, seed))
    table = pd.DataFrame(cases)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    cols = ["series", "origin_day", "d", "actual_od_usd", "best_c", "smsim_c", "lb7_c", "lb30_c", "lb60_c",
            "best_sav", "smsim_sav", "lb7_sav", "lb30_sav", "lb60_sav", "smsim_p10", "smsim_p90"]
    print(table[cols].round({c: 0 for c in cols if c not in ("series", "d")}).to_string(index=False))
    total = table.groupby(["series", "d"])[["best_sav", "smsim_sav", "lb7_sav", "lb30_sav", "lb60_sav"]].sum()
    print("\nrealized savings summed over origins (USD):")
    print(total.round(0).to_string())
    inside = ((table["smsim_sav"] >= table["smsim_p10"]) & (table["smsim_sav"] <= table["smsim_p90"])).mean()
    print(f"\nsmsim realized savings inside its own P10-P90: {inside:.0%} of {len(table)} cases; model {table['model'].iloc[0]}")
    return table


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"elapsed {time.perf_counter() - t0:.1f} s", file=sys.stderr)
