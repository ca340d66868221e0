"""Serverless endpoints: hand-computed bills and timelines, Erlang-B throttling, conservation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from conftest import StandInHorizon, StandInScenario

from smsim import queueing, rng
from smsim.core.engine import SimContext
from smsim.core.meter import Meter
from smsim.resources.models import ModelSpec
from smsim.resources.serverless.model import ServerlessModel
from smsim.resources.serverless.pool import (
    OUT_SERVED,
    OUT_THROTTLED,
    OUT_TIMED_OUT,
    ServerlessPool,
)
from smsim.resources.serverless.spec import ServerlessEndpointSpec


def _run(spec: dict, model: dict, horizon_s: float, seed: int = 0, tmp_path=None, backend="python"):
    ep = ServerlessEndpointSpec.model_validate({"name": "sls", "model": "m", **spec})
    scenario = StandInScenario(StandInHorizon(horizon_s), [ModelSpec.model_validate({"name": "m", **model})], base_dir=tmp_path)
    ctx = SimContext(env=simpy.Environment(), scenario=scenario, seed=seed, meter=Meter())
    m = ServerlessModel(ep, ctx, backend=backend)
    m.start(ctx)
    return m.finish(ctx), ctx.meter.frame()


def _trace(tmp_path, times, payload=None):
    lines = ["arrival_s" + (",payload_bytes" if payload is not None else "")]
    for k, t in enumerate(times):
        lines.append(f"{t}" + (f",{payload[k]}" if payload is not None else ""))
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    return {"kind": "trace", "path": "t.csv", "time_unit": "s"}


# ---- the container pool, by hand ---------------------------------------------------------------

def test_pool_timeline_cold_warm_reclaim_throttle():
    # max concurrency 2, idle reclaim 10 s, cold start 1 s, service 2 s.
    pool = ServerlessPool(2, idle_reclaim_s=10.0, timeout_s=60.0, backend="python")
    t = np.array([0.0, 0.5, 1.0, 4.0, 14.0, 30.0])
    svc = np.full(6, 2.0)
    cold = np.full(6, 1.0)
    r = pool.run(t, svc, cold)
    # 0: cold (A busy to 3). 0.5: cold (B busy to 3.5). 1.0: 2 in flight -> throttled.
    # 4.0: A and B idle (freed 3, 3.5); most recently freed B is reused, warm, busy to 6.
    # 14.0: A (freed 3) reclaimed at 13; B (freed 6) warm -> reused, busy to 16.
    # 30.0: B freed 16, reclaimed at 26 -> cold start.
    assert r.code.tolist() == [OUT_SERVED, OUT_SERVED, OUT_THROTTLED, OUT_SERVED, OUT_SERVED, OUT_SERVED]
    assert r.cold.tolist() == [True, True, False, False, False, True]
    assert r.latency_s[[0, 1, 3, 4, 5]].tolist() == [3.0, 3.0, 2.0, 2.0, 3.0]
    totals = pool.close(horizon_s=100.0)
    assert totals["containers_created"] == 3
    # A lived 0..13, B 0.5..26, C 30..(33 + 10 = 43)
    assert totals["containers_reclaimed"] == 3
    assert totals["container_s"] == pytest.approx(13 + 25.5 + 13)


def test_pool_provisioned_first_and_timeout_billing():
    pool = ServerlessPool(3, provisioned=1, idle_reclaim_s=5.0, timeout_s=10.0, backend="python")
    t = np.array([0.0, 1.0, 2.0])
    svc = np.array([0.1234, 0.5, 9.5])
    cold = np.array([7.0, 7.0, 7.0])
    r = pool.run(t, svc, cold)
    # 0: provisioned, warm, 0.1234 s -> billed 0.124 s. 1.0: provisioned free again -> reused.
    # 2.0: provisioned busy? no: freed at 1.5 -> reused again; 9.5 s fits the 10 s timeout.
    assert r.provisioned.tolist() == [True, True, True]
    assert r.billed_s.tolist() == pytest.approx([0.124, 0.5, 9.5])
    pool2 = ServerlessPool(1, idle_reclaim_s=5.0, timeout_s=10.0, backend="python")
    r2 = pool2.run(np.array([0.0]), np.array([4.0]), np.array([7.0]))
    # cold 7 + 4 = 11 > 10: times out; billed inference is what ran before the deadline: 3 s
    assert r2.code.tolist() == [OUT_TIMED_OUT]
    assert r2.billed_s.tolist() == pytest.approx([3.0])
    pool3 = ServerlessPool(1, timeout_s=10.0, bill_cold_start=True, backend="python")
    assert pool3.run(np.array([0.0]), np.array([1.0]), np.array([2.0005])).billed_s.tolist() == pytest.approx([3.001])


def test_numba_and_python_cores_agree():
    g = rng.stream(1, "t")
    n = 20_000
    t = np.sort(g.random(n) * 2000.0)
    svc, cold = g.exponential(0.8, n), g.lognormal(0.0, 0.5, n)
    a = ServerlessPool(8, provisioned=2, idle_reclaim_s=30.0, timeout_s=3.0, backend="python")
    b = ServerlessPool(8, provisioned=2, idle_reclaim_s=30.0, timeout_s=3.0, backend="numba")
    ra, rb = a.run(t[: n // 2], svc[: n // 2], cold[: n // 2]), b.run(t[: n // 2], svc[: n // 2], cold[: n // 2])
    ra2, rb2 = a.run(t[n // 2:], svc[n // 2:], cold[n // 2:]), b.run(t[n // 2:], svc[n // 2:], cold[n // 2:])
    for x, y in ((ra, rb), (ra2, rb2)):
        assert np.array_equal(x.code, y.code) and np.array_equal(x.flags, y.flags)
        assert np.allclose(x.billed_s, y.billed_s)
    assert a.close(2000.0) == b.close(2000.0)


@pytest.mark.parametrize("c,rate,mean_s", [(1, 0.5, 1.0), (5, 4.0, 1.0), (20, 15.0, 1.0)])
def test_throttling_is_erlang_b(c, rate, mean_s):
    # No reclaim and no cold start: an M/G/c/c loss system, blocking = Erlang B(c, lambda / mu)
    # (insensitive to the service distribution; lognormal here).
    g = rng.stream(7, "erlang", str(c))
    n = 200_000
    t = np.cumsum(g.exponential(1 / rate, n))
    sigma = 0.8
    svc = g.lognormal(math.log(mean_s) - sigma**2 / 2, sigma, n)
    pool = ServerlessPool(c, idle_reclaim_s=1e12, timeout_s=1e9, backend="numba")
    r = pool.run(t, svc, np.zeros(n))
    blocked = r.code[1000:] == OUT_THROTTLED  # skip the empty start
    p = blocked.mean()
    b = queueing.erlang_b(c, rate * mean_s)
    # batch means for a 99.9% interval
    batches = blocked[: blocked.size // 50 * 50].reshape(50, -1).mean(axis=1)
    half = 3.3 * batches.std(ddof=1) / math.sqrt(50)
    assert abs(p - b) < max(half, 2e-3), (p, b, half)


# ---- the endpoint model: bills and metrics ------------------------------------------------------

MODEL = {"latency": {"*": {"kind": "deterministic", "value_s": 0.1004}}}


def test_hand_computed_bill(tmp_path):
    # 4 requests, 2048 MB, concurrency 1, no reclaim in the run, cold start 2 s (deterministic).
    times = [0.0, 0.5, 10.0, 3700.0]
    payload = [1024**3 // 2, 0, 0, 1024**3 // 4]
    spec = {"memory_size_mb": 2048, "max_concurrency": 1, "idle_reclaim_s": 7200,
            "cold_start": {"kind": "deterministic", "value_s": 2.0},
            "data_out_gb_per_request": 0.25, "sla": {"latency_threshold_s": 1.0, "percentile": 50},
            "workload": _trace(tmp_path, times, payload)}
    res, usage = _run(spec, MODEL, 3720.0, tmp_path=tmp_path)
    m = res.metrics
    # 0: cold 2 + 0.1004 -> busy to 2.1004; 0.5 throttled; 10: warm; 3700: warm.
    assert (m["requests"], m["served"], m["throttled"], m["timed_out"], m["cold_starts"]) == (4, 3, 1, 0, 1)
    assert m["requests"] == m["served"] + m["throttled"] + m["timed_out"] + m["dropped"] + m["in_flight"]
    # billed per request: 0.1004 s -> 101 ms; x 2 GB
    compute = usage[usage.rate_key == "serverless_compute_gb_second"]
    assert compute.quantity.sum() == pytest.approx(3 * 0.101 * 2)
    assert compute.quantity.tolist() == pytest.approx([2 * 0.202, 0.202])  # hour 0 and hour 1
    assert compute.start_s.tolist() == [0.0, 3600.0]
    data = usage[usage.rate_key == "serverless_data_gb"]
    # processed: 0.5 + 0.25, 0 + 0.25, 0.25 + 0.25 (the throttled one is not processed)
    assert data.quantity.sum() == pytest.approx(0.75 + 0.25 + 0.5)
    assert m["sla_attainment"] == pytest.approx(2 / 4)
    assert m["latency_p50_s"] == pytest.approx(0.1004, rel=0.006)  # lower order statistic of 3
    assert m["latency_mean_s"] == pytest.approx((2.1004 + 2 * 0.1004) / 3)
    assert m["container_gb_hours"] == pytest.approx(2 * 3720 / 3600)  # one container, never idle 2 h
    s = res.series
    assert s.requests.sum() == 4 and s.throttled.sum() == 1 and s.compute_gb_s.sum() == pytest.approx(0.606)


def test_provisioned_concurrency_is_metered_under_its_own_keys(tmp_path):
    spec = {"memory_size_mb": 1024, "max_concurrency": 2, "provisioned_concurrency": 1,
            "workload": _trace(tmp_path, [1.0, 1.05, 100.0])}
    res, usage = _run(spec, MODEL, 100.5, tmp_path=tmp_path)
    by_key = usage.groupby("rate_key").quantity.sum()
    assert by_key["serverless_provisioned_gb_second"] == pytest.approx(1 * 1.0 * 100.5)
    assert by_key["serverless_provisioned_inference_gb_second"] == pytest.approx(2 * 0.101)
    assert by_key["serverless_compute_gb_second"] == pytest.approx(0.101)  # the spill-over, cold
    assert res.metrics["cold_starts"] == 1 and res.metrics["served_provisioned"] == 2


def test_poisson_run_conserves_and_is_seed_pure():
    spec = {"memory_size_mb": 4096, "max_concurrency": 3, "idle_reclaim_s": 120,
            "workload": {"kind": "poisson", "rate_per_s": 2.0}}
    model = {"latency": {"*": {"kind": "gamma", "mean_s": 1.0, "cv": 1.0}}}
    a, ua = _run(spec, model, 2 * 3600.0, seed=5, backend="numba")
    b, ub = _run(spec, model, 2 * 3600.0, seed=5, backend="python")
    assert a.metrics == b.metrics
    m = a.metrics
    assert m["requests"] == m["served"] + m["throttled"] + m["timed_out"] + m["in_flight"]
    assert m["throttled"] > 0 and m["cold_starts"] >= 3
    assert a.series.requests.sum() == m["requests"]
    # in flight at a window end never exceeds max concurrency
    assert a.series.in_flight_end.between(0, 3).all()


def test_spec_rejects_out_of_range_values():
    base = {"name": "s", "model": "m", "workload": {"kind": "poisson", "rate_per_s": 1.0}}
    with pytest.raises(ValueError, match="memory_size_mb"):
        ServerlessEndpointSpec.model_validate({**base, "memory_size_mb": 1500, "max_concurrency": 1})
    with pytest.raises(ValueError, match="max_concurrency"):
        ServerlessEndpointSpec.model_validate({**base, "memory_size_mb": 1024, "max_concurrency": 201})
    with pytest.raises(ValueError, match="provisioned_concurrency 3 exceeds max_concurrency 2"):
        ServerlessEndpointSpec.model_validate({**base, "memory_size_mb": 1024, "max_concurrency": 2,
                                               "provisioned_concurrency": 3})
