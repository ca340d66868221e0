"""Step-time models the serving engine evaluates: a linear form and a measured profile table.

Every step model answers ``step_time_s(prefill_tokens, decode_seqs, kv_tokens)`` (the
``StepTimeModel`` protocol) and also exposes its numbers as a :class:`StepForm`, the plain arrays
the compiled engine loop evaluates without calling Python:

* ``pieces`` (k x 4 rows ``const, per_prefill_token, per_decode_seq, per_kv_token``): the step
  time is the largest row (a roofline is the max of a compute and a memory line; a linear model
  is one row);
* a ``grid`` (``prefill_tokens`` x ``decode_seqs`` -> seconds): bilinear interpolation inside the
  grid, linear extrapolation from the last two points beyond it (context length ignored).

A profile CSV has one row per grid point with columns ``prefill_tokens``, ``decode_seqs`` and
``step_time_s``; every combination of the listed values must be present exactly once. Bad rows
are :class:`~smsim.errors.InputError` naming the file, row, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from smsim.errors import InputError

COLUMNS = ("prefill_tokens", "decode_seqs", "step_time_s")


class StepTimeModel(Protocol):
    def step_time_s(self, prefill_tokens: int, decode_seqs: int, kv_tokens: int) -> float: ...


@dataclass(frozen=True)
class StepForm:
    """A step model as arrays: ``kind`` 0 = max of linear pieces, 1 = (P, D) grid."""

    kind: int
    pieces: np.ndarray  # (k, 4)
    grid_p: np.ndarray  # ascending prefill-token values
    grid_d: np.ndarray  # ascending decode-seq values
    table: np.ndarray  # (len(grid_p), len(grid_d)) seconds


def _interp_index(grid: np.ndarray, x: float) -> tuple[int, float]:
    """Left index and weight of ``x`` on ``grid`` (extrapolating from the end segments)."""
    n = grid.size
    if n == 1:
        return 0, 0.0
    i = int(np.searchsorted(grid, x, side="right")) - 1
    i = min(max(i, 0), n - 2)
    return i, (x - grid[i]) / (grid[i + 1] - grid[i])


#: The roofline's constants, in the order the compiled loop reads them (kind 2).
ROOFLINE_KEYS = ("linear_s_per_token", "head_s_per_seq", "dense_read_s", "experts_read_s", "miss", "moe",
                 "attn_s_per_pair", "kv_s_per_token", "overhead_s", "comm_fixed_s", "comm_s_per_token")


def form_of(model) -> StepForm:
    """The arrays of a step model: its own ``form()``, or the roofline's constants (kind 2)."""
    if hasattr(model, "form"):
        return model.form()
    c = getattr(model, "_c", None)
    if c is None:
        raise TypeError(f"{type(model).__name__} has no form() the serving engine can evaluate")
    z = np.zeros(1)
    return StepForm(2, np.array([[float(c[k]) for k in ROOFLINE_KEYS]]), z, z, np.zeros((1, 1)))


def eval_form(form: StepForm, p: float, d: float, kv: float) -> float:
    """The step time of ``form`` (the compiled loop computes the same in :mod:`.engine`)."""
    if form.kind == 2:
        from smsim.resources.llm import _loop_parts

        return float(_loop_parts.step_time(2, form.pieces, form.grid_p, form.grid_d, form.table, p, d, kv))
    if form.kind == 0:
        best = -1.0
        for c0, cp, cd, ck in form.pieces:
            best = max(best, c0 + cp * p + cd * d + ck * kv)
        return best
    i, wi = _interp_index(form.grid_p, p)
    j, wj = _interp_index(form.grid_d, d)
    t = form.table
    if form.grid_p.size == 1:
        row = t[0]
    else:
        row = t[i] * (1 - wi) + t[i + 1] * wi
    if form.grid_d.size == 1:
        return float(row[0])
    return float(row[j] * (1 - wj) + row[j + 1] * wj)


@dataclass(frozen=True)
class LinearModel:
    base_s: float
    prefill_s_per_token: float = 0.0
    decode_s_per_seq: float = 0.0
    kv_s_per_token: float = 0.0

    def form(self) -> StepForm:
        pieces = np.array([[self.base_s, self.prefill_s_per_token, self.decode_s_per_seq, self.kv_s_per_token]])
        z = np.zeros(1)
        return StepForm(0, pieces, z, z, np.zeros((1, 1)))

    def step_time_s(self, prefill_tokens: int, decode_seqs: int, kv_tokens: int) -> float:
        return eval_form(self.form(), prefill_tokens, decode_seqs, kv_tokens)


@dataclass(frozen=True)
class ProfileModel:
    """A measured table of step times (see the module doc)."""

    grid_p: np.ndarray
    grid_d: np.ndarray
    table: np.ndarray

    def form(self) -> StepForm:
        return StepForm(1, np.zeros((1, 4)), self.grid_p, self.grid_d, self.table)

    def step_time_s(self, prefill_tokens: int, decode_seqs: int, kv_tokens: int) -> float:
        return eval_form(self.form(), prefill_tokens, decode_seqs, kv_tokens)


def read_profile(path: str | Path) -> ProfileModel:
    """Read a profile CSV (module doc); every problem names the file, row, line and column."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"step-time profile not found: {path}", file=str(path), path="step_model.path")
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"cannot read the profile as CSV: {exc}", file=str(path)) from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"profile has no column {missing[0]!r}; expected columns {', '.join(COLUMNS)}, "
                         f"found {', '.join(map(str, frame.columns))}", file=str(path), line=1)
    if frame.empty:
        raise InputError("the profile has no data rows", file=str(path))
    values = {}
    for col in COLUMNS:
        v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(v) | (v < 0) | ((v <= 0) if col == "step_time_s" else False)
        if bad.any():
            i = int(np.argmax(bad))
            need = "a number > 0" if col == "step_time_s" else "a number >= 0"
            raise InputError(f"{col} must be {need}, found {frame[col].iloc[i]!r}", file=str(path),
                             line=i + 2, path=f"row {i + 1}, column {col!r}")
        values[col] = v
    gp, gd = np.unique(values["prefill_tokens"]), np.unique(values["decode_seqs"])
    table = np.full((gp.size, gd.size), np.nan)
    ip = np.searchsorted(gp, values["prefill_tokens"])
    jd = np.searchsorted(gd, values["decode_seqs"])
    for row, (i, j) in enumerate(zip(ip, jd, strict=True)):
        if not np.isnan(table[i, j]):
            raise InputError(f"second row for prefill_tokens={gp[i]:g}, decode_seqs={gd[j]:g}", file=str(path),
                             line=row + 2, path=f"row {row + 1}, column 'prefill_tokens'")
        table[i, j] = values["step_time_s"][row]
    if np.isnan(table).any():
        i, j = (int(x[0]) for x in np.nonzero(np.isnan(table)))
        raise InputError(f"the grid is incomplete: no row for prefill_tokens={gp[i]:g}, decode_seqs={gd[j]:g} "
                         "(give every combination of the listed values)", file=str(path))
    return ProfileModel(gp, gd, table)


def step_model(spec, base_dir: str | Path | None = None):
    """The step model of a ``step_model:`` spec (linear or profile)."""
    if spec.kind == "linear":
        return LinearModel(spec.base_s, spec.prefill_s_per_token, spec.decode_s_per_seq, spec.kv_s_per_token)
    path = Path(spec.path).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return read_profile(path)


__all__ = ["LinearModel", "ProfileModel", "StepForm", "StepTimeModel", "eval_form", "read_profile", "step_model"]
