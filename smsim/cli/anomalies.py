"""``smsim anomalies``: cost anomalies of a run or a bill, with their root causes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from smsim.cli._common import handles_errors, print_json, stdout


def register(app: typer.Typer) -> None:
    @app.command()
    @handles_errors
    def anomalies(
        target: Annotated[Path, typer.Argument(help="scenario YAML (run first), run folder, or bill (CSV/Parquet)")],
        monitor: Annotated[list[str], typer.Option("--monitor", help="service, component, resource, usage_type, "
                                                   "tag:KEY or total (repeatable)")] = ["service", "resource"],  # noqa: B006
        min_impact_usd: Annotated[float, typer.Option("--min-impact-usd", help="smallest impact reported")] = 0.0,
        min_impact_pct: Annotated[float, typer.Option("--min-impact-pct", help="smallest impact, % of expected")] = 0.0,
        freq: Annotated[str, typer.Option("--freq", help="D (daily) or h (hourly) spend")] = "D",
        cost: Annotated[str, typer.Option("--cost", help="amortized or unblended")] = "amortized",
        z: Annotated[float, typer.Option("--z", help="spreads above expected that make an anomaly")] = 4.0,
        seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
        jsonl: Annotated[bool, typer.Option("--jsonl", help="one anomaly per line")] = False,
        json_: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
    ) -> None:
        """Detect cost anomalies per monitor: start, end, expected vs actual, impact, root cause."""
        from pydantic import ValidationError

        from smsim.anomalies.api import detect_anomalies
        from smsim.anomalies.monitors import Monitor
        from smsim.errors import InputError

        try:
            monitors = [Monitor(dimension=m, min_impact_usd=min_impact_usd, min_impact_pct=min_impact_pct)
                        for m in monitor]
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(err["msg"], path=f"--{'-'.join(str(x) for x in err['loc']).replace('_', '-')}"
                             if err["loc"] != ("dimension",) else "--monitor") from None
        doc = detect_anomalies(target, monitors, freq=freq, cost=cost, z=z, seed=seed)
        if json_:
            print_json(doc)
            return
        if jsonl:
            for row in doc["anomalies"]:
                sys.stdout.write(json.dumps(row) + "\n")
            return
        for note in doc["notes"]:
            stdout.print(f"note: {note}", highlight=False)
        for a in doc["anomalies"]:
            cause = "; ".join(f"{c['resource']} {c['usage_type']} +${c['contribution_usd']:,.2f}"
                              for c in a["root_causes"])
            pct = "" if a["impact_pct"] is None else f" ({a['impact_pct']:+.0f}%)"
            stdout.print(f"{a['start']} .. {a['end']}  {a['monitor']}={a['key']}: actual ${a['actual_usd']:,.2f} "
                         f"vs expected ${a['expected_usd']:,.2f}, impact ${a['impact_usd']:,.2f}{pct}; "
                         f"root cause: {cause or 'n/a'}", highlight=False)
        if not doc["anomalies"]:
            stdout.print(f"no anomaly in {doc['steps']} {'days' if doc['freq'] == 'D' else 'hours'} of spend")
