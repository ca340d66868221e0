"""Service-level objectives the optimizer must meet: ``"p99<=250ms"``, ``"p999<=1s"``, ``"0.1%"``.

A latency objective ``pQ<=T`` holds when at least ``Q`` % of the requests are *served within*
``T`` seconds, counting timed-out and dropped requests as misses (the endpoint's
``sla_attainment``). ``p999`` and ``p99.9`` both mean the 99.9th percentile. An error-rate
objective holds when ``(timed_out + dropped + throttled) / requests`` is at most the given fraction.

Both are judged from one run's metrics by :func:`judge`, which also says by how much a miss
missed, so rejected candidates can be explained.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from smsim.errors import InputError
from smsim.units import parse_duration_s

_LATENCY_RE = re.compile(r"^\s*p(?P<q>\d+(?:\.\d+)?)\s*(?:<=|<|=<)\s*(?P<t>.+?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class LatencyObjective:
    """``percentile`` % of requests served within ``threshold_s``."""

    percentile: float
    threshold_s: float

    @property
    def allowed_miss(self) -> float:
        """Share of requests that may miss the threshold."""
        return 1.0 - self.percentile / 100.0

    def __str__(self) -> str:
        q = f"{self.percentile:g}"
        t = f"{self.threshold_s * 1000:g}ms" if self.threshold_s < 1 else f"{self.threshold_s:g}s"
        return f"p{q}<={t}"


def parse_latency(text: str) -> LatencyObjective:
    """``"p99<=250ms"`` -> ``LatencyObjective(99.0, 0.25)``. ``p999`` is read as 99.9."""
    m = _LATENCY_RE.match(str(text))
    if m is None:
        raise InputError(f"latency SLA {text!r} is not of the form 'p99<=250ms' or 'p999<=1s'", path="sla")
    q_text = m.group("q")
    q = float(q_text)
    if "." not in q_text and len(q_text) > 2 and q_text.startswith("99"):
        q = float(q_text[:2] + "." + q_text[2:])  # p999 -> 99.9, p9999 -> 99.99
    if not 0 < q < 100:
        raise InputError(f"latency SLA {text!r}: percentile {q:g} must be in (0, 100)", path="sla")
    try:
        t = parse_duration_s(m.group("t"))
    except ValueError as exc:
        raise InputError(f"latency SLA {text!r}: {exc}", path="sla") from None
    if t <= 0:
        raise InputError(f"latency SLA {text!r}: threshold must be > 0", path="sla")
    return LatencyObjective(percentile=q, threshold_s=t)


def parse_error_rate(value: str | float | None) -> float | None:
    """``"0.1%"`` -> 0.001; a bare number is a fraction (``0.001``); None means no objective."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        rate = float(value)
    else:
        text = str(value).strip()
        try:
            rate = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise InputError(f"error rate {value!r} is not a fraction (0.001) or a percentage ('0.1%')",
                             path="max_error_rate") from None
    if not (math.isfinite(rate) and 0.0 <= rate < 1.0):
        raise InputError(f"error rate {value!r} must be in [0, 1) (or [0%, 100%))", path="max_error_rate")
    return rate


@dataclass(frozen=True)
class Objectives:
    """What "meets the SLA" means: one latency objective and an optional error-rate ceiling."""

    latency: LatencyObjective
    max_error_rate: float | None = None

    def describe(self) -> str:
        s = str(self.latency)
        if self.max_error_rate is not None:
            s += f", errors<={self.max_error_rate:.4%}"
        return s


@dataclass(frozen=True)
class Verdict:
    """Whether one run met the objectives, and by how much each one was missed (0 when met)."""

    feasible: bool
    attainment: float
    error_rate: float
    latency_p99_s: float
    attainment_shortfall: float
    error_rate_excess: float
    missed: tuple[str, ...]

    @property
    def shortfall(self) -> float:
        """How far from meeting the objectives: attainment shortfall plus error-rate excess."""
        return self.attainment_shortfall + self.error_rate_excess

    def to_dict(self) -> dict[str, Any]:
        return {
            "feasible": self.feasible, "attainment": self.attainment, "error_rate": self.error_rate,
            "latency_p99_s": self.latency_p99_s, "attainment_shortfall": self.attainment_shortfall,
            "error_rate_excess": self.error_rate_excess, "missed": list(self.missed),
        }


def error_rate(metrics: dict[str, Any]) -> float:
    """Failed share of requests: timed out, dropped or throttled over all requests (0 with none)."""
    n = float(metrics.get("requests") or 0)
    if n <= 0:
        return 0.0
    failed = sum(float(metrics.get(k) or 0) for k in ("timed_out", "dropped", "throttled"))
    return failed / n


def judge(metrics: dict[str, Any], objectives: Objectives) -> Verdict:
    """Judge one endpoint's run metrics. A run without finished requests has attainment NaN and
    is judged infeasible (nothing was shown to meet the objective)."""
    att = float(metrics.get("sla_attainment", math.nan))
    err = error_rate(metrics)
    target = objectives.latency.percentile / 100.0
    missed = []
    short = 0.0 if att >= target else (target - att if math.isfinite(att) else target)
    if short > 0 or not math.isfinite(att):
        missed.append(str(objectives.latency))
    excess = 0.0
    if objectives.max_error_rate is not None and err > objectives.max_error_rate:
        excess = err - objectives.max_error_rate
        missed.append(f"errors<={objectives.max_error_rate:.4%}")
    p99 = float(metrics.get("latency_p99_s", math.nan))
    return Verdict(feasible=not missed, attainment=att, error_rate=err, latency_p99_s=p99,
                   attainment_shortfall=short, error_rate_excess=excess, missed=tuple(missed))


__all__ = [
    "LatencyObjective", "Objectives", "Verdict", "error_rate", "judge", "parse_error_rate", "parse_latency",
]
