"""Bounds of one training candidate that hold on every sample path: a cost lower bound, elapsed-
time lower bounds, and a closed-form expected cost that only orders the search (see
:mod:`smsim.optimize.training.search`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from smsim.errors import InputError
from smsim.optimize.training.evaluate import job_table
from smsim.optimize.training.objectives import _QUANTILES, Objective
from smsim.optimize.training.space import COMPONENT, TrainingCandidate, TrainingSearchSpace


def _min_rate(scenario, itype: str, market: str, catalog) -> float:
    """No instance-hour of ``itype`` training of a ``market`` job is billed below this: on-demand
    jobs meter on-demand usage only; spot jobs spot usage and, in a fallback, on-demand usage."""
    p = scenario.pricing
    rates = [catalog.ondemand_usd_per_hour(itype, COMPONENT, scenario.region)]
    if market == "Spot":
        try:
            rates.append(catalog.spot_usd_per_hour(itype, COMPONENT, scenario.region, p.spot.discount_pct))
        except InputError:
            rates.append(0.0)
    if p.savings_plans:
        for term in ("1y", "3y"):
            for pay in ("no-upfront", "partial-upfront", "all-upfront"):
                try:
                    rates.append(catalog.sp_rate_usd_per_hour(itype, COMPONENT, scenario.region, term, pay))
                except Exception:  # noqa: BLE001 - no plan rate: the bound falls back to 0
                    rates.append(0.0)
    return max(0.0, min(rates)) * (1.0 - p.enterprise_discount_pct / 100.0)


@dataclass
class Bounds:
    cost_lb: float
    elapsed_lb: dict[str, float]  # lower bounds of the elapsed-time metrics
    estimate: float  # closed-form expected cost, for ordering only


def bounds(scenario, space: TrainingSearchSpace, cand: TrainingCandidate, catalog,
           objectives: list[Objective]) -> Bounds:
    from smsim.resources.managed_spot import (
        JobParams,
        advisor_bucket,
        bucket_rate_per_instance_hour,
        expected_job,
    )

    spec, jobs = job_table(scenario, space, cand)
    H = float(scenario.horizon.duration_s)
    warm = spec.warm_pool_keep_alive_s > 0
    d = 0.0 if warm else spec.download_s
    prov = 0.0 if warm else spec.provisioning_s
    full = d + jobs["train_s"].to_numpy(dtype=float) + spec.upload_s
    submit = jobs["submit_s"].to_numpy(dtype=float)
    counts = jobs["count"].to_numpy(dtype=float)
    capped = np.minimum(full, spec.max_runtime_s)
    spot = spec.market == "Spot"
    ss = spec.spot_settings
    max_wait = ss.max_wait_s if spot else math.inf
    rate = _min_rate(scenario, cand.instance_type, cand.market, catalog) / 3600.0
    if not spot:
        billed = np.clip(H - submit - prov, 0.0, capped)
        lb = float((billed * counts).sum()) * rate
    else:
        lb = 0.0
        if ss.fallback == "on-demand":
            inside = submit + max_wait + prov + capped <= H
            lb = float((capped * counts)[inside].sum()) * rate
    completion = [o for o in objectives if o.metric == "completion_rate" and o.op in (">=", ">")]
    if completion and len(jobs):
        n = len(jobs)
        need = max(math.ceil(o.value * n - 1e-9) if o.op == ">=" else math.floor(o.value * n + 1e-9) + 1
                   for o in completion)
        # a completed job was billed entirely inside the horizon when it surely ended inside it
        if not spot:
            safe = submit + prov + full <= H
        elif ss.fallback == "on-demand":
            safe = submit + max_wait + prov + full <= H
        else:
            safe = submit + max_wait <= H
        k = need - int((~safe).sum())
        if k > 0:  # at least k safe jobs completed, each billed at least its full run
            costs = np.sort((full * counts)[safe])
            lb = max(lb, float(costs[:k].sum()) * rate)
    lb *= 1.0 - 1e-9
    # elapsed: every job takes at least this long
    e = np.minimum(prov + capped, max_wait) / 3600.0
    elapsed = {}
    if len(e):
        elapsed["mean_job_elapsed_hours"] = float(e.mean())
        elapsed["max_job_elapsed_hours"] = float(e.max())
        for q, p in _QUANTILES.items():
            elapsed[f"{q}_job_elapsed_hours"] = float(np.percentile(e, p))
    # closed-form expected cost (ordering only)
    od = catalog.ondemand_usd_per_hour(cand.instance_type, COMPONENT, scenario.region)
    if spot:
        try:
            price = catalog.spot_usd_per_hour(cand.instance_type, COMPONENT, scenario.region,
                                              scenario.pricing.spot.discount_pct)
        except InputError:
            price = od
        if ss.interruption_rate_per_instance_hour is not None:
            lam = ss.interruption_rate_per_instance_hour
        else:
            lam = bucket_rate_per_instance_hour(ss.interruption_bucket
                                                or advisor_bucket(cand.instance_type, scenario.region, catalog)[0])
        est = 0.0
        for t, n in zip(jobs["train_s"].tolist(), counts.tolist(), strict=True):
            p = JobParams(work_s=t, rate_per_s=n * lam / 3600.0, checkpoint_interval_s=ss.checkpoint_interval_s,
                          checkpoint_write_s=ss.checkpoint_write_s, provisioning_s=spec.provisioning_s,
                          download_s=spec.download_s, upload_s=spec.upload_s, wait_mean_s=ss.capacity_wait.mean_s)
            est += expected_job(p)["billable_s"] * n
        estimate = est / 3600.0 * price
    else:
        estimate = float((full * counts).sum()) / 3600.0 * od
    return Bounds(lb, elapsed, estimate)


def elapsed_infeasible(b: Bounds, objectives: list[Objective]) -> bool:
    """True when the elapsed-time lower bounds alone already miss an upper-bound objective."""
    for o in objectives:
        if o.metric in b.elapsed_lb and o.op in ("<=", "<") and not o.holds(b.elapsed_lb[o.metric]):
            return True
    return False
