"""``smsim forecast``: traffic or spend forecast with calibrated intervals."""

from __future__ import annotations

from pathlib import Path

import typer

from smsim.cli._common import (
    JobsOption,
    SchedulerOption,
    handles_errors,
    print_json,
    progress_bar,
    stdout,
)


def register(app: typer.Typer) -> None:
    @app.command("forecast")
    @handles_errors
    def forecast(
        file: Path = typer.Argument(..., help="CSV or Parquet: time,value or unique_id,ds,y."),
        horizon: str = typer.Option(..., "--horizon", "-h",
                                    help="Periods ahead, or a duration such as 90d, 12h, 8w."),
        level: list[float] = typer.Option([80.0, 95.0], "--level", help="Interval level(s), %."),
        model: str = typer.Option("auto", help="auto|snaive|ets|arima|theta|mstl|ensemble."),
        freq: str | None = typer.Option(None, help="Frequency (min,5min,15min,h,D,W,MS); "
                                        "finer data is aggregated to it."),
        fill: str | None = typer.Option(None, help="Fill gaps: zero|interpolate|ffill."),
        agg: str = typer.Option("sum", help="Aggregation to --freq: sum (counts) or mean."),
        allow_negative: bool = typer.Option(False, help="Accept negative values."),
        out: Path | None = typer.Option(None, help="Write the forecast (CSV or Parquet)."),
        plot: Path | None = typer.Option(None, help="Write a PNG plot."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
        jobs: JobsOption = 1,
        scheduler: SchedulerOption = None,
        force: bool = typer.Option(False, "--force", "--overwrite",
                                   help="Replace existing --out/--plot files."),
    ) -> None:
        """Forecast each series with backtested model choice and calibrated intervals."""
        from smsim.forecast.api import forecast_file

        with progress_bar("forecasting", enabled=not as_json) as tick:
            run = forecast_file(file, horizon, levels=level, model=model, freq=freq, fill=fill,
                                agg=agg, allow_negative=allow_negative, out=out, plot=plot,
                                n_jobs=jobs, scheduler=scheduler, progress=tick, force=force)
        if as_json:
            print_json(run.summary())
            return
        for res in run.results:
            s = res.summary()
            cov = ", ".join(f"{k}%: {'n/a' if v is None else f'{v:.0%}'}"
                            for k, v in s["coverage"].items())
            stdout.print(f"{s['unique_id']}: {s['model']} {s['form']}  backtest MASE "
                         f"{s['backtest_mase']}  interval coverage {cov}", highlight=False)
            for note in s["notes"]:
                stdout.print(f"note: {note}", markup=False, highlight=False)
        if out is None:
            stdout.print(run.frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
                         highlight=False)
        else:
            stdout.print(f"wrote {run.out}", highlight=False)
        if run.plot:
            stdout.print(f"wrote {run.plot}", highlight=False)
