"""The commitment that maximises expected savings over sample paths of future usage: exact.

For one path, savings of a commitment covering ``x`` USD/hour of on-demand usage are
``S(x) = sum_t w_t min(r_t, x) - (1 - d) K x`` (see :mod:`smsim.commit.economics`; ``r_t`` is
the usage left after existing plans, ``w_t`` the present-value weight of hour ``t``, ``K`` the
present value of 1 USD/hour of commitment). The average over paths is again concave and
piecewise linear in ``x`` with breakpoints at every ``r_{p,t}``; its right derivative is

    S'(x) = (1/P) sum_{p,t: r_pt > x} w_t  -  (1 - d) K

so the optimum is the smallest pooled value ``v`` at which the weight of values above ``v``
falls to ``(1 - d) K`` or below: a weighted quantile. Without a cost of capital, ``w_t = 1`` and
``K = T``, so the condition is ``P(r > x) <= 1 - d``: **cover up to the d-quantile of usage**
(with a 30% discount, the level that usage exceeds 70% of the time). One sort, no grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smsim.commit.economics import PlanTerms, commitment_weight, month_end_weights


@dataclass(frozen=True)
class Optimum:
    """The best commitment: USD/hour committed, on-demand USD/hour it covers, expected savings."""

    commitment_usd_per_hour: float
    covered_usd_per_hour: float
    expected_savings_usd: float


def _as_paths(residual_usd: np.ndarray) -> np.ndarray:
    r = np.asarray(residual_usd, dtype=float)
    return r[None, :] if r.ndim == 1 else r


def expected_savings_at(residual_usd: np.ndarray, covered_usd_per_hour: float, terms: PlanTerms) -> float:
    """Mean over paths of ``S(x)`` for a commitment covering ``x`` (no upfront split in time)."""
    r = _as_paths(residual_usd)
    n = r.shape[1]
    w = month_end_weights(n, terms.cost_of_capital_per_year)
    k = commitment_weight(terms, n)
    x = float(covered_usd_per_hour)
    return float((np.minimum(r, x) * w).sum(axis=1).mean() - (1.0 - terms.discount) * k * x)


def optimal_commitment(residual_usd: np.ndarray, terms: PlanTerms) -> Optimum:
    """Exact maximiser of expected savings over paths ``residual_usd`` (shape (paths, hours) or (hours,)).

    Among equally good commitments (a flat top), the smallest is returned: the same savings for
    less money at risk.
    """
    r = _as_paths(residual_usd)
    n_paths, n = r.shape
    w = month_end_weights(n, terms.cost_of_capital_per_year)
    threshold = (1.0 - terms.discount) * commitment_weight(terms, n)
    values = r.ravel()
    weights = np.broadcast_to(w / n_paths, r.shape).ravel()
    order = np.argsort(values, kind="stable")
    v = values[order]
    om = weights[order]
    # tail[k] = weight of the values after position k in sorted order
    tail = np.concatenate([np.cumsum(om[::-1])[::-1][1:], [0.0]])
    total = float(om.sum())
    if total <= threshold or v[-1] <= 0.0:
        x = 0.0
    else:
        k = int(np.argmax(tail <= threshold * (1.0 + 1e-12)))
        x = float(max(v[k], 0.0))
    return Optimum(
        commitment_usd_per_hour=(1.0 - terms.discount) * x,
        covered_usd_per_hour=x,
        expected_savings_usd=expected_savings_at(r, x, terms),
    )


@dataclass(frozen=True)
class Curve:
    """Savings against commitment, exact at each grid point: mean and quantiles across paths."""

    commitment_usd_per_hour: np.ndarray
    expected_savings_usd: np.ndarray
    p10_savings_usd: np.ndarray
    p50_savings_usd: np.ndarray
    p90_savings_usd: np.ndarray


def savings_curve(residual_usd: np.ndarray, terms: PlanTerms, commitments_usd_per_hour: np.ndarray) -> Curve:
    """Per-path savings for every commitment on the grid, from one sort per path.

    ``sum_t w_t min(r_t, x) = sum_{r_t <= x} w_t r_t + x sum_{r_t > x} w_t``, read off prefix sums
    at ``searchsorted(x)``.
    """
    r = _as_paths(residual_usd)
    n_paths, n = r.shape
    w = month_end_weights(n, terms.cost_of_capital_per_year)
    k = commitment_weight(terms, n)
    c = np.asarray(commitments_usd_per_hour, dtype=float)
    x = c / (1.0 - terms.discount)
    order = np.argsort(r, axis=1)
    v = np.take_along_axis(r, order, axis=1)
    ws = w[order]
    pre_wv = np.concatenate([np.zeros((n_paths, 1)), np.cumsum(ws * v, axis=1)], axis=1)
    pre_w = np.concatenate([np.zeros((n_paths, 1)), np.cumsum(ws, axis=1)], axis=1)
    total_w = pre_w[:, -1:]
    out = np.empty((n_paths, len(x)))
    for p in range(n_paths):
        idx = np.searchsorted(v[p], x, side="right")
        out[p] = pre_wv[p, idx] + x * (total_w[p, 0] - pre_w[p, idx])
    out -= (1.0 - terms.discount) * k * x[None, :]
    return Curve(
        commitment_usd_per_hour=c,
        expected_savings_usd=out.mean(axis=0),
        p10_savings_usd=np.quantile(out, 0.10, axis=0),
        p50_savings_usd=np.quantile(out, 0.50, axis=0),
        p90_savings_usd=np.quantile(out, 0.90, axis=0),
    )
