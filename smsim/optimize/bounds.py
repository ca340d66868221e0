"""Analytic bounds: what can be said about a candidate without simulating it.

Two kinds of statement, with different standing:

* **Proofs** (used to prune):

  - *price lower bound* :func:`cost_lower_bound`. A fixed fleet of ``n`` instances is billed
    ``n x rate x horizon`` exactly; an autoscaled one never runs fewer than its lowest minimum
    capacity; a savings plan can lower an hour's bill at most to ``(1 - d) x on-demand`` (``d``
    the type's largest plan discount; the fee covers at least the covered usage at the plan rate)
    and the enterprise discount multiplies everything. Other resources and data charges add
    non-negative amounts and are left out. A candidate whose bound exceeds the cost of a
    verified feasible one cannot be the answer.
  - *service time alone* :func:`service_only_infeasible`. Every request's latency is at least
    its own service time, so the share of requests over the threshold is at least the share of
    *service times* over it. The simulated share is a binomial draw around the profile's
    ``P(S > T)``; a candidate is pruned only when ``P(S > T)`` exceeds the allowed miss by
    :data:`Z_MARGIN` binomial standard deviations at the expected request count (plus the fluid
    tier's service-quantile resolution), i.e. when the simulated run fails with probability
    above 1 - 1e-11. Deterministic profiles are decided exactly.

* **Guesses** (used only to choose where a capacity search starts; never to prune):
  :func:`guess_count`, the Allen-Cunneen G/G/c size meeting the objective at the workload's
  peak rate. Erlang C is exact only for a pooled M/M/c queue in steady state; SageMaker's random
  routing, time-varying rates and finite horizons make it neither an upper nor a lower bound.
"""

from __future__ import annotations

import math

from scipy import stats

from smsim import queueing
from smsim.optimize.sla import Objectives
from smsim.optimize.space import COMPONENT, Candidate, Space

#: Binomial standard deviations required before the service-time bound prunes.
Z_MARGIN = 7.0
#: The fluid tier resolves the service distribution with 512 quantile points.
FLUID_SERVICE_RESOLUTION = 2.0 / 512


def _plan_factor(scenario, space: Space, itype: str, catalog) -> float:
    """Smallest ``bill / on-demand`` any savings plan can reach for ``itype`` (1 without plans)."""
    has_plan = any(c == "auto" or c > 0 for c in space.commitments) or bool(scenario.pricing.savings_plans)
    if not has_plan:
        return 1.0
    od = catalog.ondemand_usd_per_hour(itype, COMPONENT, scenario.region)
    ratios = []
    for term in ("1y", "3y"):
        for payment in ("no-upfront", "partial-upfront", "all-upfront"):
            try:
                ratios.append(catalog.sp_rate_usd_per_hour(itype, COMPONENT, scenario.region, term, payment) / od)
            except Exception:  # noqa: BLE001 (a missing rate just does not lower the bound)
                continue
    return min(ratios) if ratios else 0.0


def lowest_instances(ep, cand: Candidate) -> int:
    """Fewest instances the candidate ever runs (scheduled actions of the base policy included)."""
    if cand.count is not None:
        return cand.count
    scaling = None
    if cand.scaling is not None:
        low = cand.scaling.min_capacity
        scaling = getattr(ep, "autoscaling", None)
    else:
        scaling = getattr(ep, "autoscaling", None)
        if scaling is None:
            return ep.start_instances
        low = scaling.min_capacity
    for action in getattr(scaling, "scheduled_actions", None) or []:
        if action.min_capacity is not None:
            low = min(low, action.min_capacity)
        if action.max_capacity is not None:
            low = min(low, action.max_capacity)
    return low


def cost_lower_bound(scenario, ep, space: Space, cand: Candidate, catalog) -> float:
    """A USD amount the candidate's whole-scenario bill cannot be below (see module docstring)."""
    if cand.kind == "serverless":
        return 0.0
    rate = catalog.ondemand_usd_per_hour(cand.instance_type, COMPONENT, scenario.region)
    hours = scenario.horizon.duration_s / 3600.0
    od = lowest_instances(ep, cand) * rate * hours
    factor = _plan_factor(scenario, space, cand.instance_type, catalog)
    return od * factor * (1.0 - scenario.pricing.enterprise_discount_pct / 100.0) * (1.0 - 1e-9)


def p_service_exceeds(profile_spec, threshold_s: float) -> float:
    """``P(S_base > T)`` of a model latency profile (size terms only add time, so this is a lower
    bound on the full service time's exceedance)."""
    kind = profile_spec.kind
    if kind == "deterministic":
        return 1.0 if profile_spec.value_s > threshold_s else 0.0
    if kind == "lognormal":
        sigma = math.log(profile_spec.p99_s / profile_spec.median_s) / stats.norm.ppf(0.99)
        return float(stats.norm.sf((math.log(threshold_s) - math.log(profile_spec.median_s)) / sigma))
    if kind == "gamma":
        shape = 1.0 / profile_spec.cv**2
        return float(stats.gamma.sf(threshold_s, shape, scale=profile_spec.mean_s / shape))
    if kind == "empirical":
        s = profile_spec.samples_s
        return sum(1 for v in s if v > threshold_s) / len(s)
    return 0.0


def service_only_infeasible(profile_spec, objectives: Objectives, expected_requests: float, fidelity: str) -> bool:
    """Whether service times alone prove the latency objective is missed (module docstring)."""
    p = p_service_exceeds(profile_spec, objectives.latency.threshold_s)
    allowed = objectives.latency.allowed_miss
    if profile_spec.kind == "deterministic":
        return p > allowed
    n = max(expected_requests, 1.0)
    margin = Z_MARGIN * math.sqrt(max(p * (1 - p), 1e-12) / n)
    if fidelity == "fluid" or profile_spec.kind == "empirical":
        margin += FLUID_SERVICE_RESOLUTION
    return p - margin > allowed


def profile_moments(profile_spec) -> tuple[float, float]:
    """``(mean_s, scv)`` of the base service time."""
    base = profile_spec.base()
    return base.mean_s, base.scv


def guess_count(rate_per_s: float, profile_spec, concurrency: int, objectives: Objectives,
                lo: int, hi: int) -> int:
    """Allen-Cunneen fleet size meeting the objective at ``rate_per_s``, clamped to ``[lo, hi]``."""
    mean, scv = profile_moments(profile_spec)
    if rate_per_s <= 0 or mean <= 0:
        return lo
    try:
        servers = queueing.min_servers(rate_per_s, 1.0 / mean, target="p99_response",
                                       value=objectives.latency.threshold_s, cs2=max(scv, 1e-6))
    except ValueError:
        return hi
    return min(max(math.ceil(servers / concurrency), lo), hi)


__all__ = [
    "Z_MARGIN", "cost_lower_bound", "guess_count", "lowest_instances", "p_service_exceeds",
    "profile_moments", "service_only_infeasible",
]
