"""Branch and bound over the search space, with monotone capacity searches and a process pool.

The answer is defined as exhaustive search's: among the candidates that meet the objectives when
simulated at the chosen fidelity (with the scenario's seed), the one with the smallest
``(cost rounded to 1e-6 USD, enumeration index)``. :func:`search` returns that same candidate
while simulating far fewer, using only these facts:

1. **Price bounds** (:func:`smsim.optimize.bounds.cost_lower_bound`). Work is done in order of
   the cost lower bound; once a feasible candidate is verified, every candidate whose bound
   ranks after it is pruned (a bound equal to the best cost is still evaluated: it may win the
   tie by enumeration order).
2. **Service-time bounds** (:func:`smsim.optimize.bounds.service_only_infeasible`): a candidate
   whose service times alone miss the objective is not simulated.
3. **Monotonicity in fleet size** (``bisect=True``): within a group (same model, type, workers,
   differing only in fixed fleet size), a larger fleet never has worse attainment or error rate
   at the same seed. So a failed size proves every smaller size fails, and the smallest feasible
   size is found by galloping from a starting guess and bisecting. Larger sizes are still
   evaluated when their cost bound could beat the best (savings plans can flatten costs).
   This is the one assumption beyond the bounds; it holds sample-path for the pooled queue and
   the fluid tier, and is what the tests check against a linear scan; ``bisect=False`` drops it.

Evaluations run in a process pool of ``jobs`` workers, one batch of the most promising tasks
per round; since every evaluation is pure in (scenario, candidate, fidelity), the answer does
not depend on ``jobs`` or on the order (only the number of simulations may).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from smsim.optimize.bounds import cost_lower_bound, service_only_infeasible
from smsim.optimize.evaluate import Evaluation, _evaluate_task, evaluate
from smsim.optimize.ranking import COST_DECIMALS, Outcome
from smsim.optimize.space import Candidate, Space, pick_endpoint


@dataclass
class SearchResult(Outcome):
    """What a search found, what it simulated and why it skipped the rest."""

    status: str  # "optimal" | "infeasible" | "budget_exhausted"
    fidelity: str
    best: Evaluation | None
    evaluations: list[Evaluation]
    n_candidates: int
    pruned: dict[str, int] = field(default_factory=dict)
    boundaries: dict[tuple, int | None] = field(default_factory=dict)
    wall_s: float = 0.0



def _key(lb: float, cand: Candidate) -> tuple[float, int]:
    return (round(lb, COST_DECIMALS), cand.index)


class _Runner:
    """Evaluate batches serially, in local processes or on Dask (same results either way)."""

    def __init__(self, scenario, space: Space, fidelity: str, jobs: int, scheduler=None) -> None:
        from smsim.executor import executor

        self.scenario, self.space, self.fidelity = scenario, space, fidelity
        self.ex = executor(jobs, scheduler)
        self.width = self.ex.workers
        self.inputs = None
        if self.ex.kind == "dask":  # the files candidates read, shipped once per worker
            from smsim.run import read_inputs

            self.inputs = read_inputs(scenario, check=False)

    def run(self, cands: list[Candidate]) -> list[Evaluation]:
        if self.ex.kind == "serial" or len(cands) == 1:
            return [evaluate(self.scenario, self.space, c, self.fidelity) for c in cands]
        tasks = [(c.index, (self.scenario, self.scenario.source, self.space, c, self.fidelity)) for c in cands]
        out = self.ex.map(_evaluate_task, tasks, describe=lambda i: f"candidate {i}", inputs=self.inputs)
        return [out[c.index] for c in cands]

    def close(self) -> None:
        self.ex.close()


def expected_requests(scenario, endpoint) -> float:
    """Expected requests over the horizon (read and counted for recorded traces), less the share
    edge fleets serve on devices."""
    from smsim import rng
    from smsim.resources.fidelity import expected_requests as count
    from smsim.resources.offload import edge_shares

    kept = 1.0 - edge_shares(scenario).get(endpoint.name, 0.0)
    return kept * count(endpoint.workload, scenario.horizon.duration_s, scenario.horizon.start, scenario.base_dir,
                        rng.stream(scenario.seed, "endpoint", endpoint.name, "arrivals"))


def _profile(scenario, cand: Candidate):
    model = next(m for m in scenario.models if m.name == cand.model)
    return model.latency_for(cand.instance_type or "*")


def exhaustive(scenario, space: Space, *, fidelity: str, jobs: int = 1, scheduler=None) -> SearchResult:
    """Simulate every candidate: the reference the optimizer must agree with."""
    t0 = time.perf_counter()
    runner = _Runner(scenario, space, fidelity, jobs, scheduler)
    try:
        evals = runner.run(list(space.candidates))
    finally:
        runner.close()
    feas = sorted((e for e in evals if e.feasible), key=lambda e: e.rank_key)
    best = feas[0] if feas else None
    return SearchResult(status="optimal" if best else "infeasible", fidelity=fidelity, best=best,
                        evaluations=evals, n_candidates=len(space), wall_s=time.perf_counter() - t0)


@dataclass
class _Group:
    """The fixed fleet sizes of one group, ascending, and what is known about them."""

    members: list[Candidate]
    guess: int | None = None
    lo: int = 0  # every member below lo is proven infeasible
    feasible_at: int | None = None  # smallest member index verified feasible
    probes: list[tuple[int, bool]] = field(default_factory=list)

    def resolved(self, cap: int) -> bool:
        if self.feasible_at is not None:
            return self.lo >= self.feasible_at
        return self.lo >= cap

    def probe(self, cap: int, bisect: bool) -> int:
        hi = self.feasible_at if self.feasible_at is not None else cap  # unknown range is [lo, hi)
        if not bisect:
            return self.lo
        if not self.probes and self.guess is not None:
            idx = next((i for i, c in enumerate(self.members) if c.count >= self.guess), len(self.members) - 1)
            return min(max(idx, self.lo), hi - 1)
        if len(self.probes) == 1 and self.guess is not None:
            return hi - 1 if self.probes[0][1] else self.lo  # gallop one step next to the guess
        return (self.lo + hi - 1) // 2 if self.feasible_at is not None else (self.lo + hi) // 2


def search(scenario, space: Space, *, fidelity: str, catalog, jobs: int = 1, budget_evals: int | None = None,
           bisect: bool = True, scheduler=None, guesses: dict[tuple, int] | None = None) -> SearchResult:
    """The exhaustive-search answer with fewer simulations (module docstring)."""
    t0 = time.perf_counter()
    ep = pick_endpoint(scenario, space.endpoint)
    n_req = expected_requests(scenario, ep)
    lb = {c.index: cost_lower_bound(scenario, ep, space, c, catalog) for c in space.candidates}
    pruned = {"service_time_bound": 0, "cost_bound": 0, "monotone_infeasible": 0}
    proven_bad = set()
    for c in space.candidates:
        if service_only_infeasible(_profile(scenario, c), space.objectives, n_req, fidelity):
            proven_bad.add(c.index)
    pruned["service_time_bound"] = len(proven_bad)

    groups: dict[tuple, _Group] = {}
    singles: list[Candidate] = []
    for g, members in space.groups().items():
        members = [m for m in members if m.index not in proven_bad]
        if not members:
            continue
        if bisect and g and g[0] == "fixed" and len(members) > 1:
            groups[g] = _Group(members=members, guess=(guesses or {}).get(g))
        else:
            singles.extend(members)
    done: dict[int, Evaluation] = {}
    evals: list[Evaluation] = []
    runner = _Runner(scenario, space, fidelity, jobs, scheduler)
    status = None
    try:
        while True:
            feas = [e for e in evals if e.feasible]
            best = min(feas, key=lambda e: e.rank_key) if feas else None
            bound = best.rank_key if best else None
            tasks: list[tuple[tuple, Candidate, _Group | None]] = []
            for grp in groups.values():
                cap = len(grp.members)
                if bound is not None:
                    cap = sum(1 for m in grp.members if _key(lb[m.index], m) <= bound)
                    if grp.feasible_at is not None:
                        cap = max(cap, grp.feasible_at + 1)
                if grp.resolved(cap):
                    continue
                idx = grp.probe(cap, bisect)
                tasks.append((_key(lb[grp.members[grp.lo].index], grp.members[grp.lo]), grp.members[idx], grp))
            for grp in groups.values():  # sizes above a resolved group's smallest feasible one
                if grp.feasible_at is not None and grp.lo >= grp.feasible_at:
                    for m in grp.members[grp.feasible_at + 1:]:
                        if m.index not in done:
                            tasks.append((_key(lb[m.index], m), m, None))
            for m in singles:
                if m.index not in done:
                    tasks.append((_key(lb[m.index], m), m, None))
            if bound is not None:
                tasks = [t for t in tasks if t[0] <= bound]
            if not tasks:
                break
            if budget_evals is not None and len(evals) >= budget_evals:
                status = "budget_exhausted"
                break
            tasks.sort(key=lambda t: t[0])
            room = runner.width if budget_evals is None else min(runner.width, budget_evals - len(evals))
            batch, seen = [], set()
            for t in tasks:
                if t[1].index not in seen:
                    batch.append(t)
                    seen.add(t[1].index)
                if len(batch) == room:
                    break
            results = runner.run([t[1] for t in batch])
            for (_, cand, grp), ev in zip(batch, results, strict=True):
                done[cand.index] = ev
                evals.append(ev)
                if grp is None:
                    continue
                j = grp.members.index(cand)
                grp.probes.append((j, ev.feasible))
                if ev.feasible:
                    grp.feasible_at = j if grp.feasible_at is None else min(grp.feasible_at, j)
                else:
                    grp.lo = max(grp.lo, j + 1)
    finally:
        runner.close()

    inferred = 0
    boundaries: dict[tuple, int | None] = {}
    for g, grp in groups.items():
        below = grp.feasible_at if grp.feasible_at is not None else grp.lo
        inferred += sum(1 for m in grp.members[:below] if m.index not in done)
        boundaries[g] = grp.members[grp.feasible_at].count if grp.feasible_at is not None and grp.lo >= grp.feasible_at else None
    pruned["monotone_infeasible"] = inferred
    pruned["cost_bound"] = len(space) - len(done) - inferred - len(proven_bad)
    feas = [e for e in evals if e.feasible]
    best = min(feas, key=lambda e: e.rank_key) if feas else None
    if status is None:
        status = "optimal" if best is not None else "infeasible"
    return SearchResult(status=status, fidelity=fidelity, best=best, evaluations=evals, n_candidates=len(space),
                        pruned=pruned, boundaries=boundaries, wall_s=time.perf_counter() - t0)


def summary_row(e: Evaluation) -> dict[str, Any]:
    """A flat row for tables: label, cost, commitment, attainment, p99, error rate, missed."""
    v = e.verdict
    return {"index": e.candidate.index, "candidate": e.candidate.label(), "cost_usd": e.cost_usd,
            "savings_plan_usd_per_hour": e.commitment_usd_per_hour, "attainment": v.attainment,
            "latency_p99_s": v.latency_p99_s, "error_rate": v.error_rate, "feasible": v.feasible,
            "missed": ", ".join(v.missed), "attainment_shortfall": v.attainment_shortfall,
            "error_rate_excess": v.error_rate_excess}


__all__ = ["SearchResult", "exhaustive", "expected_requests", "search", "summary_row"]
