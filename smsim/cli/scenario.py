"""``smsim scenario from-bill``: a baseline scenario that prices back to an imported bill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import ForceOpt, check_outputs, handles_errors, print_json, stdout


def register(app: typer.Typer) -> None:
    scenario = typer.Typer(help="Build scenarios from what an account already runs.", no_args_is_help=True)
    app.add_typer(scenario, name="scenario")

    @scenario.command("from-bill")
    @handles_errors
    def from_bill(
        bill: Annotated[Path, typer.Argument(help="bill file or folder (CUR, CUR 2.0, FOCUS), or an imported run folder")],
        out: Annotated[Path, typer.Option(help="the baseline scenario YAML to write")],
        metrics: Annotated[Path | None, typer.Option(
            help="CloudWatch exports (get-metric-data JSON or CSV): endpoints replay their invocations")] = None,
        name: Annotated[str | None, typer.Option(help="scenario name (default: the bill's name + '-baseline')")] = None,
        infer_discount: Annotated[bool, typer.Option(
            "--infer-discount/--no-infer-discount",
            help="put the bill's private (enterprise) discount into the baseline")] = True,
        check: Annotated[bool, typer.Option("--check/--no-check", help="price the baseline back and reconcile")] = True,
        force: ForceOpt = False,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
    ) -> None:
        """Write a baseline scenario that reproduces BILL, and reconcile its simulated bill with BILL."""
        from smsim.api import scenario_from_bill

        check_outputs([(out, "file", "--out")], force=force, inputs=[p for p in (bill, metrics) if p])
        result = scenario_from_bill(bill, out=out, metrics=metrics, name=name, infer_discount=infer_discount, check=check, force=force)
        if json_:
            print_json(result.to_dict())
            return
        print_reconciliation(result)


def print_reconciliation(result) -> None:
    from rich.table import Table

    b = result.baseline.data
    stdout.print(f"baseline {b['name']}: {len(b.get('endpoints', []))} endpoints, {len(b.get('fleets', []))} fleets, "
                 f"{sum(e['kind'] == 's3' for e in b.get('storage', []))} S3 data, "
                 f"{sum(e['kind'] == 'transfer' for e in b.get('storage', []))} transfers, "
                 f"{len(b.get('pricing', {}).get('savings_plans', []))} savings plans, enterprise discount "
                 f"{b.get('pricing', {}).get('enterprise_discount_pct', 0):g} % -> {result.out}", highlight=False)
    rec = result.reconciliation
    if rec is None:
        return
    t = rec.total
    stdout.print(f"imported {t['imported_usd']:,.2f} USD, simulated {t['simulated_usd']:,.2f} USD "
                 f"({t['difference_pct']:+.2f} %)", highlight=False)
    for frame, key, limit in ((rec.components, "component", None), (rec.resources, "resource", 15)):
        table = Table(key, "imported USD", "simulated USD", "diff USD", "why", show_edge=False)
        shown = frame if limit is None else frame.head(limit)
        for row in shown.itertuples(index=False):
            table.add_row(str(getattr(row, key))[-48:], f"{row.imported_usd:,.2f}", f"{row.simulated_usd:,.2f}",
                          f"{row.difference_usd:+,.2f}", row.why)
        stdout.print(table)
        if limit is not None and len(frame) > limit:
            stdout.print(f"... {len(frame) - limit} more resources (--json has them all)")
    verdict = "within" if rec.within_tolerance() else "NOT within"
    stdout.print(f"{verdict} tolerance (total and components 1 %, resources 2 %, rows explained above excepted)")
