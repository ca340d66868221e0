"""Every bundled scenario runs, and its outputs obey the bookkeeping identities."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from tests.conftest import SCENARIOS

ALL = sorted(SCENARIOS.glob("*.yaml"))


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_bundled_scenario_runs_and_balances(path):
    result = api.run_scenario(path)
    summary = result.summary
    ledger_total = float(result.ledger["lineItem/UnblendedCost"].sum())
    assert summary["total_cost_usd"] == pytest.approx(ledger_total, abs=1e-6)
    for key in ("cost_by_component", "cost_by_pricing"):
        assert sum(summary[key].values()) == pytest.approx(ledger_total, abs=1e-6), key
    assert sum(r["cost_usd"] for r in summary["resources"]) == pytest.approx(
        sum(summary["cost_by_resource"].values()), abs=1e-6
    )
    assert summary["catalog"]["as_of"]
    again = api.run_scenario(path)
    assert again.summary["total_cost_usd"] == summary["total_cost_usd"]


def test_fleet_minimal_hand_computed_bill():
    # web-hosting: 2 x ml.m5.xlarge x 168 h x $0.23 = $77.28
    # notebook: 3 x ml.t3.medium x 8 h x 5 weekdays x $0.05 = $6.00 (09:00-17:00 Berlin, 5 Jan 2026 is a Monday)
    summary = api.run_scenario(SCENARIOS / "fleet_minimal.yaml").summary
    assert summary["cost_by_resource"]["web-hosting"] == pytest.approx(77.28, abs=0.005)
    assert summary["cost_by_resource"]["office-hours-notebook"] == pytest.approx(6.00, abs=0.005)
    assert summary["total_cost_usd"] == pytest.approx(83.28, abs=0.005)
    assert summary["cost_by_tag"]["project"] == pytest.approx({"search": 77.28, "research": 6.00}, abs=0.005)


def test_cli_run_json_and_atomic_out(tmp_path):
    out = tmp_path / "run1"
    result = CliRunner().invoke(app, ["run", str(SCENARIOS / "fleet_minimal.yaml"), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for key in ("total_cost_usd", "cost_by_component", "cost_by_pricing", "cost_by_tag", "savings_plans", "catalog", "resources"):
        assert key in document
    assert sorted(p.name for p in out.iterdir()) == [
        "_SUCCESS", "ledger.daily.coarse.parquet", "ledger.daily.parquet", "ledger.parquet", "ledger.totals.parquet", "scenario.resolved.yaml",
        "summary.json", "usage.parquet"
    ]
    assert json.loads((out / "summary.json").read_text())["total_cost_usd"] == document["total_cost_usd"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_interrupted_write_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    result = api.run_scenario(SCENARIOS / "fleet_minimal.yaml")
    out = tmp_path / "run"

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(result.ledger), "to_parquet", boom)
    with pytest.raises(KeyboardInterrupt):
        api.write_run(result, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_seed_override_is_recorded():
    result = api.run_scenario(SCENARIOS / "fleet_minimal.yaml", seed=99)
    assert result.summary["seed"] == 99
