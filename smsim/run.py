"""A run: simulate a scenario to its horizon, bill its usage, summarise the result.

``run_scenario`` is pure in (scenario, seed): it returns the same numbers every time, in any
process, so sweeps can fan it out over a process pool or a cluster unchanged. It sits below the
features that run scenarios (projection, optimizers, budgets) so they need not import the
library entry points (:mod:`smsim.api`, which re-exports everything here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

import smsim
from smsim import inputs
from smsim.pricing.catalog import catalog_for
from smsim.scenario import load_scenario
from smsim.scenario.schema import Scenario
from smsim.units import HOURS_PER_MONTH

__all__ = ["FAILED_SHARE_WARNING", "RunResult", "check_input_files", "model_quality_of", "outcome_warnings",
           "fidelity_warnings", "read_inputs", "run_scenario", "sizing_warnings", "token_costs", "unit_costs"]


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
        if entry.get("endpoint") is not None and "endpoint_cost_share" in entry:
            # an inference component: the bill is its endpoint's, shared by accelerator-hours held
            entry["endpoint_cost_usd"] = float(cost_by_resource.get(entry["endpoint"], 0.0))
            share = entry["endpoint_cost_share"]
            entry["cost_usd"] = entry["endpoint_cost_usd"] * (share if share == share else 0.0)
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
    summary["warnings"] = outcome_warnings(resources) + sizing_warnings(resources) + fidelity_warnings(resources)
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


def fidelity_warnings(resources: list[dict[str, Any]]) -> list[str]:
    """One sentence per resource whose fluid-tier latency can be far from the request tier's: a
    multi-model fleet whose caches thrash (benchmarks/bench_kinds_fluid.py measures its cost and
    hit rate close; its latency within 10 % on some fleets and 20 % or more off, or several
    points of SLA attainment, on others, and further while the fleet scales)."""
    return [f"{r['resource_id']}: its model caches thrash, where the fluid tier's cost and cache hit rate "
            f"are close to the request tier's but its latency quantiles and SLA attainment can be far "
            f"from it (20 % or more, or several points); run it with fidelity: request before trusting its latency or SLA attainment"
            for r in resources if r.get("fidelity") == "fluid" and r.get("cache_regime") == "thrashing"]


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
