"""Objectives of the training optimizer: ``metric<=value`` or ``metric>=value`` over a job's run
metrics, and the verdict of one run against them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from smsim.errors import InputError, did_you_mean
from smsim.scenario.optimize import TrainingSpace

_OBJ_RE = re.compile(r"^\s*(?P<m>[a-z_][a-z0-9_]*)\s*(?P<op><=|>=|<|>)\s*(?P<v>[-+0-9.eE]+)\s*(?P<pct>%)?\s*$")


_QUANTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0}


_ELAPSED = {"mean_job_elapsed_hours", "max_job_elapsed_hours"} | {f"{q}_job_elapsed_hours" for q in _QUANTILES}


@dataclass(frozen=True)
class Objective:
    metric: str
    op: str  # "<=" | ">=" | "<" | ">"
    value: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def holds(self, x: float) -> bool:
        if x is None or not math.isfinite(x):
            return False
        return {"<=": x <= self.value, "<": x < self.value, ">=": x >= self.value, ">": x > self.value}[self.op]

    def miss(self, x: float) -> float:
        """How far ``x`` is from meeting the objective, relative to its threshold (0 when met)."""
        if self.holds(x):
            return 0.0
        if x is None or not math.isfinite(x):
            return math.inf
        scale = abs(self.value) or 1.0
        return abs(x - self.value) / scale


def parse_objective(text: str) -> Objective:
    """``"mean_job_elapsed_hours<=6"`` -> ``Objective("mean_job_elapsed_hours", "<=", 6.0)``."""
    m = _OBJ_RE.match(str(text))
    if m is None:
        raise InputError(f"training objective {text!r} is not of the form 'metric<=value' or 'metric>=value'",
                         path="optimize.training")
    v = float(m.group("v")) / (100.0 if m.group("pct") else 1.0)
    return Objective(m.group("m"), m.group("op"), v)


def parse_objectives(ts: TrainingSpace) -> list[Objective]:
    objs = [parse_objective(ts.deadline)] if ts.deadline else []
    if ts.completion_rate is not None:
        objs.append(Objective("completion_rate", ">=", float(ts.completion_rate)))
    objs.extend(parse_objective(t) for t in ts.objectives)
    if not objs:
        raise InputError("optimize.training needs an objective: deadline, completion_rate or objectives",
                         path="optimize.training")
    return objs


@dataclass
class TrainingVerdict:
    values: dict[str, float]
    missed: list[str]
    shortfall: float  # sum of relative misses

    @property
    def feasible(self) -> bool:
        return not self.missed


def judge(objectives: list[Objective], metrics: dict[str, Any]) -> TrainingVerdict:
    values, missed, short = {}, [], 0.0
    for o in objectives:
        x = metrics.get(o.metric)
        if x is None:
            raise InputError(f"training objective {o}: unknown metric {o.metric!r}"
                             f"{did_you_mean(o.metric, [k for k, v in metrics.items() if _numeric(v)])}",
                             path="optimize.training")
        x = float(x)
        values[o.metric] = x
        if not o.holds(x):
            missed.append(f"{o} (got {x:.4g})")
            short += o.miss(x)
    return TrainingVerdict(values, missed, short)


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
