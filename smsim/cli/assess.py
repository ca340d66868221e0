"""``smsim assess``: ranked findings from a bill and its CloudWatch metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import ForceOpt, check_outputs, handles_errors, print_json, stdout


def register(app: typer.Typer) -> None:
    @app.command("assess")
    @handles_errors
    def assess(
        bill: Annotated[Path, typer.Argument(help="bill file or folder (CUR, CUR 2.0, FOCUS), or an imported run folder")],
        metrics: Annotated[Path | None, typer.Option(help="CloudWatch exports: get-metric-data JSON or CSV, file or folder")] = None,
        idle_days: Annotated[float, typer.Option(min=1.0, help="days without invocations that make an endpoint idle")] = 7.0,
        what_ifs: Annotated[Path | None, typer.Option(help="write the baseline scenario with one variant per finding")] = None,
        html: Annotated[Path | None, typer.Option(help="write the assessment as a self-contained HTML page")] = None,
        commit_model: Annotated[str, typer.Option(help="forecast model of the savings-plan sizing (smsim commit's)")] = "auto",
        force: ForceOpt = False,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
    ) -> None:
        """Where the money goes and what to change: findings ranked by saving per month, each with its what-if."""
        from smsim.api import assess_bill

        check_outputs([(what_ifs, "file", "--what-ifs"), (html, "file", "--html")], force=force,
                      inputs=[p for p in (bill, metrics) if p is not None])
        result = assess_bill(bill, metrics=metrics, idle_days=idle_days, what_ifs=what_ifs, html=html,
                             force=force, commit_model=commit_model)
        if json_:
            print_json(result.to_dict())
            return
        _print(result)


def _print(a) -> None:
    from rich.table import Table

    b = a.bill
    stdout.print(f"{b['format']} bill {b['name']}: {b['start']} + {b['days']:.1f} days, {b['total_cost_usd']:,.2f} USD",
                 highlight=False)
    table = Table("#", "USD/month", "confidence", "finding", "what-if", show_edge=False)
    for i, f in enumerate(a.findings, 1):
        table.add_row(str(i), f"{f.saving_usd_per_month:,.2f}", f.confidence, f.title,
                      f.what_if["name"] if f.what_if else "")
    stdout.print(table)
    for i, f in enumerate(a.findings, 1):
        stdout.print(f"{i}. {f.resource}: {f.evidence}", highlight=False)
    sp, t = a.savings_plans, a.tags
    stdout.print(f"savings plans: {sp.get('held_usd_per_hour', 0):.2f} USD/h held, coverage "
                 f"{sp.get('coverage_pct', 0):.1f} %, utilization {sp.get('utilization_pct', 0):.1f} %", highlight=False)
    stdout.print(f"tags explain {t['explained_pct']:.1f} % of the cost ({t['untagged_usd']:,.2f} USD untagged)",
                 highlight=False)
    spots = a.hotspots[a.hotspots["dimension"].isin(["component", "instance type"])].head(8)
    table = Table("top cost", "key", "USD", "share", "month-over-month", show_edge=False)
    for r in spots.itertuples(index=False):
        change = "" if r.change_pct != r.change_pct else f"{r.change_pct:+.1f} %"
        table.add_row(r.dimension, r.key, f"{r.cost_usd:,.2f}", f"{r.share_pct:.1f} %", change)
    stdout.print(table)
    if a.reconciliation:
        t = a.reconciliation["total"]
        stdout.print(f"baseline prices back to {t['simulated_usd']:,.2f} USD of {t['imported_usd']:,.2f} USD "
                     f"({t['difference_pct']:+.2f} %)", highlight=False)
    for note in a.notes:
        stdout.print(f"note: {note}", highlight=False)
    if a.what_ifs:
        stdout.print(f"what-ifs written to {a.what_ifs} (smsim compare {a.what_ifs})", highlight=False)
