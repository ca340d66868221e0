"""``smsim bill import``: an AWS bill (CUR, CUR 2.0, FOCUS) as a run of kind ``actual``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import (
    ForceOpt,
    check_outputs,
    check_store,
    handles_errors,
    print_json,
    stdout,
)


def register(app: typer.Typer) -> None:
    bill = typer.Typer(help="Import AWS bills.", no_args_is_help=True)
    app.add_typer(bill, name="bill")

    @bill.command("import")
    @handles_errors
    def import_(
        source: Annotated[Path, typer.Argument(help="bill file (CSV, CSV.gz, Parquet) or folder of parts")],
        format_: Annotated[str, typer.Option("--format", help="auto, cur, cur2 or focus")] = "auto",
        out: Annotated[Path | None, typer.Option(help="also write ledger.parquet and summary.json to this folder")] = None,
        name: Annotated[str | None, typer.Option(help="name of the run (default: the file or folder name)")] = None,
        store: Annotated[Path | None, typer.Option("--store", help="results store folder (default $SMSIM_STORE or ./.smsim/runs)")] = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="do not record the bill in the results store")] = False,
        force: ForceOpt = False,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
    ) -> None:
        """Import a bill; it is recorded as a run of kind "actual", which runs query, report and commit read."""
        from smsim.bill import import_bill

        check_outputs([(out, "dir", "--out")], force=force, inputs=[source])
        check_store(store, no_store)
        summary = import_bill(source, fmt=format_, name=name, store=store, out=out, force=force,
                              record=not no_store)
        if json_:
            print_json(summary)
            return
        _print(summary, out)


def _print(summary: dict, out: Path | None) -> None:
    from rich.table import Table

    stdout.print(f"{summary['format']} bill {summary['scenario']}: {summary['lines']:,} lines in "
                 f"{len(summary['files'])} file(s), {summary['horizon']['start']} + "
                 f"{summary['horizon']['duration_s'] / 86400:.2f} days", highlight=False)
    stdout.print(f"total {summary['total_cost_usd']:,.2f} USD (amortized {summary['net_cost_usd']:,.2f} USD)",
                 highlight=False)
    for title, key in (("component", "cost_by_component"), ("pricing class", "cost_by_pricing_class"),
                       ("month", "cost_by_month")):
        table = Table(title, "USD", show_edge=False)
        for k, v in summary[key].items():
            table.add_row(k or "(none)", f"{v:,.2f}")
        stdout.print(table)
    if out is not None:
        stdout.print(f"written to {out}")
    if summary.get("run_id"):
        rid = summary["run_id"]
        stdout.print(f"recorded as run {rid} (smsim runs show {rid[-6:]})")
