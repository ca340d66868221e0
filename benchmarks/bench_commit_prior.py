"""Choosing the level prior of :mod:`smsim.commit.levelprior` on simulated fleets only.

Each simulated fleet runs at a level that holds for a while and then moves: regimes last an
exponential number of days (mean 30), and at each change the log level jumps by a normal step
(sd 0.7, a factor of about two). Within a day usage follows a daily cycle (amplitude drawn in
0.2-0.6 of the level), weekends run at 0.8 of weekdays, and hours carry lognormal noise (sd 0.15).
This is a stated belief about fleets, not a fit to any trace; the real traces of
``bench_commit.py`` are never used here.

For each fleet and history length (14 and 56 days) it forecasts once (``auto``), then for each
prior step ``s`` sizes at d = 0.20 and 0.44 exactly as ``smsim commit`` does (same paths, floor
of step ``s``; it applies to histories under 28 days, so the 56-day rows are the same for every
``s`` and show what the forecast alone does) and scores the single purchase and the ladder (reviews every 14 days) on the next
56 days, as ``bench_commit.py`` scores the traces. Shares are realized savings summed over fleets
/ those of the hindsight optimum.

Run: ``python benchmarks/bench_commit_prior.py [--fleets 24] [--paths 200]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

from smsim import notices
from smsim.commit.adapters import usage_paths
from smsim.commit.api import recommend_commitment
from smsim.commit.usage import usage_from_series
from smsim.forecast.series import MAX_ABS_VALUE

EVAL_DAYS = 56
REVIEW_DAYS = 14
HISTORY_DAYS = (14, 56)
DISCOUNTS = (0.20, 0.44)
PRIOR_STEPS = (0.0, 0.03, 0.05, 0.08, 0.12, 0.18)
REGIME_MEAN_DAYS = 30.0
JUMP_SD = 0.7


def simulated_fleet(fleet: int, days: int) -> pd.Series:
    """Hourly on-demand USD of one simulated fleet (see the module doc), seeded by ``fleet``."""
    rng = np.random.default_rng(np.random.SeedSequence([2026, fleet]))
    log_level = np.empty(days)
    level = np.log(100.0)
    left = rng.exponential(REGIME_MEAN_DAYS) * rng.uniform()  # a random point within a regime
    for day in range(days):
        if left <= 0:
            level += rng.normal(0.0, JUMP_SD)
            left = rng.exponential(REGIME_MEAN_DAYS)
        left -= 1.0
        log_level[day] = level
    amplitude = rng.uniform(0.2, 0.6)
    hours = np.arange(days * 24)
    shape = 1.0 + amplitude * np.sin(2 * np.pi * (hours % 24 - 6) / 24)
    weekend = np.where((hours // 24) % 7 >= 5, 0.8, 1.0)
    noise = np.exp(rng.normal(0.0, 0.15, len(hours)) - 0.15**2 / 2)
    usd = np.exp(np.repeat(log_level, 24)) * shape * weekend * noise
    return pd.Series(usd, index=pd.date_range("2026-01-05", periods=len(usd), freq="h", tz="UTC"))


def run(n_fleets: int, n_paths: int, seed: int) -> pd.DataFrame:
    rows = []
    for fleet in range(n_fleets):
        for history_days in HISTORY_DAYS:
            series = simulated_fleet(fleet, history_days + EVAL_DAYS)
            history, actual = series.iloc[: history_days * 24], series.iloc[history_days * 24 :]
            try:
                with notices.record():
                    paths, model = usage_paths(history, len(actual), n_paths, seed, "auto")
            except RuntimeError:  # non-finite paths: no plan is sized on them either
                paths = np.array([np.inf])
            if not np.all(np.isfinite(paths)) or float(paths.max()) > MAX_ABS_VALUE:
                # smsim commit refuses such a forecast as an overflow; no plan is sized on it
                print(f"fleet {fleet}, {history_days} days: forecast overflows ({paths.max():.3g} USD/h), "
                      "skipped", file=sys.stderr)
                continue
            for d in DISCOUNTS:
                for s in PRIOR_STEPS:
                    result = recommend_commitment(
                        usage_from_series(history), discount=d, horizon_hours=len(actual), paths=paths,
                        model=model, actual=usage_from_series(actual), stage_at_hours=None,
                        ladder_every_hours=REVIEW_DAYS * 24, level_prior_sd_per_day=s, seed=seed)
                    ev = result.evaluation
                    rows.append({"fleet": fleet, "history_days": history_days, "d": d, "s": s,
                                 "best_sav": ev["hindsight_optimum"]["realized_savings_usd"],
                                 "smsim_sav": ev["smsim"]["realized_savings_usd"],
                                 "ladder_sav": ev["ladder"]["realized_savings_usd"]})
    return pd.DataFrame(rows)


def main(n_fleets: int = 24, n_paths: int = 200, seed: int = 0) -> pd.DataFrame:
    t0 = time.perf_counter()
    table = run(n_fleets, n_paths, seed)
    g = table.groupby(["history_days", "d", "s"])
    shares = pd.DataFrame({
        "smsim": g["smsim_sav"].sum() / g["best_sav"].sum(),
        "ladder": g["ladder_sav"].sum() / g["best_sav"].sum(),
        "ladder_losing_fleets": g["ladder_sav"].apply(lambda x: int((x < 0).sum())),
    })
    pd.set_option("display.width", 200)
    print(f"simulated fleets: {n_fleets}, regimes of mean {REGIME_MEAN_DAYS:g} days, log jumps sd {JUMP_SD}; "
          f"scored on the next {EVAL_DAYS} days; share of the hindsight optimum by prior step s:")
    print(shares.unstack("s").round(3).to_string())
    total = (g["ladder_sav"].sum() / g["best_sav"].sum()).groupby("s").mean()
    print("\nladder share averaged over history lengths and discounts, by s:")
    print(total.round(3).to_string())
    print(f"elapsed {time.perf_counter() - t0:.1f} s, load average {os.getloadavg()}", file=sys.stderr)
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleets", type=int, default=24)
    parser.add_argument("--paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.fleets, args.paths, args.seed)
