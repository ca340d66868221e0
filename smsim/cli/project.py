"""``smsim project``: spend per month with P10/P50/P90 over forecast traffic paths."""

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
    stdout,
)


def _histories(items: list[str]) -> dict[str, str]:
    from smsim.errors import InputError

    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--history expects ENDPOINT=FILE, found {item!r}", path="--history")
        out[name] = path
    return out


def _band(cal: dict | None) -> str:
    if cal is None:
        return "not calibrated (--no-calibrate)"
    if cal["status"] == "uncalibrated":
        return "UNCALIBRATED (history too short to backtest; fixed conservative spread)"
    return f"calibrated on {cal['backtest_origins']} backtest origins"


def register(app: typer.Typer) -> None:
    @app.command()
    @handles_errors
    def project(
        scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
        horizon: Annotated[str, typer.Option("--horizon", help="how far ahead: 90d, 12w, 2160 (hours)")],
        paths: Annotated[int, typer.Option("--paths", help="forecast sample paths to simulate")] = 50,
        seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
        jobs: JobsOption = 1,
        scheduler: SchedulerOption = None,
        model: Annotated[str, typer.Option(help="auto|snaive|ets|arima|theta|mstl|ensemble")] = "auto",
        history: Annotated[list[str], typer.Option("--history", help="ENDPOINT=FILE traffic history")] = [],  # noqa: B006
        out: Annotated[Path | None, typer.Option(help="write summary, tables, paths and eligible usage here")] = None,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
        store: Annotated[Path | None, typer.Option("--store", help="results store folder")] = None,
        no_store: Annotated[bool, typer.Option("--no-store", help="do not record in the results store")] = False,
        independent: Annotated[bool, typer.Option(
            "--independent", help="pair endpoints' paths at random (default: by the correlation of "
                                  "their histories' forecast errors)")] = False,
        no_calibrate: Annotated[bool, typer.Option(
            "--no-calibrate", help="keep the forecast model's own spread (default: calibrate each "
                                   "endpoint's totals on its history's backtest errors)")] = False,
        force: ForceOpt = False,
    ) -> None:
        """Forecast each endpoint's traffic and report spend per month with P10/P50/P90."""
        from smsim.project.api import project_scenario, record_projection, write_projection

        histories = _histories(history)
        check_outputs([(out, "dir", "--out")], force=force,
                      inputs=[scenario] + [(Path(f), "--history") for f in histories.values()])
        check_store(store, no_store)
        with progress_bar("projecting", enabled=not json_) as tick:
            proj = project_scenario(scenario, horizon, n_paths=paths, seed=seed, model=model, jobs=jobs, scheduler=scheduler,
                                    histories=histories, progress=tick, independent=independent,
                                    calibrate=not no_calibrate)
        if out is not None:
            write_projection(proj, out, force=force)
        run_id = None if no_store else record_projection(proj, store)
        if json_:
            print_json(proj.summary)
            return
        from rich.table import Table

        table = Table(title=f"{proj.scenario.name}: spend (USD) over {paths} paths")
        for col in ("scope", "month", "days", "P10", "P50", "P90", "mean"):
            table.add_column(col, justify="left" if col in ("scope", "month") else "right")
        for r in proj.table.itertuples(index=False):
            table.add_row(r.scope, r.month, f"{r.days:g}", f"{r.p10:,.0f}", f"{r.p50:,.0f}", f"{r.p90:,.0f}",
                          f"{r.mean:,.0f}")
        stdout.print(table)
        for name, ep in proj.endpoints.items():
            f = ep.forecast.summary() if ep.forecast else {}
            cov = ", ".join(f"{k}%: {'n/a' if v is None else f'{v:.0%}'}" for k, v in f.get("coverage", {}).items())
            stdout.print(f"{name}: model {ep.model}, backtest MASE {f.get('backtest_mase')}, "
                         f"interval coverage {cov}; band {_band(ep.calibration)}", highlight=False)
        if out is not None:
            stdout.print(f"results written to {out} (eligible_usage.csv: median path; smsim commit {out})")
        if run_id:
            stdout.print(f"recorded as run {run_id} (smsim runs show {run_id[-6:]})")
