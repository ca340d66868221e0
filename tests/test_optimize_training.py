"""The training search equals exhaustive search, its bounds hold on every candidate, and the CLI."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from smsim.api import catalog_for
from smsim.cli import app
from smsim.errors import InputError
from smsim.optimize.api import optimize
from smsim.optimize.training.bounds import bounds
from smsim.optimize.training.objectives import parse_objective
from smsim.optimize.training.search import exhaustive_training, search_training
from smsim.optimize.training.space import build_training_space
from smsim.scenario.schema import Scenario


def _scenario(deadline: str = "mean_job_elapsed_hours<=3", fallback: str = "on-demand",
              completion: float | None = 0.75, max_wait: str = "12h") -> Scenario:
    training = {
        "job": "ft", "markets": ["OnDemand", "Spot"], "checkpoint_interval_s": ["10m", "1h", "none"],
        "instance_count": [1, 2, 4], "instance_types": {"ml.g5.12xlarge": 1.0, "ml.g6.12xlarge": 0.85},
        "spot": {"checkpoint_write_s": 60, "interruption_rate_per_instance_hour": 0.08,
                 "capacity_wait": {"mean_s": "30m"}, "max_wait_s": max_wait, "fallback": fallback},
        "deadline": deadline,
    }
    if completion is not None:
        training["completion_rate"] = completion
    return Scenario.model_validate({
        "name": "opt-train", "horizon": {"start": "2026-01-01T00:00:00Z", "duration_s": "6d"}, "seed": 3,
        "training_jobs": [{
            "name": "ft", "trigger": {"kind": "cron", "cron": "0 20 * * *"}, "instance_type": "ml.g5.12xlarge",
            "instance_count": 1, "work_reference_instance_hours": 6, "work_cv": 0.2,
            "scaling": {"serial_fraction": 0.02}, "max_runtime_s": "8h", "checkpoint_gb": 5,
        }],
        "optimize": {"training": training},
    })


CASES = {
    "feasible": {},
    "no-fallback": {"fallback": "none", "max_wait": "9h", "completion": 1.0},
    "tight": {"deadline": "max_job_elapsed_hours<=2.5"},
    "infeasible": {"deadline": "mean_job_elapsed_hours<=1"},
}
_EXHAUSTIVE: dict[str, tuple] = {}


def _pair(case: str):
    if case not in _EXHAUSTIVE:
        sc = _scenario(**CASES[case])
        space = build_training_space(sc, sc.optimize.training, catalog_for(sc))
        _EXHAUSTIVE[case] = (sc, space, exhaustive_training(sc, space))
    return _EXHAUSTIVE[case]


@pytest.mark.parametrize("case", list(CASES))
def test_search_equals_exhaustive(case):
    sc, space, ref = _pair(case)
    got = search_training(sc, space, catalog=catalog_for(sc))
    assert got.status == ref.status
    if ref.best is None:
        assert got.best is None
        assert got.closest().candidate.index == ref.closest().candidate.index
    else:
        assert got.best.candidate.index == ref.best.candidate.index
        assert got.best.rank_key == ref.best.rank_key
    assert got.n_simulations < len(space) or case == "infeasible"


@pytest.mark.parametrize("case", list(CASES))
def test_bounds_hold_on_every_candidate(case):
    sc, space, ref = _pair(case)
    cat = catalog_for(sc)
    for e in ref.evaluations:
        b = bounds(sc, space, e.candidate, cat, space.objectives)
        for metric, lb in b.elapsed_lb.items():
            assert e.metrics[metric] >= lb - 1e-9, (e.candidate.label(), metric)
        if e.feasible or not any(o.metric == "completion_rate" for o in space.objectives):
            assert e.cost_usd >= b.cost_lb, e.candidate.label()


def test_space_is_the_product():
    sc, space, _ = _pair("feasible")
    assert len(space) == 2 * (1 + 3) * 3
    labels = [c.label() for c in space.candidates]
    assert labels[0] == "ml.g5.12xlarge x1 OnDemand" and "ml.g6.12xlarge x4 Spot no checkpoints" in labels


@pytest.mark.parametrize(("text", "metric", "op", "value"), [
    ("mean_job_elapsed_hours<=6", "mean_job_elapsed_hours", "<=", 6.0),
    ("completion_rate >= 99%", "completion_rate", ">=", 0.99), ("p95_job_elapsed_hours<7.5", "p95_job_elapsed_hours", "<", 7.5),
])
def test_parse_objective(text, metric, op, value):
    o = parse_objective(text)
    assert (o.metric, o.op) == (metric, op) and o.value == pytest.approx(value)


def test_unknown_type_without_speed_and_unknown_metric_are_input_errors():
    sc = _scenario()
    ts = sc.optimize.training.model_copy(update={"instance_types": ["ml.g6.12xlarge"]})
    with pytest.raises(InputError, match="speed factor"):
        build_training_space(sc, ts, catalog_for(sc))
    ts = sc.optimize.training.model_copy(update={"deadline": "mean_job_elapsd_hours<=3", "instance_count": [4],
                                                 "markets": ["OnDemand"], "instance_types": {"ml.g5.12xlarge": 1.0}})
    with pytest.raises(InputError, match="unknown metric"):
        optimize(sc, {"training": ts.model_dump()})


def _write(tmp_path, sc: Scenario):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(json.loads(sc.model_dump_json(exclude_none=True)), sort_keys=False))
    return p


def test_cli_best_runners_up_rejected_and_out(tmp_path):
    _, _, ref = _pair("feasible")
    p = _write(tmp_path, _scenario())
    res = CliRunner().invoke(app, ["optimize", str(p), "--out", str(tmp_path / "o")], terminal_width=250)
    assert res.exit_code == 0, res.output
    assert f"best: ft on {ref.best.candidate.label()}" in res.output
    assert "runners-up" in res.output
    best = yaml.safe_load((tmp_path / "o" / "best.yaml").read_text())
    job = best["training_jobs"][0]
    assert job["instance_type"] == ref.best.candidate.instance_type and job["market"] == ref.best.candidate.market
    assert "optimize" not in best or best["optimize"] is None
    doc = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert doc["kind"] == "training" and doc["best"]["candidate"]["index"] == ref.best.candidate.index
    assert all(r["cost_usd"] <= ref.best.cost_usd for r in doc["rejected_cheaper"])


def test_cli_infeasible_names_closest(tmp_path):
    _, _, ref = _pair("infeasible")
    p = _write(tmp_path, _scenario(**CASES["infeasible"]))
    res = CliRunner().invoke(app, ["optimize", str(p), "--json"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.output)
    assert doc["status"] == "infeasible" and doc["best"] is None
    assert doc["closest"]["candidate"]["index"] == ref.closest().candidate.index
    assert doc["closest"]["missed"]
