"""Savings-plan sizing on real fleet traces: smsim's forecast-based recommendation against
AWS-style 7/30/60-day lookbacks and the hindsight optimum, scored on usage that really happened.

Usage series (on-demand-equivalent USD per hour), each also played backwards in time
(``alibaba-reversed``: the same fleet shrinking from 60 to 1 USD/h):

- ``alibaba``: Alibaba GPU cluster v2023 (openb) pods. GPUs in use per hour = sum over scheduled
  pods of ``num_gpu * gpu_milli / 1000`` x the seconds each runs in the hour / 3600, priced at
  ml.g5.xlarge (one A10G GPU) on-demand, 1.41 USD/GPU-hour (us-east-1 list price in the catalog).
- ``philly``: Microsoft Philly per-VC arrivals and GPU counts (Gavel), all 15 VCs on one clock,
  each job given a runtime drawn (seeded) from the Philly runtime distribution, priced at
  ml.p4d.24xlarge / 8 = 3.156 USD/GPU-hour. The pairing of runtimes with arrivals is synthetic.

Three cases, each over rolling origins every 7 days (no single origin is picked): fit on the history
before the origin, forecast once, recommend at d = 0.20 and 0.44 on those paths, and score every
recommendation on the next 56 days of actual usage (realized savings of the new commitment over
that window, nominal; a 1-year plan, so this scores its first two months):

- ``growing``: Alibaba with all its history (origins day 28-91);
- ``declining``: Philly after its peak (origins day 42-70: usage falls from about 400 to 20 USD/h
  with rebounds) and the reversed Alibaba (origins day 28-91);
- ``short history``: the same origins with only the last 14 days of history.

Beside the lookbacks and the single purchase (``smsim``), the ladder of :mod:`smsim.commit.ladder`
with a review every 14 days (the traces are too short for monthly reviews to matter in 56 days).
Both are sized twice on the same paths: without the level prior of :mod:`smsim.commit.levelprior`
(``smsim0``, ``ladder0``) and with it (``smsim``, ``ladder``; it applies to histories under 28
days, i.e. the short-history case).
"share of hindsight optimum" divides realized savings summed over origins by those of the best
single commitment bought at the origin knowing the window's usage; a ladder buys later too, so it
can exceed 1.

A third case scores whole terms on a steady fleet: 1-6 ml.g5.xlarge whose count moves by -1, 0
or +1 each hour with equal chance (staying put at the bounds), a stationary process whose
stationary distribution is uniform on 1..6. Each seed gives 60 days of history and the next
year; the recommendation (default horizon: the 1-year term) is scored on that year, beside the
lookbacks and the hindsight optimum, and against the closed-form optimum of the process
(d = 0.2: cover 2 instances, 2.256 USD/h, expected savings 2,882.04 USD a year).

Run: ``python benchmarks/bench_commit.py [--steady-only] [--data DIR]`` (a few minutes).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from smsim import notices
from smsim.commit.adapters import usage_paths
from smsim.commit.api import recommend_commitment
from smsim.commit.ladder import evaluate_ladder, first_tranche
from smsim.commit.levelprior import LEVEL_PRIOR_SD_PER_DAY, level_floor_paths, level_prior_applies
from smsim.commit.usage import usage_from_series

DATA = Path(os.environ.get("SMSIM_REAL_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
EVAL_DAYS = 56
ORIGIN_STEP_DAYS = 7
REVIEW_DAYS = 14
SHORT_HISTORY_DAYS = 14
DISCOUNTS = (0.20, 0.44)
SENSITIVITY_QUANTILES = (0.10, 0.25, 0.50)
SENSITIVITY_REVIEW_DAYS = (7, 14, 28)
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


def case_origins(series: dict[str, pd.Series]) -> list[tuple[str, str, int, int | None]]:
    """(case, series, origin day, days of history or None for all): the rolling origins of each case."""
    out = []
    for name, first in (("alibaba", 28), ("philly", 42), ("alibaba-reversed", 28)):
        days = len(series[name]) // 24
        case = "growing" if name == "alibaba" else "declining"
        for origin in range(first, days - EVAL_DAYS + 1, ORIGIN_STEP_DAYS):
            out.append((case, name, origin, None))
            out.append(("short history", name, origin, SHORT_HISTORY_DAYS))
    return out


def run_case(case: str, name: str, series: pd.Series, origin_day: int, history_days: int | None,
             n_paths: int, seed: int) -> list[dict]:
    """Fit once, then recommend and score at each discount on the same forecast paths."""
    cut = origin_day * 24
    start = 0 if history_days is None else cut - history_days * 24
    history, actual = series.iloc[start:cut], series.iloc[cut : cut + EVAL_DAYS * 24]
    with notices.record():  # the forecast's fit warnings, as recommend_commitment keeps them
        paths, model = usage_paths(history, len(actual), n_paths, seed, "auto")
    rows = []
    floored = level_floor_paths(paths, LEVEL_PRIOR_SD_PER_DAY, 0) if level_prior_applies(len(history)) else paths
    for d in DISCOUNTS:
        kw = dict(discount=d, horizon_hours=len(actual), paths=paths, model=model, actual=usage_from_series(actual),
                  stage_at_hours=None, ladder_every_hours=REVIEW_DAYS * 24)
        before = recommend_commitment(usage_from_series(history), level_prior_sd_per_day=0.0, **kw)
        result = recommend_commitment(usage_from_series(history), **kw)
        ev = result.evaluation
        row = {"case": case, "series": name, "origin_day": origin_day, "d": d}
        for key, label in (("hindsight_optimum", "best"), ("smsim", "smsim"), ("ladder", "ladder"),
                           ("lookback_7d", "lb7"), ("lookback_30d", "lb30"), ("lookback_60d", "lb60")):
            row[f"{label}_sav"] = ev[key]["realized_savings_usd"]
        row["smsim0_sav"] = before.evaluation["smsim"]["realized_savings_usd"]
        row["ladder0_sav"] = before.evaluation["ladder"]["realized_savings_usd"]
        row["smsim0_c"] = before.recommended_usd_per_hour
        row["ladder0_first_c"] = before.evaluation["ladder"]["first_usd_per_hour"]
        row["smsim_c"] = result.recommended_usd_per_hour
        row["ladder_first_c"] = ev["ladder"]["first_usd_per_hour"]
        row["ladder_final_c"] = ev["ladder"]["final_usd_per_hour"]
        row["best_c"] = ev["hindsight_optimum"]["commitment_usd_per_hour"]
        for q in SENSITIVITY_QUANTILES:  # the ladder's two settings, around the defaults
            first = min(first_tranche(floored, result.terms, q), result.recommended_usd_per_hour)
            for every in SENSITIVITY_REVIEW_DAYS:
                lad = evaluate_ladder(actual.to_numpy(), history.to_numpy(), first, every * 24, result.terms)
                row[f"ladder_q{q:.2f}_{every}d_sav"] = float(lad.outcome.savings_usd[0])
        rows.append(row)
    return rows


METHODS = ("best", "smsim0", "smsim", "ladder0", "ladder", "lb7", "lb30", "lb60")


def summarise_cases(table: pd.DataFrame) -> pd.DataFrame:
    """Per case and discount: realized savings summed over origins, each method's share of the
    hindsight optimum's, and at how many origins the ladder did at least as well as every lookback."""
    rows = []
    for (case, d), g in table.groupby(["case", "d"], sort=False):
        best = g["best_sav"].sum()
        row = {"case": case, "d": d, "origins": len(g)}
        row.update({f"{m}_usd": g[f"{m}_sav"].sum() for m in METHODS})
        row.update({f"{m}_share": g[f"{m}_sav"].sum() / best for m in METHODS[1:]})
        top_lookback = g[["lb7_sav", "lb30_sav", "lb60_sav"]].max(axis=1)
        for m in ("ladder0", "ladder"):
            row[f"{m}_wins"] = f"{int((g[f'{m}_sav'] >= top_lookback - 1e-6).sum())}/{len(g)}"
        rows.append(row)
    return pd.DataFrame(rows)


