"""Scenario-facing workload models and :func:`materialize`, which turns one into a trace.

``WorkloadSpec`` is a discriminated union on ``kind``:

* ``trace``: a user file (CSV, Parquet, JSON Lines), per request or counts per interval;
* ``real``: one of the public traces of :mod:`smsim.workload.real_traces` (optional data);
* ``poisson``, ``seasonal``, ``mmpp``: the synthetic generators of :mod:`smsim.workload.arrivals`;
* ``mix``: one workload per model of a multi-model endpoint, superposed.

Every kind takes ``rate_scale`` ("what if traffic doubles"): synthetic generators scale their
rates exactly; recorded traces are thinned or duplicated with jitter (see
:mod:`smsim.workload.transform` for why that keeps burstiness).

The materialized trace always covers exactly ``[0, duration_s)`` of the horizon. A recorded
trace shorter than the horizon is an error unless ``repeat: true`` tiles it; a longer one is cut.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from smsim import inputs
from smsim import rng as rng_streams
from smsim.errors import InputError
from smsim.spec import (
    Duration,
    NonNegFloat,
    PositiveDuration,
    PositiveFloat,
    StrictModel,
)
from smsim.units import format_duration
from smsim.workload import transform
from smsim.workload.arrivals import (
    ArrivalProcess,
    MMPPArrivals,
    PoissonArrivals,
    SeasonalArrivals,
    _utc,
)
from smsim.workload.attributes import RequestAttributes
from smsim.workload.real_traces import RealDatasetName, load_real_trace
from smsim.workload.request_trace import CountTrace, Placement, RequestTrace
from smsim.workload.traces import (
    Format,
    TimeUnit,
    TraceColumns,
    read_count_trace,
    read_request_trace,
)


class _Recorded(StrictModel):
    """Options shared by recorded traces (user files and public datasets)."""

    placement: Placement = Field(
        "uniform", description="how counts per interval become arrival times (count traces)"
    )
    time_scale: PositiveFloat = Field(1.0, description="multiply every time by this (2 = half as fast)")
    skip_s: Duration = Field(0.0, description="start the horizon this far into the trace")
    repeat: bool = Field(False, description="tile the trace to cover the horizon")
    rate_scale: NonNegFloat = 1.0
    rate_scale_method: transform.ScaleMethod = "duplicate"
    jitter_s: PositiveDuration | None = Field(
        None, description="jitter of duplicated requests; the mean inter-arrival gap when absent"
    )
    attributes: RequestAttributes | None = Field(
        None, description="distributions for attributes the trace lacks (existing ones are kept)"
    )


class TraceWorkload(_Recorded):
    """A trace file; a relative ``path`` is relative to the scenario file's folder."""

    kind: Literal["trace"] = "trace"
    path: str = Field(min_length=1)
    format: Format = "auto"
    shape: Literal["requests", "counts"] = "requests"
    columns: TraceColumns = Field(default_factory=TraceColumns)
    time_unit: TimeUnit = "auto"
    sort: bool = Field(False, description="sort unsorted rows instead of refusing them")
    interval_s: PositiveDuration | None = Field(None, description="count interval; inferred when absent")
    contiguous: bool = Field(False, description="refuse count traces with missing intervals")
    duplicates: Literal["error", "sum"] = "error"


class RealWorkload(_Recorded):
    """One of the public production traces (needs the real-trace folder; see real_traces)."""

    kind: Literal["real"] = "real"
    dataset: RealDatasetName
    data_dir: str | None = Field(
        None, description="folder of the public traces, relative to the scenario file; default: "
        "$SMSIM_REAL_DATA_DIR, else shared/data beside the scenario or the working folder (or a parent)",
    )
    request_type: Literal["generative", "api", "all"] = "all"


class PoissonWorkload(PoissonArrivals):
    rate_scale: NonNegFloat = 1.0


class SeasonalWorkload(SeasonalArrivals):
    rate_scale: NonNegFloat = 1.0


class MMPPWorkload(MMPPArrivals):
    rate_scale: NonNegFloat = 1.0


class MixWorkload(StrictModel):
    """Several workloads superposed, each labelled with its model (multi-model endpoints)."""

    kind: Literal["mix"] = "mix"
    models: dict[Annotated[str, Field(min_length=1, max_length=256)], WorkloadSpec] = Field(min_length=1)
    rate_scale: NonNegFloat = 1.0


