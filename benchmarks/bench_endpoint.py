"""Request-tier endpoint simulation speed: a day of an autoscaled real-time endpoint.

One ``realtime`` endpoint at ``fidelity: request`` (seasonal traffic averaging ``--rate``
requests/s, lognormal service times, target tracking on invocations per instance, per-instance
least-outstanding routing) runs through the whole engine: the autoscaler's SimPy loop calls
``RequestTier.advance`` once per simulated minute. Prints simulated requests per second of the
whole run and of the request tier, and alongside them the bare kernel on the same number of
requests (M/M/c-like Poisson arrivals, one shared queue, 60-s advance calls) as the ceiling.

    python benchmarks/bench_endpoint.py                      # 1 day at 20 requests/s (~1.7 M)
    python benchmarks/bench_endpoint.py --rate 3 --repeat 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SCENARIO = """\
name: bench-endpoint
region: us-east-1
horizon: {{start: 2026-03-02T00:00:00Z, duration_s: {days}d}}
seed: {seed}
models:
  - name: chat
    memory_gb: 15
    latency:
      ml.g5.xlarge: {{kind: lognormal, median_s: 0.35, p99_s: 1.1}}
endpoints:
  - kind: realtime
    name: chat-g5
    model: chat
    instance_type: ml.g5.xlarge
    concurrency_per_instance: 4
    routing: {routing}
    fidelity: request
    workload: {{kind: seasonal, base_rate_per_s: {rate}, daily_amplitude: 0.7, peak_hour: 15,
               time_zone: America/New_York}}
    autoscaling:
      min_capacity: 1
      max_capacity: 60
      policies:
        - {{kind: target_tracking, target_value: 150, scale_in_cooldown_s: 600}}
      provisioning: {{kind: lognormal, median_s: 480, p99_s: 720}}
"""


def run_endpoint(path: Path):
    from smsim.resources.realtime.model import RequestTier
    from smsim.resources.registry import simulate
    from smsim.scenario import load_scenario

    tiers = []
    orig = RequestTier.__init__

    def spy(self, *a, **k):
        orig(self, *a, **k)
        tiers.append(self)

    RequestTier.__init__ = spy
    try:
        scenario = load_scenario(path)
        t0 = time.perf_counter()
        res = simulate(scenario)
        wall = time.perf_counter() - t0
    finally:
        RequestTier.__init__ = orig
    m = res.resources[0].metrics
    return wall, tiers[0].wall_s, m


def run_kernel(n: int, c: int, rho: float, mean_s: float, seed: int) -> float:
    from smsim import rng as streams
    from smsim.core.kernel import Kernel, KernelConfig

    lam = rho * c / mean_s
    arr = np.cumsum(streams.stream(seed, "bench", "arrivals").exponential(1 / lam, n))
    svc = streams.stream(seed, "bench", "service").exponential(mean_s, n)
    horizon = float(math.ceil(arr[-1] / 60 + 2) * 60)
    k = Kernel(KernelConfig(horizon_s=horizon, concurrency=4, timeout_s=60.0))
    k.add_instances(c // 4, 0.0)
    edges = np.arange(0.0, horizon + 60.0, 60.0)
    cuts = np.searchsorted(arr, edges)
    t0 = time.perf_counter()
    for j in range(1, len(edges)):
        k.advance(arr[cuts[j - 1]:cuts[j]], svc[cuts[j - 1]:cuts[j]], edges[j])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=20.0, help="mean requests/s (seasonal base)")
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--routing", default="least_outstanding",
                    choices=["shared", "random", "least_outstanding"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench_endpoint.yaml"
        path.write_text(SCENARIO.format(days=a.days, seed=a.seed, rate=a.rate, routing=a.routing))
        run_endpoint(path)  # load compiled code and imports outside the measurement
        walls, tier_walls, kernel_walls = [], [], []
        for _ in range(a.repeat):
            wall, tier_wall, m = run_endpoint(path)
            n = int(m["requests"])
            # Ceiling: the bare kernel on as many requests, 40 servers at 60% utilisation.
            kernel_walls.append(run_kernel(n, 40, 0.6, 0.4, a.seed))
            walls.append(wall)
            tier_walls.append(tier_wall)
    w, tw, kw = (statistics.median(x) for x in (walls, tier_walls, kernel_walls))
    print(f"endpoint: {a.days:g} day(s), ~{a.rate:g} requests/s, {a.routing}, "
          f"{n:,} requests, median of {a.repeat}")
    print(f"  max instances {m['max_instances']}, mean {m['mean_instances']:.2f}, "
          f"p50/p99 {m['latency_p50_s']:.3f}/{m['latency_p99_s']:.3f} s, "
          f"{m['scale_out_events']} scale-outs, {m['scale_in_events']} scale-ins")
    print(f"{'':34}{'wall s':>10}{'requests / s':>16}")
    print(f"{'whole simulation (engine)':34}{w:>10.3f}{n / w:>16,.0f}")
    print(f"{'request tier (RequestTier.advance)':34}{tw:>10.3f}{n / tw:>16,.0f}")
    print(f"{'bare kernel, 60-s calls (ceiling)':34}{kw:>10.3f}{n / kw:>16,.0f}")
    print("runs (whole s): " + ", ".join(f"{x:.3f}" for x in walls))


if __name__ == "__main__":
    main()
