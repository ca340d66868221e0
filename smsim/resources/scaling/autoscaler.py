"""The autoscaling control loop of one endpoint variant, on the SimPy clock.

Every 60 s (CloudWatch's one-minute period, aligned to the horizon start) the loop

1. asks the data plane for the metrics of the period that just ended (``advance(now_s)``);
2. applies the scheduled actions due by now (new min/max; capacity clamped into them);
3. calls every policy's :func:`~smsim.resources.scaling.policies.decide` and merges them with
   :func:`~smsim.resources.scaling.policies.combine`;
4. launches or terminates instances to reach the new desired capacity.

A launched instance becomes InService after a provisioning delay drawn from the
``("autoscaler", <resource>, "provisioning")``-style stream the caller passes in. Instances are
metered from launch to termination (an instance still provisioning is billed; this is smsim's
assumption: AWS does not say when a scaled-out instance's billing starts). Scale-in removes
instances still provisioning first (newest first), then InService instances in
``termination_order`` (``newest_first`` by default; AWS does not document which it removes).

The data plane reads :attr:`Autoscaler.timeline`. At the moment ``advance(t)`` is called every
capacity change before ``t`` is already recorded there (launches know their ready time when
they are made, and terminations happen only at period ends, after ``advance``), so a request
kernel can run the period with the exact in-service count at every instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import pandas as pd
import simpy

from smsim.core.meter import Meter
from smsim.cron import fire_times_s
from smsim.resources.scaling.policies import (
    Metrics,
    PolicyState,
    ScalingContext,
    apply_scheduled,
    combine,
    decide,
)
from smsim.resources.scaling.provisioning import distribution
from smsim.resources.scaling.spec import METRIC_PERIOD_S, AutoscalingSpec


class DataPlane(Protocol):
    """Whatever serves requests: runs to ``until_s`` and returns that last period's metrics."""

    def advance(self, until_s: float) -> Metrics: ...


@dataclass
class Instance:
    """One instance's lifecycle in seconds from the horizon start (``end_s`` is inf while running)."""

    instance_id: str
    launch_s: float
    ready_s: float
    end_s: float = math.inf

    def in_service(self, t: float) -> bool:
        return self.ready_s <= t < self.end_s


class CapacityTimeline:
    """Instances over time: what the data plane serves with and what the meter bills."""

    def __init__(self) -> None:
        self.instances: list[Instance] = []

    def in_service_at(self, t: float) -> int:
        """Instances InService at time ``t`` (an instance ready at ``t`` counts; one ending at ``t`` not)."""
        return sum(1 for i in self.instances if i.in_service(t))

    def steps(self, start_s: float, end_s: float) -> list[tuple[float, int]]:
        """In-service count as ``(from_s, count)`` steps covering ``[start_s, end_s)``."""
        points = {start_s}
        for i in self.instances:
            for t in (i.ready_s, i.end_s):
                if start_s < t < end_s:
                    points.add(t)
        return [(t, self.in_service_at(t)) for t in sorted(points)]

    def in_service_mean(self, start_s: float, end_s: float) -> float:
        """Time-averaged in-service count over ``[start_s, end_s)``."""
        total = 0.0
        for i in self.instances:
            a, b = max(start_s, i.ready_s), min(end_s, i.end_s)
            if b > a:
                total += b - a
        return total / (end_s - start_s)

    def billed_s(self, until_s: float) -> float:
        """Instance-seconds from launch to termination (or ``until_s``)."""
        return sum(max(0.0, min(i.end_s, until_s) - i.launch_s) for i in self.instances)


#: Columns of :meth:`Autoscaler.events_frame`.
EVENT_COLUMNS = ["time_s", "event", "capacity", "in_service", "min_capacity", "max_capacity", "detail"]


