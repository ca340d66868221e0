"""Cost anomaly detection: a hand-made daily bill with one known spike and one level shift."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.anomalies.api import anomalies_in_cube
from smsim.anomalies.detector import day_over_day, detect
from smsim.anomalies.monitors import Monitor
from smsim.anomalies.spend import spend_cube
from smsim.cli import app

DAYS = 56
START = pd.Timestamp("2026-03-02T00:00:00Z")  # a Monday


def _bill(spike_day: int = 35, spike_usd: float = 60.0) -> pd.DataFrame:
    """Resource a: 100 USD on weekdays, 40 on weekends, one line a day at noon; resource b: 50 a
    day; on ``spike_day`` a's GPU usage type carries ``spike_usd`` more."""
    rows = []
    for d in range(DAYS):
        day = START + pd.Timedelta(days=d, hours=12)
        stamp = day.strftime("%Y-%m-%dT%H:%M:%SZ")
        cost_a = 100.0 if day.day_of_week < 5 else 40.0
        rows.append({"lineItem/UsageStartDate": stamp, "lineItem/ResourceId": "a", "lineItem/UsageType": "gpu",
                     "lineItem/ProductCode": "AmazonSageMaker", "resourceTags/user:team": "x",
                     "lineItem/UnblendedCost": cost_a})
        rows.append({"lineItem/UsageStartDate": stamp, "lineItem/ResourceId": "b", "lineItem/UsageType": "cpu",
                     "lineItem/ProductCode": "AmazonSageMaker", "resourceTags/user:team": "y",
                     "lineItem/UnblendedCost": 50.0})
        if d == spike_day:
            rows.append({**rows[-2], "lineItem/UsageType": "gpu-spike", "lineItem/UnblendedCost": spike_usd})
    return pd.DataFrame(rows)


def test_spike_found_on_its_day_with_expected_cost_and_root_cause():
    cube = spend_cube(_bill(), freq="D")
    (a,) = anomalies_in_cube(cube, [Monitor(dimension="resource")])
    assert a["key"] == "a" and a["start"] == "2026-04-06T00:00:00Z" and a["end"] == "2026-04-07T00:00:00Z"
    # a noise-free weekly pattern is predicted exactly: expected 100 (a Monday), impact 60
    assert a["expected_usd"] == pytest.approx(100.0, abs=1e-6) and a["impact_usd"] == pytest.approx(60.0, abs=1e-6)
    assert a["root_causes"][0]["resource"] == "a" and a["root_causes"][0]["usage_type"] == "gpu-spike"
    assert a["root_causes"][0]["contribution_usd"] == pytest.approx(60.0)


def test_monitors_by_service_and_tag_and_minimum_impact():
    cube = spend_cube(_bill(), freq="D")
    (s,) = anomalies_in_cube(cube, [Monitor(dimension="service")])
    assert s["key"] == "AmazonSageMaker" and s["expected_usd"] == pytest.approx(150.0, abs=1e-6)
    assert s["impact_pct"] == pytest.approx(40.0, abs=1e-3)
    (t,) = anomalies_in_cube(cube, [Monitor(dimension="tag:team")])
    assert t["key"] == "x"
    assert anomalies_in_cube(cube, [Monitor(dimension="service", min_impact_usd=61)]) == []
    assert anomalies_in_cube(cube, [Monitor(dimension="service", min_impact_pct=41)]) == []


def test_weekly_pattern_is_no_anomaly_but_trips_the_day_over_day_rule():
    cube = spend_cube(_bill(spike_usd=0.0), freq="D")
    assert anomalies_in_cube(cube, [Monitor(dimension="resource")]) == []
    daily_a = cube[cube["resource"] == "a"].groupby("time")["cost_usd"].sum().to_numpy()
    assert len(day_over_day(daily_a)) == 7  # every Monday after the first of eight weeks


def test_level_shift_starts_an_anomaly_that_ends_when_the_new_level_is_accepted():
    v = np.full(70, 100.0)
    v[40:] = 130.0
    (ep,) = detect(v, "D")
    assert ep.start == 40 and ep.end == 46  # seven anomalous days, then the new level is normal
    assert ep.impact_usd == pytest.approx(7 * 30.0, abs=1e-6)


def test_cli_on_a_bill_and_bad_monitor(tmp_path):
    _bill().to_csv(tmp_path / "bill.csv", index=False)
    result = CliRunner().invoke(app, ["anomalies", str(tmp_path / "bill.csv"), "--monitor", "resource", "--jsonl"])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert row["key"] == "a" and row["detected_at"] == "2026-04-07T00:00:00Z"
    result = CliRunner().invoke(app, ["anomalies", str(tmp_path / "bill.csv"), "--monitor", "tag:owner"])
    assert result.exit_code == 2 and "owner" in result.stderr
    result = CliRunner().invoke(app, ["anomalies", str(tmp_path / "bill.csv"), "--monitor", "account"])
    assert result.exit_code == 2 and "--monitor" in result.stderr
