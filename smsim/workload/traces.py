"""Readers for user traces in CSV, Parquet or JSON Lines: one row per request, or counts per interval.

Columns are found by common names (see ``*_NAMES``; matching ignores case, ``_``, ``-`` and
spaces) unless named explicitly in :class:`TraceColumns`. Timestamps may be datetime strings
(naive ones are UTC), epoch numbers (s, ms, us or ns; the unit is guessed from the column name
suffix or the magnitude) or offsets in seconds from the trace start (``time_unit`` says
otherwise). Absolute times are re-based so the trace starts at 0 at its first row, or at a
given ``origin`` datetime; offsets are kept as they are.

Every problem is an :class:`~smsim.errors.InputError` naming the file, the 1-based data row
(``path``), the file line for text formats (``line``; the header is line 1) and the column.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from smsim.errors import InputError, did_you_mean
from smsim.spec import StrictModel
from smsim.workload.request_trace import CountTrace, RequestTrace

TIME_NAMES = ("timestamp", "time", "ts", "arrival_time", "arrival_s", "arrival", "datetime",
              "timestamp_ms", "time_ms", "timestamp_s", "created_at", "request_time", "start_time")
INPUT_NAMES = ("input_tokens", "ContextTokens", "prompt_tokens", "input_length", "num_input_tokens")
OUTPUT_NAMES = ("output_tokens", "GeneratedTokens", "completion_tokens", "output_length",
                "num_output_tokens")
PAYLOAD_NAMES = ("payload_bytes", "request_bytes", "payload_size", "size_bytes", "bytes",
                 "content_length")
MODEL_NAMES = ("model", "model_name", "model_id", "target_model", "variant")
COUNT_NAMES = ("count", "counts", "invocations", "Invocations", "requests", "num_requests",
               "n_requests", "request_count", "sum")
RATE_NAMES = ("qps", "rps", "rate", "rate_per_s", "requests_per_s", "requests_per_second")

#: A count trace whose rate within one interval exceeds this (requests per second) is refused:
#: ten million per second is far beyond any endpoint fleet, so such a row is a unit or export error
#: (and turning it into arrival times would not fit in memory).
MAX_TRACE_RATE_PER_S = 1e7

#: Numeric timestamps (epoch or offset seconds) beyond this are refused: 1e10 s is the year 2286
#: as an epoch time and 317 years as an offset, so such a value is a unit or export error.
MAX_TRACE_TIME_S = 1e10

TimeUnit = Literal["auto", "datetime", "s", "ms", "us", "ns"]
Format = Literal["auto", "csv", "parquet", "jsonl"]
_UNIT_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


class TraceColumns(StrictModel):
    """Explicit column names; ``None`` means find it by its common names."""

    time: str | None = None
    input_tokens: str | None = None
    output_tokens: str | None = None
    payload_bytes: str | None = None
    model: str | None = None
    count: str | None = Field(None, description="requests per interval (count traces)")
    rate: str | None = Field(None, description="requests per second per interval (count traces)")


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", str(name)).lower()


class _Table:
    """A loaded table with what is needed to point at a row in the file."""

    def __init__(self, path: Path, frame: pd.DataFrame, header_lines: int | None) -> None:
        self.path = path
        self.frame = frame
        self.header_lines = header_lines  # None for binary formats

    def error(self, message: str, row_index: int | None = None, column: str | None = None) -> InputError:
        """``row_index`` is 0-based; reported as the 1-based data row and file line."""
        where = []
        line = None
        if row_index is not None:
            where.append(f"row {row_index + 1}")
            if self.header_lines is not None:
                line = row_index + 1 + self.header_lines
        if column is not None:
            where.append(f"column {column!r}")
        return InputError(message, file=str(self.path), line=line, path=", ".join(where) or None)

    def find(self, override: str | None, names: tuple[str, ...], what: str, *, required: bool) -> str | None:
        columns = [str(c) for c in self.frame.columns]
        if override is not None:
            if override in columns:
                return override
            raise self.error(
                f"no column {override!r} for {what}; columns are {', '.join(columns)}"
                + did_you_mean(override, columns)
            )
        by_norm = {_norm(c): c for c in columns}
        for name in names:
            if _norm(name) in by_norm:
                return by_norm[_norm(name)]
        if required:
            raise self.error(
                f"no {what} column: expected one of {', '.join(names)} (or name it explicitly); "
                f"columns are {', '.join(columns)}"
            )
        return None


def _detect_format(path: Path, fmt: Format) -> str:
    if fmt != "auto":
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if ".jsonl" in suffixes or ".ndjson" in suffixes:
        return "jsonl"
    return "csv"


def read_table(path: str | Path, fmt: Format = "auto") -> _Table:
    """Load a trace file into a DataFrame; refuses missing, empty and header-only files."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"trace file not found: {path}", file=str(path))
    kind = _detect_format(path, fmt)
    try:
        if kind == "parquet":
            frame, header = pd.read_parquet(path), None
        elif kind == "jsonl":
            frame, header = pd.read_json(path, lines=True), 0
        else:
            frame, header = pd.read_csv(path, skipinitialspace=True), 1
    except pd.errors.EmptyDataError:
        raise InputError("the trace file is empty", file=str(path)) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the trace as {kind}: {exc}", file=str(path)) from None
    if frame.empty:
        raise InputError("the trace file has no data rows", file=str(path))
    return _Table(path, frame, header)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _parse_times(table: _Table, col: str, unit: TimeUnit) -> tuple[np.ndarray, bool]:
    """Seconds as float64 (epoch seconds when absolute) and whether they are absolute times."""
    series = table.frame[col]
    missing = series.isna().to_numpy()
    if missing.any():
        raise table.error("missing timestamp", _first_bad(missing), col)
    if pd.api.types.is_numeric_dtype(series) and unit != "datetime":
        values = series.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise table.error("timestamp is not finite", _first_bad(~np.isfinite(values)), col)
        if unit == "auto":
            suffix = re.search(r"_(ms|us|ns|s)$", col.lower())
            if suffix:
                unit = suffix.group(1)
            else:
                low = float(np.min(values))
                unit = "ns" if low >= 1e17 else "us" if low >= 1e14 else "ms" if low >= 1e11 else "s"
        seconds = values * _UNIT_S[unit]
        far = np.abs(seconds) > MAX_TRACE_TIME_S
        if far.any():
            i = _first_bad(far)
            raise table.error(f"timestamp {values[i]:g} (unit {unit}) is more than {MAX_TRACE_TIME_S:g} s, about "
                              "300 years, from 1970 or from 0 (a unit or export error?)", i, col)
        return seconds, float(np.min(seconds)) >= 1e8  # after 1973-03-03: epoch, not an offset
    text = series.astype("string")
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    if parsed.isna().any():
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = _first_bad(bad)
        raise table.error(f"cannot parse timestamp {text.iloc[i]!r}", i, col)
    ns = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return ns / 1e9, True


