"""Model quality beside cost: the quality-cost frontier against brute force, and min_quality."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from typer.testing import CliRunner

from smsim.api import catalog_for, run_scenario
from smsim.cli import app
from smsim.errors import InputError
from smsim.optimize.api import optimize, resolve_spec
from smsim.optimize.quality import frontier_rows, per_model_best, quality_pareto
from smsim.optimize.search import exhaustive, search
from smsim.optimize.space import build_space
from smsim.scenario.schema import Scenario

# service time falls as quality falls, except the pruned model, slower than the distilled one
MODELS = {
    "fp16": (0.92, {"kind": "lognormal", "median_s": 0.09, "p99_s": 0.22}),
    "int8": (0.90, {"kind": "lognormal", "median_s": 0.05, "p99_s": 0.14}),
    "distilled": (0.85, {"kind": "lognormal", "median_s": 0.025, "p99_s": 0.07}),
    "pruned": (0.80, {"kind": "lognormal", "median_s": 0.04, "p99_s": 0.1}),
}
SPACE = {"models": list(MODELS), "instance_types": ["ml.g4dn.xlarge"],
         "instance_count": {"min": 1, "max": 8}, "sla": "p99<=400ms", "fidelity": "fluid"}


def scenario(seed: int = 1, rate: float = 40.0, qualities: bool = True) -> Scenario:
    return Scenario(
        name="q", horizon={"duration_s": "15m"}, seed=seed, fidelity="fluid",
        models=[{"name": n, "latency": {"*": p}, **({"quality": q, "quality_metric": "accuracy"} if qualities else {})}
                for n, (q, p) in MODELS.items()],
        endpoints=[{"kind": "realtime", "name": "ep", "model": "fp16", "instance_type": "ml.g5.xlarge",
                    "workload": {"kind": "poisson", "rate_per_s": rate}}],
    )


def brute_pareto(points: list[tuple[float, float]]) -> set[tuple[float, float]]:
    """Points no other point dominates (no more expensive, no worse, better in one)."""
    def dominated(p):
        return any(q[0] <= p[0] and q[1] >= p[1] and q != p for q in points)
    return {p for p in points if not dominated(p)}


@pytest.mark.parametrize("seed", range(20))
def test_pareto_sweep_equals_brute_force_on_random_points(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 25))
    pts = [(float(rng.integers(0, 8)), float(rng.integers(0, 5))) for _ in range(n)]  # many ties
    front = quality_pareto(list(range(n)), lambda i: pts[i][0], lambda i: pts[i][1], lambda i: i)
    assert {pts[i] for i in front} == brute_pareto(pts)
    assert len(front) == len({pts[i] for i in front})  # one configuration per frontier point
    costs = [pts[i][0] for i in front]
    assert costs == sorted(costs)


@pytest.mark.parametrize(("seed", "rate"), [(1, 30.0), (5, 60.0)])
def test_quality_frontier_equals_brute_force_over_every_configuration(seed, rate):
    sc = scenario(seed, rate)
    spec = resolve_spec(sc, SPACE)
    catalog = catalog_for(sc)
    space = build_space(sc, spec, catalog)
    everything = exhaustive(sc, space, fidelity="fluid")
    quality = {n: q for n, (q, _) in MODELS.items()}
    points = [(round(e.cost_usd, 6), quality[e.candidate.model]) for e in everything.evaluations if e.feasible]
    expected = brute_pareto(points)
    answer = search(sc, space, fidelity="fluid", catalog=catalog)
    front, rows = frontier_rows(sc, per_model_best(sc, space, answer, fidelity="fluid", catalog=catalog))
    assert {(round(r["cost_usd"], 6), r["quality"]) for r in front} == expected
    assert len(rows) == len(MODELS)
    # the cheapest configuration overall is on the frontier, and the pruned model never is
    assert front[0]["index"] == everything.best.candidate.index
    assert "pruned" not in {r["model"] for r in front}


def test_min_quality_leaves_out_variants_and_says_so():
    sc = scenario()
    result = optimize(sc, {**SPACE, "min_quality": 0.9})
    doc = result.to_dict()
    assert {r["model"] for r in doc["quality_by_model"]} == {"fp16", "int8"}
    assert result.result.best.candidate.model in ("fp16", "int8")
    assert any("distilled (0.85)" in n and "pruned (0.8)" in n for n in doc["notes"])
    free = optimize(sc, SPACE).to_dict()
    assert free["best"]["cost_usd"] <= doc["best"]["cost_usd"]


def test_min_quality_needs_declared_qualities():
    with pytest.raises(InputError, match="'fp16', 'int8', 'distilled', 'pruned' do not"):
        optimize(scenario(qualities=False), {**SPACE, "min_quality": 0.9})
    with pytest.raises(InputError, match="no model variant reaches min_quality 0.99; the best is 'fp16'"):
        optimize(scenario(), {**SPACE, "min_quality": 0.99})


def test_qualities_on_different_metrics_are_refused():
    sc = scenario()
    models = [m.model_copy(update={"quality_metric": "AUC"}) if m.name == "int8" else m for m in sc.models]
    with pytest.raises(InputError, match=r"different metrics \(AUC, accuracy\)"):
        optimize(sc.model_copy(update={"models": models}), SPACE)


def test_runs_report_the_served_model_quality():
    summary = run_scenario(scenario()).summary
    ep = next(r for r in summary["resources"] if r["resource_id"] == "ep")
    assert ep["model_quality"] == 0.92


def test_derived_from_must_name_a_model(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nhorizon: {duration_s: 1h}\nmodels:\n  - name: int8\n    quality: 0.9\n"
                    "    technique: quantized\n    derived_from: fp32\n    latency: {'*': {kind: deterministic, value_s: 0.1}}\n",
                    encoding="utf-8")
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2
    text = " ".join(out.output.split())
    assert "bad.yaml:7:" in text and "models[0].derived_from" in text and "'fp32'" in text


def test_space_product_is_what_the_brute_force_covers():
    sc = scenario()
    space = build_space(sc, resolve_spec(sc, SPACE), catalog_for(sc))
    assert len(space) == len(list(itertools.product(MODELS, SPACE["instance_types"], range(1, 9))))


def test_cli_min_quality_and_frontier_csv(tmp_path):
    import pandas as pd

    sc = {"name": "q", "horizon": {"duration_s": "15m"}, "fidelity": "fluid",
          "models": [{"name": n, "quality": q, "latency": {"*": p}} for n, (q, p) in MODELS.items()],
          "endpoints": [{"kind": "realtime", "name": "ep", "model": "int8", "instance_type": "ml.g4dn.xlarge",
                         "workload": {"kind": "poisson", "rate_per_s": 30.0}}],
          "optimize": {"models": ["int8", "distilled", "pruned"], "instance_count": {"min": 1, "max": 8},
                       "fidelity": "fluid"}}
    import yaml

    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(sc, sort_keys=False), encoding="utf-8")
    out = CliRunner().invoke(app, ["optimize", str(path), "--min-quality", "0.82", "--out", str(tmp_path / "o")])
    assert out.exit_code == 0, out.output
    assert "left out below min_quality 0.82: pruned (0.8)" in out.output
    table = pd.read_csv(tmp_path / "o" / "quality_frontier.csv")
    assert set(table["model"]) == {"int8", "distilled"} and table["on_frontier"].all()
    bad = CliRunner().invoke(app, ["optimize", str(path), "--min-quality", "0.95"])
    assert bad.exit_code == 2 and "no model variant reaches min_quality 0.95" in " ".join(bad.output.split())
