"""The request count of a run is estimated before it starts, and a huge run at request fidelity
waits for ``--yes`` instead of starting silently."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app

runner = CliRunner()

ENDPOINT = """\
name: {name}
horizon: {{start: 2026-01-05T00:00:00Z, duration_s: {duration}}}
fidelity: {fidelity}
models:
  - name: m
    latency: {{'*': {{kind: deterministic, value_s: 0.01}}}}
endpoints:
  - kind: realtime
    name: chat
    model: m
    instance_type: ml.m5.large
    workload: {workload}
"""


def _scenario(tmp_path, workload="{kind: poisson, rate_per_s: 5}", duration="2h", fidelity="request", name="s"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(ENDPOINT.format(name=name, duration=duration, fidelity=fidelity, workload=workload))
    return path


def _requests(result) -> int:
    (row,) = [r for r in result.summary["resources"] if r["resource_id"] == "chat"]
    return row["requests"]


def test_poisson_estimate_matches_the_runs_count(tmp_path):
    sc = api.load_scenario(_scenario(tmp_path))
    (est,) = api.estimate_requests(sc)
    assert (est.endpoint, est.tier, est.forced) == ("chat", "request", True)
    assert est.requests == pytest.approx(5 * 7200)  # rate x horizon
    actual = _requests(api.run_scenario(sc))
    assert abs(actual - est.requests) < 4 * math.sqrt(est.requests)  # Poisson: sd = sqrt(mean)


def test_a_repeated_count_trace_is_counted_without_expanding_it(tmp_path):
    rows = "\n".join(f"{60 * i},{10 + i % 3}" for i in range(60))  # one hour, 660 requests
    (tmp_path / "counts.csv").write_text("timestamp_s,count\n" + rows + "\n")
    workload = "{kind: trace, path: counts.csv, shape: counts, interval_s: 60, time_unit: s, repeat: true}"
    sc = api.load_scenario(_scenario(tmp_path, workload=workload))
    (est,) = api.estimate_requests(sc)
    assert est.requests == pytest.approx(2 * 660)  # two hours of a one-hour trace
    assert _requests(api.run_scenario(sc)) == 2 * 660


def test_auto_fidelity_picks_the_tier_the_engine_picks(tmp_path):
    sc = api.load_scenario(_scenario(tmp_path, workload="{kind: poisson, rate_per_s: 1000}", duration="365d",
                                     fidelity="auto"))
    (est,) = api.estimate_requests(sc)
    assert (est.tier, est.forced) == ("fluid", False)


def test_a_year_at_request_fidelity_needs_yes(tmp_path, monkeypatch):
    path = _scenario(tmp_path, workload="{kind: poisson, rate_per_s: 1000}", duration="365d")
    monkeypatch.setattr(api, "run_scenario", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    result = runner.invoke(app, ["run", str(path), "--no-store"])
    assert result.exit_code == 2, result.output
    assert "about 3.2e+10 requests" in result.output  # 1000/s x 365 d = 3.15e10
    assert "fidelity: auto" in result.output and "--yes" in result.output


def test_yes_runs_it_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(api, "LARGE_RUN_REQUESTS", 1e4)  # the 2 h scenario (36,000 requests) is "large"
    path = _scenario(tmp_path)
    assert runner.invoke(app, ["run", str(path), "--no-store", "-q"]).exit_code == 2
    result = runner.invoke(app, ["run", str(path), "--no-store", "-q", "--yes"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "about 3.6e+04 requests" in result.output