WorkloadSpec = Annotated[
    TraceWorkload | RealWorkload | PoissonWorkload | SeasonalWorkload | MMPPWorkload | MixWorkload,
    Field(discriminator="kind"),
]
MixWorkload.model_rebuild()


def _trace_path(spec: TraceWorkload, base_dir: Path | None) -> Path:
    path = Path(spec.path).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


#: Traces read recently, keyed by file identity and reading options: checking a scenario before
#: its run and the run itself read each file once.
_LOADED: dict[tuple, RequestTrace | CountTrace] = {}
_LOADED_MAX = 8


#: The fields of a trace spec that decide what reading its file gives.
_READING = {"path", "format", "shape", "columns", "time_unit", "sort", "interval_s", "contiguous", "duplicates"}


def _load_recorded(spec: TraceWorkload | RealWorkload, base_dir: Path | None) -> RequestTrace | CountTrace:
    """The trace as read, or as the caller read it for this task (:mod:`smsim.inputs`)."""
    if isinstance(spec, RealWorkload):
        key = ("real trace", spec.dataset, spec.data_dir, spec.request_type, str(base_dir))
    else:
        key = ("trace", spec.model_dump_json(include=_READING), str(base_dir))
    return inputs.load(key, lambda: _read_recorded(spec, base_dir))


def _read_recorded(spec: TraceWorkload | RealWorkload, base_dir: Path | None) -> RequestTrace | CountTrace:
    if isinstance(spec, RealWorkload):
        return load_real_trace(spec.dataset, spec.data_dir, request_type=spec.request_type,
                               base_dir=base_dir)
    path = _trace_path(spec, base_dir)
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size, spec.shape, spec.format,
               spec.columns.model_dump_json(), spec.time_unit, spec.interval_s, spec.contiguous,
               spec.duplicates, spec.sort)
    except OSError:
        key = None  # the reader reports the missing file
    if key is not None and key in _LOADED:
        return _LOADED[key]
    if spec.shape == "counts":
        loaded = read_count_trace(path, format=spec.format, columns=spec.columns, time_unit=spec.time_unit,
                                  interval_s=spec.interval_s, contiguous=spec.contiguous,
                                  duplicates=spec.duplicates, sort=spec.sort)
    else:
        loaded = read_request_trace(path, format=spec.format, columns=spec.columns, time_unit=spec.time_unit,
                                    sort=spec.sort)
    if key is not None:
        while len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = loaded
    return loaded


def _check_span(spec: TraceWorkload | RealWorkload, trace_s: float, duration_s: float) -> None:
    """Refuse a ``skip_s`` beyond the trace, or a trace shorter than the horizon without ``repeat``
    (``trace_s`` is the trace's length as read, before ``time_scale``)."""
    name = spec.dataset if isinstance(spec, RealWorkload) else spec.path
    trace_s = trace_s * spec.time_scale
    if spec.skip_s:
        if spec.skip_s >= trace_s:
            raise InputError(f"skip_s={format_duration(spec.skip_s)} is beyond the end of trace {name!r} "
                             f"({format_duration(trace_s)})")
        trace_s -= spec.skip_s
    if trace_s < duration_s and not spec.repeat:
        raise InputError(
            f"trace {name!r} covers {format_duration(trace_s)} but the horizon is "
            f"{format_duration(duration_s)}; set repeat: true to tile it, or shorten the horizon"
        )


def _recorded(spec: TraceWorkload | RealWorkload, rng: np.random.Generator, duration_s: float,
              base_dir: Path | None) -> RequestTrace:
    placement_rng, scale_rng, attribute_rng = rng.spawn(3)
    loaded = _load_recorded(spec, base_dir)
    _check_span(spec, loaded.duration_s, duration_s)
    trace = loaded.to_requests(placement_rng, spec.placement) if isinstance(loaded, CountTrace) else loaded
    if spec.time_scale != 1:
        trace = transform.scale_time(trace, spec.time_scale)
    if spec.skip_s:
        trace = transform.clip(trace, spec.skip_s, trace.duration_s)
    if trace.duration_s < duration_s:
        trace = transform.tile(trace, duration_s)
    else:
        trace = transform.clip(trace, 0.0, duration_s)
    trace = transform.scale_rate(trace, spec.rate_scale, scale_rng, method=spec.rate_scale_method,
                                 jitter_s=spec.jitter_s)
    if spec.attributes is not None:
        trace = spec.attributes.apply(trace, attribute_rng)
    return trace