STEADY_DISCOUNT = 0.2
STEADY_SEEDS = (21, 1, 2, 3, 4)


def steady_counts(hours: int, seed: int, start: int = 3) -> np.ndarray:
    """Instances in use per hour: a lazy walk on 1..6 that stays put at the bounds."""
    steps = np.random.default_rng(seed).integers(-1, 2, hours)
    k = np.empty(hours, dtype=int)
    level = start
    for i, step in enumerate(steps):
        level = min(6, max(1, level + step))
        k[i] = level
    return k


def steady_expected_savings(commitment_usd_per_hour: float, d: float = STEADY_DISCOUNT) -> float:
    """Closed-form expected savings over a year under the uniform distribution on 1..6."""
    x = commitment_usd_per_hour / (1 - d)
    levels = G5_XLARGE_USD_PER_GPU_HOUR * np.arange(1, 7)
    return 8760 * (float(np.minimum(levels, x).mean()) - (1 - d) * x)


def steady_cases(n_paths: int, seed: int) -> pd.DataFrame:
    """Whole-term scores on the steady fleet, one row per process seed."""
    rows = []
    for process_seed in STEADY_SEEDS:
        usd = G5_XLARGE_USD_PER_GPU_HOUR * steady_counts(60 * 24 + 8760, process_seed)
        index = pd.date_range("2026-01-01", periods=len(usd), freq="h", tz="UTC")
        history, actual = pd.Series(usd[:1440], index[:1440]), pd.Series(usd[1440:], index[1440:])
        result = recommend_commitment(usage_from_series(history), discount=STEADY_DISCOUNT, n_paths=n_paths,
                                      seed=seed, actual=usage_from_series(actual), stage_at_hours=None)
        ev = result.evaluation
        # without the level prior: the same call when the prior did not apply (then nothing differs)
        before = result if not result.level_prior["applied"] else recommend_commitment(
            usage_from_series(history), discount=STEADY_DISCOUNT, n_paths=n_paths, seed=seed,
            actual=usage_from_series(actual), stage_at_hours=None, level_prior_sd_per_day=0.0)
        row = {"process_seed": process_seed, "prior_applied": result.level_prior["applied"]}
        row["smsim0_c"] = before.recommended_usd_per_hour
        row["smsim0_sav"] = before.evaluation["smsim"]["realized_savings_usd"]
        row["ladder0_sav"] = before.evaluation["ladder"]["realized_savings_usd"]
        for key, label in (("hindsight_optimum", "best"), ("smsim", "smsim"), ("lookback_7d", "lb7"),
                           ("lookback_30d", "lb30"), ("lookback_60d", "lb60")):
            row[f"{label}_c"] = ev[key]["commitment_usd_per_hour"]
            row[f"{label}_sav"] = ev[key]["realized_savings_usd"]
        row["ladder_c"] = ev["ladder"]["final_usd_per_hour"]  # held at the year's end (monthly reviews)
        row["ladder_sav"] = ev["ladder"]["realized_savings_usd"]
        row["smsim_ploss"] = result.recommended["probability_of_loss"]
        row["lb30_ploss"] = result.lookback["30d"]["on_forecast"]["probability_of_loss"]
        row["smsim_expected"] = steady_expected_savings(result.recommended_usd_per_hour)
        rows.append(row)
    table = pd.DataFrame(rows)
    c_cols = [c for c in table.columns if c.endswith("_c")]
    s_cols = [c for c in table.columns if c.endswith("_sav")]
    print("\nsteady fleet (1-6 ml.g5.xlarge, stationary), 60 days of history, scored on the next year, "
          f"d = {STEADY_DISCOUNT}; commitments USD/h (ladder: held at the end) and realized savings USD:")
    print(table.round({**{c: 3 for c in c_cols}, **{c: 0 for c in s_cols}, "smsim_expected": 0,
                       "smsim_ploss": 2, "lb30_ploss": 2}).to_string(index=False))
    best = steady_expected_savings((1 - STEADY_DISCOUNT) * 2 * G5_XLARGE_USD_PER_GPU_HOUR)
    print("realized savings summed over seeds (USD): " + ", ".join(
        f"{c[:-4]} {table[c].sum():,.0f}" for c in s_cols))
    print(f"smsim share of the hindsight optimum's realized savings: "
          f"{table['smsim_sav'].sum() / table['best_sav'].sum():.0%}; closed-form expected savings of "
          f"smsim's commitments {table['smsim_expected'].mean():,.0f} vs the optimum {best:,.0f} USD a year "
          f"(mean commitment {table['smsim_c'].mean():.2f} vs 2.256 USD/h)")
    return table


