"""Budgets: alerts on a hand-computed hourly ledger, breach risk over hand-made paths, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from smsim.budgets.alerts import evaluate_timeline
from smsim.budgets.api import evaluate_ledger
from smsim.budgets.risk import breach_risk
from smsim.budgets.spec import Budget
from smsim.budgets.spend import hourly_spend
from smsim.cli import app

START = pd.Timestamp("2026-01-31T22:00:00Z")


def _line(hour, resource, component, team, cost, kind="Usage", effective=0.0, used=0.0, total=0.0):
    stamp = (START + pd.Timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"lineItem/UsageStartDate": stamp, "lineItem/ResourceId": resource, "smsim/component": component,
            "smsim/instance_type": "ml.g5.xlarge" if resource == "a" else "ml.m5.large",
            "resourceTags/user:team": team, "lineItem/LineItemType": kind, "lineItem/UnblendedCost": cost,
            "savingsPlan/SavingsPlanEffectiveCost": effective, "savingsPlan/UsedCommitment": used,
            "savingsPlan/TotalCommitmentToDate": total}


def _ledger() -> pd.DataFrame:
    """Six hours across the Jan/Feb boundary: resource a (team x) spends 10, 20, 30, 5, 5, 5;
    resource b (team y) 1 an hour, plus in hour 2 (Feb 00:00) usage covered by a savings plan:
    4 on demand, 2.5 effective, a 3 USD fee of which 2.5 used."""
    rows = [_line(h, "a", "Training", "x", c) for h, c in enumerate([10, 20, 30, 5, 5, 5])]
    rows += [_line(h, "b", "RealTimeInference", "y", 1.0) for h in range(6)]
    rows += [_line(2, "b", "RealTimeInference", "y", 4.0, "SavingsPlanCoveredUsage", effective=2.5),
             _line(2, "b", "RealTimeInference", "y", -4.0, "SavingsPlanNegation"),
             _line(2, "", "SavingsPlan", None, 3.0, "SavingsPlanRecurringFee", used=2.5, total=3.0)]
    return pd.DataFrame(rows)


def _budget(**kw) -> Budget:
    return Budget.model_validate({"name": "b", **kw})


def test_actual_threshold_fires_in_the_hour_it_is_crossed():
    # Feb spend of a: 30, 35, 40, 45 cumulative; 42 is crossed 0.4 into the 03:00 hour
    budget = _budget(amount_usd=42, filters={"resources": ["a"]})
    report = evaluate_ledger(_ledger(), [budget])
    (alert,) = report.alerts
    assert alert.period_start == "2026-02-01T00:00:00Z"
    assert alert.fired_at == "2026-02-01T04:00:00Z"
    assert alert.crossed_at == "2026-02-01T03:24:00Z"
    assert alert.spend_usd == pytest.approx(45.0)
    jan, feb = report.periods
    assert jan["actual_usd"] == pytest.approx(30.0) and not jan["breached"]
    assert feb["actual_usd"] == pytest.approx(45.0) and feb["breached"] and feb["covered_hours"] == 4


def test_threshold_equal_to_spend_does_not_fire_and_percent_thresholds_scale():
    budget = _budget(amount_usd=80, filters={"tags": {"team": ["x"]}},
                     thresholds=[{"percent": 50}, {"percent": 56.25}])  # 40 and 45 USD
    alerts, _ = evaluate_timeline(budget, hourly_spend(_ledger(), budget.filters, budget.cost))
    # Feb: 30, 35, 40, 45 cumulative at 01:00 ... 04:00; 40 is reached at 03:00 and exceeded in the
    # next hour; 45 is reached at 04:00 and never exceeded
    assert [a.fired_at for a in alerts] == ["2026-02-01T04:00:00Z"]
    assert alerts[0].limit_usd == pytest.approx(40.0)


def test_amortized_and_unblended_cost_differ_per_line_and_agree_in_total():
    ledger = _ledger()
    b_only = {"resources": ["b"]}
    amort = hourly_spend(ledger, _budget(amount_usd=1, filters=b_only).filters, "amortized")
    unbl = hourly_spend(ledger, _budget(amount_usd=1, filters=b_only).filters, "unblended")
    assert amort.iloc[2] == pytest.approx(1.0 + 2.5)  # covered usage at its effective cost
    assert unbl.iloc[2] == pytest.approx(1.0)  # on-demand cost, taken back by the negation
    everything = _budget(amount_usd=1).filters
    assert hourly_spend(ledger, everything, "amortized").iloc[2] == pytest.approx(30 + 1 + 2.5 + 0.5)
    assert hourly_spend(ledger, everything, "amortized").sum() == pytest.approx(
        hourly_spend(ledger, everything, "unblended").sum())


def test_forecasted_threshold_uses_spend_to_date_plus_trailing_run_rate():
    # at Feb 01:00: spend to date 30, run rate over the last 2 hours (20 + 30) / 2 = 25, 671 hours left
    budget = _budget(amount_usd=10_000, filters={"resources": ["a"]}, thresholds=[{"on": "forecasted", "percent": 100}])
    alerts, periods = evaluate_timeline(budget, hourly_spend(_ledger(), budget.filters, budget.cost),
                                        window_h=2, min_history_h=1)
    (alert,) = alerts
    assert alert.fired_at == "2026-02-01T01:00:00Z"
    assert alert.forecast_usd == pytest.approx(30 + 25 * 671)
    assert periods[1]["forecast_usd"] == pytest.approx(45 + 5 * 668)


def test_planned_amounts_per_quarter():
    budget = _budget(period="quarter", amount_usd=100, planned=[{"start": "2026-01-01", "amount_usd": 25}],
                     filters={"resources": ["a"]})
    report = evaluate_ledger(_ledger(), [budget])
    (q1,) = report.periods
    assert q1["amount_usd"] == 25 and q1["actual_usd"] == pytest.approx(75.0)
    assert report.alerts[0].fired_at == "2026-02-01T00:00:00Z"  # 10 + 20 = 30 > 25


def test_breach_risk_probability_and_dates():
    # four paths at 1, 2, 3, 0.5 USD/h over 48 h; 61 USD is crossed at 30.5 h, 20h20m, never, never
    spend = np.outer([1.0, 2.0, 3.0, 0.5], np.ones(48))
    (r,) = breach_risk(_budget(amount_usd=61), spend, pd.Timestamp("2026-03-01"))
    assert r["breach"]["probability"] == 0.5
    assert r["breach"]["p50_date"] == "2026-03-02T06:30:00Z"
    assert r["breach"]["p90_date"] is None
    assert r["spend_usd"]["mean"] == pytest.approx(48 * 6.5 / 4)


FLEET = """name: tiny
horizon: {start: 2026-03-01T00:00:00Z, duration_s: 1d}
tags: {team: a}
fleets:
  - {name: f, instance_type: ml.m5.large, component: RealTimeInference, count: 1}
