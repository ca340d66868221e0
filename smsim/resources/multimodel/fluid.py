"""The fluid (per-minute) form of a multi-model endpoint.

* **Arrivals** per model and minute: each model's workload of a ``mix`` counted per minute
  (:func:`smsim.workload.counts.minute_counts`, its own stream per model), or a trace with a
  model column counted per model.
* **Caches**: the fleet's regime and per-model hit, load and drop shares from the mean fleet
  size (:func:`smsim.resources.multimodel.cache.fleet_cache`): partitioned (the routing keeps a
  model where it is cached; Che's approximation over the fleet's caches together) or thrashing
  (requests overflow to the least loaded instance; Che's approximation per instance under an
  even share, loads up to the busy share a thrashing fleet runs at, the other misses dropped
  for memory), plus one load per model and instance the first time it is asked for there.
* **Queue**: the fleet's workers as one pooled queue (the scaling loop of
  :func:`smsim.resources.scaling.fluid.simulate_fluid` and the FIFO virtual waiting time of
  :mod:`smsim.core.virtual_wait`), each request taking its model's service time plus, on a miss
  that loads, its load time, from the mixture's quantile points; requests dropped for memory
  are not queued. When the fleet thrashes its workers stay busy and memory drops, not spare
  capacity, bound the queues: the latency is then the wait of
  :mod:`smsim.resources.multimodel.thrash` (a birth-death chain per fleet size the run has,
  whose misses are let in less the more an instance holds) plus a hit's service or a miss's
  load and service, and the virtual-wait pass (one queue per instance) only counts the
  requests the queues take.

What it ignores: the regime changing within a run (it is chosen once, for the mean fleet; a
fleet near the boundary can be in either); on a thrashing fleet, hits that wait for their model
still loading, the request tier's wait levelling off as an instance holds more, and transients
within a fleet size; service profiles that depend on
tokens or payload (their base distribution is used). ``benchmarks/bench_kinds_fluid.py``
measures the error against the request tier, ``benchmarks/bench_mm_thrash.py`` the parts of a
thrashing fleet's latency in both tiers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from smsim.core.engine import SimContext
from smsim.core.fluid import N_THETA, ServiceModel, tail_mass
from smsim.core.virtual_wait import (
    SLOT_S,
    served_latencies,
    virtual_waits,
    wait_edges,
    weighted_quantiles,
)
from smsim.resources.multimodel.cache import che_hits, fleet_cache
from smsim.resources.multimodel.thrash import latency_mixture, solve
from smsim.resources.scaling.fluid import simulate_fluid
from smsim.workload.counts import minute_counts
from smsim.workload.spec import MixWorkload, materialize

N_POINTS = 512
N_WAIT_BINS = 512
HOUR_S = 3600.0


def model_counts(spec, ctx: SimContext, n_min: int) -> np.ndarray:
    """Arrivals per model (rows, in ``spec.models`` order) and minute."""
    horizon = ctx.horizon_s
    base_dir = getattr(ctx.scenario, "base_dir", None)
    out = np.zeros((len(spec.models), n_min))
    pos = {n: k for k, n in enumerate(spec.models)}
    wl = spec.workload
    if isinstance(wl, MixWorkload):
        unknown = sorted(set(wl.models) - set(pos))
        if unknown:
            raise ValueError(f"multi-model endpoint {spec.name!r}: the workload has models {unknown} "
                             f"that are not in its models list")
        for name, sub in wl.models.items():
            scaled = sub.model_copy(update={"rate_scale": getattr(sub, "rate_scale", 1.0) * wl.rate_scale}) \
                if hasattr(sub, "rate_scale") else sub
            rng = ctx.rng("endpoint", getattr(spec, "traffic_stream", None) or spec.name, "arrivals", name)
            out[pos[name]] = minute_counts(scaled, rng, n_min, horizon, ctx.start, base_dir)[0]
        return out
    trace = materialize(wl, ctx.arrivals_rng(spec), horizon, ctx.start, base_dir)
    minute = np.minimum((trace.arrival_s // 60.0).astype(np.int64), n_min - 1)
    if trace.model_index is None:
        if len(spec.models) != 1:
            raise ValueError(f"multi-model endpoint {spec.name!r}: the workload names no models; use a "
                             f"'mix' workload keyed by model name or a trace with a model column")
        out[0] = np.bincount(minute, minlength=n_min)[:n_min]
        return out
    index = np.array([pos[n] for n in trace.models], np.int64)[trace.model_index]
    np.add.at(out, (index, minute), 1.0)
    return out


def mixture_points(x: np.ndarray, weight: np.ndarray, n: int = N_POINTS) -> np.ndarray:
    """``n`` equally likely points standing for the distribution of ``x`` under ``weight``
    (its quantiles at ``(i + 0.5) / n``); empty when the weights are all zero."""
    order = np.argsort(x, kind="stable")
    x, cum = x[order], np.cumsum(weight[order])
    if x.size == 0 or cum[-1] <= 0:
        return np.zeros(0)
    return x[np.minimum(np.searchsorted(cum, (np.arange(n) + 0.5) / n * cum[-1]), x.size - 1)]


def thrash_latencies(endpoint, fc, share: np.ndarray, svc_mean: np.ndarray, mem: np.ndarray, load: np.ndarray,
                     arrivals: np.ndarray, in_service: np.ndarray, own_s: tuple[np.ndarray, np.ndarray],
                     timeout_s: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Served latencies (points, weights summing to 1) of a thrashing fleet and the share of
    taken requests that time out: for each fleet size the run has (minutes by instances in
    service, ``arrivals`` per minute), the queue of :func:`smsim.resources.multimodel.thrash.solve`
    at those minutes' mean rate plus a hit's service (``own_s[0]``) or a miss's load and service
    (``own_s[1]``), weighted by the minutes' arrivals; ``mem`` and ``load``: each model's memory
    (GB) and load time (s)."""
    spec = endpoint.spec
    hit = float((share * fc.hits).sum())
    miss_w = share * (1.0 - fc.hits)
    load_s = float((miss_w * load).sum() / miss_w.sum()) if miss_w.sum() > 0 else 0.0
    service_s = float((share * svc_mean).sum())
    slots = int(endpoint.capacity_gb / max(float((share * mem).sum()), 1e-9) + 1e-9)
    size = np.rint(in_service)
    lats, weights = [], []
    for n in np.unique(size[(size >= 1) & (arrivals > 0)]):
        sel = size == n
        rate = float(arrivals[sel].sum()) / (60.0 * sel.sum())
        queue = solve(rate * hit / n, rate * (1.0 - hit) / n, service_s, load_s, service_s, slots, float(n),
                      int(spec.concurrency_per_instance), timeout_s)
        lat, weight = latency_mixture(queue.wait_s, [queue.hit_weight, queue.miss_weight], list(own_s))
        lats.append(lat)
        weights.append(weight * float(arrivals[sel].sum()))
    if not lats:
        return np.zeros(0), np.zeros(0), 0.0
    lat, weight = np.concatenate(lats), np.concatenate(weights)
    weight /= weight.sum()
    order = np.argsort(lat, kind="stable")
    lat, weight = lat[order], weight[order]
    ok = lat <= timeout_s
    return lat[ok], weight[ok], float(weight[~ok].sum())


