"""The library entry points. The CLI calls these and only prints; notebooks and CI call them too.

``run_scenario`` is pure in (scenario, seed): it returns the same numbers every time, in any
process, so sweeps can fan it out over a process pool or a cluster unchanged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import smsim
from smsim import atomic, inputs
from smsim.pricing.catalog import catalog_for
from smsim.scenario import load_scenario, scenario_json_schema
from smsim.scenario.resolved import resolved_scenario_yaml
from smsim.scenario.schema import Scenario
from smsim.units import HOURS_PER_MONTH

__all__ = ["RunResult", "catalog_for", "check_input_files", "load_scenario", "read_inputs", "assess_bill", "run_scenario", "scenario_from_bill",
           "scenario_json_schema", "write_run"]


@dataclass
class RunResult:
    """A finished run: the scenario, the usage the engine metered, the ledger and the summary."""

    scenario: Scenario
    seed: int
    usage: pd.DataFrame
    ledger: pd.DataFrame
    summary: dict[str, Any]
    series: dict[str, pd.DataFrame] = field(default_factory=dict)


def check_input_files(scenario: Scenario) -> None:
    """Read every trace and history file the scenario names and raise the errors a run would
    meet (:func:`smsim.scenario.checks.check_input_files`); ``run_scenario`` calls it first."""
    from smsim.scenario.checks import check_input_files as check

    if not inputs.active():  # files a caller read for this task were checked when it read them
        check(scenario)


def read_inputs(scenario: Scenario, *, check: bool = True) -> inputs.Inputs:
    """Every file a run of ``scenario`` reads (traces, histories, job traces, the price catalog),
    read here once: a fan-out ships it to its workers, which then need no access to the files
    (:mod:`smsim.inputs`).

    With ``check`` the files are checked as :func:`run_scenario` checks them (bad input raises
    here, naming the file and line, and the workers skip the check); without it a file that does
    not read cleanly is left out, and a task that needs it meets the error itself.
    """
    import numpy as np

    from smsim.errors import InputError
    from smsim.workload.jobs import trace_jobs

    with inputs.recording() as record:
        try:
            check_input_files(scenario)
        except InputError:
            if check:
                raise
        catalog_for(scenario)
        for _, spec in scenario.resources():
            trigger = getattr(spec, "trigger", None)
            if getattr(trigger, "kind", None) == "trace":
                try:  # reads the job files; this throwaway generator's draws are not used
                    trace_jobs(trigger, scenario.horizon.duration_s, np.random.default_rng(0),
                               scenario.base_dir)
                except InputError:
                    if check:
                        raise
    return inputs.Inputs(record)


def run_scenario(scenario: Scenario | str | Path, *, seed: int | None = None, progress=None,
                 catalog=None) -> RunResult:
    """Simulate a scenario to its horizon, bill its usage and summarise the result.

    ``catalog`` is the scenario's price catalog when the caller already has it loaded.
    """
    from smsim.billing.ledger import build_ledger
    from smsim.billing.summary import summarize
    from smsim.resources.registry import simulate

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    check_input_files(scenario)
    if catalog is None:
        catalog = catalog_for(scenario)
    sim = simulate(scenario, seed=seed, catalog=catalog, progress=progress)
    ledger = build_ledger(
        sim.usage,
        catalog=catalog,
        region=scenario.region,
        horizon_start=scenario.horizon.start,
        horizon_s=scenario.horizon.duration_s,
        pricing=scenario.pricing,
    )
    billed = summarize(ledger, catalog)
    cost_by_resource = billed.get("cost_by_resource", {})
    resources = []
    series = {}
    for res in sim.resources:
        entry = {"resource_id": res.resource_id, "kind": res.kind, "section": res.section}
        entry.update(res.metrics)
        entry.update(model_quality_of(scenario, res.section, res.resource_id))
        entry["cost_usd"] = float(cost_by_resource.get(res.resource_id, 0.0))
        entry.update(unit_costs(entry, scenario.horizon.duration_s))
        if res.kind == "llm":
            entry.update(token_costs(entry["cost_usd"], entry["input_tokens"], entry["output_tokens"]))
        resources.append(entry)
        if res.series is not None:
            series[res.resource_id] = res.series
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": sim.seed,
        "horizon": {
            "start": scenario.horizon.start.isoformat(),
            "duration_s": scenario.horizon.duration_s,
        },
        "region": scenario.region,
        "smsim_version": smsim.__version__,
    }
    summary.update(billed)
    summary["resources"] = resources
    summary["warnings"] = outcome_warnings(resources) + sizing_warnings(resources)
    return RunResult(scenario=scenario, seed=sim.seed, usage=sim.usage, ledger=ledger, summary=summary, series=series)


def unit_costs(entry: dict[str, Any], horizon_s: float) -> dict[str, float]:
    """Cost per month and per unit for a resource whose metrics name a ``cost_unit`` (a count
    metric such as ``runs`` or ``deployments``): ``cost_usd_per_month`` (730-hour months) and
    ``cost_usd_per_<unit>`` (``nan`` when the count is zero)."""
    unit = entry.get("cost_unit")
    if not unit:
        return {}
    count = float(entry.get(unit) or 0.0)
    cost = entry["cost_usd"]
    return {"cost_usd_per_month": cost * HOURS_PER_MONTH * 3600.0 / horizon_s,
            f"cost_usd_per_{unit.removesuffix('s')}": cost / count if count else float("nan")}


def model_quality_of(scenario, section: str, resource_id: str) -> dict[str, Any]:
    """``{"model_quality": q}`` for an endpoint whose served model declares its quality (else
    nothing), so runs and comparisons show quality beside cost."""
    if section != "endpoints":
        return {}
    ep = next((e for e in scenario.endpoints if e.name == resource_id), None)
    model = next((m for m in scenario.models if ep is not None and m.name == getattr(ep, "model", None)), None)
    return {"model_quality": model.quality} if model is not None and model.quality is not None else {}


def sizing_warnings(resources: list[dict[str, Any]]) -> list[str]:
    """One sentence per MLflow tracking server smaller than AWS recommends for its declared team
    (an undersized server is a cost that looks saved)."""
    rank = {"Small": 0, "Medium": 1, "Large": 2}
    out = []
    for r in resources:
        want, size = r.get("recommended_size"), r.get("size")
        if r.get("kind") == "mlflow" and want and rank.get(want, 3) > rank.get(size, 3):
            out.append(f"{r['resource_id']}: {r.get('users')} users exceed AWS's recommendation for a {size} MLflow "
                       f"tracking server; recommended: {want}")
    return out


def token_costs(cost_usd: float, input_tokens: float, output_tokens: float) -> dict[str, float]:
    """An LLM endpoint's cost per million tokens: the whole cost over the input tokens, over the
    output tokens, and over both (providers' per-token prices split one bill the same way)."""
    def per(n: float) -> float:
        return cost_usd / n * 1e6 if n > 0 else math.nan

    return {"cost_per_1m_input_tokens_usd": per(input_tokens), "cost_per_1m_output_tokens_usd": per(output_tokens),
            "cost_per_1m_tokens_usd": per(input_tokens + output_tokens)}


#: A resource whose failed requests reach this share of its requests is warned about.
FAILED_SHARE_WARNING = 0.5


def outcome_warnings(resources: list[dict[str, Any]]) -> list[str]:
    """One sentence per resource where most requests failed (timed out, dropped or throttled),
    or none was served: such a run's cost and latency describe a service that did not work."""
    out = []
    for r in resources:
        requests = float(r.get("requests") or 0.0)
        if requests <= 0:
            continue
        parts = {"timed out": r.get("timed_out"), "dropped": r.get("dropped"), "throttled": r.get("throttled")}
        failed = sum(float(v or 0.0) for v in parts.values())
        served = float(r.get("served") or 0.0)
        if failed < FAILED_SHARE_WARNING * requests and served > 0:
            continue
        detail = ", ".join(f"{k} {float(v):,.0f}" for k, v in parts.items() if v)
        why = []
        if r.get("no_capacity_failures"):
            why.append(f"{float(r['no_capacity_failures']):,.0f} arrived while no instance was in service")
        if r.get("deleted_at_s") is not None:
            why.append(f"the endpoint was deleted at {float(r['deleted_at_s']):,.0f} s")
        text = (f"{r['resource_id']}: {failed:,.0f} of {requests:,.0f} requests failed "
                f"({failed / requests:.1%}; {detail})")
        if why:
            text += "; " + "; ".join(why)
        if served <= 0:
            text += "; no request was served, so there are no latencies"
        out.append(text)
    return out


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

            write_parquet(result.ledger, tmp / ledger_name)
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

