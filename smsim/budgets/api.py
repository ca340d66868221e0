"""Budgets over what smsim can read: a run (with its scenario), a run folder (``smsim run
--out``), a projection (in memory, or a folder written by ``smsim project --out``) or an imported
bill (a CUR-shaped CSV or Parquet file).

The budgets arrive loaded (:class:`BudgetsSource`): reading scenarios and budget files, and
running or projecting a scenario, is done above, by :func:`smsim.api.budget_report`, since the
scenario model itself imports :mod:`smsim.budgets.spec`. A projection folder keeps each path's
total hourly spend only, so its budgets cannot filter; project the scenario for filtered
budgets over paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from smsim.billing.views import read_run_ledger
from smsim.budgets.alerts import Alert, evaluate_timeline
from smsim.budgets.risk import breach_risk
from smsim.budgets.spec import Budget
from smsim.budgets.spend import hourly_spend
from smsim.errors import InputError


@dataclass
class BudgetReport:
    """What ``smsim budget`` prints: alerts and period standing (timelines), or breach risk (paths)."""

    source: str
    kind: str  # "timeline" or "projection"
    budgets: list[Budget]
    alerts: list[Alert] = field(default_factory=list)
    periods: list[dict] = field(default_factory=list)
    risk: list[dict] = field(default_factory=list)
    n_paths: int | None = None
    actions: list = field(default_factory=list)  # actions taken in the what-if
    periods_with_actions: list[dict] = field(default_factory=list)

    def breached(self, probability: float = 0.5) -> list[str]:
        """Budgets breached in some period (a timeline), or with a breach probability of at least
        ``probability`` in some period (a projection)."""
        if self.kind == "timeline":
            names = [p["budget"] for p in self.periods if p["breached"]]
        else:
            names = [r["budget"] for r in self.risk if r["breach"]["probability"] >= probability]
        return sorted(set(names))

    def summary(self) -> dict:
        doc = {"source": self.source, "kind": self.kind,
               "budgets": [json.loads(b.model_dump_json()) for b in self.budgets]}
        if self.kind == "timeline":
            doc["alerts"] = [a.record() for a in self.alerts]
            doc["periods"] = self.periods
            if any(b.actions for b in self.budgets):
                doc["actions"] = [a.record() for a in self.actions]
                doc["periods_with_actions"] = self.periods_with_actions
        else:
            doc["n_paths"] = self.n_paths
            doc["risk"] = self.risk
        return doc


@dataclass
class BudgetsSource:
    """Budgets and where they were read from. ``locate`` gives the line and column of a place
    in ``file`` (the loader's position index), for errors found only once the bill is read,
    such as a tag filter on a tag the bill does not carry."""

    budgets: list[Budget]
    file: str | None = None
    locate: Callable[[tuple], tuple[int | None, int | None]] | None = None


def require_budgets(source: BudgetsSource) -> BudgetsSource:
    """``source``, unless it holds no budget (an error pointing at where they were looked for)."""
    if not source.budgets:
        raise InputError("no budgets: add a budgets: section to the scenario or pass --budgets FILE",
                         file=source.file, path="budgets")
    return source


def check_tags(source: BudgetsSource, ledger: pd.DataFrame) -> None:
    """Every tag filter names a tag some line of the bill carries; the error points at the filter."""
    from smsim.billing.views import TAG_PREFIX
    from smsim.budgets.spec import tag_filter_errors

    known = {c[len(TAG_PREFIX):] for c in ledger.columns if c.startswith(TAG_PREFIX)}
    for loc, _key, message in tag_filter_errors(source.budgets, known):
        line = column = None
        if source.locate is not None:
            line, column = source.locate(loc)
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        raise InputError(message, file=source.file, line=line, column=column, path=path)


def evaluate_ledger(ledger: pd.DataFrame, budgets: list[Budget], *, start=None, end=None,
                    source: str = "", window_h: int | None = None) -> BudgetReport:
    """Alerts and period standing of every budget over one hourly ledger."""
    from smsim.budgets.alerts import WINDOW_H

    report = BudgetReport(source=source, kind="timeline", budgets=budgets)
    for i, b in enumerate(budgets):
        try:
            spend = hourly_spend(ledger, b.filters, b.cost, start=start, end=end)
        except InputError as exc:
            raise InputError(exc.message, file=source or None, path=f"budgets[{i}].{exc.path}") from None
        alerts, periods = evaluate_timeline(b, spend, window_h=window_h or WINDOW_H)
        report.alerts += alerts
        report.periods += periods
    report.alerts.sort(key=lambda a: (a.fired_at, a.budget))
    return report


def evaluate_paths(spend_by_budget: dict[str, np.ndarray], budgets: list[Budget], start, *,
                   source: str = "") -> BudgetReport:
    """Breach risk of every budget over ``(n_paths, hours)`` spend matrices (one per budget)."""
    n = next(iter(spend_by_budget.values())).shape[0] if spend_by_budget else 0
    report = BudgetReport(source=source, kind="projection", budgets=budgets, n_paths=n)
    for b in budgets:
        report.risk += breach_risk(b, spend_by_budget[b.name], start)
    return report


def read_folder_summary(folder: Path) -> dict:
    """The ``summary.json`` of a run or projection folder."""
    summary_path = folder / "summary.json"
    if not summary_path.exists():
        raise InputError("not a run or projection folder (no summary.json)", file=str(folder))
    return json.loads(summary_path.read_text())


def folder_report(folder: Path, summary: dict, found: BudgetsSource, budgets_file=None) -> BudgetReport:
    """Budgets over a run folder's ledger, or over a projection folder's paths."""
    budgets = found.budgets
    start = pd.Timestamp(summary["horizon"]["start"])
    if summary.get("kind") == "project":
        return _projection_folder(folder, budgets, start, budgets_file)
    end = start + pd.Timedelta(seconds=float(summary["horizon"]["duration_s"]))
    ledger = read_run_ledger(folder)
    check_tags(found, ledger)
    return evaluate_ledger(ledger, budgets, start=start, end=end, source=str(folder))


def run_report(scenario, result, budgets: list[Budget], source: str) -> BudgetReport:
    """Budgets over the run ``result`` of ``scenario``, with the what-if of their actions."""
    start = pd.Timestamp(scenario.horizon.start)
    end = start + pd.Timedelta(seconds=scenario.horizon.duration_s)
    report = evaluate_ledger(result.ledger, budgets, start=start, end=end, source=source)
    if any(b.actions for b in budgets):
        _with_actions(report, result, budgets, start, end)
    return report


def bill_report(path: Path, found: BudgetsSource) -> BudgetReport:
    """Budgets over an imported bill (CUR-shaped CSV or Parquet)."""
    ledger = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    check_tags(found, ledger)
    return evaluate_ledger(ledger, found.budgets, source=str(path))


def _with_actions(report: BudgetReport, result, budgets: list[Budget], start, end) -> None:
    """Fill the report's what-if: the actions taken and each period's spend with them."""
    from smsim.billing.ledger import build_ledger
    from smsim.budgets.actions import what_if
    from smsim.pricing.catalog import catalog_for

    scenario = result.scenario
    catalog = catalog_for(scenario)

    def rebill(usage):
        return build_ledger(usage, catalog=catalog, region=scenario.region, horizon_start=scenario.horizon.start,
                            horizon_s=scenario.horizon.duration_s, pricing=scenario.pricing)

    ledger, applied = what_if(result, budgets, rebill)
    report.actions = applied
    report.periods_with_actions = evaluate_ledger(ledger, budgets, start=start, end=end).periods


def _projection_folder(folder: Path, budgets: list[Budget], start, budgets_file) -> BudgetReport:
    for i, b in enumerate(budgets):
        if not b.filters.is_empty() or b.cost != "amortized":
            raise InputError("a projection folder keeps each path's total amortized spend only; "
                             "for filtered or unblended budgets run `smsim budget SCENARIO --project HORIZON`",
                             file=str(budgets_file or folder / "scenario.resolved.yaml"), path=f"budgets[{i}]")
    paths = pd.read_parquet(folder / "paths.parquet", columns=["path", "timestamp", "spend_usd"])
    matrix = paths.pivot(index="path", columns="timestamp", values="spend_usd").sort_index(axis=1)
    first = pd.Timestamp(matrix.columns[0])
    spend = matrix.to_numpy(float)
    return evaluate_paths({b.name: spend for b in budgets}, budgets, first if first.tzinfo else start,
                          source=str(folder))


def projection_report(proj, budgets: list[Budget], source: str) -> BudgetReport:
    """Breach risk of every budget over a projection kept with its paths' ledgers."""
    start = proj.start.tz_localize("UTC")
    end = start + pd.Timedelta(hours=proj.hours)
    matrices = {}
    for i, b in enumerate(budgets):
        rows = []
        for run in proj.runs:
            try:
                rows.append(hourly_spend(run.ledger, b.filters, b.cost, start=start, end=end).to_numpy(float))
            except InputError as exc:
                raise InputError(exc.message, file=source, path=f"budgets[{i}].{exc.path}") from None
        matrices[b.name] = np.vstack(rows)
    return evaluate_paths(matrices, budgets, start, source=source)
