"""Fluid forms of serverless, asynchronous and multi-model endpoints: closed forms, and agreement
with the request tier on the same scenarios (``fidelity`` honoured per kind)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smsim.queueing import erlang_b
from smsim.resources.multimodel.cache import RHO_THRASH, che_hits, fleet_cache
from smsim.resources.registry import simulate
from smsim.scenario.schema import Scenario

MODELS = [{"name": f"m{k}", "memory_gb": 4.0, "load_time_s": 8.0,
           "latency": {"*": {"kind": "gamma", "mean_s": 0.5, "cv": 1.0}}} for k in range(4)] + [
    {"name": "slow", "latency": {"*": {"kind": "lognormal", "median_s": 8.0, "p99_s": 40.0}}}]


def run(fidelity: str, endpoint: dict, duration: str, seed: int = 1) -> dict:
    sc = Scenario(name="t", horizon={"duration_s": duration}, seed=seed, fidelity=fidelity, models=MODELS,
                  endpoints=[endpoint])
    return simulate(sc).resources[0].metrics


def serverless(workload: dict, **kw) -> dict:
    return {"kind": "serverless", "name": "s", "model": "m0", "memory_size_mb": 2048, "max_concurrency": 5,
            "workload": workload, "sla": {"latency_threshold_s": 2.0}, **kw}


def test_serverless_throttling_is_erlang_b():
    """Negligible cold starts and containers never reclaimed: the fluid form throttles Erlang
    B(c, lambda E[S]) of the arrivals, and the request tier agrees within its sampling error."""
    ep = serverless({"kind": "poisson", "rate_per_s": 8.0}, cold_start={"kind": "deterministic", "value_s": 1e-4},
                    idle_reclaim_s="30d")
    f, r = run("fluid", ep, "6h"), run("request", ep, "6h")
    expected = erlang_b(5, 8.0 * 0.5)
    assert f["throttled"] / f["requests"] == pytest.approx(expected, rel=0.01)
    assert r["throttled"] / r["requests"] == pytest.approx(expected, rel=0.05)
    assert (f["fidelity"], r["fidelity"]) == ("fluid", "request")


def test_serverless_trickle_cold_starts_and_cost_match_the_request_tier():
    """A trickle (0.002/s, containers reclaimed after 10 idle minutes): a request is cold when
    nothing ran in the last 600 s, exp(-lambda (600 + E[busy])) = 0.301 (request tier 0.301 on
    6,998 requests, fluid 0.300); compute billed to the millisecond agrees with the request
    tier's per-request bill (-0.8 %)."""
    ep = serverless({"kind": "poisson", "rate_per_s": 0.002})
    f, r = run("fluid", ep, "40d"), run("request", ep, "40d")
    closed = math.exp(-0.002 * 600.5)
    assert f["cold_start_rate"] == pytest.approx(closed, rel=0.03)
    assert r["cold_start_rate"] == pytest.approx(closed, abs=0.03)  # 6,900 requests
    assert f["compute_gb_s"] == pytest.approx(r["compute_gb_s"], rel=0.04)
    assert f["latency_p50_s"] == pytest.approx(r["latency_p50_s"], rel=0.05)


ASYNC = {"kind": "async", "name": "a", "model": "slow", "instance_type": "ml.m5.large", "concurrency_per_instance": 2,
         "workload": {"kind": "seasonal", "base_rate_per_s": 1.0, "daily_amplitude": 0.8},
         "autoscaling": {"min_capacity": 0, "max_capacity": 20, "scale_to_zero": True,
                         "provisioning": {"kind": "fixed", "delay_s": 300},
                         "policies": [{"kind": "target_tracking", "metric": "backlog_per_instance",
                                       "target_value": 5}]},
         "sla": {"latency_threshold_s": 120.0}}


