"""Cost anomaly detection: a hand-made daily bill with one known spike and one level shift."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.anomalies.api import anomalies_in_cube
from smsim.anomalies.detector import (
    _multiplier,
    day_over_day,
    detect,
    expected_and_spread,
    forecast,
    upper_median,
)
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


def _noise(seed: int, n: int = 140, sd: float = 5.0) -> np.ndarray:
    return 100.0 + np.random.default_rng(np.random.SeedSequence([16, seed])).normal(0.0, sd, n)


@pytest.mark.parametrize("seed", range(4))
def test_white_noise_raises_no_alarm_and_the_spread_is_the_forecast_error(seed):
    # the spread is that of out-of-sample errors (1.3-1.6 sd here: the noise plus the level's
    # and weekly profile's estimation error, the profile an upper median of four), not that of
    # in-sample residuals (well under 1 sd)
    v = _noise(seed)
    _, spread, flags, _ = expected_and_spread(v, period=7, window=28, horizons=(1, 3), min_window=14)
    assert not flags.any()
    assert 5.0 < np.nanmedian(spread[42:]) < 8.5


def test_few_errors_widen_the_threshold_like_a_t_prediction_interval():
    assert _multiplier(4.0, 13) > _multiplier(4.0, 56) > _multiplier(4.0, 500) > 4.0
    assert _multiplier(4.0, 10**6) == pytest.approx(4.0, abs=1e-3)
    # one degree of freedom is Cauchy: isf(p) = 1 / tan(pi p), with p = P(N > 4), times sqrt(1 + 1/2)
    assert _multiplier(4.0, 2) == pytest.approx(np.sqrt(1.5) / np.tan(np.pi * 3.167124e-5), rel=1e-4)


@pytest.mark.parametrize("seed", range(4))
def test_a_lasting_moderate_rise_is_found_by_the_summed_evidence(seed):
    # +12 a day for six days over noise of sd 2 (a spread near 3, a point threshold of 5
    # spreads with 56 errors' MAD): the accumulated evidence (three-day sums, CUSUM) finds it
    # within its first five days even where no single day clears the threshold; its start (the
    # change point, or the day the point test fired) is within two days of the rise (a high day of noise just before it can
    # look like its beginning)
    v = _noise(seed, sd=2.0)
    v[90:96] += 12.0
    expected, spread, flags, found = expected_and_spread(v, period=7, window=28, horizons=(1, 3), min_window=14)
    (start,) = np.flatnonzero(found[85:100] >= 0) + 85
    assert 90 <= found[start] <= 94 and 88 <= start <= 92
    assert not flags[:88].any()


def test_detection_starts_after_two_weekly_cycles():
    cube = spend_cube(_bill(spike_day=16), freq="D")
    (a,) = anomalies_in_cube(cube, [Monitor(dimension="resource")])
    assert a["start"] == "2026-03-18T00:00:00Z" and a["impact_usd"] == pytest.approx(60.0, abs=1e-6)


def test_day_over_day_rule_compares_the_same_hour_a_day_earlier():
    hourly = np.tile(np.where(np.arange(24) >= 9, 10.0, 2.0), 5)  # a daily cycle, nothing unusual
    assert len(day_over_day(hourly)) == 5  # hour over hour: every 09:00 jumps
    assert day_over_day(hourly, lag=24) == []
    hourly[106] *= 1.5  # 10:00 of the fifth day
    (ep,) = day_over_day(hourly, lag=24)
    assert ep.start == 106 and ep.expected_usd == 10.0


def test_running_hours_split_each_interval_across_the_bins_it_spans():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from anomaly_series import running_hours

    hours = running_hours(np.array([0.0, 1800.0]), np.array([5400.0, 9000.0]), np.array([2.0, 1.0]),
                          np.array([0.0, 3600.0, 7200.0, 10800.0]))
    # job 1: 2 GPUs for 1.5 h from 0; job 2: 1 GPU for 2 h from 0.5 h
    assert hours == pytest.approx([2.0 + 0.5, 1.0 + 1.0, 0.5])


def _noisy_bill(seed: int, extra: dict[int, float], extra_resource: str = "a", days: int = 70) -> pd.DataFrame:
    """Daily bill: resource a 100 USD on weekdays and 40 at weekends, resource b 50 a day, each
    with 3 % normal noise; ``extra[d]`` USD more on day ``d`` under ``extra_resource``'s usage
    type ``surge``."""
    rng = np.random.default_rng(np.random.SeedSequence([16, seed]))
    rows = []
    for d in range(days):
        day = START + pd.Timedelta(days=d, hours=12)
        stamp = day.strftime("%Y-%m-%dT%H:%M:%SZ")
        for resource, usd in (("a", 100.0 if day.day_of_week < 5 else 40.0), ("b", 50.0)):
            rows.append({"lineItem/UsageStartDate": stamp, "lineItem/ResourceId": resource,
                         "lineItem/UsageType": "base", "lineItem/ProductCode": "AmazonSageMaker",
                         "lineItem/UnblendedCost": usd * (1.0 + 0.03 * rng.standard_normal())})
        if extra.get(d, 0.0) > 0:
            rows.append({"lineItem/UsageStartDate": stamp, "lineItem/ResourceId": extra_resource,
                         "lineItem/UsageType": "surge", "lineItem/ProductCode": "AmazonSageMaker",
                         "lineItem/UnblendedCost": extra[d]})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(3))
def test_a_planted_level_shift_is_caught_on_its_first_day_with_its_root_cause(seed):
    # +40 USD a day from day 42 (a Monday) on: 27 % of the account's weekday spend, about 9
    # spreads of the service's daily forecast error (3 % noise on each resource)
    cube = spend_cube(_noisy_bill(seed, {d: 40.0 for d in range(42, 70)}), freq="D")
    (a,) = anomalies_in_cube(cube, [Monitor(dimension="service", min_impact_pct=5)])
    assert a["start"] == (START + pd.Timedelta(days=42)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # one anomaly of a week (an ordinary-looking day within it does not split it), after which
    # the lasting shift is accepted as the new level
    assert a["steps"] == 7 and a["impact_usd"] == pytest.approx(40.0 * 7, rel=0.2)
    top = a["root_causes"][0]
    assert (top["resource"], top["usage_type"]) == ("a", "surge")
    assert top["contribution_usd"] == pytest.approx(40.0 * 7)


@pytest.mark.parametrize("seed", range(3))
def test_a_runaway_endpoint_is_caught_while_its_spend_grows(seed):
    # an endpoint scaling out without bound: 6, 12, 18, ... USD a day from day 42; its growth
    # is caught within five days, before it costs 90 USD (60 % of the account's weekday spend) a day
    extra = {d: 6.0 * (d - 41) for d in range(42, 60)}
    cube = spend_cube(_noisy_bill(seed, extra, extra_resource="endpoint-x"), freq="D")
    (first, *_) = anomalies_in_cube(cube, [Monitor(dimension="service")])
    assert 42 <= (pd.Timestamp(first["start"]) - START).days <= 46
    assert first["root_causes"][0]["resource"] == "endpoint-x"
    assert first["impact_usd"] > 0


#: under normal forecast errors each of the three tests (one step, three steps summed, CUSUM
#: whose run length is set to the point test's) alarms on a clean step with probability about
#: P(N > 4) (the t-widened threshold only lowers it), so a clean step alarms with probability
#: at most about 3 P(N > 4) = 9.5e-5
CLEAN_SEEDS = 40


def test_clean_seasonal_series_false_alarm_rate_is_within_its_bound():
    from scipy.stats import norm, poisson

    days = 140
    week = np.where(np.arange(days) % 7 < 5, 100.0, 40.0)
    tested = alarms = 0
    for seed in range(CLEAN_SEEDS):
        rng = np.random.default_rng(np.random.SeedSequence([17, seed]))
        v = week * (1.0 + 0.002 * np.arange(days)) + rng.normal(0.0, 4.0, days)  # weekly, growing, noisy
        alarms += len(detect(v, "D"))
        tested += days - 14
    mean = 3 * norm.sf(4.0) * tested  # 0.48 alarms expected at most over 5040 tested days
    assert alarms <= poisson.ppf(0.999, mean)  # 4 (0 are raised)


def test_cusum_threshold_gives_the_point_tests_run_length():
    from scipy.stats import norm

    from smsim.anomalies.detector import cusum_threshold

    h = cusum_threshold(4.0)
    b = h + 1.166  # Siegmund: ARL0 = (exp(2 k b) - 2 k b - 1) / (2 k^2) with k = 0.5
    assert (np.exp(b) - b - 1) / 0.5 == pytest.approx(1 / norm.sf(4.0), rel=1e-9)
    assert h == pytest.approx(8.5016, abs=1e-3)
    assert cusum_threshold(3.0) < h  # a looser point test, a shorter run length


@pytest.mark.parametrize("seed", range(3))
def test_a_slow_runaway_is_left_to_the_cusum(seed):
    # 3, 6, 9, ... USD a day: each day's excess is mostly absorbed by the forecast's trend
    # before it clears the point or three-day test (on two seeds of three they never find it);
    # the CUSUM of the standardized excesses still crosses its interval, by the 11th day (33
    # USD a day, 22 % of the account's weekday spend)
    from smsim.anomalies.spend import series_by

    extra = {d: 3.0 * (d - 41) for d in range(42, 60)}
    cube = spend_cube(_noisy_bill(seed, extra, extra_resource="endpoint-x"), freq="D")
    v = series_by(cube, "service").iloc[:, 0].to_numpy()
    kw = dict(period=7, window=28, horizons=(1, 3), min_window=14)
    without = np.flatnonzero(expected_and_spread(v, cusum=False, **kw)[3] >= 0)
    assert seed == 0 or not without.size  # seed 0: the three-day sum finds it, on day 47
    _, _, flags, found = expected_and_spread(v, cusum=True, **kw)
    (start, *_) = np.flatnonzero(found >= 0)
    # found by the 11th day; its start, the CUSUM's change point, is earlier, but not before the
    # climb's first day, 42 (a ramp's most significant rise is its steeper end)
    assert 42 <= found[start] <= 52 and 42 <= start < found[start] and not flags[:start].any()


def test_shift_start_takes_the_rise_not_the_ordinary_high_steps_before_it():
    from smsim.anomalies.detector import shift_start

    # a CUSUM (reference 0.5) over these is above zero from the first step: Page's estimate is 0
    x = np.array([0.7, 0.7, 0.7, 0.7, 3.0, 3.0, 3.0])
    # sums from the end 3, 6, 9, 9.7, 10.4, 11.1, 11.8; S^2 / n: 9, 18, 27, 23.5, 21.6, 20.5, 19.9
    assert shift_start(x) == 4
    assert shift_start(np.array([2.0, 2.0])) == 0  # S^2 / n: 4 from the last, 8 from the first
    assert shift_start(np.array([1.0, 2.0, 3.0])) == 1  # 9, 12.5, 12: a ramp's start comes late
    assert shift_start(np.array([-1.0, 5.0])) == 1


def test_change_point_is_the_step_after_the_cusums_last_zero():
    from smsim.anomalies.detector import change_point

    x = np.array([0.2, -0.3, 0.1, 2.0, 1.5, 3.0])
    # x - 0.5 summed from the end: 2.5, 3.5, 5.0, 4.6, 3.8, 3.5: largest from index 3
    assert change_point(x) == 3
    # a one-sided CUSUM over x is 0, 0, 0, 1.5, 2.5, 5.0: last zero at index 2, so the change at 3
    cusum, last_zero = 0.0, -1
    for i, xi in enumerate(x):
        cusum = max(0.0, cusum + xi - 0.5)
        last_zero = i if cusum == 0.0 else last_zero
    assert change_point(x) == last_zero + 1
    assert change_point(np.array([0.5, 1.5])) == 1  # a tie (both suffixes sum to 1): the later start
    assert change_point(np.array([3.0, -1.0, 0.0])) == 0  # the rise began first, even if the last step fell
    assert change_point(np.array([0.0, 0.0, 6.0])) == 2  # a one-step rise is its own start


def _ramp_bill(days: int = 80) -> pd.DataFrame:
    """Resource a: 100 USD a day; from day 50 its usage type ``ramp`` adds 5 USD, then 9 a day."""
    rows = []
    for d in range(days):
        stamp = (START + pd.Timedelta(days=d, hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = {"lineItem/UsageStartDate": stamp, "lineItem/ResourceId": "a", "lineItem/ProductCode": "AmazonSageMaker"}
        rows.append({**line, "lineItem/UsageType": "base", "lineItem/UnblendedCost": 100.0})
        if d >= 50:
            rows.append({**line, "lineItem/UsageType": "ramp", "lineItem/UnblendedCost": 5.0 if d == 50 else 9.0})
    return pd.DataFrame(rows)


def test_an_anomaly_found_by_the_summed_days_starts_where_the_rise_began():
    # a flat 100 USD has the spread's floor, 2 USD, and a point threshold near 12 USD (about 34
    # errors behind the spread): neither +5 nor +9 clears it; the three-day sum does on day 52
    # (5 + 9 + 9 = 23 USD), and the change point over that window is day 50, the ramp's first
    v = np.full(80, 100.0)
    v[50], v[51:] = 105.0, 109.0
    (ep,) = detect(v, "D")
    assert (ep.start, ep.detected) == (50, 52)
    # a period of anomalous days from the start, then the new level is accepted: 50 .. 56
    assert ep.end == 56 and ep.expected_usd == pytest.approx(700.0) and ep.impact_usd == pytest.approx(5 + 6 * 9)
    (a,) = anomalies_in_cube(spend_cube(_ramp_bill(), freq="D"), [Monitor(dimension="resource")])
    day = lambda d: (START + pd.Timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert (a["start"], a["detected_at"], a["end"]) == (day(50), day(53), day(57)) and a["steps"] == 7
    assert a["impact_usd"] == pytest.approx(59.0, abs=1e-6)
    # the root cause is summed over the same days: the ramp's 59 USD against its absent past
    assert (a["root_causes"][0]["usage_type"], a["root_causes"][0]["contribution_usd"]) == ("ramp", 59.0)


def test_an_hourly_anomaly_starts_where_it_was_flagged():
    # hourly errors run high for hours on clean spend, so no change point is taken: the start is
    # the first flagged hour (152, where six hours sum to 5 + 9 + 9 USD over the spread's floor),
    # the one it was found on; with the change point it would be 150
    v = np.full(24 * 8, 100.0)
    v[150], v[151:] = 105.0, 109.0
    (ep, *_) = detect(v, "h")
    assert (ep.start, ep.detected) == (152, 152)


#: a notebook fleet's daily spend (USD) from a 70-day smsim run, starting on a Monday: weekdays
#: about 16, weekends 0.4, and days off (0.4-2.8) on 8 of the 50 weekdays, two of them Mondays
#: and two Wednesdays within four weeks
DAYS_OFF = np.array([
    16.7, 14.6, 13.9, 16.4, 17.1, 0.4, 0.4, 2.7, 17.9, 16.4, 16.9, 2.4, 0.4, 0.4, 15.9, 17.0, 16.2, 14.7,
    17.4, 0.4, 0.4, 0.7, 17.0, 2.8, 16.7, 2.0, 0.4, 0.4, 17.5, 15.0, 2.7, 16.3, 15.9, 0.4, 0.4, 17.5, 13.6,
    15.8, 0.4, 16.4, 0.4, 0.4, 16.5, 15.5, 17.0, 16.5, 15.2, 0.4, 0.4, 15.0, 13.5, 2.7, 16.0, 16.7, 0.4, 0.4,
    15.6, 15.7, 15.8, 16.5, 14.9, 0.4, 0.4, 17.4, 15.5, 16.1, 16.6, 17.4, 0.4, 0.4])


def test_upper_median_takes_the_higher_middle_value():
    assert upper_median(np.array([3.0, 1.0, 2.0])) == 2.0
    assert upper_median(np.array([15.0, 2.5, 16.0, 2.5])) == 15.0
    assert upper_median(np.array([4.0, 1.0, 3.0, 2.0])) == 3.0


def test_days_off_neither_alarm_nor_blind_the_detector():
    # a weekday seen twice as a day off in the window is expected at its ordinary spend, not at
    # the mean of the two kinds of day, and a day off more than 2 spreads low is kept out of
    # the errors: the spread comes down to the weekdays' own noise (sd 1.1) once the first
    # weeks' errors age out, where a plain median and days off among the errors kept it near
    # 5.6 USD to the end, so the clean run raises no alarm and an extra 12 USD on any ordinary
    # weekday of the last two weeks is found on its day (none was before)
    _, spread, flags, _ = forecast(DAYS_OFF, "D")
    assert not flags.any()
    assert np.median(spread[56:]) < 1.5
    for d in (d for d in range(57, 70) if d % 7 < 5 and DAYS_OFF[d] > 10.0):
        v = DAYS_OFF.copy()
        v[d] += 12.0
        assert [(ep.start, ep.end) for ep in detect(v, "D")] == [(d, d)]