def main(n_paths: int = 200, seed: int = 0, data: Path | None = None, steady_only: bool = False) -> pd.DataFrame:
    global DATA
    DATA = Path(data) if data is not None else DATA
    t0 = time.perf_counter()
    steady = steady_cases(n_paths, seed)
    print(f"steady fleet: {time.perf_counter() - t0:.1f} s, load average {os.getloadavg()}", file=sys.stderr)
    if steady_only:
        return steady
    ali = alibaba_series()
    series = {"alibaba": ali, "philly": philly_series(),
              "alibaba-reversed": pd.Series(ali.to_numpy()[::-1].copy(), index=ali.index)}
    rows = []
    for case, name, origin, history_days in case_origins(series):
        rows.extend(run_case(case, name, series[name], origin, history_days, n_paths, seed))
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    cols = ["case", "series", "origin_day", "d", "best_c", "smsim0_c", "smsim_c", "ladder0_first_c", "ladder_first_c",
            "ladder_final_c",
            *(f"{m}_sav" for m in METHODS)]
    print(f"\nrolling origins every {ORIGIN_STEP_DAYS} days, each scored on the next {EVAL_DAYS} days of actual usage; "
          f"ladder reviews every {REVIEW_DAYS} days; commitments USD/h, realized savings USD:")
    print(table[cols].round({c: 2 if c.endswith("_c") else 0 for c in cols[4:]}).to_string(index=False))
    summary = summarise_cases(table)
    print("\nrealized savings summed over origins (USD):")
    print(summary[["case", "d", "origins", *(f"{m}_usd" for m in METHODS)]]
          .round({f"{m}_usd": 0 for m in METHODS}).to_string(index=False))
    print("\nshare of hindsight optimum (realized savings summed over origins / the best single commitment's), "
          "and origins where the ladder did at least as well as every lookback:")
    print(summary[["case", "d", *(f"{m}_share" for m in METHODS[1:]), "ladder0_wins", "ladder_wins"]]
          .round(3).to_string(index=False))
    print(f"smsim0, ladder0: without the level prior; smsim, ladder: with it ({LEVEL_PRIOR_SD_PER_DAY} per day, "
          "applied to histories under 28 days)")
    sens = [c for c in table.columns if c.startswith("ladder_q")]
    shares = table.groupby(["case", "d"], sort=False)[sens].sum().div(
        table.groupby(["case", "d"], sort=False)["best_sav"].sum(), axis=0)
    shares.columns = [c[len("ladder_"):-len("_sav")] for c in sens]
    print("\nladder sensitivity (with the level prior): share of hindsight optimum by first-tranche quantile (q) and review interval "
          f"(defaults q0.25, reviews {REVIEW_DAYS}d here):")
    print(shares.round(3).to_string())
    print(f"cases: {time.perf_counter() - t0:.1f} s in all, load average {os.getloadavg()}", file=sys.stderr)
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None, help="the shared data folder (default: $SMSIM_REAL_DATA_DIR or shared/data beside the checkout)")
    parser.add_argument("--steady-only", action="store_true", help="only the steady-fleet case (no traces needed)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    main(args.paths, args.seed, args.data, args.steady_only)
    print(f"elapsed {time.perf_counter() - t0:.1f} s", file=sys.stderr)
