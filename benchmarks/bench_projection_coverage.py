"""Is the P10-P90 band of a projection's total 28-day spend calibrated? Independent vs correlated paths.

The account: the six Microsoft Philly virtual clusters (Gavel's per-VC arrivals) with at least 500
jobs over at least 84 days (0e4a51, 103959, 11cb48, 2869ce, 7f04ca, e13805), each taken as one
endpoint whose traffic is its job arrivals per hour. The Gavel export gives each VC's arrivals in
seconds since that VC's first job, so the VCs are put on one clock by aligning their first jobs;
the original offsets between VCs are lost, so whatever co-movement survives is blurred.
``--account sizes`` instead splits three VCs (0e4a51, 103959, 7f04ca) into their single-GPU and
multi-GPU jobs: six endpoints, each pair on its VC's own clock. Spend is taken as
proportional to traffic (one USD per job, a per-request price), so the band on the total spend
is the band on the account's total jobs; the fluid tier is not simulated here.

Rolling origins every ``--step-days`` days from day 28 to day 55 (each window ends by day 83,
before the shortest VC's last arrival), so about ten origins, whose 28-day windows overlap. At
each origin, with only the history before it:

1. every VC's hourly paths over the next 28 days come from :func:`smsim.forecast.sample_paths`
   (``model="auto"``, what ``smsim project`` uses; the same paths for every column);
2. ``uncalibrated``: the model's own paths (``--no-calibrate``); ``calibrated``: the same paths
   scaled by :func:`smsim.project.calibration.calibrate` on the history's own backtest errors
   (the default);
3. ``independent``: the paths as drawn, each endpoint from its own stream (``--independent``);
   ``correlated``: the same paths paired by :func:`smsim.project.dependence.couple_paths` with the
   correlation :func:`smsim.project.dependence.error_correlation` estimates from the history;
4. the band is the P10-P90 of the total over paths; it covers when the realised total is inside.

Coverage of the 80 % band should be 75-85 %. With about ten overlapping windows one origin is
10 points of coverage, so read the figures as rough. Printed beside them: each endpoint's own
coverage (the marginal calibration the copula cannot change), the mean band width relative to the
outcome and the mean interval score of the 80 % band relative to the outcome (width plus 10 times
any miss: a band made wide enough to always cover pays for its width), the mean estimated
correlation, and which part of the calibration's error variance (noise, level, random walk)
dominates at 28 days.

    PYTHONPATH=$PWD python benchmarks/bench_projection_coverage.py --paths 400 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.executor import executor
from smsim.forecast import sample_paths_fitted
from smsim.project.calibration import calibrate
from smsim.project.dependence import couple_paths, error_correlation
from smsim.rng import replication_seeds

DATA = Path(os.environ.get("SMSIM_REAL_DATA_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "data")
VCS = ("0e4a51", "103959", "11cb48", "2869ce", "7f04ca", "e13805")
WINDOW_DAYS = 28
FIRST_ORIGIN_DAY, LAST_ORIGIN_DAY = 28, 55
START = pd.Timestamp("2026-01-05")  # a Monday; the trace's own weekdays are unknown


SPLIT_VCS = ("0e4a51", "103959", "7f04ca")


def account(kind: str = "vcs") -> dict[str, pd.Series]:
    """Hourly job arrivals per endpoint, first jobs aligned at ``START``.

    ``vcs``: one endpoint per VC of :data:`VCS`. ``sizes``: each VC of :data:`SPLIT_VCS` split
    into single-GPU and multi-GPU jobs (two endpoints on the VC's own clock, so their co-movement
    is real, not an artefact of the alignment).
    """
    jobs = pd.read_csv(DATA / "gavel-philly-vc-arrivals" / "philly_vc_jobs_seed0.csv",
                       usecols=["vc", "arrival_time_s", "num_gpus"])
    hours = (LAST_ORIGIN_DAY + WINDOW_DAYS) * 24
    if kind == "vcs":
        groups = {vc: jobs["vc"] == vc for vc in VCS}
    else:
        groups = {f"{vc}:{size}": (jobs["vc"] == vc) & ((jobs["num_gpus"] > 1) == (size == "multi"))
                  for vc in SPLIT_VCS for size in ("single", "multi")}
    out = {}
    for name, rows in groups.items():
        h = (jobs.loc[rows, "arrival_time_s"] // 3600).astype(int)
        counts = h.value_counts().reindex(range(hours), fill_value=0).sort_index()
        out[name] = pd.Series(counts.to_numpy(float), index=pd.date_range(START, periods=hours, freq="h"), name=name)
    return out


def _paths(y: pd.Series, n_paths: int, seed: int) -> dict:
    """The model's own paths and the same paths calibrated on ``y``'s backtest errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw, model = sample_paths_fitted(y, WINDOW_DAYS * 24, n_paths, seed, "auto", nonnegative=True)
        cal, em = calibrate(y, model, raw)
    return {"raw": raw, "calibrated": cal, "calibration": em}