def test_async_fluid_queues_without_capacity_and_agrees_with_the_request_tier():
    """Scaled to zero at the start, requests wait (none fails for want of capacity, a few are
    still queued at the horizon); over a day of 8 s jobs scaled on backlog per instance,
    instance-hours, latency quantiles and SLA attainment agree with the request tier
    (measured: instance-hours -1.4 %, p50 +4.0 %, p90 +4.5 %, SLA -1.2 points, 195 vs 198
    scaling activities; 7 requests queued at the horizon against 1 in flight)."""
    f, r = run("fluid", ASYNC, "1d"), run("request", ASYNC, "1d")
    assert f["timed_out"] == 0 and f["dropped"] == 0
    assert f["served"] + f["in_flight"] == pytest.approx(f["requests"], rel=1e-9)
    assert f["in_flight"] < 1e-4 * f["requests"]
    assert f["instance_hours"] == pytest.approx(r["instance_hours"], rel=0.03)
    for key in ("latency_p50_s", "latency_p90_s"):
        assert f[key] == pytest.approx(r[key], rel=0.08)
    assert f["sla_attainment"] == pytest.approx(r["sla_attainment"], abs=0.02)


def test_async_trickle_scales_to_zero_as_the_request_tier_does():
    """A trickle of 10 s jobs (0.05/s) on an endpoint that scales to zero: the backlog is read as
    one reading typically shows (0 when fewer than ln 2 requests are held on average), so the
    fluid form scales to zero between requests as the request tier does. Measured over one day:
    instance-hours +2 % (reading the mean backlog instead, it never scaled to zero: -32 %)."""
    ep = {**ASYNC, "workload": {"kind": "poisson", "rate_per_s": 0.05}}
    f, r = run("fluid", ep, "1d"), run("request", ep, "1d")
    assert f["instance_hours"] == pytest.approx(r["instance_hours"], rel=0.1)


def mme(n_models: int, cache_gb: float) -> dict:
    names = [m["name"] for m in MODELS[:n_models]]
    return {"kind": "multi_model", "name": "mme", "models": names, "instance_type": "ml.g5.xlarge",
            "concurrency_per_instance": 2, "cache_memory_gb": cache_gb,
            "workload": {"kind": "mix", "models": {n: {"kind": "poisson", "rate_per_s": 4.0 / (k + 1)}
                                                   for k, n in enumerate(names)}},
            "sla": {"latency_threshold_s": 1.0},
            "autoscaling": {"min_capacity": 1, "max_capacity": 10,
                            "policies": [{"kind": "target_tracking", "target_value": 100}]}}


def test_multi_model_fluid_agrees_when_the_models_fit():
    """Four models in a 24 GB cache: after one load per model and instance every request hits;
    cost, hit rate and latency agree with the request tier (measured on 6 h: instance-hours
    +1.0 %, p50 and p90 within 0.7 %, p99 within 0.1 %, SLA -0.6 points; 22 loads against 50,
    as instances launched later load the models again)."""
    f, r = run("fluid", mme(4, 24.0), "6h"), run("request", mme(4, 24.0), "6h")
    assert f["instance_hours"] == pytest.approx(r["instance_hours"], rel=0.02)
    assert f["cache_hit_rate"] == pytest.approx(r["cache_hit_rate"], abs=1e-3)
    for key, tol in (("latency_p50_s", 0.05), ("latency_p90_s", 0.05), ("latency_p99_s", 0.12)):
        assert f[key] == pytest.approx(r[key], rel=tol)
    assert f["sla_attainment"] == pytest.approx(r["sla_attainment"], abs=0.015)


def test_che_hit_rates_fill_the_cache_and_follow_popularity():
    """Che's approximation: the expected occupancy equals the cache; more popular items hit
    more; everything hits when everything fits."""
    rates = np.array([1.0, 0.5, 0.25, 0.1])
    sizes = np.array([2.0, 2.0, 1.0, 3.0])
    h = che_hits(rates, sizes, 4.0)
    assert (sizes * h).sum() == pytest.approx(4.0, rel=1e-6)
    assert h[0] > h[1] > h[2] > h[3]
    assert (che_hits(rates, sizes, 8.0) == 1.0).all()


def exact_lru_hits(p: np.ndarray, size: int) -> np.ndarray:
    """Exact LRU hit probabilities under independent requests with probabilities ``p`` and unit
    sizes: the stationary move-to-front list (King, 1971) has ``(j_1 .. j_C)`` on top with
    probability ``prod_k p_jk / (1 - sum_{l<k} p_jl)``; an item hits when it is among them."""
    from itertools import permutations

    hits = np.zeros(p.size)
    for top in permutations(range(p.size), size):
        prob, used = 1.0, 0.0
        for j in top:
            prob *= p[j] / (1.0 - used)
            used += p[j]
        hits[list(top)] += prob
    return hits


