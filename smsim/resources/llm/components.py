"""Inference components: an LLM endpoint whose model copies scale, with instances following.

SageMaker hosts inference components on an endpoint with managed instance scaling: each
component declares the accelerators one copy needs and a copy count; Application Auto Scaling
target tracking scales the copy count (``DesiredCopyCount``); the endpoint launches an instance
when a new copy fits on none (up to ``max_instance_count``) and releases instances hosting no
copy (down to ``min_instance_count``). The bill is the endpoint's instances, not the copies.

:class:`InstancePool` is one such endpoint's instances, shared by every component naming it;
:class:`CopyScaler` is one component's copy count: the shared autoscaling loop
(:class:`~smsim.resources.scaling.autoscaler.Autoscaler`) whose capacity units are copies,
placed on the pool instead of launched as instances.

Placement packs densest first (the instance with the fewest free accelerators that still fits
the copy, oldest first on ties); a copy serves after its instance is InService plus the
model's load time (copies of the initial fleet start warm). Scale-in removes copies still
loading first (newest first), then serving copies on the instances hosting the fewest copies
(newest instance first), so that instances empty and are released: SageMaker's ``IDLE_RELEASE``
scale-in. Which copy SageMaker removes is not documented; this order is smsim's assumption.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

from smsim.errors import InputError
from smsim.resources.realtime.metering import EndpointMeter, max_concurrent
from smsim.resources.scaling.autoscaler import Autoscaler, CapacityTimeline, Instance
from smsim.resources.scaling.provisioning import distribution


@dataclass
class Host:
    """One instance of the pool and the accelerators its copies hold."""

    inst: Instance
    used: int = 0
    copies: int = 0


@dataclass
class Placement:
    """A copy on a host: which component, how many accelerators, its lifecycle (an Instance)."""

    component: str
    accelerators: int
    copy: Instance
    host: Host


@dataclass
class InstancePool:
    """The instances of one endpoint hosting inference components (see the module doc)."""

    name: str
    instance_type: str
    accelerators: int
    min_instances: int
    max_instances: int
    delay: object  # a provisioning DelayDistribution
    rng: object
    meter: EndpointMeter | None = None
    tags: dict | None = None
    timeline: CapacityTimeline = field(default_factory=CapacityTimeline)
    hosts: list[Host] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    metered: set = field(default_factory=set)

    def alive(self) -> list[Host]:
        return [h for h in self.hosts if h.inst.end_s == math.inf]

    def _launch(self, now: float, warm: bool) -> Host:
        ready = 0.0 if warm else now + float(self.delay.sample(self.rng))
        inst = Instance(f"{self.name}-i{len(self.hosts)}", now, ready)
        host = Host(inst)
        self.hosts.append(host)
        self.timeline.instances.append(inst)
        return host

    def start(self) -> None:
        """The endpoint's minimum instances, warm at time 0."""
        for _ in range(self.min_instances - len(self.alive())):
            self._launch(0.0, warm=True)

    def place(self, component: str, accelerators: int, now: float, load_s: float, warm: bool) -> Placement | None:
        """Put one copy on the densest instance it fits, else on a new instance; None when the
        pool is at ``max_instance_count`` with no room."""
        fits = [h for h in self.alive() if self.accelerators - h.used >= accelerators]
        if fits:
            host = max(fits, key=lambda h: h.used)  # max() keeps the first (oldest) of equals
        elif len(self.alive()) < self.max_instances:
            host = self._launch(now, warm)
        else:
            return None
        ready = 0.0 if warm else max(now, host.inst.ready_s) + load_s
        copy = Instance(f"{component}-c{len(self.placements)}", now, ready)
        host.used += accelerators
        host.copies += 1
        p = Placement(component, accelerators, copy, host)
        self.placements.append(p)
        return p

    def release(self, p: Placement, now: float) -> None:
        """The copy ends at ``now``; instances left empty terminate down to the minimum."""
        p.copy.end_s = now
        p.host.used -= p.accelerators
        p.host.copies -= 1
        empty = [h for h in self.alive() if h.copies == 0]
        spare = len(self.alive()) - self.min_instances
        for h in sorted(empty, key=lambda h: -self.hosts.index(h))[:max(spare, 0)]:
            h.inst.end_s = now
            self._meter(h.inst, now)

    def _meter(self, inst: Instance, until_s: float) -> None:
        if self.meter is None or inst.instance_id in self.metered:
            return
        self.metered.add(inst.instance_id)
        self.meter.instance(inst.instance_id, "endpoint_instance", "RealTimeInference", self.instance_type,
                            inst.launch_s, min(inst.end_s, until_s), 1, "OnDemand", self.tags)

    def finish(self, until_s: float) -> None:
        for h in self.hosts:
            self._meter(h.inst, until_s)

    def instances_mean(self, a: float, b: float) -> float:
        """Time-averaged instances launched and not terminated (billed) in ``[a, b)``."""
        total = sum(max(0.0, min(b, h.inst.end_s) - max(a, h.inst.launch_s)) for h in self.hosts)
        return total / (b - a)

    def accelerator_seconds(self, until_s: float, component: str | None = None) -> float:
        """Accelerator-seconds held by copies (of ``component``, or all), placement to removal."""
        return sum(p.accelerators * max(0.0, min(p.copy.end_s, until_s) - p.copy.launch_s)
                   for p in self.placements if component is None or p.component == component)

    def summary(self, until_s: float) -> dict[str, float]:
        billed = self.timeline.billed_s(until_s)
        held = self.accelerator_seconds(until_s)
        return {
            "endpoint_instance_hours": billed / 3600.0,
            "endpoint_max_instances": max_concurrent([(h.inst.launch_s, min(h.inst.end_s, until_s))
                                                      for h in self.hosts]),
            "endpoint_accelerators_per_instance": self.accelerators,
            "endpoint_accelerator_hours_held": held / 3600.0,
            # accelerator-time the endpoint's copies held over what its instances had: packing efficiency
            "endpoint_packing_share": held / (billed * self.accelerators) if billed > 0 else math.nan,
        }


