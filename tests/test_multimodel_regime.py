"""Which cache regime the multi-model fluid form picks (smsim.resources.multimodel.cache): the
work a thrashing fleet makes at its own busy share, hand-computed, and the regime the request
tier lands in as the caches grow."""

from __future__ import annotations

import numpy as np
import pytest

from smsim.resources.multimodel.cache import RHO_THRASH, che_hits, fleet_cache, thrash_work
from smsim.resources.registry import simulate
from smsim.scenario.schema import Scenario

RATES = 2.0 / np.arange(1, 13)  # 12 Zipf-popular models, about 6.2 requests/s
SIZES, LOAD, SVC = np.full(12, 4.0), np.full(12, 8.0), np.full(12, 0.2)


def test_thrash_work_by_hand():
    """Two models at 1/s, one cached by each of 2 instances with probability 0.5, loads of 10 s,
    services of 0.1 s, 2 workers per instance busy at 0.5 (all busy 0.25): the first loads when
    neither instance both caches it and has a free worker, (1 - 0.5 * 0.75)^2 = 0.390625, and
    the least loaded does not cache it (0.5): 0.1953125; the second, never cached, always loads.
    Work 0.1 + 1.953125 + 0.1 + 10 = 12.153125. With every worker busy the routing finds no free
    worker and the first loads on its even-share misses, 0.5: 15.2."""
    rates, even = np.array([1.0, 1.0]), np.array([0.5, 0.0])
    load, svc = np.full(2, 10.0), np.full(2, 0.1)
    assert thrash_work(rates, even, load, svc, 2.0, 2, 0.5) == pytest.approx(12.153125, rel=1e-12)
    assert thrash_work(rates, even, load, svc, 2.0, 2, 1.0) == pytest.approx(15.2, rel=1e-12)


@pytest.mark.parametrize(("cache_gb", "instances", "thrashing"),
                         [(24.0, 4, True), (32.0, 4, False), (20.0, 6, True), (24.0, 6, False)])
def test_regime_is_the_one_thrashing_sustains_at_its_busy_share(cache_gb, instances, thrashing):
    """Requests plus even-share loads fill the workers in all four cases (the test without
    routing called them all thrashing); at the busy share a thrashing fleet runs at (0.85) the
    work it makes per worker is 1.22, 0.68, 0.87 and 0.65 for these. The request tier
    (benchmarks/bench_mm_regime.py, seeds 1-3) thrashes all day at 24 GB on 4 instances and
    partitions at 32 GB on 4 and 24 GB on 6 (after thrashing from its cold start); 20 GB on 6,
    next to the boundary, thrashes all day on seed 1 and drains into the partitioned regime on
    seeds 2 and 3."""
    even = che_hits(RATES / instances, SIZES, cache_gb)
    assert thrash_work(RATES, even, LOAD, SVC, instances, 2, 1.0) > instances * 2  # the test without routing
    fc = fleet_cache(RATES, SIZES, LOAD, SVC, cache_gb, instances, 2)
    assert fc.thrashing is thrashing
    work = thrash_work(RATES, even, LOAD, SVC, instances, 2, RHO_THRASH)
    assert (work >= RHO_THRASH * instances * 2) is thrashing
    if not thrashing:  # the catalogue fits the fleet's caches together: every request hits
        assert (fc.hits == 1.0).all() and (fc.drops == 0.0).all()


def endpoint(cache_gb: float) -> tuple[list[dict], dict]:
    models = [{"name": f"m{k}", "memory_gb": 4.0, "load_time_s": 8.0,
               "latency": {"*": {"kind": "gamma", "mean_s": 0.2, "cv": 1.0}}} for k in range(12)]
    ep = {"kind": "multi_model", "name": "ep", "models": [m["name"] for m in models],
          "instance_type": "ml.g5.xlarge", "concurrency_per_instance": 2, "cache_memory_gb": cache_gb,
          "workload": {"kind": "mix", "models": {m["name"]: {"kind": "poisson", "rate_per_s": 2.0 / (k + 1)}
                                                 for k, m in enumerate(models)}},
          "sla": {"latency_threshold_s": 1.0},
          "autoscaling": {"min_capacity": 1, "max_capacity": 10,
                          "policies": [{"kind": "target_tracking", "target_value": 100}]}}
    return models, ep


def test_large_caches_partition_in_both_tiers():
    """32 GB caches, about 4 instances: the request tier thrashes from its cold start, then its
    routing keeps each model where it is cached (hit rate 0.997, p50 0.14 s on this seed); the
    fluid form calls it partitioned, every request a hit, the p50 a hit's service."""
    models, ep = endpoint(32.0)

    def run(fidelity):
        sc = Scenario(name="t", horizon={"duration_s": "1d"}, seed=1, fidelity=fidelity, models=models,
                      endpoints=[ep])
        return simulate(sc).resources[0].metrics

    f, r = run("fluid"), run("request")
    assert f["cache_regime"] == "partitioned"
    assert r["cache_hit_rate"] > 0.99
    assert f["cache_hit_rate"] == pytest.approx(r["cache_hit_rate"], abs=0.01)
    assert f["latency_p50_s"] == pytest.approx(r["latency_p50_s"], rel=0.10)
    assert f["dropped_no_memory"] == 0.0
