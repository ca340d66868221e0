"""``smsim run``, ``smsim validate`` and ``smsim schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import handles_errors, print_json, progress_bar, stdout


def register(app: typer.Typer) -> None:
    @app.command()
    @handles_errors
    def run(
        scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
        seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
        out: Annotated[Path | None, typer.Option(help="write summary, ledger and series to this folder")] = None,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
        ledger_format: Annotated[str, typer.Option(help="parquet, csv, cur2 (AWS CUR 2.0) or focus (FOCUS 1.0)")] = "parquet",
        store: Annotated[
            Path | None, typer.Option("--store", help="results store folder (default $SMSIM_STORE or ./.smsim/runs)")
        ] = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="do not record the run in the results store")] = False,
    ) -> None:
        """Simulate a scenario and print its cost summary."""
        from smsim import api

        if ledger_format not in ("parquet", "csv", "cur2", "focus"):
            from smsim.errors import InputError, did_you_mean

            raise InputError(f"--ledger-format must be parquet, csv, cur2 or focus, found {ledger_format!r}"
                             f"{did_you_mean(ledger_format, ('parquet', 'csv', 'cur2', 'focus'))}")
        loaded = api.load_scenario(scenario)
        with progress_bar(f"simulating {loaded.name}", enabled=not quiet and not json_) as progress:
            result = api.run_scenario(loaded, seed=seed, progress=progress)
        if out is not None:
            api.write_run(result, out, ledger_format=ledger_format)
        run_id = None
        if not no_store:
            from smsim.store import record_run

            run_id = record_run(result, "run", store=store)
        if json_:
            print_json(result.summary)
            return
        from smsim.report.tables import summary_tables

        for table in summary_tables(result.summary):
            stdout.print(table)
            stdout.print()
        if out is not None:
            stdout.print(f"results written to {out}")
        if run_id:
            stdout.print(f"recorded as run {run_id} (smsim runs show {run_id[-6:]})")

    @app.command()
    @handles_errors
    def validate(scenario: Annotated[Path, typer.Argument(help="scenario YAML file")]) -> None:
        """Check a scenario file without running it."""
        from smsim import api

        loaded = api.load_scenario(scenario)
        sections = {}
        for section, _ in loaded.resources():
            sections[section] = sections.get(section, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sections.items()) or "no resources"
        stdout.print(f"{scenario}: valid ({parts})")

    @app.command()
    def schema(
        out: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
    ) -> None:
        """Print the JSON Schema of scenario files (for editor autocompletion)."""
        from smsim import api

        document = api.scenario_json_schema()
        if out is None:
            print_json(document)
        else:
            from smsim import atomic

            atomic.write_text(out, json.dumps(document, indent=2) + "\n")
