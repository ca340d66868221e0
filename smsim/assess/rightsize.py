"""Right-sizing an endpoint, checked by simulating its observed traffic on the candidates.

For a real-time endpoint with ``Invocations`` and ``ModelLatency`` metrics:

* traffic: the invocation counts of its busiest 24 hours, replayed as a count trace;
* service time per request on its current type: gamma with the invocation-weighted mean
  ``ModelLatency`` and a coefficient of variation of 1; a smaller type of the same family runs
  the same model server, so each worker keeps that service time and an instance has fewer workers
  (one per vCPU, or per GPU on accelerated types);
* candidates: every cheaper (type, count) of the same family with the memory the model uses
  (``MemoryUtilization`` x the current type's memory, +20 %), fewer instances of the current type
  included;
* the target: the exported ``ModelLatency`` p99 statistic (invocation-weighted) when there is one,
  otherwise the current type's simulated p99 + 10 %.

All candidates and the current configuration serve the very same requests in one simulation
(a shared ``traffic_stream``); the cheapest candidate whose simulated p99 meets the target and
that times out or drops nothing is proposed. The saving is the endpoint's bill cost x (1 - candidate
cost per hour / current cost per hour), per month.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from smsim.assess.findings import Finding, variant
from smsim.assess.idle import _endpoint_name, fleets_of
from smsim.bill.baseline import Baseline, resource_name
from smsim.bill.metrics import UsageMetrics
from smsim.bill.usage import BillUsage

MEMORY_HEADROOM = 1.2
CV = 1.0
UNSPECIFIED_TARGET_SLACK = 1.10
MAX_CANDIDATES = 12


def workers(spec) -> int:
    """Model-server workers per instance: one per GPU on accelerated types, else one per vCPU."""
    return int(spec.accelerator_count) if spec.accelerator_count else max(1, int(spec.vcpu))


def candidates(itype: str, count: int, catalog, region: str, memory_gb: float) -> list[tuple[str, int, float]]:
    """Cheaper ``(type, count, usd_per_hour)`` of ``itype``'s family, cheapest first."""
    cur = catalog.ondemand_usd_per_hour(itype, "RealTimeInference", region) * count
    family = itype.rsplit(".", 1)[0]
    out = []
    for t in catalog.instance_types("RealTimeInference", region):
        if t.rsplit(".", 1)[0] != family:
            continue
        spec = catalog.instance(t)
        if spec.memory_gib < memory_gb:
            continue
        rate = catalog.ondemand_usd_per_hour(t, "RealTimeInference", region)
        for m in range(1, count + 1):
            if rate * m < cur - 1e-9:
                out.append((t, m, rate * m))
    return sorted(out, key=lambda c: (c[2], c[0], c[1]))[:MAX_CANDIDATES]


def _weighted(values: pd.Series, weights: pd.Series) -> float | None:
    both = pd.concat([values, weights], axis=1, join="inner").dropna()
    w = both.iloc[:, 1].to_numpy()
    if len(both) == 0 or w.sum() <= 0:
        return None
    return float(np.average(both.iloc[:, 0].to_numpy(), weights=w))


