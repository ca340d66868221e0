"""Budget risk over projection paths: per period, the probability of a breach and its P50/P90 date.

For each path the period's cumulative spend is followed hour by hour; the path breaches at the
moment (interpolated within the hour, as :mod:`smsim.budgets.alerts` does) its spend first exceeds
the period's amount. Over ``n`` paths:

* ``probability`` = share of paths that breach within the projected part of the period;
* ``p50_date`` / ``p90_date`` = the dates by which 50 % / 90 % of the paths have breached (the
  quantiles of the breach moment, a path that never breaches counting as "after the period");
  ``None`` when fewer than that share of paths breach;
* each ``actual`` threshold gets the same three figures; the spend of the period is given as
  mean, P10, P50 and P90 over paths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.budgets.periods import periods_between
from smsim.budgets.spec import Budget


def _crossing_s(cum: np.ndarray, spend: np.ndarray, limit: float) -> np.ndarray:
    """Per path (rows), seconds from the first hour's start to the crossing of ``limit``; inf if none."""
    over = cum > limit
    any_over = over.any(axis=1)
    i = np.where(any_over, over.argmax(axis=1), 0)
    rows = np.arange(cum.shape[0])
    before = np.where(i > 0, cum[rows, np.maximum(i - 1, 0)], 0.0)
    s = spend[rows, i]
    frac = np.clip(np.where(s > 0, (limit - before) / np.where(s > 0, s, 1.0), 1.0), 0.0, 1.0)
    return np.where(any_over, (i + frac) * 3600.0, np.inf)


def _date_quantile(crossing_s: np.ndarray, q: float, origin: pd.Timestamp) -> str | None:
    v = float(np.quantile(crossing_s, q, method="inverted_cdf"))
    if not np.isfinite(v):
        return None
    return (origin + pd.Timedelta(seconds=round(v, 3))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _figures(cum: np.ndarray, spend: np.ndarray, limit: float, origin: pd.Timestamp) -> dict:
    t = _crossing_s(cum, spend, limit)
    return {"limit_usd": round(limit, 6), "probability": round(float(np.isfinite(t).mean()), 6),
            "p50_date": _date_quantile(t, 0.5, origin), "p90_date": _date_quantile(t, 0.9, origin)}


def breach_risk(budget: Budget, spend: np.ndarray, start: pd.Timestamp) -> list[dict]:
    """Per budgeted period: breach probability, P50/P90 breach date, period spend quantiles.

    ``spend`` is ``(n_paths, hours)`` spend per hour from ``start`` (UTC clock hour)."""
    spend = np.atleast_2d(np.asarray(spend, dtype=float))
    start = pd.Timestamp(start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    hours = spend.shape[1]
    stamps = pd.date_range(start, periods=hours, freq="h")
    out = []
    for pstart, pend in periods_between(start, start + pd.Timedelta(hours=hours), budget.period):
        amount = budget.amount_for(pstart)
        if amount is None:
            continue
        sel = np.flatnonzero((stamps >= pstart) & (stamps < pend))
        sub = spend[:, sel]
        cum = np.cumsum(sub, axis=1)
        origin = stamps[sel[0]]
        totals = cum[:, -1]

        entry = {"budget": budget.name, "period_start": pstart.strftime("%Y-%m-%d"),
                 "period_end": pend.strftime("%Y-%m-%d"), "amount_usd": amount,
                 "covered_hours": len(sel), "period_hours": int((pend - pstart) / pd.Timedelta(hours=1)),
                 "spend_usd": {"mean": round(float(totals.mean()), 4),
                               **{f"p{q}": round(float(np.percentile(totals, q)), 4) for q in (10, 50, 90)}},
                 "breach": _figures(cum, sub, amount, origin),
                 "thresholds": {th.label(): _figures(cum, sub, th.limit_usd(amount), origin)
                                for th in budget.thresholds if th.on == "actual"}}
        out.append(entry)
    return out
