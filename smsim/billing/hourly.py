"""Splitting usage records at clock-hour boundaries, the way a Cost and Usage Report is hourly.

Hours are UTC clock hours: when the horizon starts at 10:30, the first piece of a record starting
at 0 s ends at 1800 s. Instance and storage records are prorated per second; an ``amount`` record
is spread uniformly over ``[start_s, end_s]`` (all of it in the hour of ``start_s`` when the two are
equal). Pieces are returned as flat numpy arrays: no per-piece Python work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from smsim.units import HOUR


@dataclass(frozen=True)
class HourlyPieces:
    """One row per (record, clock hour) with usage in that hour."""

    record: np.ndarray  # index into the usage frame
    hour: np.ndarray  # clock-hour index; hour 0 starts at the clock hour containing the horizon start
    start_s: np.ndarray  # piece start, seconds from the horizon start
    end_s: np.ndarray
    fraction: np.ndarray  # share of the record's quantity (amount records) falling in this piece


def phase_s(horizon_start: datetime) -> float:
    """Seconds between the clock hour containing ``horizon_start`` and ``horizon_start``."""
    start = as_utc(horizon_start)
    return start.minute * 60.0 + start.second + start.microsecond / 1e6


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def split_hourly(start_s: np.ndarray, end_s: np.ndarray, phase: float) -> HourlyPieces:
    """Cut each ``[start_s, end_s]`` at clock-hour boundaries (``phase`` s after horizon start = hour 0 + phase)."""
    start_abs = np.asarray(start_s, dtype=float) + phase
    end_abs = np.asarray(end_s, dtype=float) + phase
    first = np.floor(start_abs / HOUR).astype(np.int64)
    last = np.where(end_abs > start_abs, np.ceil(end_abs / HOUR).astype(np.int64) - 1, first)
    last = np.maximum(last, first)
    counts = last - first + 1
    record = np.repeat(np.arange(len(start_abs)), counts)
    offsets = np.cumsum(counts) - counts
    hour = first[record] + (np.arange(counts.sum()) - offsets[record])
    piece_start = np.maximum(start_abs[record], hour * HOUR)
    piece_end = np.minimum(end_abs[record], (hour + 1) * HOUR)
    length = end_abs[record] - start_abs[record]
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(length > 0, (piece_end - piece_start) / np.where(length > 0, length, 1.0), 1.0)
    return HourlyPieces(record, hour, piece_start - phase, piece_end - phase, fraction)


def hour_iso(horizon_start: datetime, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ISO-8601 UTC hour start, hour end and billing-period (month) start of clock hours ``hours``."""
    base = np.datetime64(as_utc(horizon_start).replace(minute=0, second=0, microsecond=0, tzinfo=None), "h")
    unique, inverse = np.unique(hours, return_inverse=True)
    starts = base + unique.astype("timedelta64[h]")
    start_text = np.char.add(np.datetime_as_string(starts, unit="s"), "Z")
    end_text = np.char.add(np.datetime_as_string(starts + np.timedelta64(1, "h"), unit="s"), "Z")
    month_text = np.char.add(np.datetime_as_string(starts.astype("datetime64[M]").astype("datetime64[s]"), unit="s"), "Z")
    return start_text[inverse], end_text[inverse], month_text[inverse]


def hour_labels(horizon_start: datetime, hours: np.ndarray) -> tuple[np.ndarray, list[str], list[str], list[str]]:
    """``(index, starts, ends, months)``: per line an index into per-distinct-hour ISO texts."""
    unique, inverse = np.unique(hours, return_inverse=True)
    start, end, month = hour_iso(horizon_start, unique)
    return inverse.reshape(-1), start.tolist(), end.tolist(), month.tolist()
