"""``smsim optimize``: the cheapest endpoint configuration meeting an SLA, or (with an
``optimize.training`` section) the cheapest training configuration meeting its objectives.
Training searches run serially; ``--sla``, ``--max-error-rate``, ``--fidelity`` and ``--jobs``
apply to endpoint searches only.

Exit codes: 0 an answer was found (also when ``--budget-evals`` stopped the search; the output
says it is not proven optimal); 1 no candidate meets the SLA or objectives (a result, not bad input: the
message names the closest candidate and what it missed); 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import (
    ForceOpt,
    JobsOption,
    SchedulerOption,
    check_outputs,
    handles_errors,
    print_json,
    stdout,
    styled,
)

EXIT_INFEASIBLE = 1


def register(app: typer.Typer) -> None:
    @app.command("optimize")
    @handles_errors
    def optimize_cmd(
        scenario: Annotated[Path, typer.Argument(help="scenario YAML with an endpoint (and an optional optimize: section)")],
        sla: Annotated[str | None, typer.Option("--sla", help="latency objective, e.g. 'p99<=250ms'")] = None,
        max_error_rate: Annotated[str | None, typer.Option("--max-error-rate", help="e.g. 0.1%")] = None,
        min_quality: Annotated[float | None, typer.Option("--min-quality", help="leave out model variants below this quality")] = None,
        budget_evals: Annotated[int | None, typer.Option("--budget-evals", min=1, help="stop after N simulations")] = None,
        jobs: JobsOption = 1,
        scheduler: SchedulerOption = None,
        fidelity: Annotated[str | None, typer.Option("--fidelity", help="request or fluid (the answer's fidelity)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
        out: Annotated[Path | None, typer.Option("--out", help="write best.yaml, summary.json, frontier.csv/png here")] = None,
        force: ForceOpt = False,
    ) -> None:
        """Search instance types, fleet sizes, scaling policies, model variants and savings plans; with
        model qualities, also the quality-cost frontier."""
        from smsim.optimize.api import load_optimize_scenario, optimize

        check_outputs([(out, "dir", "--out")], force=force, inputs=[scenario])
        sc, section = load_optimize_scenario(scenario)
        if section is None or section.training is None:
            from smsim.optimize.space import pick_endpoint

            target = pick_endpoint(sc, section.endpoint if section is not None else None)
            if target.kind == "llm":
                _optimize_llm(sc, section, target, sla, max_error_rate, as_json, out, force)
                return
        result = optimize(sc, section, jobs=jobs, scheduler=scheduler, sla=sla, max_error_rate=max_error_rate,
                          budget_evals=budget_evals, fidelity=fidelity, min_quality=min_quality)
        doc = result.to_dict()
        training = doc.get("kind") == "training"
        if out is not None:
            write_result(result, out, force=force)
            doc["out"] = str(out)
        if as_json:
            print_json(doc)
        elif training:
            _print_training(result, doc)
        else:
            _print(result, doc)
        if result.result.best is None:
            raise typer.Exit(EXIT_INFEASIBLE)


def _optimize_llm(sc, section, ep, sla, max_error_rate, as_json: bool, out: Path | None, force: bool) -> None:
    """An llm endpoint: token SLAs (``--sla ttft_p99_s=2,tpot_p99_s=0.1``, else the section's
    ``llm.sla``, else the endpoint's) and the space of :func:`smsim.optimize.llm.space_from_section`."""
    from smsim import atomic
    from smsim.api import resolved_scenario_yaml
    from smsim.cli._common import _json_default
    from smsim.cli.llm_optimize import print_result
    from smsim.optimize.api import optimize_llm
    from smsim.optimize.llm import space_from_section
    from smsim.optimize.sla import parse_error_rate

    token_sla = sla if sla else (section.llm.sla if section is not None and section.llm is not None else None)
    rate = parse_error_rate(max_error_rate if max_error_rate is not None else
                            (section.max_error_rate if section is not None else None))
    doc = optimize_llm(sc, ep.name, space_from_section(section, ep), sla=token_sla,
                       max_failed_share=0.01 if rate is None else rate)
    best = doc.pop("best_scenario")
    if out is not None:
        with atomic.atomic_dir(out, force=force) as tmp:
            (tmp / "summary.json").write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
            if best is not None:
                (tmp / "best.yaml").write_text(resolved_scenario_yaml(best))
        doc["out"] = str(out)
    if as_json:
        print_json(doc)
    else:
        print_result(doc)
        if doc.get("out"):
            stdout.print(f"wrote {doc['out']}")
    if doc["best"] is None:
        raise typer.Exit(EXIT_INFEASIBLE)


def write_result(result, out: Path, force: bool = False) -> Path:
    """``best.yaml`` (ready to run), ``summary.json``, ``frontier.csv`` and ``frontier.png``,
    written into ``out`` atomically (the folder appears complete or not at all)."""
    import pandas as pd

    from smsim import atomic
    from smsim.cli._common import _json_default
    from smsim.optimize.frontier import plot_frontier
    from smsim.scenario.resolved import resolved_scenario_yaml as scenario_yaml

    with atomic.atomic_dir(out, force=force) as tmp:
        doc = result.to_dict()
        (tmp / "summary.json").write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
        if result.best_scenario is not None:
            (tmp / "best.yaml").write_text(scenario_yaml(result.best_scenario))
        if doc.get("kind") == "training":
            rows = [e.row() for e in sorted(result.result.evaluations, key=lambda e: e.rank_key)]
            pd.DataFrame(rows).to_csv(tmp / "candidates.csv", index=False)
            return out
        pd.DataFrame(result.frontier()).to_csv(tmp / "frontier.csv", index=False)
        if result.quality_frontier is not None:
            pd.DataFrame(result.quality_by_model).assign(
                on_frontier=lambda f: f["model"].isin([r["model"] for r in result.quality_frontier])
            ).to_csv(tmp / "quality_frontier.csv", index=False)
        if result.result.evaluations:
            plot_frontier(result.result.evaluations, tmp / "frontier.png",
                          threshold_s=result.space.objectives.latency.threshold_s, best=result.result.best)
    return out


def _print_training(result, doc: dict) -> None:
    from rich.table import Table

    stdout.print(styled((result.message(), "bold")))
    stdout.print(f"job {doc['job']}, objectives {doc['objectives']}; {doc['candidates']} candidates, "
                 f"{doc['simulations']} simulations in {doc['wall_s']:.1f} s; pruned {doc['pruned']}")

    def table(title: str, rows: list[dict]) -> None:
        if not rows:
            return
        t = Table("candidate", "cost USD", "mean elapsed h", "max elapsed h", "completion", "interruptions",
                  "missed", title=title)
        for r in rows:
            t.add_row(r["candidate"], f"{r['cost_usd']:,.2f}", f"{r['mean_job_elapsed_hours']:.2f}",
                      f"{r['max_job_elapsed_hours']:.2f}", f"{r['completion_rate']:.2%}", f"{r['interruptions']}",
                      r["missed"])
        stdout.print(t)

    table("runners-up", doc["runners_up"])
    table("cheaper candidates that missed the objectives", doc["rejected_cheaper"][:10])
    if doc.get("out"):
        stdout.print(f"wrote {doc['out']}")


def _print(result, doc: dict) -> None:
    from rich.table import Table

    stdout.print(styled((result.message(), "bold")))
    stdout.print(f"objectives {doc['objectives']}, fidelity {doc['fidelity']}; {doc['candidates']} candidates, "
                 f"{doc['simulations']} simulations ({doc['simulations_screen']} fluid screen); pruned {doc['pruned']}")
    best = doc["best"]
    if best:
        parts = ", ".join(f"{k} {v:,.2f}" for k, v in best["cost_by_pricing"].items())
        stdout.print(f"cost breakdown: {parts}")

    def table(title: str, rows: list[dict]) -> None:
        if not rows:
            return
        t = Table("candidate", "cost USD", "SP USD/h", "attainment", "p99 ms", "errors", "missed", title=title)
        for r in rows:
            t.add_row(r["candidate"], f"{r['cost_usd']:,.2f}", f"{r['savings_plan_usd_per_hour']:g}",
                      f"{r['attainment']:.4%}", f"{r['latency_p99_s'] * 1000:.0f}", f"{r['error_rate']:.4%}",
                      r["missed"] + (f" (short {r['attainment_shortfall']:.4%})" if r["attainment_shortfall"] else ""))
        stdout.print(t)

    table("runners-up", doc["runners_up"])
    table("cheaper candidates that missed the SLA", doc["rejected_cheaper"][:10])
    table("cost vs p99 Pareto frontier", doc["frontier"])
    if doc.get("quality_frontier") is not None:
        front = {r["model"] for r in doc["quality_frontier"]}
        t = Table("model", "quality", "cheapest configuration meeting the SLA", "cost USD", "on frontier",
                  title="quality vs cost, per model variant")
        for r in sorted(doc["quality_by_model"], key=lambda r: -r["quality"]):
            t.add_row(r["model"], f"{r['quality']:g}", r["candidate"] or "none meets the SLA",
                      f"{r['cost_usd']:,.2f}" if r["cost_usd"] is not None else "-", "yes" if r["model"] in front else "")
        stdout.print(t)
    for note in doc.get("notes") or []:
        stdout.print(note)
    if doc.get("out"):
        stdout.print(f"wrote {doc['out']}")
