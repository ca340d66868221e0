"""Fleets that replay a recorded count (``count_steps``) and volumes (``volume_gb_steps``), billed
by hand; malformed steps are refused with the field named."""

from __future__ import annotations

import pytest
from conftest import SCENARIOS

from smsim import api
from smsim.errors import InputError
from smsim.pricing.catalog import load_catalog


def test_recorded_fleet_bill_by_hand():
    cat = load_catalog()
    result = api.run_scenario(SCENARIOS / "recorded_fleet.yaml")
    summary = result.summary
    m5 = cat.ondemand_usd_per_hour("ml.m5.xlarge", "RealTimeInference", "us-east-1")
    t3 = cat.ondemand_usd_per_hour("ml.t3.medium", "Notebook", "us-east-1")
    g5 = cat.ondemand_usd_per_hour("ml.g5.2xlarge", "Training", "us-east-1")
    gb_month = cat.rate("ml_storage_notebook_gb_month", "us-east-1").usd
    instance_hours = {r["resource_id"]: r["instance_hours"] for r in summary["resources"]}
    assert instance_hours == pytest.approx({"search-endpoint": 48 + 8, "research-notebook": 18, "nightly-train": 5})
    # public (on-demand) cost by hand; the plan and the 2 % discount then redistribute it
    public = 56 * m5 + 18 * t3 + 5 * g5 + 20 * gb_month * 48 / 730
    by_type = result.ledger.groupby("lineItem/LineItemType")["lineItem/UnblendedCost"].sum()
    assert by_type["Usage"] + by_type["SavingsPlanCoveredUsage"] == pytest.approx(public, abs=0.005)
    assert by_type["SavingsPlanRecurringFee"] == pytest.approx(0.1 * 48)


@pytest.mark.parametrize(("fleet", "words"), [
    ("{name: f, instance_type: ml.m5.large, count_steps: [[3600, 1], [0, 2]]}", "count_steps[1] starts at 0 s"),
    ("{name: f, instance_type: ml.m5.large, count_steps: []}", "count_steps is empty"),
    ("{name: f, instance_type: ml.m5.large, count_steps: [[0, -1]]}", "greater than or equal to 0"),
    ("{name: f, instance_type: ml.m5.large, count_steps: [[0, 1]], schedule: {start: '09:00', end: '17:00'}}",
     "give one of them"),
])
def test_bad_steps_are_refused(tmp_path, fleet, words):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nhorizon: {{duration_s: 1d}}\nfleets:\n  - {fleet}\n")
    with pytest.raises(InputError) as info:
        api.load_scenario(path)
    assert words in str(info.value) and "fleets[0]" in str(info.value) and ":4:" in str(info.value)


def test_steps_file_and_count_scale_bill_like_inline_steps(tmp_path):
    (tmp_path / "steps.csv").write_text("offset_s,count\n0,1\n32400,2\n61200,1\n")
    base = ("name: s\nhorizon: {start: 2026-03-02T00:00:00Z, duration_s: 1d}\nfleets:\n"
            "  - {name: f, instance_type: ml.m5.xlarge, %s}\n")
    (tmp_path / "file.yaml").write_text(base % "steps_file: steps.csv")
    (tmp_path / "inline.yaml").write_text(base % "count_steps: [[0, 1], [32400, 2], [61200, 1]]")
    (tmp_path / "half.yaml").write_text(base % "steps_file: steps.csv, count_scale: 0.5")
    cost = {n: api.run_scenario(tmp_path / f"{n}.yaml").summary["total_cost_usd"] for n in ("file", "inline", "half")}
    assert cost["file"] == pytest.approx(0.23 * 32, abs=1e-9) and cost["inline"] == cost["file"]  # 24 h + 8 h
    assert cost["half"] == pytest.approx(cost["file"] / 2)


@pytest.mark.parametrize(("text", "where"), [
    ("offset_s,cnt\n0,1\n", "steps.csv:1: count: missing column 'count'"),
    ("offset_s,count\n0,1\n3600,x\n", "steps.csv:3: count: 'x' is not a number >= 0"),
    ("offset_s,count\n3600,1\n0,1\n", "steps.csv:3: offset_s: offset 0 s is not after the row before it"),
])
def test_bad_steps_file_exits_2_naming_file_line_and_column(tmp_path, text, where):
    from typer.testing import CliRunner

    from smsim.cli import app

    (tmp_path / "steps.csv").write_text(text)
    (tmp_path / "s.yaml").write_text("name: s\nhorizon: {duration_s: 1d}\nfleets:\n"
                                     "  - {name: f, instance_type: ml.m5.xlarge, steps_file: steps.csv}\n")
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "s.yaml")])
    assert res.exit_code == 2 and str(tmp_path / where) in res.output, res.output


def test_steps_file_volumes_given_twice_is_refused(tmp_path):
    (tmp_path / "steps.csv").write_text("offset_s,count,volume_gb\n0,1,20\n")
    (tmp_path / "s.yaml").write_text("name: s\nhorizon: {duration_s: 1d}\nfleets:\n  - {name: f, instance_type: "
                                     "ml.m5.xlarge, steps_file: steps.csv, volume_gb_steps: [[0, 5]]}\n")
    with pytest.raises(InputError, match="give the volumes once") as info:
        api.run_scenario(tmp_path / "s.yaml")
    assert "fleets[0].steps_file" in str(info.value) and ":4:" in str(info.value)
    (tmp_path / "s.yaml").write_text("name: s\nhorizon: {start: 2026-03-02T00:00:00Z, duration_s: 1d}\nfleets:\n"
                                     "  - {name: f, instance_type: ml.m5.xlarge, component: Training, steps_file: steps.csv}\n")
    usage = api.run_scenario(tmp_path / "s.yaml").usage
    gb = usage[usage["usage_kind"] == "storage"]
    assert gb["quantity"].tolist() == [20.0] and gb["end_s"].tolist() == [86400.0]
