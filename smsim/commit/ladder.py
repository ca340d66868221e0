"""Laddered purchasing: a small commitment now, then top-ups at every review once usage has grown.

A single purchase must guess the level of the whole term on the day it is bought; on a fleet
that stops growing or shrinks, what it over-commits is lost in full (each unused dollar of
commitment is gone, while each uncovered dollar of usage costs only the discount ``d``). A
ladder buys the plan in tranches instead, the "rolling" or "adaptive laddering" strategy of
commitment tools: each tranche is a savings plan of its own, with its own term from its own
purchase hour, so nothing is ever sold back, and each is bought only once usage has shown it
can use it. The rule, applied the same way to every forecast path and, in hindsight, to the
usage that happened:

- **now**: the level that three in four forecast futures support: the ``first_quantile``
  (0.25) across paths of each path's own best commitment (its d-quantile, see
  :mod:`smsim.commit.sizing`). A forecast that extrapolates a trend that then reverses
  therefore commits to what the downside paths still use;
- **every ``every_hours``** (a month by default): if the usage of the interval just ended
  averaged at least that of the interval before (growth confirmed), buy a tranche topping the
  total up to the best commitment over the interval just ended; otherwise buy nothing.
  A shrinking or flat-then-falling fleet gets no new commitment; a growing one follows its
  growth one interval late.

Scores count every tranche over the hours it is active within the horizon (a tranche bought
later has fewer hours inside it); its months past the horizon are not scored, exactly as a
single purchase's are not.
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

FIRST_QUANTILE = 0.25


@dataclass(frozen=True)
class LadderResult:
    """A ladder applied to each path: what was bought when, and the outcome.

    ``purchases_usd_per_hour`` has shape ``(paths, reviews + 1)``: column 0 is the first
    tranche (hour 0), column ``k`` the top-up at hour ``k * every_hours`` (0 = none bought).
    """

    every_hours: int
    first_usd_per_hour: float
    review_hours: np.ndarray
    purchases_usd_per_hour: np.ndarray
    outcome: Outcome

    @property
    def final_usd_per_hour(self) -> np.ndarray:
        """Total commitment held at the horizon's end, per path."""
        return self.purchases_usd_per_hour.sum(axis=1)

    @property
    def tranches(self) -> np.ndarray:
        """Number of tranches bought (first included when non-zero), per path."""
        return (self.purchases_usd_per_hour > 0).sum(axis=1)


def _nominal(terms: PlanTerms) -> PlanTerms:
    """The plan's discount without cash-flow timing: a replay over a past window has none."""
    return PlanTerms(discount=terms.discount, term=terms.term, payment=terms.payment)


def first_tranche(residual_paths_usd: np.ndarray, terms: PlanTerms, quantile: float = FIRST_QUANTILE) -> float:
    """The ``quantile`` across paths of each path's own optimal commitment (USD/hour).

    With one path (or identical paths) this is that path's exact optimum, whatever ``quantile``.
    """
    if not 0.0 <= quantile <= 1.0:
        raise InputError(f"first-tranche quantile must be in [0, 1], found {quantile}")
    r = np.atleast_2d(np.asarray(residual_paths_usd, dtype=float))
    per_path = np.array([optimal_commitment(row, terms).commitment_usd_per_hour for row in r])
    return float(np.quantile(per_path, quantile))


def ladder_purchases(history_residual_usd: np.ndarray, residual_usd: np.ndarray, first_usd_per_hour: float,
                     every_hours: int, terms: PlanTerms) -> tuple[np.ndarray, np.ndarray]:
    """(review hours, purchases per path): the top-up rule of the module doc, path by path.

    ``history_residual_usd`` is the usage before hour 0 (the first review compares against its
    last ``every_hours``); ``residual_usd`` has shape ``(paths, hours)`` or ``(hours,)``.
    """
    r = np.atleast_2d(np.asarray(residual_usd, dtype=float))
    h = np.asarray(history_residual_usd, dtype=float)
    n_paths, n = r.shape
    if every_hours < 1:
        raise InputError(f"the ladder's review interval must be at least 1 hour, found {every_hours}")
    reviews = np.arange(every_hours, n, every_hours)
    buys = np.zeros((n_paths, len(reviews) + 1))
    buys[:, 0] = first_usd_per_hour
    replay = _nominal(terms)
    tail = h[-every_hours:]
    for p in range(n_paths):
        full = np.concatenate([tail, r[p]])
        held = first_usd_per_hour
        for k, t in enumerate(reviews, start=1):
            t0 = len(tail) + t  # hour t in ``full``
            last = full[t0 - every_hours : t0]
            before = full[max(0, t0 - 2 * every_hours) : t0 - every_hours]
            if len(before) and last.mean() < before.mean():
                continue  # no growth: buy nothing
            target = optimal_commitment(last, replay).commitment_usd_per_hour
            if target > held:
                buys[p, k] = target - held
                held = target
    return reviews, buys


def evaluate_ladder(
    usage_usd: np.ndarray,
    history_usd: np.ndarray,
    first_usd_per_hour: float,
    every_hours: int,
    terms: PlanTerms,
    existing: Sequence[Existing] = (),
) -> LadderResult:
    """Apply the ladder to each path of ``usage_usd`` (after ``existing`` plans) and score it exactly."""
    u = np.atleast_2d(np.asarray(usage_usd, dtype=float))
    n = u.shape[1]
    r, _ = residual_after_existing(u, existing)
    h, _ = residual_after_existing(np.asarray(history_usd, dtype=float), existing)
    reviews, buys = ladder_purchases(h, r, first_usd_per_hour, every_hours, terms)
    starts = np.concatenate([[0], reviews])
    active = (np.arange(n)[None, :] >= starts[:, None]).astype(float)  # (tranches, hours)
    c_t = buys @ active
    pv = np.array([present_value_at(s, terms.cost_of_capital_per_year) for s in starts])
    upfront = terms.upfront_fraction * (buys * (n - starts)[None, :] * pv[None, :]).sum(axis=1)
    outcome = evaluate_schedule(u, c_t, upfront, terms, existing)
    return LadderResult(int(every_hours), float(first_usd_per_hour), reviews, buys, outcome)


__all__ = ["FIRST_QUANTILE", "LadderResult", "evaluate_ladder", "first_tranche", "ladder_purchases"]
