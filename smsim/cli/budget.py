"""``smsim budget``: budget alerts over a run or bill, breach risk over a projection."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import JobsOption, handles_errors, print_json, stdout


def register(app: typer.Typer) -> None:
    @app.command()
    @handles_errors
    def budget(
        target: Annotated[Path, typer.Argument(help="scenario YAML, run or projection folder, or bill (CSV/Parquet)")],
        budgets: Annotated[Path | None, typer.Option("--budgets", help="YAML file with a budgets: list")] = None,
        project: Annotated[str | None, typer.Option("--project", help="project a scenario this far ahead (90d)")] = None,
        paths: Annotated[int, typer.Option("--paths", help="projection sample paths")] = 50,
        seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
        jobs: JobsOption = 1,
        fail_on_breach: Annotated[bool, typer.Option("--fail-on-breach",
                                                     help="exit 1 when a budget is breached")] = False,
        probability: Annotated[float, typer.Option("--breach-probability",
                                                   help="projection: breach when at least this likely")] = 0.5,
        jsonl: Annotated[bool, typer.Option("--jsonl", help="print alerts (or period risks) as JSON lines")] = False,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
    ) -> None:
        """Evaluate budgets: when each alert fires, or how likely and when a breach is."""
        from smsim.api import budget_report

        report = budget_report(target, budgets_file=budgets, project=project, n_paths=paths, seed=seed, jobs=jobs)
        if json_:
            print_json(report.summary())
        elif jsonl:
            rows = [a.record() for a in report.alerts] if report.kind == "timeline" else report.risk
            for row in rows:
                sys.stdout.write(json.dumps(row, sort_keys=False) + "\n")
        else:
            _print(report)
        breached = report.breached(probability)
        if fail_on_breach and breached:
            if not (json_ or jsonl):
                stdout.print(f"budget breached: {', '.join(breached)}", highlight=False)
            raise typer.Exit(1)


def _print(report) -> None:
    from rich.table import Table

    if report.kind == "timeline":
        table = Table(title=f"budgets over {report.source}")
        for col in ("budget", "period", "budget USD", "actual USD", "%", "forecast USD", "covered", "alerts"):
            table.add_column(col, justify="right" if "USD" in col or col == "%" else "left")
        for p in report.periods:
            table.add_row(p["budget"], p["period_start"][:10], f"{p['amount_usd']:,.2f}", f"{p['actual_usd']:,.2f}",
                          "" if p["actual_pct"] is None else f"{p['actual_pct']:.1f}",
                          "" if p["forecast_usd"] is None else f"{p['forecast_usd']:,.2f}",
                          f"{p['covered_hours']}/{p['period_hours']} h", ", ".join(p["alerts"]))
        stdout.print(table)
        for a in report.alerts:
            at = f" (crossed {a.crossed_at})" if a.crossed_at else f" (forecast {a.forecast_usd:,.2f})"
            stdout.print(f"{a.fired_at}  {a.budget}: {a.threshold} (${a.limit_usd:,.2f}) at spend "
                         f"${a.spend_usd:,.2f}{at}; {a.filter}, {a.cost}", highlight=False)
        if not report.alerts:
            stdout.print("no alert fired")
        if any(b.actions for b in report.budgets):
            for a in report.actions:
                stdout.print(f"action {a.kind} ({a.budget}, actual > {a.at_percent:g}%) taken at {a.fired_at}"
                             + (f" on {', '.join(a.resources)}" if a.resources else ""), highlight=False)
            if not report.actions:
                stdout.print("no action was taken (no action threshold was crossed)")
            for before, after in zip(report.periods, report.periods_with_actions, strict=True):
                stdout.print(f"{before['budget']} {before['period_start'][:10]}: ${before['actual_usd']:,.2f} without "
                             f"actions, ${after['actual_usd']:,.2f} with them", highlight=False)
        return
    table = Table(title=f"budget risk over {report.n_paths} paths of {report.source}")
    for col in ("budget", "period", "days", "budget USD", "P50 spend", "P90 spend", "P(breach)", "P50 date",
                "P90 date"):
        table.add_column(col, justify="left" if col in ("budget", "period") else "right")
    for r in report.risk:
        b = r["breach"]
        table.add_row(r["budget"], r["period_start"], f"{r['covered_hours'] / 24:g}/{r['period_hours'] / 24:g}",
                      f"{r['amount_usd']:,.2f}", f"{r['spend_usd']['p50']:,.2f}",
                      f"{r['spend_usd']['p90']:,.2f}", f"{b['probability']:.0%}", b["p50_date"] or "-",
                      b["p90_date"] or "-")
    stdout.print(table)
