"""What a savings-plan commitment costs and saves against a given hourly usage: exact, vectorised.

Vocabulary (all money in USD, all series hourly):

- ``u_t`` is the SP-eligible usage in hour ``t`` valued at on-demand prices ("on-demand
  equivalent").
- A commitment of ``c`` USD/hour at discount ``d`` (SP rate = (1 - d) x on-demand) covers up to
  ``x = c / (1 - d)`` of on-demand usage each hour. The hour costs
  ``c + max(0, u_t - x)``: the commitment is paid whether used or not, and the rest is on-demand.
- Savings against paying everything on demand are therefore ``sum_t min(u_t, x) - c * T``.
  As a function of ``x`` this is concave and piecewise linear with breakpoints at the ``u_t``,
  which is what :mod:`smsim.commit.sizing` exploits.

Existing commitments cover first (they were bought earlier; AWS applies every plan hourly, and a
new plan only sees what the old ones leave). Their cost is the same with or without the new plan,
so the savings reported here are those *of the new commitment*.

Payment options change two things: the discount ``d`` (an all-upfront plan has a deeper one)
and when the cash leaves. A fraction ``f`` of the whole commitment (0, 0.5 or 1) is paid at
purchase; the rest, like on-demand charges, is billed at the end of each 730-hour month. With an
annual cost of capital ``r`` every cash flow at hour ``h`` is worth ``(1 + r) ** (-h / 8760)``
today, so upfront money costs more than its nominal value relative to later bills. With ``r = 0``
all options are compared on their nominal cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smsim.errors import InputError
from smsim.units import HOURS_PER_MONTH

HOURS_PER_YEAR = 8760
TERM_HOURS = {"1y": HOURS_PER_YEAR, "3y": 3 * HOURS_PER_YEAR}
UPFRONT_FRACTION = {"no-upfront": 0.0, "partial-upfront": 0.5, "all-upfront": 1.0}


def check_discount(discount: float, what: str = "discount") -> float:
    """``discount`` as a float in the open interval (0, 1), or :class:`InputError`."""
    d = float(discount)
    if not (0.0 < d < 1.0) or not np.isfinite(d):
        raise InputError(
            f"{what} must be a fraction strictly between 0 and 1 (0.3 = 30% off on-demand), "
            f"found {discount!r}"
        )
    return d


@dataclass(frozen=True)
class PlanTerms:
    """The terms of the plan being sized.

    ``discount`` is the fraction off on-demand (SP rate = (1 - discount) x on-demand);
    ``upfront_fraction`` the share of the whole commitment paid at purchase;
    ``cost_of_capital_per_year`` the annual rate used to discount cash flows (0 = nominal).
    """

    discount: float
    upfront_fraction: float = 0.0
    cost_of_capital_per_year: float = 0.0
    term: str = "1y"
    payment: str = "no-upfront"

    def __post_init__(self) -> None:
        check_discount(self.discount)
        if not 0.0 <= self.upfront_fraction <= 1.0:
            raise InputError(f"upfront fraction must be in [0, 1], found {self.upfront_fraction}")
        if not (self.cost_of_capital_per_year >= 0.0 and np.isfinite(self.cost_of_capital_per_year)):
            raise InputError(
                f"cost of capital must be a non-negative annual rate, found "
                f"{self.cost_of_capital_per_year}"
            )

    @classmethod
    def of(
        cls,
        discount: float,
        term: str = "1y",
        payment: str = "no-upfront",
        cost_of_capital_per_year: float = 0.0,
    ) -> PlanTerms:
        if term not in TERM_HOURS:
            raise InputError(f"term must be one of {sorted(TERM_HOURS)}, found {term!r}")
        if payment not in UPFRONT_FRACTION:
            raise InputError(f"payment must be one of {sorted(UPFRONT_FRACTION)}, found {payment!r}")
        return cls(
            discount=check_discount(discount),
            upfront_fraction=UPFRONT_FRACTION[payment],
            cost_of_capital_per_year=float(cost_of_capital_per_year),
            term=term,
            payment=payment,
        )

    @property
    def term_hours(self) -> int:
        return TERM_HOURS[self.term]

    def covered_usd(self, commitment_usd_per_hour):
        """On-demand usage per hour that a commitment can absorb: ``c / (1 - d)``."""
        return np.asarray(commitment_usd_per_hour, dtype=float) / (1.0 - self.discount)


@dataclass(frozen=True)
class Existing:
    """A commitment already held: ``usd_per_hour`` at ``discount``, active in hours [start, end)."""

    usd_per_hour: float
    discount: float
    start_hour: int = 0
    end_hour: int | None = None


@dataclass(frozen=True)
class Tranche:
    """Part of a new commitment bought at ``start_hour`` (0 = now); runs to the horizon's end."""

    usd_per_hour: float
    start_hour: int = 0


