"""Correlated projection paths: the copula's estimate, the pairing, and the total's spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smsim.project.dependence import couple_paths, error_correlation, nearest_correlation
from smsim.rng import stream

N = 4000  # paths


def _gaussian_paths(sd: float, seed: int, hours: int = 24) -> np.ndarray:
    """Paths whose total over the horizon is normal with standard deviation ``sd``."""
    level = stream(seed, "test", "level").standard_normal(N) * sd / hours
    return 100.0 + level[:, None] + np.zeros((N, hours))


def _spread(x: np.ndarray) -> float:
    return float(np.percentile(x, 90) - np.percentile(x, 10))


def _hourly(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2026-01-01", periods=values.size, freq="h"))


def _histories(rho: float, days: int = 120, seed: int = 1) -> dict[str, pd.Series]:
    """Two hourly histories whose daily levels are random walks with correlated steps."""
    g = stream(seed, "test", "history")
    z = g.standard_normal((days, 2))
    shock = np.column_stack([z[:, 0], rho * z[:, 0] + np.sqrt(1.0 - rho**2) * z[:, 1]])
    level = 1000.0 + np.cumsum(shock * 20.0, axis=0)
    shape = 1.0 + 0.5 * np.sin(np.arange(24) / 24 * 2 * np.pi)
    return {name: _hourly((level[:, j, None] * shape[None, :] / 24).ravel())
            for j, name in enumerate(("a", "b"))}


def test_perfectly_correlated_histories_give_the_sum_of_spreads():
    hist = _histories(1.0)
    r, info = error_correlation(hist)
    assert r[0, 1] == pytest.approx(1.0, abs=1e-9)
    assert info["lag_days"] == 7 and info["errors"] == 120 - 7
    paths = {"a": _gaussian_paths(30.0, 1), "b": _gaussian_paths(40.0, 2)}
    out = couple_paths(paths, r, seed=3)
    total = out["a"].sum(axis=1) + out["b"].sum(axis=1)
    # comonotonic totals: every quantile of the sum is the sum of the quantiles, exactly
    assert _spread(total) == pytest.approx(_spread(paths["a"].sum(1)) + _spread(paths["b"].sum(1)), rel=1e-9)


def test_independent_histories_give_the_root_sum_square():
    hist = _histories(0.0)
    r, _ = error_correlation(hist)
    # 113 daily errors: the sample correlation of independent series has sd about 1/sqrt(113)
    assert abs(r[0, 1]) < 3.0 / np.sqrt(113)
    paths = {"a": _gaussian_paths(30.0, 1), "b": _gaussian_paths(40.0, 2)}
    out = couple_paths(paths, np.eye(2), seed=3)
    total = out["a"].sum(axis=1) + out["b"].sum(axis=1)
    # normal totals, sd 30 and 40: the sum's P10-P90 is 2 * 1.2816 * 50. The sample spread's
    # relative sd at 4000 paths is about 1.5 %; 5 % is over three of them
    assert _spread(total) == pytest.approx(2 * 1.281552 * 50.0, rel=0.05)
    rss = np.hypot(_spread(paths["a"].sum(1)), _spread(paths["b"].sum(1)))
    assert _spread(total) == pytest.approx(rss, rel=0.05)


def test_correlation_in_between_follows_the_closed_form():
    rho = 0.6
    paths = {"a": _gaussian_paths(30.0, 1), "b": _gaussian_paths(40.0, 2)}
    out = couple_paths(paths, np.array([[1.0, rho], [rho, 1.0]]), seed=4)
    total = out["a"].sum(axis=1) + out["b"].sum(axis=1)
    sd = np.sqrt(30.0**2 + 40.0**2 + 2 * rho * 30.0 * 40.0)
    assert _spread(total) == pytest.approx(2 * 1.281552 * sd, rel=0.05)
    # the Gaussian copula's rank correlation is (6 / pi) asin(rho / 2)
    ra = pd.Series(out["a"].sum(1)).rank().to_numpy()
    rb = pd.Series(out["b"].sum(1)).rank().to_numpy()
    assert np.corrcoef(ra, rb)[0, 1] == pytest.approx(6 / np.pi * np.arcsin(rho / 2), abs=0.04)


def test_estimate_recovers_a_moderate_correlation():
    r, _ = error_correlation(_histories(0.7, days=400, seed=7))
    # week-over-week errors of a random walk with correlated steps have correlation 0.7;
    # 393 errors give a standard error of about 0.03
    assert r[0, 1] == pytest.approx(0.7, abs=0.1)


def test_marginal_paths_are_unchanged_and_pairing_is_deterministic():
    g = stream(9, "test", "paths")
    paths = {"a": g.gamma(2.0, 10.0, (200, 48)), "b": g.gamma(3.0, 5.0, (200, 48)),
             "c": g.normal(50.0, 5.0, (200, 48))}
    r = nearest_correlation(np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.5], [0.2, 0.5, 1.0]]))
    one, two = couple_paths(paths, r, seed=11), couple_paths(paths, r, seed=11)
    for name, p in paths.items():
        # the same rows, only in another order
        assert np.array_equal(np.sort(one[name], axis=0), np.sort(p, axis=0))
        assert sorted(map(tuple, one[name])) == sorted(map(tuple, p))
        assert np.array_equal(one[name], two[name])
    assert not np.array_equal(couple_paths(paths, r, seed=12)["a"], one["a"])


def test_nearest_correlation_repairs_an_indefinite_matrix():
    r = nearest_correlation(np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]))
    assert np.linalg.eigvalsh(r).min() > -1e-10
    assert np.allclose(np.diag(r), 1.0)


def test_short_common_span_falls_back_to_independent():
    hist = _histories(1.0, days=10)
    r, info = error_correlation(hist)
    assert np.array_equal(r, np.eye(2)) and "note" in info


TWO = """
name: two
horizon: {start: 2026-01-01T00:00:00Z, duration_s: 3d}
seed: 5
models:
  - name: m
    latency:
      ml.m5.xlarge: {kind: lognormal, median_s: 0.5, p99_s: 1.5}
