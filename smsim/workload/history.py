"""An endpoint's traffic history: hourly invocations before the projection starts.

Where the history comes from, in this order:

1. an explicit file for the endpoint (``histories={"chat": "chat.csv"}`` in the API,
   ``--history chat=chat.csv`` on the command line): a time column and a count column
   (CloudWatch ``Invocations`` exports, per minute or per hour), read with
   :func:`smsim.forecast.series.read_series` and summed per clock hour (gaps count as zero);
2. a ``history`` field on the endpoint spec, when the scenario schema carries one (same format);
3. the endpoint's own workload when it is a ``trace`` (a request trace or a count trace): the
   recorded traffic *is* the past. Its ``rate_scale``, ``skip_s`` and ``time_scale`` are not
   applied (they are replay options, not history).

Endpoints with synthetic workloads (``poisson``, ``seasonal``, ``mmpp``), public ``real``
traces and ``mix`` workloads have no history; a projection simulates them as written.

Time: the projection starts at the scenario's ``horizon.start``. A history with absolute
timestamps must end at or before it (hours between its end and the start are forecast and
discarded); a trace with relative times is placed so that it ends at the start. Only whole clock
hours are kept (a partial first or last hour is dropped).

Besides the hourly totals, a history carries its *intra-hour shape*: the share of an hour's
requests that arrives in each of its 60 minutes, averaged over the history's whole hours
(uniform when the history is hourly). Paths spread their hourly forecast over minutes with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError
from smsim.workload.request_trace import CountTrace, RequestTrace
from smsim.workload.spec import TraceWorkload, _load_recorded

#: Fewest whole hours of history a forecast needs (two days: one daily cycle to fit, one to test).
MIN_HISTORY_HOURS = 48


@dataclass(frozen=True)
class History:
    """Hourly invocations (UTC clock hours, regular ``h`` index) and the minute shape of an hour.

    ``minute_shape`` has 60 non-negative weights summing to 1.
    """

    endpoint: str
    hourly: pd.Series
    minute_shape: np.ndarray
    source: str

    @property
    def end(self) -> pd.Timestamp:
        """The end of the last hour (exclusive)."""
        return self.hourly.index[-1] + pd.Timedelta(hours=1)

    def summary(self) -> dict:
        return {"source": self.source, "start": self.hourly.index[0].isoformat(),
                "end": self.end.isoformat(), "hours": len(self.hourly),
                "mean_requests_per_hour": float(self.hourly.mean())}


def _utc_naive(t: datetime | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _from_minutes(name: str, first_minute: pd.Timestamp, per_minute: np.ndarray,
                  source: str) -> History:
    """Whole clock hours of a per-minute count series starting at ``first_minute``."""
    first_minute = first_minute.floor("min")
    skip = (60 - first_minute.minute) % 60
    counts = per_minute[skip:]
    n_hours = counts.size // 60
    if n_hours < 1:
        raise InputError(f"endpoint {name!r}: the history {source} holds no whole clock hour")
    grid = counts[: n_hours * 60].reshape(n_hours, 60)
    first_hour = first_minute + pd.Timedelta(minutes=skip)
    index = pd.date_range(first_hour, periods=n_hours, freq="h")
    hourly = pd.Series(grid.sum(axis=1), index=index, name=name)
    total = grid.sum()
    shape = grid.sum(axis=0) / total if total > 0 else np.full(60, 1 / 60)
    return History(name, hourly, shape, source)


def _from_hours(name: str, hourly: pd.Series, source: str) -> History:
    hourly = hourly.astype(float).rename(name)
    hourly.index = pd.DatetimeIndex(hourly.index, freq="h")
    return History(name, hourly, np.full(60, 1 / 60), source)


def _trace_history(name: str, trace: RequestTrace | CountTrace, projection_start: pd.Timestamp,
                   source: str) -> History:
    start = _utc_naive(trace.start) if trace.start is not None else \
        projection_start - pd.Timedelta(seconds=trace.duration_s)
    if isinstance(trace, RequestTrace):
        trace = trace.to_counts(60.0)
    step = trace.interval_s
    if step >= 3600.0 and abs(step - 3600.0) < 1e-6:
        index = pd.date_range(start, periods=trace.counts.size, freq="h")
        if start != start.floor("h"):
            raise InputError(f"endpoint {name!r}: hourly history {source} does not start on a clock hour "
                             f"({start})")
        return _from_hours(name, pd.Series(trace.counts, index=index), source)
    if 60.0 % step > 1e-9 and step != 60.0:
        raise InputError(f"endpoint {name!r}: history {source} has a {step:g} s interval; use a divisor "
                         "of 60 s or whole hours")
    per = round(60.0 / step)
    n = trace.counts.size // per
    minutes = trace.counts[: n * per].reshape(n, per).sum(axis=1)
    return _from_minutes(name, start.floor("min"), minutes, source)


def read_history_file(name: str, path: str | Path) -> History:
    """A history file (time + count columns, per minute or coarser up to hourly)."""
    from smsim.forecast.series import read_series

    series, freq = read_series(path, fill="zero", agg="sum")
    if len(series) != 1:
        raise InputError(f"history for endpoint {name!r} holds {len(series)} series; give one",
                         file=str(path))
    (y,) = series.values()
    if freq == "min":
        return _from_minutes(name, y.index[0], y.to_numpy(dtype=float), str(path))
    if freq in ("5min", "15min"):
        hourly = y.resample("h").sum()
        whole = y.groupby(y.index.floor("h")).size() == (12 if freq == "5min" else 4)
        return _from_hours(name, hourly[whole.reindex(hourly.index, fill_value=False)], str(path))
    if freq == "h":
        return _from_hours(name, y, str(path))
    raise InputError(f"history for endpoint {name!r} is {freq}; give per-minute to hourly counts",
                     file=str(path))


def _resolve(path: str | Path, base_dir: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else base_dir / p


def endpoint_history(spec, scenario, explicit: str | Path | None = None) -> History | None:
    """The history of one endpoint (see the module docstring), or None when it has none."""
    start = _utc_naive(scenario.horizon.start)
    base = scenario.base_dir
    if explicit is not None:
        hist = read_history_file(spec.name, _resolve(explicit, Path.cwd()))
    elif getattr(spec, "history", None):
        hist = read_history_file(spec.name, _resolve(spec.history, base))
    elif isinstance(getattr(spec, "workload", None), TraceWorkload):
        trace = _load_recorded(spec.workload, base)
        hist = _trace_history(spec.name, trace, start, f"trace {spec.workload.path!r}")
    else:
        return None
    if hist.end > start:
        raise InputError(
            f"endpoint {spec.name!r}: the history ({hist.source}) runs to {hist.end}, after the "
            f"projection start {start} (horizon.start); a history must end at or before it")
    if len(hist.hourly) < MIN_HISTORY_HOURS:
        raise InputError(f"endpoint {spec.name!r}: the history ({hist.source}) has {len(hist.hourly)} "
                         f"whole hours; a forecast needs at least {MIN_HISTORY_HOURS}")
    return hist


def histories(scenario, explicit: dict[str, str | Path] | None = None) -> dict[str, History]:
    """Histories of the scenario's real-time endpoints that have one, by endpoint name."""
    explicit = dict(explicit or {})
    names = {spec.name for spec in scenario.endpoints}
    unknown = sorted(set(explicit) - names)
    if unknown:
        raise InputError(f"history given for unknown endpoint(s) {', '.join(unknown)}; endpoints: "
                         f"{', '.join(sorted(names)) or 'none'}", path="--history")
    out: dict[str, History] = {}
    for spec in scenario.endpoints:
        if spec.kind != "realtime":
            if spec.name in explicit:
                raise InputError(f"endpoint {spec.name!r} is {spec.kind}; projection forecasts real-time "
                                 "endpoints only", path="--history")
            continue
        hist = endpoint_history(spec, scenario, explicit.get(spec.name))
        if hist is not None:
            out[spec.name] = hist
    return out


__all__ = ["MIN_HISTORY_HOURS", "History", "endpoint_history", "histories", "read_history_file"]
