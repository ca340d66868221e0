"""Buying in stages: part of the commitment now, the rest later once usage is confirmed.

A staged plan buys ``first_usd_per_hour`` at hour 0 and, at ``at_hour`` (e.g. month 3), tops up
with whatever a lookback over the usage confirmed by then says is still worth committing:
the exact optimum over the last ``confirm_hours`` of observed usage left after the existing plans
and the first tranche. The top-up therefore differs by path; it is a *rule*, not a number, and is
scored on every forecast path (and on actual usage in hindsight mode) the same way as a single
purchase. Less is locked in before the usage is known, so the bad-case (P10) savings improve
at the price of a few months at on-demand rates.

The second tranche is counted over the hours it is active within the horizon; its months past the
horizon are not scored (their usage is not forecast).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smsim.commit.economics import (
    Existing,
    Outcome,
    PlanTerms,
    evaluate_schedule,
    present_value_at,
    residual_after_existing,
)
from smsim.commit.sizing import optimal_commitment
from smsim.errors import InputError


@dataclass(frozen=True)
class StagedResult:
    """A staged plan scored on paths: the first tranche, the top-ups per path, the outcome."""

    first_usd_per_hour: float
    at_hour: int
    top_up_usd_per_hour: np.ndarray
    outcome: Outcome


def top_up(residual_usd: np.ndarray, first_usd_per_hour: float, at_hour: int, confirm_hours: int,
           terms: PlanTerms) -> np.ndarray:
    """Per-path top-up bought at ``at_hour``: the lookback optimum over the confirmed window."""
    r = np.atleast_2d(np.asarray(residual_usd, dtype=float))
    lo = max(0, at_hour - confirm_hours)
    left = np.maximum(r[:, lo:at_hour] - terms.covered_usd(first_usd_per_hour), 0.0)
    replay = PlanTerms(discount=terms.discount, term=terms.term, payment=terms.payment)
    return np.array([optimal_commitment(row, replay).commitment_usd_per_hour for row in left])


def evaluate_staged(
    usage_usd: np.ndarray,
    first_usd_per_hour: float,
    at_hour: int,
    terms: PlanTerms,
    existing: Sequence[Existing] = (),
    confirm_hours: int = 30 * 24,
) -> StagedResult:
    """Score "buy ``first`` now, top up at ``at_hour``" on each path of ``usage_usd``."""
    u = np.atleast_2d(np.asarray(usage_usd, dtype=float))
    n = u.shape[1]
    if not 0 < at_hour < n:
        raise InputError(f"the second purchase must fall inside the horizon (hour 1..{n - 1}), found hour {at_hour}")
    r, _ = residual_after_existing(u, existing)
    extra = top_up(r, first_usd_per_hour, at_hour, confirm_hours, terms)
    later = (np.arange(n) >= at_hour).astype(float)
    c_t = first_usd_per_hour + extra[:, None] * later[None, :]
    f = terms.upfront_fraction
    upfront = f * (
        first_usd_per_hour * n
        + extra * (n - at_hour) * present_value_at(at_hour, terms.cost_of_capital_per_year)
    )
    outcome = evaluate_schedule(u, c_t, upfront, terms, existing)
    return StagedResult(first_usd_per_hour, at_hour, extra, outcome)


def best_staged(
    usage_paths_usd: np.ndarray,
    single_shot_usd_per_hour: float,
    at_hour: int,
    terms: PlanTerms,
    existing: Sequence[Existing] = (),
    fractions: Sequence[float] = tuple(np.linspace(0.0, 1.0, 11)),
    confirm_hours: int = 30 * 24,
) -> StagedResult:
    """The first tranche (a fraction of the single-shot optimum) with the best expected savings.

    Ties go to the smaller first tranche (less locked in for the same expected result).
    """
    best: StagedResult | None = None
    for frac in fractions:
        res = evaluate_staged(usage_paths_usd, frac * single_shot_usd_per_hour, at_hour, terms,
                              existing, confirm_hours)
        if best is None or res.outcome.savings_usd.mean() > best.outcome.savings_usd.mean() + 1e-9:
            best = res
    assert best is not None
    return best
