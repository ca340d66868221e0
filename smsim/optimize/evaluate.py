"""Evaluate one candidate: simulate it once, then price the usage under every commitment option.

The engine meters time, not money, so a savings-plan commitment needs no new simulation: the
same usage is billed once per option (``"auto"`` is the commitment :func:`smsim.commit.sizing.
optimal_commitment` finds for this candidate's own hourly on-demand spend). The candidate's cost
is the cheapest option's whole-scenario bill; ties go to the earlier option in the list.

Every evaluation uses the scenario's seed (common random numbers: all candidates see the same
arrivals), so an evaluation is a pure function of (scenario, candidate, fidelity) and gives the
same numbers in any process and in any order.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from smsim.optimize.adapter import candidate_scenario
from smsim.optimize.ranking import COST_DECIMALS, Ranked
from smsim.optimize.sla import Verdict, judge
from smsim.optimize.space import Candidate, Space


@dataclass
class Evaluation(Ranked):
    """One simulated candidate at one fidelity."""

    candidate: Candidate
    fidelity: str
    verdict: Verdict
    cost_usd: float
    commitment_usd_per_hour: float
    costs_by_commitment: list[tuple[float, float]]
    metrics: dict[str, Any]
    cost_by_component: dict[str, float] = field(default_factory=dict)
    cost_by_pricing: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        keep = ("requests", "served", "timed_out", "dropped", "throttled", "latency_p50_s", "latency_p99_s",
                "latency_p999_s", "instance_hours", "mean_instances", "max_instances", "utilization", "fidelity")
        return {
            "candidate": self.candidate.to_dict(), "fidelity": self.fidelity, "cost_usd": self.cost_usd,
            "savings_plan_usd_per_hour": self.commitment_usd_per_hour,
            "costs_by_commitment": [{"commitment_usd_per_hour": c, "cost_usd": v} for c, v in self.costs_by_commitment],
            "sla": self.verdict.to_dict(), "cost_by_component": self.cost_by_component,
            "cost_by_pricing": self.cost_by_pricing,
            "metrics": {k: self.metrics.get(k) for k in keep if k in self.metrics},
        }


def _hourly_on_demand(ledger) -> Any:
    """On-demand-equivalent USD per hour of the run's usage lines (what a plan could cover)."""
    lines = ledger[ledger["lineItem/LineItemType"].isin(["Usage", "SavingsPlanCoveredUsage"])]
    per_hour = lines.groupby("smsim/hour")["pricing/publicOnDemandCost"].sum()
    return per_hour.to_numpy(dtype=float)


def _auto_commitment(ledger, scenario, cand: Candidate, space: Space, catalog) -> float:
    from smsim.commit.economics import PlanTerms
    from smsim.commit.sizing import optimal_commitment

    if cand.instance_type is None:
        return 0.0
    od = catalog.ondemand_usd_per_hour(cand.instance_type, "RealTimeInference", scenario.region)
    sp = catalog.sp_rate_usd_per_hour(cand.instance_type, "RealTimeInference", scenario.region,
                                      space.sp_term, space.sp_payment)
    discount = 1.0 - sp / od
    if not 0.0 < discount < 1.0:
        return 0.0
    hourly = _hourly_on_demand(ledger)
    if hourly.size == 0:
        return 0.0
    best = optimal_commitment(hourly, PlanTerms.of(discount, space.sp_term, space.sp_payment))
    return math.floor(best.commitment_usd_per_hour * 100.0) / 100.0


def evaluate(scenario, space: Space, cand: Candidate, fidelity: str) -> Evaluation:
    """Simulate ``cand`` at ``fidelity`` with the scenario's seed and price every commitment option."""
    from smsim.billing.ledger import build_ledger
    from smsim.pricing.catalog import catalog_for
    from smsim.pricing.options import HeldSavingsPlan
    from smsim.resources.registry import simulate

    t0 = time.perf_counter()
    sc = candidate_scenario(scenario, space.endpoint, cand, space.objectives, fidelity)
    catalog = catalog_for(sc)
    sim = simulate(sc, seed=sc.seed, catalog=catalog)
    metrics = next(r.metrics for r in sim.resources if r.resource_id == space.endpoint)
    verdict = judge(metrics, space.objectives)

    def bill(commitment: float):
        pricing = sc.pricing
        if commitment > 0:
            plan = HeldSavingsPlan(commitment_usd_per_hour=commitment, term=space.sp_term,
                                   payment=space.sp_payment, name="optimizer")
            pricing = pricing.model_copy(update={"savings_plans": [*pricing.savings_plans, plan]})
        ledger = build_ledger(sim.usage, catalog=catalog, region=sc.region, horizon_start=sc.horizon.start,
                              horizon_s=sc.horizon.duration_s, pricing=pricing)
        return ledger, _totals(ledger)

    base_ledger, base_summary = bill(0.0)
    priced: list[tuple[float, float, dict]] = []
    seen: set[float] = set()
    for option in space.commitments:
        c = _auto_commitment(base_ledger, sc, cand, space, catalog) if option == "auto" else float(option)
        if c in seen:
            continue
        seen.add(c)
        summary = base_summary if c == 0 else bill(c)[1]
        priced.append((c, float(summary["total_cost_usd"]), summary))
    best = min(range(len(priced)), key=lambda i: (round(priced[i][1], COST_DECIMALS), i))
    c, cost, summary = priced[best]
    return Evaluation(
        candidate=cand, fidelity=fidelity, verdict=verdict, cost_usd=cost, commitment_usd_per_hour=c,
        costs_by_commitment=[(p[0], p[1]) for p in priced], metrics=dict(metrics),
        cost_by_component=dict(summary.get("cost_by_component", {})),
        cost_by_pricing=dict(summary.get("cost_by_pricing", {})), wall_s=time.perf_counter() - t0,
    )


def _totals(ledger) -> dict[str, Any]:
    """The bill's total and its split by component and pricing class (what the report shows)."""
    cost = ledger["lineItem/UnblendedCost"]
    return {
        "total_cost_usd": float(cost.sum()),
        "cost_by_component": {str(k): float(v) for k, v in cost.groupby(ledger["smsim/component"]).sum().items()},
        "cost_by_pricing": {str(k): float(v) for k, v in cost.groupby(ledger["smsim/pricing_class"]).sum().items()},
    }


def _evaluate_task(scenario, source, space, cand, fidelity) -> Evaluation:
    """Worker entry point (top level so it pickles; the scenario's source travels beside it)."""
    scenario = scenario.with_source(source)
    return evaluate(scenario, space, cand, fidelity)


__all__ = ["Evaluation", "evaluate"]