def recorded_attributes(spec: WorkloadSpec, base_dir: str | Path | None = None) -> set[str] | None:
    """The per-request attributes a recorded trace carries, or those its ``attributes`` fill in
    (``None`` for synthetic generators and mixes: what they draw depends on their own settings)."""
    if not isinstance(spec, (TraceWorkload, RealWorkload)):
        return None
    loaded = _load_recorded(spec, Path(base_dir) if base_dir is not None else None)
    have = set(loaded.attributes()) if isinstance(loaded, RequestTrace) else set()
    if spec.attributes is not None:
        have |= {n for n in ("input_tokens", "output_tokens", "payload_bytes") if getattr(spec.attributes, n) is not None}
    return have


def check_workload(spec: WorkloadSpec, duration_s: float, base_dir: str | Path | None = None) -> None:
    """Read every trace file ``spec`` refers to and raise the :class:`InputError` that
    :func:`materialize` would raise for it over a ``duration_s`` horizon, without drawing arrivals.

    Synthetic generators have nothing to read. A trace is read once whether it is checked and
    then materialized or not (the readers' results are kept for a few files).
    """
    base = Path(base_dir) if base_dir is not None else None
    if isinstance(spec, (TraceWorkload, RealWorkload)):
        _check_span(spec, _load_recorded(spec, base).duration_s, duration_s)
    elif isinstance(spec, MixWorkload):
        for sub in spec.models.values():
            check_workload(sub, duration_s, base)


def materialize(
    spec: WorkloadSpec,
    rng: np.random.Generator,
    duration_s: float,
    start: datetime | None = None,
    base_dir: str | Path | None = None,
) -> RequestTrace:
    """The requests of ``spec`` over ``[0, duration_s)`` of a horizon starting at ``start``.

    ``rng`` is the workload's own stream (e.g. ``smsim.rng.stream(seed, "endpoint", name,
    "arrivals")``); ``base_dir`` is the scenario file's folder, for relative trace paths.
    The result's ``start`` is the horizon start.
    """
    start = _utc(start)
    base = Path(base_dir) if base_dir is not None else None
    if isinstance(spec, ArrivalProcess):
        trace = spec.scaled(spec.rate_scale).generate(rng, duration_s, start)
    elif isinstance(spec, (TraceWorkload, RealWorkload)):
        trace = _recorded(spec, rng, duration_s, base)
    elif isinstance(spec, MixWorkload):
        root = int(rng.integers(0, 2**63 - 1))
        parts = [materialize(sub, rng_streams.stream(root, "mix", name), duration_s, start, base)
                 for name, sub in spec.models.items()]
        trace = transform.merge(parts, names=list(spec.models))
        trace = transform.scale_rate(trace, spec.rate_scale, rng)
    else:
        raise TypeError(f"not a workload spec: {type(spec).__name__}")
    return trace.with_attributes(start=start)


def iter_chunks(
    spec: WorkloadSpec,
    rng: np.random.Generator,
    duration_s: float,
    chunk_s: float | None = None,
    start: datetime | None = None,
    base_dir: str | Path | None = None,
) -> Iterator[RequestTrace]:
    """The requests of ``spec`` window by window, in bounded memory for synthetic generators.

    Chunks are as in :meth:`ArrivalProcess.iter_chunks` (times from the horizon start, each
    chunk's ``duration_s`` its end). Recorded traces and mixes are materialized once and sliced.
    For a synthetic generator with the default ``chunk_s``, the concatenated chunks equal
    :func:`materialize` for the same ``rng`` state.
    """
    start = _utc(start)
    if isinstance(spec, ArrivalProcess):
        yield from spec.scaled(spec.rate_scale).iter_chunks(rng, duration_s, chunk_s, start)
        return
    trace = materialize(spec, rng, duration_s, start, base_dir)
    step = float(chunk_s) if chunk_s else duration_s
    t0 = 0.0
    while t0 < duration_s:
        t1 = min(t0 + step, duration_s)
        lo, hi = np.searchsorted(trace.arrival_s, [t0, t1])
        yield trace.take(slice(int(lo), int(hi)), duration_s=t1)
        t0 = t1
