"""``smsim compare``: variants or scenario files against a base, on common random numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import (
    JobsOption,
    SchedulerOption,
    check_store,
    handles_errors,
    print_json,
    progress_bar,
    stderr,
    stdout,
)


def register(app: typer.Typer) -> None:
    @app.command()
    @handles_errors
    def compare(
        scenarios: Annotated[list[Path], typer.Argument(help="base scenario, then others (or one file with variants:)")],
        replications: Annotated[int, typer.Option("--replications", "-r", help="replications per arm (same seeds in every arm)")] = 1,
        seed: Annotated[int | None, typer.Option(help="override the base scenario's seed")] = None,
        jobs: JobsOption = 1,
        scheduler: SchedulerOption = None,
        resume: Annotated[bool, typer.Option("--resume", help="reuse runs already in the store (same arm, scenario hash and seed)")] = False,
        store: Annotated[Path | None, typer.Option("--store", help="results store folder")] = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="do not record the runs")] = False,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    ) -> None:
        """Diff cost and SLA figures of variants against the base, with confidence intervals."""
        from smsim.compare import compare as run_compare
        from smsim.compare.tables import comparison_notes, comparison_tables
        from smsim.store import Store

        check_store(store, no_store)
        st = None if no_store else Store(store)
        try:
            with progress_bar("comparing", enabled=not quiet and not json_) as progress:
                result = run_compare(scenarios, replications=replications, seed=seed, jobs=jobs,
                                     scheduler=scheduler, resume=resume, store=st, progress=progress)
        except KeyboardInterrupt:
            if st is None:
                raise
            stderr.print(f"interrupted; finished runs are recorded in {st.path}: rerun with --resume")
            raise typer.Exit(130) from None
        if json_:
            print_json(result.document)
            return
        for table in comparison_tables(result.document):
            stdout.print(table)
            stdout.print()
        for line in comparison_notes(result.document):
            stdout.print(line, highlight=False)
