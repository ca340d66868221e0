"""The report's model-quality section: each resource's quality beside its cost.

Endpoints whose served model declares a quality report ``model_quality``; model monitors report
the time-averaged ``mean_quality`` of the models they watch, its minimum, the time below the
retraining threshold and the retrainings that kept it up; edge fleets the quality over all
requests of endpoint and devices. A run without either has no section.
"""

from __future__ import annotations

from smsim.report.content import ReportData, Section, Table, pct, usd


def _score(value) -> str:
    return "-" if value is None else f"{float(value):.4f}"


def quality_section(data: ReportData) -> Section | None:
    rows = []
    for run in data.runs:
        for r in run.summary.get("resources") or []:
            quality = next((r[k] for k in ("blended_quality", "mean_quality", "model_quality") if r.get(k) is not None),
                           None)
            if quality is None:
                continue
            below = r.get("share_below_threshold")
            rows.append([run.label, str(r.get("resource_id", "")), _score(quality), _score(r.get("min_quality", quality)),
                         "-" if below is None else pct(float(below)), str(r.get("retrainings_started", "-")),
                         usd(float(r.get("cost_usd", 0.0)))])
    if not rows:
        return None
    return Section("quality", "Model quality and cost", [Table(
        ["run", "resource", "quality (time mean)", "lowest", "time below threshold", "retrainings", "cost"], rows)])


__all__ = ["quality_section"]
