"""The library entry points. The CLI calls these and only prints; notebooks and CI call them too.

``run_scenario`` (from :mod:`smsim.run`) is pure in (scenario, seed): it returns the same numbers
every time, in any process, so sweeps can fan it out over a process pool or a cluster unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from smsim import atomic
from smsim.errors import InputError
from smsim.pricing.catalog import catalog_for
from smsim.run import (
    RunResult,
    check_input_files,
    read_inputs,
    run_scenario,
)
from smsim.scenario import load_scenario, scenario_json_schema
from smsim.scenario.resolved import resolved_scenario_yaml
from smsim.scenario.schema import Scenario

__all__ = ["RunResult", "catalog_for", "check_input_files", "load_scenario", "read_inputs", "assess_bill", "budget_report", "run_scenario", "scenario_from_bill",
           "scenario_json_schema", "write_run"]


def write_run(result: RunResult, out: str | Path, *, ledger_format: str = "parquet", force: bool = False) -> Path:
    """Write ``summary.json``, the ledger, the usage, per-resource series and the resolved scenario
    into ``out`` atomically: the folder appears complete (with ``_SUCCESS``) or not at all.

    ``ledger_format`` is ``parquet`` or ``csv`` (``ledger.parquet`` / ``ledger.csv``, smsim's
    CUR-shaped columns), ``cur2`` or ``focus``: ``ledger.parquet`` and the bill as AWS CUR 2.0
    (``ledger.cur2.parquet``) or FOCUS 1.0 (``ledger.focus.csv``), which ``smsim bill import``
    reads back.

    An existing ``out`` is replaced only when smsim wrote it, or with ``force`` (see
    :func:`smsim.atomic.check_output`)."""
    out = Path(out)
    with atomic.atomic_dir(out, force=force) as tmp:
        (tmp / "summary.json").write_text(json.dumps(result.summary, indent=2, default=_json_default) + "\n")
        ledger_name = "ledger.csv" if ledger_format == "csv" else "ledger.parquet"
        if ledger_format in ("cur2", "focus"):
            from smsim.billing.export import write_ledger

            write_ledger(result.ledger, tmp / f"ledger.{ledger_format}.{'parquet' if ledger_format == 'cur2' else 'csv'}",
                         ledger_format)
        if ledger_format == "csv":
            result.ledger.to_csv(tmp / ledger_name, index=False)
        else:
            from smsim.billing.export import write_parquet
            from smsim.store.daily import write_daily

            write_parquet(result.ledger, tmp / ledger_name)
            write_daily(result.ledger, tmp)  # the results store links these, as it links the ledger
        usage = result.usage.copy()
        usage["tags"] = _tags_json(usage["tags"])
        usage.to_parquet(tmp / "usage.parquet", index=False)
        if result.series:
            (tmp / "series").mkdir()
            for name, frame in result.series.items():
                frame.to_parquet(tmp / "series" / f"{name}.parquet", index=False)
        (tmp / "scenario.resolved.yaml").write_text(resolved_scenario_yaml(result.scenario))
    return out


def _tags_json(tags: pd.Series) -> pd.Series:
    """Each row's tags as sorted-key JSON, encoded once per distinct dict object (rows of one
    resource share theirs, see :func:`smsim.core.meter.usage_frame`)."""
    encoded: dict[int, str] = {}
    keep_alive = []  # ids stay unique only while their objects live

    def encode(t) -> str:
        found = encoded.get(id(t))
        if found is None:
            found = encoded[id(t)] = json.dumps(t, sort_keys=True)
            keep_alive.append(t)
        return found

    return pd.Series([encode(t) for t in tags.to_numpy(dtype=object)], index=tags.index)


def _json_default(value):
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: ``smsim run`` asks for ``--yes`` before simulating more requests than this one by one (at a
#: forced ``fidelity: request``, or on endpoint kinds that have no fluid tier).
LARGE_RUN_REQUESTS = 1e9


#: Endpoint kinds with a fluid (per-minute) form, chosen by ``fidelity``.
FLUID_KINDS = ("realtime", "serverless", "async", "multi_model")


@dataclass(frozen=True)
class RequestEstimate:
    """Expected requests of one endpoint over the horizon, and the tier that will simulate them.

    ``forced`` is true when the tier is request-level by the scenario's choice (``fidelity:
    request``) or by the endpoint's kind (no fluid tier), not picked by ``fidelity: auto``.
    """

    endpoint: str
    kind: str
    tier: str
    forced: bool
    requests: float | None


def _recorded_requests(workload, duration_s: float, base_dir) -> float:
    """Requests a recorded trace yields over ``duration_s``, from its size and length (the
    trace is read, never expanded: a count trace may stand for billions of requests)."""
    from smsim.workload.request_trace import CountTrace
    from smsim.workload.spec import _load_recorded

    loaded = _load_recorded(workload, base_dir)
    total = float(loaded.counts.sum()) if isinstance(loaded, CountTrace) else float(len(loaded.arrival_s))
    length = float(loaded.duration_s) * workload.time_scale
    if length <= 0:
        return 0.0
    covered = duration_s if workload.repeat else min(duration_s, max(length - workload.skip_s, 0.0))
    return total / length * covered * workload.rate_scale


def _workload_requests(workload, duration_s: float, start, base_dir) -> float:
    from smsim.workload.arrivals import ArrivalProcess
    from smsim.workload.spec import MixWorkload

    if isinstance(workload, ArrivalProcess):
        return workload.scaled(getattr(workload, "rate_scale", 1.0)).expected_count(duration_s, start)
    if isinstance(workload, MixWorkload):
        return workload.rate_scale * sum(_workload_requests(w, duration_s, start, base_dir)
                                         for w in workload.models.values())
    return _recorded_requests(workload, duration_s, base_dir)


def estimate_requests(scenario: Scenario) -> list[RequestEstimate]:
    """How many requests each endpoint will see and which tier simulates them, before the run.

    Synthetic workloads give their exact expectation; a recorded trace is read and counted (a
    repeated trace scales with the horizon). The tier is the one the run will use: a real-time
    endpoint's ``fidelity`` (``auto`` decided exactly as the engine decides it) for the kinds
    that have a fluid form (real-time, serverless, asynchronous, multi-model).
    """
    from smsim.core.engine import SimContext
    from smsim.resources.fidelity import choose_fidelity

    ctx = SimContext(env=None, scenario=scenario, seed=scenario.seed, meter=None)
    out = []
    duration, start = scenario.horizon_s, scenario.horizon.start
    for spec in scenario.endpoints:
        kind = getattr(spec, "kind", "realtime")
        mode = (spec.fidelity or scenario.fidelity) if kind in FLUID_KINDS else "request"
        if mode == "auto":
            tier, n = choose_fidelity(spec, ctx)  # the engine's own decision
        else:
            tier = mode
            workload = getattr(spec, "workload", None)
            n = None if workload is None else _workload_requests(workload, duration, start, scenario.base_dir)
        out.append(RequestEstimate(spec.name, kind, tier, mode == "request", n))
    return out


def scenario_from_bill(bill: str | Path, **options):
    """A baseline scenario that prices back to ``bill``, with its reconciliation
    (:func:`smsim.assess.frombill.scenario_from_bill`)."""
    from smsim.assess.frombill import scenario_from_bill as build

    return build(bill, **options)


def assess_bill(bill: str | Path, **options):
    """Ranked findings for the account of ``bill`` (:func:`smsim.assess.api.assess`)."""
    from smsim.assess.api import assess

    return assess(bill, **options)


def load_budgets_file(path: str | Path):
    """A YAML file with a ``budgets:`` list, as a :class:`smsim.budgets.api.BudgetsSource` whose
    errors found later point into the file."""
    from smsim.budgets.api import BudgetsSource
    from smsim.budgets.spec import BudgetsFile
    from smsim.scenario.load import load_model, position_of

    model, built = load_model(path, BudgetsFile)
    return BudgetsSource(list(model.budgets), str(path), lambda loc: position_of(built, loc))


def _budgets(budgets_file, scenario_budgets, source: str):
    """The budgets of ``budgets_file`` when given, else the scenario's; at least one."""
    from smsim.budgets.api import BudgetsSource, require_budgets

    return require_budgets(load_budgets_file(budgets_file) if budgets_file is not None
                           else BudgetsSource(list(scenario_budgets or []), source))


