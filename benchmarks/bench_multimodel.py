"""Multi-model data plane: the compiled kernel against the plain-Python reference.

Zipf-popular models (0.5-2 GB each, loads 2-10 s) on a fixed fleet of 16 instances x 4 workers
caching 48 GB each, Poisson arrivals at ``--rate`` (default 500/s), gamma service mean 50 ms:
``--n`` requests (default 1e7) through
:class:`smsim.resources.multimodel.kernel.CompiledPlane`, advanced minute by minute as the
autoscaler does, then the first ``--n-ref`` (default 1e5) through both planes, checked identical
request by request (instance, outcome, hit, completion time) and timed side by side.
Target: 1e7 requests in under 30 s. Two catalogues: 30 models (about 41 GB: every instance ends
up caching all of them) and 40 (about 56 GB: LRU evictions; the routing rule, which sends a
request to the least-loaded instance whenever those caching its model have ``concurrency``
outstanding, then keeps loading models on busy fleets).

Run: ``python benchmarks/bench_multimodel.py`` (``--n 1000000`` for a quick run)
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from smsim.resources.multimodel.kernel import CompiledPlane
from smsim.resources.multimodel.plane import MultiModelPlane


def workload(n: int, rate: float, n_models: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.exponential(1.0 / rate, n))
    weights = 1.0 / np.arange(1, n_models + 1) ** 1.1
    models = rng.choice(n_models, n, p=weights / weights.sum())
    svc = rng.gamma(2.0, 0.025, n)
    memory = rng.uniform(0.5, 2.0, n_models)
    load = rng.uniform(2.0, 10.0, n_models)
    return times, models, svc, memory, load


def run(cls, times, models, svc, memory, load, record: bool):
    horizon = float(times[-1]) + 1.0
    plane = cls(times, models, svc, memory_gb=memory, load_time_s=load, horizon_s=horizon, concurrency=4,
                capacity_gb=48.0, timeout_s=60.0, record=record)
    for _ in range(16):
        plane.add_instance(0.0)
    t0 = time.perf_counter()
    for t in np.arange(60.0, horizon + 60.0, 60.0):
        plane.advance(min(t, horizon))
    return plane, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--n-ref", type=float, default=1e5)
    ap.add_argument("--rate", type=float, default=500.0)
    a = ap.parse_args()
    n, n_ref = int(a.n), int(a.n_ref)
    for n_models in (30, 40):
        data = workload(n, a.rate, n_models)
        run(CompiledPlane, *(x[:1000] if i < 3 else x for i, x in enumerate(data)), record=False)  # compile
        plane, wall = run(CompiledPlane, *data, record=False)
        t = plane.tot
        print(f"{n_models} models, compiled: {n:,} requests in {wall:.2f} s ({n / wall / 1e6:.2f} M requests/s; "
              f"target < 30 s for 1e7); hit rate {t['hits'] / max(t['hits'] + t['misses'], 1):.4f}, "
              f"{t['loads']:,} loads, {t['evictions']:,} evictions, served {t['served']:,}, timed out "
              f"{t['timed_out']:,}, dropped {t['dropped']:,}; p50/p99 {plane.hist.quantile(0.5):.3f}/"
              f"{plane.hist.quantile(0.99):.3f} s")
        ref = tuple(x[:n_ref] if i < 3 else x for i, x in enumerate(data))
        nb, wall_nb = run(CompiledPlane, *ref, record=True)
        py, wall_py = run(MultiModelPlane, *ref, record=True)
        same = (np.array_equal(nb.records, py.records, equal_nan=True) and nb.tot == py.tot
                and np.array_equal(nb.hist.counts, py.hist.counts))
        print(f"  first {n_ref:,} requests: compiled {wall_nb:.3f} s, Python {wall_py:.2f} s "
              f"({wall_py / wall_nb:.0f}x); identical request by request: {same}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
