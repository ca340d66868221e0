"""Model Monitor schedules, data capture, quality drift and retraining against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.resources.monitoring.quality import _piece, quality_stats, should_retrain
from smsim.resources.monitoring.spec import QualitySpec
from smsim.units import DAY, HOUR, MONTH

M5_XLARGE = 0.23  # us-east-1 on-demand, Processing and Training (catalog)
S3_GB_MONTH, S3_PUT_1000 = 0.023, 0.005


def run(tmp_path, monitor: dict, *, days: float = 7, extra: dict | None = None):
    doc = {"name": "mon", "horizon": {"start": "2026-01-05T00:00:00Z", "duration_s": f"{days}d"},
           "monitoring": [{"kind": "model-monitor", "name": "mon", "volume_gb": 0, **monitor}], **(extra or {})}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = api.run_scenario(path)
    res = next(r for r in result.summary["resources"] if r["resource_id"] == "mon")
    return result, res


def test_monitoring_cost_is_runs_times_duration_times_rate(tmp_path):
    result, res = run(tmp_path, {"schedule": "hourly", "instance_count": 2, "job_duration_s": "15m"}, days=2)
    assert res["monitoring_runs"] == 48
    assert result.summary["cost_by_component"]["Processing"] == pytest.approx(48 * 0.25 * 2 * M5_XLARGE, abs=1e-9)


def test_scheduled_retraining_mean_quality_by_hand(tmp_path):
    # daily retraining at 00:00 (T = 1 d) taking D = 2 h; a model's age runs from D to T + D
    result, res = run(tmp_path, {
        "quality": {"initial": 0.9, "drift_per_day": 0.01},
        "retraining": {"mode": "scheduled", "trigger": {"kind": "cron", "cron": "0 0 * * *"},
                       "instance_type": "ml.m5.xlarge", "duration_s": "2h"}}, days=10)
    # ages in hours: [0, 26] once, [2, 26] eight times, [2, 24] in the last day -> mean age 13.8 h
    mean_age_h = (26**2 / 2 + 8 * (26**2 - 2**2) / 2 + (24**2 - 2**2) / 2) / 240
    assert mean_age_h == pytest.approx(13.8)
    assert res["mean_quality"] == pytest.approx(0.9 - 0.01 * mean_age_h / 24, abs=1e-12)
    assert res["retrainings_started"] == 10 and res["retrainings_deployed"] == 10
    # ten 2-hour jobs on one ml.m5.xlarge, each with the default 30 GB volume at $0.14 per GB-month
    volume = 10 * 30 * 2 / 730 * 0.14
    assert result.summary["cost_by_component"]["Training"] == pytest.approx(10 * 2 * M5_XLARGE + volume, abs=1e-9)


def test_scheduled_retraining_long_run_mean_is_q0_minus_drift_times_half_period_plus_duration(tmp_path):
    _, res = run(tmp_path, {
        "quality": {"initial": 0.9, "drift_per_day": 0.01},
        "retraining": {"mode": "scheduled", "trigger": {"kind": "cron", "cron": "0 0 * * 1"},
                       "instance_type": "ml.m5.xlarge", "duration_s": "6h"}}, days=364)
    steady = 0.9 - 0.01 * (7 / 2 + 0.25)  # q0 - drift (T/2 + D)
    # edge effect: the first week starts at age 0 instead of D -> +drift * D * (T + D/2... ) / horizon, < 1e-4
    assert res["mean_quality"] == pytest.approx(steady, abs=1e-4)


def test_drift_is_detected_only_at_monitoring_runs(tmp_path):
    # quality crosses 0.865 at 3.5 d; the daily run at 4 d sees it, retraining starts when that
    # 15-minute job ends and deploys a model with cutoff 4 d + 15 min two hours later
    _, res = run(tmp_path, {
        "job_duration_s": "15m",
        "quality": {"initial": 0.9, "drift_per_day": 0.01},
        "retraining": {"mode": "drift", "threshold": 0.865, "instance_type": "ml.m5.xlarge", "duration_s": "2h"}})
    start, deploy = 4 + 0.25 / 24, 4 + 2.25 / 24
    integral_age = deploy**2 / 2 + ((7 - start) ** 2 - (deploy - start) ** 2) / 2
    assert res["retrainings_on_drift"] == 1
    assert res["mean_quality"] == pytest.approx(0.9 - 0.01 * integral_age / 7, abs=1e-12)
    assert res["min_quality"] == pytest.approx(0.9 - 0.01 * deploy, abs=1e-12)
    assert res["share_below_threshold"] == pytest.approx((deploy - 3.5) / 7, abs=1e-12)


def test_capture_storage_and_puts_by_hand(tmp_path):
    result, res = run(tmp_path, {"capture": {"requests_per_day": 86400, "request_bytes": 3072,
                                             "object_size_mb": 1.0}})
    gb_hour = 3600 * 3072 / 1024**3
    assert res["captured_requests"] == pytest.approx(7 * 86400)
    # one cohort per hour at its midpoint, kept to the horizon: sum of (168 - h - 0.5) hours = 168^2 / 2
    gb_months = gb_hour * (168**2 / 2) * HOUR / MONTH
    costs = result.summary["cost_by_component"]
    assert costs["S3:DataCapture"] == pytest.approx(gb_months * S3_GB_MONTH, rel=1e-9)
    assert costs["S3:Requests"] == pytest.approx(168 * gb_hour * 1024 / 1000 * S3_PUT_1000, rel=1e-9)


def test_capture_reads_the_endpoint_arrivals_and_samples_them(tmp_path):
    endpoint = {"models": [{"name": "m", "latency": {"*": {"kind": "deterministic", "value_s": 0.01}}}],
                "endpoints": [{"kind": "realtime", "name": "ep", "model": "m", "instance_type": "ml.m5.xlarge",
                               "workload": {"kind": "poisson", "rate_per_s": 2.0}}]}
    capture = {"endpoint": "ep", "capture": {"request_bytes": 1000}}
    result, res = run(tmp_path, capture, days=1, extra=endpoint)
    served = next(r for r in result.summary["resources"] if r["resource_id"] == "ep")["requests"]
    assert res["captured_requests"] == served
    capture["capture"]["sampling_percentage"] = 25
    _, res = run(tmp_path, capture, days=1, extra=endpoint)
    assert abs(res["captured_requests"] - 0.25 * served) < 4 * math.sqrt(served * 0.25 * 0.75)


def test_quality_with_shocks_and_floor_integrates_exactly():
    q = QualitySpec(initial=0.9, drift_per_day=0.0, shock_size=0.1, floor=0.75)
    shocks = np.array([1.0, 2.0, 3.0]) * DAY
    stats = quality_stats([(0.0, 0.0)], shocks, q, 4 * DAY, threshold=0.85)
    # 0.9, 0.8, 0.75 (floored 0.7), 0.75 (floored 0.6) for one day each
    assert stats.mean == pytest.approx((0.9 + 0.8 + 0.75 + 0.75) / 4)
    assert stats.minimum == pytest.approx(0.75) and stats.share_below == pytest.approx(0.75)
    # a retrained model (cutoff after the first two shocks) only feels the third
    stats = quality_stats([(0.0, 0.0), (2.5 * DAY, 2.5 * DAY)], shocks, q, 4 * DAY)
    assert stats.mean == pytest.approx((0.9 + 0.8 + 0.5 * 0.75 + 0.5 * 0.9 + 0.8) / 4)


@pytest.mark.parametrize(("qa", "slope", "floor", "threshold", "expected"), [
    (1.0, 0.1, 0.0, 0.5, (1.0 * 2 - 0.1 * 2, 0.0, 0.8)),      # linear, above threshold
    (1.0, 0.5, 0.5, 0.6, (0.75 * 1 + 0.5 * 1, 1.2, 0.5)),     # below 0.6 after 0.8 s, floored after 1 s
    (0.4, 0.5, 0.5, 0.6, (1.0, 2.0, 0.5)),                    # floored throughout
    (0.7, 0.0, 0.0, 0.6, (1.4, 0.0, 0.7)),                    # no drift
])
def test_piece_table(qa, slope, floor, threshold, expected):
    assert _piece(0.0, 2.0, qa, slope, floor, threshold) == pytest.approx(expected)


@pytest.mark.parametrize(("mode", "estimate", "busy", "since_s", "expected"), [
    ("drift", 0.84, False, math.inf, True), ("drift", 0.86, False, math.inf, False),
    ("drift", 0.84, True, math.inf, False), ("both", 0.84, False, math.inf, True),
    ("scheduled", 0.1, False, math.inf, False),
    ("drift", 0.84, False, 3599.0, False), ("drift", 0.84, False, 3600.0, True),  # 1-hour cooldown
])
def test_should_retrain_table(mode, estimate, busy, since_s, expected):
    assert should_retrain(mode, estimate, 0.85, busy, since_s, cooldown_s=3600.0) is expected


@pytest.mark.parametrize(("patch", "field", "words"), [
    ({"endpoint": "nope", "capture": {"request_bytes": 10}}, "monitoring[0].endpoint", "'nope'"),
    ({"quality": {"initial": 0.9}, "retraining": {"mode": "drift", "instance_type": "ml.m5.xlarge",
                                                  "duration_s": "1h"}}, "monitoring[0].retraining", "threshold"),
    ({"quality": {"initial": 0.9}, "retraining": {"mode": "drift", "threshold": 0.95, "instance_type": "ml.m5.xlarge",
                                                  "duration_s": "1h"}}, "monitoring[0]", "0.95"),
])
def test_bad_monitor_exits_2_naming_field_and_line(tmp_path, patch, field, words):
    doc = {"name": "bad", "horizon": {"duration_s": "1d"},
           "monitoring": [{"kind": "model-monitor", "name": "mon", **patch}]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2, out.output
    text = " ".join(out.output.split())
    assert field in text and words in text and "bad.yaml:" in text and "Traceback" not in text


def test_report_shows_quality_beside_cost():
    from smsim.report.content import ReportData, RunView
    from smsim.report.lifecycle import quality_section

    summary = {"resources": [
        {"resource_id": "mon", "mean_quality": 0.91234, "min_quality": 0.87, "share_below_threshold": 0.025,
         "retrainings_started": 26, "cost_usd": 280.5},
        {"resource_id": "ep", "model_quality": 0.934, "cost_usd": 59.22},
        {"resource_id": "plain", "cost_usd": 1.0}]}
    section = quality_section(ReportData("r", [RunView("run", summary)]))
    rows = section.blocks[0].rows
    assert [r[1] for r in rows] == ["mon", "ep"]
    assert rows[0][2:6] == ["0.9123", "0.8700", "2.50%", "26"] and rows[1][2:4] == ["0.9340", "0.9340"]
    assert quality_section(ReportData("r", [RunView("run", {"resources": [{"resource_id": "x"}]})])) is None


def test_mean_quality_under_drift_and_poisson_shocks_matches_its_expectation():
    """Without retraining, E[quality(t)] = q0 - drift t - size rate t, so the expected time mean
    over H is q0 - (drift + size rate) H / 2; the replications' mean lies within 4 standard errors."""
    from smsim.rng import stream
    from smsim.workload.jobs import poisson_times

    q = QualitySpec(initial=0.95, drift_per_day=0.002, shocks_per_day=0.1, shock_size=0.02, floor=0.0)
    horizon = 60 * DAY
    means = np.array([quality_stats([(0.0, 0.0)], poisson_times(0.1, horizon, stream(r, "shocks")), q, horizon).mean
                      for r in range(400)])
    expected = 0.95 - (0.002 + 0.02 * 0.1) * 60 / 2
    assert abs(means.mean() - expected) < 4 * means.std(ddof=1) / math.sqrt(len(means))


def test_cooldown_bounds_retraining_on_noisy_alarms(tmp_path):
    # threshold at the fresh model's quality: half the noisy hourly estimates fall below it
    monitor = {"schedule": "hourly", "job_duration_s": "5m",
               "quality": {"initial": 0.9, "noise_sd": 0.01},
               "retraining": {"mode": "drift", "threshold": 0.9, "instance_type": "ml.m5.xlarge", "duration_s": "1h",
                              "volume_gb": 0}}
    _, eager = run(tmp_path, monitor)
    monitor["retraining"]["cooldown_s"] = "1d"
    _, calm = run(tmp_path, monitor)
    # without a cooldown a retraining (1 h) follows almost every other run; with one, at most one
    # per day and five minutes plus an hour
    assert eager["retrainings_started"] > 30
    assert calm["retrainings_started"] <= 1 + math.ceil(7 * 24 / (24 + 1 + 5 / 60))
    assert calm["alarms_ignored"] > eager["alarms_ignored"]
