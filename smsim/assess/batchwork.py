"""Batch work on a real-time endpoint: traffic that arrives in a few hours a day, served by
instances kept on all day. A batch transform job (or an endpoint started for the work) pays only
for the hours with work.

An endpoint qualifies when its instances are billed in at least 90 % of the hours of the bill
and its invocations fall in at most ``MAX_ACTIVE_SHARE`` of those hours. The saving is the
endpoint's cost in the hours without any invocation, per month; the what-if keeps its instances
only in the hours with work.
"""

from __future__ import annotations

import pandas as pd

from smsim.assess.findings import Finding, variant
from smsim.assess.idle import _endpoint_name, fleets_of
from smsim.bill.baseline import Baseline, resource_name, steps
from smsim.bill.metrics import UsageMetrics
from smsim.bill.usage import BillUsage

MAX_ACTIVE_SHARE = 0.25
MIN_BILLED_SHARE = 0.9


def batch_on_realtime(usage: BillUsage, baseline: Baseline, metrics: UsageMetrics | None,
                      idle_days: float = 7.0) -> list[Finding]:
    if metrics is None:
        return []
    t0 = pd.Timestamp(usage.summary["horizon"]["start"])
    inst = usage.instances[usage.instances["component"] == "RealTimeInference"]
    out = []
    for (rid, itype), g in inst.groupby(["resource", "instance_type"], sort=True):
        name = _endpoint_name(rid, metrics)
        if name is None:
            continue
        inv = metrics.series(name, "Invocations")
        if inv.sum() <= 0:
            continue
        hourly = inv.groupby(((inv.index - t0).total_seconds() // 3600).astype(int)).sum()
        observed = hourly[(hourly.index >= 0) & (hourly.index < usage.hours)]
        billed = g[g["instance_hours"] > 0]
        billed = billed[billed["hour"].isin(observed.index)]
        if len(billed) < MIN_BILLED_SHARE * len(observed) or len(observed) < 48:
            continue
        active = set(observed[observed > 0].index)
        if not active or len(active) > MAX_ACTIVE_SHARE * len(observed):
            continue
        idle_cost = float(billed.loc[~billed["hour"].isin(active), "public_cost_usd"].sum())
        saving = idle_cost / len(observed) * 730.0
        if saving <= 0:
            continue
        kept = g[g["hour"].isin(active)]
        fleets = [f for f in fleets_of(baseline, rid, "RealTimeInference") if f["instance_type"] == itype]
        patch = {"fleets": {f["name"]: {"steps_file": None, "count_steps": steps(kept["hour"], kept["instance_hours"])}
                            for f in fleets}}
        out.append(Finding(
            "batch_on_realtime", rid, f"run the work of {resource_name(rid)} as batch transform",
            f"invocations in {len(active)} of {len(observed)} hours ({100.0 * len(active) / len(observed):.0f} %) "
            f"while {itype} instances were billed in {len(billed)}; {idle_cost:.2f} USD paid in hours without work",
            saving, "medium",
            variant(f"batch-{fleets[0]['name']}", "instances only in the hours with work", patch) if fleets else None))
    return out
