"""Hyperparameter tuning jobs: closed-form cost and wall time, launch and stopping rules as
tables, completion criteria and warm start on hand-made trial logs, spot trials against the
closed form, and bad input ending in exit 2."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from smsim import api
from smsim.cli import app
from smsim.pricing.catalog import load_catalog
from smsim.resources.managed_spot import JobParams, expected_job
from smsim.resources.tuning.search import (
    TrialTimes,
    best_trial,
    completion_time,
    hyperband_brackets,
    hyperband_stop,
    launch_offsets,
)
from smsim.scenario import load_scenario

RATE = 0.23  # ml.m5.xlarge, Training, us-east-1 (data/pricing/ondemand.csv)


def scenario(tmp_path, job: str, horizon: str = "3d", files: dict | None = None):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "s.yaml"
    path.write_text(f"name: t\nhorizon: {{duration_s: {horizon}}}\ntuning_jobs:\n" + textwrap.indent(job, "  "))
    return path


BASE = """\
- kind: tuning
  name: hpo
  trigger: {kind: once, at_s: [0]}
  instance_type: ml.m5.xlarge
  provisioning_s: 0
  download_s: 0
  upload_s: 0
  volume_gb: 0
"""


def run(tmp_path, extra: str, **kw):
    result = api.run_scenario(load_scenario(scenario(tmp_path, BASE + textwrap.indent(extra, "  "), **kw)))
    (res,) = result.summary["resources"]
    return res, result


@pytest.mark.parametrize("strategy", ["random", "bayesian"])
@pytest.mark.parametrize("parallel", [1, 3, 10])
def test_fixed_trials_closed_form(tmp_path, strategy, parallel):
    # N = 10 trials of 1 h: wall = ceil(N / P) h, cost = N x 1 h x $0.23
    res, result = run(tmp_path, f"strategy: {strategy}\nmax_trials: 10\nmax_parallel_trials: {parallel}\n"
                                "trial_duration: {mean_s: 1h}\n")
    assert res["mean_wall_time_h"] == pytest.approx(math.ceil(10 / parallel))
    assert res["cost_usd"] == pytest.approx(10 * 1.0 * RATE)
    assert res["instance_hours"] == pytest.approx(10.0)
    usage = result.usage
    assert set(usage["component"]) == {"Training"} and set(usage["resource_kind"]) == {"tuning"}


def test_cost_is_sum_of_trial_instance_seconds_times_rate(tmp_path):
    res, result = run(tmp_path, "strategy: random\nmax_trials: 12\nmax_parallel_trials: 4\ninstance_count: 2\n"
                                "trial_duration: {distribution: lognormal, mean_s: 40m, cv: 0.5}\n")
    inst = result.usage[result.usage.usage_kind == "instance"]
    seconds = float(((inst.end_s - inst.start_s) * inst.quantity).sum())
    assert len(inst) == 12 and (inst.quantity == 2).all()
    assert res["cost_usd"] == pytest.approx(seconds * RATE / 3600.0)


@pytest.mark.parametrize("durations, batched, starts", [
    ([3, 1, 1, 1], False, [0, 0, 1, 2]),  # a trial starts when any slot frees
    ([3, 1, 1, 1], True, [0, 0, 3, 3]),  # Bayesian: the next batch waits for the whole batch
    ([1, 1, 1, 1, 1], False, [0, 0, 1, 1, 2]),
    ([2, 2, 2], True, [0, 0, 2]),
])
def test_launch_offsets_table(durations, batched, starts):
    assert launch_offsets(durations, 2, batched) == starts


def test_hyperband_brackets_and_rungs():
    assert hyperband_brackets(1, 9, 3) == [[1 / 9, 3 / 9], [3 / 9], []]
    assert hyperband_brackets(1, 81, 3)[0] == [1 / 81, 3 / 81, 9 / 81, 27 / 81]
    assert hyperband_brackets(5, 5, 3) == [[]]


@pytest.mark.parametrize("score, expected", [(5, None), (3, 1 / 9), (7, None), (6, 1 / 3), (1, 1 / 9)])
def test_hyperband_stop_sequence(score, expected):
    # One bracket with rungs at 1/9 and 1/3, eta 3, trials arriving 5, 3, 7, 6, 1 (keep ceil(n/3)).
    records = [[], []]
    for s in (5, 3, 7, 6, 1):
        stop = hyperband_stop(s, [1 / 9, 1 / 3], records, 3)
        if s == score:
            assert stop == expected
            return


def test_hyperband_compute_matches_successive_halving_theory():
    # With i.i.d. objectives a trial passes a rung with probability 1/eta, so in bracket 0 of
    # (1, 9, eta 3) a trial trains 2/3 x 1/9 + 1/3 x 2/3 x 3/9 + 1/9 x 1 = 7/27 of a full trial,
    # in bracket 1 2/3 x 1/3 + 1/3 = 5/9, in bracket 2 all of it.
    rng = np.random.default_rng(3)
    brackets = hyperband_brackets(1, 9, 3)
    records = [[[] for _ in rungs] for rungs in brackets]
    trained = np.array([hyperband_stop(float(rng.uniform()), brackets[j % 3], records[j % 3], 3) or 1.0
                        for j in range(6000)])
    for b, theory in enumerate([7 / 27, 5 / 9, 1.0]):
        part = trained[b::3]
        assert abs(part.mean() - theory) <= 4 * part.std() / math.sqrt(part.size) + 1e-12


def test_hyperband_trials_stop_only_at_rungs(tmp_path):
    res, result = run(tmp_path, "strategy: hyperband\nmax_trials: 30\nmax_parallel_trials: 5\n"
                                "trial_duration: {mean_s: 9h}\nhyperband: {min_resource: 1, max_resource: 9}\n",
                      horizon="30d")
    inst = result.usage[result.usage.usage_kind == "instance"]
    hours = sorted(set(np.round((inst.end_s - inst.start_s) / 3600.0, 9)))
    assert set(hours) <= {1.0, 3.0, 9.0} and 1.0 in hours and 9.0 in hours
    assert res["trials_stopped_early"] == int((np.round((inst.end_s - inst.start_s) / 3600.0) < 9).sum())
    assert res["cost_usd"] == pytest.approx(float((inst.end_s - inst.start_s).sum()) / 3600 * RATE)


def test_early_stopping_on_and_off(tmp_path):
    job = ("strategy: random\nmax_trials: 400\nmax_parallel_trials: 20\ntrial_duration: {mean_s: 1h}\n")
    off, _ = run(tmp_path, job, horizon="10d")
    on, _ = run(tmp_path, job + "early_stopping: {stopped_fraction: 0.5, stop_at_min_fraction: 0.25, "
                                "stop_at_max_fraction: 0.25}\n", horizon="10d")
    assert off["cost_usd"] == pytest.approx(400 * RATE) and off["trials_stopped_early"] == 0
    k = on["trials_stopped_early"]
    assert abs(k - 200) < 4 * math.sqrt(400 * 0.25)  # binomial(400, 0.5)
    assert on["cost_usd"] == pytest.approx((400 - k * 0.75) * RATE)  # a stopped trial runs 15 of 60 min
    assert on["mean_best_objective"] == off["mean_best_objective"]  # the best trial is never stopped


LOG = "TrainingJobName,TrainingJobStatus,FinalObjectiveValue,TrainingElapsedTimeSeconds\n" + "".join(
    f"t{i},Completed,{v},3600\n" for i, v in enumerate([0.5, 0.7, 0.9, 0.6, 0.95]))


@pytest.mark.parametrize("parallel, criteria, trials, best, t_best_h", [
    (1, "{target_objective: 0.9}", 3, 0.9, 3.0),  # the third trial reaches the target at 3 h
    (2, "{target_objective: 0.9}", 4, 0.9, 2.0),  # ends at 2 h with trials 3 and 4 done; 5 never starts
    (1, "{max_trials_not_improving: 1}", 4, 0.9, 3.0),  # 0.6 after 0.9 does not improve: stop at 4 h
    (5, "{target_objective: 0.99}", 5, 0.95, 1.0),
])
def test_completion_criteria_on_a_trial_log(tmp_path, parallel, criteria, trials, best, t_best_h):
    res, _ = run(tmp_path, f"strategy: random\nmax_trials: 5\nmax_parallel_trials: {parallel}\n"
                           f"trial_log: {{path: log.csv}}\ncompletion: {criteria}\n", files={"log.csv": LOG})
    assert res["trials"] == trials
    assert res["cost_usd"] == pytest.approx(trials * RATE)
    assert res["mean_best_objective"] == pytest.approx(best)
    assert res["mean_time_to_best_h"] == pytest.approx(t_best_h)


def test_max_runtime_stops_the_job(tmp_path):
    # 10 trials of 1 h, 3 at a time, stopped at 2.5 h: trials start at 0, 0, 0, 1, 1, 1, 2, 2, 2 h
    # (the tenth would start at 3 h); the three started at 2 h are stopped after 30 min
    res, _ = run(tmp_path, "strategy: random\nmax_trials: 10\nmax_parallel_trials: 3\n"
                           "trial_duration: {mean_s: 1h}\nmax_runtime_s: 2h30m\n")
    assert (res["trials"], res["trials_cut_by_completion"]) == (9, 3)
    assert res["cost_usd"] == pytest.approx((6 + 3 * 0.5) * RATE)
    assert res["mean_wall_time_h"] == pytest.approx(2.5)


def test_completion_and_best_pure():
    trials = [TrialTimes(0, 1, 0.5), TrialTimes(0, 2, None), TrialTimes(1, 3, 0.8)]
    assert completion_time(trials, -math.inf, 0.8, None) == 3
    assert completion_time(trials, -math.inf, None, 1) == 2  # a stopped trial does not improve
    assert completion_time(trials, -math.inf, None, None) == math.inf
    assert best_trial(trials, math.inf, -math.inf) == (2, 3)
    assert best_trial(trials, 2.5, -math.inf) == (0, 1)
    assert best_trial(trials, math.inf, 0.9) == (None, 0.0)  # the warm-start parents' best stands


def test_warm_start_reaches_a_no_improvement_stop_sooner(tmp_path):
    job = ("strategy: bayesian\nmax_trials: 40\nmax_parallel_trials: 1\ntrial_duration: {mean_s: 1h}\n"
           "completion: {max_trials_not_improving: 3}\n")
    cold, _ = run(tmp_path, job)
    warm, _ = run(tmp_path, job + "warm_start: {parent_trials: 1000}\n")
    assert warm["trials"] == 3 and warm["mean_time_to_best_h"] == 0.0  # no trial beats 1,000 parents
    assert cold["trials"] > 3
    assert warm["cost_usd"] == pytest.approx(3 * RATE)


def test_spot_trials_match_the_managed_spot_closed_form(tmp_path):
    spot = ("market: Spot\nspot: {interruption_rate_per_instance_hour: 0.5, checkpoint_interval_s: 10m, "
            "checkpoint_write_s: 0, capacity_wait: {distribution: fixed, mean_s: 0}}\n")
    res, result = run(tmp_path, "strategy: random\nmax_trials: 600\nmax_parallel_trials: 50\n"
                                "trial_duration: {mean_s: 1h}\n" + spot, horizon="30d")
    inst = result.usage[result.usage.usage_kind == "instance"]
    assert set(inst["market"]) == {"Spot"}
    assert int(result.series["hpo"]["trials_launched"].iloc[0]) == 600
    expected = expected_job(JobParams(work_s=3600, rate_per_s=0.5 / 3600, checkpoint_interval_s=600))
    mean_billable_s = res["instance_hours"] * 3600 / 600
    # A trial bills 1 h plus the work lost to its interruptions (Poisson, ~0.6 per trial, each
    # losing under one 10-min segment): its sd is under 500 s, so the mean over 600 trials has a
    # standard error under 21 s (0.6 %); 2.5 % is over 4 standard errors.
    assert mean_billable_s == pytest.approx(expected["billable_s"], rel=0.025)
    n_int = expected["interruptions"] * 600  # Poisson count: 4 sd = 4 sqrt(n)
    assert abs(res["interruptions"] - n_int) < 4 * math.sqrt(n_int)
    spot_rate = load_catalog().spot_usd_per_hour("ml.m5.xlarge", "Training", "us-east-1")
    assert spot_rate < RATE and res["cost_usd"] == pytest.approx(res["instance_hours"] * spot_rate)


def test_bad_input_exits_2_naming_field_and_line(tmp_path):
    path = scenario(tmp_path, BASE + "  strategy: hyperband\n  max_trials: 5\n  trial_duration: {mean_s: 1h}\n"
                    "  hyperband: {max_resource: 9}\n  early_stopping: {stopped_fraction: 0.3}\n")
    out = CliRunner().invoke(app, ["run", str(path)])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert "s.yaml:4" in out.output and "tuning_jobs[0]" in out.output and "early stopping OFF" in out.output


def test_bad_trial_log_row_exits_2_naming_its_line(tmp_path):
    log = "duration_s,objective,status\n3600,0.5,Completed\n-5,0.6,Completed\n"
    path = scenario(tmp_path, BASE + "  max_trials: 2\n  trial_log: {path: log.csv}\n", files={"log.csv": log})
    out = CliRunner().invoke(app, ["run", str(path)])
    assert out.exit_code == 2 and "log.csv:3" in out.output and "duration_s" in out.output
    short = scenario(tmp_path, BASE + "  max_trials: 9\n  trial_log: {path: log.csv}\n",
                     files={"log.csv": "duration_s,objective\n3600,0.5\n"})
    out = CliRunner().invoke(app, ["validate", str(short)])
    assert out.exit_code == 2 and "s.yaml:" in out.output and "trial_log.path" in out.output and "1 rows" in out.output


def test_bundled_trial_log_variant_bills_the_logged_trials():
    import pandas as pd

    from smsim.scenario.variants import load_variants
    from tests.conftest import SCENARIOS

    (arm,) = [v for v in load_variants(SCENARIOS / "tuning_hpo.yaml") if v.name == "from-trial-log"]
    res = api.run_scenario(arm.scenario).summary["resources"][0]
    log = pd.read_csv(SCENARIOS / "data" / "example_tuning_trials.csv")
    # four weekly jobs each replay the 40 logged trials: logged training time plus 60 s download
    # and 30 s upload per trial are billed (provisioning is not)
    per_job_s = log["TrainingElapsedTimeSeconds"].sum() + 40 * (60 + 30)
    assert res["jobs"] == 4 and res["trials"] == 160
    assert res["instance_hours"] == pytest.approx(4 * per_job_s / 3600)
    assert res["trials_stopped_early"] == 4 * int((log["TrainingJobStatus"] == "Stopped").sum())
    best = log.loc[log["TrainingJobStatus"] == "Completed", "FinalObjectiveValue"].max()
    assert res["mean_best_objective"] == pytest.approx(best)
