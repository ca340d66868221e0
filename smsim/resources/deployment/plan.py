"""The capacity a deployment adds beside the serving fleet, as a pure function of its spec.

A plan is a list of phases ``(start_s, end_s, instances)`` from the deployment's start; its
instance-seconds are the overlap the deployment is billed for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Phase = tuple[float, float, int]


@dataclass(frozen=True)
class Plan:
    phases: tuple[Phase, ...]
    duration_s: float

    @property
    def instance_s(self) -> float:
        return sum((b - a) * n for a, b, n in self.phases)

    def cut(self, at_s: float) -> Plan:
        """The plan stopped at ``at_s`` (a rollback terminates the new capacity then)."""
        kept = tuple((a, min(b, at_s), n) for a, b, n in self.phases if a < at_s)
        return Plan(kept, min(self.duration_s, at_s))


def blue_green(n: int, provisioning_s: float, steps: int, baking_s: float, termination_wait_s: float) -> Plan:
    """A full green fleet of ``n`` from launch until the blue fleet is terminated:
    ``n x (provisioning + steps x baking + termination wait)`` instance-seconds."""
    end = provisioning_s + steps * baking_s + termination_wait_s
    return Plan(((0.0, end, n),), end)


def rolling(n: int, batch: int, provisioning_s: float, baking_s: float, spare: int = 0) -> Plan:
    """Batches of ``batch`` (the last one smaller) one after another, each launched, baked and
    then replacing as many old instances; ``spare`` free instances absorb part of each batch."""
    step = provisioning_s + baking_s
    phases = []
    for i in range(math.ceil(n / batch)):
        size = min(batch, n - i * batch)
        phases.append((i * step, (i + 1) * step, max(0, size - spare)))
    return Plan(tuple(p for p in phases if p[2] > 0), math.ceil(n / batch) * step)


def shadow(instances: int, provisioning_s: float, duration_s: float) -> Plan:
    """A shadow fleet from launch to the end of the test."""
    end = provisioning_s + duration_s
    return Plan(((0.0, end, instances),), end)


def plan_for(spec) -> Plan:
    """The plan of a deployment spec (blue-green, rolling or shadow)."""
    if spec.kind == "blue-green":
        return blue_green(spec.instance_count, spec.provisioning_s, spec.shift_steps, spec.baking_period_s,
                          spec.termination_wait_s)
    if spec.kind == "rolling":
        spare = spec.spare_instances if spec.target == "inference-component" else 0
        return rolling(spec.instance_count, spec.batch_size, spec.provisioning_s, spec.baking_period_s, spare)
    return shadow(spec.shadow_instances, spec.provisioning_s, spec.duration_s)
