"""``smsim commit``: size a SageMaker Savings Plan commitment from usage, with its risk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import ForceOpt, check_outputs, handles_errors, print_json, stdout, styled
from smsim.errors import InputError


def _hours(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    from smsim.units import HOUR, parse_duration_s

    try:
        return round(parse_duration_s(text) / HOUR)
    except ValueError as exc:
        raise InputError(str(exc), path=option) from None


def register(app: typer.Typer) -> None:
    @app.command("commit")
    @handles_errors
    def commit(
        source: Annotated[Path, typer.Argument(help="run directory, ledger (Parquet/CSV) or usage CSV (timestamp, ondemand_usd)")],
        term: Annotated[str, typer.Option("--term", help="1y or 3y")] = "1y",
        payment: Annotated[str, typer.Option("--payment", help="no-upfront, partial-upfront or all-upfront")] = "no-upfront",
        discount: Annotated[float | None, typer.Option("--discount", help="SP discount off on-demand, in (0, 1); default: the catalog's")] = None,
        horizon: Annotated[str | None, typer.Option("--horizon", help="how far ahead to score, e.g. 90d; default: the whole term")] = None,
        existing: Annotated[float, typer.Option("--existing", help="commitment already held, USD/hour")] = 0.0,
        paths: Annotated[int, typer.Option("--paths", help="forecast sample paths")] = 200,
        seed: Annotated[int, typer.Option("--seed")] = 0,
        cost_of_capital: Annotated[float, typer.Option("--cost-of-capital", help="annual rate to discount cash flows, e.g. 0.08")] = 0.0,
        stage_at: Annotated[str, typer.Option("--stage-at", help="when a staged plan tops up ('0' = no staged plan)")] = "3mo",
        ladder_every: Annotated[str, typer.Option("--ladder-every", help="review interval of a laddered purchase: a first tranche now, top-ups once usage grows ('0' = no ladder)")] = "1mo",
        level_prior: Annotated[float | None, typer.Option("--level-prior", help="smallest daily step of the usage level (log scale) assumed when the history cannot show how far it moves ('0' = none); default 0.08")] = None,
        evaluate: Annotated[Path | None, typer.Option("--evaluate", help="actual usage over the horizon: score every recommendation in hindsight")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
        plot: Annotated[Path | None, typer.Option("--plot", help="write the savings-vs-commitment curve (PNG)")] = None,
        force: ForceOpt = False,
        sum_duplicates: Annotated[bool, typer.Option("--sum-duplicates", help="add up usage CSV rows that repeat an hour (default: refuse them)")] = False,
    ) -> None:
        """Recommend an hourly Savings Plan commitment from forecast usage paths, next to AWS-style lookbacks."""
        from smsim.commit.api import recommend_commitment

        check_outputs([(plot, "file", "--plot")], force=force, inputs=[source, (evaluate, "--evaluate")])

        result = recommend_commitment(
            source, term=term, payment=payment, discount=discount, horizon_hours=_hours(horizon, "--horizon"),
            existing_usd_per_hour=existing, n_paths=paths, seed=seed, cost_of_capital_per_year=cost_of_capital,
            actual=evaluate, stage_at_hours=_hours(stage_at, "--stage-at") or None,
            sum_duplicates=sum_duplicates, ladder_every_hours=_hours(ladder_every, "--ladder-every"),
            **({} if level_prior is None else {"level_prior_sd_per_day": level_prior}),
        )
        if plot is not None:
            from smsim.commit.report import plot_curve

            plot_curve(result, plot, force=force)
        if as_json:
            print_json(result.to_dict())
            return
        _print(result)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _print(result) -> None:
    from rich.table import Table

    from smsim.commit.report import summary_rows

    t = result.terms
    stdout.print(f"SageMaker Savings Plan {t.term} {t.payment}, discount {t.discount:.1%} ({result.discount_source}); "
                 f"horizon {result.horizon_hours} h, {result.n_paths} paths ({result.model})")
    stdout.print(styled("recommended commitment: ", (f"{result.recommended_usd_per_hour:,.2f} USD/hour", "bold"),
                        f"  utilization {result.recommended['expected_utilization'] or 0:.1%}, "
                        f"coverage {_pct(result.recommended['expected_coverage'])}, "
                        f"P(loss) {result.recommended['probability_of_loss']:.0%}, "
                        f"break-even utilization {result.break_even['utilization']:.1%}"))
    table = Table("plan", "USD/hour", "expected savings", "P10", "P90")
    for name, c, e, p10, p90 in summary_rows(result):
        table.add_row(name, f"{c:,.2f}", f"{e:,.0f}", f"{p10:,.0f}", f"{p90:,.0f}")
    stdout.print(table)
    if result.evaluation:
        ev = Table("in hindsight", "USD/hour", "realized savings", "utilization")
        for key, v in result.evaluation.items():
            if isinstance(v, dict) and "realized_savings_usd" in v:
                c = v.get("commitment_usd_per_hour", v.get("first_usd_per_hour", 0.0))
                held = f"{c:,.2f}" + (f" -> {v['final_usd_per_hour']:,.2f}" if "final_usd_per_hour" in v else "")
                util = v.get("utilization")
                ev.add_row(key, held, f"{v['realized_savings_usd']:,.0f}", "" if util is None else f"{util:.1%}")
        stdout.print(ev)
    for note in result.notes:
        stdout.print(f"note: {note}", markup=False, highlight=False)
