"""``smsim run``, ``smsim validate`` and ``smsim schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import (
    ForceOpt,
    check_outputs,
    check_store,
    handles_errors,
    print_json,
    progress_bar,
    stderr,
    stdout,
    styled,
)


def print_warnings(warnings) -> None:
    """Each warning of a run summary on stderr, where it is seen even when stdout is piped."""
    for text in warnings or []:
        stderr.print(styled(("warning:", "bold yellow"), " ", text), highlight=False, soft_wrap=True)


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
        force: ForceOpt = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="run even when the request estimate is very large")] = False,
    ) -> None:
        """Simulate a scenario and print its cost summary."""
        from smsim import api

        if ledger_format not in ("parquet", "csv", "cur2", "focus"):
            from smsim.errors import InputError, did_you_mean

            raise InputError(f"--ledger-format must be parquet, csv, cur2 or focus, found {ledger_format!r}"
                             f"{did_you_mean(ledger_format, ('parquet', 'csv', 'cur2', 'focus'))}")
        check_outputs([(out, "dir", "--out")], force=force, inputs=[scenario])
        check_store(store, no_store)
        loaded = api.load_scenario(scenario)
        from smsim.scenario.checks import trace_files

        check_outputs([(out, "dir", "--out")], force=force, inputs=[scenario] + [f for _, f in trace_files(loaded)])
        _confirm_size(loaded, yes)
        with progress_bar(f"simulating {loaded.name}", enabled=not quiet and not json_) as progress:
            result = api.run_scenario(loaded, seed=seed, progress=progress)
        if out is not None:
            api.write_run(result, out, ledger_format=ledger_format, force=force)
        run_id = None
        if not no_store:
            from smsim.store import record_run

            run_id = record_run(result, "run", store=store, written=out)  # links --out's ledger
        if json_:
            print_json(result.summary)
            return
        from smsim.report.tables import summary_tables

        for table in summary_tables(result.summary):
            stdout.print(table)
            stdout.print()
        print_warnings(result.summary.get("warnings"))
        if out is not None:
            stdout.print(f"results written to {out}")
        if run_id:
            stdout.print(f"recorded as run {run_id} (smsim runs show {run_id[-6:]})")

    @app.command()
    @handles_errors
    def validate(scenario: Annotated[Path, typer.Argument(help="scenario YAML file")]) -> None:
        """Check a scenario file and every trace it names, without running it."""
        from smsim import api

        loaded = api.load_scenario(scenario)
        api.check_input_files(loaded)
        sections = {}
        for section, _ in loaded.resources():
            sections[section] = sections.get(section, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sections.items()) or "no resources"
        stdout.print(f"{scenario}: valid ({parts})")

    @app.command()
    @handles_errors
    def schema(
        out: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
        force: ForceOpt = False,
    ) -> None:
        """Print the JSON Schema of scenario files (for editor autocompletion)."""
        from smsim import api

        check_outputs([(out, "file", "--out")], force=force)
        document = api.scenario_json_schema()
        if out is None:
            print_json(document)
        else:
            from smsim import atomic

            atomic.write_text(out, json.dumps(document, indent=2) + "\n", force=force)


def _confirm_size(scenario, yes: bool) -> None:
    """Refuse (exit 2) to start simulating more than ``LARGE_RUN_REQUESTS`` requests one by one
    without ``--yes``; with it, say so loudly and go on."""
    from smsim.api import FLUID_KINDS, LARGE_RUN_REQUESTS, estimate_requests
    from smsim.cli._common import stderr
    from smsim.errors import InputError

    heavy = [e for e in estimate_requests(scenario) if e.tier == "request" and e.forced and e.requests]
    total = sum(e.requests for e in heavy)
    if total <= LARGE_RUN_REQUESTS:
        return
    lines = [f"this run simulates about {total:.2g} requests one by one (more than {LARGE_RUN_REQUESTS:.0e}):"]
    for e in heavy:
        advice = ("set fidelity: auto (or fluid) on it or on the scenario to use the per-minute fluid tier"
                  if e.kind in FLUID_KINDS else f"a {e.kind} endpoint has no fluid tier: shorten the horizon")
        lines.append(f"  {e.endpoint}: about {e.requests:.2g} requests at request fidelity; {advice}")
    if not yes:
        raise InputError("\n".join(lines + ["pass --yes to run it anyway"]), file=scenario.source)
    stderr.print(styled(("warning:", "bold yellow"), " ", "\n".join(lines)), highlight=False, soft_wrap=True)
