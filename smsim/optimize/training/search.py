"""Training search: the cheapest configuration of one training job that meets its objectives.

The space (:class:`~smsim.scenario.optimize.TrainingSpace`) is the product of instance types,
markets, checkpoint intervals (spot only) and instance counts, numbered in that enumeration
order. A candidate is evaluated by simulating the scenario with the job reconfigured, at the
scenario's seed (common random numbers: every candidate sees the same submit times and work
draws); its cost is the job's own ``cost_by_resource`` (instances, ML storage, S3).

Objectives are ``metric<=value`` or ``metric>=value`` over the job's run metrics (those of
``run_scenario``'s resource entry) plus ``completion_rate`` (jobs that completed, on spot or in an
on-demand fallback, over jobs submitted), ``max_job_elapsed_hours`` and
``p50/p90/p95/p99_job_elapsed_hours`` (elapsed = submit to end, waits and retries included).

The answer is exhaustive search's: among feasible candidates, the smallest ``(cost rounded to
1e-6 USD, enumeration index)``. :func:`search_training` reaches it simulating fewer, using only
sound facts, each a bound that holds for every sample path:

1. **Cost bound** (:func:`cost_lower_bound`). Instance time is billed at no less than
   ``r = min(on-demand, spot if the job is spot, held savings-plan rates) x (1 - enterprise
   discount)``. An
   on-demand run is deterministic: each job bills ``min(d + W_j/(N s eff(N)) + u, max_runtime)``
   instance-seconds per instance, cut at the horizon. A spot job with an on-demand fallback bills
   at least as much when ``submit + max_wait + provisioning + that`` ends before the horizon
   (progress kept in checkpoints was billed once; interruptions only add). A job that completes
   bills at least its full run; when a ``completion_rate`` objective holds, at least
   ``ceil(rate x jobs)`` jobs completed, and those whose ``submit + max_wait`` is inside the
   horizon were billed entirely inside it, so the cheapest such set bounds every *feasible*
   candidate. Storage and S3 are bounded by 0. A candidate whose bound ranks after the best
   verified one (by the same key) cannot be the answer and is not simulated.
2. **Elapsed bound**: every job takes at least ``min(provisioning + min(full run, max_runtime),
   max_wait)``; a candidate whose bounds already miss an elapsed-time objective is infeasible.

The closed form (:func:`smsim.resources.managed_spot.expected_job`) only orders the simulations (most promising
first, so the best is found early and the bounds prune more); it never rejects a candidate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from smsim.optimize.ranking import COST_DECIMALS, Outcome
from smsim.optimize.training.bounds import bounds, elapsed_infeasible
from smsim.optimize.training.evaluate import TrainingEvaluation, evaluate_training
from smsim.optimize.training.space import TrainingCandidate, TrainingSearchSpace


@dataclass
class TrainingSearchResult(Outcome):
    status: str  # "optimal" | "infeasible" | "budget_exhausted"
    best: TrainingEvaluation | None
    evaluations: list[TrainingEvaluation]
    n_candidates: int
    pruned: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0


def exhaustive_training(scenario, space: TrainingSearchSpace) -> TrainingSearchResult:
    """Simulate every candidate: the reference :func:`search_training` must agree with."""
    t0 = time.perf_counter()
    evals = [evaluate_training(scenario, space, c) for c in space.candidates]
    feas = sorted((e for e in evals if e.feasible), key=lambda e: e.rank_key)
    best = feas[0] if feas else None
    return TrainingSearchResult("optimal" if best else "infeasible", best, evals, len(space),
                                wall_s=time.perf_counter() - t0)


def search_training(scenario, space: TrainingSearchSpace, *, catalog,
                    budget_evals: int | None = None) -> TrainingSearchResult:
    """The exhaustive-search answer with fewer simulations (module docstring)."""
    t0 = time.perf_counter()
    bnd = {c.index: bounds(scenario, space, c, catalog, space.objectives) for c in space.candidates}
    pruned = {"elapsed_bound": 0, "cost_bound": 0}
    todo = []
    for c in space.candidates:
        if elapsed_infeasible(bnd[c.index], space.objectives):
            pruned["elapsed_bound"] += 1
        else:
            todo.append(c)
    todo.sort(key=lambda c: (bnd[c.index].estimate, bnd[c.index].cost_lb, c.index))
    evals: list[TrainingEvaluation] = []
    best: TrainingEvaluation | None = None
    status = None
    for c in todo:
        if best is not None and (round(bnd[c.index].cost_lb, COST_DECIMALS), c.index) > best.rank_key:
            pruned["cost_bound"] += 1
            continue
        if budget_evals is not None and len(evals) >= budget_evals:
            status = "budget_exhausted"
            break
        ev = evaluate_training(scenario, space, c)
        evals.append(ev)
        if ev.feasible and (best is None or ev.rank_key < best.rank_key):
            best = ev
    if status is None and best is None:
        # infeasible: name the exhaustive search's closest candidate. A candidate the elapsed bound
        # rejected misses at least the objectives its bounds miss, by at least as much, so it is
        # simulated only while that optimistic key could still beat the closest one seen.
        def optimistic(c: TrainingCandidate) -> tuple:
            lb = bnd[c.index].elapsed_lb
            miss = [o.miss(lb[o.metric]) for o in space.objectives
                    if o.metric in lb and o.op in ("<=", "<") and not o.holds(lb[o.metric])]
            return (len(miss), sum(miss), (round(bnd[c.index].cost_lb, COST_DECIMALS), c.index))

        rest = sorted((c for c in space.candidates if c not in todo), key=optimistic)
        for c in rest:
            cl = min(evals, key=lambda e: e.closeness) if evals else None
            if cl is not None and optimistic(c) >= cl.closeness:
                break
            if budget_evals is not None and len(evals) >= budget_evals:
                status = "budget_exhausted"
                break
            evals.append(evaluate_training(scenario, space, c))
            pruned["elapsed_bound"] -= 1
    if status == "budget_exhausted":
        pruned["cost_bound"] = 0
    if status is None:
        status = "optimal" if best is not None else "infeasible"
    return TrainingSearchResult(status, best, evals, len(space), pruned, time.perf_counter() - t0)


__all__ = ["TrainingSearchResult", "exhaustive_training", "search_training"]
