"""The difference between variants: flat metrics per run, paired differences, t-intervals.

Every variant is run with the same replication seeds as the base (common random numbers), so
replication ``r`` of a variant and of the base saw the same random inputs wherever their
scenarios agree. The difference for replication ``r`` is ``d_r = variant_r - base_r``; the
reported difference is the mean of ``d_r`` with a Student-t interval over the R paired
differences (``mean ± t_{1-α/2, R-1} · sd / √R``). Pairing removes the variance the arms share,
so the interval is much narrower than one built from two independent samples. With ``R = 1``
there is no spread to estimate and the interval is reported as unavailable (``None``).

Costs missing from a run (a component the variant does not use) count as 0 USD; SLA figures
missing from a run are not comparable and stay missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

#: SLA and quality figures compared per resource, with their label and unit (quality is a
#: score such as AUC, higher is better, so quality sits beside cost).
SLA_METRICS = [
    ("latency_p99_s", "p99 latency", "s"),
    ("sla_attainment", "SLA attainment", "fraction"),
    ("timed_out", "timeouts", "requests"),
    ("model_quality", "model quality", "score"),
    ("mean_quality", "mean model quality", "score"),
    ("blended_quality", "quality over all requests", "score"),
    # LLM endpoints (token SLAs)
    ("ttft_p99_s", "TTFT p99", "s"),
    ("tpot_p99_s", "TPOT p99", "s"),
    ("goodput_share", "goodput", "fraction"),
    ("cost_per_1m_output_tokens_usd", "USD per 1M output tokens", "usd/1M tokens"),
]

CI_UNAVAILABLE = "confidence intervals need 2 or more replications (--replications R); with 1 they are unavailable"


@dataclass(frozen=True)
class Metric:
    """A compared figure: ``group`` (total, component, pricing, tag, sla) and its ``key``."""

    group: str
    key: str
    label: str
    unit: str

    @property
    def id(self) -> str:
        return f"{self.group}:{self.key}"

    @property
    def is_cost(self) -> bool:
        return self.unit == "usd"


def flat_metrics(summary: dict[str, Any]) -> dict[Metric, float]:
    """The comparable figures of one run summary."""
    out: dict[Metric, float] = {Metric("total", "total_cost_usd", "total cost", "usd"): float(summary.get("total_cost_usd", 0.0))}
    for name, value in (summary.get("cost_by_component") or {}).items():
        out[Metric("component", name, name, "usd")] = float(value)
    for name, value in (summary.get("cost_by_pricing") or {}).items():
        out[Metric("pricing", name, name, "usd")] = float(value)
    for tag, values in (summary.get("cost_by_tag") or {}).items():
        if str(tag).startswith("smsim:"):
            continue
        for value_name, value in values.items():
            label = f"{tag}={value_name}"
            out[Metric("tag", label, label, "usd")] = float(value)
    for res in summary.get("resources") or []:
        for key, label, unit in SLA_METRICS:
            value = res.get(key)
            if value is not None:
                rid = res.get("resource_id")
                out[Metric("sla", f"{rid}.{key}", f"{rid} {label}", unit)] = float(value)
    return out


def paired_interval(diffs: np.ndarray, confidence: float = 0.95) -> tuple[float, float | None, float | None]:
    """Mean of paired differences and its Student-t interval (``None`` bounds when R < 2)."""
    diffs = np.asarray(diffs, dtype=float)
    diffs = diffs[~np.isnan(diffs)]
    if len(diffs) == 0:
        return math.nan, None, None
    mean = float(diffs.mean())
    if len(diffs) < 2:
        return mean, None, None
    half = float(stats.t.ppf(0.5 + confidence / 2, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs)))
    return mean, mean - half, mean + half


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float | None, float | None]:
    """Mean of one arm's replications with its t-interval (same rule as the differences)."""
    return paired_interval(values, confidence)


def _clean(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def compare_summaries(arms: dict[str, list[dict[str, Any]]], *, base: str | None = None,
                      confidence: float = 0.95, seeds: list[int] | None = None) -> dict[str, Any]:
    """Compare arms (name -> one summary per replication, replications in seed order).

    Returns a JSON-able document: ``arms``, ``base``, ``replications``, ``confidence``,
    ``ci_available`` and ``rows``; one row per (metric, arm) with the arm's mean value, and for
    arms other than the base the mean paired difference, its interval and the relative change.
    """
    names = list(arms)
    if not names:
        raise ValueError("nothing to compare")
    base = base or names[0]
    reps = {len(v) for v in arms.values()}
    if len(reps) != 1:
        raise ValueError(f"every arm needs the same number of replications, found {sorted(reps)}")
    r = reps.pop()
    per_arm = {name: [flat_metrics(s) for s in summaries] for name, summaries in arms.items()}
    metrics: list[Metric] = []
    for name in names:
        for flat in per_arm[name]:
            for m in flat:
                if m not in metrics:
                    metrics.append(m)
    order = {"total": 0, "component": 1, "pricing": 2, "tag": 3, "sla": 4}
    metrics.sort(key=lambda m: order[m.group])

    def values(name: str, m: Metric) -> np.ndarray:
        default = 0.0 if m.is_cost else math.nan
        return np.array([flat.get(m, default) for flat in per_arm[name]], dtype=float)

    rows = []
    for m in metrics:
        base_values = values(base, m)
        for name in names:
            v = values(name, m)
            mean, lo, hi = mean_interval(v, confidence)
            row: dict[str, Any] = {
                "group": m.group, "metric": m.key, "label": m.label, "unit": m.unit, "arm": name,
                "value": _clean(mean), "value_ci": None if lo is None else [lo, hi],
            }
            if name != base:
                d_mean, d_lo, d_hi = paired_interval(v - base_values, confidence)
                base_mean = float(np.nanmean(base_values)) if not np.all(np.isnan(base_values)) else math.nan
                row["diff"] = _clean(d_mean)
                row["diff_ci"] = None if d_lo is None else [d_lo, d_hi]
                row["diff_pct"] = (_clean(d_mean / base_mean) if base_mean and not math.isnan(base_mean)
                                   and not math.isnan(d_mean) else None)
            rows.append(row)
    return {
        "base": base,
        "arms": names,
        "replications": r,
        "seeds": list(seeds) if seeds is not None else None,
        "confidence": confidence,
        "ci_available": r >= 2,
        "ci_note": None if r >= 2 else CI_UNAVAILABLE,
        "rows": rows,
    }
