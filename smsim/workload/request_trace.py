"""The two shapes of a workload: a request trace and a count trace.

A :class:`RequestTrace` is one arrival time per request, in seconds from the start of the
trace's window, plus optional per-request attributes (payload bytes, input and output tokens,
model name for multi-model endpoints). A :class:`CountTrace` is a number of requests per fixed
interval (CloudWatch ``Invocations`` per minute, QPS samples), optionally per model.

Invariants (checked on construction, so every consumer may rely on them):

* ``arrival_s`` is float64, 1-D, sorted ascending, and ``0 <= t < duration_s``;
* every attribute array has the same length as ``arrival_s``; tokens and bytes are
  non-negative and finite;
* arrays are read-only, so a trace can be shared between replications without copying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

ATTRIBUTES = ("payload_bytes", "input_tokens", "output_tokens", "source_row")


def _frozen(values, dtype) -> np.ndarray:
    """A read-only view (no copy when the dtype already matches)."""
    arr = np.ascontiguousarray(values, dtype=dtype)
    if arr.flags.writeable:
        arr = arr.view()
        arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class RequestTrace:
    """Arrival times (s, from the window start) and optional per-request attributes.

    ``duration_s`` is the length of the window the trace covers; arrivals lie in
    ``[0, duration_s)``. ``model_index`` indexes ``models`` (names) when the trace mixes models.
    ``start`` is the wall-clock time of ``t = 0`` when known (for seasonality and reports).
    """

    arrival_s: np.ndarray
    duration_s: float
    payload_bytes: np.ndarray | None = None
    input_tokens: np.ndarray | None = None
    output_tokens: np.ndarray | None = None
    model_index: np.ndarray | None = None
    models: tuple[str, ...] = ()
    start: datetime | None = field(default=None)
    #: the request's 0-based data row in the file it was read from (follows it through thinning,
    #: duplication and tiling), so per-row data the trace does not carry (an LLM trace's prompt
    #: block hashes) can be looked up
    source_row: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = _frozen(self.arrival_s, np.float64)
        object.__setattr__(self, "arrival_s", t)
        if t.ndim != 1:
            raise ValueError(f"arrival_s must be 1-D, found shape {t.shape}")
        duration = float(self.duration_s)
        if not math.isfinite(duration) or duration < 0:
            raise ValueError(f"duration_s must be finite and >= 0, found {self.duration_s}")
        object.__setattr__(self, "duration_s", duration)
        if t.size:
            if not np.isfinite(t).all():
                raise ValueError("arrival_s contains NaN or infinite values")
            if t[0] < 0:
                raise ValueError(f"arrival_s must be >= 0, found {t[0]}")
            if t[-1] >= duration:
                raise ValueError(f"arrival_s must be < duration_s={duration}, found {t[-1]}")
            if t.size > 1 and (np.diff(t) < 0).any():
                i = int(np.argmax(np.diff(t) < 0))
                raise ValueError(f"arrival_s must be sorted; index {i + 1} ({t[i + 1]}) < index {i} ({t[i]})")
        for name in ATTRIBUTES:
            values = getattr(self, name)
            if values is None:
                continue
            arr = _frozen(values, np.float64)
            if arr.shape != t.shape:
                raise ValueError(f"{name} has shape {arr.shape}, arrival_s has {t.shape}")
            if arr.size and (not np.isfinite(arr).all() or arr.min() < 0):
                raise ValueError(f"{name} must be finite and >= 0")
            object.__setattr__(self, name, arr)
        if self.model_index is not None:
            idx = _frozen(self.model_index, np.int32)
            if idx.shape != t.shape:
                raise ValueError(f"model_index has shape {idx.shape}, arrival_s has {t.shape}")
            if idx.size and (idx.min() < 0 or idx.max() >= len(self.models)):
                raise ValueError(f"model_index must lie in [0, {len(self.models)})")
            object.__setattr__(self, "model_index", idx)
            object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        elif self.models:
            raise ValueError("models given without model_index")

    def __len__(self) -> int:
        return int(self.arrival_s.size)

    @property
    def mean_rate_per_s(self) -> float:
        """Requests per second over the whole window (0 for an empty window)."""
        return len(self) / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def model(self) -> np.ndarray | None:
        """Model name per request (object array), or None for a single-model trace."""
        if self.model_index is None:
            return None
        return np.asarray(self.models, dtype=object)[self.model_index]

    def attributes(self) -> dict[str, np.ndarray]:
        """The per-request arrays that are present, by name (model as ``model_index``)."""
        out = {n: getattr(self, n) for n in ATTRIBUTES if getattr(self, n) is not None}
        if self.model_index is not None:
            out["model_index"] = self.model_index
        return out

    def take(self, index: np.ndarray, *, arrival_s: np.ndarray | None = None,
             duration_s: float | None = None) -> RequestTrace:
        """A trace of the selected requests (``index``: sorted ints or a boolean mask).

        ``arrival_s`` replaces the selected times (already transformed, sorted), and
        ``duration_s`` the window length; attributes follow their requests.
        """
        attrs = {n: a[index] for n, a in self.attributes().items()}
        return RequestTrace(
            arrival_s=self.arrival_s[index] if arrival_s is None else arrival_s,
            duration_s=self.duration_s if duration_s is None else duration_s,
            models=self.models,
            start=self.start,
            **attrs,
        )

    def with_attributes(self, **arrays: np.ndarray | None) -> RequestTrace:
        """A copy with some per-request arrays replaced (``None`` removes one)."""
        values = {n: getattr(self, n) for n in (*ATTRIBUTES, "model_index", "models", "start")}
        values.update(arrays)
        return RequestTrace(arrival_s=self.arrival_s, duration_s=self.duration_s, **values)

    def to_frame(self):
        """A pandas DataFrame with one row per request (``arrival_s`` and present attributes)."""
        import pandas as pd

        data = {"arrival_s": self.arrival_s}
        data.update({n: getattr(self, n) for n in ATTRIBUTES if getattr(self, n) is not None and n != "source_row"})
        if self.model_index is not None:
            data["model"] = self.model
        return pd.DataFrame(data)

    def to_counts(self, interval_s: float) -> CountTrace:
        """Requests per interval of ``interval_s`` seconds over the window (last one may be partial).

        Per-model counts are kept when the trace mixes models.
        """
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, found {interval_s}")
        n = max(1, math.ceil(self.duration_s / interval_s - 1e-9))
        bins = np.minimum((self.arrival_s // interval_s).astype(np.int64), n - 1)
        counts = np.bincount(bins, minlength=n).astype(np.float64)
        model_counts = None
        if self.model_index is not None:
            flat = self.model_index.astype(np.int64) * n + bins
            model_counts = np.bincount(flat, minlength=n * len(self.models)).reshape(len(self.models), n)
        return CountTrace(interval_s=float(interval_s), counts=counts, models=self.models,
                          model_counts=model_counts, start=self.start)

    @classmethod
    def empty(cls, duration_s: float, start: datetime | None = None) -> RequestTrace:
        return cls(np.empty(0), duration_s, start=start)


Placement = Literal["even", "uniform", "poisson"]


@dataclass(frozen=True, eq=False)
class CountTrace:
    """Requests per interval: ``counts[i]`` arrived in ``[i * interval_s, (i + 1) * interval_s)``.

    Counts are float64 so rate samples (QPS x interval) fit; they are non-negative and finite.
    ``model_counts`` (shape ``(len(models), n)``) splits them by model and sums to ``counts``.
    """

    interval_s: float
    counts: np.ndarray
    models: tuple[str, ...] = ()
    model_counts: np.ndarray | None = None
    start: datetime | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise ValueError(f"interval_s must be > 0, found {self.interval_s}")
        counts = _frozen(self.counts, np.float64)
        if counts.ndim != 1:
            raise ValueError(f"counts must be 1-D, found shape {counts.shape}")
        if counts.size and (not np.isfinite(counts).all() or counts.min() < 0):
            raise ValueError("counts must be finite and >= 0")
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "interval_s", float(self.interval_s))
        if self.model_counts is not None:
            mc = _frozen(self.model_counts, np.float64)
            if mc.shape != (len(self.models), counts.size):
                raise ValueError(f"model_counts has shape {mc.shape}, expected {(len(self.models), counts.size)}")
            if not np.allclose(mc.sum(axis=0), counts):
                raise ValueError("model_counts do not sum to counts")
            object.__setattr__(self, "model_counts", mc)
            object.__setattr__(self, "models", tuple(str(m) for m in self.models))

    @property
    def duration_s(self) -> float:
        return self.interval_s * self.counts.size

    @property
    def rate_per_s(self) -> np.ndarray:
        """Mean request rate within each interval (requests/s)."""
        return self.counts / self.interval_s

    @property
    def mean_rate_per_s(self) -> float:
        return float(self.counts.sum() / self.duration_s) if self.counts.size else 0.0

    def to_requests(self, rng: np.random.Generator, placement: Placement = "uniform") -> RequestTrace:
        """Arrival times that reproduce these counts.

        * ``"even"``: ``round(count)`` arrivals evenly spaced in each interval (no randomness;
          smoother than any real traffic).
        * ``"uniform"``: ``round(count)`` arrivals at independent uniform times in each
          interval, i.e. a Poisson process conditioned on the recorded count (the default).
        * ``"poisson"``: ``Poisson(count)`` arrivals at uniform times: a Poisson process whose
          rate is piecewise constant; right for rate samples with fractional counts.
        """
        per_model = self.model_counts if self.model_counts is not None else self.counts[None, :]
        if placement == "poisson":
            n = rng.poisson(per_model)
        elif placement in ("even", "uniform"):
            n = np.rint(per_model).astype(np.int64)
        else:
            raise ValueError(f"placement must be 'even', 'uniform' or 'poisson', found {placement!r}")
        n_interval = n.ravel()
        interval = np.tile(np.arange(self.counts.size), per_model.shape[0])
        model = np.repeat(np.arange(per_model.shape[0]), self.counts.size)
        which = np.repeat(interval, n_interval)
        if placement == "even":
            first = np.repeat(np.cumsum(n_interval) - n_interval, n_interval)
            k = np.arange(which.size) - first
            frac = (k + 0.5) / np.repeat(n_interval, n_interval)
        else:
            frac = rng.random(which.size)
        t = (which + frac) * self.interval_s
        t = np.minimum(t, np.nextafter(self.duration_s, 0))
        order = np.argsort(t, kind="stable")
        model_index = None
        if self.model_counts is not None:
            model_index = np.repeat(model, n_interval)[order]
        return RequestTrace(t[order], self.duration_s, model_index=model_index,
                            models=self.models if model_index is not None else (), start=self.start)
