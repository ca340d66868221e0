"""Data capture: captured requests per clock hour, and their S3 storage and PUT requests.

The requests come from the monitored endpoint's own arrival stream, counted per minute as the
endpoint's fluid tier counts them (:func:`smsim.workload.counts.minute_counts`: up to 2 million
expected requests the very arrivals the endpoint serves, beyond that Poisson counts of the same
rate, without materializing requests), or from a declared daily volume. Each hour's sample is Binomial(requests, sampling share); its bytes land in S3 as one
cohort at the hour's midpoint and stay until ``retention_days`` or the horizon.
"""

from __future__ import annotations

import math

import numpy as np

from smsim.core.engine import SimContext
from smsim.workload.counts import minute_counts

GIB = 1024.0**3


def hourly_requests(ctx: SimContext, spec) -> np.ndarray:
    """Requests per clock hour of the monitored traffic (float: expected counts when declared)."""
    h = ctx.horizon_s
    hours = max(1, math.ceil(h / 3600.0 - 1e-9))
    cap = spec.capture
    if cap.requests_per_day is not None:
        width = np.minimum(np.arange(1, hours + 1) * 3600.0, h) - np.arange(hours) * 3600.0
        return cap.requests_per_day * width / 86400.0
    ep = next(e for e in ctx.scenario.endpoints if e.name == spec.endpoint)
    n_minutes = max(1, math.ceil(h / 60.0 - 1e-9))
    per_minute, _, _ = minute_counts(ep.workload, ctx.arrivals_rng(ep), n_minutes, h, ctx.start, ctx.scenario.base_dir)
    hour = np.minimum(np.arange(n_minutes) // 60, hours - 1)
    return np.bincount(hour, weights=per_minute, minlength=hours).astype(float)


def captured_requests(requests: np.ndarray, sampling_percentage: float, rng: np.random.Generator) -> np.ndarray:
    """Captured records per hour: everything at 100 %, else a binomial sample of each hour's
    (integer) requests; expected counts (declared volumes) are scaled, not sampled."""
    share = sampling_percentage / 100.0
    if share >= 1.0:
        return requests.astype(float)
    if np.all(requests == np.round(requests)):
        return rng.binomial(requests.astype(np.int64), share).astype(float)
    return requests * share


def meter_capture(out, spec, captured: np.ndarray, horizon_s: float) -> float:
    """Record S3 storage and PUTs of the captured records; returns the GB captured."""
    cap = spec.capture
    gb = captured * (cap.request_bytes + cap.response_bytes) / GIB
    keep_s = cap.retention_days * 86400.0 if cap.retention_days is not None else math.inf
    for hour in np.flatnonzero(gb > 0).tolist():
        mid = min((hour + 0.5) * 3600.0, horizon_s)
        out.storage("S3:DataCapture", "s3_standard_gb_month", float(gb[hour]), mid, min(mid + keep_s, horizon_s))
        out.amount("S3:Requests", "s3_put_requests_per_1000", float(gb[hour]) * 1024.0 / cap.object_size_mb / 1000.0, mid)
    return float(gb.sum())


__all__ = ["captured_requests", "hourly_requests", "meter_capture"]
