"""``smsim report``: HTML and Markdown reports of recorded runs or run folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import ForceOpt, check_outputs, handles_errors, stdout


def register(app: typer.Typer) -> None:
    @app.command()
    @handles_errors
    def report(
        runs: Annotated[list[str], typer.Argument(help="run folders (smsim run --out) or run ids in the store")],
        html: Annotated[Path | None, typer.Option("--html", help="write the HTML report here")] = None,
        md: Annotated[Path | None, typer.Option("--md", help="write the Markdown report here")] = None,
        title: Annotated[str, typer.Option(help="report title")] = "smsim report",
        store: Annotated[Path | None, typer.Option("--store", help="results store folder")] = None,
        force: ForceOpt = False,
    ) -> None:
        """A self-contained report (cost, time series, SLA, savings plans) of one or more runs."""
        from smsim.errors import InputError
        from smsim.report.content import ReportData
        from smsim.report.html import write_html
        from smsim.report.markdown import write_markdown
        from smsim.report.runs import load_run_view
        from smsim.store import Store

        if html is None and md is None:
            raise InputError("give --html FILE and/or --md FILE")
        check_outputs([(html, "file", "--html"), (md, "file", "--md")], force=force)
        data = ReportData(title, [load_run_view(ref, store=Store(store)) for ref in runs])
        for path, write in ((html, write_html), (md, write_markdown)):
            if path is not None:
                write(data, path, force=force)
                stdout.print(f"report written to {path}")