def _values(table: _Table, col: str, what: str) -> np.ndarray:
    series = table.frame[col]
    try:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise table.error(f"{what} must be numbers", None, col) from None
    bad = ~np.isfinite(values)
    if bad.any():
        i = _first_bad(bad)
        raw = series.iloc[i]
        problem = "is missing" if pd.isna(raw) else f"is not a finite number ({str(raw)!r})"
        raise table.error(f"{what} {problem}", i, col)
    if (values < 0).any():
        i = _first_bad(values < 0)
        raise table.error(f"{what} must be >= 0, found {values[i]:g}", i, col)
    return values


def _order(table: _Table, seconds: np.ndarray, col: str, sort: bool) -> np.ndarray:
    """Row order that sorts the times; an error on the first out-of-order row unless ``sort``."""
    back = np.diff(seconds) < 0
    if not back.any():
        return np.arange(seconds.size)
    if not sort:
        i = _first_bad(back) + 1
        raise table.error(
            f"timestamps are not sorted: this row is {seconds[i - 1] - seconds[i]:.6g} s earlier "
            f"than row {i} (pass sort: true to sort the trace)", i, col)
    return np.argsort(seconds, kind="stable")


def _rebase(table: _Table, seconds: np.ndarray, absolute: bool, col: str,
            origin: Literal["auto", "first", "zero"] | datetime) -> tuple[np.ndarray, datetime | None]:
    if isinstance(origin, datetime):
        if not absolute:
            raise table.error("an origin datetime needs absolute timestamps, not offsets", None, col)
        o = origin if origin.tzinfo else origin.replace(tzinfo=UTC)
        zero = o.timestamp()
    elif origin == "first" or (origin == "auto" and absolute):
        zero = float(np.min(seconds))
    else:
        zero = 0.0
    offsets = seconds - zero
    if (offsets < 0).any():
        i = _first_bad(offsets < 0)
        raise table.error(f"timestamp is {-offsets[i]:.6g} s before the trace origin", i, col)
    start = datetime.fromtimestamp(zero, UTC) if absolute else None
    return offsets, start


