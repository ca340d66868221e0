"""The fluid tier: queueing against theory, hand-checked overload, and the same decisions as SimPy."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from smsim import queueing, rng
from smsim.core.fluid import ServiceModel
from smsim.core.fluid import erlang_c as _erlang_c
from smsim.resources.scaling.autoscaler import Autoscaler
from smsim.resources.scaling.fluid import simulate_fluid
from smsim.resources.scaling.policies import Metrics
from smsim.resources.scaling.spec import AutoscalingSpec

TT = {"kind": "target_tracking", "target_value": 70}


@pytest.mark.parametrize("c,a", [(1, 0.5), (2, 1.5), (10, 8.0), (50, 45.0), (200, 190.0), (3, 3.0)])
def test_kernel_erlang_c_matches_queueing(c, a):
    assert _erlang_c(c, a) == pytest.approx(queueing.erlang_c(c, a), rel=1e-12)


@pytest.mark.parametrize("servers,per_min,scv_s,scv_a", [(4, 360.0, 1.0, 1.0), (4, 420.0, 0.5, 1.5), (1, 40.0, 1.0, 1.0)])
def test_stable_minute_matches_allen_cunneen(servers, per_min, scv_s, scv_a):
    spec = AutoscalingSpec(min_capacity=servers, max_capacity=servers)
    svc = ServiceModel(service_mean_s=0.5, service_scv=scv_s, arrival_scv=scv_a, timeout_s=2.0)
    r = simulate_fluid(np.full(5, per_min), spec, svc, rng=rng.stream(0, "t"))
    lam, mu = per_min / 60, 2.0
    row = r.minutes.iloc[2]
    assert row.wait_mean_s == pytest.approx(queueing.allen_cunneen_wq(lam, mu, servers, scv_a, scv_s), rel=1e-9)
    p_to = queueing.gg_c_p_wait_gt(lam, mu, servers, 2.0, scv_a, scv_s)
    assert row.timed_out == pytest.approx(per_min * p_to, rel=1e-9)
    assert row.served + row.timed_out == pytest.approx(per_min)
    assert row.utilization == pytest.approx(row.served * 0.5 / (servers * 60))


def test_overload_carries_a_fluid_backlog_and_cuts_requests_at_their_deadline():
    # one instance, 1 s per request (deterministic): 60 per minute. 90 per minute arrive for 3 minutes.
    spec = AutoscalingSpec(min_capacity=1, max_capacity=1)
    arrivals = np.array([90.0, 90.0, 90.0, 0.0, 0.0])
    r = simulate_fluid(arrivals, spec, ServiceModel(1.0, service_scv=0.0, timeout_s=30.0), rng=rng.stream(0, "t")).minutes
    # minute 0: backlog 30 (<= 45 arrived in the last 30 s), 60 served. Minute 1: 120 in line, 45
    # stay (the last 30 s); the 75 leaving share 60 server-seconds, 0.8 s each < 1 s: every start
    # is cut at its deadline. Minute 2 likewise (90 leave); minute 3 serves the 45 left.
    assert r.backlog.tolist() == pytest.approx([30, 45, 45, 0, 0])
    assert r.timed_out.tolist() == pytest.approx([0, 75, 90, 0, 0])
    assert r.served.tolist() == pytest.approx([60, 0, 0, 45, 0])
    assert r.slack_s.tolist() == pytest.approx([0, 0.8, 60 / 90, 0, 0])
    assert r.utilization.tolist()[:3] == pytest.approx([1, 1, 1])
    assert r.served.sum() + r.timed_out.sum() + r.backlog.iloc[-1] == pytest.approx(arrivals.sum())
    assert r.wait_mean_s.tolist()[0] == pytest.approx(15.0)  # mean backlog / 1 per s


@pytest.mark.parametrize("load", [1.2, 2.0])
def test_saturated_minutes_serve_what_the_request_kernel_serves(load):
    """Sustained overload (1 instance x 4, lognormal service mean 0.5 s, scv 1, 60 s timeout): the
    request kernel starts every request just before its deadline and cuts the long ones. Served per
    minute over minutes 20-59 agree within 3 % (measured: +0.3 % at 1.2x, -2.0 % at 2x; the old
    fluid answer, the full capacity of 480 per minute, was off by -2 % and +16 %)."""
    from smsim.core.kernel import Kernel, KernelConfig

    g = np.random.default_rng(1)
    counts = g.poisson(load * 480, 60).astype(float)
    arr = np.sort(np.concatenate([m * 60 + g.random(int(c)) * 60 for m, c in enumerate(counts)]))
    svc = g.lognormal(np.log(0.5) - np.log(2) / 2, np.sqrt(np.log(2)), arr.size)
    k = Kernel(KernelConfig(horizon_s=3600.0, timeout_s=60.0, concurrency=4, routing="shared"))
    k.add_instances(1, 0.0)
    k.advance(arr, svc, 3600.0)
    kernel = k.windows(3600.0).served.iloc[20:].mean()
    spec = AutoscalingSpec(min_capacity=1, max_capacity=1)
    fluid = simulate_fluid(counts, spec, ServiceModel(0.5, 1.0, 1.0, 4), rng=rng.stream(0, "t")).minutes
    assert fluid.served.iloc[20:].mean() == pytest.approx(kernel, rel=0.03)
    assert (fluid.timed_out.iloc[20:] > 0).all()


def _load(n=3 * 1440, seed=3):
    t = np.arange(n)
    base = 600 * (1 + 0.8 * np.sin(2 * np.pi * t / 1440))
    return rng.stream(seed, "load").poisson(base).astype(float)


SPECS = [
    {"min_capacity": 1, "max_capacity": 40, "policies": [TT]},
    {"min_capacity": 2, "max_capacity": 30, "policies": [
        {"kind": "target_tracking", "metric": "cpu_utilization", "target_value": 60, "scale_in_cooldown_s": 600}]},
    {"min_capacity": 1, "max_capacity": 20, "policies": [
        {"kind": "step_scaling", "threshold": 80, "steps": [{"lower_bound": 0, "adjustment": 2}]},
        {"kind": "step_scaling", "name": "in", "threshold": 40, "comparison": "<", "datapoints": 5, "evaluation_periods": 5,
         "steps": [{"upper_bound": 0, "adjustment": -1}]},
    ]},
    {"min_capacity": 1, "max_capacity": 40, "policies": [TT, {"kind": "target_tracking", "name": "b", "target_value": 90}],
     "provisioning": {"kind": "lognormal", "median_s": 420, "p99_s": 900},
     "scheduled_actions": [{"schedule": "cron(0 9 * * ? *)", "timezone": "America/New_York", "min_capacity": 10},
                           {"schedule": "0 17 * * *", "timezone": "America/New_York", "min_capacity": 1}]},
]


def _bursty(n=3 * 1440, seed=4):
    """Two-level bursty load (MMPP-like): 100 or 2,400 per minute, mean sojourns 40 and 8 minutes.
    The bursts overload the fleet for several minutes (backlog and timeouts) before scale-out."""
    g = rng.stream(seed, "bursty")
    level, out, k = 0, [], 0
    while k < n:
        d = max(1, int(g.exponential((40, 8)[level])))
        out += [(100.0, 2400.0)[level]] * d
        k += d
        level = 1 - level
    return g.poisson(np.array(out[:n])).astype(float)


@pytest.mark.parametrize("load", [_load, _bursty])
@pytest.mark.parametrize("spec", SPECS)
def test_skipping_quiet_minutes_gives_identical_results(spec, load):
    s = AutoscalingSpec(**spec)
    svc = ServiceModel(service_mean_s=0.5, concurrency_per_instance=1)
    fast = simulate_fluid(load(), s, svc, rng=rng.stream(1, "prov"))
    slow = simulate_fluid(load(), s, svc, rng=rng.stream(1, "prov"), every_minute=True)
    assert fast.events == slow.events
    assert fast.minutes.equals(slow.minutes)
    assert fast.policy_calls < slow.policy_calls
    assert len(fast.events) > 4
    if load is _bursty:
        assert (fast.minutes.backlog > 0).sum() > 20  # the filter must also be right after overload


@pytest.mark.parametrize("spec", SPECS)
def test_billed_instance_seconds_equal_the_capacity_integral(spec):
    r = simulate_fluid(_load(), AutoscalingSpec(**spec), ServiceModel(0.5), rng=rng.stream(1, "prov"))
    assert r.instance_seconds() == pytest.approx(r.minutes.capacity.sum() * 60)
    assert (r.minutes.in_service <= r.minutes.capacity + 1e-9).all()


class ReplayPlane:
    """Invocations per minute from an array; the per-instance metric uses the autoscaler's timeline."""

    def __init__(self, arrivals):
        self.arrivals, self.last, self.timeline = arrivals, 0.0, None

    def advance(self, until_s):
        k = int(self.last // 60)
        m = Metrics(self.last, float(self.arrivals[k]), self.timeline.in_service_mean(self.last, until_s))
        self.last = until_s
        return m


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[3]])
def test_fluid_and_simpy_autoscaler_make_the_same_decisions(spec):
    arrivals = _load()
    s = AutoscalingSpec(**spec)
    fluid = simulate_fluid(arrivals, s, ServiceModel(0.5), rng=rng.stream(1, "prov"))
    env = simpy.Environment()
    plane = ReplayPlane(arrivals)
    from datetime import UTC, datetime

    scaler = Autoscaler(env, s, plane, rng=rng.stream(1, "prov"), start=datetime(2026, 1, 1, tzinfo=UTC),
                        horizon_s=arrivals.size * 60.0)
    plane.timeline = scaler.timeline
    scaler.start()
    env.run(until=arrivals.size * 60.0 + 1)
    ev = scaler.events_frame()
    simpy_events = [(t, e, c) for t, e, c in ev[ev.event != "start"][["time_s", "event", "capacity"]].values.tolist()]
    assert [(t, e, c) for t, e, c, _ in fluid.events] == simpy_events


