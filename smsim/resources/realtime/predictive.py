"""Predictive scaling applied to a real-time endpoint: its arrivals exactly as the engine will
draw them, and the autoscaling spec with the predictive policy compiled into scheduled minimums
(see :mod:`smsim.resources.scaling.predictive`)."""

from __future__ import annotations

import math

import numpy as np

from smsim.core.engine import SimContext
from smsim.errors import InputError
from smsim.resources.fidelity import choose_fidelity
from smsim.resources.scaling.predictive import predictive_policy, resolve_predictive
from smsim.resources.scaling.predictive_spec import PredictiveScaling
from smsim.resources.scaling.spec import METRIC_PERIOD_S
from smsim.workload.counts import minute_counts
from smsim.workload.spec import materialize


def resolved_scaling(spec, ctx: SimContext, arrivals_per_minute: np.ndarray | None = None):
    """The endpoint's autoscaling with a predictive policy compiled into scheduled minimum
    capacities from the arrivals the engine will draw (unchanged without one)."""
    scaling = spec.scaling()
    if predictive_policy(scaling) is None:
        return scaling
    if arrivals_per_minute is None:
        trace = materialize(spec.workload, ctx.arrivals_rng(spec), ctx.horizon_s, ctx.start, ctx.scenario.base_dir)
        arrivals_per_minute = trace.to_counts(METRIC_PERIOD_S).counts
    return resolve_predictive(scaling, np.asarray(arrivals_per_minute, dtype=float), ctx.start, ctx.scenario.base_dir)


def engine_arrivals(scenario, spec, seed: int | None = None) -> np.ndarray:
    """Per-minute arrivals of ``spec`` exactly as the engine will draw them for ``scenario``."""
    run_seed = scenario.seed if seed is None else int(seed)
    ctx = SimContext(env=None, scenario=scenario, seed=run_seed, meter=None)
    tier, _ = choose_fidelity(spec, ctx)
    n = math.ceil(ctx.horizon_s / 60.0 - 1e-9)
    if tier == "fluid":
        counts, _, _ = minute_counts(spec.workload, ctx.arrivals_rng(spec), n, ctx.horizon_s, ctx.start,
                                     scenario.base_dir)
        return counts
    trace = materialize(spec.workload, ctx.arrivals_rng(spec), ctx.horizon_s, ctx.start, scenario.base_dir)
    return trace.to_counts(60.0).counts[:n]


def with_predictive(scenario, endpoint: str, policy: PredictiveScaling | None = None, *,
                    seed: int | None = None):
    """The scenario with ``endpoint``'s predictive policy (or ``policy``, added) compiled into
    scheduled minimum-capacity actions; a plain scenario any smsim version runs."""
    specs = {e.name: e for e in scenario.endpoints}
    if endpoint not in specs:
        raise InputError(f"no endpoint {endpoint!r}; endpoints: {', '.join(specs) or 'none'}")
    spec = specs[endpoint]
    if spec.kind != "realtime":
        raise InputError(f"endpoint {endpoint!r} is {spec.kind}; predictive scaling applies to real-time endpoints")
    scaling = spec.autoscaling or spec.scaling()
    resolved = resolve_predictive(scaling, engine_arrivals(scenario, spec, seed), scenario.horizon.start,
                                  scenario.base_dir, policy)
    update = {"autoscaling": resolved}
    if spec.initial_instance_count is not None:
        update["initial_instance_count"] = resolved.initial_capacity
        update["autoscaling"] = resolved.model_copy(update={"initial_capacity": None})
    new = spec.model_copy(update=update)
    data = scenario.model_copy(update={"endpoints": [new if e.name == endpoint else e for e in scenario.endpoints]})
    return type(scenario).model_validate(data.model_dump()).with_source(scenario.source)


__all__ = ["engine_arrivals", "resolved_scaling", "with_predictive"]
