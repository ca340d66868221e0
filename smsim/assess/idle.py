"""Resources paid for and not used: endpoints with instance hours and no invocations for days,
notebooks and Studio apps left running through nights and weekends, warm pools no job reused.

Each saving is the resource's public hourly cost while it is not used, per month of 730 hours:

* idle endpoint: cost per hour over the idle stretch x 730 (the endpoint is deleted);
* notebook left on: cost per hour x 730 x (1 - 50/168), keeping it on for a 50-hour working
  week (Mon-Fri 08:00-18:00 UTC) instead of 168 hours;
* unused warm pool: the cost of the warm-pool hours after which no training of that instance type
  started, per month.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from smsim.assess.findings import Finding, variant
from smsim.bill.baseline import Baseline, resource_name
from smsim.bill.metrics import UsageMetrics
from smsim.bill.usage import BillUsage

ENDPOINT_COMPONENTS = ("RealTimeInference", "AsyncInference")
NOTEBOOK_COMPONENTS = ("Notebook", "Studio")
WORK_WEEK_H = 50.0
#: a notebook is "left on" when it ran in at least this share of the hours of its span ...
LEFT_ON_SHARE = 0.9
#: ... over at least this many hours
LEFT_ON_MIN_HOURS = 48
WORK_SCHEDULE = {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00", "timezone": "UTC"}


def fleets_of(baseline: Baseline, resource: str, component: str) -> list[dict[str, Any]]:
    """The baseline's fleets that rebuild ``resource``'s ``component`` usage."""
    return [f for f in baseline.data.get("fleets", [])
            if baseline.origin.get(f["name"]) == resource and f["component"] == component]


def _endpoint_name(resource: str, metrics: UsageMetrics) -> str | None:
    known = {r.lower(): r for r in metrics.resources()}
    return known.get(resource_name(resource).lower())


def idle_endpoints(usage: BillUsage, baseline: Baseline, metrics: UsageMetrics | None,
                   idle_days: float = 7.0) -> list[Finding]:
    """Endpoints billed for instances while their Invocations stayed at 0 for ``idle_days`` or more."""
    if metrics is None:
        return []
    out = []
    inst = usage.instances[usage.instances["component"].isin(ENDPOINT_COMPONENTS)]
    t0 = pd.Timestamp(usage.summary["horizon"]["start"])
    for (rid, comp), g in inst.groupby(["resource", "component"], sort=True):
        name = _endpoint_name(rid, metrics)
        if name is None:
            continue
        inv = metrics.series(name, "Invocations")
        if inv.empty:
            continue
        zero_s, start, end = _longest_zero_run(inv, metrics.period_s(name, "Invocations"))
        if zero_s < idle_days * 86400.0:
            continue
        h0, h1 = int((start - t0).total_seconds() // 3600), int(np.ceil((end - t0).total_seconds() / 3600))
        idle = g[(g["hour"] >= h0) & (g["hour"] < h1)]
        hours = max(h1 - h0, 1)
        per_hour = float(idle["public_cost_usd"].sum()) / hours
        if per_hour <= 0:
            continue
        still = end >= inv.index.max()
        fleets = fleets_of(baseline, rid, comp)
        out.append(Finding(
            "idle_endpoint", rid, f"delete idle endpoint {name}",
            f"no invocations for {zero_s / 86400:.1f} days ({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC)"
            f"{', still idle at the end of the metrics' if still else ''}, while billed "
            f"{float(idle['instance_hours'].sum()):.1f} instance-hours ({per_hour:.4f} USD/h)",
            per_hour * 730.0, "high" if still else "medium",
            variant(f"delete-{fleets[0]['name']}" if fleets else f"delete-{name}",
                    f"endpoint {name} deleted", {"fleets": {f["name"]: None for f in fleets}}) if fleets else None))
    return out


def _longest_zero_run(series: pd.Series, period_s: float) -> tuple[float, pd.Timestamp, pd.Timestamp]:
    """Longest stretch of zero values: (seconds, first zero time, end of the last zero period)."""
    zero = series.to_numpy() == 0
    times = series.index
    best, best_ij, i = 0.0, (None, None), None
    for k, z in enumerate(zero):
        if z and i is None:
            i = k
        if i is not None and (not z or k == len(zero) - 1):
            j = k if z else k - 1
            length = (times[j] - times[i]).total_seconds() + period_s
            if length > best:
                best, best_ij = length, (times[i], times[j] + pd.Timedelta(seconds=period_s))
            i = None
    return best, best_ij[0], best_ij[1]


def notebooks_left_on(usage: BillUsage, baseline: Baseline) -> list[Finding]:
    """Notebook instances and Studio apps running nearly every hour, nights and weekends included."""
    out = []
    inst = usage.instances[usage.instances["component"].isin(NOTEBOOK_COMPONENTS)]
    for (rid, comp, itype), g in inst.groupby(["resource", "component", "instance_type"], sort=True):
        running = g[g["instance_hours"] > 0]
        span = int(running["hour"].max() - running["hour"].min() + 1) if len(running) else 0
        if span < LEFT_ON_MIN_HOURS or len(running) < LEFT_ON_SHARE * span:
            continue
        per_hour = float(g["public_cost_usd"].sum()) / span
        saving = per_hour * 730.0 * (1.0 - WORK_WEEK_H / 168.0)
        count = max(1, round(float(running["instance_hours"].median())))
        fleets = [f for f in fleets_of(baseline, rid, comp) if f["instance_type"] == itype]
        patch = {"fleets": {f["name"]: {"count_steps": None, "steps_file": None, "count": count,
                                        "schedule": WORK_SCHEDULE} for f in fleets}}
        out.append(Finding(
            "notebook_left_on", rid, f"stop {comp.lower()} {resource_name(rid)} outside working hours",
            f"{itype} ran in {len(running)} of {span} hours ({100.0 * len(running) / span:.0f} %), nights and "
            f"weekends included, at {per_hour:.4f} USD/h; a 50-hour working week keeps {WORK_WEEK_H / 168:.0%}",
            saving, "medium",
            variant(f"schedule-{fleets[0]['name']}", f"{resource_name(rid)} on Mon-Fri 08:00-18:00 UTC only", patch)
            if fleets else None))
    return out


def unused_warm_pools(usage: BillUsage, baseline: Baseline) -> list[Finding]:
    """Warm-pool hours after which no training job of the same instance type started."""
    inst = usage.instances
    pools = inst[inst["component"] == "TrainingWarmPool"]
    training = inst[inst["component"] == "Training"]
    starts = training.groupby(["resource", "instance_type"])["hour"].min().reset_index()
    out = []
    for (rid, itype), g in pools.groupby(["resource", "instance_type"], sort=True):
        hours = np.sort(g["hour"].unique())
        runs = np.split(hours, np.flatnonzero(np.diff(hours) > 1) + 1)
        type_starts = starts.loc[starts["instance_type"] == itype, "hour"].to_numpy()
        unused_cost, unused_h = 0.0, 0
        for run in runs:
            reused = bool(((type_starts >= run[0]) & (type_starts <= run[-1] + 1)).any())
            if not reused:
                unused_cost += float(g.loc[g["hour"].isin(run), "public_cost_usd"].sum())
                unused_h += len(run)
        if unused_cost <= 0:
            continue
        fleets = fleets_of(baseline, rid, "TrainingWarmPool")
        out.append(Finding(
            "unused_warm_pool", rid, f"drop the warm pool of {resource_name(rid)}",
            f"{unused_h} warm-pool hours of {itype} with no training job of that type starting in them "
            f"or the hour after ({unused_cost:.2f} USD in the bill)",
            unused_cost * usage.per_month, "medium",
            variant(f"no-warm-pool-{fleets[0]['name']}", "warm pool not kept", {"fleets": {f["name"]: None for f in fleets}})
            if fleets else None))
    return out
