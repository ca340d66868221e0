"""Job arrivals: schedule triggers (cron, once, Poisson) and job-trace readers.

All times are seconds from the horizon start. A job table is a DataFrame with columns
``submit_s`` (float), ``instance_count`` (int), ``work_reference_instance_hours`` (float, NaN
when the row gives ``runtime_s`` instead), ``runtime_s`` (float or NaN) and ``instance_type``
(str, empty for the spec's own type).

Real traces (see each folder's README under the shared data directory):

* ``philly`` - ``philly_runtime.csv``: job runtimes in seconds (Microsoft Philly via Alibaba),
  no submit times or sizes;
* ``gavel`` - ``philly_vc_jobs_seed0.csv``: Philly per-VC arrivals (``arrival_time_s``) and GPU
  counts (``num_gpus``); Gavel's step counts are not wall time, so runtimes are resampled from
  the Philly runtimes;
* ``pollux`` - ``workload-N.csv``: submit ``time`` and ``num_replicas`` (GPUs); no runtimes,
  resampled likewise.

GPU counts become ``ceil(gpus / gpus_per_instance)`` instances; a row's runtime is read as wall
time measured at that instance count on the reference type.

Cron triggers accept every form of :mod:`smsim.cron` (Unix crontab, AWS ``cron(...)``,
``rate(...)``, ``at(...)``).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from smsim import inputs
from smsim.cron import fire_times_s
from smsim.errors import InputError

JOB_COLUMNS = [
    "submit_s",
    "instance_count",
    "work_reference_instance_hours",
    "runtime_s",
    "instance_type",
]


def cron_times(expr: str, timezone: str, start: datetime, horizon_s: float) -> np.ndarray:
    """Seconds from ``start`` of every firing of ``expr`` (see :mod:`smsim.cron`) in the horizon."""
    return np.asarray(fire_times_s(expr, timezone, start, horizon_s), dtype=float)


def poisson_times(rate_per_day: float, horizon_s: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrivals: a Poisson count, then uniform order statistics (exact, no clamping)."""
    n = rng.poisson(rate_per_day * horizon_s / 86400.0)
    return np.sort(rng.uniform(0.0, horizon_s, size=n))


def trigger_times(
    trigger, start: datetime, horizon_s: float, rng: np.random.Generator
) -> np.ndarray:
    """Submit times of a cron, once or Poisson trigger (see :mod:`smsim.resources.training.spec`)."""
    if trigger.kind == "cron":
        return cron_times(trigger.cron, trigger.timezone, start, horizon_s)
    if trigger.kind == "once":
        return np.array(sorted(t for t in trigger.at_s if t < horizon_s), dtype=float)
    if trigger.kind == "poisson":
        return poisson_times(trigger.rate_per_day, horizon_s, rng)
    raise ValueError(f"trigger kind {trigger.kind!r} has no schedule; read it as a trace")


# ---------------------------------------------------------------------------------------------
# Trace readers


def _read_raw(path: str | Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"job trace not found: {path}") from None


def _read_csv(path: str | Path, needed: list[str]) -> pd.DataFrame:
    """The file's rows (or those the caller read for this task, :mod:`smsim.inputs`)."""
    frame = inputs.load(("job trace", str(path)), lambda: _read_raw(path))
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {missing}; found {list(frame.columns)}", file=str(path)
        )
    return frame


def _check_numeric(frame: pd.DataFrame, column: str, path, minimum: float = 0.0) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < minimum))
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"{column} must be a number >= {minimum:g}, found {frame[column].iloc[row]!r}",
            file=str(path),
            line=row + 2,
            path=f"row {row + 1}",
        )
    return values


def read_job_csv(path: str | Path) -> pd.DataFrame:
    """The generic job trace: ``submit_s``, ``instance_count``, work or ``runtime_s``[, type]."""
    frame = _read_csv(path, ["submit_s", "instance_count"])
    has_work = "work_reference_instance_hours" in frame.columns
    if not has_work and "runtime_s" not in frame.columns:
        raise InputError(
            "needs a work_reference_instance_hours or a runtime_s column", file=str(path)
        )
    n = len(frame)
    out = pd.DataFrame(
        {
            "submit_s": _check_numeric(frame, "submit_s", path),
            "instance_count": _check_numeric(frame, "instance_count", path, 1).astype(int),
            "work_reference_instance_hours": (
                _check_numeric(frame, "work_reference_instance_hours", path)
                if has_work
                else np.full(n, np.nan)
            ),
            "runtime_s": _check_numeric(frame, "runtime_s", path)
            if "runtime_s" in frame
            else np.full(n, np.nan),
            "instance_type": frame["instance_type"].fillna("").astype(str)
            if "instance_type" in frame
            else "",
        }
    )
    return out.sort_values("submit_s", kind="stable").reset_index(drop=True)


