"""``smsim runs list|show|rm|gc|query|costs``: the results store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.atomic import ABANDONED_AFTER_S
from smsim.cli._common import handles_errors, print_json, stdout, styled

StoreOpt = Annotated[Path | None, typer.Option("--store", help="results store folder (default $SMSIM_STORE or ./.smsim/runs)")]


def _cell(value) -> str:
    """A query result value as table text: SQL NULL (None, NaN, NA, NaT) is an empty cell."""
    import pandas as pd

    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return str(value)


def _frame_table(frame, title: str | None = None):
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False)
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def register(app: typer.Typer) -> None:
    runs = typer.Typer(help="List, show, remove, clean and query recorded runs.", no_args_is_help=True)
    app.add_typer(runs, name="runs")

    @runs.command("list")
    @handles_errors
    def list_(store: StoreOpt = None, kind: Annotated[str | None, typer.Option(help="only this kind")] = None,
              json_: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Recorded runs, oldest first."""
        from smsim.store import Store

        frame = Store(store).list(kind)
        if json_:
            print_json(frame.astype(object).where(frame.notna(), None).assign(
                created=frame["created"].astype(str)).to_dict("records"))
            return
        import pandas as pd

        cols = ["run_id", "kind", "created", "scenario", "label", "seed", "total_cost_usd", "catalog_as_of"]
        shown = frame[cols].copy()
        shown["created"] = shown["created"].dt.strftime("%Y-%m-%d %H:%M:%S")
        shown["total_cost_usd"] = shown["total_cost_usd"].map(lambda v: "" if pd.isna(v) else f"${v:,.2f}")
        stdout.print(_frame_table(shown))
        stdout.print(f"{len(frame)} run(s) in {Store(store).path}")

    @runs.command("show")
    @handles_errors
    def show(run_id: str, store: StoreOpt = None, json_: Annotated[bool, typer.Option("--json")] = False) -> None:
        """One run: provenance and its summary."""
        from smsim.store import Store

        doc = Store(store).show(run_id)
        if json_:
            print_json(doc)
            return
        from smsim.report.tables import summary_tables

        for key in ("run_id", "kind", "created", "label", "scenario_hash", "smsim_version", "source"):
            if doc.get(key):
                stdout.print(styled((key, "bold"), f": {doc[key]}"), highlight=False)
        stdout.print()
        for table in summary_tables(doc["summary"]):
            stdout.print(table)
            stdout.print()

    @runs.command("rm")
    @handles_errors
    def rm(run_id: str, store: StoreOpt = None) -> None:
        """Remove one run."""
        from smsim.store import Store

        stdout.print(f"removed {Store(store).remove(run_id)}")

    @runs.command("gc")
    @handles_errors
    def gc(
        store: StoreOpt = None,
        older_than_s: Annotated[float, typer.Option(
            "--older-than-s", min=0.0,
            help="age after which a temporary of another host (shared store) counts as abandoned")] = ABANDONED_AFTER_S,
    ) -> None:
        """Remove what killed recordings left behind; recordings in progress are kept."""
        from smsim.store import Store

        restored: list[str] = []
        removed = Store(store).gc(older_than_s=older_than_s, restored=restored)
        for name in restored:
            stdout.print(f"restored {name} (moved aside by a write killed midway)", highlight=False)
        for name in removed:
            stdout.print(f"removed {name}", highlight=False)
        stdout.print(f"{len(removed)} leftover(s) removed from {Store(store).path}", highlight=False)

    @runs.command("query")
    @handles_errors
    def query(
        sql: str, store: StoreOpt = None, json_: Annotated[bool, typer.Option("--json")] = False,
        allow_files: Annotated[bool, typer.Option(
            "--allow-files", help="run any SQL with DuckDB's full access to files (COPY, ATTACH, read_csv...)")] = False,
    ) -> None:
        """Read-only SQL over views runs, ledger, resources, series (DuckDB); no other files."""
        from smsim.store import Store

        frame = Store(store).query(sql, allow_files=allow_files)
        if json_:
            print_json(frame.astype(object).where(frame.notna(), None).to_dict("records"))
            return
        stdout.print(_frame_table(frame))

    @runs.command("costs")
    @handles_errors
    def costs(
        by: Annotated[list[str] | None, typer.Option(
            "--by", help="group by: run_id, day, or a ledger column such as smsim/component, lineItem/ResourceId, "
                         "resourceTags/user:team (repeat for several)")] = None,
        cost: Annotated[str, typer.Option(help="amortized (net of savings plans) or unblended")] = "amortized",
        run: Annotated[list[str] | None, typer.Option("--run", help="only this run (repeat for several)")] = None,
        store: StoreOpt = None, json_: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Cost across stored runs by run, day, component, resource or tag, from the daily aggregates."""
        from smsim.store import Store

        frame = Store(store).costs(by or ["run_id"], cost=cost, runs=run)
        if json_:
            print_json(frame.astype(object).where(frame.notna(), None).to_dict("records"))
            return
        shown = frame.assign(cost_usd=frame["cost_usd"].map(lambda v: f"${v:,.2f}"))
        stdout.print(_frame_table(shown))
        stdout.print(f"{len(frame)} row(s), from {frame.attrs['source'] or 'no ledger'}")

