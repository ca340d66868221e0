"""Reading and validating time series for forecasting.

Input is one series (a time column and a value column) or many in long format
(``unique_id, ds, y``), as CSV or Parquet. Every problem is an :class:`InputError` that names
the file, the data row (1-based, header excluded), the file line (CSV: header is line 1) and the
column, because a planner fixing a 50,000-row export needs to jump straight to the bad cell.

The output is a dict ``unique_id -> pd.Series`` with a regular ``DatetimeIndex`` carrying its
frequency. Gaps are errors unless a fill is asked for:

- ``zero``: a missing period had no traffic or spend (right for counts and costs);
- ``interpolate``: linear in time between the neighbours (right for rates such as QPS);
- ``ffill``: the last observed value carries on (right for levels such as fleet size).

Finer stamps (per-minute samples, irregular QPS samples, request events carrying a value) are
aggregated to a chosen frequency with ``agg`` (``sum`` for counts/costs, ``mean`` for rates).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError

#: Frequencies the engine knows, with their nominal step and seasonal cycles (in periods).
FREQUENCIES: dict[str, tuple[pd.Timedelta, tuple[int, ...]]] = {
    "min": (pd.Timedelta(minutes=1), (60, 1440)),
    "5min": (pd.Timedelta(minutes=5), (12, 288)),
    "15min": (pd.Timedelta(minutes=15), (4, 96)),
    "h": (pd.Timedelta(hours=1), (24, 168)),
    "D": (pd.Timedelta(days=1), (7, 365)),
    "W": (pd.Timedelta(weeks=1), (52,)),
    "MS": (pd.Timedelta(days=30), (12,)),
}
_ALIASES = {
    "t": "min", "1min": "min", "minute": "min", "minutely": "min",
    "1h": "h", "hour": "h", "hourly": "h",
    "d": "D", "1d": "D", "day": "D", "daily": "D",
    "w": "W", "1w": "W", "week": "W", "weekly": "W", "w-sun": "W",
    "ms": "MS", "m": "MS", "me": "MS", "month": "MS", "monthly": "MS",
}
FILLS = ("zero", "interpolate", "ffill")
#: Largest magnitude accepted for a value. Beyond it float64 no longer holds whole numbers
#: exactly, sums of squares head for overflow, and no request count or USD amount is that
#: large: such a value is a unit or export error, not traffic.
MAX_ABS_VALUE = 1e15
_TIME_NAMES = ("ds", "time", "timestamp", "date", "datetime", "period")
_VALUE_NAMES = ("y", "value", "values", "count", "cost", "qps", "requests")


def normalise_freq(freq: str) -> str:
    """The canonical name of ``freq`` (``"hourly"`` -> ``"h"``), or an InputError."""
    if freq in FREQUENCIES:
        return freq
    key = _ALIASES.get(freq.lower())
    if key is None:
        raise InputError(
            f"unknown frequency {freq!r}; use one of {', '.join(FREQUENCIES)}", path="--freq"
        )
    return key


def season_lengths(freq: str, n_obs: int) -> tuple[int, ...]:
    """Seasonal cycles of ``freq`` that the data covers at least twice (needed to estimate them)."""
    return tuple(m for m in FREQUENCIES[normalise_freq(freq)][1] if 2 * m <= n_obs)


@dataclass(frozen=True)
class _Located:
    """Where each row came from, to put file and line into error messages."""

    file: str
    csv: bool

    def error(self, message: str, row: int, column: str) -> InputError:
        line = row + 1 if self.csv else None
        return InputError(f"{message} (data row {row}, column {column!r})",
                          file=self.file, line=line, path=f"row {row}")


def _pick(columns: list[str], names: tuple[str, ...], what: str, where: _Located) -> str:
    lower = {c.lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    raise InputError(
        f"no {what} column; expected one of {', '.join(names)}, found {', '.join(columns)}",
        file=where.file,
    )


def detect_freq(index: pd.DatetimeIndex) -> str:
    """The engine frequency whose step matches the typical spacing of ``index``.

    The most common positive spacing decides (the smallest on a tie), so a few gaps or
    duplicates do not fool it; months are recognised by a 28-31 day spacing.
    """
    if len(index) < 2:
        raise InputError("need at least two time stamps to detect the frequency")
    diffs = pd.Series(index).diff().dropna()
    diffs = diffs[diffs > pd.Timedelta(0)]
    if diffs.empty:
        raise InputError("all time stamps are equal; cannot detect the frequency")
    if (diffs >= pd.Timedelta(days=28)).mean() > 0.5:
        step = diffs.median()
    else:
        step = diffs.mode().min()
    if pd.Timedelta(days=28) <= step <= pd.Timedelta(days=31):
        return "MS"
    for name, (nominal, _) in FREQUENCIES.items():
        if name != "MS" and step == nominal:
            return name
    if step < pd.Timedelta(minutes=1):
        return "min"
    raise InputError(
        f"cannot detect the frequency from a typical spacing of {step}; pass --freq "
        f"({', '.join(FREQUENCIES)}) to aggregate"
    )


def read_frame(path: str | Path) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame (all columns as read)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except (ValueError, OSError) as exc:  # pyarrow's errors derive from these
            raise InputError(f"not a readable Parquet file: {exc}", file=str(path)) from None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty (expected a header and data rows)",
                         file=str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file: {exc}", file=str(path)) from None


def read_series(
    path: str | Path,
    *,
    freq: str | None = None,
    fill: str | None = None,
    agg: str = "sum",
    allow_negative: bool = False,
) -> tuple[dict[str, pd.Series], str]:
    """Read, validate and regularise the series in ``path``.

    Returns ``({unique_id: series}, freq)``. Raises :class:`InputError` for an unparseable or
    missing stamp, a non-numeric or missing value, a negative value (traffic and spend cannot be
    negative unless ``allow_negative``), a duplicated stamp, a stamp off the frequency grid, or
    a gap (unless ``fill``).
    """
    frame = read_frame(path)
    where = _Located(str(path), Path(path).suffix.lower() not in (".parquet", ".pq"))
    return frame_to_series(frame, where=where, freq=freq, fill=fill, agg=agg,
                           allow_negative=allow_negative)


def frame_to_series(
    frame: pd.DataFrame,
    *,
    where: _Located | None = None,
    freq: str | None = None,
    fill: str | None = None,
    agg: str = "sum",
    allow_negative: bool = False,
) -> tuple[dict[str, pd.Series], str]:
    """:func:`read_series` for a frame already in memory."""
    where = where or _Located("<frame>", False)
    if fill is not None and fill not in FILLS:
        raise InputError(f"unknown fill {fill!r}; use one of {', '.join(FILLS)}", path="--fill")
    if agg not in ("sum", "mean"):
        raise InputError(f"unknown aggregation {agg!r}; use sum or mean", path="--agg")
    if frame.empty:
        raise InputError("no data rows", file=where.file)
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    tcol = _pick(columns, _TIME_NAMES, "time", where)
    vcol = _pick(columns, _VALUE_NAMES, "value", where)
    idcol = next((c for c in columns if c.lower() == "unique_id"), None)
    rows = np.arange(1, len(frame) + 1)

    ds = _parse_times(frame[tcol], where, tcol, rows)
    y = _parse_values(frame[vcol], where, vcol, rows, allow_negative)
    ids = frame[idcol].astype(str).to_numpy() if idcol else np.full(len(frame), "series")

    target = normalise_freq(freq) if freq else None
    out: dict[str, pd.Series] = {}
    detected: str | None = None
    for uid in pd.unique(ids):
        mask = ids == uid
        s_ds, s_y, s_rows = ds[mask], y[mask], rows[mask]
        order = np.argsort(s_ds.to_numpy(), kind="stable")
        s_ds, s_y, s_rows = s_ds[order], s_y[order], s_rows[order]
        native = detect_freq(s_ds)
        use = target or native
        if _step(native) < _step(use):
            series = _aggregate(s_ds, s_y, use, agg)
            present = pd.Series(s_rows, index=s_ds.floor(_grid(use))
                                if use != "MS" else s_ds.to_period("M").to_timestamp())
            series = _regularise(series, use, where, vcol, fill, present.groupby(level=0).min())
        else:
            if _step(native) > _step(use):
                raise InputError(
                    f"series {uid!r} is {native} but --freq asks for the finer {use}; "
                    "forecast at the data's own frequency or coarser", file=where.file)
            series = _check_grid(s_ds, s_y, s_rows, use, where, tcol)
            series = _regularise(series, use, where, vcol, fill,
                                 pd.Series(s_rows, index=series.index))
        series.name = str(uid)
        out[str(uid)] = series
        detected = detected or use
    assert detected is not None
    return out, detected


def _step(freq: str) -> pd.Timedelta:
    return FREQUENCIES[freq][0]


def _grid(freq: str) -> str:
    return {"W": "7D"}.get(freq, freq)


#: The span of nanosecond time stamps, with room for a horizon after the last one.
_EARLIEST, _LATEST = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")


def _parse_times(col: pd.Series, where: _Located, name: str, rows: np.ndarray) -> pd.DatetimeIndex:
    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = pd.to_datetime(col)
    else:
        text = col.astype(str).str.strip()
        numeric = pd.to_numeric(text, errors="coerce")
        if numeric.notna().all():
            # epoch seconds (as in the Alibaba traces); beyond 1677-2262 is unreadable (NaT)
            parsed = pd.to_datetime(numeric, unit="s", errors="coerce")
        else:
            parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise where.error(f"cannot read time stamp {str(col.iloc[i])!r}", int(rows[i]), name)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    outside = ((parsed < _EARLIEST) | (parsed > _LATEST)).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        raise where.error(f"time stamp {str(col.iloc[i])!r} is outside the years 1678-2261",
                          int(rows[i]), name)
    return pd.DatetimeIndex(parsed.astype("datetime64[ns]"))


def _parse_values(col: pd.Series, where: _Located, name: str, rows: np.ndarray,
                  allow_negative: bool) -> np.ndarray:
    values = pd.to_numeric(col.astype(str).str.strip() if col.dtype == object or
                           pd.api.types.is_string_dtype(col) else col, errors="coerce")
    values = values.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise where.error(f"value {str(col.iloc[i])!r} is not a number", int(rows[i]), name)
    huge = np.abs(values) > MAX_ABS_VALUE
    if huge.any():
        i = int(np.argmax(huge))
        raise where.error(f"value {values[i]:g} is beyond the {MAX_ABS_VALUE:g} smsim accepts "
                          "(check the column's units)", int(rows[i]), name)
    if not allow_negative and (values < 0).any():
        i = int(np.argmax(values < 0))
        raise where.error(
            f"value {values[i]:g} is negative; traffic and spend cannot be "
            "(pass --allow-negative for series that can)", int(rows[i]), name)
    return values


def _check_grid(ds: pd.DatetimeIndex, y: np.ndarray, rows: np.ndarray, freq: str,
                where: _Located, tcol: str) -> pd.Series:
    dup = ds.duplicated()
    if dup.any():
        i = int(np.argmax(dup))
        first = int(rows[int(np.argmax(ds == ds[i]))])
        raise where.error(f"duplicate time stamp {ds[i]} (first seen in data row {first})",
                          int(rows[i]), tcol)
    if freq == "MS":
        on_grid = ds == ds.to_period("M").to_timestamp() + (ds[0] - ds[:1].to_period("M")
                                                            .to_timestamp()[0])
    else:
        on_grid = ((ds - ds[0]) % _step(freq)) == pd.Timedelta(0)
    if not np.all(on_grid):
        i = int(np.argmax(~np.asarray(on_grid)))
        raise where.error(f"time stamp {ds[i]} is off the {freq} grid started at {ds[0]}",
                          int(rows[i]), tcol)
    return pd.Series(y, index=ds)


def _aggregate(ds: pd.DatetimeIndex, y: np.ndarray, freq: str, agg: str) -> pd.Series:
    s = pd.Series(y, index=ds)
    rule = "MS" if freq == "MS" else _grid(freq)
    grouped = s.resample(rule)
    out = grouped.sum(min_count=1) if agg == "sum" else grouped.mean()
    return out


def _regularise(series: pd.Series, freq: str, where: _Located, vcol: str,
                fill: str | None, rows: pd.Series) -> pd.Series:
    """Put ``series`` on a complete grid; a missing period is an error unless ``fill`` says how."""
    if freq == "MS":
        full = pd.date_range(series.index[0], series.index[-1], freq=pd.DateOffset(months=1))
    else:
        full = pd.date_range(series.index[0], series.index[-1], freq=_step(freq))
    series = series.reindex(full)
    missing = series.isna().to_numpy()
    if missing.any():
        if fill is None:
            i = int(np.argmax(missing))
            after = rows[rows.index > full[i]]
            row = int(after.iloc[0]) if len(after) else int(rows.iloc[-1])
            n_missing = int(missing.sum())
            raise where.error(
                f"gap: no value for {full[i]} ({n_missing} missing period(s) in all) before this "
                "row; pass --fill zero|interpolate|ffill to fill gaps", row, vcol)
        if fill == "zero":
            series = series.fillna(0.0)
        elif fill == "ffill":
            series = series.ffill()
        else:
            series = series.interpolate(method="time")
    series = series.astype(float)
    series.index = pd.DatetimeIndex(series.index, freq=_offset(freq))
    return series


def _offset(freq: str):
    return pd.DateOffset(months=1) if freq == "MS" else pd.tseries.frequencies.to_offset(
        _step(freq))


def future_index(index: pd.DatetimeIndex, freq: str, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` stamps after the last one of ``index``."""
    last = index[-1]
    if freq == "MS":
        return pd.DatetimeIndex([last + pd.DateOffset(months=k) for k in range(1, horizon + 1)])
    return pd.date_range(last + _step(freq), periods=horizon, freq=_step(freq))


