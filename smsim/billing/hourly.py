"""Splitting usage records at clock-hour boundaries, the way a Cost and Usage Report is hourly.

Hours are UTC clock hours: when the horizon starts at 10:30, the first piece of a record starting
at 0 s ends at 1800 s. Instance and storage records are prorated per second; an ``amount`` record
is spread uniformly over ``[start_s, end_s]`` (all of it in the hour of ``start_s`` when the two are
equal). Pieces are returned as flat numpy arrays: no per-piece Python work.

:func:`hourly_lines` sums the pieces of records that share a line group per clock hour without
materialising the full hours in between: a record contributes a head piece, a tail piece and a run
of identical full hours, and runs are summed per group as a step function of the hour (one event
where a run starts, one where it ends), so the work is proportional to records plus line items,
not to record-hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

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


@dataclass(frozen=True)
class HourlyLines:
    """One row per (group, clock hour) with usage, sorted by group then hour."""

    group: np.ndarray  # int64 line group
    hour: np.ndarray  # int64 clock-hour index, as in :class:`HourlyPieces`
    start_s: np.ndarray  # earliest piece start in the hour, seconds from the horizon start
    end_s: np.ndarray  # latest piece end in the hour
    amount: np.ndarray  # summed usage of the group's pieces in the hour


def hourly_lines(
    group: np.ndarray,
    start_s: np.ndarray,
    end_s: np.ndarray,
    quantity: np.ndarray,
    divisor: np.ndarray,
    spread: np.ndarray,
    phase: float,
) -> HourlyLines:
    """Usage of each record cut at clock hours and summed per ``(group, hour)``.

    A piece of ``s`` seconds of a record is ``quantity * s / divisor`` (``divisor`` is 3600 for
    instance-hours, a month of seconds for GB-months, the record's length for an ``amount`` spread
    over its interval). A ``spread`` record of zero length puts all of ``quantity`` in the hour of
    its start. Pieces with no usage are dropped, except pieces of ``spread`` records with a positive
    quantity. ``group`` values must be >= 0.
    """
    group = np.asarray(group, dtype=np.int64)
    quantity = np.asarray(quantity, dtype=float)
    start_abs = np.asarray(start_s, dtype=float) + phase
    end_abs = np.asarray(end_s, dtype=float) + phase
    spread = np.asarray(spread, dtype=bool)
    first = np.floor(start_abs / HOUR).astype(np.int64)
    last = np.where(end_abs > start_abs, np.ceil(end_abs / HOUR).astype(np.int64) - 1, first)
    last = np.maximum(last, first)
    point = spread & ~(end_abs > start_abs)
    div = np.where(point, 1.0, np.asarray(divisor, dtype=float))
    live = spread & (quantity > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        head_end = np.minimum(end_abs, (first + 1) * HOUR)
        head = np.where(point, quantity, quantity * (head_end - start_abs) / div)
        tail = quantity * (end_abs - last * HOUR) / div
        full = quantity * HOUR / div
    keep_head = (head > 0) | live
    keep_tail = (last > first) & ((tail > 0) | live)
    keep_run = (last - first >= 2) & ((full > 0) | live)
    kept = keep_head | keep_tail
    if not kept.any():
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return HourlyLines(empty_i, empty_i, empty_f, empty_f, empty_f)
    h0 = int(first[kept].min())
    span = int(last[kept].max()) - h0 + 1

    # head and tail pieces, summed per (group, hour)
    h, t = np.flatnonzero(keep_head), np.flatnonzero(keep_tail)
    key = np.concatenate([group[h] * span + (first[h] - h0), group[t] * span + (last[t] - h0)])
    amount = np.concatenate([head[h], tail[t]])
    piece_start = np.concatenate([start_abs[h], last[t] * HOUR]) - phase
    piece_end = np.concatenate([head_end[h], end_abs[t]]) - phase
    del h, t, head, tail, head_end
    order = np.argsort(key, kind="stable")
    key = key[order]
    cut = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    part_key = key[cut]
    part_amount = np.add.reduceat(amount[order], cut)
    part_start = np.minimum.reduceat(piece_start[order], cut)
    part_end = np.maximum.reduceat(piece_end[order], cut)
    del key, amount, piece_start, piece_end, order, cut

    # runs of full hours: a step function per group, +rate where a run starts, -rate after it ends
    r = np.flatnonzero(keep_run)
    run_key, run_amount = _full_hour_runs(
        group[r] * span + (first[r] + 1 - h0), group[r] * span + (last[r] - h0), full[r]
    )
    run_hour = run_key % span + h0
    run_start = run_hour * HOUR - phase
    run_end = (run_hour + 1) * HOUR - phase
    del run_hour

    # merge: a partial piece in a run hour adds to it (the run already spans the whole hour)
    pos = np.searchsorted(run_key, part_key)
    inside = pos < len(run_key)
    match = np.zeros(len(part_key), dtype=bool)
    match[inside] = run_key[pos[inside]] == part_key[inside]
    run_amount[pos[match]] += part_amount[match]  # keys are unique on both sides
    extra = ~match
    at = pos[extra]
    key = np.insert(run_key, at, part_key[extra])
    return HourlyLines(
        group=key // span,
        hour=key % span + h0,
        start_s=np.insert(run_start, at, part_start[extra]),
        end_s=np.insert(run_end, at, part_end[extra]),
        amount=np.insert(run_amount, at, part_amount[extra]),
    )


def _full_hour_runs(begin: np.ndarray, stop: np.ndarray, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum of runs ``[begin, stop)`` of ``rate`` per key step (keys are ``group * span + hour``, a run
    never crosses groups): ``(keys, totals)`` for every key covered by at least one run, sorted."""
    if not len(begin):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    key = np.concatenate([begin, stop])
    delta = np.concatenate([rate, -rate])
    count = np.concatenate([np.ones(len(begin), np.int64), -np.ones(len(begin), np.int64)])
    order = np.argsort(key, kind="stable")
    key, delta, count = key[order], delta[order], count[order]
    # runs are counted exactly; their rates are summed per group (a running sum across groups would
    # carry one group's rounding into the next)
    active = np.cumsum(count)
    span_of_step = np.append(np.diff(key), 0)
    steps = np.where(active > 0, span_of_step, 0)
    owner = np.cumsum(np.concatenate([[0], (active[:-1] == 0)]))  # a new group of overlapping runs
    level = pd.Series(delta).groupby(owner).cumsum().to_numpy()
    level = np.maximum(level, 0.0)
    n = int(steps.sum())
    which = np.repeat(np.arange(len(key)), steps)
    offset = np.arange(n) - np.repeat(np.cumsum(steps) - steps, steps)
    return key[which] + offset, level[which]


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
