"""Traffic taken off endpoints by edge fleets: the scenario the endpoints actually see.

An ``edge:`` fleet serves ``share_of_requests`` of an endpoint's requests on devices. Each request
goes to a device independently with that probability, so the endpoint sees its workload thinned
by ``1 - share`` (summed over the fleets naming it). Thinning a Poisson process is a Poisson
process of the thinned rate, and synthetic generators scale their rates exactly, so the thinning
is the workload's ``rate_scale`` times ``1 - share``; recorded traces drop each request with the
same probability (:func:`smsim.workload.transform.thin`).

:func:`offloaded` returns that scenario (idempotent: applying it twice thins once) and remembers
every endpoint's original workload, which the edge fleets read to count the device requests.
Kinds do not import each other; the engine's caller applies this before the models are built.
"""

from __future__ import annotations

import math

import numpy as np

from smsim.workload.arrivals import ArrivalProcess
from smsim.workload.spec import MixWorkload, materialize


def edge_shares(scenario) -> dict[str, float]:
    """Share of each endpoint's requests served on devices (endpoints without a fleet absent)."""
    out: dict[str, float] = {}
    for fleet in getattr(scenario, "edge", None) or []:
        out[fleet.endpoint] = out.get(fleet.endpoint, 0.0) + fleet.share_of_requests
    return out


def offloaded(scenario):
    """``scenario`` with every edge-served endpoint's workload thinned (see the module docstring)."""
    shares = edge_shares(scenario)
    if not shares or getattr(scenario, "_original_workloads", None) is not None:
        return scenario
    endpoints, originals = [], {}
    for ep in scenario.endpoints:
        share = shares.get(ep.name, 0.0)
        if share > 0:
            originals[ep.name] = ep.workload
            w = ep.workload
            ep = ep.model_copy(update={"workload": w.model_copy(update={"rate_scale": w.rate_scale * (1.0 - share)})})
        endpoints.append(ep)
    out = scenario.model_copy(update={"endpoints": endpoints})
    out._original_workloads = originals
    return out


def original_workload(scenario, endpoint: str):
    """The workload of ``endpoint`` before edge fleets took their share."""
    originals = getattr(scenario, "_original_workloads", None) or {}
    if endpoint in originals:
        return originals[endpoint]
    return next(e.workload for e in scenario.endpoints if e.name == endpoint)


def hourly_requests(workload, duration_s: float, start, base_dir=None, rng=None) -> np.ndarray:
    """Expected requests per clock hour of ``workload``: synthetic generators by their rate at
    minute midpoints, scaled so the total is the exact expected count; a recorded trace (or a mix
    holding one) is read with ``rng`` and counted."""
    hours = max(1, math.ceil(duration_s / 3600.0 - 1e-9))
    if isinstance(workload, MixWorkload) and all(isinstance(w, ArrivalProcess) for w in workload.models.values()):
        return workload.rate_scale * sum(hourly_requests(w, duration_s, start) for w in workload.models.values())
    if isinstance(workload, ArrivalProcess):
        p = workload.scaled(getattr(workload, "rate_scale", 1.0))
        edges = np.minimum(np.arange(hours * 60 + 1) * 60.0, duration_s)
        per_minute = np.maximum(p.rate((edges[:-1] + edges[1:]) / 2.0, start), 0.0) * np.diff(edges)
        per_hour = per_minute.reshape(hours, 60).sum(axis=1)
        total = p.expected_count(duration_s, start)
        return per_hour * (total / per_hour.sum()) if per_hour.sum() > 0 else per_hour
    t = materialize(workload, rng, duration_s, start, base_dir).arrival_s
    return np.bincount(np.minimum((t // 3600.0).astype(np.int64), hours - 1), minlength=hours).astype(float)


__all__ = ["edge_shares", "hourly_requests", "offloaded", "original_workload"]
