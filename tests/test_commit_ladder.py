"""Laddered purchasing: the rule by hand, against a brute-force replay, and on a shrinking fleet."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from smsim.cli import app
from smsim.commit.api import recommend_commitment
from smsim.commit.economics import PlanTerms
from smsim.commit.ladder import evaluate_ladder, first_tranche
from smsim.commit.sizing import optimal_commitment

runner = CliRunner()


def test_ladder_by_hand():
    # d = 0.5. History ends at 2 USD/h; usage 3, then 5, then 4 USD/h, 4 hours each; reviews
    # every 4 h. First tranche 1 USD/h (covers 2). Hour 4: usage grew (3 >= 2), the last 4 h
    # support 1.5 -> buy 0.5. Hour 8: grew (5 >= 3), support 2.5 -> buy 1.0.
    # Savings: 4 * (2 - 1) + 4 * (3 - 1.5) + 4 * (4 - 2.5) = 4 + 6 + 6 = 16.
    terms = PlanTerms(discount=0.5)
    u = np.repeat([3.0, 5.0, 4.0], 4)
    lad = evaluate_ladder(u, np.full(8, 2.0), 1.0, 4, terms)
    assert list(lad.review_hours) == [4, 8]
    assert lad.purchases_usd_per_hour[0] == pytest.approx([1.0, 0.5, 1.0])
    assert lad.outcome.savings_usd[0] == pytest.approx(16.0)
    assert lad.final_usd_per_hour[0] == pytest.approx(2.5) and lad.tranches[0] == 3
    # the best single commitment in hindsight covers 4 (the 0.5-quantile): 12 + 16 + 16 - 24 = 20
    assert optimal_commitment(u, terms).expected_savings_usd == pytest.approx(20.0)
    # paid all upfront at no cost of capital, each tranche's 12 - start hours are paid at purchase:
    # the same 16 saved, and the whole commitment, 1 * 12 + 0.5 * 8 + 1 * 4 = 20, is paid upfront
    upfront = evaluate_ladder(u, np.full(8, 2.0), 1.0, 4, PlanTerms(discount=0.5, upfront_fraction=1.0))
    assert upfront.outcome.savings_usd[0] == pytest.approx(16.0)
    assert upfront.outcome.commitment_usd[0] == pytest.approx(20.0)
    # at 10 % a year the later tranches' upfront is worth less today: savings rise by the discounting
    dear = evaluate_ladder(u, np.full(8, 2.0), 1.0, 4,
                           PlanTerms(discount=0.5, upfront_fraction=1.0, cost_of_capital_per_year=0.1))
    pv = lambda h: 1.1 ** (-h / 8760)  # noqa: E731
    w = 1.1 ** (-730 / 8760)  # every hour here is billed at the end of month 1
    covered = 4 * 2 + 4 * 3 + 4 * 4
    assert dear.outcome.savings_usd[0] == pytest.approx(w * covered - (12 * 1.0 + 8 * 0.5 * pv(4) + 4 * 1.0 * pv(8)))


def _best_over_window(w: np.ndarray, d: float) -> float:
    """Brute force: the commitment maximising sum min(w, x) - (1 - d) x len(w) over breakpoints x."""
    xs = np.concatenate([[0.0], np.unique(w)])
    vals = [np.minimum(w, x).sum() - (1 - d) * x * len(w) for x in xs]
    return (1 - d) * float(xs[int(np.argmax(np.round(vals, 9)))])


def _replay(history, u, first, every, d):
    """Hour-by-hour replay of the rule, independent of the library's loop and optimum."""
    held, total = first, 0.0
    full = np.concatenate([history[-every:], u])
    off = min(len(history), every)
    for t in range(len(u)):
        if t and t % every == 0:
            last = full[off + t - every : off + t]
            before = full[max(0, off + t - 2 * every) : off + t - every]
            if not len(before) or last.mean() >= before.mean():
                held = max(held, _best_over_window(last, d))
        total += min(u[t], held / (1 - d)) - held
    return total


@settings(max_examples=60, deadline=None)
@given(
    usage=st.lists(st.integers(0, 12), min_size=7, max_size=16),
    history=st.lists(st.integers(0, 12), min_size=1, max_size=6),
    every=st.integers(2, 4),
    first=st.sampled_from([0.0, 1.0, 2.5]),
    d=st.sampled_from([0.2, 0.44, 0.5]),
)
def test_ladder_equals_brute_force_replay(usage, history, every, first, d):
    u, h = np.array(usage, float), np.array(history, float)
    lad = evaluate_ladder(u, h, first, every, PlanTerms(discount=d))
    assert lad.outcome.savings_usd[0] == pytest.approx(_replay(h, u, first, every, d), abs=1e-9)
    # a ladder never sells: the schedule of held commitment is non-decreasing
    assert (lad.purchases_usd_per_hour >= 0).all()


def test_vectorised_over_paths_matches_one_by_one():
    rng = np.random.default_rng(4)
    paths = rng.gamma(3.0, 2.0, size=(6, 400)) * np.linspace(1, 1.6, 400)
    hist = rng.gamma(3.0, 2.0, size=200)
    terms = PlanTerms.of(0.3, "1y", "partial-upfront", 0.08)
    together = evaluate_ladder(paths, hist, 2.0, 96, terms)
    for p in range(6):
        alone = evaluate_ladder(paths[p], hist, 2.0, 96, terms)
        assert together.outcome.savings_usd[p] == pytest.approx(alone.outcome.savings_usd[0])
        assert together.purchases_usd_per_hour[p] == pytest.approx(alone.purchases_usd_per_hour[0])


