"""Optimizer vs exhaustive search on a real trace: same answer, fewer simulations, less time.

Workload: the Azure LLM conversation trace (Splitwise, ISCA'24; ../shared/data), tiled over the
horizon and scaled x4 (a seasonal synthetic workload when the trace folder is absent). Space:
every accelerated real-time instance type under 8 USD/h in the catalog plus the c6i family up
to 3 USD/h (30+ types), two model variants (fp16,
int8) whose service time scales with the type's accelerator or vCPUs, fixed fleets 1..8 and two
target-tracking policies, and savings plans {0, auto}. Both searches run at the fluid tier on
``--jobs`` processes (2 by default) and must return the same candidate and cost.

    python benchmarks/bench_optimize.py [--hours 4] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from smsim.api import catalog_for
from smsim.optimize.api import optimize, resolve_spec
from smsim.optimize.search import exhaustive
from smsim.optimize.space import build_space
from smsim.scenario.schema import Scenario

GPU_SPEED = {"NVIDIA A10G": 1.0, "NVIDIA L4": 0.85, "NVIDIA T4": 0.55, "NVIDIA L40S": 1.6, "NVIDIA A100": 2.2,
             "NVIDIA H100": 3.5, "AWS Inferentia2": 0.9, "AWS Trainium": 1.2}


def latency_table(catalog, types: list[str], median_s: float) -> dict:
    """Per-type lognormal profiles: A10G = 1, others by relative speed; CPUs by vCPUs (slow)."""
    out = {}
    for t in types:
        s = catalog.instance(t)
        speed = GPU_SPEED.get(s.accelerator_type, 1.0) if s.accelerator_count else min(s.vcpu / 32.0, 0.6)
        m = median_s / speed
        out[t] = {"kind": "lognormal", "median_s": round(m, 5), "p99_s": round(2.5 * m, 5)}
    return out


def build(hours: float) -> tuple[Scenario, dict]:
    data = Path(__file__).resolve().parents[2] / "shared" / "data" / "azure-llm-inference-2023"
    if data.is_dir():
        workload = {"kind": "real", "dataset": "azure-llm-2023-conv", "data_dir": str(data.parent),
                    "repeat": True, "rate_scale": 4.0}
        source = "Azure LLM conv trace x4, tiled"
    else:
        workload = {"kind": "seasonal", "base_rate_per_s": 20.0, "daily_amplitude": 0.5}
        source = "seasonal synthetic (trace folder absent)"
    base = Scenario(name="bench", horizon={"duration_s": hours * 3600}, seed=3, fidelity="fluid",
                    models=[{"name": "x", "latency": {"*": {"kind": "deterministic", "value_s": 0.01}}}],
                    endpoints=[{"kind": "realtime", "name": "chat", "model": "x", "instance_type": "ml.g5.xlarge",
                                "workload": workload}])
    catalog = catalog_for(base)
    offered = catalog.instance_types("RealTimeInference", base.region)
    price = {t: catalog.ondemand_usd_per_hour(t, "RealTimeInference", base.region) for t in offered}
    types = [t for t in offered if catalog.instance(t).accelerator_count > 0 and price[t] <= 8.0]
    # plus the compute-optimized CPU family, so the space has 30+ types with CPU and GPU options
    types += [t for t in offered if t.startswith("ml.c6i.") and price[t] <= 3.0]
    models = [{"name": "fp16", "memory_gb": 14, "latency": latency_table(catalog, types, 0.12)},
              {"name": "int8", "memory_gb": 8, "latency": latency_table(catalog, types, 0.08)}]
    sc = Scenario.model_validate({**base.model_dump(), "models": models,
                                  "endpoints": [{**base.endpoints[0].model_dump(), "model": "fp16"}]})
    spec = dict(sla="p99<=250ms", models=["fp16", "int8"], instance_types=types, instance_count={"min": 1, "max": 8},
                autoscaling={"min_capacity": [2], "max_capacity": [8], "target_value": [900, 1800]},
                savings_plan_usd_per_hour=[0, "auto"], fidelity="fluid")
    return sc, {"spec": spec, "types": len(types), "source": source}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=4.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-exhaustive", action="store_true")
    args = ap.parse_args()
    sc, info = build(args.hours)
    t = time.perf_counter()
    res = optimize(sc, info["spec"], jobs=args.jobs)
    t_opt = time.perf_counter() - t
    space = res.space
    print(f"workload: {info['source']}; {args.hours:g} h; {info['types']} instance types; "
          f"{len(space)} candidates x 2 savings-plan options; jobs={args.jobs}")
    rows = [("optimizer", res.result.n_simulations, t_opt, res.result.best)]
    if not args.skip_exhaustive:
        sp = resolve_spec(sc, info["spec"])
        space2 = build_space(sc, sp, catalog_for(sc))
        t = time.perf_counter()
        ex = exhaustive(sc, space2, fidelity="fluid", jobs=args.jobs)
        rows.append(("exhaustive", ex.n_simulations, time.perf_counter() - t, ex.best))
    print("| search | simulations | wall s | answer | cost USD |")
    print("|---|---:|---:|---|---:|")
    for name, n, wall, best in rows:
        label = best.candidate.label() + f", SP {best.commitment_usd_per_hour:g}/h" if best else "infeasible"
        print(f"| {name} | {n} | {wall:.1f} | {label} | {best.cost_usd:.2f} |" if best else f"| {name} | {n} | {wall:.1f} | infeasible | |")
    print(f"pruned: {res.result.pruned}")
    if len(rows) == 2:
        same = (rows[0][3] is None and rows[1][3] is None) or (
            rows[0][3].candidate.index == rows[1][3].candidate.index and rows[0][3].cost_usd == rows[1][3].cost_usd)
        print(f"same answer: {same}")


if __name__ == "__main__":
    main()
