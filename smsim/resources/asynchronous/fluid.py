"""The fluid (per-minute) form of an asynchronous endpoint.

The fleet runs minute by minute in :func:`smsim.resources.scaling.fluid.simulate_fluid` with an
internal queue (:attr:`ServiceModel.queue_without_capacity`): arrivals that find no instance in
service wait (scale from zero), and the backlog the policies read counts the requests in processing,
as ``ApproximateBacklogSize`` does; with the arrival times known (a trace, or traffic generated
request by request) each minute's queue at its end follows them, so a burst that starts late in a
minute is read as queued, as the request tier reads it. Queue times come from the FIFO virtual
waiting time of :mod:`smsim.core.virtual_wait` (one shared queue, waits capped at
:data:`MAX_WAIT_S`); end-to-end latency is queue time plus service, service times above
``max_processing_time_s`` fail after holding their worker that long.

What it ignores: arrivals' timing inside a minute when the counts are drawn without it, the
discreteness of a handful of workers (one service rate per minute), and waits beyond
:data:`MAX_WAIT_S` (counted as still queued). ``benchmarks/bench_kinds_fluid.py`` measures its
error against the request tier.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import SimContext
from smsim.core.fluid import N_THETA, ServiceModel, tail_mass
from smsim.core.virtual_wait import (
    SLOT_S,
    SLOT_TIMES_S,
    virtual_waits,
    wait_edges,
    wait_reps,
    weighted_quantiles,
)
from smsim.resources.scaling.fluid import simulate_fluid
from smsim.workload.counts import minute_counts
from smsim.workload.spec import materialize

#: Queue times are resolved up to this long (s); longer waits count as still queued.
MAX_WAIT_S = 86_400.0
N_POINTS = 512
N_WAIT_BINS = 512
HOUR_S = 3600.0


def _service_points(spec, profile, ctx: SimContext, sample) -> np.ndarray:
    rng = ctx.rng("endpoint", spec.name, "service")
    if profile.size_dependent:
        if sample is None or not len(sample.arrival_s):
            sample = materialize(spec.workload, ctx.rng("endpoint", spec.name, "calibration"),
                                 min(ctx.horizon_s, HOUR_S), ctx.start, getattr(ctx.scenario, "base_dir", None))
        draws = profile.sample(rng, sample.take(slice(0, min(len(sample.arrival_s), 100_000))))
    else:
        draws = profile.base().sample(rng, 100_000)
    return np.quantile(draws, (np.arange(N_POINTS) + 0.5) / N_POINTS)


def run(spec, profile, ctx: SimContext, tags: dict) -> tuple[dict, pd.DataFrame]:
    """Simulate ``spec`` per minute, meter its instances; ``(metrics, series)``."""
    horizon = ctx.horizon_s
    n_min = max(1, math.ceil(horizon / 60.0 - 1e-9))
    base_dir = getattr(ctx.scenario, "base_dir", None)
    times: list[np.ndarray] = []
    counts, ca2, sample = minute_counts(spec.workload, ctx.arrivals_rng(spec), n_min, horizon, ctx.start, base_dir,
                                        times=times)
    pts_raw = _service_points(spec, profile, ctx, sample)
    cap = float(spec.max_processing_time_s)
    failed_share = float((pts_raw > cap).mean())
    pts = np.minimum(pts_raw, cap)  # a request held to the limit then fails
    mean_s = max(float(pts.mean()), 1e-9)
    scv = float(pts.var() / mean_s**2)
    max_wait = min(MAX_WAIT_S, max(horizon, 60.0))
    model = ServiceModel(mean_s, scv, ca2, spec.concurrency_per_instance, max_wait + cap, tuple(pts.tolist()),
                         queue_without_capacity=True)
    t_known = np.concatenate(times) if times else None
    result = simulate_fluid(counts, spec.scaling(), model, rng=ctx.rng("endpoint", spec.name, "provisioning"),
                            start=ctx.start, arrival_times_s=t_known,
                            readings_rng=ctx.rng("endpoint", spec.name, "backlog readings"))
    result.meter(ctx.meter, spec.name, spec.instance_type, component="AsyncInference", tags=tags)
    m = result.minutes
    arrivals = m.arrivals.to_numpy()
    in_service = m.in_service.to_numpy()
    # queue times: the virtual waiting time of one shared FIFO queue
    if times:
        t_arr = np.ascontiguousarray(np.concatenate(times), dtype=np.float64)
        t_first = np.searchsorted(t_arr, np.arange(n_min + 1) * 60.0).astype(np.int64)
        ca2_w, slot = 1.0, SLOT_TIMES_S
    else:
        t_arr, t_first = np.zeros(0), np.zeros(n_min + 1, dtype=np.int64)
        ca2_w, slot = ca2, SLOT_S
    # the ring of queued slots covers the longest wait: at most 20,000 slots, dividing a minute
    slot = next(x for x in (slot, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 10.0, 12.0, 15.0, 20.0, 30.0, 60.0)
                if x >= slot and x >= max_wait / 20_000.0)
    edges = wait_edges(max_wait, N_WAIT_BINS)
    mass, theta_weight = np.zeros(N_WAIT_BINS), np.zeros(N_THETA)
    wait_mean, p_wait = np.zeros(n_min), np.zeros(n_min)
    prefix = np.concatenate([[0.0], np.cumsum(pts)])
    no_batches = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    f = (ca2_w + scv) / 2.0
    virtual_waits(arrivals, in_service, float(spec.concurrency_per_instance), mean_s, f, scv / 2.0 if t_arr.size else f,
                  max_wait, 0, t_arr, t_first, pts, prefix, edges, *no_batches, slot, mass, theta_weight, wait_mean,
                  p_wait, np.zeros(n_min), np.zeros(n_min), np.zeros((1, N_WAIT_BINS)), 0)
    mass[1:] += tail_mass(theta_weight, edges)
    mass[-1] = 0.0
    reps = wait_reps(edges)
    n = float(arrivals.sum())
    ok = 1.0 - failed_share
    qt = weighted_quantiles(reps, mass, (0.5, 0.9, 0.99))
    ok_pts = pts_raw[pts_raw <= cap]
    lat = (reps[:, None] + ok_pts[None, :]).ravel() if ok_pts.size else np.zeros(0)
    weight = np.repeat(mass, ok_pts.size) / pts.size if ok_pts.size else np.zeros(0)
    order = np.argsort(lat, kind="stable")
    lat, weight = lat[order], weight[order]
    q = weighted_quantiles(lat, weight, (0.5, 0.9, 0.99))
    served_weight = float(np.cumsum(weight)[-1]) if weight.size else 0.0
    started = float(mass.sum())  # waits beyond MAX_WAIT_S are still queued
    served = started * ok
    failed = started * failed_share
    util = m.utilization.to_numpy()
    backlog_end = m.backlog.to_numpy() + util * in_service * spec.concurrency_per_instance
    events = [e[1] for e in result.events]
    metrics = {
        "instance_type": spec.instance_type,
        "requests": n,
        "served": served,
        "timed_out": failed,
        "failed_max_processing_time": failed,
        "dropped": 0,
        "throttled": 0,
        "in_flight": max(n - served - failed, 0.0),
        "queued_at_end": float(m.backlog.iloc[-1]) if len(m) else 0.0,
        "latency_p50_s": q[0],
        "latency_p90_s": q[1],
        "latency_p99_s": q[2],
        "latency_mean_s": float((lat * weight).sum() / served_weight) if served_weight > 0 else math.nan,
        "queue_time_p50_s": qt[0],
        "queue_time_p90_s": qt[1],
        "queue_time_p99_s": qt[2],
        "cold_starts": max(len(result.instances) - spec.scaling().start_capacity, 0),
        "instance_hours": result.instance_seconds() / HOUR_S,
        "max_backlog": float(backlog_end.max()) if backlog_end.size else 0.0,
        "scaling_activities": len(events),
        "fidelity": "fluid",
    }
    if spec.sla is not None:
        within = float(weight[lat <= spec.sla.latency_threshold_s].sum()) if lat.size else 0.0
        metrics["sla_attainment"] = within / n if n else 1.0
        metrics["sla_met"] = metrics["sla_attainment"] >= spec.sla.percentile / 100.0
    w = float(spec.series_window_s)
    nw = max(1, math.ceil(horizon / w - 1e-9))
    wb = np.minimum((np.arange(n_min) * 60.0 // w).astype(np.int64), nw - 1)
    last = np.zeros(nw, dtype=np.int64)
    last[wb] = np.arange(n_min)
    minute_len = np.minimum(60.0, horizon - m.start_s.to_numpy())
    served_min = m.served.to_numpy()

    def sums(x):
        return np.bincount(wb, weights=x, minlength=nw)[:nw]

    capacity = sums(in_service * spec.concurrency_per_instance * minute_len)
    busy = sums(util * in_service * spec.concurrency_per_instance * minute_len)
    series = pd.DataFrame({
        "window_start_s": np.arange(nw) * w,
        "requests": sums(arrivals),
        "served": sums(served_min * ok),
        "timed_out": sums(served_min * failed_share),
        "backlog_end": backlog_end[last],
        "queue_end": m.backlog.to_numpy()[last],
        "in_flight_end": (util * in_service * spec.concurrency_per_instance)[last],
        "instances_in_service": sums(in_service * minute_len) / np.maximum(sums(minute_len), 1e-12),
        "utilization": np.where(capacity > 0, busy / np.maximum(capacity, 1e-12), np.nan),
        "waiting_request_s": sums(wait_mean * arrivals),
    })
    return metrics, series


__all__ = ["MAX_WAIT_S", "run"]
