"""The queue of a thrashing multi-model fleet (smsim.resources.multimodel.thrash): hand-computed
admission probabilities, closed forms of the chain, and a hand-computed latency mixture."""

from __future__ import annotations

import numpy as np
import pytest

from smsim.core.virtual_wait import weighted_quantiles
from smsim.resources.multimodel.thrash import (
    admit_probability,
    cover_probability,
    latency_mixture,
    solve,
)
from smsim.resources.registry import simulate
from smsim.scenario.schema import Scenario


def test_cover_probability_by_hand():
    """Two balls over two bins fill both with probability 2/4; two balls over three bins hit one
    given bin with probability 1 - (2/3)^2 = 5/9; no ball covers nothing; nothing to cover is sure."""
    assert cover_probability(2, 2, np.array([2.0]))[0] == pytest.approx(0.5)
    assert cover_probability(3, 1, np.array([2.0]))[0] == pytest.approx(5 / 9)
    assert cover_probability(3, 2, np.array([0.0]))[0] == pytest.approx(0.0)
    assert cover_probability(3, 0, np.array([4.0]))[0] == pytest.approx(1.0)


def test_admission_by_hand():
    """Two slots. Fewer requests than slots: always let in. Nothing loading, N = 2: two hits
    cover both models with 1/2, so a = 1/2; N = 3: they cover with 1 - 2 (1/2)^3 = 3/4, a = 1/4.
    Half loading, N = 2: both hits (1/4) cover with 1/2, one loading (1/2) leaves one slot its
    hit finds with 1/2, both loading (1/4) fill both: covered 5/8, a = 3/8. Everything loading:
    no miss gets in once N reaches the slots."""
    np.testing.assert_allclose(admit_probability(4, 2, 0.0), [1.0, 1.0, 0.5, 0.25])
    assert admit_probability(3, 2, 0.5)[2] == pytest.approx(0.375)
    np.testing.assert_allclose(admit_probability(5, 2, 1.0)[2:], 0.0, atol=1e-12)


def test_one_slot_of_misses_is_erlang_loss():
    """Only misses (every request loads) and one slot: a miss gets in only on an empty instance,
    so one instance with one worker is the Erlang loss system M/G/1/1: let in 1 / (1 + lambda W)
    with W = load + service (0.5 at lambda = 0.1/s, W = 10 s), and whoever gets in never waits;
    its latency is its deterministic load plus service."""
    q = solve(0.0, 0.1, 2.0, 8.0, 2.0, 1, 1.0, 1, 60.0)
    assert q.admitted_misses == pytest.approx(0.5, abs=1e-6)
    assert q.load_share == pytest.approx(1.0)
    assert q.hit_weight.sum() == pytest.approx(0.0)
    assert (q.wait_s[q.miss_weight > 1e-9] == 0.0).all()
    lat, w = latency_mixture(q.wait_s, [q.hit_weight, q.miss_weight], [np.zeros(0), np.array([10.0])])
    assert weighted_quantiles(lat, w, (0.5, 0.99)) == pytest.approx([10.0, 10.0])


def test_hits_only_is_mm1():
    """No misses, one instance, one worker: the chain is M/M/1 at rho = lambda E[S]. An arrival
    finds N with probability (1 - rho) rho^N and waits N services, so P(no wait) = 1 - rho and
    the mean wait is rho E[S] / (1 - rho) (0.5 and 0.2 s at lambda = 2.5/s, E[S] = 0.2 s)."""
    q = solve(2.5, 0.0, 0.2, 8.0, 0.2, 6, 1.0, 1, 60.0)
    w = q.hit_weight + q.miss_weight
    assert w[q.wait_s == 0.0].sum() == pytest.approx(0.5, abs=1e-6)
    assert (q.wait_s * w).sum() == pytest.approx(0.5 * 0.2 / 0.5, rel=1e-6)
    n = np.arange(6)
    np.testing.assert_allclose(q.occupancy[:6], 0.5 * 0.5**n, rtol=1e-6)


