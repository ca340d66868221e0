"""When each budget alert fires on an hourly timeline, and each period's standing.

An ``actual`` threshold fires in the first hour whose line items take the period's cumulative
spend above the threshold (strictly above, as AWS Budgets' "greater than"): ``fired_at`` is that
hour's end (when its line items exist), ``crossed_at`` the moment within it where the spend,
accruing evenly over the hour, reached the threshold, and ``spend_usd`` the period's spend at
``fired_at``.

A ``forecasted`` threshold compares the threshold with the spend forecast for the whole period,
evaluated at every hour end ``t`` as AWS Budgets does (spend to date plus the expected spend of
the rest of the period):

    forecast(t) = spend of the period up to t + run_rate(t) * hours left in the period after t

where ``run_rate(t)`` is the mean hourly spend of the trailing ``window_h`` hours up to ``t`` (168,
a whole week, so weekday and weekend hours weigh as they do in a week; fewer at the start of the
timeline). Like AWS, which needs some history before it forecasts, nothing is forecast before
``min_history_h`` hours (24) of the timeline have passed. Each threshold fires at most once per
period.

A period's amount is the budget's planned amount for it, else its fixed ``amount_usd``; a period
with neither is not budgeted and skipped. A timeline that covers a period only partly (a run of a
week in a month) reports the spend of the hours it covers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from smsim.budgets.periods import periods_between
from smsim.budgets.spec import Budget

WINDOW_H = 168
MIN_HISTORY_H = 24


@dataclass(frozen=True)
class Alert:
    budget: str
    period_start: str
    threshold: str
    on: str
    limit_usd: float
    fired_at: str
    crossed_at: str | None
    spend_usd: float
    forecast_usd: float | None
    filter: str
    cost: str

    def record(self) -> dict:
        return asdict(self)


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_rate(spend: np.ndarray, window_h: int = WINDOW_H) -> np.ndarray:
    """Mean hourly spend of the trailing ``window_h`` hours ending with each hour (inclusive)."""
    csum = np.concatenate([[0.0], np.cumsum(spend)])
    idx = np.arange(1, len(spend) + 1)
    lo = np.maximum(idx - window_h, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def evaluate_timeline(budget: Budget, spend: pd.Series, *, window_h: int = WINDOW_H,
                      min_history_h: int = MIN_HISTORY_H) -> tuple[list[Alert], list[dict]]:
    """Alerts and per-period standing of ``budget`` over hourly ``spend`` (index: UTC hour starts)."""
    alerts: list[Alert] = []
    periods: list[dict] = []
    if spend.empty:
        return alerts, periods
    index = pd.DatetimeIndex(spend.index)
    values = spend.to_numpy(float)
    rate = run_rate(values, window_h)
    history = np.arange(1, len(values) + 1)
    hour = pd.Timedelta(hours=1)
    for pstart, pend in periods_between(index[0], index[-1] + hour, budget.period):
        amount = budget.amount_for(pstart)
        if amount is None:
            continue
        sel = np.flatnonzero((index >= pstart) & (index < pend))
        s = values[sel]
        cum = np.cumsum(s)
        ends = index[sel] + hour
        left_h = ((pend - ends) / hour).to_numpy(float)
        forecast = cum + rate[sel] * left_h
        forecast_ok = history[sel] >= min_history_h
        fired = []
        for th in budget.thresholds:
            limit = th.limit_usd(amount)
            over = (cum > limit) if th.on == "actual" else (forecast_ok & (forecast > limit))
            hits = np.flatnonzero(over)
            if not hits.size:
                continue
            i = int(hits[0])
            crossed = None
            if th.on == "actual":
                before = cum[i - 1] if i else 0.0
                frac = min(max((limit - before) / s[i], 0.0), 1.0) if s[i] > 0 else 1.0
                crossed = _iso(index[sel[i]] + pd.Timedelta(seconds=round(frac * 3600.0, 3)))
            alert = Alert(budget=budget.name, period_start=_iso(pstart), threshold=th.label(), on=th.on,
                          limit_usd=round(limit, 6), fired_at=_iso(ends[i]), crossed_at=crossed,
                          spend_usd=round(float(cum[i]), 6),
                          forecast_usd=round(float(forecast[i]), 6) if th.on == "forecasted" else None,
                          filter=budget.filters.describe(), cost=budget.cost)
            alerts.append(alert)
            fired.append(alert.threshold)
        actual = float(cum[-1]) if cum.size else 0.0
        covered_h = len(s)
        total_h = int((pend - pstart) / hour)
        last_forecast = float(forecast[-1]) if cum.size and forecast_ok[-1] else None
        periods.append({
            "budget": budget.name, "period_start": _iso(pstart), "period_end": _iso(pend),
            "amount_usd": amount, "actual_usd": round(actual, 6),
            "actual_pct": round(100.0 * actual / amount, 3) if amount > 0 else None,
            "forecast_usd": None if last_forecast is None else round(last_forecast, 6),
            "covered_hours": covered_h, "period_hours": total_h,
            "breached": bool(actual > amount), "alerts": fired,
        })
    alerts.sort(key=lambda a: (a.fired_at, a.budget))
    return alerts, periods
