"""AWS-style recommendations: the commitment that would have saved most over the last N days.

AWS Cost Explorer recommends a Savings Plan commitment from a 7-, 30- or 60-day lookback: it
replays the eligible on-demand usage of that window and picks the hourly commitment that would
have maximised savings over it, then assumes the future looks like that window. It does not
forecast. smsim computes the same thing exactly (the d-quantile of the window's usage left after
existing plans, see :mod:`smsim.commit.sizing`) so that the forecast-based recommendation can be
shown next to it and both can be scored against what actually happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smsim.commit.economics import PlanTerms
from smsim.commit.sizing import optimal_commitment

LOOKBACK_DAYS = (7, 30, 60)


@dataclass(frozen=True)
class LookbackRecommendation:
    """The commitment that maximised savings over the last ``days`` (or all the history there was)."""

    days: int
    hours_used: int
    commitment_usd_per_hour: float
    window_savings_usd: float

    @property
    def complete(self) -> bool:
        """False when the history was shorter than the window."""
        return self.hours_used >= self.days * 24


def lookback_recommendation(history_residual_usd: np.ndarray, days: int, terms: PlanTerms) -> LookbackRecommendation:
    """Best commitment over the last ``days * 24`` hours of ``history_residual_usd``.

    The replay is nominal (no cost of capital, no upfront timing), as a lookback over a past window
    has no cash-flow timing to speak of; the discount is the plan's.
    """
    h = np.asarray(history_residual_usd, dtype=float)
    window = h[-days * 24 :]
    replay = PlanTerms(discount=terms.discount, term=terms.term, payment=terms.payment)
    best = optimal_commitment(window, replay)
    return LookbackRecommendation(
        days=days,
        hours_used=len(window),
        commitment_usd_per_hour=best.commitment_usd_per_hour,
        window_savings_usd=best.expected_savings_usd,
    )


def lookback_recommendations(
    history_residual_usd: np.ndarray, terms: PlanTerms, days: Sequence[int] = LOOKBACK_DAYS
) -> dict[int, LookbackRecommendation]:
    """The 7/30/60-day recommendations (or those for ``days``), keyed by days."""
    return {d: lookback_recommendation(history_residual_usd, d, terms) for d in days}