def month_end_weights(n_hours: int, cost_of_capital_per_year: float) -> np.ndarray:
    """Present value of one USD billed for each hour: paid at the end of its 730-hour month."""
    t = np.arange(n_hours)
    if cost_of_capital_per_year == 0.0:
        return np.ones(n_hours)
    paid_at_h = (np.floor(t / HOURS_PER_MONTH) + 1.0) * HOURS_PER_MONTH
    return (1.0 + cost_of_capital_per_year) ** (-paid_at_h / HOURS_PER_YEAR)


def present_value_at(hour: float, cost_of_capital_per_year: float) -> float:
    """Present value of one USD paid at ``hour`` (upfront payments)."""
    return float((1.0 + cost_of_capital_per_year) ** (-float(hour) / HOURS_PER_YEAR))


def residual_after_existing(usage_usd: np.ndarray, existing: Sequence[Existing]) -> tuple[np.ndarray, np.ndarray]:
    """(usage left for a new plan, on-demand usage the existing plans cover), hour by hour."""
    u = np.asarray(usage_usd, dtype=float)
    left = u.copy()
    covered = np.zeros_like(u)
    n = u.shape[-1]
    for plan in existing:
        check_discount(plan.discount, "existing plan discount")
        if plan.usd_per_hour < 0:
            raise InputError(f"existing commitment must be >= 0 USD/hour, found {plan.usd_per_hour}")
        cap = np.zeros(n)
        cap[plan.start_hour : plan.end_hour] = plan.usd_per_hour / (1.0 - plan.discount)
        take = np.minimum(left, cap)
        covered += take
        left -= take
    return left, covered


def commitment_schedule(tranches: Sequence[Tranche], n_hours: int) -> np.ndarray:
    """Total new commitment active in each hour (USD/hour)."""
    c = np.zeros(n_hours)
    for tr in tranches:
        if tr.usd_per_hour < 0:
            raise InputError(f"commitment must be >= 0 USD/hour, found {tr.usd_per_hour}")
        c[int(tr.start_hour) :] += tr.usd_per_hour
    return c


@dataclass(frozen=True)
class Outcome:
    """What a new commitment does against one or many usage paths (arrays have the paths' shape).

    ``savings_usd`` is the present value (nominal when the cost of capital is 0) of on-demand
    cost avoided minus commitment paid. ``utilization`` = commitment used / commitment paid;
    ``coverage`` = on-demand usage covered by all plans (existing and new) / eligible usage;
    ``new_coverage`` the same for the new plan alone.
    """

    savings_usd: np.ndarray
    ondemand_usd: np.ndarray
    cost_usd: np.ndarray
    commitment_usd: np.ndarray
    used_commitment_usd: np.ndarray
    utilization: np.ndarray
    coverage: np.ndarray
    new_coverage: np.ndarray


