"""How wrong is the fluid tier? Request tier vs fluid tier on the same autoscaled endpoint.

For each workload the same scenario runs at ``fidelity: request`` and ``fidelity: fluid``
(through ``smsim.api.run_scenario``: simulate, bill, summarise) and the table shows cost,
instance-hours and p99 latency side by side with the fluid tier's relative error and the wall
time of each run. Real traces (Azure LLM 2023 conversation/code, Mooncake conversation) are used
when ``shared/data`` is present. Finally one year of an autoscaled endpoint at one-minute
resolution is timed in the fluid tier through the endpoint path (target: < 2 s), warm (numba
functions already loaded in the process) and cold (a fresh process, after imports including
numba: the first call initialises numba's dispatch and loads the cached machine code, or
compiles it when there is no cache).

Below 2e7 expected requests a synthetic workload's fluid tier counts the request tier's own
arrivals (same seed), so for Poisson, seasonal and MMPP rows the two tiers see identical traffic
and the error is the model's alone.

Each figure is the mean over seeds (both tiers run every seed): the fluid tier models the
expected behaviour, while one request-tier run of a 57-minute trace is one draw of the service
times, whose p99 alone moves by +-20 % between seeds. The goal is judged against the mean of the
request tier's runs, so beside each quantile the table prints that mean's standard error
(sample standard deviation over sqrt(seeds)) and the seed range. Workloads of under
:data:`FEW_REQUESTS` requests (the real traces: cheap to run) use :data:`SEEDS_FEW` seeds, so that
the standard error is small against the 10 % goal; the million-request days use
:data:`SEEDS_MANY`.

Run: ``python benchmarks/bench_fluid_error.py`` (``--only mmpp,azure`` picks workloads by label,
``--seeds N`` sets the seeds of every workload, ``--no-year`` skips the one-year timing)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from smsim import api
from smsim.resources.registry import simulate
from smsim.scenario.schema import Scenario
from smsim.workload.real_traces import DEFAULT_DATA_DIR, dataset_path

AUTOSCALING = {"min_capacity": 1, "max_capacity": 60, "provisioning": {"kind": "fixed", "delay_s": 300},
               "policies": [{"kind": "target_tracking", "target_value": 150}]}


def scenario(workload: dict, duration: str, fidelity: str, seed: int = 11) -> Scenario:
    ep = {"kind": "realtime", "name": "ep", "model": "m", "instance_type": "ml.g5.xlarge", "workload": workload,
          "routing": "least_outstanding", "concurrency_per_instance": 2, "autoscaling": AUTOSCALING,
          "sla": {"latency_threshold_s": 2.0}}
    return Scenario(name="bench", horizon={"duration_s": duration}, seed=seed, fidelity=fidelity,
                    models=[{"name": "m", "latency": {"*": {"kind": "lognormal", "median_s": 0.4, "p99_s": 1.2}}}],
                    endpoints=[ep])


WORKLOADS = [
    ("poisson steady 1d", {"kind": "poisson", "rate_per_s": 20.0}, "1d"),
    ("seasonal daily 1d", {"kind": "seasonal", "base_rate_per_s": 20.0, "daily_amplitude": 0.7}, "1d"),
    ("bursty MMPP 1d", {"kind": "mmpp", "rates_per_s": [8.0, 60.0], "mean_sojourn_s": [1800.0, 300.0]}, "1d"),
]
REAL = [
    ("azure conv 57m", "azure-llm-2023-conv"),
    ("azure code 57m", "azure-llm-2023-code"),
    ("mooncake conv 57m", "mooncake-conversation"),
]


def year_scenario() -> Scenario:
    return scenario({"kind": "seasonal", "base_rate_per_s": 20.0, "daily_amplitude": 0.7, "weekend_factor": 0.6,
                     "trend": "linear", "growth_pct_per_year": 50}, "365d", "fluid")


def year_once() -> None:
    """Print wall and CPU time of the first one-year fluid run in this process, after imports
    (numba included: the fluid tier's module is imported lazily by the endpoint model)."""
    import smsim.resources.realtime.fluid  # noqa: F401

    year = year_scenario()
    t, c = time.perf_counter(), time.process_time()
    simulate(year)
    print(f"{time.perf_counter() - t:.3f} {time.process_time() - c:.3f}")


def run(workload: dict, duration: str, fidelity: str, seed: int = 11) -> tuple[dict, float]:
    t = time.perf_counter()
    result = api.run_scenario(scenario(workload, duration, fidelity, seed))
    wall = time.perf_counter() - t
    return result.summary["resources"][0], wall


def rel(a: float, b: float) -> str:
    return f"{(a - b) / b:+.1%}" if b else "-"


#: The goal on every workload: quantiles within 10 % (relative), SLA attainment within 1 point.
QUANTILE_TOL = 0.10
SLA_TOL = 0.01
QUANTILES = ("latency_p50_s", "latency_p90_s", "latency_p99_s")
KEYS = ("requests", "cost_usd", "instance_hours", *QUANTILES, "sla_attainment", "timed_out")


def within_goal(r: dict, f: dict) -> bool:
    ok = all(abs(f[k] - r[k]) <= QUANTILE_TOL * r[k] for k in QUANTILES)
    return ok and abs(f["sla_attainment"] - r["sla_attainment"]) <= SLA_TOL


#: Seeds per workload unless ``--seeds`` is given: many for workloads under FEW_REQUESTS requests,
#: whose runs are cheap and whose quantiles move most between seeds (one backlog episode).
FEW_REQUESTS = 100_000
SEEDS_FEW = 100
SEEDS_MANY = 5
FIRST_SEED = 11


def over_seeds(workload: dict, duration: str, fidelity: str, seeds: list[int],
               first: tuple[dict, float] | None = None) -> tuple[dict, dict, dict, dict, float]:
    """Mean, standard error of the mean, min and max of each figure over the seeds, and the mean
    wall time (``first``: the run of ``seeds[0]``, already done)."""
    runs = ([first] if first else []) + [run(workload, duration, fidelity, seed) for seed in seeds[bool(first):]]
    table = {k: np.array([r[k] for r, _ in runs], dtype=float) for k in KEYS}
    se = {k: v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan for k, v in table.items()}
    return ({k: v.mean() for k, v in table.items()}, se, {k: v.min() for k, v in table.items()},
            {k: v.max() for k, v in table.items()}, float(np.mean([w for _, w in runs])))


def seeds_for(requests: float, override: int | None) -> list[int]:
    """The seeds of a workload with ``requests`` requests (``override``: ``--seeds``)."""
    n = override if override else (SEEDS_FEW if requests < FEW_REQUESTS else SEEDS_MANY)
    return list(range(FIRST_SEED, FIRST_SEED + n))


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
    n_seeds = int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else None
    cases = list(WORKLOADS)
    for label, name in REAL:
        try:
            dataset_path(name)
        except Exception as exc:  # the shared data folder is optional
            print(f"skip {label}: {exc}")
            continue
        cases.append((label, {"kind": "real", "dataset": name}, "57m"))
    if only:
        cases = [c for c in cases if any(o in c[0] for o in only)]
    run(WORKLOADS[0][1], "1h", "request")  # compile the kernels before timing
    run(WORKLOADS[0][1], "1h", "fluid")
    header = ("| workload | requests | cost req $ | cost fluid $ | err | inst-h req | inst-h fluid | err "
              "| wall req s | wall fluid s |")
    lat_header = ("| workload | seeds | p50 req s ± se | p50 fluid s | err ± se | p90 req s ± se (seed range) "
                  "| p90 fluid s | err ± se | p99 req s ± se (seed range) | p99 fluid s | err ± se "
                  "| SLA req ± se | SLA fluid | diff | timed out req | timed out fluid | goal |")
    rows, lat_rows = [], []
    for label, workload, duration in cases:
        first = run(workload, duration, "request", FIRST_SEED)
        seeds = seeds_for(first[0]["requests"], n_seeds)
        r, r_se, r_lo, r_hi, wr = over_seeds(workload, duration, "request", seeds, first)
        f, _, _, _, wf = over_seeds(workload, duration, "fluid", seeds)
        rows.append(f"| {label} | {r['requests']:,.0f} | {r['cost_usd']:.2f} | {f['cost_usd']:.2f} | "
                    f"{rel(f['cost_usd'], r['cost_usd'])} | {r['instance_hours']:.1f} | {f['instance_hours']:.1f} | "
                    f"{rel(f['instance_hours'], r['instance_hours'])} | {wr:.2f} | {wf:.2f} |")
        k50 = QUANTILES[0]
        p50 = f"{r[k50]:.3f} ± {r_se[k50]:.3f} | {f[k50]:.3f} | {rel(f[k50], r[k50])} ± {r_se[k50] / r[k50]:.1%}"
        tail = " | ".join(f"{r[k]:.3f} ± {r_se[k]:.3f} ({r_lo[k]:.2f}-{r_hi[k]:.2f}) | {f[k]:.3f} | "
                          f"{rel(f[k], r[k])} ± {r_se[k] / r[k]:.1%}" for k in QUANTILES[1:])
        lat_rows.append(f"| {label} | {len(seeds)} | {p50} | {tail} | {r['sla_attainment']:.4f} ± "
                        f"{r_se['sla_attainment']:.4f} | {f['sla_attainment']:.4f} | "
                        f"{100 * (f['sla_attainment'] - r['sla_attainment']):+.2f} pt | {r['timed_out']:,.0f} | "
                        f"{f['timed_out']:,.0f} | {'met' if within_goal(r, f) else 'MISSED'} |")
    print(f"means over seeds {FIRST_SEED}.. (count per workload in the second table; the same seed gives both tiers "
          "the same arrivals; ± is the standard error of the request tier's mean, also relative to it)")
    for head, body in ((header, rows), (lat_header, lat_rows)):
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        print("\n".join(body))
        print()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if "--no-year" in sys.argv:
        return
    cold = subprocess.run([sys.executable, __file__, "--year-once"], capture_output=True, text=True, check=True)
    simulate(scenario(WORKLOADS[1][1], "7d", "fluid"))
    t, c = time.perf_counter(), time.process_time()
    res = simulate(year_scenario())
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    cold_wall, cold_cpu = (float(x) for x in cold.stdout.split())
    m = res.resources[0].metrics
    print(f"\none year, fluid tier, 1-minute resolution (525,600 minutes) through the endpoint path (target < 2 s):\n"
          f"  warm {wall:.2f} s wall ({cpu:.2f} s CPU); cold, first call in a fresh process with the numba cache "
          f"on disk: {cold_wall:.2f} s wall ({cold_cpu:.2f} s CPU)\n"
          f"  {m['requests']:.3g} requests, {m['instance_hours']:,.0f} instance-hours, {m['scale_out_events']} scale-outs; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"(real traces from {DEFAULT_DATA_DIR})")


if __name__ == "__main__":
    year_once() if sys.argv[1:] == ["--year-once"] else main()
