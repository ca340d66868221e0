"""Simulate every path of a projection, in a process pool, with deterministic seeds.

One path is one run of the path scenario (:func:`smsim.project.paths.path_scenario`) with the
path's seed (:func:`smsim.project.paths.path_seeds`):

* endpoints with a history run on the fluid tier, fed the path's per-minute counts directly
  (:class:`CountsFluidTier`): the same :func:`smsim.resources.scaling.fluid.simulate_fluid`, service model,
  provisioning stream, metering and metrics as :class:`smsim.resources.realtime.fluid.FluidTier`,
  without turning months of counts into individual requests first. Within a minute, arrivals
  are taken as Poisson (arrival scv 1), as a count history says nothing finer;
* every other resource (fleets, endpoints without history, ...) is simulated by
  :func:`smsim.resources.registry.simulate` with the same seed, exactly as ``smsim run`` would;
* the usage of both is billed together into one ledger, so held savings plans apply across all
  of it as in a normal run.

A path's result is the same in any process and for any ``jobs`` (each path depends only on the
scenario, its counts and its seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from smsim.core.engine import SimContext
from smsim.core.fluid import ServiceModel
from smsim.core.meter import Meter
from smsim.resources.realtime.fluid import FluidTier
from smsim.resources.registry import simulate
from smsim.resources.scaling.fluid import simulate_fluid
from smsim.workload.request_trace import CountTrace


class CountsFluidTier(FluidTier):
    """The fluid tier of a real-time endpoint driven by given per-minute counts."""

    def __init__(self, spec, profile, ctx: SimContext, counts: np.ndarray, arrival_scv: float = 1.0) -> None:
        super().__init__(spec, profile, ctx)
        self.counts = np.asarray(counts, dtype=np.float64)[: self.n_minutes]
        if self.counts.size < self.n_minutes:
            raise ValueError(f"{spec.name}: {self.counts.size} minutes of counts for a "
                             f"{self.n_minutes}-minute horizon")
        self.arrival_scv = float(arrival_scv)

    def _calibration_sample(self, ctx: SimContext):
        """Requests of the first hour with the workload's attribute distributions (for profiles
        whose service time depends on tokens or payload)."""
        s = self.spec
        trace = CountTrace(60.0, self.counts[:60], start=ctx.start).to_requests(
            ctx.rng("endpoint", s.name, "calibration"), "uniform")
        attrs = getattr(s.workload, "attributes", None)
        return attrs.apply(trace, ctx.rng("endpoint", s.name, "calibration", "attributes")) if attrs else trace

    def start(self, ctx: SimContext) -> None:
        import time

        from smsim.resources.realtime.metering import COMPONENT, EndpointMeter

        t_wall = time.perf_counter()
        s = self.spec
        sample = self._calibration_sample(ctx) if self.profile.size_dependent else None
        self.mean_s, self.scv, self.service_points = self._service(sample)
        model = ServiceModel(self.mean_s, self.scv, self.arrival_scv, s.concurrency_per_instance,
                             s.invocation_timeout_s, tuple(self.service_points.tolist()))
        from smsim.resources.realtime.predictive import resolved_scaling

        self.result = simulate_fluid(self.counts, resolved_scaling(s, ctx, self.counts), model,
                                     rng=ctx.rng("endpoint", s.name, "provisioning"), start=ctx.start)
        meter = EndpointMeter(ctx.meter, s.name)
        tags = ctx.tags_for(s)
        for row in self.result.instances.itertuples(index=False):
            meter.instance(f"{s.name}-{row.instance_id}", "endpoint_instance", COMPONENT, s.instance_type,
                           row.launch_s, min(row.end_s, self.horizon_s), 1, "OnDemand", tags)
        self.wall_s = time.perf_counter() - t_wall


@dataclass
class PathRun:
    """One simulated path: its seed, ledger and run summary (``ledger`` may be dropped)."""

    index: int
    seed: int
    summary: dict[str, Any]
    ledger: pd.DataFrame | None
    spend: pd.DataFrame = field(default_factory=pd.DataFrame)  # hour, resource_id, cost_usd
    eligible: pd.DataFrame = field(default_factory=pd.DataFrame)  # hour, instance_type, ... ondemand_usd


def simulate_path(scenario, counts: dict[str, np.ndarray], seed: int, *, catalog=None):
    """Run the path scenario with ``counts`` (per-minute, by endpoint) -> ``smsim.api.RunResult``."""
    from smsim import __version__
    from smsim.billing.ledger import build_ledger
    from smsim.billing.summary import summarize
    from smsim.pricing.catalog import catalog_for
    from smsim.resources.realtime.model import RealtimeEndpointModel
    from smsim.run import RunResult

    catalog = catalog or catalog_for(scenario)
    rest = scenario.model_copy(update={"endpoints": [e for e in scenario.endpoints if e.name not in counts]})
    sim = simulate(rest, seed=seed, catalog=catalog)
    ctx = SimContext(env=simpy.Environment(), scenario=scenario, seed=seed, meter=Meter(), catalog=catalog)
    projected = {}
    for spec in scenario.endpoints:
        if spec.name not in counts:
            continue
        model = RealtimeEndpointModel(spec.model_copy(update={"fidelity": "fluid"}), ctx)
        model.tier = CountsFluidTier(model.spec, model.profile, ctx, counts[spec.name])
        model.start(ctx)
        projected[spec.name] = model.finish(ctx)
    usage = pd.concat([f for f in (sim.usage, ctx.meter.frame()) if len(f)], ignore_index=True) \
        if len(sim.usage) or len(ctx.meter.frame()) else sim.usage
    ledger = build_ledger(usage, catalog=catalog, region=scenario.region, horizon_start=scenario.horizon.start,
                          horizon_s=scenario.horizon.duration_s, pricing=scenario.pricing)
    billed = summarize(ledger, catalog)
    by_resource = billed.get("cost_by_resource", {})
    others = {r.resource_id: r for r in sim.resources}
    resources, series = [], {}
    for _, spec in scenario.resources():
        res = projected.get(spec.name) or others.get(spec.name)
        if res is None:
            continue
        entry = {"resource_id": res.resource_id, "kind": res.kind, "section": res.section, **res.metrics,
                 "cost_usd": float(by_resource.get(res.resource_id, 0.0))}
        resources.append(entry)
        if res.series is not None:
            series[res.resource_id] = res.series
    summary = {"scenario": scenario.name, "seed": seed,
               "horizon": {"start": scenario.horizon.start.isoformat(), "duration_s": scenario.horizon.duration_s},
               "region": scenario.region, "smsim_version": __version__, **billed, "resources": resources}
    return RunResult(scenario=scenario, seed=seed, usage=usage, ledger=ledger, summary=summary, series=series)


_CATALOGS: dict[str, Any] = {}


def _catalog(scenario):
    from smsim.pricing.catalog import catalog_for

    key = f"{scenario.base_dir}:{scenario.pricing.catalog}"
    if key not in _CATALOGS:
        _CATALOGS[key] = catalog_for(scenario)
    return _CATALOGS[key]


def _run_one(index: int, scenario, counts, seed: int, keep_ledger: bool, catalog=None) -> PathRun:
    from smsim.project.report import eligible_hourly, spend_hourly

    result = simulate_path(scenario, counts, seed, catalog=catalog if catalog is not None else _catalog(scenario))
    return PathRun(index, seed, result.summary, result.ledger if keep_ledger else None,
                   spend_hourly(result.ledger), eligible_hourly(result.ledger))


def run_paths(scenario, counts: list[dict[str, np.ndarray]], seeds: list[int], *, jobs: int = 1,
              scheduler: Any = None, keep_ledger: bool = False,
              progress: Callable[[float], None] | None = None) -> list[PathRun]:
    """Simulate path ``i`` with ``counts[i]`` and ``seeds[i]``; results in path order.

    ``jobs`` worker processes (``-1``: all cores) or a Dask ``scheduler``
    (:func:`smsim.executor.executor`); the numbers do not depend on either.
    """
    from smsim.executor import executor
    from smsim.run import read_inputs

    with executor(jobs, scheduler) as ex:
        # on a cluster, the files the paths read (the price catalog, traces of the endpoints not
        # projected) are read here and shipped once per worker
        bundle = read_inputs(scenario, check=False) if ex.kind == "dask" else None
        tasks = [(i, (i, scenario, c, s, keep_ledger))
                 for i, (c, s) in enumerate(zip(counts, seeds, strict=True))]
        out = ex.map(_run_one, tasks, progress=progress, inputs=bundle,
                     describe=lambda i: f"path {i} (seed {seeds[i]})")
    return [out[i] for i in range(len(tasks))]


__all__ = ["CountsFluidTier", "PathRun", "run_paths", "simulate_path"]
