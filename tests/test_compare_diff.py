"""Paired differences with t-intervals, checked against hand computations; CLI and determinism."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.compare import compare, compare_summaries, paired_interval


def test_paired_interval_by_hand():
    # diffs 1,2,3,4: mean 2.5, sd sqrt(5/3) = 1.290994, t(0.975, 3) = 3.182446
    mean, lo, hi = paired_interval([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305 * math.sqrt(5 / 3) / 2
    assert mean == 2.5
    assert (lo, hi) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-6)
    assert paired_interval([7.0]) == (7.0, None, None)


def _summary(total, components, sla=None):
    resources = []
    if sla is not None:
        resources.append({"resource_id": "chat", "latency_p99_s": sla[0], "sla_attainment": sla[1], "timed_out": sla[2]})
    return {"total_cost_usd": total, "cost_by_component": components,
            "cost_by_pricing": {"on_demand": total},
            "cost_by_tag": {"team": {"a": total}, "smsim:resource": {"x": total}}, "resources": resources}


def _row(doc, group, metric, arm):
    return next(r for r in doc["rows"] if r["group"] == group and r["metric"] == metric and r["arm"] == arm)


def test_compare_summaries_pairs_replications():
    base = [_summary(10, {"Hosting": 10}, (0.5, 0.99, 3)), _summary(12, {"Hosting": 12}, (0.7, 0.98, 5)),
            _summary(14, {"Hosting": 14}, (0.6, 0.97, 4))]
    var = [_summary(11, {"Hosting": 9, "Training": 2}, (0.4, 0.995, 1)),
           _summary(14, {"Hosting": 11, "Training": 3}, (0.5, 0.99, 2)),
           _summary(15, {"Hosting": 13, "Training": 2}, None)]
    doc = compare_summaries({"base": base, "g5": var}, seeds=[1, 2, 3])
    total = _row(doc, "total", "total_cost_usd", "g5")
    # d = 1, 2, 1: mean 4/3, sd = 0.577350, t(0.975, 2) = 4.302653
    half = 4.302653 * 0.5773503 / math.sqrt(3)
    assert total["diff"] == pytest.approx(4 / 3)
    assert total["diff_ci"] == pytest.approx([4 / 3 - half, 4 / 3 + half], abs=1e-5)
    assert total["diff_pct"] == pytest.approx((4 / 3) / 12)
    assert _row(doc, "total", "total_cost_usd", "base")["value"] == 12
    # a component the base never used counts as 0 USD there
    training = _row(doc, "component", "Training", "g5")
    assert training["diff"] == pytest.approx(7 / 3)
    assert _row(doc, "component", "Training", "base")["value"] == 0
    assert _row(doc, "tag", "team=a", "g5")["diff"] == pytest.approx(4 / 3)
    assert not any(r["metric"].startswith("smsim:") for r in doc["rows"])
    # SLA figures missing in replication 3 of the variant are left out, not taken as 0
    p99 = _row(doc, "sla", "chat.latency_p99_s", "g5")
    assert p99["diff"] == pytest.approx(((0.4 - 0.5) + (0.5 - 0.7)) / 2)
    assert _row(doc, "sla", "chat.timed_out", "g5")["diff"] == pytest.approx(-2.5)
    assert doc["ci_available"] and doc["ci_note"] is None


def test_one_replication_says_the_ci_is_unavailable():
    doc = compare_summaries({"base": [_summary(10, {})], "b": [_summary(13, {})]})
    row = _row(doc, "total", "total_cost_usd", "b")
    assert row["diff"] == 3 and row["diff_ci"] is None
    assert not doc["ci_available"] and "unavailable" in doc["ci_note"]


SCENARIO = """\
name: tiny
horizon: {start: 2026-01-05T00:00:00Z, duration_s: 6h}
seed: 5
tags: {team: "platform"}
fleets:
  - {name: web, instance_type: ml.m5.xlarge, count: 2}
variants:
  - name: three
    patch: {fleets: {web: {count: 3}}}
"""


def test_compare_runs_are_recorded_and_independent_of_jobs(tmp_path):
    from smsim.store import Store

    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    one = compare([path], replications=2, jobs=1, store=Store(tmp_path / "st"))
    two = compare([path], replications=2, jobs=2)
    assert one.document["rows"] == two.document["rows"]
    assert one.document["seeds"] == two.document["seeds"] and len(set(one.document["seeds"])) == 2
    total = _row(one.document, "total", "total_cost_usd", "three")
    assert total["diff"] == pytest.approx(0.23 * 6)  # one more ml.m5.xlarge for 6 h at $0.23/h
    listed = Store(tmp_path / "st").list()
    assert sorted(listed["label"]) == ["base", "base", "three", "three"]
    assert set(listed["kind"]) == {"compare"} and listed["group_id"].nunique() == 1


def test_compare_cli_json_and_bad_input(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(SCENARIO)
    runner = CliRunner()
    result = runner.invoke(app, ["compare", str(path), "--json", "--store", str(tmp_path / "st")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["arms"] == ["base", "three"] and doc["ci_note"]
    text = runner.invoke(app, ["compare", str(path), "--no-store"])
    assert text.exit_code == 0 and "total cost" in text.stdout and "unavailable" in text.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.replace("count: 3", "count: many"))
    result = runner.invoke(app, ["compare", str(bad), "--no-store"])
    assert result.exit_code == 2 and "variant 'three'" in result.stderr
