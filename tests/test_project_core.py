"""smsim project: paths, equivalence with a direct run, quantiles, eligible usage, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.commit.usage import read_ledger, read_usage
from smsim.project.api import project_scenario, write_projection
from smsim.project.paths import path_seeds, spread_minutes, write_path_scenario
from smsim.workload.history import histories
from tests.conftest import SCENARIOS

DAILY = np.array([6, 6, 6, 6, 6, 9, 12, 24, 36, 48, 60, 72, 78, 78, 72, 66, 60, 48, 36, 24, 18, 12, 9, 6],
                 dtype=float) * 60.0  # requests per hour, multiples of 60

SCENARIO = """
name: periodic
horizon: {{start: 2026-01-01T00:00:00Z, duration_s: 3d}}
seed: 5
models:
  - name: m
    latency:
      ml.m5.xlarge: {{kind: lognormal, median_s: 0.5, p99_s: 1.5}}
endpoints:
  - kind: realtime
    name: api
    model: m
    instance_type: ml.m5.xlarge
    fidelity: fluid
    workload: {{kind: trace, path: hist.csv, shape: counts, placement: {placement}, repeat: true}}
    autoscaling:
      min_capacity: 1
      max_capacity: 6
      policies: [{{kind: target_tracking, target_value: 20}}]
      provisioning: {{kind: fixed, delay_s: 300}}
fleets:
  - {{name: side, instance_type: ml.t3.medium, component: Notebook, count: 1}}