def run(endpoint, ctx: SimContext) -> tuple[dict, pd.DataFrame]:
    """Simulate the endpoint of :class:`smsim.resources.multimodel.model.MultiModelEndpoint`
    ``endpoint`` per minute and meter its instances: ``(metrics, series)``."""
    spec = endpoint.spec
    horizon = ctx.horizon_s
    n_min = max(1, math.ceil(horizon / 60.0 - 1e-9))
    counts = model_counts(spec, ctx, n_min)
    total = counts.sum(axis=1)
    per_min = counts.sum(axis=0)
    mem = np.array([ms.memory_gb for ms in endpoint.model_specs], dtype=float)
    load = np.array([ms.load_time_s for ms in endpoint.model_specs], dtype=float)
    rng = ctx.rng("endpoint", spec.name, "service")
    svc = [np.quantile(ms.latency_for(spec.instance_type).base().sample(rng, 20_000),
                       (np.arange(64) + 0.5) / 64) for ms in endpoint.model_specs]
    scaling = spec.scaling()
    conc = spec.concurrency_per_instance
    svc_mean = np.array([s.mean() for s in svc])
    # a hit takes its model's service, a miss that loads its load as well: the points of both,
    # each standing for 1/64 of its model's requests
    hit_x = np.concatenate(svc)
    load_x = np.concatenate([s + load[m] for m, s in enumerate(svc)])
    per_model = np.array([s.size for s in svc])
    # the fleet's mean size sets the cache regime and hit rates (first pass: the initial size)
    n_inst = max(float(scaling.start_capacity), 1.0)
    for _ in range(2):
        fc = fleet_cache(total / horizon, mem, load, svc_mean, endpoint.capacity_gb, n_inst, conc)
        share = total / max(total.sum(), 1.0)
        per_point = np.repeat(share / per_model, per_model)
        hit_w, load_w = per_point * np.repeat(fc.hits, per_model), per_point * np.repeat(fc.loads, per_model)
        pts = mixture_points(np.concatenate([hit_x, load_x]), np.concatenate([hit_w, load_w]))
        mean_s = max(float(pts.mean()), 1e-9)
        model = ServiceModel(mean_s, float(pts.var() / mean_s**2), 1.0, conc, float(spec.invocation_timeout_s),
                             tuple(pts.tolist()))
        result = simulate_fluid(per_min, scaling, model, rng=ctx.rng("endpoint", spec.name, "provisioning"),
                                start=ctx.start)
        n_inst = max(float((result.minutes.in_service * np.minimum(60.0, horizon - result.minutes.start_s)).sum()
                           / horizon), 1.0)
    drop_share = float((share * fc.drops).sum())
    result.meter(ctx.meter, spec.name, spec.instance_type, component="RealTimeInference", tags=endpoint.tags)
    m = result.minutes
    arrivals = m.arrivals.to_numpy() * (1.0 - drop_share)  # dropped for memory: never queued
    in_service = m.in_service.to_numpy()
    timeout = float(spec.invocation_timeout_s)
    edges = wait_edges(timeout, N_WAIT_BINS)
    mass, theta_weight = np.zeros(N_WAIT_BINS), np.zeros(N_THETA)
    wait_mean, p_wait = np.zeros(n_min), np.zeros(n_min)
    prefix = np.concatenate([[0.0], np.cumsum(pts)])
    no_batches = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    served_min, timed_min = np.zeros(n_min), np.zeros(n_min)
    _, _, queued_end = virtual_waits(
        arrivals, in_service, float(conc), mean_s, (1.0 + model.service_scv) / 2.0,
        (1.0 + model.service_scv) / 2.0, timeout, 1 if fc.thrashing else 0, np.zeros(0),
        np.zeros(n_min + 1, dtype=np.int64), pts, prefix, edges, *no_batches, SLOT_S, mass, theta_weight, wait_mean,
        p_wait, served_min, timed_min, np.zeros((1, N_WAIT_BINS)), 0)
    mass[1:] += tail_mass(theta_weight, edges)
    mass[-1] = 0.0
    lat, weight = served_latencies(mass, edges, pts, timeout)
    if fc.thrashing:  # waits bounded by memory drops (smsim.resources.multimodel.thrash)
        own = (mixture_points(hit_x, hit_w), mixture_points(load_x, load_w))
        lat, weight, timed_share = thrash_latencies(endpoint, fc, share, svc_mean, mem, load, per_min, in_service, own,
                                                    timeout)
        taken = served_min + timed_min  # every request the queue took, served or not
        served_min, timed_min = taken * (1.0 - timed_share), taken * timed_share
        weight = weight * float(served_min.sum()) / max(float(weight.sum()), 1e-300)
    q = weighted_quantiles(lat, weight, (0.5, 0.9, 0.99))
    served_weight = float(np.cumsum(weight)[-1]) if weight.size else 0.0
    n = float(counts.sum())
    served = float(served_min.sum())
    # loads: misses that load, plus each model's first request on each instance it reaches
    miss = counts * fc.loads[:, None]
    dropped_min = (counts * fc.drops[:, None]).sum(axis=0)
    first = np.minimum(total, n_inst) * (fc.hits > 0)
    loads_min = miss.sum(axis=0)
    first_min = np.zeros(n_min)
    for k in range(len(spec.models)):
        nz = np.flatnonzero(counts[k])
        if nz.size:
            first_min[nz[0]] += first[k]
    loads_min = loads_min + first_min
    resident = (mem * (fc.hits > 0)).sum() <= endpoint.capacity_gb
    evict_min = np.zeros(n_min) if resident else miss.sum(axis=0)
    t_loads = float(loads_min.sum())
    metrics = {
        "instance_type": spec.instance_type,
        "models": len(spec.models),
        "cache_memory_gb": endpoint.capacity_gb,
        "cache_memory_source": endpoint.capacity_source,
        "requests": n,
        "served": served,
        "timed_out": float(timed_min.sum()),
        "dropped": float(dropped_min.sum()),
        "dropped_no_memory": float(dropped_min.sum()),
        "throttled": 0,
        "in_flight": float(queued_end),
        "latency_p50_s": q[0],
        "latency_p90_s": q[1],
        "latency_p99_s": q[2],
        "latency_mean_s": float((lat * weight).sum() / served_weight) if served_weight > 0 else math.nan,
        "cache_hit_rate": 1.0 - t_loads / (n - float(dropped_min.sum())) if n > dropped_min.sum() else math.nan,
        "loads": t_loads,
        "cold_starts": t_loads,
        "evictions": float(evict_min.sum()),
        "models_ever_loaded": int(np.count_nonzero(total)),
        "instance_hours": result.instance_seconds() / HOUR_S,
        "fidelity": "fluid",
        "cache_regime": "thrashing" if fc.thrashing else "partitioned",
    }
    if spec.sla is not None:
        metrics["sla_attainment"] = float(weight[lat <= spec.sla.latency_threshold_s].sum()) / n if n else 1.0
        metrics["sla_met"] = metrics["sla_attainment"] >= spec.sla.percentile / 100.0
    w_s = float(spec.series_window_s)
    nw = max(1, math.ceil(horizon / w_s - 1e-9))
    wb = np.minimum((np.arange(n_min) * 60.0 // w_s).astype(np.int64), nw - 1)
    minute_len = np.minimum(60.0, horizon - m.start_s.to_numpy())

    def sums(x):
        return np.bincount(wb, weights=x, minlength=nw)[:nw]

    series = pd.DataFrame({
        "window_start_s": np.arange(nw) * w_s,
        "requests": sums(per_min), "served": sums(served_min), "timed_out": sums(timed_min),
        "dropped": sums(m.no_capacity.to_numpy() + dropped_min),
        "hits": sums(per_min - loads_min - dropped_min), "loads": sums(loads_min),
        "evictions": sums(evict_min), "busy_s": sums(m.utilization.to_numpy() * in_service * conc * minute_len),
        "instances_in_service": sums(in_service * minute_len) / np.maximum(sums(minute_len), 1e-12),
    })
    return metrics, series


__all__ = ["che_hits", "model_counts", "run"]
