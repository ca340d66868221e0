"""``smsim bench``: run a folder of scenarios, rank them by cost, write a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import (
    ForceOpt,
    JobsOption,
    SchedulerOption,
    check_outputs,
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
    def bench(
        folder: Annotated[Path, typer.Argument(help="folder of scenario YAML files")],
        report: Annotated[Path | None, typer.Option("--report", help="write an HTML report here")] = None,
        md: Annotated[Path | None, typer.Option("--md", help="write a Markdown report here")] = None,
        jobs: JobsOption = 1,
        scheduler: SchedulerOption = None,
        resume: Annotated[bool, typer.Option("--resume", help="skip scenarios already recorded with the same hash and seed")] = False,
        seed: Annotated[int | None, typer.Option(help="override every scenario's seed")] = None,
        store: Annotated[Path | None, typer.Option("--store", help="results store folder")] = None,
        json_: Annotated[bool, typer.Option("--json", help="print the ranking as JSON")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
        force: ForceOpt = False,
        title: Annotated[str | None, typer.Option(
            "--title", help="report title (default: the folder's and the scenarios' names)")] = None,
    ) -> None:
        """Run every scenario in FOLDER (interrupt-safe; --resume continues) and rank them by cost."""
        from smsim.compare.bench import bench_title, run_bench
        from smsim.report.content import ReportData, usd
        from smsim.report.html import write_html
        from smsim.report.markdown import write_markdown
        from smsim.report.runs import load_run_view
        from smsim.store import Store

        check_outputs([(report, "file", "--report"), (md, "file", "--md")], force=force, inputs=[folder])
        check_store(store)
        st = Store(store)
        try:
            with progress_bar(f"bench {folder}", enabled=not quiet and not json_) as progress:
                result = run_bench(folder, store=st, jobs=jobs, scheduler=scheduler, resume=resume, seed=seed, progress=progress)
        except KeyboardInterrupt:
            stderr.print(f"interrupted; finished runs are recorded in {st.path}: rerun with --resume")
            raise typer.Exit(130) from None
        if report is not None or md is not None:
            views = [load_run_view(st.run_dir(row["run_id"]), label=row["label"]) for row in result.rows]
            data = ReportData(title or bench_title(folder, result.rows), views, ranking=result.rows)
            if report is not None:
                write_html(data, report, force=force)
            if md is not None:
                write_markdown(data, md, force=force)
        if json_:
            print_json(result.rows)
            return
        from rich.table import Table

        table = Table(title="Ranking", title_justify="left", show_edge=False)
        for col in ("rank", "scenario", "total cost", "worst p99", "lowest SLA met", ""):
            table.add_column(col, justify="left" if col == "scenario" else "right")
        for r in result.rows:
            table.add_row(str(r["rank"]), r["label"], usd(r["total_cost_usd"]),
                          "-" if r["latency_p99_s"] is None else f"{r['latency_p99_s']:.3f}s",
                          "-" if r["sla_attainment"] is None else f"{r['sla_attainment']:.2%}",
                          "resumed" if r["resumed"] else "")
        stdout.print(table)
        if report is not None:
            stdout.print(f"report written to {report}")
