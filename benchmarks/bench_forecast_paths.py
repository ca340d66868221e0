"""How far ``auto``'s sample paths run past the history, on simulated fleets' hourly spend.

Each fleet is ``bench_commit_prior.py``'s simulated fleet (log-level jumps between regimes,
daily cycle, weekends, lognormal noise); ``auto`` forecasts ``--horizon-days`` of hourly spend
from ``--history-days`` of it, as ``smsim commit`` does (``sample_paths``, 200 paths, seed 0).
Per fleet: the model picked, the largest path value and the largest per-hour 99th percentile
of the paths, both divided by the history's largest hour, and the pick's seconds. ``--run DIR``
adds the eligible usage of a ``smsim run --out DIR`` folder as read by ``smsim commit`` (all of
it as the history), e.g. ``scenarios/quickstart.yaml`` run for 56 days with ``fidelity: fluid``.

``--candidates`` also prints, per history, each ``auto`` candidate's ``peak_ratio`` (its paths'
upper 1 % over the ceiling's reference, :mod:`smsim.forecast.plausible`) and the range of those
ratios over the original-scale and the ``log1p`` candidates.

``--baseline-rev REV`` runs the same with the ``smsim`` package of git revision REV (read with
``git archive`` into a temporary folder, run in a subprocess), side by side in one run.

Run: ``PYTHONPATH=$PWD python benchmarks/bench_forecast_paths.py [--fleets 12] [--baseline-rev REV]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def measure(fleets: int, history_days: int, horizon_days: int, runs: list[str]) -> list[dict]:
    from bench_commit_prior import simulated_fleet

    from smsim.commit.usage import read_usage
    from smsim.forecast.api import sample_paths_fitted

    rows = []
    horizon = horizon_days * 24
    histories = {str(fleet): simulated_fleet(fleet, history_days + horizon_days).iloc[: history_days * 24]
                 for fleet in range(fleets)}
    histories.update({f"run {Path(run).name}": read_usage(run).hourly_usd for run in runs})
    for fleet, y in histories.items():
        start = time.perf_counter()
        paths, model = sample_paths_fitted(y, horizon, 200, seed=0)
        top = float(np.max(np.quantile(paths, 0.99, axis=0)))
        rows.append({"fleet": fleet, "model": getattr(model, "form_", model.name),
                     "max": float(np.max(paths)) / float(y.max()), "p99": top / float(y.max()),
                     "seconds": time.perf_counter() - start})
    return rows


def candidate_ratios(fleets: int, history_days: int, horizon_days: int, runs: list[str]) -> None:
    from bench_commit_prior import simulated_fleet

    from smsim.commit.usage import read_usage
    from smsim.forecast.backtest import select

    histories = {str(fleet): simulated_fleet(fleet, history_days + horizon_days).iloc[: history_days * 24]
                 for fleet in range(fleets)}
    histories.update({f"run {Path(run).name}": read_usage(run).hourly_usd for run in runs})
    ratios: dict[str, list[float]] = {"original scale": [], "log1p": []}
    print("\npeak_ratio of every candidate (winner first)")
    for name, y in histories.items():
        winner, results, _ = select(y, horizon_days * 24, [24, 168])
        row = {n: b.peak_ratio for n, b in results.items() if b.peak_ratio is not None}
        for n, r in row.items():
            if n != "ensemble" and np.isfinite(r):
                ratios["log1p" if n.endswith("+log1p") else "original scale"].append(r)
        order = [winner] + sorted(n for n in row if n != winner)
        print(f"{name[:12]:>12s}  " + "  ".join(f"{n}={row[n]:.3g}" for n in order if n in row))
    for group, values in ratios.items():
        if values:
            print(f"{group} candidates: peak_ratio {min(values):.3g} to {max(values):.3g}")


def baseline(rev: str, argv: list[str]) -> list[dict]:
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", rev, "smsim"], cwd=root, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        out = subprocess.run([sys.executable, __file__, *argv, "--emit"], check=True, text=True,
                             capture_output=True, env={**os.environ, "PYTHONPATH": tmp}).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fleets", type=int, default=12)
    ap.add_argument("--history-days", type=int, default=56)
    ap.add_argument("--horizon-days", type=int, default=56)
    ap.add_argument("--baseline-rev", default=None)
    ap.add_argument("--candidates", action="store_true", help="print every candidate's peak_ratio")
    ap.add_argument("--run", nargs="*", default=[], help="smsim run output folders to add")
    ap.add_argument("--emit", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    argv = ["--fleets", str(args.fleets), "--history-days", str(args.history_days),
            "--horizon-days", str(args.horizon_days), "--run", *args.run]
    rows = measure(args.fleets, args.history_days, args.horizon_days, args.run)
    if args.emit:
        print(json.dumps(rows))
        return
    runs = {"now": rows}
    if args.baseline_rev:
        runs[f"@{args.baseline_rev}"] = baseline(args.baseline_rev, argv)
    print(f"{args.fleets} simulated fleets, {args.history_days} days of hourly spend, "
          f"{args.horizon_days * 24} hours ahead, 200 paths; ratios to the history's largest hour; "
          f"load average {os.getloadavg()[0]:.2f}")
    for label, table in runs.items():
        print(f"\n{label}")
        print(f"{'history':>12s}  {'model':62s}{'max':>10s}{'p99':>9s}{'s':>6s}")
        for r in table:
            print(f"{r['fleet'][:12]:>12s}  {r['model'][:60]:62s}{r['max']:10.3g}{r['p99']:9.3g}{r['seconds']:6.1f}")
        mx = np.array([r["max"] for r in table])
        p99 = np.array([r["p99"] for r in table])
        print(f"worst max {mx.max():.3g}, worst p99 {p99.max():.3g}; fleets with a path beyond 10x: "
              f"{int((mx > 10).sum())}, with p99 beyond 10x: {int((p99 > 10).sum())}; "
              f"seconds {sum(r['seconds'] for r in table):.1f}")
    if args.candidates:
        candidate_ratios(args.fleets, args.history_days, args.horizon_days, args.run)


if __name__ == "__main__":
    main()