endpoints:
"""
ENDPOINT = """
  - kind: realtime
    name: {name}
    model: m
    instance_type: ml.m5.xlarge
    fidelity: fluid
    workload: {{kind: trace, path: {name}.csv, shape: counts, placement: uniform}}
    autoscaling:
      min_capacity: 1
      max_capacity: 20
      policies: [{{kind: target_tracking, target_value: 20}}]
"""


def _two_endpoints(tmp_path, days=42):
    g = stream(2, "test", "two")
    level = 3000.0 * np.exp(np.cumsum(g.normal(0.0, 0.08, days)))  # shared daily level
    shape = 1.0 + 0.6 * np.sin(np.arange(24) / 24 * 2 * np.pi)
    stamps = pd.date_range("2026-01-01", periods=24 * days, freq="h") - pd.Timedelta(days=days)
    for name, scale in (("api", 1.0), ("search", 0.5)):
        noise = g.normal(1.0, 0.02, 24 * days)
        counts = np.rint((scale * level[:, None] * shape[None, :] / 24).ravel() * noise)
        pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": counts}).to_csv(
            tmp_path / f"{name}.csv", index=False)
    path = tmp_path / "two.yaml"
    path.write_text(TWO + ENDPOINT.format(name="api") + ENDPOINT.format(name="search"))
    return path


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    from smsim.project.api import project_scenario

    path = _two_endpoints(tmp_path_factory.mktemp("two"))
    kw = dict(n_paths=16, model="ets", seed=3)
    return path, project_scenario(path, "2d", **kw), project_scenario(path, "2d", independent=True, **kw)


def test_projection_pairs_paths_by_the_estimated_correlation(two):
    _, coupled, independent = two
    dep = coupled.summary["dependence"]
    assert dep["endpoints"] == ["api", "search"] and dep["correlation"][0][1] > 0.9
    assert independent.summary["dependence"]["method"] == "independent"
    assert "Gaussian copula" in coupled.summary["notes"][1]
    for name in ("api", "search"):  # each endpoint's own paths are the same set
        a, b = coupled.endpoints[name].hourly, independent.endpoints[name].hourly
        assert sorted(map(tuple, a)) == sorted(map(tuple, b))
    ra, rb = (pd.Series(coupled.endpoints[n].hourly.sum(1)).rank() for n in ("api", "search"))
    assert np.corrcoef(ra, rb)[0, 1] > 0.8
    # requests paired across endpoints in the simulation, row by row
    frame = coupled.paths_frame()
    assert frame.groupby("path")["requests:api"].sum().to_numpy() == pytest.approx(
        np.rint(coupled.endpoints["api"].hourly).sum(1))


def test_same_seed_same_paths(two):
    from smsim.project.api import project_scenario

    path, coupled, _ = two
    again = project_scenario(path, "2d", n_paths=16, model="ets", seed=3)
    for name in ("api", "search"):
        assert np.array_equal(again.endpoints[name].hourly, coupled.endpoints[name].hourly)
    assert [r.summary["total_cost_usd"] for r in again.runs] == [r.summary["total_cost_usd"] for r in coupled.runs]


def test_cli_independent_flag(two, tmp_path):
    import json

    from typer.testing import CliRunner

    from smsim.cli import app

    path, coupled, _ = two
    args = ["project", str(path), "--horizon", "1d", "--paths", "4", "--model", "ets", "--json", "--no-store"]
    res = CliRunner().invoke(app, [*args, "--independent"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["dependence"]["method"] == "independent"
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["dependence"]["correlation"][0][1] > 0.9
