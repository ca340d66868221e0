"""What both tiers of a real-time endpoint report: the series columns, the instance meter
that labels records with the endpoint's name, SLA attainment, peak instances and data metering."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import SimContext

COMPONENT = "RealTimeInference"


#: Columns of the per-minute series of both tiers.
SERIES_COLUMNS = [
    "time_s", "instances_in_service", "arrivals", "served", "timed_out", "dropped",
    "latency_p50_s", "latency_p99_s", "utilization",
]



class EndpointMeter:
    """Adapter: the autoscaler and fluid tier meter each instance under its own id; billing
    reports cost per ``resource_id``, so records are re-labelled with the endpoint's name and
    the instance id moves to the ``smsim:instance`` tag."""

    def __init__(self, meter, name: str) -> None:
        self.meter = meter
        self.name = name

    def instance(self, resource_id, resource_kind, component, instance_type, start_s, end_s,
                 count=1, market="OnDemand", tags=None) -> None:
        tags = dict(tags or {})
        tags["smsim:instance"] = str(resource_id)
        self.meter.instance(self.name, "endpoint", component, instance_type, start_s, end_s, count, market, tags)



def sla_attainment(counts: np.ndarray, representative: np.ndarray, threshold_s: float, finished: float) -> float:
    """Share of finished requests served within ``threshold_s``, from a response histogram
    (accurate to the histogram's relative error around the threshold)."""
    if finished <= 0:
        return math.nan
    return float(counts[representative <= threshold_s].sum()) / finished



def max_concurrent(intervals: list[tuple[float, float]]) -> int:
    """Most intervals ``[a, b)`` open at once."""
    if not intervals:
        return 0
    pts = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda p: (p[0], p[1]))
    level = peak = 0
    for _, d in pts:
        level += d
        peak = max(peak, level)
    return peak



def meter_data(ctx: SimContext, spec, series: pd.DataFrame, tags: dict) -> dict[str, float]:
    """Meter data processed in (per arrival) and out (per served request) hour by hour."""
    out: dict[str, float] = {}
    for field, col, key in (("data_in_gb_per_request", "arrivals", "endpoint_data_in_gb"),
                            ("data_out_gb_per_request", "served", "endpoint_data_out_gb")):
        gb_per = getattr(spec, field)
        if not gb_per:
            continue
        gb = series[col].to_numpy(dtype=float) * gb_per
        ctx.meter.amounts_by_hour(spec.name, "endpoint", COMPONENT, key, series.time_s.to_numpy(), gb,
                                  ctx.horizon_s, tags)
        out[key.replace("endpoint_", "")] = float(gb.sum())
    return out