def read_request_trace(
    path: str | Path,
    *,
    format: Format = "auto",
    columns: TraceColumns | None = None,
    time_unit: TimeUnit = "auto",
    sort: bool = False,
    origin: Literal["auto", "first", "zero"] | datetime = "auto",
    duration_s: float | None = None,
) -> RequestTrace:
    """A :class:`RequestTrace` from a file with one row per request.

    ``duration_s`` defaults to the last arrival plus the mean inter-arrival gap, so that
    tiling the trace keeps its mean rate; an explicit one must exceed the last arrival.
    """
    cols = columns or TraceColumns()
    table = read_table(path, format)
    tcol = table.find(cols.time, TIME_NAMES, "timestamp", required=True)
    seconds, absolute = _parse_times(table, tcol, time_unit)
    attrs: dict[str, np.ndarray] = {}
    for name, names in (("input_tokens", INPUT_NAMES), ("output_tokens", OUTPUT_NAMES),
                        ("payload_bytes", PAYLOAD_NAMES)):
        c = table.find(getattr(cols, name), names, name, required=False)
        if c is not None:
            attrs[name] = _values(table, c, name.replace("_", " "))
    attrs["source_row"] = np.arange(len(table.frame), dtype=np.float64)
    mcol = table.find(cols.model, MODEL_NAMES, "model", required=False)
    models: tuple[str, ...] = ()
    if mcol is not None:
        series = table.frame[mcol]
        if series.isna().any():
            raise table.error("missing model name", _first_bad(series.isna().to_numpy()), mcol)
        codes, uniques = pd.factorize(series.astype("string"), sort=True)
        attrs["model_index"] = codes
        models = tuple(str(u) for u in uniques)
    order = _order(table, seconds, tcol, sort)
    offsets, start = _rebase(table, seconds[order], absolute, tcol, origin)
    n = offsets.size
    last = float(offsets[-1])
    if duration_s is None:
        gap = (last - float(offsets[0])) / (n - 1) if n > 1 else 0.0
        duration = last + (gap if gap > 0 else 1.0)
    else:
        duration = float(duration_s)
        if duration <= last:
            raise table.error(f"duration_s={duration:g} does not cover the last arrival at {last:g} s")
    return RequestTrace(offsets, duration, models=models, start=start,
                        **{k: v[order] for k, v in attrs.items()})