#: the pools of one run, by endpoint name (keyed on the run's SimPy environment)
_POOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def pool_for(spec, ctx, accelerators: int) -> InstancePool:
    """The pool named by ``spec.inference_component`` in this run, created by its first
    component; later components must agree on instance type, range and accelerators."""
    ic = spec.inference_component
    name = ic.endpoint or spec.name
    pools = _POOLS.setdefault(ctx.env, {})
    mis = ic.managed_instance_scaling
    where = f"endpoints.{spec.name}.inference_component"
    pool = pools.get(name)
    if pool is None:
        for other in ctx.scenario.endpoints:
            oic = getattr(other, "inference_component", None)
            if other.name == name and (oic is None or (oic.endpoint or other.name) != name):
                raise InputError(f"endpoint {name!r} is also a separate endpoint of this scenario; name the shared "
                                 "endpoint differently", path=f"{where}.endpoint")
        tags = dict(ctx.tags_for(spec))
        tags["smsim:resource"] = name
        pool = InstancePool(name, spec.instance_type, accelerators, mis.min_instance_count, mis.max_instance_count,
                            distribution(spec.scaling().provisioning), ctx.rng("endpoint", name, "provisioning"),
                            EndpointMeter(ctx.meter, name), tags)
        pool.start()
        pools[name] = pool
        return pool
    if (pool.instance_type, pool.accelerators, pool.min_instances, pool.max_instances) != (
            spec.instance_type, accelerators, mis.min_instance_count, mis.max_instance_count):
        raise InputError(f"components sharing endpoint {name!r} must agree on instance_type, accelerators per "
                         f"instance and managed_instance_scaling: {pool.instance_type} x {pool.accelerators} "
                         f"[{pool.min_instances}, {pool.max_instances}] vs {spec.instance_type} x {accelerators} "
                         f"[{mis.min_instance_count}, {mis.max_instance_count}]", path=where)
    return pool


class CopyScaler(Autoscaler):
    """One inference component's copy count, scaled by the shared autoscaling loop; its
    :attr:`timeline` holds copies (launch = placement, ready = serving), the pool's holds the
    billed instances."""

    def __init__(self, env, spec, data_plane, *, pool: InstancePool, accelerators_per_copy: int, load_s: float,
                 **kw) -> None:
        self.pool = pool
        self.need = accelerators_per_copy
        self.load_s = load_s
        self.placed: dict[str, Placement] = {}
        self.unplaced = 0  # copies wanted that fitted on no instance (pool at its maximum)
        super().__init__(env, spec, data_plane, **kw)

    def _launch(self, now: float, ready_s: float | None = None) -> Instance | None:
        warm = ready_s == 0.0
        p = self.pool.place(self.resource_id, self.need, now, self.load_s, warm)
        if p is None:
            if warm:
                raise InputError(f"{self.spec.start_capacity} starting copies of {self.need} accelerators do not fit "
                                 f"{self.pool.max_instances} instances of {self.pool.accelerators}",
                                 path=f"endpoints.{self.resource_id}.inference_component")
            return None
        self.placed[p.copy.instance_id] = p
        self.timeline.instances.append(p.copy)
        for listener in self.listeners:
            listener(now, "launch", p.copy)
        return p.copy

    def set_desired(self, desired: int, now: float) -> None:
        cap = self.capacity
        for k in range(desired - cap):
            if self._launch(now) is None:
                self.unplaced += desired - cap - k
                self._log(now, "placement_failed", f"{desired - cap - k} copies fit no instance "
                          f"(max_instance_count {self.pool.max_instances})")
                break
        if desired < cap:
            self._terminate(now, cap - desired)

    def _terminate(self, now: float, count: int) -> None:
        hosts = {id(h): k for k, h in enumerate(self.pool.hosts)}
        for _ in range(count):
            alive = [self.placed[c.instance_id] for c in self.timeline.instances if c.end_s == math.inf]
            if not alive:
                return
            order = {id(p): k for k, p in enumerate(alive)}
            pending = [p for p in alive if p.copy.ready_s > now]
            if pending:
                p = pending[-1]
            else:  # the fewest copies on its instance, then the newest instance, then the newest copy
                p = min(alive, key=lambda p: (p.host.copies, -hosts[id(p.host)], -order[id(p)]))
            self.pool.release(p, now)
            for listener in self.listeners:
                listener(now, "terminate", p.copy)

    def _meter(self, inst: Instance, until_s: float) -> None:
        """Copies are not billed; the pool meters its instances."""

    def finish(self, until_s: float | None = None) -> None:
        self.pool.finish(self.horizon_s if until_s is None else until_s)


__all__ = ["CopyScaler", "Host", "InstancePool", "Placement", "pool_for"]