"""


def test_cli_fires_at_the_closed_form_hour_and_fails_on_breach(tmp_path):
    from smsim import api

    (tmp_path / "s.yaml").write_text(FLEET)
    hourly = api.run_scenario(tmp_path / "s.yaml").summary["total_cost_usd"] / 24
    (tmp_path / "s.yaml").write_text(FLEET + f"budgets:\n  - {{name: m, amount_usd: {2.5 * hourly!r}}}\n")
    result = CliRunner().invoke(app, ["budget", str(tmp_path / "s.yaml"), "--jsonl", "--fail-on-breach"])
    assert result.exit_code == 1, result.output
    (alert,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert alert["fired_at"] == "2026-03-01T03:00:00Z" and alert["crossed_at"] == "2026-03-01T02:30:00Z"
    assert alert["spend_usd"] == pytest.approx(3 * hourly)


def test_cli_run_folder_and_no_breach_exit_0(tmp_path):
    (tmp_path / "s.yaml").write_text(FLEET + "budgets:\n  - {name: m, amount_usd: 1000}\n")
    assert CliRunner().invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "r"),
                                    "--no-store", "-q"]).exit_code == 0
    result = CliRunner().invoke(app, ["budget", str(tmp_path / "r"), "--json", "--fail-on-breach"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["alerts"] == [] and doc["periods"][0]["covered_hours"] == 24


@pytest.mark.parametrize("budgets, line, field", [
    ("  - {name: m}\n", 7, "budgets[0]"),
    ("  - {name: m, amount_usd: 5, thresholds: [{percent: -1}]}\n", 7, "budgets[0].thresholds[0].percent"),
    ("  - name: m\n    amount_usd: 5\n    filters: {tags: {teem: [a]}}\n", 9, "budgets[0].filters.tags.teem"),
    ("  - name: m\n    amount_usd: 5\n    filters:\n      resources: [f, g]\n", 10, "budgets[0].filters.resources[1]"),
    ("  - name: m\n    period: quarter\n    planned:\n      - {start: 2026-04-01, amount_usd: 1}\n"
     "      - {start: 2026-04-01, amount_usd: 2}\n", 11, "budgets[0].planned[1].start"),
])
def test_bad_budgets_exit_2_naming_file_field_and_line(tmp_path, budgets, line, field):
    (tmp_path / "s.yaml").write_text(FLEET + "budgets:\n" + budgets)
    result = CliRunner().invoke(app, ["budget", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    assert f"s.yaml:{line}:" in result.stderr and field in result.stderr


def test_budgets_file_for_a_bill(tmp_path):
    _ledger().to_csv(tmp_path / "bill.csv", index=False)
    (tmp_path / "b.yaml").write_text("budgets:\n  - name: a\n    amount_usd: 42\n    filters: {resources: [a]}\n")
    result = CliRunner().invoke(app, ["budget", str(tmp_path / "bill.csv"), "--budgets", str(tmp_path / "b.yaml"),
                                      "--jsonl"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fired_at"] == "2026-02-01T04:00:00Z"
    (tmp_path / "b.yaml").write_text("budgets:\n  - name: a\n    amount_usd: 42\n    filters: {tags: {owner: [a]}}\n")
    result = CliRunner().invoke(app, ["budget", str(tmp_path / "bill.csv"), "--budgets", str(tmp_path / "b.yaml")])
    assert result.exit_code == 2 and "b.yaml:4:" in result.stderr and "budgets[0].filters.tags.owner" in result.stderr


def test_projection_folder_breach_probability_matches_its_paths(tmp_path):
    from smsim.scenario import load_scenario
    from tests.conftest import SCENARIOS

    out = tmp_path / "p"
    result = CliRunner().invoke(app, ["project", str(SCENARIOS / "projection.yaml"), "--horizon", "2d",
                                      "--paths", "4", "--out", str(out), "--no-store", "--json"])
    assert result.exit_code == 0, result.output
    paths = pd.read_parquet(out / "paths.parquet")
    totals = paths.groupby("path")["spend_usd"].sum().sort_values().to_numpy()
    amount = float((totals[1] + totals[2]) / 2)  # two of four paths above
    assert load_scenario(out / "scenario.resolved.yaml").name == "projection"
    (tmp_path / "b.yaml").write_text(f"budgets:\n  - {{name: t, amount_usd: {amount!r}}}\n")
    result = CliRunner().invoke(app, ["budget", str(out), "--budgets", str(tmp_path / "b.yaml"), "--jsonl",
                                      "--fail-on-breach"])
    (risk,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert risk["breach"]["probability"] == 0.5 and result.exit_code == 1
    assert risk["spend_usd"]["mean"] == pytest.approx(totals.mean(), abs=1e-3)
    assert risk["breach"]["p50_date"] is not None and risk["breach"]["p90_date"] is None
    (tmp_path / "b.yaml").write_text("budgets:\n  - {name: t, amount_usd: 1, filters: {resources: [chat]}}\n")
    result = CliRunner().invoke(app, ["budget", str(out), "--budgets", str(tmp_path / "b.yaml")])
    assert result.exit_code == 2 and "budgets[0]" in result.stderr


@pytest.mark.parametrize("filters, amortized_usd", [
    ({}, 75.0 + 6.0 + 2.5 + 0.5),  # everything: a, b, b's covered usage at 2.5, the unused 0.5 of the fee
    ({"components": ["Training"]}, 75.0),
    ({"instance_types": ["ml.m5.large"]}, 8.5),  # b: 6 x 1 plus 2.5 covered; the fee line has no resource
    ({"instance_types": ["ml.m5.large", "ml.g5.xlarge"]}, 83.5),  # alternatives within one filter
    ({"components": ["Training"], "tags": {"team": ["y"]}}, 0.0),  # all filters must match
    ({"resources": ["b"], "tags": {"team": ["y"]}}, 8.5),
])
def test_filters_select_lines_alternatives_within_and_all_across(filters, amortized_usd):
    spend = hourly_spend(_ledger(), _budget(amount_usd=1, filters=filters).filters, "amortized")
    assert spend.sum() == pytest.approx(amortized_usd)


@pytest.mark.parametrize("period, moment, start, n_periods", [
    ("month", "2026-02-14T05:00:00Z", "2026-02-01", 12),
    ("quarter", "2026-05-31T23:00:00Z", "2026-04-01", 4),
    ("year", "2026-12-31T23:00:00Z", "2026-01-01", 1),
])
def test_calendar_periods(period, moment, start, n_periods):
    from smsim.budgets.periods import period_start, periods_between

    assert period_start(pd.Timestamp(moment), period) == pd.Timestamp(start, tz="UTC")
    year = periods_between(pd.Timestamp("2026-01-01T00:00:00Z"), pd.Timestamp("2027-01-01T00:00:00Z"), period)
    assert len(year) == n_periods and year[-1][1] == pd.Timestamp("2027-01-01", tz="UTC")


def test_yearly_budget_spans_the_month_boundary():
    report = evaluate_ledger(_ledger(), [_budget(period="year", amount_usd=50, filters={"resources": ["a"]})])
    (year,) = report.periods
    assert year["actual_usd"] == pytest.approx(75.0)
    assert report.alerts[0].fired_at == "2026-02-01T01:00:00Z"  # 10 + 20 + 30 = 60 > 50 in the third hour
