"""Views of a ledger (an smsim ledger or an imported CUR-shaped bill) that monitoring reads:
each line's cost as amortized or unblended, and each line's clock hour.

* ``unblended``: ``lineItem/UnblendedCost``, the bill as charged;
* ``amortized``: covered usage at its savings-plan effective cost, negations 0, the fee line only
  its unused commitment (``smsim/net_cost_usd`` in an smsim ledger; computed from the CUR
  savings-plan columns for an imported bill).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError

UNBLENDED = "lineItem/UnblendedCost"
AMORTIZED = "smsim/net_cost_usd"
TAG_PREFIX = "resourceTags/user:"


def line_cost(ledger: pd.DataFrame, cost: str) -> np.ndarray:
    """Each line's cost in USD as ``cost`` (``amortized`` or ``unblended``) counts it."""
    if UNBLENDED not in ledger.columns:
        raise InputError(f"the bill has no {UNBLENDED} column", path=UNBLENDED)
    if cost == "unblended":
        return ledger[UNBLENDED].to_numpy(float)
    if AMORTIZED in ledger.columns:
        return ledger[AMORTIZED].to_numpy(float)
    out = ledger[UNBLENDED].to_numpy(float).copy()
    if "lineItem/LineItemType" in ledger.columns:
        kind = ledger["lineItem/LineItemType"].astype(str).to_numpy()
        col = lambda name: ledger[name].to_numpy(float) if name in ledger.columns else np.zeros(len(ledger))  # noqa: E731
        covered = kind == "SavingsPlanCoveredUsage"
        out[covered] = col("savingsPlan/SavingsPlanEffectiveCost")[covered]
        out[kind == "SavingsPlanNegation"] = 0.0
        fee = kind == "SavingsPlanRecurringFee"
        out[fee] = (col("savingsPlan/TotalCommitmentToDate") - col("savingsPlan/UsedCommitment"))[fee]
    return out


def hour_starts(ledger: pd.DataFrame, start: pd.Timestamp | None) -> pd.DatetimeIndex:
    """Each line's clock hour (UTC): ``lineItem/UsageStartDate`` floored to the hour, else the
    clock hour containing ``start`` plus ``smsim/hour``."""
    if "lineItem/UsageStartDate" in ledger.columns:
        col = ledger["lineItem/UsageStartDate"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = pd.to_datetime(col.cat.categories.astype(str), utc=True)
            stamps = cats.take(col.cat.codes.to_numpy())
        else:
            stamps = pd.DatetimeIndex(pd.to_datetime(col.astype(str), utc=True))
        return stamps.floor("h")
    if start is None or "smsim/hour" not in ledger.columns:
        raise InputError("the bill has no lineItem/UsageStartDate column", path="lineItem/UsageStartDate")
    base = pd.Timestamp(start).tz_convert("UTC").floor("h")
    return base + pd.to_timedelta(ledger["smsim/hour"].to_numpy(np.int64), unit="h")


def read_run_ledger(folder: Path) -> pd.DataFrame:
    """The ledger of a run folder written by ``smsim run --out``."""
    folder = Path(folder)
    for name in ("ledger.parquet", "ledger.csv"):
        if (folder / name).exists():
            return pd.read_parquet(folder / name) if name.endswith("parquet") else pd.read_csv(folder / name)
    raise InputError("no ledger.parquet or ledger.csv in the run folder", file=str(folder))
