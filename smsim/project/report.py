"""Projection results: spend per calendar month with P10/P50/P90, and eligible usage.

Per path, the ledger is reduced to two small frames (in the worker, so only these cross the
process boundary):

* :func:`spend_hourly`: net cost (``smsim/net_cost_usd``, the amortized view that sums to the
  bill) per hour and resource (``lineItem/ResourceId``; ``(none)`` for lines without one, such
  as the unused part of a savings-plan fee);
* :func:`eligible_hourly`: savings-plan-eligible usage per hour and (instance type, component,
  region), at public on-demand cost, by the same rule ``smsim commit`` applies to a ledger
  (:data:`smsim.commit.usage.ELIGIBLE_CLASSES`).

Across paths, :func:`quantiles` gives mean, P10, P50 and P90 (numpy's linear interpolation).
Quantiles do not add up: the P50 of the total is not the sum of the endpoints' P50s. Months are
UTC calendar months; a month the projection covers only partly is reported for the days it
covers (``days`` says how many).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from smsim.commit.usage import CLASS_COL, ELIGIBLE_CLASSES, OD_COST_COL

QUANTILES = (10, 50, 90)
NET = "smsim/net_cost_usd"


def spend_hourly(ledger: pd.DataFrame) -> pd.DataFrame:
    """``hour, resource_id, cost_usd``: net cost per hour (from the horizon start) and resource."""
    if ledger.empty:
        return pd.DataFrame({"hour": pd.Series(dtype=np.int64), "resource_id": pd.Series(dtype=object),
                             "cost_usd": pd.Series(dtype=float)})
    rid = ledger["lineItem/ResourceId"].astype("string").fillna("(none)").replace("", "(none)")
    frame = pd.DataFrame({"hour": ledger["smsim/hour"].to_numpy(np.int64),
                          "resource_id": rid.to_numpy(dtype=object), "cost_usd": ledger[NET].to_numpy(float)})
    return frame.groupby(["hour", "resource_id"], as_index=False)["cost_usd"].sum()


def eligible_mask(ledger: pd.DataFrame) -> np.ndarray:
    """Ledger lines a SageMaker Savings Plan can cover (``smsim commit``'s rule)."""
    norm = ledger[CLASS_COL].astype(str).str.lower().str.replace(r"[^a-z]", "", regex=True)
    return norm.isin(ELIGIBLE_CLASSES).to_numpy()


def eligible_hourly(ledger: pd.DataFrame) -> pd.DataFrame:
    """``hour, instance_type, component, region, ondemand_usd`` of eligible usage."""
    cols = ["hour", "instance_type", "component", "region"]
    if ledger.empty:
        return pd.DataFrame(columns=[*cols, "ondemand_usd"])
    sub = ledger.loc[eligible_mask(ledger)]
    region = sub["product/region"] if "product/region" in sub.columns else None
    frame = pd.DataFrame({
        "hour": sub["smsim/hour"].to_numpy(np.int64),
        "instance_type": sub["smsim/instance_type"].astype(str).to_numpy(),
        "component": sub["smsim/component"].astype(str).to_numpy(),
        "region": region.astype(str).to_numpy() if region is not None else "",
        "ondemand_usd": sub[OD_COST_COL].to_numpy(float),
    })
    return frame.groupby(cols, as_index=False)["ondemand_usd"].sum()


def quantiles(values: np.ndarray) -> dict[str, float]:
    """Mean and P10/P50/P90 of per-path values."""
    v = np.asarray(values, dtype=float)
    out = {"mean": float(v.mean())}
    out.update({f"p{q}": float(np.percentile(v, q)) for q in QUANTILES})
    return out


def spend_matrix(spend: list[pd.DataFrame], start: pd.Timestamp, hours: int,
                 resource: str | None = None) -> np.ndarray:
    """``(n_paths, hours)`` spend per hour (of one resource, or all)."""
    out = np.zeros((len(spend), hours))
    for i, frame in enumerate(spend):
        f = frame if resource is None else frame[frame["resource_id"] == resource]
        h = f["hour"].to_numpy(np.int64)
        ok = (h >= 0) & (h < hours)
        np.add.at(out[i], h[ok], f["cost_usd"].to_numpy(float)[ok])
    return out


def month_labels(start: pd.Timestamp, hours: int) -> np.ndarray:
    """The UTC calendar month (``YYYY-MM``) of every hour."""
    stamps = pd.date_range(start, periods=hours, freq="h")
    return np.asarray(stamps.strftime("%Y-%m"))


def by_month(matrix: np.ndarray, months: np.ndarray) -> list[dict]:
    """Per-month spend quantiles from an ``(n_paths, hours)`` matrix."""
    rows = []
    for month in pd.unique(months):
        sel = months == month
        row = {"month": str(month), "days": round(float(sel.sum()) / 24.0, 3)}
        row.update(quantiles(matrix[:, sel].sum(axis=1)))
        rows.append(row)
    return rows


def spend_table(spend: list[pd.DataFrame], start: pd.Timestamp, hours: int,
                resources: list[str]) -> pd.DataFrame:
    """Long table: ``scope, month, days, mean, p10, p50, p90`` (scope ``total`` or a resource;
    month ``all`` for the whole projection)."""
    months = month_labels(start, hours)
    rows = []
    for scope in ["total", *resources]:
        m = spend_matrix(spend, start, hours, None if scope == "total" else scope)
        for r in by_month(m, months):
            rows.append({"scope": scope, **r})
        rows.append({"scope": scope, "month": "all", "days": round(hours / 24.0, 3), **quantiles(m.sum(axis=1))})
    return pd.DataFrame(rows, columns=["scope", "month", "days", "mean", "p10", "p50", "p90"])


def median_path(totals: np.ndarray) -> int:
    """The path whose total is the median (the lower one of the middle two for an even count)."""
    order = np.argsort(np.asarray(totals, dtype=float), kind="stable")
    return int(order[(len(order) - 1) // 2])


def eligible_usage_frame(eligible: pd.DataFrame, start: pd.Timestamp, hours: int,
                         region: str) -> pd.DataFrame:
    """``timestamp, ondemand_usd, instance_type, component, region`` for every hour of the
    projection (an hour without eligible usage is one zero row, so the series has no gaps)."""
    e = eligible[(eligible["hour"] >= 0) & (eligible["hour"] < hours)]
    missing = sorted(set(range(hours)) - set(e["hour"].tolist()))
    if missing:
        first = e.iloc[0] if len(e) else None
        pad = pd.DataFrame({"hour": missing,
                            "instance_type": first["instance_type"] if first is not None else "",
                            "component": first["component"] if first is not None else "",
                            "region": first["region"] if first is not None else region,
                            "ondemand_usd": 0.0})
        e = pd.concat([e, pad], ignore_index=True) if len(e) else pad
    e = e.sort_values(["hour", "instance_type", "component"], kind="stable")
    stamps = pd.Timestamp(start) + pd.to_timedelta(e["hour"].to_numpy(np.int64), unit="h")
    return pd.DataFrame({
        "timestamp": pd.DatetimeIndex(stamps).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ondemand_usd": e["ondemand_usd"].to_numpy(float),
        "instance_type": e["instance_type"].to_numpy(),
        "component": e["component"].to_numpy(),
        "region": e["region"].replace("", region).to_numpy(),
    })


def fan_frame(matrix: np.ndarray, start: pd.Timestamp, history: pd.Series | None = None,
              freq: str = "D") -> pd.DataFrame:
    """A fan chart frame (``mean, lo-80, hi-80, lo-95, hi-95[, history]``, DatetimeIndex) from an
    ``(n_paths, hours)`` matrix, summed per ``freq`` period; the bands are path quantiles."""
    idx = pd.date_range(start, periods=matrix.shape[1], freq="h")
    per = pd.DataFrame(matrix.T, index=idx).resample(freq).sum().T.to_numpy()
    out = pd.DataFrame({
        "mean": per.mean(axis=0),
        "lo-80": np.percentile(per, 10, axis=0), "hi-80": np.percentile(per, 90, axis=0),
        "lo-95": np.percentile(per, 2.5, axis=0), "hi-95": np.percentile(per, 97.5, axis=0),
    }, index=pd.DatetimeIndex(pd.date_range(start, periods=per.shape[1], freq=freq), name="ds"))
    if history is not None:
        hist = history.resample(freq).sum()
        out = pd.concat([pd.DataFrame({"history": hist}), out], axis=0)
        out.index.name = "ds"
    return out


__all__ = ["by_month", "eligible_hourly", "eligible_mask", "eligible_usage_frame", "fan_frame",
           "median_path", "quantiles", "spend_hourly", "spend_matrix", "spend_table"]
