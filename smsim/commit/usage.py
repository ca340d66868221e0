"""Reading a source into the hourly SP-eligible usage, valued at on-demand prices.

A SageMaker Savings Plan is sized against *eligible* usage: SageMaker ML-instance hours in the
on-demand market (including hours existing plans already cover), valued at public on-demand
prices. Spot, serverless, storage and data transfer are not eligible. Sources:

- a run directory: ``ledger.parquet`` (from ``smsim run --out``) or ``eligible_usage.csv``
  (from ``smsim project --out``);
- a CUR-shaped ledger (Parquet or CSV) with ``lineItem/UsageStartDate`` and
  ``pricing/publicOnDemandCost`` (eligibility from ``smsim/pricing_class`` or, for a real AWS
  CUR, ``lineItem/LineItemType`` + ``lineItem/UsageType``); hours without rows have no usage;
- a usage CSV with ``timestamp, ondemand_usd`` and optionally ``instance_type, component,
  region`` (so catalog SP rates can apply). Rows of one hour with different instance types,
  components or regions are summed; two rows for the same hour (and the same mix columns) are
  an error unless ``sum_duplicates`` (a double export is more common than a deliberate split);
  a missing hour is an error, since a usage series should say 0 where there was none.

The result keeps the mix of (instance_type, component, region) with its on-demand USD, which
:mod:`smsim.commit.adapters` turns into an effective discount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError
from smsim.forecast.series import MAX_ABS_VALUE

TIME_COL = "lineItem/UsageStartDate"
OD_COST_COL = "pricing/publicOnDemandCost"
UNBLENDED_COL = "lineItem/UnblendedCost"
CLASS_COL = "smsim/pricing_class"
COMPONENT_COL = "smsim/component"
USAGE_TYPE_COL = "lineItem/UsageType"
LINE_TYPE_COL = "lineItem/LineItemType"
MIX_COLS = ("instance_type", "component", "region")

#: ``smsim/pricing_class`` values (lower case, letters only) that a SageMaker SP can cover.
ELIGIBLE_CLASSES = frozenset({"ondemand", "savingsplan", "savingsplancovered", "savingsplancoveredusage", "sp"})
#: CUR line-item types of instance usage (before or after SP coverage).
ELIGIBLE_LINE_TYPES = frozenset({"Usage", "SavingsPlanCoveredUsage"})
_USAGE_TYPE_RE = re.compile(r"^(?P<prefix>[A-Z0-9]+)-(?P<token>[A-Za-z]+)(:JupyterLab-|:)(?P<instance>ml\.[\w.]+)$")


@dataclass(frozen=True)
class EligibleUsage:
    """Hourly eligible usage (on-demand USD per clock hour, UTC, no gaps) and its instance mix.

    ``mix`` has columns instance_type, component, region, ondemand_usd (None when the source did
    not say what ran).
    """

    hourly_usd: pd.Series
    mix: pd.DataFrame | None
    source: str


def _fail(message: str, file: str, row: int | None = None, column: str | None = None) -> InputError:
    where = f"row {row}" if row is not None else None
    if column:
        where = f"{where}, column {column!r}" if where else f"column {column!r}"
    return InputError(message, file=file, line=None, path=where)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, ImportError) as exc:  # unreadable file: say which and why
        raise InputError(f"cannot read as a table: {exc}", file=str(path)) from None


def _times(col: pd.Series, file: str, name: str) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(col, utc=True, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        raise _fail(f"cannot read {col.iloc[bad[0]]!r} as a timestamp", file, int(bad[0]) + 1, name)
    return pd.DatetimeIndex(parsed)


def _amounts(col: pd.Series, file: str, name: str) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise _fail(f"expected a number of USD, found {col.iloc[bad[0]]!r}", file, int(bad[0]) + 1, name)
    huge = np.flatnonzero(values > MAX_ABS_VALUE)
    if len(huge):
        raise _fail(f"{values[huge[0]]:g} USD is beyond the {MAX_ABS_VALUE:g} smsim accepts "
                    "(check the column's units)", file, int(huge[0]) + 1, name)
    neg = np.flatnonzero(values < 0)
    if len(neg):
        raise _fail(f"usage cannot be negative, found {values[neg[0]]}", file, int(neg[0]) + 1, name)
    return values


def _hourly(times: pd.DatetimeIndex, usd: np.ndarray, file: str, fill_gaps: bool, tcol: str) -> pd.Series:
    off = np.flatnonzero(times != times.floor("h"))
    if len(off):
        raise _fail(f"timestamp {times[off[0]].isoformat()} is not on a clock hour", file, int(off[0]) + 1, tcol)
    series = pd.Series(usd, index=times).groupby(level=0).sum().sort_index()
    full = pd.date_range(series.index[0], series.index[-1], freq="h")
    if len(full) != len(series):
        if not fill_gaps:
            missing = full.difference(series.index)
            raise _fail(
                f"the hourly series has {len(missing)} missing hour(s), first {missing[0].isoformat()}; "
                "write 0 for hours without usage", file, None, tcol,
            )
        series = series.reindex(full, fill_value=0.0)
    series.index = pd.DatetimeIndex(series.index, freq="h")
    series.name = "ondemand_usd"
    return series


def _mix(frame: pd.DataFrame, usd: np.ndarray) -> pd.DataFrame | None:
    if not all(c in frame.columns for c in MIX_COLS):
        return None
    mix = frame[list(MIX_COLS)].astype(str).assign(ondemand_usd=usd)
    return mix.groupby(list(MIX_COLS), as_index=False)["ondemand_usd"].sum()


def _check_duplicates(frame: pd.DataFrame, times: pd.DatetimeIndex, file: str) -> None:
    """Refuse two rows for the same hour and the same instance type, component and region."""
    keys = pd.DataFrame({"timestamp": times.floor("h")})
    for col in MIX_COLS:
        if col in frame.columns:
            keys[col] = frame[col].astype(str).to_numpy()
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    first = int(np.argmax(dup))
    same = keys.iloc[first]
    rows = np.flatnonzero(dup & (keys == same).all(axis=1).to_numpy()) + 1
    shown = ", ".join(str(r) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
    n_hours = int(keys[dup].drop_duplicates().shape[0])
    raise _fail(
        f"hour {times[first].isoformat()} appears in rows {shown}"
        + (f" ({n_hours} duplicated hours in all)" if n_hours > 1 else "")
        + "; pass --sum-duplicates to add such rows up, or remove the repeats", file, int(rows[1]),
        "timestamp")


def read_usage_csv(frame: pd.DataFrame, file: str, sum_duplicates: bool = False) -> EligibleUsage:
    """A ``timestamp, ondemand_usd[, instance_type, component, region]`` table.

    Two rows for the same hour and mix are an :class:`InputError` unless ``sum_duplicates``.
    """
    for col in ("timestamp", "ondemand_usd"):
        if col not in frame.columns:
            raise _fail(f"missing column {col!r} (found {', '.join(map(str, frame.columns))})", file, None, col)
    if frame.empty:
        raise _fail("no data rows", file)
    times = _times(frame["timestamp"], file, "timestamp")
    usd = _amounts(frame["ondemand_usd"], file, "ondemand_usd")
    if not sum_duplicates:
        _check_duplicates(frame, times, file)
    return EligibleUsage(_hourly(times, usd, file, False, "timestamp"), _mix(frame, usd), file)


def _parse_usage_types(usage_types: pd.Series) -> pd.DataFrame:
    parts = usage_types.astype(str).str.extract(_USAGE_TYPE_RE)
    from smsim.commit.adapters import component_of_token, region_of_prefix

    return pd.DataFrame({
        "instance_type": parts["instance"],
        "component": parts["token"].map(component_of_token),
        "region": parts["prefix"].map(region_of_prefix),
    })


def read_ledger(frame: pd.DataFrame, file: str) -> EligibleUsage:
    """Eligible instance usage of a CUR-shaped ledger, hourly, at public on-demand cost."""
    if TIME_COL not in frame.columns:
        raise _fail(f"missing column {TIME_COL!r}; is this a ledger?", file, None, TIME_COL)
    if CLASS_COL in frame.columns:
        norm = frame[CLASS_COL].astype(str).str.lower().str.replace(r"[^a-z]", "", regex=True)
        eligible = norm.isin(ELIGIBLE_CLASSES).to_numpy()
    elif LINE_TYPE_COL in frame.columns and USAGE_TYPE_COL in frame.columns:
        eligible = (frame[LINE_TYPE_COL].isin(ELIGIBLE_LINE_TYPES)
                    & frame[USAGE_TYPE_COL].astype(str).str.contains(r":(?:JupyterLab-)?ml\.", regex=True)
                    & ~frame[USAGE_TYPE_COL].astype(str).str.contains("TrSpt", regex=False)).to_numpy()
    else:
        raise _fail(f"missing column {CLASS_COL!r} (or {LINE_TYPE_COL!r} and {USAGE_TYPE_COL!r}) "
                    "to tell eligible usage apart", file, None, CLASS_COL)
    cost_col = OD_COST_COL if OD_COST_COL in frame.columns else None
    if cost_col is None:
        raise _fail(f"missing column {OD_COST_COL!r}: savings plans are sized on on-demand-equivalent cost",
                    file, None, OD_COST_COL)
    times_all = _times(frame[TIME_COL], file, TIME_COL)
    usd_all = _amounts(frame[cost_col], file, cost_col)
    sub = frame.loc[eligible]
    if not eligible.any():
        raise _fail("no SP-eligible usage (on-demand SageMaker instance hours) in the ledger", file)
    usd = usd_all[eligible]
    times = times_all[eligible]
    series = _hourly(times, usd, file, True, TIME_COL)
    # hours of the ledger with no eligible usage still belong to the series
    full = pd.date_range(min(series.index[0], times_all.min().floor("h")),
                         max(series.index[-1], times_all.max().floor("h")), freq="h")
    series = series.reindex(full, fill_value=0.0)
    series.index = pd.DatetimeIndex(series.index, freq="h")
    series.name = "ondemand_usd"
    if USAGE_TYPE_COL in sub.columns:
        parsed = _parse_usage_types(sub[USAGE_TYPE_COL])
        if COMPONENT_COL in sub.columns:
            parsed["component"] = sub[COMPONENT_COL].astype(str).to_numpy()
        for col in ("product/region", "smsim/region"):
            if col in sub.columns:
                parsed["region"] = sub[col].astype(str).to_numpy()
        mix = None if parsed.isna().any().any() else _mix(parsed, usd)
    else:
        mix = None
    return EligibleUsage(series, mix, file)


def read_usage(source: str | Path, sum_duplicates: bool = False) -> EligibleUsage:
    """Eligible hourly usage from a run directory, a ledger or a usage CSV (see the module doc).

    ``sum_duplicates`` lets a usage CSV repeat an hour (the rows are added up).
    """
    path = Path(source)
    if path.is_dir():
        for name in ("ledger.parquet", "ledger.csv", "eligible_usage.csv"):
            if (path / name).exists():
                return read_usage(path / name, sum_duplicates)
        raise InputError("directory holds neither ledger.parquet nor eligible_usage.csv", file=str(path))
    if not path.exists():
        raise InputError("file not found", file=str(path))
    frame = _read_table(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    if TIME_COL in frame.columns:
        return read_ledger(frame, str(path))
    return read_usage_csv(frame, str(path), sum_duplicates)


def usage_from_series(hourly_usd: pd.Series | np.ndarray, start: str = "2026-01-01") -> EligibleUsage:
    """Wrap an in-memory hourly series (a numpy array gets an hourly UTC index from ``start``)."""
    if isinstance(hourly_usd, pd.Series) and isinstance(hourly_usd.index, pd.DatetimeIndex):
        series = hourly_usd.astype(float)
    else:
        values = np.asarray(hourly_usd, dtype=float)
        series = pd.Series(values, index=pd.date_range(start, periods=len(values), freq="h", tz="UTC"))
    values = series.to_numpy()
    if len(values) == 0:
        raise InputError("usage series is empty")
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values > MAX_ABS_VALUE))
    if len(bad):
        raise InputError(f"usage must be finite, >= 0 and <= {MAX_ABS_VALUE:g} USD; hour "
                         f"{int(bad[0])} has {values[bad[0]]}")
    return EligibleUsage(series, None, "<series>")
