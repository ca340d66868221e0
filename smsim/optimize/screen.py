"""Fluid-tier screening: where each capacity search should start.

When the answer is wanted at request fidelity, the whole search is first run in the per-minute
fluid tier (cheap for long horizons). Its per-group smallest feasible fleet sizes become the
*starting points* of the request-level capacity searches; groups the fluid search never
resolved start from the analytic Allen-Cunneen guess.

What the screen is trusted with, exactly: **nothing that decides the answer**. A starting point
only changes which sizes are simulated first; the request-level search still proves every
rejection (a failed size, by monotonicity, or a bound) and verifies every acceptance by a
request-level simulation. A good screen turns a capacity search into ~2 simulations (the
boundary and the size below it); a wrong one costs extra simulations, never a different answer.
The fluid answer itself is reported next to the verified one, with its cost and attainment.
"""

from __future__ import annotations

from smsim.optimize.bounds import guess_count
from smsim.optimize.search import SearchResult, search
from smsim.optimize.space import Space, pick_endpoint


def analytic_guesses(scenario, space: Space) -> dict[tuple, int]:
    """Allen-Cunneen starting sizes per fixed-fleet group, at the workload's peak (or mean) rate."""
    ep = pick_endpoint(scenario, space.endpoint)
    rate = getattr(ep.workload, "peak_rate_per_s", None)
    if rate is None:
        from smsim.optimize.search import expected_requests

        rate = 1.5 * expected_requests(scenario, ep) / scenario.horizon.duration_s
    else:
        rate = float(rate) * float(getattr(ep.workload, "rate_scale", 1.0) or 1.0)
    models = {m.name: m for m in scenario.models}
    out: dict[tuple, int] = {}
    for g, members in space.groups().items():
        if g[0] != "fixed":
            continue
        c0 = members[0]
        profile = models[c0.model].latency_for(c0.instance_type)
        out[g] = guess_count(rate, profile, c0.concurrency, space.objectives, members[0].count, members[-1].count)
    return out


def fluid_screen(scenario, space: Space, *, catalog, jobs: int = 1, budget_evals: int | None = None,
                 scheduler=None) -> tuple[dict[tuple, int], SearchResult]:
    """Run the search in the fluid tier; return its per-group boundaries merged over the analytic
    guesses, and the fluid result itself."""
    guesses = analytic_guesses(scenario, space)
    result = search(scenario, space, fidelity="fluid", catalog=catalog, jobs=jobs, budget_evals=budget_evals,
                    guesses=guesses, scheduler=scheduler)
    for g, n in result.boundaries.items():
        if n is not None:
            guesses[g] = n
    return guesses, result


__all__ = ["analytic_guesses", "fluid_screen"]
