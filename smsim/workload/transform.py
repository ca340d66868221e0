"""Transformations of request traces: "what if traffic doubles", windows, tiling, merging.

All functions return new traces (inputs are never changed) and keep per-request attributes
with their requests. Randomness comes only from the Generator passed in.

Scaling the rate of a recorded trace by ``f`` (:func:`scale_rate`):

* ``f < 1``: independent thinning, each request kept with probability ``f``. A Poisson process
  stays Poisson at rate ``f * lambda``; the time profile is unchanged.
* ``f > 1``, ``method="duplicate"`` (the default): every request is copied ``floor(f)`` times
  and once more with probability ``f - floor(f)``; each copy is moved by an independent jitter
  uniform in ``[-jitter_s/2, jitter_s/2]`` (wrapped around the window), ``jitter_s``
  defaulting to the mean inter-arrival gap. The rate profile (daily peaks, bursts longer than
  the jitter) is kept exactly, and the coefficient of variation of counts over windows much
  longer than the jitter is unchanged: bursts scale with the traffic, which is what capacity
  planning must assume when more traffic means more of the same users' demand. (Superposing
  copies shifted by random offsets would instead smooth the bursts by ``sqrt(f)``.) At scales
  below the jitter the copies add short-range clustering.
* ``method="compress"``: time is divided by ``f`` and the trace tiled back to its length.
  Bursts become ``f`` times shorter and daily cycles ``f`` times faster; use it only for
  traces with no time-of-day structure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from smsim.workload.request_trace import ATTRIBUTES, RequestTrace

ScaleMethod = Literal["duplicate", "compress"]


def thin(trace: RequestTrace, keep_probability: float, rng: np.random.Generator) -> RequestTrace:
    """Each request kept independently with ``keep_probability``."""
    if not 0 <= keep_probability <= 1:
        raise ValueError(f"keep_probability must be in [0, 1], found {keep_probability}")
    return trace.take(rng.random(len(trace)) < keep_probability)


def scale_rate(
    trace: RequestTrace,
    factor: float,
    rng: np.random.Generator,
    *,
    method: ScaleMethod = "duplicate",
    jitter_s: float | None = None,
) -> RequestTrace:
    """The trace with ``factor`` times as many requests in expectation (see the module docstring)."""
    if not (math.isfinite(factor) and factor >= 0):
        raise ValueError(f"rate factor must be finite and >= 0, found {factor}")
    if factor == 1 or len(trace) == 0:
        return trace
    if factor < 1:
        return thin(trace, factor, rng)
    if method == "compress":
        squeezed = scale_time(trace, 1 / factor)
        return tile(squeezed, trace.duration_s)
    if method != "duplicate":
        raise ValueError(f"method must be 'duplicate' or 'compress', found {method!r}")
    whole = math.floor(factor)
    copies = np.full(len(trace), whole, dtype=np.int64)
    copies += rng.random(len(trace)) < factor - whole
    index = np.repeat(np.arange(len(trace)), copies)
    first = np.zeros(index.size, dtype=bool)
    first[np.cumsum(copies) - copies] = True  # the original keeps its time
    jitter = trace.duration_s / len(trace) if jitter_s is None else float(jitter_s)
    t = trace.arrival_s[index].copy()
    moved = ~first
    t[moved] = (t[moved] + (rng.random(int(moved.sum())) - 0.5) * jitter) % trace.duration_s
    order = np.argsort(t, kind="stable")
    t = np.minimum(t[order], np.nextafter(trace.duration_s, 0))
    return trace.take(index[order], arrival_s=t)


def scale_time(trace: RequestTrace, factor: float) -> RequestTrace:
    """Every time (and the window) multiplied by ``factor``: ``factor > 1`` stretches (slower)."""
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"time factor must be finite and > 0, found {factor}")
    duration = trace.duration_s * factor
    t = np.minimum(trace.arrival_s * factor, np.nextafter(duration, 0))
    return trace.take(slice(None), arrival_s=t, duration_s=duration)


def shift(trace: RequestTrace, offset_s: float) -> RequestTrace:
    """Times moved by ``offset_s``; the window grows by it (a negative offset drops the head)."""
    if offset_s >= 0:
        return trace.take(slice(None), arrival_s=trace.arrival_s + offset_s,
                          duration_s=trace.duration_s + offset_s)
    return clip(trace, -offset_s, trace.duration_s)


def clip(trace: RequestTrace, start_s: float, end_s: float) -> RequestTrace:
    """The requests in ``[start_s, end_s)``, re-based so ``start_s`` becomes 0."""
    if not 0 <= start_s <= end_s:
        raise ValueError(f"need 0 <= start_s <= end_s, found {start_s}, {end_s}")
    lo, hi = np.searchsorted(trace.arrival_s, [start_s, end_s], side="left")
    return trace.take(slice(int(lo), int(hi)), arrival_s=trace.arrival_s[lo:hi] - start_s,
                      duration_s=end_s - start_s)


def tile(trace: RequestTrace, duration_s: float) -> RequestTrace:
    """The trace repeated back to back to cover ``[0, duration_s)`` (the last copy cut short)."""
    if trace.duration_s <= 0:
        raise ValueError("cannot tile a trace with an empty window")
    reps = max(1, math.ceil(duration_s / trace.duration_s))
    n = len(trace)
    index = np.tile(np.arange(n), reps)
    t = (np.repeat(np.arange(reps), n) * trace.duration_s + trace.arrival_s[index]) if n else np.empty(0)
    keep = t < duration_s
    return trace.take(index[keep], arrival_s=t[keep], duration_s=duration_s)


def merge(traces: Sequence[RequestTrace], names: Sequence[str] | None = None) -> RequestTrace:
    """The superposition of several traces (for a multi-model endpoint).

    Each input's requests keep their model; inputs without one get ``names[i]`` (required then).
    Attributes present in only some inputs are dropped. The window is the longest one.
    """
    if not traces:
        raise ValueError("merge needs at least one trace")
    models: list[str] = []
    index_parts = []
    labelled = any(t.model_index is not None for t in traces) or names is not None
    for i, tr in enumerate(traces):
        if tr.model_index is not None:
            local = list(tr.models)
            idx = tr.model_index
        elif names is not None:
            local, idx = [str(names[i])], np.zeros(len(tr), dtype=np.int32)
        elif labelled:
            raise ValueError(f"trace {i} has no model; give names= to label it")
        else:
            local, idx = [], None
        mapping = []
        for m in local:
            if m not in models:
                models.append(m)
            mapping.append(models.index(m))
        index_parts.append(np.asarray(mapping, dtype=np.int32)[idx] if idx is not None and len(idx) else
                           np.zeros(len(tr), dtype=np.int32))
    t = np.concatenate([tr.arrival_s for tr in traces])
    order = np.argsort(t, kind="stable")
    attrs = {}
    for name in ATTRIBUTES:
        if all(getattr(tr, name) is not None for tr in traces):
            attrs[name] = np.concatenate([getattr(tr, name) for tr in traces])[order]
    if labelled:
        attrs["model_index"] = np.concatenate(index_parts)[order]
    return RequestTrace(t[order], max(tr.duration_s for tr in traces),
                        models=tuple(models) if labelled else (), start=traces[0].start, **attrs)