class Autoscaler:
    """Application Auto Scaling for one endpoint variant, as a SimPy process.

    ``rng`` draws provisioning delays (pass a named stream, e.g.
    ``ctx.rng("endpoint", name, "provisioning")``); ``start`` is the horizon start, used to
    place cron schedules in their time zones. ``listeners`` are called as
    ``listener(time_s, event, instance)`` for ``launch``, ``in_service`` and ``terminate``.
    """

    def __init__(
        self,
        env: simpy.Environment,
        spec: AutoscalingSpec,
        data_plane: DataPlane,
        *,
        rng: np.random.Generator,
        start: datetime,
        horizon_s: float,
        resource_id: str = "endpoint",
        instance_type: str = "ml.m5.xlarge",
        component: str = "RealTimeInference",
        meter: Meter | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.env = env
        self.spec = spec
        self.data_plane = data_plane
        self.rng = rng
        self.delay = distribution(spec.provisioning)
        self.horizon_s = float(horizon_s)
        self.resource_id = resource_id
        self.instance_type = instance_type
        self.component = component
        self.meter = meter
        self.tags = tags
        self.timeline = CapacityTimeline()
        self.min_capacity = spec.min_capacity
        self.deleted = False
        self.max_capacity = spec.max_capacity
        self.states = tuple(PolicyState() for _ in spec.policies)
        self.listeners: list[Callable[[float, str, Instance], None]] = []
        self.events: list[tuple] = []
        self._next_id = 0
        self._metered: set[str] = set()
        fires = []
        for k, action in enumerate(spec.scheduled_actions):
            fires += [(t, k) for t in fire_times_s(action.schedule, action.timezone, start, horizon_s)]
        self._fires = sorted(fires)
        self._fire_pos = 0
        for _ in range(spec.start_capacity):
            self._launch(0.0, ready_s=0.0)

    # -- capacity -----------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """Desired capacity: instances launched and not terminated (InService or provisioning)."""
        return sum(1 for i in self.timeline.instances if i.end_s == math.inf)

    def _launch(self, now: float, ready_s: float | None = None) -> Instance:
        if ready_s is None:
            ready_s = now + float(self.delay.sample(self.rng))
        inst = Instance(f"{self.resource_id}-i{self._next_id}", now, ready_s)
        self._next_id += 1
        self.timeline.instances.append(inst)
        for listener in self.listeners:
            listener(now, "launch", inst)
        if ready_s > now:
            self.env.process(self._becomes_ready(inst))
        return inst

    def _becomes_ready(self, inst: Instance):
        yield self.env.timeout(inst.ready_s - self.env.now)
        if inst.end_s > self.env.now:
            for listener in self.listeners:
                listener(self.env.now, "in_service", inst)

    def _terminate(self, now: float, count: int) -> None:
        running = [i for i in self.timeline.instances if i.end_s == math.inf]
        order = {id(i): k for k, i in enumerate(self.timeline.instances)}
        serving = [i for i in running if i.ready_s <= now]
        serving.sort(key=lambda i: order[id(i)], reverse=self.spec.termination_order == "newest_first")
        pending = sorted((i for i in running if i.ready_s > now), key=lambda i: -order[id(i)])
        for inst in (pending + serving)[:count]:
            inst.end_s = now
            self._meter(inst, now)
            for listener in self.listeners:
                listener(now, "terminate", inst)

    def set_desired(self, desired: int, now: float) -> None:
        """Launch or terminate instances so that :attr:`capacity` equals ``desired``."""
        cap = self.capacity
        for _ in range(desired - cap):
            self._launch(now)
        if desired < cap:
            self._terminate(now, cap - desired)

    def _meter(self, inst: Instance, until_s: float) -> None:
        if self.meter is None or inst.instance_id in self._metered:
            return
        self._metered.add(inst.instance_id)
        self.meter.instance(
            inst.instance_id, "endpoint_instance", self.component, self.instance_type,
            inst.launch_s, min(inst.end_s, until_s), 1, "OnDemand", self.tags,
        )

    # -- the loop -------------------------------------------------------------------------------

    def start(self) -> None:
        self.env.process(self._loop())

    def _log(self, now: float, event: str, detail: str = "") -> None:
        self.events.append(
            (now, event, self.capacity, self.timeline.in_service_at(now), self.min_capacity, self.max_capacity, detail)
        )

    def _loop(self):
        self._log(0.0, "start")
        while True:
            yield self.env.timeout(METRIC_PERIOD_S)
            now = self.env.now
            metrics = self.data_plane.advance(now)
            self.step(now, metrics)

    def delete(self, now: float) -> None:
        """The endpoint is deleted: every instance terminates at ``now`` and nothing scales again."""
        self.deleted = True
        self.min_capacity = self.max_capacity = 0
        if self.capacity:
            self._terminate(now, self.capacity)
        self._log(now, "deleted")

    def step(self, now: float, metrics: Metrics) -> None:
        """One evaluation at the end of a period: scheduled actions, then policies."""
        if self.deleted:
            return
        while self._fire_pos < len(self._fires) and self._fires[self._fire_pos][0] <= now:
            action = self.spec.scheduled_actions[self._fires[self._fire_pos][1]]
            self._fire_pos += 1
            lo, hi, want = apply_scheduled(self.capacity, self.min_capacity, self.max_capacity, action)
            self.min_capacity, self.max_capacity = lo, hi
            if want != self.capacity:
                self.set_desired(want, now)
            self._log(now, "scheduled", f"{action.name}: min {lo} max {hi}")
        if not self.spec.policies:
            return
        cap = self.capacity
        decisions = tuple(
            decide(ScalingContext(p, now, cap, metrics, self.min_capacity, self.max_capacity, s))
            for p, s in zip(self.spec.policies, self.states, strict=True)
        )
        merged = combine(tuple(self.spec.policies), cap, decisions, now)
        self.states = merged.states
        if merged.action != "none":
            self.set_desired(merged.desired, now)
            self._log(now, merged.action, merged.reason)

    def finish(self, until_s: float | None = None) -> None:
        """Meter every instance still running at ``until_s`` (the horizon by default)."""
        until = self.horizon_s if until_s is None else until_s
        for inst in self.timeline.instances:
            self._meter(inst, until)

    def events_frame(self) -> pd.DataFrame:
        """Scaling activities as flat records (:data:`EVENT_COLUMNS`)."""
        return pd.DataFrame(self.events, columns=EVENT_COLUMNS)

    def ready_times(self) -> list[float]:
        return sorted(i.ready_s for i in self.timeline.instances)


def in_service_series(timeline: CapacityTimeline, horizon_s: float, period_s: float = METRIC_PERIOD_S) -> np.ndarray:
    """Time-averaged in-service count per period over ``[0, horizon_s)`` (vectorised)."""
    n = math.ceil(horizon_s / period_s)
    edges = np.arange(n + 1) * period_s
    out = np.zeros(n)
    for i in timeline.instances:
        a, b = i.ready_s, min(i.end_s, horizon_s)
        if b <= a:
            continue
        covered = np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, None)
        out += covered
    return out / period_s


__all__ = [
    "EVENT_COLUMNS",
    "Autoscaler",
    "CapacityTimeline",
    "DataPlane",
    "Instance",
    "in_service_series",
]
