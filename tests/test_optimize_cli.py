"""SLA parsing as a table, and ``smsim optimize`` exit codes, outputs and key lines."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from smsim.cli import app
from smsim.errors import InputError
from smsim.optimize.sla import Objectives, judge, parse_error_rate, parse_latency


@pytest.mark.parametrize(("text", "q", "t"), [
    ("p99<=250ms", 99.0, 0.25), ("p999<=1s", 99.9, 1.0), ("p99.9 <= 1s", 99.9, 1.0),
    ("P50<=100ms", 50.0, 0.1), ("p9999<=2s", 99.99, 2.0), ("p90<2s", 90.0, 2.0),
])
def test_parse_latency(text, q, t):
    o = parse_latency(text)
    assert o.percentile == pytest.approx(q) and o.threshold_s == pytest.approx(t)


@pytest.mark.parametrize("bad", ["p99", "250ms", "p100<=1s", "p99<=fast", "p0<=1s"])
def test_parse_latency_rejects(bad):
    with pytest.raises(InputError):
        parse_latency(bad)


@pytest.mark.parametrize(("value", "rate"), [("0.1%", 0.001), (0.001, 0.001), ("0.5", 0.5), (None, None), ("0%", 0.0)])
def test_parse_error_rate(value, rate):
    assert parse_error_rate(value) == (pytest.approx(rate) if rate is not None else None)


def test_judge_counts_failures_and_shortfall():
    obj = Objectives(parse_latency("p99<=250ms"), 0.001)
    v = judge({"sla_attainment": 0.985, "requests": 1000, "timed_out": 2, "dropped": 1, "latency_p99_s": 0.3}, obj)
    assert not v.feasible and v.attainment_shortfall == pytest.approx(0.005)
    assert v.error_rate == pytest.approx(0.003) and v.error_rate_excess == pytest.approx(0.002)
    assert judge({"sla_attainment": 0.99, "requests": 10, "latency_p99_s": 0.2}, obj).feasible


def write(tmp_path, optimize: dict, rate=15.0):
    doc = {
        "name": "cli-opt", "horizon": {"duration_s": "20m"}, "seed": 1, "fidelity": "fluid",
        "models": [{"name": "m", "latency": {"*": {"kind": "lognormal", "median_s": 0.08, "p99_s": 0.2}}}],
        "endpoints": [{"kind": "realtime", "name": "ep", "model": "m", "instance_type": "ml.g5.xlarge",
                       "workload": {"kind": "poisson", "rate_per_s": rate}}],
        "optimize": {"instance_count": {"min": 1, "max": 4}, "fidelity": "fluid", **optimize},
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_cli_writes_a_runnable_best_scenario(tmp_path):
    # p99 <= 500 ms: with random routing's per-instance queues, 250 ms needs more than 4 instances
    path = write(tmp_path, {"sla": "p99<=500ms"})
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["optimize", str(path), "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["status"] == "optimal" and doc["best"]["sla"]["feasible"]
    assert {"best.yaml", "summary.json", "frontier.csv", "frontier.png", "_SUCCESS"} <= {p.name for p in out.iterdir()}
    from smsim.api import run_scenario
    from smsim.scenario import load_scenario

    rerun = run_scenario(load_scenario(out / "best.yaml"))
    assert rerun.summary["total_cost_usd"] == pytest.approx(doc["best"]["cost_usd"])
    assert rerun.summary["resources"][0]["sla_met"]


def test_cli_infeasible_exits_1_naming_the_closest(tmp_path):
    path = write(tmp_path, {}, rate=80.0)
    r = CliRunner().invoke(app, ["optimize", str(path)])
    assert r.exit_code == 1, r.output
    assert "no candidate meets p99<=250ms" in r.output and "closest: ml.g5.xlarge" in r.output


def test_cli_bad_sla_exits_2(tmp_path):
    path = write(tmp_path, {})
    r = CliRunner().invoke(app, ["optimize", str(path), "--sla", "p99 under 1s"])
    assert r.exit_code == 2
    assert "p99<=250ms" in r.output