def test_che_approximation_is_close_to_exact_lru():
    """Zipf(0.8) over 7 items, caches of 2 and 4: Che's per-item hit rates within 0.03 of the
    exact LRU ones and the overall hit rate within 0.01 (exact 0.369 and 0.670; Che is 0.006
    low and 0.0001 high; the approximation tightens as the cache grows)."""
    p = 1.0 / np.arange(1, 8) ** 0.8
    p /= p.sum()
    for size in (2, 4):
        exact = exact_lru_hits(p, size)
        assert exact.sum() == pytest.approx(size, rel=1e-9)  # the cache is always full
        che = che_hits(p, np.ones(p.size), float(size))
        assert np.abs(che - exact).max() < (0.03 if size == 2 else 0.01)
        assert (p * che).sum() == pytest.approx((p * exact).sum(), abs=0.01)


def test_fleet_cache_regimes():
    """Partitioned: a catalogue that fits the fleet (not one instance) always hits. Thrashing:
    hits as each instance's LRU under an even share, and loads fill the workers to exactly
    RHO_THRASH, the remaining misses dropped; shares sum to one."""
    rates = 2.0 / np.arange(1, 13)
    sizes, load, svc = np.full(12, 4.0), np.full(12, 8.0), np.full(12, 0.2)
    light = fleet_cache(rates * 0.25, sizes, load, svc, 24.0, 4, 2)
    assert not light.thrashing and (light.hits == 1.0).all() and (light.drops == 0.0).all()
    busy = fleet_cache(rates, sizes, load, svc, 24.0, 4, 2)
    assert busy.thrashing
    np.testing.assert_allclose(busy.hits, che_hits(rates / 4, sizes, 24.0))
    np.testing.assert_allclose(busy.hits + busy.loads + busy.drops, 1.0)
    work = (rates * (busy.hits * svc + busy.loads * (load + svc))).sum()
    assert work == pytest.approx(RHO_THRASH * 4 * 2, rel=1e-9)
    assert (busy.drops > 0).all()


def test_multi_model_fluid_follows_a_thrashing_fleet():
    """Four models, caches of two, about 5 instances at 8.3 requests/s: the request tier's
    routing thrashes (hit rate 0.887 of the requests it routes, 35 % dropped for memory); the
    fluid form finds the regime: hit rate and drops close (0.862 and 31 % on this run)."""
    f, r = run("fluid", mme(4, 8.0), "6h"), run("request", mme(4, 8.0), "6h")
    assert f["cache_hit_rate"] == pytest.approx(r["cache_hit_rate"], abs=0.04)
    assert f["dropped_no_memory"] / f["requests"] == pytest.approx(r["dropped_no_memory"] / r["requests"], abs=0.06)
    assert f["instance_hours"] == pytest.approx(r["instance_hours"], rel=0.02)
    assert f["cache_regime"] == "thrashing"


def test_a_thrashing_fluid_fleet_is_warned_about_and_a_partitioned_one_is_not():
    """The fluid tier's latency on a thrashing multi-model fleet can be far from the request
    tier's, so the run's summary says so; a fleet whose caches hold the catalogue gets no warning."""
    from smsim.run import run_scenario

    def warnings(cache_gb):
        sc = Scenario(name="t", horizon={"duration_s": "6h"}, seed=1, fidelity="fluid", models=MODELS,
                      endpoints=[mme(4, cache_gb)])
        return run_scenario(sc).summary["warnings"]

    (w,) = warnings(8.0)
    assert w.startswith("mme: its model caches thrash") and "fidelity: request" in w
    assert warnings(24.0) == []


@pytest.mark.parametrize(("endpoint", "duration"), [(serverless({"kind": "poisson", "rate_per_s": 1000.0}), "1d"),
                                                    (ASYNC, "40d"), (mme(2, 24.0), "40d")])
def test_auto_fidelity_picks_the_fluid_form_for_large_runs(endpoint, duration):
    sc = Scenario(name="t", horizon={"duration_s": duration}, seed=1, fidelity="auto", models=MODELS,
                  endpoints=[endpoint])
    from smsim.api import estimate_requests

    assert estimate_requests(sc)[0].tier == "fluid"