def simulate_candidates(counts: pd.Series, period_s: float, mean_s: float, configs: list[tuple[str, int, int]],
                        region: str) -> list[dict]:
    """Simulate the traffic ``counts`` (per period) on each ``(type, count, workers)``; their metrics."""
    from smsim.pricing.catalog import load_catalog
    from smsim.resources.registry import simulate
    from smsim.scenario import load_scenario
    from smsim.scenario.checks import check_input_files

    start = counts.index[0]
    with tempfile.TemporaryDirectory(prefix="smsim-rightsize-") as tmp:
        trace = Path(tmp) / "invocations.csv"
        pd.DataFrame({"timestamp": counts.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "count": counts.to_numpy().round().astype(int)}).to_csv(trace, index=False)
        workload = {"kind": "trace", "path": trace.name, "shape": "counts", "interval_s": float(period_s),
                    "placement": "uniform"}
        data = {"name": "rightsize", "region": region, "seed": 0,
                "horizon": {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration_s": float(len(counts) * period_s)},
                "models": [{"name": "observed", "latency": {"*": {"kind": "gamma", "mean_s": float(mean_s), "cv": CV}}}],
                "endpoints": [{"kind": "realtime", "name": f"c{i}", "model": "observed", "instance_type": t,
                               "initial_instance_count": n, "concurrency_per_instance": w, "routing": "random",
                               "traffic_stream": "observed", "workload": workload}
                              for i, (t, n, w) in enumerate(configs)]}
        path = Path(tmp) / "rightsize.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        scenario = load_scenario(path)
        check_input_files(scenario)
        result = simulate(scenario, catalog=load_catalog())
    by_name = {r.resource_id: r.metrics for r in result.resources}
    return [by_name[f"c{i}"] for i in range(len(configs))]


def busiest_day(inv: pd.Series, period_s: float) -> pd.Series:
    per_day = max(1, int(round(86400.0 / period_s)))
    if len(inv) <= per_day:
        return inv
    rolling = inv.rolling(per_day).sum()
    end = int(np.nanargmax(rolling.to_numpy()))
    return inv.iloc[end - per_day + 1: end + 1]


def right_size(usage: BillUsage, baseline: Baseline, metrics: UsageMetrics | None, catalog) -> list[Finding]:
    if metrics is None:
        return []
    region = usage.summary.get("region") or "us-east-1"
    inst = usage.instances[(usage.instances["component"] == "RealTimeInference")
                           & (usage.instances["market"] == "OnDemand")]
    out = []
    for (rid, itype), g in inst.groupby(["resource", "instance_type"], sort=True):
        name = _endpoint_name(rid, metrics)
        if name is None:
            continue
        inv = metrics.series(name, "Invocations")
        lat = metrics.series(name, "ModelLatency", "Average")
        if inv.sum() <= 0 or lat.dropna().empty:
            continue
        mean_s = _weighted(lat, inv)
        n = max(1, round(float(g.loc[g["instance_hours"] > 0, "instance_hours"].median())))
        spec = catalog.instance(itype)
        mem_pct = metrics.series(name, "MemoryUtilization").max()
        memory = (float(mem_pct) / 100.0 * spec.memory_gib * MEMORY_HEADROOM) if pd.notna(mem_pct) else 0.0
        cands = candidates(itype, n, catalog, region, memory)
        if mean_s is None or not cands:
            continue
        period = metrics.period_s(name, "Invocations")
        day = busiest_day(inv, period)
        configs = [(itype, n, workers(spec))] + [(t, m, workers(catalog.instance(t))) for t, m, _ in cands]
        results = simulate_candidates(day, period, mean_s, configs, region)
        p99_stat = metrics.series(name, "ModelLatency", "p99")
        observed = _weighted(p99_stat, inv) if not p99_stat.empty else None
        current = results[0]
        target = observed if observed is not None else current["latency_p99_s"] * UNSPECIFIED_TARGET_SLACK
        chosen = next(((c, r) for c, r in zip(cands, results[1:], strict=True)
                       if r["latency_p99_s"] <= target and r.get("timed_out", 0) == 0 and r.get("dropped", 0) == 0),
                      None)
        if chosen is None:
            continue
        (t, m, usd), r = chosen
        cur_usd = catalog.ondemand_usd_per_hour(itype, "RealTimeInference", region) * n
        cost = float(g["public_cost_usd"].sum())
        saving = cost * (1.0 - usd / cur_usd) * usage.per_month
        fleets = fleets_of(baseline, rid, "RealTimeInference")
        fleets = [f for f in fleets if f["instance_type"] == itype]
        patch = {"fleets": {f["name"]: {"instance_type": t, **({"count_scale": m / n} if m != n else {})}
                            for f in fleets}}
        out.append(Finding(
            "right_size", rid, f"serve {resource_name(rid)} on {m} x {t} instead of {n} x {itype}",
            f"busiest 24 h ({int(day.sum()):,} invocations, peak {day.max() / period:.2f}/s) simulated on both: "
            f"p99 {current['latency_p99_s']:.3f} s now, {r['latency_p99_s']:.3f} s on {m} x {t} against a "
            f"target of {target:.3f} s ({'observed p99' if observed is not None else 'current + 10 %'}); "
            f"mean ModelLatency {mean_s * 1000:.1f} ms; {cur_usd:.4f} -> {usd:.4f} USD/h",
            saving, "high" if observed is not None else "medium",
            variant(f"rightsize-{fleets[0]['name']}", f"{m} x {t}", patch) if fleets else None))
    return out
