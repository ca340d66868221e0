"""A simulated bill exported as CUR 2.0 or FOCUS and imported back equals itself; the imported
bill is a run that ``commit`` sizes exactly as it sizes the simulated run."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

from smsim import api
from smsim.bill import import_bill
from smsim.billing.export import write_ledger
from smsim.cli import app
from smsim.store import Store


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """quickstart.yaml: savings plan lines, managed spot, storage, serverless, S3, tags, discount."""
    result = api.run_scenario(api.load_scenario(SCENARIOS / "quickstart.yaml"))
    out = tmp_path_factory.mktemp("sim") / "run"
    api.write_run(result, out, ledger_format="cur2")
    return result, out


def _totals(ledger: pd.DataFrame) -> dict:
    cost = ledger["lineItem/UnblendedCost"]
    net = ledger["smsim/net_cost_usd"]
    out = {"lines": len(ledger), "total": round(cost.sum(), 2), "net": round(net.sum(), 2)}
    for col in ("smsim/component", "lineItem/ResourceId", "smsim/pricing_class", "lineItem/LineItemType",
                "smsim/resource_kind", "smsim/instance_type"):
        key = ledger[col].astype(str)
        out[col] = cost.groupby(key).sum().round(2).to_dict()
        out[col + " lines"] = key.value_counts().sort_index().to_dict()
    for col in [c for c in ledger.columns if str(c).startswith("resourceTags/")]:
        out[col] = cost.groupby(ledger[col].astype(object).where(ledger[col].notna(), "")).sum().round(2).to_dict()
    return out


@pytest.mark.parametrize("name", ["ledger.cur2.parquet", "cur2.csv", "focus.csv", "focus.parquet"])
def test_export_reimport_equals_itself(simulated, tmp_path, name):
    result, out = simulated
    if name == "ledger.cur2.parquet":
        path = out / name  # what `smsim run --ledger-format cur2` wrote
    else:
        path = tmp_path / name
        write_ledger(result.ledger, path, name.split(".")[0])
    summary = import_bill(path)
    imported = pd.read_parquet(Store().run_dir(summary["run_id"]) / "ledger.parquet")
    assert _totals(imported) == _totals(result.ledger)
    assert summary["total_cost_usd"] == pytest.approx(result.summary["total_cost_usd"], abs=0.005)
    tag = "resourceTags/user:team"
    assert tag in imported.columns and imported[tag].notna().sum() == result.ledger[tag].notna().sum()


def test_commit_on_imported_bill_matches_simulated_run(simulated):
    from smsim.commit.api import recommend_commitment

    result, out = simulated
    summary = import_bill(out / "ledger.cur2.parquet")
    run_dir = Store().run_dir(summary["run_id"])
    kw = {"n_paths": 20, "seed": 3}
    assert recommend_commitment(run_dir, **kw).recommended_usd_per_hour == pytest.approx(
        recommend_commitment(out, **kw).recommended_usd_per_hour, rel=1e-9)
    res = CliRunner().invoke(app, ["commit", str(run_dir), "--paths", "20"])
    assert res.exit_code == 0, res.output
    assert "recommended commitment" in res.output


def test_cli_run_ledger_format_focus(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(SCENARIOS / "fleet_minimal.yaml"), "--out", str(out),
                                   "--ledger-format", "focus", "--no-store"])
    assert res.exit_code == 0, res.output
    focus = pd.read_csv(out / "ledger.focus.csv")
    ledger = pd.read_parquet(out / "ledger.parquet")
    assert len(focus) == len(ledger)
    assert focus["BilledCost"].sum() == pytest.approx(ledger["lineItem/UnblendedCost"].sum(), abs=1e-9)
    res = CliRunner().invoke(app, ["run", str(SCENARIOS / "fleet_minimal.yaml"), "--ledger-format", "focs",
                                   "--no-store"])
    assert res.exit_code == 2 and "did you mean 'focus'" in res.output