def evaluate(
    usage_usd: np.ndarray,
    tranches: Sequence[Tranche] | float,
    terms: PlanTerms,
    existing: Sequence[Existing] = (),
) -> Outcome:
    """Exact outcome of buying ``tranches`` against ``usage_usd`` (shape ``(..., hours)``).

    A plain number for ``tranches`` means one commitment bought at hour 0. Each tranche's upfront
    share covers the hours it is active within the horizon (a plan that outlives the horizon has
    the rest of its upfront attributed to the hours beyond it).
    """
    if not isinstance(tranches, Sequence):
        tranches = [Tranche(float(tranches), 0)]
    u = np.asarray(usage_usd, dtype=float)
    n = u.shape[-1]
    c_t = commitment_schedule(tranches, n)
    upfront = sum(
        terms.upfront_fraction * tr.usd_per_hour * max(n - int(tr.start_hour), 0)
        * present_value_at(tr.start_hour, terms.cost_of_capital_per_year)
        for tr in tranches
    )
    return evaluate_schedule(u, c_t, upfront, terms, existing)


def evaluate_schedule(
    usage_usd: np.ndarray,
    commitment_usd_per_hour: np.ndarray,
    upfront_pv_usd,
    terms: PlanTerms,
    existing: Sequence[Existing] = (),
) -> Outcome:
    """Exact outcome of an hour-by-hour commitment schedule (may differ per path).

    ``commitment_usd_per_hour`` broadcasts against ``usage_usd``; ``upfront_pv_usd`` is the
    present value of the upfront payments (per path or one number). The recurring share
    ``1 - f`` of each hour's commitment is billed monthly.
    """
    u = np.asarray(usage_usd, dtype=float)
    n = u.shape[-1]
    r, covered_old = residual_after_existing(u, existing)
    c_t = np.broadcast_to(np.asarray(commitment_usd_per_hour, dtype=float), np.broadcast_shapes(
        np.shape(commitment_usd_per_hour), u.shape))
    x_t = terms.covered_usd(c_t)
    w = month_end_weights(n, terms.cost_of_capital_per_year)
    f = terms.upfront_fraction

    covered_new = np.minimum(r, x_t)
    ondemand = (r * w).sum(axis=-1)
    overage = ((r - covered_new) * w).sum(axis=-1)
    recurring = (1.0 - f) * (c_t * w).sum(axis=-1)
    cost = overage + recurring + np.asarray(upfront_pv_usd, dtype=float)
    commitment_total = c_t.sum(axis=-1)
    used = (1.0 - terms.discount) * covered_new.sum(axis=-1)
    total_u = u.sum(axis=-1)
    covered_all = covered_old.sum(axis=-1) + covered_new.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        utilization = np.where(commitment_total > 0, used / commitment_total, np.nan)
        coverage = np.where(total_u > 0, covered_all / total_u, np.nan)
        new_cov = np.where(total_u > 0, covered_new.sum(axis=-1) / total_u, np.nan)
    return Outcome(
        savings_usd=ondemand - cost,
        ondemand_usd=ondemand,
        cost_usd=cost,
        commitment_usd=commitment_total,
        used_commitment_usd=used,
        utilization=utilization,
        coverage=coverage,
        new_coverage=new_cov,
    )


def commitment_weight(terms: PlanTerms, n_hours: int) -> float:
    """Present value of paying 1 USD/hour of commitment for ``n_hours`` from hour 0.

    ``K = f * n + (1 - f) * sum_t w_t``: the upfront share at face value, the rest billed monthly.
    Savings of a commitment covering ``x`` per hour are ``sum_t w_t min(r_t, x) - (1 - d) K x``.
    """
    w = month_end_weights(n_hours, terms.cost_of_capital_per_year)
    f = terms.upfront_fraction
    return f * n_hours + (1.0 - f) * float(w.sum())


def break_even_utilization(terms: PlanTerms, n_hours: int) -> float:
    """The utilization below which a commitment from hour 0 loses money.

    Savings are ``sum_t w_t covered_t - (1 - d) K x``. With the cost of capital at 0 the bar is
    exactly ``1 - d``: a 30%-discount plan must be more than 70% used to pay off. With upfront
    cash and a positive cost of capital it rises to ``(1 - d) K / sum_t w_t`` (exact when the
    covered usage is spread evenly over the horizon).
    """
    w = month_end_weights(n_hours, terms.cost_of_capital_per_year)
    return (1.0 - terms.discount) * commitment_weight(terms, n_hours) / float(w.sum())
