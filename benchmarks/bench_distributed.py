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

Data movement: a second sweep reads a request trace (a day at 2 requests/s) and a user price
catalog. The client reads both once (``smsim.api.read_inputs``) and scatters them once per
worker; printed: the bytes a task carries that way (its share of the task messages plus the
per-worker copies) beside the bytes it would carry with the files pickled into every task
message, and whether the cluster's numbers equal one process's.

With ``--commit-paths``: whether ``smsim commit``'s sample paths would gain from the executor.
A year of hourly paths (200 x 8760) from the model the commitment sizing picks for 60 days of
hourly usage is simulated in one vectorised call, then as 8 blocks of 25 paths (each block with
its own stream, as a fan-out would need) on 1 and on 2 local processes.

    python benchmarks/bench_distributed.py [--tasks 240] [--workers 2] [--duration 20min] [--commit-paths]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
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


TRACED = SCENARIO.replace("workload: {{kind: poisson, rate_per_s: 2}}",
                          "workload: {{kind: trace, path: day.csv}}").replace(
    "seed: 1\n", "seed: 1\npricing: {{catalog: prices}}\n").replace("ml.m5.large", "ml.m5.xlarge")


def traced_sweep_files(folder: Path, duration: str) -> Path:
    """A day of requests at 2 per second, a copy of the test price catalog, and the scenario."""
    import numpy as np
    import pandas as pd

    times = np.sort(np.random.default_rng(7).uniform(0, 86_400, 172_800))
    pd.DataFrame({"arrival_s": np.round(times, 6)}).to_csv(folder / "day.csv", index=False)
    shutil.copytree(Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pricing" / "mini",
                    folder / "prices")
    path = folder / "traced.yaml"
    path.write_text(TRACED.format(duration=duration))
    return path


def task_bytes(ex, tasks, bundle) -> tuple[float, float]:
    """Bytes per task: (scattered once per worker, pickled into every task message)."""
    chunks = ex._chunks(tasks)
    refs = sum(len(pickle.dumps([tasks[i][1] for i in c], protocol=5)) + 64 for c in chunks)
    inline = sum(len(pickle.dumps(([tasks[i][1] for i in c], bundle), protocol=5)) for c in chunks)
    once = len(pickle.dumps(bundle, protocol=5)) * ex.workers
    return (refs + once) / len(tasks), inline / len(tasks)


def path_block(model, k: int, n: int):
    """``n`` paths of a year from block ``k``'s own stream."""
    from smsim.rng import stream

    return model.simulate(8760, n, stream(0, "block", str(k)))


def commit_paths(workers: int) -> None:
    import numpy as np
    import pandas as pd

    from smsim.executor import Executor
    from smsim.forecast.api import _fit
    from smsim.rng import stream

    idx = pd.date_range("2026-01-01", periods=60 * 24, freq="h")
    h = np.arange(len(idx))
    noise = np.random.default_rng(1).normal(0, 0.8, len(idx))
    y = pd.Series(10 + 3 * np.sin(2 * np.pi * h / 24) + 0.002 * h + noise, idx, name="usd")
    t0 = time.perf_counter()
    model = _fit(y, 8760, (80.0, 95.0), "auto", None, 4, None).model
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.simulate(8760, 200, stream(0, "paths"))
    one_call = time.perf_counter() - t0
    blocks = {}
    for jobs in (1, workers):
        with Executor(jobs) as ex:
            ex.map(path_block, [(k, (model, k, 1)) for k in range(jobs)])  # start and warm the workers
            t0 = time.perf_counter()
            ex.map(path_block, [(k, (model, k, 25)) for k in range(8)])
            blocks[jobs] = time.perf_counter() - t0
    print(f"\ncommit sample paths ({model.name}, 200 x 8760): model choice {fit_s:.1f} s; paths in one call "
          f"{one_call:.2f} s; 8 blocks of 25 on 1 process {blocks[1]:.2f} s, on {workers} processes "
          f"{blocks[workers]:.2f} s; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=240)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", default="20min", help="simulated horizon of each run")
    ap.add_argument("--commit-paths", action="store_true", help="also time commit's sample paths")
    args = ap.parse_args()

    from smsim.api import catalog_for, read_inputs
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
            traced = load_scenario(traced_sweep_files(Path(tmp), args.duration))
            t0 = time.perf_counter()
            bundle = read_inputs(traced)
            read_s = time.perf_counter() - t0
            n_traced = max(2 * w, n // 5)
            traced_tasks = [(i, (traced, 2000 + i)) for i in range(n_traced)]
            scattered, inline = task_bytes(ex, traced_tasks, bundle)
            t0 = time.perf_counter()
            on_cluster = ex.map(timed_run, traced_tasks, inputs=bundle)
            traced_wall = time.perf_counter() - t0
        with Executor(1) as ex:
            here = ex.map(timed_run, traced_tasks)
        same = all(json.dumps(on_cluster[k][0].summary, sort_keys=True, default=str)
                   == json.dumps(here[k][0].summary, sort_keys=True, default=str) for k in here)

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
    print(f"\ndata movement: {n_traced} runs reading a {bundle_desc(bundle)}; read once by the client in "
          f"{read_s:.2f} s, sweep {traced_wall:.2f} s on the cluster")
    print(f"{'files':<30}{'bytes per task':>16}")
    print(f"{'scattered once per worker':<30}{scattered:>16,.0f}")
    print(f"{'pickled into every task':<30}{inline:>16,.0f}")
    print("identical to one process:", same)
    if args.commit_paths:
        commit_paths(w)


def bundle_desc(bundle) -> str:
    size = len(pickle.dumps(bundle, protocol=5))
    return f"{size / 1e6:.1f} MB input bundle ({', '.join(sorted(k[0] for k in bundle))})"


if __name__ == "__main__":
    main()