def read_count_trace(
    path: str | Path,
    *,
    format: Format = "auto",
    columns: TraceColumns | None = None,
    time_unit: TimeUnit = "auto",
    interval_s: float | None = None,
    contiguous: bool = False,
    duplicates: Literal["error", "sum"] = "error",
    sort: bool = False,
) -> CountTrace:
    """A :class:`CountTrace` from a file of counts (or rates) per interval.

    Each row's timestamp labels the start of its interval (the CloudWatch convention); the
    trace starts at the first row. ``interval_s`` defaults to the most common spacing of the
    timestamps. Missing intervals are zero (CloudWatch writes no datapoint for an idle minute)
    unless ``contiguous``, which makes any gap an error. A column of rates (requests/s, e.g.
    ``qps``) is turned into counts by multiplying by the interval. Several rows at one time
    (per model when there is a model column) are an error unless ``duplicates="sum"``.
    """
    cols = columns or TraceColumns()
    table = read_table(path, format)
    tcol = table.find(cols.time, TIME_NAMES, "timestamp", required=True)
    seconds, absolute = _parse_times(table, tcol, time_unit)
    if cols.rate is not None:
        vcol, is_rate = table.find(cols.rate, RATE_NAMES, "rate", required=True), True
    else:
        vcol = table.find(cols.count, COUNT_NAMES, "count", required=cols.count is not None)
        is_rate = False
        if vcol is None:
            vcol = table.find(None, RATE_NAMES, "rate", required=False)
            is_rate = vcol is not None
        if vcol is None:
            raise table.error(
                f"no count column: expected one of {', '.join(COUNT_NAMES + RATE_NAMES)} "
                f"(or name it explicitly); columns are {', '.join(map(str, table.frame.columns))}")
    values = _values(table, vcol, "rate" if is_rate else "count")
    mcol = table.find(cols.model, MODEL_NAMES, "model", required=False)
    order = _order(table, seconds, tcol, sort)
    seconds, values = seconds[order], values[order]
    offsets = seconds - seconds[0]
    distinct = np.unique(offsets)
    if interval_s is None:
        steps, freq = np.unique(np.round(np.diff(distinct), 9), return_counts=True)
        if steps.size == 0:
            raise table.error("cannot infer the interval from a single timestamp; give interval_s")
        interval_s = float(steps[np.argmax(freq)])
    k_float = offsets / interval_s
    k = np.rint(k_float).astype(np.int64)
    off_grid = np.abs(k_float - k) > 1e-6
    if off_grid.any():
        i = int(order[_first_bad(off_grid)])
        raise table.error(f"timestamp is not on the {interval_s:g}-s interval grid starting at the first row", i, tcol)
    per_s = values if is_rate else values / interval_s
    if (per_s > MAX_TRACE_RATE_PER_S).any():
        i = _first_bad(per_s > MAX_TRACE_RATE_PER_S)
        what = f"rate {values[i]:g}/s" if is_rate else f"count {values[i]:g} in a {interval_s:g}-s interval"
        raise table.error(f"{what} is {per_s[i]:.3g} requests/s, above the {MAX_TRACE_RATE_PER_S:g}/s smsim "
                          "accepts (a unit or export error?)", int(order[i]), vcol)
    if contiguous:
        jump = np.diff(k) > 1
        if jump.any():
            j = _first_bad(jump) + 1
            raise table.error(
                f"gap of {int(k[j] - k[j - 1] - 1)} missing interval(s) of {interval_s:g} s before this row "
                f"(contiguous counts were required)", int(order[j]), tcol)
    if mcol is not None:
        codes, uniques = pd.factorize(table.frame[mcol].astype("string").to_numpy()[order], sort=True)
        if (codes < 0).any():
            raise table.error("missing model name", int(order[_first_bad(codes < 0)]), mcol)
        models = tuple(str(u) for u in uniques)
    else:
        codes, models = np.zeros(k.size, dtype=np.int64), ()
    key = codes * (int(k[-1]) + 1 if k.size else 1) + k
    if duplicates == "error":
        uniq, _first_idx, cnt = np.unique(key, return_index=True, return_counts=True)
        if (cnt > 1).any():
            dup_keys = uniq[cnt > 1]
            rows = np.flatnonzero(np.isin(key, dup_keys))
            i = int(order[rows[1]]) if rows.size > 1 else int(order[rows[0]])
            raise table.error("two rows for the same interval" + (" and model" if mcol else "")
                              + " (pass duplicates: sum to add them)", i, tcol)
    n = int(k[-1]) + 1
    counts_by_model = np.zeros((max(1, len(models)), n))
    np.add.at(counts_by_model, (codes, k), values * (interval_s if is_rate else 1.0))
    start = datetime.fromtimestamp(float(seconds[0]), UTC) if absolute else None
    return CountTrace(
        interval_s=interval_s,
        counts=counts_by_model.sum(axis=0),
        models=models,
        model_counts=counts_by_model if models else None,
        start=start,
    )
