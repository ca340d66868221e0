"""Reading usage sources, bad inputs, and the ``smsim commit`` command (exit codes, JSON keys)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.cli import app
from smsim.commit.api import recommend_commitment
from smsim.commit.usage import read_usage
from smsim.errors import InputError

runner = CliRunner()


def _usage_csv(path, hours=24 * 21, level=10.0, seed=0, start="2026-01-01"):
    rng = np.random.default_rng(seed)
    t = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    u = level + 3 * np.sin(2 * np.pi * np.arange(hours) / 24) + rng.gamma(2.0, 1.0, hours)
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "ondemand_usd": u.round(4)}).to_csv(path, index=False)
    return path


def test_usage_csv_refuses_a_repeated_hour_unless_asked_to_sum(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("timestamp,ondemand_usd\n2026-01-01T00:00:00Z,1.5\n2026-01-01T01:00:00Z,0\n"
                 "2026-01-01T00:00:00Z,2\n")
    with pytest.raises(InputError, match=r"row 3, column 'timestamp'.*appears in rows 1, 3.*"
                       r"--sum-duplicates") as info:
        read_usage(p)
    assert "u.csv" in str(info.value)
    usage = read_usage(p, sum_duplicates=True)
    assert usage.hourly_usd.tolist() == [3.5, 0.0]
    assert usage.mix is None


def test_usage_csv_sums_different_instance_types_in_one_hour(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("timestamp,ondemand_usd,instance_type,component,region\n"
                 "2026-01-01T00:00:00Z,1.5,ml.m5.large,Hosting,us-east-1\n"
                 "2026-01-01T00:00:00Z,2,ml.g5.xlarge,Hosting,us-east-1\n"
                 "2026-01-01T01:00:00Z,0.25,ml.m5.large,Hosting,us-east-1\n")
    assert read_usage(p).hourly_usd.tolist() == [3.5, 0.25]
    p.write_text(p.read_text() + "2026-01-01T01:00:00Z,0.25,ml.m5.large,Hosting,us-east-1\n")
    with pytest.raises(InputError, match=r"row 4.*appears in rows 3, 4"):
        read_usage(p)


def test_commit_cli_duplicate_hour_exits_2_and_sum_duplicates_accepts(tmp_path):
    p = _usage_csv(tmp_path / "u.csv", hours=24 * 7)
    lines = p.read_text().splitlines()
    p.write_text("\n".join([*lines, lines[5]]) + "\n")  # data row 5 exported twice
    bad = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--horizon", "7d",
                              "--paths", "10"])
    assert bad.exit_code == 2, bad.output
    assert "u.csv" in bad.output and "appears in rows 5, 169" in bad.output
    ok = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--horizon", "7d",
                             "--paths", "10", "--sum-duplicates", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["history_hours"] == 24 * 7


@pytest.mark.parametrize("value", ["1e300", "2e15"])
def test_absurd_usage_amount_exits_2_naming_the_row(tmp_path, value):
    p = _usage_csv(tmp_path / "u.csv", hours=24 * 7)
    lines = p.read_text().splitlines()
    stamp = lines[10].split(",")[0]
    lines[10] = f"{stamp},{value}"
    p.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--horizon", "7d"])
    assert result.exit_code == 2, result.output
    assert "u.csv" in result.output and "row 10, column 'ondemand_usd'" in result.output
    assert "beyond the 1e+15" in result.output and "Traceback" not in result.output


def test_one_dominant_usage_hour_is_flagged_in_the_notes(tmp_path):
    p = _usage_csv(tmp_path / "u.csv", hours=24 * 7)
    lines = p.read_text().splitlines()
    stamp = lines[10].split(",")[0]
    lines[10] = f"{stamp},1e12"
    p.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--horizon", "7d",
                                 "--paths", "10", "--json"])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert any("1e+12" in n and "times the series' median" in n for n in notes), notes
    assert "Warning" not in result.stderr


@pytest.mark.parametrize(
    "body, match",
    [
        ("timestamp,ondemand_usd\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,-2\n", r"row 2, column 'ondemand_usd'.*negative"),
        ("timestamp,ondemand_usd\n2026-01-01T00:00:00Z,1\n2026-01-01T03:00:00Z,2\n", r"2 missing hour.*2026-01-01T01:00"),
        ("timestamp,usd\n2026-01-01T00:00:00Z,1\n", r"missing column 'ondemand_usd'"),
        ("timestamp,ondemand_usd\nyesterday,1\n", r"row 1, column 'timestamp'"),
        ("timestamp,ondemand_usd\n2026-01-01T00:30:00Z,1\n", r"not on a clock hour"),
        ("timestamp,ondemand_usd\n2026-01-01T00:00:00Z,abc\n", r"expected a number"),
    ],
)
def test_bad_usage_files_name_file_row_and_column(tmp_path, body, match):
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(InputError, match=match) as info:
        read_usage(p)
    assert "bad.csv" in str(info.value)


def test_ledger_keeps_eligible_rows_and_fills_idle_hours(tmp_path):
    ledger = pd.DataFrame({
        "lineItem/UsageStartDate": ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T02:00:00Z",
                                    "2026-01-01T03:00:00Z"],
        "lineItem/UsageType": ["USE1-Train:ml.g5.xlarge", "USE1-TrSpt:ml.g5.xlarge", "USE1-Host:ml.m5.large",
                               "USE1-TimedStorage-ByteHrs"],
        "smsim/pricing_class": ["on-demand", "spot", "savings-plan", "storage"],
        "smsim/component": ["Training", "Training", "RealTimeInference", "Storage"],
        "lineItem/UnblendedCost": [1.408, 0.5, 0.08, 0.01],
        "pricing/publicOnDemandCost": [1.408, 1.408, 0.115, 0.01],
    })
    ledger.to_parquet(tmp_path / "ledger.parquet")
    usage = read_usage(tmp_path)  # a run directory
    assert usage.hourly_usd.round(3).tolist() == [1.408, 0.0, 0.115, 0.0]
    assert set(usage.mix["instance_type"]) == {"ml.g5.xlarge", "ml.m5.large"}
    assert set(usage.mix["region"]) == {"us-east-1"}


def test_ledger_without_eligibility_columns(tmp_path):
    pd.DataFrame({"lineItem/UsageStartDate": ["2026-01-01T00:00:00Z"], "pricing/publicOnDemandCost": [1.0]}).to_csv(
        tmp_path / "l.csv", index=False)
    with pytest.raises(InputError, match="smsim/pricing_class"):
        read_usage(tmp_path / "l.csv")


def test_catalog_discount_from_instance_mix(tmp_path):
    p = _usage_csv(tmp_path / "u.csv", hours=24 * 8)
    frame = pd.read_csv(p).assign(instance_type="ml.g5.xlarge", component="Training", region="us-east-1")
    frame.to_csv(p, index=False)
    result = recommend_commitment(p, n_paths=20, horizon_hours=24 * 30, seed=1)
    assert 0 < result.terms.discount < 1
    assert result.discount_source.startswith("catalog")


def test_api_is_reproducible_and_existing_lowers_commitment(tmp_path):
    p = _usage_csv(tmp_path / "u.csv")
    a = recommend_commitment(p, discount=0.3, n_paths=30, horizon_hours=24 * 60, seed=4)
    b = recommend_commitment(p, discount=0.3, n_paths=30, horizon_hours=24 * 60, seed=4)
    assert a.recommended_usd_per_hour == b.recommended_usd_per_hour
    c = recommend_commitment(p, discount=0.3, n_paths=30, horizon_hours=24 * 60, seed=4, existing_usd_per_hour=3.5)
    # existing 3.5 USD/h at 30% covers 5 USD/h first; the new optimum covers what is left
    assert c.recommended_usd_per_hour == pytest.approx(a.recommended_usd_per_hour - 3.5, abs=1e-9)


def test_cli_json_and_plot(tmp_path):
    usage = _usage_csv(tmp_path / "u.csv")
    actual = _usage_csv(tmp_path / "a.csv", hours=24 * 30, seed=9, start="2026-01-22")
    png = tmp_path / "curve.png"
    res = runner.invoke(app, ["commit", str(usage), "--discount", "0.3", "--horizon", "30d", "--paths", "40",
                              "--seed", "1", "--evaluate", str(actual), "--json", "--plot", str(png)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    for key in ("recommended_commitment_usd_per_hour", "expected_savings_usd", "utilization", "coverage",
                "break_even"):
        assert key in doc
    assert set(doc["savings_usd"]) == {"p10", "p50", "p90"}
    assert set(doc["lookback"]) == {"7d", "30d", "60d"}
    ev = doc["evaluation"]
    assert ev["hindsight_optimum"]["realized_savings_usd"] >= max(
        ev[k]["realized_savings_usd"] for k in ("smsim", "lookback_7d", "lookback_30d", "lookback_60d")) - 1e-6
    assert png.stat().st_size > 1000


def test_cli_table_output(tmp_path):
    usage = _usage_csv(tmp_path / "u.csv")
    res = runner.invoke(app, ["commit", str(usage), "--discount", "0.25", "--horizon", "14d", "--paths", "10"])
    assert res.exit_code == 0, res.output
    assert "recommended commitment" in res.stdout and "lookback 30d" in res.stdout


@pytest.mark.parametrize(
    "args, match",
    [
        (["--discount", "1.2"], "between 0 and 1"),
        (["--discount", "0"], "between 0 and 1"),
        ([], "--discount"),  # no instance mix and no discount
        (["--discount", "0.3", "--term", "2y"], "term"),
        (["--discount", "0.3", "--payment", "monthly"], "payment"),
        (["--discount", "0.3", "--horizon", "2y"], "horizon"),
        (["--discount", "0.3", "--horizon", "soon"], "duration"),
        (["--discount", "0.3", "--existing", "-1"], "existing"),
    ],
)
def test_cli_bad_options_exit_2(tmp_path, args, match):
    usage = _usage_csv(tmp_path / "u.csv", hours=24 * 3)
    res = runner.invoke(app, ["commit", str(usage), "--paths", "5", *args])
    assert res.exit_code == 2, res.output
    assert match in res.output


def test_cli_bad_file_exit_2(tmp_path):
    bad = tmp_path / "neg.csv"
    bad.write_text("timestamp,ondemand_usd\n2026-01-01T00:00:00Z,-1\n")
    res = runner.invoke(app, ["commit", str(bad), "--discount", "0.3"])
    assert res.exit_code == 2
    assert "neg.csv" in res.output and "ondemand_usd" in res.output
    res = runner.invoke(app, ["commit", str(tmp_path / "nope.csv"), "--discount", "0.3"])
    assert res.exit_code == 2


def test_all_zero_usage_has_no_coverage_and_no_library_warning(tmp_path):
    p = tmp_path / "u.csv"
    t = pd.date_range("2026-01-01", periods=72, freq="h", tz="UTC")
    pd.DataFrame({"timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "ondemand_usd": 0.0}).to_csv(p, index=False)
    result = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--horizon", "1d", "--paths", "5",
                                 "--stage-at", "0", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["recommended_commitment_usd_per_hour"] == 0.0 and doc["coverage"] is None
    assert "warning" not in result.stderr.lower()
    text = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--horizon", "1d", "--paths", "5",
                               "--stage-at", "0"])
    assert text.exit_code == 0 and "coverage n/a" in text.stdout
