"""Batch benchmarks: run every scenario in a folder, record each run, rank them by cost.

Each finished run is recorded in the store (kind ``bench``) the moment it completes, so an
interrupted batch loses only the runs in flight; ``resume`` skips every arm already recorded with
the same scenario hash (sha256 of the resolved scenario) and seed, reusing its stored summary.
Scenario files with ``variants:`` contribute one arm per variant (``file.yaml:variant``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smsim.compare.runner import run_tasks
from smsim.errors import InputError
from smsim.scenario.variants import load_variants


@dataclass
class BenchResult:
    """The ranking (cheapest first) and, per label, the run id holding its data."""

    rows: list[dict[str, Any]]
    run_ids: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)


def bench_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder of scenarios", file=str(folder))
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise InputError("no *.yaml scenarios in this folder", file=str(folder))
    return files


def ranking_row(label: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Cost and the worst SLA figures over a scenario's resources (None when it has no endpoints)."""
    res = summary.get("resources") or []

    def values(key: str) -> list[float]:
        return [float(r[key]) for r in res if r.get(key) is not None]

    hours, p99, sla, timed = values("instance_hours"), values("latency_p99_s"), values("sla_attainment"), values("timed_out")
    return {"label": label, "scenario": summary.get("scenario"), "total_cost_usd": float(summary.get("total_cost_usd", 0.0)),
            "instance_hours": sum(hours) if hours else None, "latency_p99_s": max(p99) if p99 else None,
            "sla_attainment": min(sla) if sla else None, "timed_out": sum(timed) if timed else None}


def run_bench(folder: str | Path, *, store, jobs: int | None = 1, scheduler: Any = None, resume: bool = False,
              seed: int | None = None, progress: Callable[[float], None] | None = None) -> BenchResult:
    """Run (or, with ``resume``, reuse) every arm of every scenario in ``folder``; rank by cost."""
    from smsim.scenario.resolved import resolved_scenario_yaml
    from smsim.store.records import scenario_hash

    arms = []
    for path in bench_files(folder):  # validate everything before running anything
        for variant in load_variants(path):
            label = path.name if variant.name == "base" else f"{path.name}:{variant.name}"
            arms.append((label, variant.scenario))
    result = BenchResult(rows=[])
    tasks, resumed = [], set()
    for label, scenario in arms:
        run_seed = scenario.seed if seed is None else seed
        if resume:
            found = store.find(kind="bench", scenario_hash=scenario_hash(resolved_scenario_yaml(scenario)), seed=run_seed)
            if len(found):
                last = found.iloc[-1]
                result.run_ids[label] = str(last["run_id"])
                result.summaries[label] = store.show(str(last["run_id"]))["summary"]
                resumed.add(label)
                continue
        tasks.append((label, scenario, run_seed))

    def on_done(label, run) -> None:
        result.run_ids[label] = store.record(run, "bench", label=label)
        result.summaries[label] = run.summary

    run_tasks(tasks, jobs=jobs, scheduler=scheduler, on_done=on_done, progress=progress)
    rows = [ranking_row(label, result.summaries[label]) | {"resumed": label in resumed, "run_id": result.run_ids[label]}
            for label, _ in arms]
    rows.sort(key=lambda r: (r["total_cost_usd"], r["label"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    result.rows = rows
    return result


#: Folder names that say nothing about what is compared: a title names the scenarios instead.
GENERIC_FOLDERS = {"", ".", "bench", "benchmark", "benchmarks", "scenarios", "scenario", "runs", "tmp"}


def bench_title(folder: str | Path, rows: list[dict[str, Any]], *, most: int = 3) -> str:
    """A report title for a bench: the scenarios' names (cheapest first, ``most`` of them, then a
    count), after the folder's name when that name says something (``gpu-options``, not ``bench``)."""
    names: list[str] = []
    for row in rows:
        name = str(row.get("scenario") or row.get("label") or "")
        if name and name not in names:
            names.append(name)
    listed = ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
    name = Path(folder).resolve().name
    if name.lower() in GENERIC_FOLDERS:
        return f"Benchmark of {listed}" if listed else "Benchmark"
    return f"Benchmark of {name}: {listed}" if listed else f"Benchmark of {name}"
