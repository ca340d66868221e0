"""Multi-model endpoints: LRU hit rates on hand-built sequences, cache-aware routing, load latency,
memory source, conservation."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from conftest import StandInHorizon, StandInScenario

from smsim.core.engine import SimContext
from smsim.core.meter import Meter
from smsim.pricing import load_catalog
from smsim.resources.models import ModelSpec
from smsim.resources.multimodel.model import MultiModelEndpoint, MultiModelPlane, cache_memory_gb
from smsim.resources.multimodel.spec import MultiModelEndpointSpec


def _plane(times, models, svc, *, memory=(1.0, 1.0, 1.0), load=(5.0, 5.0, 5.0), cap=2.0, c=1, n_inst=1,
           timeout=60.0):
    p = MultiModelPlane(times, models, svc, memory_gb=memory, load_time_s=load, horizon_s=10_000.0,
                        concurrency=c, capacity_gb=cap, timeout_s=timeout)
    insts = [p.add_instance(0.0) for _ in range(n_inst)]
    p.advance(10_000.0)
    return p, insts


def test_lru_hits_loads_and_evictions_by_hand():
    # capacity 2 models; A B A C B A, far apart: miss miss hit miss(evict B) miss(evict A) miss(evict C)
    A, B, C = 0, 1, 2
    seq = [A, B, A, C, B, A]
    p, (inst,) = _plane(np.arange(6) * 100.0, seq, np.full(6, 1.0))
    assert (p.tot["hits"], p.tot["loads"], p.tot["evictions"]) == (1, 5, 3)
    assert list(inst.cache) == [B, A]
    # latency: a miss pays the 5 s load plus 1 s service; the hit 1 s
    assert p.hist.mean == pytest.approx((5 * 6 + 1) / 6)
    # same sequence with room for all three: 3 loads, 3 hits, no eviction
    p3, _ = _plane(np.arange(6) * 100.0, seq, np.full(6, 1.0), cap=3.0)
    assert (p3.tot["hits"], p3.tot["loads"], p3.tot["evictions"]) == (3, 3, 0)


def test_lru_order_follows_use_not_load():
    # A B A C: A was used after B, so loading C evicts B (not A, the first loaded)
    p, (inst,) = _plane(np.array([0.0, 100.0, 200.0, 300.0]), [0, 1, 0, 2], np.full(4, 1.0))
    assert list(inst.cache) == [0, 2] and p.tot["evictions"] == 1


def test_a_model_in_use_is_not_evicted_and_the_request_waits_for_a_load_in_progress():
    # c = 2 workers, room for 1 model of 1 GB: A loads at 0 (ready 5), a second A at 1 waits for the
    # load (hit, ends 6); B at 2 cannot evict A (in flight) -> dropped for memory.
    p, (inst,) = _plane(np.array([0.0, 1.0, 2.0]), [0, 0, 1], np.full(3, 1.0), cap=1.0, c=2)
    assert (p.tot["loads"], p.tot["hits"], p.tot["dropped_no_memory"], p.tot["served"]) == (1, 1, 1, 2)
    assert p.hist.mean == pytest.approx((6.0 + 5.0) / 2)


def test_routing_prefers_a_cached_instance_with_room_else_least_loaded():
    # 2 instances, c = 1. A at 0 -> inst 0 (load). A at 100 -> inst 0 has it and is free: hit.
    # A at 100.5 -> inst 0 busy (until 101): goes to the least loaded inst 1, which loads A.
    # A at 200 -> both cached and free: least loaded, tie -> the older inst 0.
    p, (i0, i1) = _plane(np.array([0.0, 100.0, 100.5, 200.0]), [0, 0, 0, 0], np.full(4, 1.0), n_inst=2)
    assert (p.tot["hits"], p.tot["loads"]) == (2, 2)
    assert 0 in i0.cache and 0 in i1.cache


def test_timeouts_in_queue_and_in_service():
    # one worker, 50 s requests, load 5 s: the first ends at 55 (served); the second (arrived 1)
    # starts at 55 and would end at 105, cut at its deadline 61; the third starts at 61, cut at 62;
    # the fourth starts at 62, cut at 63.
    p, _ = _plane(np.array([0.0, 1.0, 2.0, 3.0]), [0, 0, 0, 0], np.full(4, 50.0))
    assert (p.tot["served"], p.tot["timed_out"]) == (1, 3)
    p2, _ = _plane(np.array([0.0, 1.0]), [0, 0], np.array([80.0, 1.0]), load=(0.0,) * 3)
    # an 80 s request holds the worker to its deadline 60; the next starts at 60 and ends at 61: served
    assert (p2.tot["served"], p2.tot["timed_out"]) == (1, 1)




def test_endpoint_with_mix_workload_conserves_and_meters():
    names = [f"m{k}" for k in range(12)]
    models = [ModelSpec.model_validate({"name": n, "memory_gb": 4.0, "load_time_s": 8.0,
                                        "latency": {"*": {"kind": "gamma", "mean_s": 0.2, "cv": 1.0}}})
              for n in names]
    mix = {"kind": "mix", "models": {n: {"kind": "poisson", "rate_per_s": 0.2 / (k + 1)} for k, n in enumerate(names)}}
    spec = MultiModelEndpointSpec.model_validate({
        "name": "mme", "models": names, "instance_type": "ml.g5.xlarge", "initial_instance_count": 2,
        "concurrency_per_instance": 2, "workload": mix, "sla": {"latency_threshold_s": 1.0}})
    ctx = SimContext(env=simpy.Environment(), scenario=StandInScenario(StandInHorizon(4 * 3600.0), models), seed=3,
                     meter=Meter(), catalog=load_catalog("builtin"))
    mme = MultiModelEndpoint(spec, ctx)
    mme.start(ctx)
    ctx.env.run(until=4 * 3600.0)
    m = mme.finish(ctx).metrics
    # ml.g5.xlarge: one A10G with 24 GiB -> the GPU memory is the cache (6 models of 4 GB)
    assert (m["cache_memory_gb"], m["cache_memory_source"]) == (24.0, "accelerator_memory_gib")
    assert m["requests"] == m["served"] + m["timed_out"] + m["dropped"] + m["in_flight"]
    assert 0.5 < m["cache_hit_rate"] < 1.0 and m["evictions"] > 0
    assert m["instance_hours"] == pytest.approx(2 * 4.0)
    assert m["latency_p99_s"] > 8.0  # misses pay the 8 s load
    usage = ctx.meter.frame()
    assert set(usage.component) == {"RealTimeInference"}


def test_cache_memory_source_cpu_and_override():
    cat = load_catalog("builtin")
    base = {"name": "e", "models": ["a"], "workload": {"kind": "poisson", "rate_per_s": 1}}
    cpu = MultiModelEndpointSpec.model_validate({**base, "instance_type": "ml.m5.xlarge"})
    assert cache_memory_gb(cpu, cat) == (16.0, "memory_gib")
    own = MultiModelEndpointSpec.model_validate({**base, "instance_type": "ml.m5.xlarge", "cache_memory_gb": 10})
    assert cache_memory_gb(own, None) == (10.0, "cache_memory_gb")


def _drive(plane_cls, times, models, svc, *, memory, load, cap, c, timeout, horizon, **kw):
    """Both planes through the same fleet changes: 2 instances at 0, a third ready at 610 s, the
    first ended at 1500 s, the others at 1700 s, a fourth ready at 1830 s (none in service in
    between); advanced minute by minute."""
    p = plane_cls(times, models, svc, memory_gb=memory, load_time_s=load, horizon_s=horizon, concurrency=c,
                  capacity_gb=cap, timeout_s=timeout, sla_s=2.0, record=True, **kw)
    p.add_instance(0.0)
    p.add_instance(0.0)
    for t in np.arange(60.0, horizon + 60.0, 60.0):
        if t == 600.0:
            p.add_instance(610.0)
        if t == 1500.0:
            p.end_instance(0, 1500.0)
        if t == 1740.0:
            p.end_instance(1, 1700.0)
            p.end_instance(2, 1700.0)
        if t == 1800.0:
            p.add_instance(1830.0)
        p.advance(min(t, horizon))
    return p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_plane_is_identical_to_the_python_model_request_by_request(seed):
    """Same instance, outcome, hit/miss and completion time for every request, the same caches in
    LRU order and the same counters, on bursty traffic over 12 models of unequal size: hits,
    loads, evictions, requests waiting for a load, timeouts, drops for memory (models in use
    cannot be evicted) and for no instance (none in service during a gap), in flight at the end."""
    from smsim.resources.multimodel.kernel import CompiledPlane

    rng = np.random.default_rng(seed)
    horizon = 2400.0
    rate = np.where((np.arange(40) % 7) < 2, 6.0, 0.4)  # bursts two minutes in seven
    times = np.sort(np.concatenate([60 * k + rng.random(rng.poisson(60 * r)) * 60 for k, r in enumerate(rate)]))
    models = np.minimum(rng.zipf(1.4, times.size) - 1, 11)
    svc = rng.gamma(1.0, 1.5, times.size)
    memory = rng.choice([1.0, 2.0, 3.5], 12)
    load = rng.uniform(2.0, 20.0, 12)
    kw = {"memory": memory, "load": load, "cap": 6.0, "c": 2, "timeout": 30.0, "horizon": horizon}
    py = _drive(MultiModelPlane, times, models, svc, **kw)
    nb = _drive(CompiledPlane, times, models, svc, **kw)
    np.testing.assert_array_equal(nb.records[:, :3], py.records[:, :3])
    np.testing.assert_array_equal(nb.records[:, 3], py.records[:, 3])
    assert nb.tot == py.tot
    for key in py.win:
        np.testing.assert_array_equal(nb.win[key][:-1] if key == "busy_s" else nb.win[key],
                                      py.win[key][:-1] if key == "busy_s" else py.win[key])
        np.testing.assert_allclose(nb.win[key], py.win[key], rtol=1e-12)
    np.testing.assert_array_equal(nb.hist.counts, py.hist.counts)
    np.testing.assert_array_equal(nb.loads_by_model, py.loads_by_model)
    for k, inst in enumerate(py.order):
        assert nb.cache_of(k) == list(inst.cache)
    outcomes = set(py.records[:, 1].astype(int).tolist())
    assert outcomes >= {0, 1, 3, 4, 5}, outcomes  # served, cut, no instance, no memory, in flight
    assert py.tot["hits"] > 0 and py.tot["evictions"] > 0


@pytest.mark.parametrize("metric", ["concurrent_requests_per_copy", "backlog", "backlog_per_instance"])
def test_policy_on_a_metric_multi_model_never_publishes_is_refused(metric):
    """Backlog and per-copy concurrency are never published for a multi-model endpoint: refuse, not ignore."""
    base = {"name": "e", "models": ["a"], "instance_type": "ml.m5.xlarge", "workload": {"kind": "poisson", "rate_per_s": 1}}
    policy = {"kind": "target_tracking", "name": "p", "metric": metric, "target_value": 2}
    with pytest.raises(ValueError, match=f"tracks {metric}.*never act"):
        MultiModelEndpointSpec.model_validate({**base, "autoscaling": {"min_capacity": 1, "max_capacity": 3,
                                                                       "policies": [policy]}})
    ok = {**policy, "metric": "invocations_per_instance", "target_value": 60}
    MultiModelEndpointSpec.model_validate({**base, "autoscaling": {"min_capacity": 1, "max_capacity": 3,
                                                                   "policies": [ok]}})
