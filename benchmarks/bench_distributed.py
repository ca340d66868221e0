"""A sweep of short scenario runs on 1 process, N local processes and an N-worker Dask cluster.

Each task is one ``run_scenario`` of a small request-tier endpoint with its own seed (the same
tasks ``compare`` and ``bench`` hand out), through :class:`smsim.executor.Executor`. Printed side
by side: wall time of the sweep, speedup over one process, and the per-task overhead,
``(wall x workers - time spent simulating) / tasks``: what a worker spends per task on anything
but simulating it (pickling, scheduling, shipping results back, idling at the end). The time
spent simulating is measured inside each task, so a machine shared with other work slows the
simulation, not the overhead figure. Workers are warmed up (numba caches loaded) first; the
cluster's start-up is timed apart (it is paid once per command). The three sweeps must give
identical results.

    python benchmarks/bench_distributed.py [--tasks 240] [--workers 2] [--duration 20min]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

SCENARIO = """\
name: sweep
horizon: {{start: 2026-01-05T00:00:00Z, duration_s: {duration}}}
seed: 1
models:
  - name: m
    memory_gb: 2
    latency:
      ml.m5.large: {{kind: lognormal, median_s: 0.2, p99_s: 0.9}}
endpoints:
  - kind: realtime
    name: api
    model: m
    instance_type: ml.m5.large
    concurrency_per_instance: 2
    initial_instance_count: 1
    fidelity: request
    workload: {{kind: poisson, rate_per_s: 2}}
"""


def timed_run(scenario, seed: int, catalog=None):
    """One sweep task (what ``compare``/``bench`` run), and the seconds it spent simulating."""
    from smsim.api import run_scenario

    t0 = time.perf_counter()
    result = run_scenario(scenario, seed=seed, catalog=catalog)
    return result, time.perf_counter() - t0


def warm_up(scenario, seed: int, catalog=None):
    """A run, then a pause long enough that every worker takes one of these tasks."""
    out = timed_run(scenario, seed, catalog)
    time.sleep(0.5)
    return out


def sweep(ex, tasks) -> tuple[float, float, list[str]]:
    """Wall time, summed in-task time and the summaries of one sweep on ``ex``."""
    t0 = time.perf_counter()
    out = ex.map(timed_run, tasks)
    wall = time.perf_counter() - t0
    return wall, sum(t for _, t in out.values()), [json.dumps(r.summary, sort_keys=True, default=str)
                                                    for r, _ in out.values()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=240)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", default="20min", help="simulated horizon of each run")
    args = ap.parse_args()

    from smsim.api import catalog_for
    from smsim.executor import Executor
    from smsim.scenario import load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.yaml"
        path.write_text(SCENARIO.format(duration=args.duration))
        scenario = load_scenario(path)
        catalog = catalog_for(scenario)
        n, w = args.tasks, args.workers
        warm = [(-i, (scenario, i)) for i in range(1, 2 * w + 1)]  # load the compiled kernels first
        tasks = [(i, (scenario, 1000 + i)) for i in range(n)]
        rows = []
        with Executor(1) as ex:
            ex.map(warm_up, warm)
            rows.append(("1 process", 1, *sweep(ex, tasks)))
        with Executor(w) as ex:
            ex.map(warm_up, warm)
            rows.append((f"{w} local processes", w, *sweep(ex, tasks)))
        t0 = time.perf_counter()
        with Executor(scheduler=f"local:{w}") as ex:
            startup = time.perf_counter() - t0
            ex.map(warm_up, [(k, (*a, catalog)) for k, a in warm])
            rows.append((f"Dask LocalCluster, {w} workers", w,
                         *sweep(ex, [(k, (*a, catalog)) for k, a in tasks])))

    serial = rows[0][2]
    print(f"{n} runs of a {args.duration} request-tier endpoint; {serial / n * 1e3:.1f} ms per run on "
          f"one process; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'where':<30}{'wall s':>8}{'speedup':>9}{'overhead ms/task':>18}")
    for name, workers, wall, busy, _ in rows:
        # time the workers were held (wall x workers) but not simulating, per task
        overhead = (wall * workers - busy) / n * 1e3
        print(f"{name:<30}{wall:>8.2f}{serial / wall:>9.2f}{overhead:>18.1f}")
    print(f"cluster start-up (once per command, not in the sweep): {startup:.2f} s")
    print("identical results:", all(r[4] == rows[0][4] for r in rows))


if __name__ == "__main__":
    main()
