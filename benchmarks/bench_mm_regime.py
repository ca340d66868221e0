"""Does the multi-model fluid form pick the cache regime the request tier lands in?

Sweeps the cache size (and the fleet's minimum size) of the thrashing case of
``bench_kinds_fluid.py`` (12 Zipf-popular models of 4 GB, 8 s loads, about 6.2 requests/s, 2
workers per instance) and prints, as means over ``--seeds`` seeds, the request tier's measured
behaviour (hit rate, share dropped for memory, busy share of the workers, p50) beside the fluid
form's chosen regime, hit rate, and cost and p50 error against the request tier; with
``--before REV`` also the fluid form with the regime test of ``cache.py`` at git revision REV,
in the same run.

Run: ``PYTHONPATH=$PWD python benchmarks/bench_mm_regime.py`` (``--seeds N``, ``--first-seed S``, ``--before REV``)
"""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
from bench_kinds_fluid import mme, scenario

import smsim.resources.multimodel.fluid as mm_fluid
from smsim import api

SWEEP = [(1, gb) for gb in (8, 12, 16, 20, 24, 28, 32, 48)] + [(6, gb) for gb in (16, 20, 24, 28)]


def cache_of(rev: str):
    """``smsim/resources/multimodel/cache.py`` as it was at git revision ``rev``."""
    src = subprocess.run(["git", "show", f"{rev}:smsim/resources/multimodel/cache.py"], capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout
    module = types.ModuleType(f"mm_cache_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(src, f"cache.py@{rev}", "exec"), module.__dict__)
    return module


def endpoint(min_capacity: int, cache_gb: float) -> dict:
    ep = {**mme(12), "cache_memory_gb": float(cache_gb)}
    ep["autoscaling"] = {**ep["autoscaling"], "min_capacity": min_capacity}
    return ep


def measure(ep: dict, fidelity: str, seeds: list[int]) -> dict:
    rows = []
    for seed in seeds:
        res = api.run_scenario(scenario(ep, "1d", fidelity, seed))
        m, s = res.summary["resources"][0], res.series[ep["name"]]
        window = float(s.window_start_s.iloc[1] - s.window_start_s.iloc[0])
        busy = float(s.busy_s.sum() / (s.instances_in_service * window * ep["concurrency_per_instance"]).sum())
        rows.append({"hit": m["cache_hit_rate"], "drop": m["dropped"] / m["requests"], "busy": busy,
                     "p50": m["latency_p50_s"], "cost": m["cost_usd"], "thrash": m.get("cache_regime") == "thrashing"})
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def rel(a: float, b: float) -> str:
    return f"{(a - b) / b:+.1%}" if b else "-"


def fluid_cols(f: dict, r: dict) -> str:
    regime = "thrashing" if f["thrash"] == 1.0 else "partitioned" if f["thrash"] == 0.0 else f"thrashing {f['thrash']:.0%}"
    return (f"{regime} | {f['hit']:.3f} ({100 * (f['hit'] - r['hit']):+.1f} pt) | {rel(f['cost'], r['cost'])} | "
            f"{f['p50']:.2f} ({rel(f['p50'], r['p50'])})")


def main() -> None:
    n_seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 3
    before = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else None
    first = int(sys.argv[sys.argv.index("--first-seed") + 1]) if "--first-seed" in sys.argv else 1
    seeds = list(range(first, first + n_seeds))
    old = cache_of(before) if before else None
    print(f"means over seeds {seeds[0]}-{seeds[-1]}")
    head = ("| min inst | cache GB | req hit | req dropped | req busy | req p50 s | fluid regime | fluid hit | "
            "cost err | fluid p50 s |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for mn, gb in SWEEP:
        ep = endpoint(mn, gb)
        r = measure(ep, "request", seeds)
        f = measure(ep, "fluid", seeds)
        lead = f"| {mn} | {gb} | {r['hit']:.3f} | {r['drop']:.3f} | {r['busy']:.2f} | {r['p50']:.2f} |"
        print(f"{lead} {fluid_cols(f, r)} |", flush=True)
        if old is not None:
            current, mm_fluid.fleet_cache = mm_fluid.fleet_cache, old.fleet_cache
            try:
                b = measure(ep, "fluid", seeds)
            finally:
                mm_fluid.fleet_cache = current
            print(f"| | (@{before}) | | | | | {fluid_cols(b, r)} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
