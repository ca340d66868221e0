"""Applying SageMaker Savings Plans to hourly usage, as AWS describes it (sp-applying.html).

Per clock hour and per plan: the plan's hourly commitment (prorated when the plan starts or ends
inside the hour, or the horizon ends inside it) is spent on eligible usage -- SageMaker instance
usage in the on-demand market -- with the highest savings percentage ``1 - sp_rate / od_rate``
first, ties to the lowest savings-plan rate, then file order. A line the remaining commitment
cannot fully pay is split: the covered instance-hours go to the plan, the rest stays on-demand.
Plans are applied one after the other in scenario order. The whole commitment is charged whether
used or not. Spot usage is never covered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from smsim.pricing.catalog import Catalog
from smsim.pricing.options import HeldSavingsPlan
from smsim.pricing.savings_plans import TERM_SECONDS
from smsim.units import HOUR

_EPS_HOURS = 1e-12


@dataclass(frozen=True)
class Coverage:
    """What the plans did: one row per covered piece share, and one row per plan-hour fee."""

    covered: pd.DataFrame  # piece, plan, covered_hours, sp_rate, used_usd
    fees: pd.DataFrame  # plan, hour, commitment_usd, used_usd
    remaining_hours: np.ndarray  # instance-hours of each eligible piece left on-demand


def plan_name(plan: HeldSavingsPlan, index: int) -> str:
    return plan.name or f"sp-{index + 1}"


def plan_arn(plan: HeldSavingsPlan, index: int) -> str:
    return f"arn:aws:savingsplans::000000000000:savingsplan/{plan_name(plan, index)}"


def hourly_commitment(
    plan: HeldSavingsPlan, phase_s: float, horizon_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(hours, commitment_usd)`` for every clock hour in which ``plan`` is active inside the horizon."""
    active_start = plan.start_offset_s
    active_end = min(plan.start_offset_s + TERM_SECONDS[plan.term], horizon_s)
    if active_end <= active_start:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    first = int(np.floor((active_start + phase_s) / HOUR))
    last = int(np.ceil((active_end + phase_s) / HOUR)) - 1
    hours = np.arange(first, last + 1, dtype=np.int64)
    lo = np.maximum(hours * HOUR - phase_s, active_start)
    hi = np.minimum((hours + 1) * HOUR - phase_s, active_end)
    return hours, plan.commitment_usd_per_hour * np.clip(hi - lo, 0.0, HOUR) / HOUR


def apply_savings_plans(
    eligible: dict[str, np.ndarray],
    plans: list[HeldSavingsPlan],
    *,
    combos: list[tuple[str, str]],
    catalog: Catalog,
    region: str,
    phase_s: float,
    horizon_s: float,
) -> Coverage:
    """Cover ``eligible`` pieces with ``plans``.

    ``eligible`` holds numpy arrays ``hour``, ``combo`` (index into ``combos``, the distinct
    ``(instance_type, component)`` pairs), ``od_rate`` and ``hours`` (instance-hours).
    """
    remaining = np.asarray(eligible["hours"], dtype=float).copy()
    hours_of_piece = np.asarray(eligible["hour"], dtype=np.int64)
    od_rate = np.asarray(eligible["od_rate"], dtype=float)
    combo_codes = np.asarray(eligible["combo"], dtype=np.int64)
    covered_parts, fee_parts = [], []
    for index, plan in enumerate(plans):
        plan_hours, commitment = hourly_commitment(plan, phase_s, horizon_s)
        if not len(plan_hours):
            continue
        available = pd.Series(commitment, index=plan_hours)
        used_by_hour = pd.Series(0.0, index=plan_hours)
        if len(remaining):
            combo_rates = np.array(
                [catalog.sp_rate_usd_per_hour(t, c, region, plan.term, plan.payment) for t, c in combos], dtype=float
            )
            sp_rate = combo_rates[combo_codes]
            with np.errstate(divide="ignore", invalid="ignore"):
                savings = np.where(od_rate > 0, 1.0 - sp_rate / od_rate, 0.0)
            avail_piece = available.reindex(hours_of_piece).fillna(0.0).to_numpy()
            live = (remaining > _EPS_HOURS) & (avail_piece > 0)
            idx = np.flatnonzero(live)
            # savings rounded so that equal discounts tie exactly (then lowest SP rate, then file order)
            rank = -np.round(savings[idx], 9)
            order = idx[np.lexsort((idx, sp_rate[idx], rank, hours_of_piece[idx]))]
            need = sp_rate[order] * remaining[order]
            hour_sorted = hours_of_piece[order]
            cum = pd.Series(need).groupby(hour_sorted).cumsum().to_numpy()
            before = cum - need
            spend = np.clip(avail_piece[order] - before, 0.0, need)
            with np.errstate(divide="ignore", invalid="ignore"):
                cover = np.where(sp_rate[order] > 0, spend / sp_rate[order], remaining[order])
            cover = np.minimum(cover, remaining[order])
            take = cover > _EPS_HOURS
            pieces = order[take]
            remaining[pieces] -= cover[take]
            remaining[remaining < _EPS_HOURS] = 0.0
            covered_parts.append(
                pd.DataFrame(
                    {
                        "piece": pieces,
                        "plan": index,
                        "covered_hours": cover[take],
                        "sp_rate": sp_rate[pieces],
                        "used_usd": spend[take],
                    }
                )
            )
            used_by_hour = used_by_hour.add(pd.Series(spend).groupby(hour_sorted).sum(), fill_value=0.0)
        fee_parts.append(
            pd.DataFrame(
                {
                    "plan": index,
                    "hour": plan_hours,
                    "commitment_usd": commitment,
                    "used_usd": used_by_hour.reindex(plan_hours).fillna(0.0).to_numpy(),
                }
            )
        )
    covered = (
        pd.concat(covered_parts, ignore_index=True)
        if covered_parts
        else pd.DataFrame({"piece": [], "plan": [], "covered_hours": [], "sp_rate": [], "used_usd": []})
    )
    fees = (
        pd.concat(fee_parts, ignore_index=True)
        if fee_parts
        else pd.DataFrame({"plan": [], "hour": [], "commitment_usd": [], "used_usd": []})
    )
    return Coverage(covered.astype({"piece": np.int64, "plan": np.int64}), fees.astype({"plan": np.int64}), remaining)
