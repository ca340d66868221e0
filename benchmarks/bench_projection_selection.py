"""Wall time of a projection when the forecast model is selected once, against twice.

``smsim project`` forecasts each endpoint with ``model="auto"``: a rolling-origin backtest of
every candidate model picks one. The forecast (whose accuracy goes into the summary) and the
sample paths (what is simulated) used to select the model each on their own, the same choice
twice; :func:`smsim.forecast.forecast_with_paths` selects once for both. Calibration's refits
of the chosen form at earlier origins are the same in both.

Both projections run in this process on the same scenario, horizon, paths and seed (the
selection-twice one through a copy of the former ``draw_paths``); printed for each: the seconds
spent drawing paths (selection, forecast, paths, calibration) and the whole projection's
seconds, wall and CPU (this process's, which other jobs on a shared machine move less), with the
load average, and whether the two summaries, spend tables and paths are
identical (they must be). A small projection runs first, untimed, so neither pays for imports
and compilation; with ``--repeat 2`` the second round runs the two in the other order.

    PYTHONPATH=$PWD python benchmarks/bench_projection_selection.py --paths 50 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import smsim.project.api as project_api
from smsim.forecast import forecast_series, sample_paths_fitted
from smsim.project.paths import EndpointPaths, draw_paths

REPO = Path(__file__).resolve().parents[1]


def draw_paths_selecting_twice(hist, start, hours, n_paths, seed, model="auto", calibrate=True):
    """``draw_paths`` as it was: one selection for the forecast, another for the paths."""
    import pandas as pd

    gap = int((start - hist.end) / pd.Timedelta(hours=1))
    total = gap + hours
    y = hist.hourly.rename(hist.endpoint)
    fitted = forecast_series(y, total, levels=(80, 95), model=model, nonnegative=True, unique_id=hist.endpoint)
    paths, drew = sample_paths_fitted(y, total, n_paths, seed, model, nonnegative=True)
    paths = paths[:, gap:]
    info = None
    if calibrate:
        from smsim.project.calibration import calibrate as calibrate_totals

        paths, em = calibrate_totals(y, drew, paths, gap)
        info = em.summary()
    return EndpointPaths(hist, paths, fitted.model, fitted, info)


def timed_projection(drawer, args, horizon=None, n_paths=None) -> tuple[object, tuple[float, ...]]:
    """The projection with ``drawer`` as its ``draw_paths``; (result, (draw wall s, draw CPU s,
    total wall s, total CPU s)). CPU seconds of this process: less moved by other jobs' load."""
    spent = [0.0, 0.0]

    def timed(*a, **k):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return drawer(*a, **k)
        finally:
            spent[0] += time.perf_counter() - t0
            spent[1] += time.process_time() - c0

    project_api.draw_paths = timed
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        result = project_api.project_scenario(REPO / args.scenario, horizon or args.horizon,
                                              n_paths=n_paths or args.paths)
        return result, (spent[0], spent[1], time.perf_counter() - t0, time.process_time() - c0)
    finally:
        project_api.draw_paths = draw_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/projection.yaml")
    ap.add_argument("--horizon", default="90d")
    ap.add_argument("--paths", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the order alternates (before first, then now first)")
    args = ap.parse_args()

    print(f"{args.scenario}, horizon {args.horizon}, {args.paths} paths, one process; "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    timed_projection(draw_paths, args, horizon="2d", n_paths=2)  # imports and compilation, untimed
    variants = {"selection twice (before)": draw_paths_selecting_twice, "selection once  (now)   ": draw_paths}
    times: dict[str, list[tuple[float, ...]]] = {k: [] for k in variants}
    results = {}
    for r in range(args.repeat):
        for name in (list(variants) if r % 2 == 0 else list(variants)[::-1]):
            results[name], t = timed_projection(variants[name], args)
            times[name].append(t)
            print(f"  round {r + 1} {name}: drawing paths {t[0]:6.2f} s wall {t[1]:6.2f} s CPU   "
                  f"projection {t[2]:6.2f} s wall {t[3]:6.2f} s CPU")
    (b_name, a_name) = variants
    before_t = [float(np.median([t[i] for t in times[b_name]])) for i in range(4)]
    after_t = [float(np.median([t[i] for t in times[a_name]])) for i in range(4)]
    print(f"  median over {args.repeat} round(s), before -> now:")
    for i, what in enumerate(("drawing paths, wall", "drawing paths, CPU", "projection, wall", "projection, CPU")):
        print(f"    {what:20s} {before_t[i]:6.2f} s -> {after_t[i]:6.2f} s  "
              f"(saved {before_t[i] - after_t[i]:5.2f} s, {after_t[i] / before_t[i]:.2f}x)")
    before, after = results[b_name], results[a_name]
    same_summary = json.dumps(before.summary, sort_keys=True, default=str) == \
        json.dumps(after.summary, sort_keys=True, default=str)
    same_table = before.table.equals(after.table)
    same_paths = all(np.array_equal(before.endpoints[n].hourly, after.endpoints[n].hourly) for n in after.endpoints)
    models = {n: ep.model for n, ep in after.endpoints.items()}
    print(f"  identical results: summary {same_summary}, spend table {same_table}, paths {same_paths}; "
          f"model chosen: {models}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
