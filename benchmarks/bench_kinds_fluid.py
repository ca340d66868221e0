"""How wrong are the fluid forms of serverless, asynchronous and multi-model endpoints?

Each case runs the same scenario at ``fidelity: request`` and ``fidelity: fluid`` through
``smsim.api.run_scenario`` over ``--seeds`` seeds (default 3; the same seed gives both tiers the
same arrivals below 2e6 expected requests) and prints the means side by side: cost, the kind's
own figure (throttle and cold-start rates, cache hit rate, instance-hours), p50/p90/p99, SLA
attainment, wall time. Then one year of each kind in the fluid form is timed (target < 5 s).

``--before REV`` also runs the multi-model cases with the fluid form of git revision REV
(``smsim/resources/multimodel/fluid.py`` and its cache regimes, ``cache.py``, read with ``git
show``) and prints its row under the current one, against the same request-tier means.

Run: ``python benchmarks/bench_kinds_fluid.py`` (``--seeds N``, ``--first-seed S``, ``--only async,multi``,
``--no-year``, ``--before REV``)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types

import numpy as np

import smsim.resources.multimodel.fluid as mm_fluid
from smsim import api
from smsim.resources.registry import simulate
from smsim.scenario.schema import Scenario

MODELS = [{"name": f"m{k}", "memory_gb": 4.0, "load_time_s": 8.0,
           "latency": {"*": {"kind": "gamma", "mean_s": 0.2, "cv": 1.0}}} for k in range(16)] + [
    {"name": "slow", "latency": {"*": {"kind": "lognormal", "median_s": 8.0, "p99_s": 40.0}}},
    {"name": "small", "latency": {"*": {"kind": "lognormal", "median_s": 0.15, "p99_s": 0.6}}}]
SEASONAL = {"kind": "seasonal", "base_rate_per_s": 1.0, "daily_amplitude": 0.8}
SCALE_ON_BACKLOG = {"min_capacity": 0, "max_capacity": 20, "scale_to_zero": True,
                    "provisioning": {"kind": "fixed", "delay_s": 300},
                    "policies": [{"kind": "target_tracking", "metric": "backlog_per_instance", "target_value": 5}]}


def serverless(workload: dict, **kw) -> dict:
    return {"kind": "serverless", "name": "ep", "model": "small", "memory_size_mb": 3072, "max_concurrency": 10,
            "workload": workload, "sla": {"latency_threshold_s": 1.0}, **kw}


def async_(workload: dict) -> dict:
    return {"kind": "async", "name": "ep", "model": "slow", "instance_type": "ml.m5.large",
            "concurrency_per_instance": 2, "max_processing_time_s": "1h", "workload": workload,
            "autoscaling": SCALE_ON_BACKLOG, "sla": {"latency_threshold_s": 120.0}}


def mme(n_models: int, rate: float = 2.0) -> dict:
    names = [f"m{k}" for k in range(n_models)]
    return {"kind": "multi_model", "name": "ep", "models": names, "instance_type": "ml.g5.xlarge",
            "concurrency_per_instance": 2, "cache_memory_gb": 24.0,
            "workload": {"kind": "mix", "models": {n: {"kind": "poisson", "rate_per_s": rate / (k + 1)}
                                                   for k, n in enumerate(names)}},
            "sla": {"latency_threshold_s": 1.0},
            "autoscaling": {"min_capacity": 1, "max_capacity": 10,
                            "policies": [{"kind": "target_tracking", "target_value": 100}]}}


CASES = [
    ("serverless spiky 14d", serverless({"kind": "mmpp", "rates_per_s": [0.002, 1.5], "mean_sojourn_s": [10800, 600]}),
     "14d", "cold_start_rate"),
    ("serverless steady 1d (throttling)", serverless({"kind": "poisson", "rate_per_s": 40.0}), "1d", "throttle_rate"),
    ("serverless trickle 40d", serverless({"kind": "poisson", "rate_per_s": 0.002}), "40d", "cold_start_rate"),
    ("async seasonal 1d", async_(SEASONAL), "1d", "instance_hours"),
    ("async bursty MMPP 1d", async_({"kind": "mmpp", "rates_per_s": [0.02, 2.0], "mean_sojourn_s": [3600, 600]}), "1d",
     "instance_hours"),
    ("async trickle 1d (scale to zero)", async_({"kind": "poisson", "rate_per_s": 0.05}), "1d", "instance_hours"),
    ("multi-model, 4 models fit 1d", mme(4), "1d", "cache_hit_rate"),
    ("multi-model, 12 models thrash 1d", mme(12), "1d", "cache_hit_rate"),
    ("multi-model, 16 models thrash 1d", mme(16), "1d", "cache_hit_rate"),
    ("multi-model, 12 models thrash, 16 GB cache 1d", {**mme(12), "cache_memory_gb": 16.0}, "1d", "cache_hit_rate"),
]
KEYS = ("cost_usd", "latency_p50_s", "latency_p90_s", "latency_p99_s", "sla_attainment")


def scenario(endpoint: dict, duration: str, fidelity: str, seed: int) -> Scenario:
    return Scenario(name="bench", horizon={"duration_s": duration}, seed=seed, fidelity=fidelity, models=MODELS,
                    endpoints=[endpoint])


def mean_over(endpoint: dict, duration: str, fidelity: str, seeds: list[int], own: str) -> tuple[dict, float]:
    rows, walls = [], []
    for seed in seeds:
        t = time.perf_counter()
        r = api.run_scenario(scenario(endpoint, duration, fidelity, seed)).summary["resources"][0]
        walls.append(time.perf_counter() - t)
        rows.append({k: float(r[k]) for k in (*KEYS, own)})
    return {k: float(np.mean([x[k] for x in rows])) for k in rows[0]}, float(np.mean(walls))


def rel(a: float, b: float) -> str:
    return f"{(a - b) / b:+.1%}" if b else "-"


def year_scenarios() -> list[tuple[str, dict]]:
    seasonal = {"kind": "seasonal", "base_rate_per_s": 5.0, "daily_amplitude": 0.7, "weekend_factor": 0.6}
    return [("serverless", serverless(seasonal, max_concurrency=20)), ("async", async_(seasonal)),
            ("multi-model", {**mme(4), "workload": {"kind": "mix", "models": {
                f"m{k}": {**seasonal, "base_rate_per_s": 5.0 / (k + 1)} for k in range(4)}}}),
            ("multi-model, thrashing", mme(12))]


def module_of(rev: str, name: str):
    """``smsim/resources/multimodel/<name>.py`` as it was at git revision ``rev``."""
    src = subprocess.run(["git", "show", f"{rev}:smsim/resources/multimodel/{name}.py"], capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout
    module = types.ModuleType(f"mm_{name}_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(src, f"{name}.py@{rev}", "exec"), module.__dict__)
    return module


def fluid_of(rev: str):
    """The multi-model fluid module as it was at git revision ``rev``, with that revision's
    cache regimes (``cache.py``)."""
    module = module_of(rev, "fluid")
    module.fleet_cache = module_of(rev, "cache").fleet_cache
    return module


def row(label: str, own: str, r: dict, f: dict, wr: float, wf: float) -> str:
    q = " | ".join(f"{r[k]:.3f} / {f[k]:.3f} ({rel(f[k], r[k])})" for k in KEYS[1:4])
    return (f"| {label} | {own} | {r[own]:.4g} | {f[own]:.4g} | {rel(f[own], r[own])} | {r['cost_usd']:.2f} | "
            f"{f['cost_usd']:.2f} | {rel(f['cost_usd'], r['cost_usd'])} | {q} | {r['sla_attainment']:.4f} / "
            f"{f['sla_attainment']:.4f} ({100 * (f['sla_attainment'] - r['sla_attainment']):+.2f} pt) | "
            f"{wr:.2f} / {wf:.2f} |")


def main() -> None:
    n_seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 3
    first = int(sys.argv[sys.argv.index("--first-seed") + 1]) if "--first-seed" in sys.argv else 1
    seeds = list(range(first, first + n_seeds))
    before = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else None
    old_fluid = fluid_of(before) if before else None
    head = ("| case | own figure | request | fluid | err | cost req $ | cost fluid $ | err | p50 req / fluid s "
            "| p90 req / fluid s | p99 req / fluid s | SLA req / fluid | wall req / fluid s |")
    print(f"means over seeds {seeds[0]}-{seeds[-1]}")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
    for label, ep, duration, own in CASES:
        if only and not any(o in label for o in only):
            continue
        r, wr = mean_over(ep, duration, "request", seeds, own)
        f, wf = mean_over(ep, duration, "fluid", seeds, own)
        print(row(label, own, r, f, wr, wf), flush=True)
        if old_fluid is not None and ep["kind"] == "multi_model":
            current, mm_fluid.run = mm_fluid.run, old_fluid.run
            try:
                b, wb = mean_over(ep, duration, "fluid", seeds, own)
            finally:
                mm_fluid.run = current
            print(row(f"{label} (fluid @{before})", own, r, b, wr, wb), flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if "--no-year" in sys.argv:
        return
    print("\none year in the fluid form (target < 5 s each; warm, after a one-day run):")
    for label, ep in year_scenarios():
        day = scenario(ep, "1d", "fluid", 1)
        simulate(day)
        t, c = time.perf_counter(), time.process_time()
        res = simulate(scenario(ep, "365d", "fluid", 1))
        m = res.resources[0].metrics
        print(f"  {label}: {time.perf_counter() - t:.2f} s wall ({time.process_time() - c:.2f} s CPU), "
              f"{m['requests']:.3g} requests; load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
