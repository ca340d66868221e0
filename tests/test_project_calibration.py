"""Projection bands calibrated on the history's own backtest errors (smsim.project.calibration)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from smsim.cli import app
from smsim.forecast.models.base import Forecaster
from smsim.project.calibration import (
    ErrorModel,
    TotalErrors,
    calibrate,
    calibrate_paths,
    error_model,
    total_errors,
)
from smsim.rng import stream
from tests.test_project_core import _periodic


class LastDayLevel(Forecaster):
    """A deliberately wrong model: the last day's mean level, known exactly, plus iid hourly noise.

    On a random-walk level its paths' totals are far too narrow (the level is not known).
    """

    name = "lastday"

    def _fit(self, y):
        self.level_, self.sd_ = float(np.mean(y[-24:])), float(np.std(y[-24:]))

    def _moments(self, h):
        return np.full(h, self.level_), np.full(h, self.sd_)

    def _simulate(self, h, n_paths, rng):
        return self.level_ + self.sd_ * rng.standard_normal((n_paths, h))


def _random_walk_world(seed: int, days_hist: int, days_out: int) -> tuple[pd.Series, float]:
    """Hourly values on a daily random-walk log level (sd 0.1 a day) with 20 % hourly noise."""
    g = stream(seed, "test", "calibration", "world")
    days = days_hist + days_out
    level = 100.0 * np.exp(np.cumsum(g.normal(0.0, 0.1, days)))
    y = (level[:, None] * np.exp(g.normal(0.0, 0.2, (days, 24)))).ravel()
    s = pd.Series(y, index=pd.date_range("2026-01-01", periods=24 * days, freq="h"))
    return s.iloc[: 24 * days_hist], float(s.iloc[24 * days_hist:].sum())


def test_misspecified_model_is_calibrated_to_nominal_coverage():
    # 200 independent worlds: coverage of the P10-P90 band is Binomial(200, p). Uncalibrated the
    # model's band covers a few percent; calibrated it must be within 3 binomial sd of 80 %.
    n, hours = 200, 14 * 24
    raw, cal = [], []
    for seed in range(n):
        y, actual = _random_walk_world(seed, days_hist=120, days_out=14)
        model = LastDayLevel().fit(y, ())
        paths = model.simulate(hours, 200, stream(seed, "test", "calibration", "paths"))
        calibrated, em = calibrate(y, model, paths)
        assert em.status == "calibrated"
        for hits, totals in ((raw, paths.sum(axis=1)), (cal, calibrated.sum(axis=1))):
            lo, hi = np.percentile(totals, [10, 90])
            hits.append(lo <= actual <= hi)
    sd = math.sqrt(0.8 * 0.2 / n)
    assert np.mean(raw) < 0.2
    assert abs(np.mean(cal) - 0.8) <= 3 * sd, np.mean(cal)


def test_error_parts_recovered_from_exact_variances():
    # errors (-a, 0, a) have sample variance a^2 exactly; build variances from known parts
    noise, level, walk = 0.04, 0.01, 0.002
    ks = [24, 48, 96, 168, 336]
    errors, origins = {}, {}
    for k in ks:
        a = math.sqrt(noise * 168 / k + level + walk * k / 168)
        errors[k] = np.array([-a, 0.0, a]) + 0.3
        origins[k] = np.array([1000, 800, 600])
    em = error_model(TotalErrors(errors, origins, 3), 672)
    assert em.status == "calibrated"
    assert em.loc == pytest.approx(0.3)
    assert em.scale == pytest.approx(math.sqrt(noise * 168 / 672 + level + walk * 672 / 168), rel=1e-6)
    at = np.array([noise / 4, level, walk * 4])
    assert list(em.variance_share.values()) == pytest.approx(at / at.sum(), abs=1e-4)


def test_short_history_falls_back_and_is_flagged():
    y = pd.Series(np.arange(30, dtype=float) + 5.0, index=pd.date_range("2026-01-01", periods=30, freq="h"))
    model = LastDayLevel().fit(y, ())
    te = total_errors(y, model, 168)
    assert te.errors == {}
    paths = model.simulate(168, 50, stream(1, "test"))
    out, em = calibrate(y, model, paths)
    assert em.status == "uncalibrated" and em.summary()["status"] == "uncalibrated"
    assert em.loc == 0.0 and em.scale == pytest.approx(0.3)  # 0.3 per sqrt(week), one week
    logs = np.log(out.sum(axis=1) + 1.0)
    assert np.percentile(logs, 90) - np.percentile(logs, 10) == pytest.approx(
        2 * 1.2816 * 0.3, rel=0.05)


def test_calibration_keeps_each_paths_shape_and_the_order():
    g = stream(4, "test")
    paths = np.abs(g.normal(10.0, 3.0, (40, 72)))
    em = ErrorModel("calibrated", 0.2, 0.5, 72)
    forecast_total = 700.0
    out = calibrate_paths(paths, forecast_total, em)
    ratio = out / paths
    assert np.allclose(ratio, ratio[:, :1])  # one factor per path: hourly shape kept
    before, after = paths.sum(axis=1), out.sum(axis=1)
    assert (np.argsort(before, kind="stable") == np.argsort(after, kind="stable")).all()
    # the k-th smallest total is the ((k + 1/2) / n) quantile of (F + 1) exp(N(loc, scale)) - 1
    z = stats.norm.ppf((np.arange(40) + 0.5) / 40)
    assert np.sort(after) == pytest.approx((forecast_total + 1) * np.exp(0.2 + 0.5 * z) - 1)


def test_zero_total_path_takes_the_given_shape():
    paths = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]])
    out = calibrate_paths(paths, 10.0, ErrorModel("calibrated", 0.0, 0.0, 4), shape=np.array([1.0, 1.0, 0.0, 2.0]))
    assert out[0] == pytest.approx(np.array([1.0, 1.0, 0.0, 2.0]) / 4 * 10.0)
    assert out[1] == pytest.approx(np.array([1.0, 2.0, 3.0, 4.0]))


def test_projection_summary_flags_short_history_uncalibrated(tmp_path):
    from smsim.project.api import project_scenario

    proj = project_scenario(_periodic(tmp_path, days=2), "1d", n_paths=2, model="snaive")
    cal = proj.summary["calibration"]
    assert cal == {"status": "uncalibrated", "endpoints": {"api": "uncalibrated"}}
    assert proj.summary["resources"][0]["traffic"]["calibration"]["status"] == "uncalibrated"
    assert any("UNCALIBRATED" in note for note in proj.summary["notes"])


def test_cli_no_calibrate_and_byte_identical_outputs(tmp_path):
    path = _periodic(tmp_path, days=21)  # 14 days leave no origin after two weekly seasons
    args = ["project", str(path), "--horizon", "2d", "--paths", "3", "--model", "ets", "--no-store"]
    outs = []
    for name in ("a", "b"):
        res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        assert "band calibrated on" in " ".join(res.stdout.split())
        outs.append(tmp_path / name)
    for f in ("summary.json", "spend_by_month.csv", "paths.parquet", "eligible_usage.csv"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    summary = json.loads((outs[0] / "summary.json").read_text())
    assert summary["calibration"]["status"] == "calibrated"
    res = CliRunner().invoke(app, [*args, "--json", "--no-calibrate"])
    assert res.exit_code == 0, res.output
    off = json.loads(res.stdout)
    assert off["calibration"] == {"status": "off", "endpoints": {"api": "off"}}
    assert off["resources"][0]["traffic"]["calibration"] == {"status": "off"}


def test_uncalibrated_paths_are_the_models_own(tmp_path):
    from smsim.forecast import sample_paths
    from smsim.project.api import project_scenario
    from smsim.workload.history import histories

    path = _periodic(tmp_path, days=14)
    proj = project_scenario(path, "2d", n_paths=4, model="snaive", calibrate=False)
    (hist,) = histories(proj.scenario).values()
    own = sample_paths(hist.hourly.rename(hist.endpoint), 48, 4, proj.seed, "snaive", nonnegative=True)
    assert np.array_equal(proj.endpoints["api"].hourly, own)
