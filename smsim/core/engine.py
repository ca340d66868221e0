"""The simulation engine: builds one model per scenario resource and runs them on one SimPy clock.

:func:`simulate` is given a builder for each ``(section, kind)`` (the resource registry,
:mod:`smsim.resources.registry`, supplies them). A builder takes the resource's spec and the
run's :class:`SimContext` and returns a :class:`ResourceModel`, whose ``start`` starts its SimPy
processes and whose ``finish`` (called once at the horizon) closes any open usage and returns
its metrics. The engine itself knows nothing of any resource type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
import simpy

from smsim import rng
from smsim.core.meter import Meter


@dataclass
class SimContext:
    """Everything a resource model may use: the clock, the meter, seeded streams, the horizon, and
    named topics through which one model's events (a pipeline run finishing) start another's work."""

    env: simpy.Environment
    scenario: Any  # smsim.scenario.schema.Scenario
    seed: int
    meter: Meter
    catalog: Any = None  # smsim.pricing.catalog.Catalog, for instance specs (never prices)
    progress: Callable[[float], None] | None = None
    _topics: dict[str, list[simpy.Store]] = field(default_factory=dict, repr=False)

    def subscribe(self, topic: str) -> simpy.Store:
        """A store that receives every item later published on ``topic`` (one store per
        subscriber, so several models can follow one source). Subscribe in ``start``."""
        store = simpy.Store(self.env)
        self._topics.setdefault(topic, []).append(store)
        return store

    def publish(self, topic: str, item: Any) -> None:
        """Hand ``item`` to every subscriber of ``topic`` at the current simulated time."""
        for store in self._topics.get(topic, []):
            store.put(item)

    @property
    def horizon_s(self) -> float:
        return float(self.scenario.horizon.duration_s)

    @property
    def start(self):
        return self.scenario.horizon.start

    def rng(self, *name: str) -> np.random.Generator:
        """The named random stream for this run (see :mod:`smsim.rng`)."""
        return rng.stream(self.seed, *name)

    def arrivals_rng(self, spec) -> np.random.Generator:
        """The arrival stream of an endpoint: shared by endpoints naming the same ``traffic_stream``,
        so alternatives inside one scenario see identical traffic."""
        return self.rng("endpoint", getattr(spec, "traffic_stream", None) or spec.name, "arrivals")

    def tags_for(self, spec) -> dict[str, str]:
        """Scenario default tags overlaid with the resource's own, plus its name."""
        tags = dict(self.scenario.tags)
        tags.update(getattr(spec, "tags", None) or {})
        tags.setdefault("smsim:resource", spec.name)
        return tags


@dataclass
class ResourceResult:
    """What a resource reports after the run: flat JSON-able metrics and optional time series."""

    resource_id: str
    kind: str
    section: str
    metrics: dict[str, Any] = field(default_factory=dict)
    series: pd.DataFrame | None = None


class ResourceModel(Protocol):
    def start(self, ctx: SimContext) -> None: ...

    def finish(self, ctx: SimContext) -> ResourceResult: ...


#: Makes the model of one resource from its spec: ``builder(spec, ctx) -> ResourceModel``.
Builder = Callable[[Any, SimContext], ResourceModel]


@dataclass
class SimResult:
    usage: pd.DataFrame
    resources: list[ResourceResult]
    seed: int
    horizon_s: float


def simulate(scenario, builders: Mapping[tuple[str, str], Builder], *, seed: int | None = None, catalog=None,
             progress=None) -> SimResult:
    """Run ``scenario`` to its horizon, each resource by ``builders[(section, spec.kind)]``.

    ``scenario`` is anything with ``resources()`` (``(section, spec)`` pairs), ``seed`` and
    ``horizon``. Pure in (scenario, seed): same inputs, same numbers.
    """
    run_seed = scenario.seed if seed is None else int(seed)
    env = simpy.Environment()
    ctx = SimContext(env=env, scenario=scenario, seed=run_seed, meter=Meter(), catalog=catalog, progress=progress)
    models = []
    for section, spec in scenario.resources():
        builder = builders.get((section, spec.kind))
        if builder is None:
            raise NotImplementedError(f"no simulator for {section} of kind {spec.kind!r}")
        model = builder(spec, ctx)
        model.start(ctx)
        models.append(model)
    horizon = ctx.horizon_s
    if progress is not None:
        env.process(_progress_ticker(env, horizon, progress))
    try:
        env.run(until=horizon)
    except Exception as exc:
        original = _unwrapped(exc)
        if original is exc:
            raise
        raise original from None
    results = [m.finish(ctx) for m in models]
    if progress is not None:
        progress(1.0)
    return SimResult(usage=ctx.meter.frame(), resources=results, seed=run_seed, horizon_s=horizon)


def _unwrapped(exc: BaseException) -> BaseException:
    """The exception a SimPy process raised, not SimPy's copy of it.

    When a process fails, SimPy re-raises ``type(exc)(*exc.args)`` with the original as
    ``__cause__``; the copy loses every attribute set outside ``args`` (an
    :class:`~smsim.errors.InputError`'s file, line, row and column). The original is returned
    whenever ``exc`` is such a copy.
    """
    cause = exc.__cause__
    if cause is not None and type(cause) is type(exc) and cause.args == exc.args:
        return cause
    return exc


def _progress_ticker(env: simpy.Environment, horizon: float, progress):
    step = max(horizon / 200.0, 1.0)
    while env.now + step < horizon:
        yield env.timeout(step)
        progress(env.now / horizon)
