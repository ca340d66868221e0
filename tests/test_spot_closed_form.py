"""Managed spot lifecycle against its closed forms (Daly's expected completion time, Young's optimum)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smsim.resources.managed_spot import (
    BUCKET_MAX_MONTHLY_PCT,
    JobParams,
    bucket_rate_per_instance_hour,
    daly_interval_s,
    expected_job,
    optimal_interval_s,
    run_job,
    young_interval_s,
)

N_REPS = 4000


def _sim(p: JobParams, seed: int, n: int = N_REPS):
    rng = np.random.default_rng(seed)
    outs = [run_job(p, rng) for _ in range(n)]
    cols = {
        "elapsed_s": np.array([o.end_s for o in outs]),
        "billable_s": np.array([o.billable_s for o in outs]),
        "training_time_s": np.array([o.training_time_s for o in outs]),
        "interruptions": np.array([o.interruptions for o in outs], dtype=float),
        "lost_work_s": np.array([o.lost_work_s for o in outs]),
    }
    return cols


def _within(sample: np.ndarray, expected: float, z: float = 4.0) -> None:
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(sample.mean() - expected) <= z * se + 1e-9, (sample.mean(), expected, se)


CASES = {
    # Daly's textbook case: no download, restart R = capacity wait + provisioning.
    "daly": JobParams(
        work_s=8 * 3600,
        rate_per_s=1 / 5400,
        checkpoint_interval_s=1800,
        checkpoint_write_s=60,
        provisioning_s=120,
        wait_mean_s=300,
    ),
    # Every (re)start downloads (and restores the checkpoint); the upload is exposed too.
    "download": JobParams(
        work_s=6 * 3600,
        rate_per_s=1 / 3600,
        checkpoint_interval_s=1200,
        checkpoint_write_s=45,
        provisioning_s=180,
        download_s=120,
        upload_s=60,
        wait_mean_s=600,
    ),
    # No checkpoints: every interruption restarts from zero.
    "no_checkpoint": JobParams(
        work_s=2 * 3600,
        rate_per_s=1 / 7200,
        provisioning_s=60,
        download_s=30,
        upload_s=30,
        wait_mean_s=120,
    ),
    # Fixed capacity wait.
    "fixed_wait": JobParams(
        work_s=3 * 3600,
        rate_per_s=1 / 4000,
        checkpoint_interval_s=900,
        checkpoint_write_s=30,
        wait_mean_s=200,
        wait_fixed=True,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_simulated_means_match_closed_form(case):
    p = CASES[case]
    expected = expected_job(p)
    sim = _sim(p, seed=sorted(CASES).index(case) + 11)
    for key in ("elapsed_s", "billable_s", "training_time_s", "interruptions"):
        _within(sim[key], expected[key])


def test_lost_work_matches_closed_form_without_download():
    p = CASES["daly"]
    _within(_sim(p, seed=7)["lost_work_s"], expected_job(p)["lost_work_s"])


def test_daly_segment_formula_is_the_textbook_one():
    lam, tau, c, r = 1 / 5400, 1800.0, 60.0, 420.0
    p = JobParams(
        work_s=tau * 4,
        rate_per_s=lam,
        checkpoint_interval_s=tau,
        checkpoint_write_s=c,
        provisioning_s=r,
    )
    # Three full segments of tau + C, then a last one of tau (no checkpoint after the last).
    textbook = (
        r + 3 * (1 / lam + r) * math.expm1(lam * (tau + c)) + (1 / lam + r) * math.expm1(lam * tau)
    )
    assert expected_job(p)["elapsed_s"] == pytest.approx(textbook, rel=1e-12)


def test_no_interruptions_is_deterministic():
    p = JobParams(
        work_s=3600,
        checkpoint_interval_s=600,
        checkpoint_write_s=10,
        provisioning_s=100,
        download_s=50,
        upload_s=20,
    )
    out = run_job(p, np.random.default_rng(0))
    # 6 segments of 600 s, checkpoints after the first five.
    assert out.runs == [(100.0, 100.0 + 50 + 3600 + 5 * 10 + 20)]
    assert out.status == "Completed" and out.interruptions == 0
    assert expected_job(p)["elapsed_s"] == pytest.approx(out.end_s)


def test_young_and_daly_near_exact_optimum():
    c, lam = 60.0, 1 / (6 * 3600)
    exact = optimal_interval_s(c, lam)
    assert young_interval_s(c, lam) == pytest.approx(math.sqrt(2 * c / lam))
    assert young_interval_s(c, lam) == pytest.approx(exact, rel=0.03)
    assert daly_interval_s(c, lam) == pytest.approx(exact, rel=0.002)


def test_simulated_cost_is_lowest_near_young_optimum():
    lam, c = 1 / 3600, 60.0
    tau_star = young_interval_s(c, lam)
    means = {}
    for factor in (0.2, 1.0, 5.0):
        p = JobParams(
            work_s=10 * 3600,
            rate_per_s=lam,
            checkpoint_interval_s=tau_star * factor,
            checkpoint_write_s=c,
        )
        sim = _sim(p, seed=int(factor * 10), n=1500)["elapsed_s"]
        means[factor] = sim.mean()
        _within(sim, expected_job(p)["elapsed_s"])
    assert means[1.0] < means[0.2] and means[1.0] < means[5.0]


def test_bucket_mapping_uses_upper_bound_per_instance_month():
    for bucket, pct in BUCKET_MAX_MONTHLY_PCT.items():
        assert bucket_rate_per_instance_hour(bucket) == pytest.approx(pct / 100 / 730)
    assert bucket_rate_per_instance_hour(">20%") * 730 == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown spot bucket"):
        bucket_rate_per_instance_hour("30%")


def test_caps_and_savings():
    rng = np.random.default_rng(1)
    never = JobParams(work_s=3600, wait_mean_s=5000, wait_fixed=True, max_wait_s=4000)
    out = run_job(never, rng)
    assert out.status == "MaxWaitTimeExceeded" and out.end_s == 4000 and out.runs == []
    capped = JobParams(work_s=3600, max_runtime_s=1800)
    out = run_job(capped, rng)
    assert out.status == "MaxRuntimeExceeded" and out.billable_s == 1800
    # Waits inside the training time lower billable/training: SageMaker's savings figure.
    p = JobParams(work_s=7200, rate_per_s=1 / 1800, checkpoint_interval_s=600, wait_mean_s=900)
    outs = [run_job(p, rng) for _ in range(200)]
    for o in outs:
        assert o.savings_pct == pytest.approx((1 - o.billable_s / o.training_time_s) * 100)
        assert o.billable_s <= o.training_time_s + 1e-9
    assert max(o.savings_pct for o in outs) > 0
