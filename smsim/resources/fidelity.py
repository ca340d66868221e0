"""Which tier runs an endpoint: ``fidelity: auto`` picks the fluid tier past
:data:`AUTO_MAX_HORIZON_S` or :data:`AUTO_MAX_REQUESTS` expected requests, else the request tier.

Shared by the endpoint kinds that have a fluid (per-minute) form: real-time, serverless,
asynchronous and multi-model."""

from __future__ import annotations

from smsim.core.engine import SimContext
from smsim.units import DAY
from smsim.workload.arrivals import ArrivalProcess
from smsim.workload.spec import MixWorkload, materialize

#: ``fidelity: auto`` uses the fluid tier above this many expected requests...
AUTO_MAX_REQUESTS = 2e7


#: ... or above this horizon.
AUTO_MAX_HORIZON_S = 31 * DAY



def expected_requests(workload, duration_s: float, start, base_dir=None, rng=None) -> float:
    """Expected requests of ``workload`` over the horizon: exact for synthetic generators; a
    recorded trace is read (with ``rng``) and counted."""
    if isinstance(workload, ArrivalProcess):
        return workload.scaled(getattr(workload, "rate_scale", 1.0)).expected_count(duration_s, start)
    if isinstance(workload, MixWorkload) and all(isinstance(w, ArrivalProcess) for w in workload.models.values()):
        return workload.rate_scale * sum(expected_requests(w, duration_s, start) for w in workload.models.values())
    return float(len(materialize(workload, rng, duration_s, start, base_dir).arrival_s))



def _bursty(workload) -> bool:
    """Traffic whose within-minute structure the fluid tier approximates least well: MMPP
    bursts, recorded traces and mixes of them (synthetic Poisson and seasonal rates are smooth)."""
    kind = getattr(workload, "kind", None)
    if kind == "mix":  # a mix is as bursty as its parts
        return any(_bursty(w) for w in workload.models.values())
    return kind not in ("poisson", "seasonal")



def choose_fidelity(spec, ctx: SimContext) -> tuple[str, float | None]:
    """``(tier, expected requests or None)`` for ``spec`` under the scenario's default fidelity.

    ``auto`` picks the fluid tier past 31 days or 2e7 expected requests, except that an endpoint
    with an SLA on bursty traffic stays request-level up to 1e8 requests: there the fluid tier's
    cost is right and its latency close, but least certain (benchmarks/README.md).
    """
    if getattr(spec, "recorded", False):
        return "recorded", 0.0  # replays billed usage (a baseline from a bill): no requests to simulate
    mode = getattr(spec, "fidelity", None) or getattr(ctx.scenario, "fidelity", "request")
    if mode != "auto":
        return mode, None
    careful = getattr(spec, "sla", None) is not None and _bursty(spec.workload)
    if ctx.horizon_s > AUTO_MAX_HORIZON_S and not careful:
        return "fluid", None
    n = expected_requests(spec.workload, ctx.horizon_s, ctx.start, ctx.scenario.base_dir,
                          ctx.arrivals_rng(spec))
    limit = 5 * AUTO_MAX_REQUESTS if careful else AUTO_MAX_REQUESTS
    return ("fluid" if n > limit else "request"), n