def parse_horizon(text: str | int, freq: str) -> int:
    """Periods ahead from ``"24"`` (periods) or a duration such as ``"90d"``, ``"12h"``, ``"8w"``."""
    if isinstance(text, int):
        value = text
    else:
        raw = str(text).strip().lower()
        if raw.isdigit():
            value = int(raw)
        else:
            unit = raw.lstrip("0123456789.")
            number = raw[: len(raw) - len(unit)]
            units = {"min": "min", "m": "min", "h": "h", "d": "D", "w": "W", "mo": "MS",
                     "month": "MS", "months": "MS", "y": "Y"}
            if not number or unit not in units:
                raise InputError(f"horizon {text!r} is neither a number of periods nor a "
                                 "duration like 90d, 12h, 8w, 3mo", path="--horizon")
            n = float(number)
            if units[unit] == "MS" or units[unit] == "Y":
                months = n * (12 if units[unit] == "Y" else 1)
                days = months * 30.436875
            else:
                days = n * FREQUENCIES[units[unit]][0] / pd.Timedelta(days=1)
            per = FREQUENCIES[freq][0] / pd.Timedelta(days=1)
            if freq == "MS":
                per = 30.436875
            value = int(round(days / per))
    if value < 1:
        raise InputError(f"horizon {text!r} is less than one {freq} period", path="--horizon")
    return value