def budget_report(target: str | Path, *, budgets_file: str | Path | None = None, project: str | None = None,
                  n_paths: int = 50, seed: int | None = None, jobs: int = 1):
    """Budgets evaluated over ``target`` (:mod:`smsim.budgets.api`): a scenario (run, or projected
    ``project`` ahead over ``n_paths`` paths), a run or projection folder, or a bill (CSV/Parquet).

    The budgets come from ``budgets_file`` (a YAML file with a ``budgets:`` list) when given, else
    from the scenario (a folder's ``scenario.resolved.yaml``)."""
    from smsim.budgets import api as budgets

    target = Path(target)
    if not target.exists():
        raise FileNotFoundError(2, "no such file", str(target))
    if target.is_dir():
        summary = budgets.read_folder_summary(target)
        scenario_budgets = None
        resolved = target / "scenario.resolved.yaml"
        if budgets_file is None and resolved.exists():
            scenario_budgets = load_scenario(resolved).budgets
        found = _budgets(budgets_file, scenario_budgets, str(resolved))
        return budgets.folder_report(target, summary, found, budgets_file)
    if target.suffix.lower() in (".yaml", ".yml"):
        scenario = load_scenario(target)
        found = _budgets(budgets_file, scenario.budgets, str(target))
        if project is not None:
            from smsim.project.api import project_scenario

            proj = project_scenario(scenario, project, n_paths=n_paths, seed=seed, jobs=jobs, keep_ledgers=True)
            return budgets.projection_report(proj, found.budgets, str(target))
        return budgets.run_report(scenario, run_scenario(scenario, seed=seed), found.budgets, str(target))
    if target.suffix.lower() in (".csv", ".parquet"):
        return budgets.bill_report(target, _budgets(budgets_file, None, str(target)))
    raise InputError("expected a scenario (.yaml), a run or projection folder, or a bill (.csv, .parquet)",
                     file=str(target))