D = 0.3
# 721 hours falling linearly from 100 to 50 USD/h: sorted, the values are 50 + 50 j / 720. The
# best single commitment covers the smallest value with at most (1 - d) * 721 = 504.7 hours above
# it: j = 216, i.e. 65 USD/h = 50 + 50 d, the closed form for a linear decline; it costs 0.7 * 65.
DECLINE = 100.0 - 50.0 * np.arange(721) / 720
DECLINE_HISTORY = 100.0 + 50.0 * np.arange(1, 721)[::-1] / 720
CLOSED_FORM_C = (1 - D) * (50.0 + 50.0 * D)


def test_first_tranche_on_one_path_is_its_closed_form_optimum():
    terms = PlanTerms(discount=D)
    assert CLOSED_FORM_C == pytest.approx(45.5)
    for q in (0.0, 0.25, 0.9):
        assert first_tranche(DECLINE[None, :], terms, q) == pytest.approx(CLOSED_FORM_C)
    # and the quantile across paths: per-path optima of scaled copies are scaled optima
    scaled = DECLINE[None, :] * np.array([[0.5], [1.0], [2.0]])
    assert first_tranche(scaled, terms, 0.0) == pytest.approx(0.5 * CLOSED_FORM_C)
    assert first_tranche(scaled, terms, 0.5) == pytest.approx(CLOSED_FORM_C)


def test_shrinking_fleet_ladder_buys_nothing_more_and_matches_hindsight():
    # Given the decline as its (only) forecast path, the recommendation and the ladder's first
    # tranche are the closed-form optimum, and the ladder, seeing usage fall at every review,
    # buys nothing more: it realizes exactly the hindsight optimum.
    res = recommend_commitment(DECLINE_HISTORY, discount=D, horizon_hours=721, paths=DECLINE[None, :],
                               model="given", actual=DECLINE, ladder_every_hours=168, stage_at_hours=None)
    assert res.recommended_usd_per_hour == pytest.approx(CLOSED_FORM_C)
    assert res.ladder["first_usd_per_hour"] == pytest.approx(CLOSED_FORM_C)
    ev = res.evaluation
    assert ev["ladder"]["tranches"] == [{"hour": 0, "usd_per_hour": pytest.approx(CLOSED_FORM_C)}]
    assert ev["ladder"]["share_of_hindsight_savings"] == pytest.approx(1.0)
    # covered: 65 in the 505 hours above it plus the 216 values 50 + 50 j / 720 (j < 216) below:
    # 32,825 + 12,412.5; paid 0.7 * 65 * 721 = 32,805.5; saved 12,432
    assert ev["ladder"]["realized_savings_usd"] == pytest.approx(12432.0)
    # the 7-day lookback commits to the last week of the history (above 100 USD/h): 15 % of that
    assert ev["lookback_7d"]["share_of_hindsight_savings"] < 0.2


def test_growing_fleet_ladder_follows_growth_a_review_late():
    # steps of +10 USD/h every week from 50; flat forecast at 50: the first tranche covers 50,
    # then every weekly review tops up to the week just ended.
    weeks = 4
    u = np.repeat(50.0 + 10.0 * np.arange(weeks), 168)
    terms = PlanTerms(discount=D)
    lad = evaluate_ladder(u, np.full(168, 50.0), (1 - D) * 50.0, 168, terms)
    assert lad.purchases_usd_per_hour[0] == pytest.approx((1 - D) * np.array([50.0, 0.0, 10.0, 10.0]))
    # covered: 50 in weeks 1-2, 60 in week 3, 70 in week 4; each covered dollar saves d
    assert lad.outcome.savings_usd[0] == pytest.approx(D * 168 * (50 + 50 + 60 + 70))


def test_cli_ladder_option(tmp_path):
    import pandas as pd

    t = np.arange(24 * 21)
    idx = pd.date_range("2026-01-01", periods=len(t), freq="h", tz="UTC")
    u = 20 + 3 * np.sin(2 * np.pi * t / 24) + 0.01 * t
    p = tmp_path / "u.csv"
    pd.DataFrame({"timestamp": idx.strftime("%Y-%m-%dT%H:%M:%SZ"), "ondemand_usd": u.round(3)}).to_csv(p, index=False)
    ok = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--horizon", "30d", "--paths", "20",
                             "--ladder-every", "7d", "--stage-at", "0", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["ladder"]["every_hours"] == 168
    assert doc["ladder"]["first_usd_per_hour"] <= doc["recommended_commitment_usd_per_hour"] + 1e-9
    for bad_value, match in (("soon", "duration"), ("-1d", "duration")):
        bad = runner.invoke(app, ["commit", str(p), "--discount", "0.3", "--paths", "5", "--ladder-every", bad_value])
        assert bad.exit_code == 2 and match in bad.output and "--ladder-every" in bad.output


def test_no_ladder_when_off_or_longer_than_the_horizon():
    u = 10 + np.random.default_rng(1).gamma(2.0, 1.0, 24 * 20)
    kw = dict(discount=0.3, horizon_hours=24 * 10, n_paths=10, model="commit-seasonal-bootstrap")
    assert recommend_commitment(u, ladder_every_hours=0, **kw).ladder is None
    long = recommend_commitment(u, ladder_every_hours=24 * 10, **kw)
    assert long.ladder is None and any("no ladder" in n for n in long.notes)
    with pytest.raises(Exception, match="ladder"):
        recommend_commitment(u, ladder_every_hours=-5, **kw)