def test_queue_at_end_of_a_minute_follows_the_arrival_times():
    """The fluid queue's reflection with known arrival times: 12 arrivals in the last 6 s of
    minute 2 against 0.2 starts/s leave 12 - 0.2 x 6 = 10.8 queued (uniform over the minute
    they would all start); the same 12 spread evenly leave none; a carried backlog of 20 adds
    its excess over the minute's starts, 20 + 12 - 12 = 20."""
    from smsim.resources.scaling.fluid_kernel import queue_at_end

    late = 120.0 + 54.0 + 0.5 * np.arange(12)
    assert queue_at_end(0.0, 12.0, 0.2, late, 0, 12, 120.0) == pytest.approx(10.8)
    even = 120.0 + 5.0 * np.arange(12)
    assert queue_at_end(0.0, 12.0, 0.2, even, 0, 12, 120.0) == pytest.approx(0.0, abs=1e-12)
    assert queue_at_end(20.0, 12.0, 0.2, even, 0, 12, 120.0) == pytest.approx(20.0)
    # the counts may be scaled (arrivals offered to the queue): 6 of the 12 late ones
    assert queue_at_end(0.0, 6.0, 0.2, late, 0, 12, 120.0) == pytest.approx(6.0 - 1.2)


def test_drawn_backlog_readings_have_the_poisson_distribution():
    """A reading's count in processing is drawn as Poisson (M/G/infinity): the ``u`` quantile
    at u = 0.5 is the median reading (``typical_count``), the mean over evenly spread ``u`` is
    the Poisson mean (2.0 and 80.0 here) and the variance too; the count never exceeds the
    servers; without a draw a reading is the median of queued plus in processing."""
    from scipy.special import ndtri

    from smsim.resources.scaling.fluid_kernel import backlog_reading, count_quantile, typical_count

    for mean in (0.2, 0.69, 2.0, 17.3, 80.0):
        assert count_quantile(mean, 0.5, 0.0) == typical_count(mean)
    u = (np.arange(20_000) + 0.5) / 20_000
    z = ndtri(u)
    for mean, tol in ((2.0, 0.002), (80.0, 0.01)):
        draws = np.array([count_quantile(mean, a, b) for a, b in zip(u, z, strict=True)])
        assert draws.mean() == pytest.approx(mean, rel=tol)
        assert draws.var() == pytest.approx(mean, rel=0.02)
    assert backlog_reading(3.0, 20.0, 8.0, 0.99, 2.33, True) == 3.0 + 8.0
    assert backlog_reading(0.0, 0.2, 2.0, 0.5, 0.0, True) == 0.0  # a trickle usually reads empty
    assert backlog_reading(0.0, 0.2, 2.0, 0.9, 1.28, True) == 1.0  # ... not always
    assert backlog_reading(3.0, 20.0, 8.0, 0.9, 1.28, False) == typical_count(23.0)
