"""The fluid tier through the endpoint path: agreement with the request tier, auto fidelity,
per-minute counts against the generators' declared moments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smsim.resources.registry import simulate
from smsim.scenario.schema import Scenario
from smsim.workload.arrivals import MMPPArrivals, SeasonalArrivals
from smsim.workload.counts import batch_positions, minute_counts

AUTO = {"min_capacity": 1, "max_capacity": 30, "provisioning": {"kind": "fixed", "delay_s": 300},
        "policies": [{"kind": "target_tracking", "target_value": 150}]}


def scenario(fidelity: str, workload: dict, duration: str = "6h", seed: int = 2, **endpoint) -> Scenario:
    ep = {"kind": "realtime", "name": "ep", "model": "m", "instance_type": "ml.g5.xlarge", "workload": workload,
          "routing": "shared", "concurrency_per_instance": 2, "autoscaling": AUTO,
          "sla": {"latency_threshold_s": 1.5}}
    ep.update(endpoint)
    return Scenario(name="t", horizon={"duration_s": duration}, seed=seed, fidelity=fidelity,
                    models=[{"name": "m", "latency": {"*": {"kind": "gamma", "mean_s": 0.5, "cv": 1.0}}}],
                    endpoints=[ep])


SMOOTH = {"kind": "seasonal", "base_rate_per_s": 15, "daily_amplitude": 0.5, "peak_hour": 4}


def test_fluid_and_request_tiers_agree_on_a_smooth_workload():
    """Measured (seed 2, 6 h, ~320k requests): instance-hours within 3 %, requests and served
    within 1 %, p50 within 5 %, SLA attainment within 1 point. The tolerances are the measured
    gaps with a margin, not theory: the tiers share the policies but not the arrivals."""
    req = simulate(scenario("request", SMOOTH))
    flu = simulate(scenario("fluid", SMOOTH))
    r, f = req.resources[0].metrics, flu.resources[0].metrics
    assert (r["fidelity"], f["fidelity"]) == ("request", "fluid")
    assert f["instance_hours"] == pytest.approx(r["instance_hours"], rel=0.03)
    assert f["requests"] == pytest.approx(r["requests"], rel=0.01)
    assert f["served"] == pytest.approx(r["served"], rel=0.01)
    assert f["latency_p50_s"] == pytest.approx(r["latency_p50_s"], rel=0.05)
    assert f["sla_attainment"] == pytest.approx(r["sla_attainment"], abs=0.01)
    # billed instance-seconds equal the metered integral in both tiers
    for res, m in ((req, r), (flu, f)):
        usage = res.usage[res.usage.usage_kind == "instance"]
        assert float(((usage.end_s - usage.start_s) * usage.quantity).sum()) == pytest.approx(m["instance_hours"] * 3600)
    assert set(flu.resources[0].series.columns) == set(req.resources[0].series.columns)
    assert len(flu.resources[0].series) == len(req.resources[0].series) == 360


@pytest.mark.parametrize(("workload", "duration", "expected"), [
    ({"kind": "poisson", "rate_per_s": 1.0}, "1h", "request"),
    ({"kind": "poisson", "rate_per_s": 1000.0}, "1d", "fluid"),  # 8.64e7 expected requests > 2e7
    ({"kind": "poisson", "rate_per_s": 0.01}, "40d", "fluid"),  # horizon > 31 days
])
def test_auto_fidelity(workload, duration, expected):
    res = simulate(scenario("auto", workload, duration, autoscaling=None, initial_instance_count=1))
    m = res.resources[0].metrics
    assert m["fidelity"] == expected
    if expected == "fluid" and duration == "40d":
        assert m["instance_hours"] == pytest.approx(40 * 24)


@pytest.mark.parametrize("exact_max", [0.0, 2e7])  # the rate-integral path; the generators' own arrivals
def test_minute_counts_match_declared_moments(exact_max):
    """Seasonal counts: mean = the rate integral; MMPP counts over the horizon: mean and the
    declared overdispersed variance, over 200 paths (3-sigma bounds)."""
    start = Scenario(name="t", horizon={"duration_s": "1d"}).horizon.start
    s = SeasonalArrivals(base_rate_per_s=5, daily_amplitude=0.8)
    totals = [minute_counts(s, np.random.default_rng(i), 1440, 86400.0, start, exact_max_requests=exact_max)[0].sum()
              for i in range(20)]
    exp = s.expected_count(86400.0, start)
    assert abs(np.mean(totals) - exp) < 3 * math.sqrt(exp / 20)
    p = MMPPArrivals(rates_per_s=(1.0, 20.0), mean_sojourn_s=(600.0, 120.0))
    totals = np.array([minute_counts(p, np.random.default_rng(i), 60, 3600.0, start, exact_max_requests=exact_max)[0].sum()
                       for i in range(200)])
    mean, var = p.expected_count(3600.0), p.count_variance(3600.0)
    assert abs(totals.mean() - mean) < 3 * math.sqrt(var / 200)
    assert abs(totals.var(ddof=1) / var - 1) < 3 * math.sqrt(2 / 199)


def test_below_the_exact_limit_both_tiers_see_the_same_arrivals():
    """Bursty traffic, 2 h: the fluid tier counts the request tier's own arrivals (same seed), so the
    per-minute arrivals and, with them, every scaling decision and the bill are identical."""
    mmpp = {"kind": "mmpp", "rates_per_s": [5.0, 40.0], "mean_sojourn_s": [900.0, 300.0]}
    req = simulate(scenario("request", mmpp, "2h")).resources[0]
    flu = simulate(scenario("fluid", mmpp, "2h")).resources[0]
    assert np.array_equal(req.series.arrivals.to_numpy(), flu.series.arrivals.to_numpy())
    for key in ("requests", "instance_hours", "scale_out_events", "scale_in_events"):
        assert flu.metrics[key] == req.metrics[key]


def test_batch_positions_group_arrivals_on_one_timestamp():
    # a batch of 3 at t=1, a single at t=2, a batch of 2 at 59.9995/60.0 (one batch, minute 0)
    t = np.array([1.0, 1.0, 1.0, 2.0, 59.9995, 60.0, 61.0, 61.0])
    minute, pos, count = batch_positions(t)
    assert minute.tolist() == [0, 0, 1]
    assert pos.tolist() == [1, 2, 1]
    assert count.tolist() == [2.0, 1.0, 1.0]
