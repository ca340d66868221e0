"""Endpoint lifecycle policy: deleted after N idle days, billed until then, later requests fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smsim import api

DAY = 86400.0


@pytest.fixture
def scenario_file(tmp_path):
    # 30 requests/min on day 1, nothing on days 2-4, 10 requests/min on day 5, nothing on day 6
    t = pd.date_range("2026-03-02", periods=6 * 1440, freq="min", tz="UTC")
    counts = np.zeros(len(t), dtype=int)
    counts[:1440] = 30
    counts[4 * 1440:5 * 1440] = 10
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": counts}).to_csv(
        tmp_path / "traffic.csv", index=False)
    endpoints = "".join(
        f"""
  - kind: realtime
    name: {name}
    model: m
    instance_type: ml.m5.large
    initial_instance_count: 2
    fidelity: {fidelity}
    delete_after_idle_s: 2d
    traffic_stream: shared
    workload: {{kind: trace, path: traffic.csv, shape: counts, placement: uniform}}
"""
        for name, fidelity in (("req", "request"), ("flu", "fluid"))
    )
    path = tmp_path / "lifecycle.yaml"
    path.write_text(
        "name: lifecycle\n"
        "horizon: {start: 2026-03-02T00:00:00Z, duration_s: 6d}\n"
        "seed: 5\n"
        "models:\n"
        "  - name: m\n"
        '    latency: {"*": {kind: lognormal, median_s: 0.2, p99_s: 0.8}}\n'
        "endpoints:" + endpoints
    )
    return path


def test_deleted_after_two_idle_days_in_both_tiers(scenario_file):
    summary = api.run_scenario(scenario_file).summary
    res = {r["resource_id"]: r for r in summary["resources"]}
    for name in ("req", "flu"):
        r = res[name]
        # last request just before 1 d; deleted 2 d later, at (almost exactly) 3 d
        assert r["deleted_at_s"] == pytest.approx(3 * DAY, abs=61.0), name
        assert r["requests"] == 43_200 + 14_400
        assert r["dropped"] == 14_400            # every day-5 request finds no endpoint
        assert r["served"] == 43_200
        assert r["requests"] == r["served"] + r["timed_out"] + r["dropped"] + r.get("in_flight_at_horizon", 0)
        # billed only while it existed: 2 instances x 72 h x $0.115
        assert r["instance_hours"] == pytest.approx(144.0, abs=0.05), name
        assert r["cost_usd"] == pytest.approx(144.0 * 0.115, abs=0.01), name


def test_idle_limit_shorter_than_an_hour_is_refused(tmp_path):
    from smsim.resources.realtime.spec import RealtimeEndpointSpec

    with pytest.raises(ValueError, match="3600"):
        RealtimeEndpointSpec(name="e", model="m", instance_type="ml.m5.large", delete_after_idle_s="10m",
                             workload={"kind": "poisson", "rate_per_s": 1.0})
