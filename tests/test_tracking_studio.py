"""MLflow tracking servers and Studio spaces: hand-computed bills, and no invented MLflow price."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.errors import InputError
from smsim.pricing import load_catalog
from smsim.units import MONTH

RATES = """rate_key,region,unit,usd,as_of,source
mlflow_tracking_server_small_hour,us-east-1,USD per hour,0.5,2026-12-01,test price sheet
mlflow_tracking_server_medium_hour,us-east-1,USD per hour,1.0,2026-12-01,test price sheet
"""
S3_GB_MONTH, S3_PUT_1000, T3_MEDIUM = 0.023, 0.005, 0.05


def write(tmp_path, doc: dict, name: str = "s.yaml"):
    doc = {"name": "t", "region": "us-east-1", "horizon": {"start": "2026-01-05T00:00:00Z", "duration_s": "7d"}, **doc}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def prices(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES, encoding="utf-8")
    out = CliRunner().invoke(app, ["pricing", "import", str(rates), "--out", str(tmp_path / "prices")])
    assert out.exit_code == 0, out.output
    return str(tmp_path / "prices")


def test_builtin_catalog_has_no_mlflow_price_and_validate_says_so(tmp_path):
    for size in ("small", "medium", "large"):
        with pytest.raises(InputError, match="unknown rate"):
            load_catalog("builtin").rate(f"mlflow_tracking_server_{size}_hour", "us-east-1")
    path = write(tmp_path, {"tracking": [{"kind": "mlflow", "name": "exp", "size": "Medium"}]})
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert "mlflow 'exp' is billed at rate 'mlflow_tracking_server_medium_hour'" in text
    assert "s.yaml:9:" in text and "tracking[0].size" in text and "smsim pricing import" in text


def test_mlflow_server_hours_and_artifacts_by_hand(tmp_path, prices):
    path = write(tmp_path, {"pricing": {"catalog": prices}, "tracking": [
        {"kind": "mlflow", "name": "always", "size": "Small", "users": 40,
         "artifact_initial_gb": 100, "artifact_growth_gb_per_day": 10, "artifact_object_size_mb": 16},
        {"kind": "mlflow", "name": "office", "size": "Medium", "policy": "schedule",
         "working_hours": {"start": "08:00", "end": "18:00"}}]})
    result = api.run_scenario(path)
    cost = result.summary["cost_by_resource"]
    # always-on Small: 168 h x $0.5; artifacts: 100 GB for 7 days, plus 10 GB a day landing at midday
    gb_months = (100 * 7 + 10 * sum(7 - d - 0.5 for d in range(7))) * 86400 / MONTH
    puts = (100 + 70) * 1024 / 16 / 1000
    assert cost["always"] == pytest.approx(168 * 0.5 + gb_months * S3_GB_MONTH + puts * S3_PUT_1000, rel=1e-9)
    # scheduled Medium: Mon-Fri 08:00-18:00 UTC = 50 h x $1
    assert cost["office"] == pytest.approx(50 * 1.0, rel=1e-9)
    always = next(r for r in result.summary["resources"] if r["resource_id"] == "always")
    assert always["recommended_size"] == "Medium" and always["server_hours"] == pytest.approx(168)
    assert result.summary["warnings"] == [
        "always: 40 users exceed AWS's recommendation for a Small MLflow tracking server; recommended: Medium"]


def test_shared_studio_space_bills_the_union_of_its_users(tmp_path):
    trace = tmp_path / "activity.csv"
    trace.write_text("user,start_s,end_s\na,3600,7200\nb,5400,14400\n", encoding="utf-8")
    base = {"kind": "studio", "users": 2, "instance_type": "ml.t3.medium", "policy": "idle-shutdown",
            "idle_timeout_s": "1h", "storage_gb_per_user": 0, "trace_path": str(trace)}
    path = write(tmp_path, {"notebooks": [{"name": "private", **base},
                                          {"name": "shared", **base, "users_per_space": 2, "app": "code-editor"}]})
    result = api.run_scenario(path)
    by_name = {r["resource_id"]: r for r in result.summary["resources"]}
    # private: [1 h, 3 h] and [1.5 h, 5 h] -> 2 + 3.5 h; shared: their union [1 h, 5 h] -> 4 h
    assert by_name["private"]["instance_hours"] == pytest.approx(5.5)
    assert by_name["shared"]["instance_hours"] == pytest.approx(4.0)
    assert by_name["shared"]["spaces"] == 1 and by_name["shared"]["app"] == "code-editor"
    assert result.summary["cost_by_resource"]["shared"] == pytest.approx(4.0 * T3_MEDIUM)
    shared = result.usage[result.usage.resource_id == "shared"]
    assert {t["smsim:app"] for t in shared.tags} == {"code-editor"}


@pytest.mark.parametrize(("entry", "field", "words"), [
    ({"kind": "studio", "name": "s", "idle_timeout_s": "30m"}, "notebooks[0]", "idle_timeout_s 1800"),
    ({"kind": "notebook-instance", "name": "n", "users_per_space": 2}, "notebooks[0]", "users_per_space (2)"),
])
def test_bad_studio_settings_exit_2(tmp_path, entry, field, words):
    """(A script may stop Studio apps sooner than the built-in idle shutdown allows.)"""
    ok = write(tmp_path, {"notebooks": [{"kind": "studio", "name": "s", "idle_timeout_s": "30m",
                                          "idle_shutdown_by": "script"}]}, "ok.yaml")
    assert CliRunner().invoke(app, ["validate", str(ok)]).exit_code == 0
    path = write(tmp_path, {"notebooks": [entry]}, "bad.yaml")
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert field in text and words in text and "bad.yaml:" in text and "Traceback" not in text