def read_philly_runtimes(path: str | Path, min_runtime_s: float = 1.0) -> np.ndarray:
    """Philly job runtimes in seconds; zero-length rows (failed at launch) are dropped."""
    runtimes = _check_numeric(_read_csv(path, ["runtime"]), "runtime", path)
    return runtimes[runtimes >= min_runtime_s]


def _gpu_table(
    submit: np.ndarray,
    gpus: np.ndarray,
    gpus_per_instance: int,
    runtimes: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    if runtimes.size == 0:
        raise InputError("no runtimes to resample from (runtimes_path is empty)")
    return (
        pd.DataFrame(
            {
                "submit_s": submit,
                "instance_count": np.maximum(1, np.ceil(gpus / gpus_per_instance)).astype(int),
                "work_reference_instance_hours": np.nan,
                "runtime_s": rng.choice(runtimes, size=submit.size, replace=True),
                "instance_type": "",
            }
        )
        .sort_values("submit_s", kind="stable")
        .reset_index(drop=True)
    )


def read_gavel(
    path,
    gpus_per_instance: int,
    runtimes: np.ndarray,
    rng: np.random.Generator,
    vc: str | None = None,
) -> pd.DataFrame:
    """Gavel's Philly per-VC arrivals and GPU counts, with runtimes resampled from Philly."""
    frame = _read_csv(path, ["vc", "arrival_time_s", "num_gpus"])
    if vc is not None:
        frame = frame[frame["vc"].astype(str) == vc]
        if frame.empty:
            raise InputError(f"no jobs for vc {vc!r}", file=str(path))
    return _gpu_table(
        _check_numeric(frame, "arrival_time_s", path),
        _check_numeric(frame, "num_gpus", path, 1),
        gpus_per_instance,
        runtimes,
        rng,
    )


def read_pollux(
    path, gpus_per_instance: int, runtimes: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """A Pollux workload (submit ``time``, ``num_replicas`` GPUs), runtimes resampled from Philly."""
    frame = _read_csv(path, ["time", "num_replicas"])
    return _gpu_table(
        _check_numeric(frame, "time", path),
        _check_numeric(frame, "num_replicas", path, 1),
        gpus_per_instance,
        runtimes,
        rng,
    )


def _beside(path, base_dir: Path | None) -> Path:
    """``path`` as written in the scenario, relative paths taken from the scenario's folder."""
    path = Path(path)
    return path if path.is_absolute() or base_dir is None else Path(base_dir) / path


def trace_jobs(trigger, horizon_s: float, rng: np.random.Generator,
               base_dir: Path | None = None) -> pd.DataFrame:
    """The job table of a ``trace`` trigger, scaled in time, repeated if asked, cut to the horizon.

    Relative file paths are read from ``base_dir`` (the scenario's folder), as workload traces are.
    """
    fmt = trigger.format
    path = _beside(trigger.path, base_dir)
    if fmt == "csv":
        jobs = read_job_csv(path)
    else:
        runtimes_path = trigger.runtimes_path or (trigger.path if fmt == "philly" else None)
        if runtimes_path is None:
            raise InputError(f"format {fmt!r} needs runtimes_path (a Philly runtime CSV)")
        runtimes = read_philly_runtimes(_beside(runtimes_path, base_dir))
        if fmt == "gavel":
            jobs = read_gavel(path, trigger.gpus_per_instance, runtimes, rng, trigger.vc)
        elif fmt == "pollux":
            jobs = read_pollux(path, trigger.gpus_per_instance, runtimes, rng)
        else:
            if trigger.rate_per_day is None:
                raise InputError("format 'philly' has no submit times; give rate_per_day")
            submit = poisson_times(trigger.rate_per_day, horizon_s, rng)
            jobs = _gpu_table(submit, np.ones(submit.size), 1, runtimes, rng)
            return jobs
    jobs = jobs.assign(submit_s=jobs["submit_s"] * trigger.time_scale)
    if trigger.repeat and len(jobs):
        span = float(jobs["submit_s"].max()) + 1.0
        copies = max(1, math.ceil(horizon_s / span))
        jobs = pd.concat(
            [jobs.assign(submit_s=jobs["submit_s"] + k * span) for k in range(copies)],
            ignore_index=True,
        )
    return jobs[jobs["submit_s"] < horizon_s].reset_index(drop=True)
