"""Report sections for monitoring: budgets (cumulative actual vs budget vs forecast per period,
a marker where each alert fired) from the budgets in a run's scenario, and cost anomalies (daily
spend with each anomaly shaded, and their table with root causes) for runs longer than the
anomaly detector's warm-up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smsim.report import plots
from smsim.report.content import Block, Figure, ReportData, RunView, Section, Table, Text, usd


def _run_span(run: RunView):
    horizon = run.summary.get("horizon") or {}
    if "start" not in horizon:
        return None, None
    start = pd.Timestamp(horizon["start"])
    return start, start + pd.Timedelta(seconds=float(horizon.get("duration_s", 0.0)))


def budgets_section(data: ReportData) -> Section | None:
    """Per budget and period: cumulative actual vs budget vs forecast, with alert markers."""
    from smsim.budgets.alerts import evaluate_timeline
    from smsim.budgets.spend import hourly_spend

    blocks: list[Block] = []
    rows = []
    for run in data.runs:
        if run.ledger is None or not run.budgets:
            continue
        start, end = _run_span(run)
        for budget in run.budgets:
            spend = hourly_spend(run.ledger, budget.filters, budget.cost, start=start, end=end)
            alerts, periods = evaluate_timeline(budget, spend)
            for p in periods:
                sel = spend[(spend.index >= pd.Timestamp(p["period_start"])) & (spend.index < pd.Timestamp(p["period_end"]))]
                cum = sel.cumsum()
                cum.index = cum.index + pd.Timedelta(hours=1)
                probe = budget.model_copy(update={"thresholds": []})
                forecast = _forecast_path(probe, spend, sel.index)
                marks = [(pd.Timestamp(a.fired_at), a.spend_usd, a.threshold) for a in alerts
                         if a.period_start == p["period_start"]]
                blocks.append(Figure(plots.budget_chart(cum, p["amount_usd"], forecast, marks,
                                                        f"{run.label}: {budget.name}, {p['period_start'][:10]}"),
                                     f"budget {budget.name}: {budget.filters.describe()}, {budget.cost}"))
                rows.append([run.label, budget.name, p["period_start"][:10], usd(p["amount_usd"]), usd(p["actual_usd"]),
                             "-" if p["forecast_usd"] is None else usd(p["forecast_usd"]),
                             f"{p['covered_hours']}/{p['period_hours']} h", ", ".join(p["alerts"]) or "-"])
    if not rows:
        return None
    table = Table(["run", "budget", "period", "budget", "actual", "forecast", "covered", "alerts"], rows)
    return Section("budgets", "Budgets", [table, *blocks])


def _forecast_path(budget, spend: pd.Series, index: pd.DatetimeIndex) -> pd.Series:
    """The forecast of the period's spend at each hour end (as alerts see it)."""
    import numpy as np

    from smsim.budgets.alerts import MIN_HISTORY_H, run_rate

    values = spend.to_numpy(float)
    rate = run_rate(values)
    pos = spend.index.get_indexer(index)
    pend = index[0] + {"month": pd.DateOffset(months=1), "quarter": pd.DateOffset(months=3),
                       "year": pd.DateOffset(years=1)}[budget.period]
    ends = index + pd.Timedelta(hours=1)
    left = ((pend - ends) / pd.Timedelta(hours=1)).to_numpy(float)
    cum = np.cumsum(values[pos])
    out = pd.Series(cum + rate[pos] * left, index=ends)
    return out.where(pos + 1 >= MIN_HISTORY_H)


def anomalies_section(data: ReportData) -> Section | None:
    """Daily spend with anomalies (per service and resource) shaded, and their table."""
    from smsim.anomalies.api import anomalies_in_cube
    from smsim.anomalies.detector import START
    from smsim.anomalies.monitors import Monitor
    from smsim.anomalies.spend import series_by, spend_cube

    blocks: list[Block] = []
    rows = []
    for run in data.runs:
        if run.ledger is None:
            continue
        start, end = _run_span(run)
        cube = spend_cube(run.ledger, start=start, end=end)
        if len(cube.attrs["steps"]) <= START["D"]:
            continue
        daily = series_by(cube, "total")["total"]
        dims = ["service"] + (["tag:smsim:resource"] if "tag:smsim:resource" in cube.columns else [])
        found = anomalies_in_cube(cube, [Monitor(dimension=d, min_impact_pct=10.0) for d in dims])
        spans = [(pd.Timestamp(a["start"]), pd.Timestamp(a["end"])) for a in found]
        blocks.append(Figure(plots.spend_with_anomalies(daily, spans, f"{run.label}: daily spend"),
                             "anomalies of at least 10 % of expected spend, per service and resource"))
        for a in found:
            cause = "; ".join(f"{c['resource']} {c['usage_type']}" for c in a["root_causes"]) or "-"
            rows.append([run.label, f"{a['monitor']}={a['key']}", a["start"][:10], a["end"][:10],
                         usd(a["expected_usd"]), usd(a["actual_usd"]), usd(a["impact_usd"]), cause])
    if not blocks:
        return None
    if rows:
        blocks.insert(0, Table(["run", "monitor", "start", "end", "expected", "actual", "impact", "root cause"], rows))
    else:
        blocks.insert(0, Text("no anomaly of at least 10 % of expected spend"))
    return Section("anomalies", "Cost anomalies", blocks)


def budgets_of(folder: Path) -> list:
    """The budgets in a run folder's ``scenario.resolved.yaml`` (none when absent)."""
    import yaml

    from smsim.budgets.spec import BudgetsFile

    path = folder / "scenario.resolved.yaml"
    if not path.exists():
        return []
    listed = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("budgets") or []
    return list(BudgetsFile.model_validate({"budgets": listed}).budgets) if listed else []
