"""Fluid tier speed (a year of an autoscaled endpoint) and its cost error against the request kernel.

Run: ``python benchmarks/bench_fluid.py``. Prints the wall time of one year (525,600 minutes)
with target tracking on a diurnal load, then simulates a two-day slice both ways -- the fluid
tier, and the SimPy autoscaler driving the request-level kernel (:mod:`smsim.core.kernel`) -- on
the same per-minute arrival counts and prints billed instance-hours, served and timed-out
requests side by side.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import simpy

from smsim import rng
from smsim.core.fluid import ServiceModel
from smsim.core.kernel import Kernel, KernelConfig
from smsim.resources.scaling.autoscaler import Autoscaler
from smsim.resources.scaling.fluid import simulate_fluid
from smsim.resources.scaling.policies import Metrics
from smsim.resources.scaling.spec import AutoscalingSpec

SPEC = AutoscalingSpec(
    min_capacity=1, max_capacity=40,
    policies=[{"kind": "target_tracking", "target_value": 70}],
)
SERVICE = ServiceModel(service_mean_s=0.5, service_scv=1.0, arrival_scv=1.0, timeout_s=60.0)


def diurnal(minutes: int, seed: int = 0) -> np.ndarray:
    t = np.arange(minutes)
    rate = 600 * (1 + 0.8 * np.sin(2 * np.pi * t / 1440))
    return rng.stream(seed, "bench", "arrivals").poisson(rate).astype(float)


class KernelPlane:
    """The request kernel as the autoscaler's data plane: Poisson times within each minute."""

    def __init__(self, counts: np.ndarray, horizon_s: float, seed: int) -> None:
        self.counts = counts
        self.kernel = Kernel(KernelConfig(horizon_s=horizon_s, timeout_s=SERVICE.timeout_s))
        self.rng = rng.stream(seed, "bench", "requests")
        self.ids: dict[str, int] = {}
        self.timeline = None
        self.last = 0.0

    def attach(self, scaler: Autoscaler) -> None:
        self.timeline = scaler.timeline
        for inst in scaler.timeline.instances:
            self.ids[inst.instance_id] = int(self.kernel.add_instances(1, inst.ready_s)[0])
        scaler.listeners.append(self.on_change)

    def on_change(self, t: float, event: str, inst) -> None:
        if event == "launch":
            self.ids[inst.instance_id] = int(self.kernel.add_instances(1, inst.ready_s)[0])
        elif event == "terminate":
            self.kernel.remove_instances([self.ids[inst.instance_id]], t)

    def advance(self, until_s: float) -> Metrics:
        k = int(self.last // 60)
        n = int(self.counts[k])
        arr = np.sort(self.last + self.rng.random(n) * (until_s - self.last))
        svc = self.rng.exponential(SERVICE.service_mean_s, n)
        self.kernel.advance(arr, svc, until_s)
        in_service = self.timeline.in_service_mean(self.last, until_s)
        util = float(self.kernel.windows(until_s).utilization.iloc[-1]) if in_service > 0 else 0.0
        m = Metrics(self.last, float(n), in_service, 100 * util, 100 * util, float(self.kernel.queued))
        self.last = until_s
        return m


def request_level(counts: np.ndarray, seed: int = 0):
    horizon = counts.size * 60.0
    env = simpy.Environment()
    plane = KernelPlane(counts, horizon, seed)
    scaler = Autoscaler(env, SPEC, plane, rng=rng.stream(seed, "bench", "provisioning"),
                        start=datetime(2026, 1, 1, tzinfo=UTC), horizon_s=horizon)
    plane.attach(scaler)
    scaler.start()
    env.run(until=horizon)
    return scaler, plane.kernel.counts()


def main() -> None:
    year = diurnal(525_600)
    t0 = time.perf_counter()
    simulate_fluid(year[:1440], SPEC, SERVICE, rng=rng.stream(0, "warm"))
    t1 = time.perf_counter()
    result = simulate_fluid(year, SPEC, SERVICE, rng=rng.stream(0, "bench", "provisioning"))
    t2 = time.perf_counter()
    print(f"fluid, 525,600 minutes: {t2 - t1:.2f} s wall (first call incl. numba load/compile {t1 - t0:.2f} s); "
          f"{result.policy_calls} policy evaluations, {len(result.events)} scaling activities, "
          f"{result.instance_seconds() / 3600:,.0f} instance-hours")

    days = 2
    counts = diurnal(days * 1440, seed=1)
    fluid = simulate_fluid(counts, SPEC, SERVICE, rng=rng.stream(1, "bench", "provisioning"))
    t3 = time.perf_counter()
    scaler, totals = request_level(counts, seed=1)
    t4 = time.perf_counter()
    req_hours = scaler.timeline.billed_s(counts.size * 60.0) / 3600
    fl_hours = fluid.instance_seconds() / 3600
    print(f"\n{days}-day slice, {int(counts.sum()):,} requests (request level took {t4 - t3:.1f} s):")
    print(f"{'':24}{'fluid':>12}{'request':>12}{'rel. diff':>11}")
    for name, f, r in [
        ("instance-hours (cost)", fl_hours, req_hours),
        ("scaling activities", len(fluid.events), int((scaler.events_frame().event != "start").sum())),
        ("served", fluid.minutes.served.sum(), totals.get("served", float("nan"))),
        ("timed out", fluid.minutes.timed_out.sum(), totals.get("timed_out", float("nan"))),
    ]:
        rel = (f - r) / r if r else float("nan")
        print(f"{name:24}{f:>12,.1f}{r:>12,.1f}{rel:>+11.2%}")


if __name__ == "__main__":
    main()
