"""Trial logs: the trials of earlier tuning jobs, replayed as the trials of a simulated one.

Two column sets are read. A SageMaker tuning analytics export (the SageMaker Python SDK's
``HyperparameterTuningJobAnalytics(...).dataframe()`` saved as CSV) gives
``TrainingElapsedTimeSeconds``, ``FinalObjectiveValue`` and ``TrainingJobStatus``; a plain log
gives ``duration_s``, ``objective`` and optionally ``status``. A status of ``Stopped`` marks a
trial stopped early (its duration is the time it ran, and its objective is not a final one);
``Failed`` rows are billed for their duration too. Errors name the file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.errors import InputError

#: (duration, objective, status) column names of each accepted layout.
LAYOUTS = (
    ("TrainingElapsedTimeSeconds", "FinalObjectiveValue", "TrainingJobStatus"),
    ("duration_s", "objective", "status"),
)
STATUSES = ("Completed", "Stopped", "Failed")


@dataclass(frozen=True)
class LoggedTrials:
    """Trials of a log: training seconds, objective (NaN when absent) and whether each ran to
    the end (``Completed``)."""

    duration_s: np.ndarray
    objective: np.ndarray
    completed: np.ndarray

    def __len__(self) -> int:
        return int(self.duration_s.size)


def read_trial_log(path: str | Path) -> LoggedTrials:
    """Read and check a trial log (see module doc)."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError("trial log not found", file=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a CSV trial log: {exc}", file=str(path)) from None
    layout = next((cols for cols in LAYOUTS if cols[0] in frame.columns and cols[1] in frame.columns), None)
    if layout is None:
        raise InputError(
            f"needs columns {LAYOUTS[0][0]} and {LAYOUTS[0][1]} (a tuning analytics export) or "
            f"duration_s and objective; found {list(frame.columns)}", file=str(path))
    if frame.empty:
        raise InputError("the trial log has no rows", file=str(path))
    dur_col, obj_col, status_col = layout
    duration = pd.to_numeric(frame[dur_col], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(duration) | (duration <= 0))
    if bad.size:
        _row_error(path, frame, bad[0], dur_col, "must be a number of seconds > 0")
    objective = pd.to_numeric(frame[obj_col], errors="coerce").to_numpy(dtype=float)
    if status_col in frame.columns:
        status = frame[status_col].fillna("Completed").astype(str).str.strip()
        bad = np.flatnonzero(~status.isin(STATUSES).to_numpy())
        if bad.size:
            _row_error(path, frame, bad[0], status_col, f"must be one of {', '.join(STATUSES)}")
        completed = (status == "Completed").to_numpy()
    else:
        completed = np.ones(len(frame), dtype=bool)
    missing = np.flatnonzero(completed & ~np.isfinite(objective))
    if missing.size:
        _row_error(path, frame, missing[0], obj_col, "a completed trial needs a numeric objective")
    return LoggedTrials(duration, objective, completed)


def _row_error(path, frame: pd.DataFrame, row: int, column: str, what: str):
    col = list(frame.columns).index(column) + 1
    raise InputError(f"{column} {what}, found {frame[column].iloc[row]!r}", file=str(path),
                     line=int(row) + 2, column=col, path=f"row {int(row) + 1}")