"""


def _periodic(tmp_path, days=14, placement="uniform"):
    stamps = pd.date_range("2026-01-01", periods=24 * days, freq="h") - pd.Timedelta(days=days)
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "count": np.tile(DAILY, days)}).to_csv(tmp_path / "hist.csv", index=False)
    path = tmp_path / "periodic.yaml"
    path.write_text(SCENARIO.format(placement=placement))
    return path


def test_spread_minutes_keeps_hour_totals_and_shape():
    shape = np.r_[np.full(30, 2.0), np.full(30, 1.0)]
    shape /= shape.sum()
    minutes = spread_minutes(np.array([90.4, 0.0, 7.0, -3.0]), shape)
    grid = minutes.reshape(4, 60)
    assert grid.sum(axis=1).tolist() == [90.0, 0.0, 7.0, 0.0]
    assert grid[0, :30].sum() == 60 and grid[0, 30:].sum() == 30
    assert (minutes == np.floor(minutes)).all() and (minutes >= 0).all()


def test_history_from_trace_workload(tmp_path):
    scn = api.load_scenario(_periodic(tmp_path))
    (hist,) = histories(scn).values()
    assert hist.end == pd.Timestamp("2026-01-01") and len(hist.hourly) == 24 * 14
    assert hist.hourly.iloc[:24].tolist() == DAILY.tolist()
    assert hist.minute_shape == pytest.approx(np.full(60, 1 / 60))


def test_zero_noise_projection_equals_direct_run(tmp_path):
    # A perfectly periodic history: seasonal naive paths repeat it exactly, so each path's
    # spend must equal a plain run of the scenario replaying the history (even placement puts
    # exactly count/60 requests in every minute, as the projection spreads them).
    # Calibration is off: it would widen the paths (two weeks are too short to backtest).
    path = _periodic(tmp_path, placement="even")
    proj = project_scenario(path, "3d", n_paths=2, model="snaive", keep_ledgers=True, calibrate=False)
    assert np.allclose(proj.endpoints["api"].hourly, np.tile(DAILY, 3))
    seeds = path_seeds(5, 2)
    for run in proj.runs:
        direct = api.run_scenario(path, seed=seeds[run.index])
        assert run.summary["total_cost_usd"] == pytest.approx(direct.summary["total_cost_usd"], rel=1e-12)
        got = {r["resource_id"]: r for r in run.summary["resources"]}
        want = {r["resource_id"]: r for r in direct.summary["resources"]}
        assert got["api"]["instance_hours"] == pytest.approx(want["api"]["instance_hours"], rel=1e-12)
        assert got["api"]["requests"] == want["api"]["requests"] == DAILY.sum() * 3
    # the written per-path scenario reproduces the path with `smsim run`
    counts = {"api": spread_minutes(proj.endpoints["api"].hourly[0], np.full(60, 1 / 60))}
    written = write_path_scenario(api.load_scenario(path), counts, seeds[0], tmp_path / "p0")
    again = api.run_scenario(written)
    assert again.summary["total_cost_usd"] == pytest.approx(proj.runs[0].summary["total_cost_usd"], rel=1e-12)


@pytest.fixture(scope="module")
def projection():
    return project_scenario(SCENARIOS / "projection.yaml", "45d", n_paths=6, model="snaive", seed=3,
                            keep_ledgers=True)


def test_quantiles_are_ordered_and_months_add_up(projection):
    t = projection.table
    assert (t.p10 <= t.p50 + 1e-9).all() and (t.p50 <= t.p90 + 1e-9).all()
    assert set(t.month) == {"2026-01", "2026-02", "all"}
    assert t[(t.scope == "total") & (t.month == "2026-02")].days.item() == 14
    for scope, sub in t.groupby("scope"):
        months = sub[sub.month != "all"]
        assert months["mean"].sum() == pytest.approx(sub[sub.month == "all"]["mean"].item(), rel=1e-9), scope
    totals = [r.summary["total_cost_usd"] for r in projection.runs]
    # summary.json rounds to 4 decimals
    assert projection.summary["total"]["mean"] == pytest.approx(np.mean(totals), abs=5e-5)
    # resources without history cost the same on every path
    fleet = t[(t.scope == "embeddings") & (t.month == "all")]
    assert fleet.p10.item() == pytest.approx(fleet.p90.item()) == pytest.approx(2 * 0.23 * 45 * 24)
    # the chat endpoint's spend actually varies between paths
    chat = t[(t.scope == "chat") & (t.month == "all")]
    assert chat.p90.item() > chat.p10.item()


def test_eligible_usage_equals_ledger_on_demand_equivalent(projection, tmp_path):
    for run in projection.runs:
        want = read_ledger(run.ledger, "ledger").hourly_usd
        assert run.eligible.ondemand_usd.sum() == pytest.approx(want.sum(), rel=1e-12)
    out = write_projection(projection, tmp_path / "proj")
    assert sorted(p.name for p in out.iterdir()) == [
        "_SUCCESS", "eligible_usage.csv", "paths.parquet", "scenario.resolved.yaml", "spend_by_month.csv",
        "summary.json"]
    usage = read_usage(out)
    med = projection.runs[projection.median_index]
    want = read_ledger(med.ledger, "ledger").hourly_usd
    assert len(usage.hourly_usd) == projection.hours
    assert usage.hourly_usd.to_numpy() == pytest.approx(want.to_numpy(), rel=1e-9)
    assert usage.mix is not None and set(usage.mix.instance_type) == {"ml.g5.xlarge", "ml.m5.xlarge"}
    paths = pd.read_parquet(out / "paths.parquet")
    by_path = paths.groupby("path").spend_usd.sum().to_numpy()
    assert by_path == pytest.approx([r.summary["total_cost_usd"] for r in projection.runs], rel=1e-9)


def test_process_pool_gives_the_same_numbers(tmp_path):
    path = _periodic(tmp_path)
    one = project_scenario(path, "2d", n_paths=3, model="snaive", jobs=1)
    two = project_scenario(path, "2d", n_paths=3, model="snaive", jobs=2)
    assert [r.summary["total_cost_usd"] for r in one.runs] == [r.summary["total_cost_usd"] for r in two.runs]


def test_cli_project_out_json_and_commit(tmp_path):
    out = tmp_path / "proj"
    res = CliRunner().invoke(app, ["project", str(SCENARIOS / "projection.yaml"), "--horizon", "14d",
                                   "--paths", "3", "--model", "snaive", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["kind"] == "project" and doc["n_paths"] == 3
    assert doc["total"]["p10"] <= doc["total"]["p50"] <= doc["total"]["p90"]
    assert (out / "eligible_usage.csv").exists()
    from smsim.store import Store

    runs = Store().list("project")
    assert len(runs) == 1
    assert any(p.name.startswith("forecast:") for p in (Store().run_dir(runs.run_id[0]) / "extras").iterdir())
    res = CliRunner().invoke(app, ["commit", str(out), "--json"])
    assert res.exit_code == 0, res.output


def test_cli_project_bad_input(tmp_path):
    res = CliRunner().invoke(app, ["project", str(SCENARIOS / "fleet_minimal.yaml"), "--horizon", "7d"])
    assert res.exit_code == 2 and "no endpoint has a traffic history" in res.output
    (tmp_path / "x.csv").write_text("time,value\n")
    res = CliRunner().invoke(app, ["project", str(SCENARIOS / "projection.yaml"), "--horizon", "7d",
                                   "--history", f"nope={tmp_path / 'x.csv'}"])
    assert res.exit_code == 2 and "unknown endpoint" in res.output