def test_latency_mixture_by_hand():
    """Waits 0 and 8 s; hits (service 0.1 s) wait them with 0.3 and 0.2, misses (load and
    service 8.1 s) with 0.4 and 0.1: latencies 0.1 (0.3), 8.1 (0.2 + 0.4) and 16.1 (0.1), mean
    0.03 + 4.86 + 1.61 = 6.5 s, median 8.1 s, p99 16.1 s."""
    lat, w = latency_mixture(np.array([0.0, 8.0]), [np.array([0.3, 0.2]), np.array([0.4, 0.1])],
                             [np.array([0.1]), np.array([8.1])])
    assert w.sum() == pytest.approx(1.0)
    assert (lat * w).sum() == pytest.approx(6.5)
    assert w[np.isclose(lat, 8.1)].sum() == pytest.approx(0.6)
    assert weighted_quantiles(lat, w, (0.5, 0.99)) == pytest.approx([8.1, 16.1])


def test_misses_see_shorter_queues_and_the_workers_fill():
    """A busy fleet of 4 instances x 2 workers, 6 slots, loads of 8 s: a miss is let in less the
    more its instance holds, so the misses' mean wait is below the hits'; the admitted work
    (hits' service plus admitted misses' load and service) reaches the workers, less the time
    the chain spends with idle workers."""
    hit_rate, miss_rate = 1.089, 0.473
    q = solve(hit_rate, miss_rate, 0.2, 8.0, 0.2, 6, 4.0, 2, 60.0)
    hit_wait = (q.wait_s * q.hit_weight).sum() / q.hit_weight.sum()
    miss_wait = (q.wait_s * q.miss_weight).sum() / q.miss_weight.sum()
    assert miss_wait < hit_wait
    work = hit_rate * 0.2 + miss_rate * q.admitted_misses * 8.2
    assert 0.95 * 2 < work <= 2.0
    a = admit_probability(40, 6, q.held_load_share)
    assert (np.diff(a) <= 1e-12).all() and a[5] == 1.0 and a[30] < 0.1


def test_fluid_latency_of_a_thrashing_fleet_follows_the_request_tier():
    """Twelve Zipf-popular models of 4 GB and 8 s loads, caches of 24 GB, about 4 instances at
    6.2 requests/s for a day: the request tier's waits are bounded by memory drops (p50 9.7 s,
    p90 17.3 s, p99 24.5 s, 2.8 % within 1 s on this seed); the fluid form within 10 % on each
    quantile and 1.5 points of SLA attainment, and every request served, timed out or dropped."""
    models = [{"name": f"m{k}", "memory_gb": 4.0, "load_time_s": 8.0,
               "latency": {"*": {"kind": "gamma", "mean_s": 0.2, "cv": 1.0}}} for k in range(12)]
    ep = {"kind": "multi_model", "name": "ep", "models": [m["name"] for m in models],
          "instance_type": "ml.g5.xlarge", "concurrency_per_instance": 2, "cache_memory_gb": 24.0,
          "workload": {"kind": "mix", "models": {m["name"]: {"kind": "poisson", "rate_per_s": 2.0 / (k + 1)}
                                                 for k, m in enumerate(models)}},
          "sla": {"latency_threshold_s": 1.0},
          "autoscaling": {"min_capacity": 1, "max_capacity": 10,
                          "policies": [{"kind": "target_tracking", "target_value": 100}]}}

    def run(fidelity):
        sc = Scenario(name="t", horizon={"duration_s": "1d"}, seed=1, fidelity=fidelity, models=models,
                      endpoints=[ep])
        return simulate(sc).resources[0].metrics

    f, r = run("fluid"), run("request")
    assert f["cache_regime"] == "thrashing"
    for k in ("latency_p50_s", "latency_p90_s", "latency_p99_s"):
        assert f[k] == pytest.approx(r[k], rel=0.10)
    assert f["sla_attainment"] == pytest.approx(r["sla_attainment"], abs=0.015)
    assert f["served"] + f["timed_out"] + f["dropped"] + f["in_flight"] == pytest.approx(f["requests"], rel=1e-6)