def _band(totals: np.ndarray, actual: float) -> tuple[bool, float, float]:
    """Covered?, band width / outcome, interval score of the 80 % band / outcome."""
    lo, hi = np.percentile(totals, [10, 90])
    alpha = 0.2
    score = (hi - lo) + 2 / alpha * max(lo - actual, 0.0) + 2 / alpha * max(actual - hi, 0.0)
    denom = max(actual, 1.0)
    return bool(lo <= actual <= hi), float((hi - lo) / denom), float(score / denom)


COLUMNS = ("uncalibrated independent", "uncalibrated correlated", "calibrated independent",
           "calibrated correlated")


def main(n_paths: int = 400, jobs: int = 2, step_days: int = 3, seed: int = 0, kind: str = "vcs") -> pd.DataFrame:
    series = account(kind)
    names = list(series)
    origins = list(range(FIRST_ORIGIN_DAY, LAST_ORIGIN_DAY + 1, step_days))
    seeds = replication_seeds(seed, len(origins))
    tasks = [((o, vc), (series[vc].iloc[: o * 24], n_paths, seeds[i]))
             for i, o in enumerate(origins) for vc in names]
    t0 = time.perf_counter()
    with executor(jobs) as ex:
        drawn = ex.map(_paths, tasks)
    wall = time.perf_counter() - t0
    rows = []
    for i, o in enumerate(origins):
        window = slice(o * 24, (o + WINDOW_DAYS) * 24)
        actual = {vc: float(series[vc].iloc[window].sum()) for vc in names}
        r, info = error_correlation({vc: series[vc].iloc[: o * 24] for vc in names})
        total_actual = sum(actual.values())
        row = {"origin_day": o, "actual": total_actual}
        for kind_ in ("raw", "calibrated"):
            paths = {vc: drawn[(o, vc)][kind_] for vc in names}
            coupled = couple_paths(paths, r, seeds[i])
            label = "uncalibrated" if kind_ == "raw" else "calibrated"
            for pairing, p in (("independent", paths), ("correlated", coupled)):
                cov, width, score = _band(sum(x.sum(axis=1) for x in p.values()), total_actual)
                row[f"{label} {pairing}"] = cov
                row[f"width {label} {pairing}"] = width
                row[f"score {label} {pairing}"] = score
            own = [_band(paths[vc].sum(axis=1), actual[vc]) for vc in names]
            row[f"own {label}"] = np.mean([c for c, _, _ in own])
            row[f"own width {label}"] = np.mean([w for _, w, _ in own])
            row[f"own score {label}"] = np.mean([sc for _, _, sc in own])
        ems = [drawn[(o, vc)]["calibration"] for vc in names]
        row["uncalibrated endpoints"] = sum(em.status == "uncalibrated" for em in ems)
        for part in ("noise", "level", "walk"):
            row[f"share {part}"] = np.mean([em.variance_share.get(part, np.nan) for em in ems])
        off = r[np.triu_indices(len(names), 1)]
        row["mean_correlation"] = float(off.mean())
        rows.append(row)
    table = pd.DataFrame(rows)
    show = ["origin_day", "actual", *COLUMNS, "width uncalibrated correlated", "width calibrated correlated",
            "own uncalibrated", "own calibrated"]
    print(table[show].rename(columns=lambda c: c.replace("uncalibrated", "raw").replace("calibrated", "cal"))
          .round(3).to_string(index=False))
    print()
    print(f"account {kind!r}: {len(origins)} origins (days {origins[0]}-{origins[-1]}, every {step_days}), "
          f"{len(names)} endpoints, "
          f"{n_paths} paths, 28-day windows; forecasting and calibration {wall:.0f} s with {jobs} jobs; "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| total of the account | P10-P90 coverage | mean band width / outcome | mean interval score / outcome |")
    print("|---|---|---|---|")
    for col in COLUMNS:
        print(f"| {col} | {100 * table[col].mean():.0f} % | {100 * table[f'width {col}'].mean():.1f} % | "
              f"{100 * table[f'score {col}'].mean():.1f} % |")
    for label in ("uncalibrated", "calibrated"):
        print(f"| each endpoint alone, {label} (mean) | {100 * table[f'own {label}'].mean():.0f} % | "
              f"{100 * table[f'own width {label}'].mean():.1f} % | {100 * table[f'own score {label}'].mean():.1f} % |")
    print(f"mean estimated pairwise correlation {table['mean_correlation'].mean():.2f}; "
          f"endpoint bands uncalibrated (history too short): {int(table['uncalibrated endpoints'].sum())} "
          f"of {len(origins) * len(names)}")
    print("share of the 28-day log-error variance by part (mean over endpoints and origins): "
          + ", ".join(f"{p} {100 * table[f'share {p}'].mean():.0f} %" for p in ("noise", "level", "walk")))
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", type=int, default=400)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--step-days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--account", choices=("vcs", "sizes"), default="vcs",
                        help="vcs: six VCs as endpoints; sizes: three VCs' single- and multi-GPU jobs")
    a = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"the real traces are not at {DATA} (set SMSIM_REAL_DATA_DIR)")
    main(a.paths, a.jobs, a.step_days, a.seed, a.account)
