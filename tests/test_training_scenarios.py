"""The training/platform example scenarios validate and the spot example runs (examples are tests)."""

from __future__ import annotations

import importlib.util

from conftest import REPO, SCENARIOS


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_platform", REPO / "benchmarks" / "bench_platform.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_platform_and_spot_scenarios():
    bench = _bench()
    platform = bench.load(REPO / "benchmarks" / "platform.yaml")
    assert len(platform.training_jobs) == 150 and len(platform.notebooks) == 50
    spot = bench.load(SCENARIOS / "training_spot.yaml")
    result = bench.simulate(spot)
    metrics = {r.resource_id: r.metrics for r in result.resources}
    assert metrics["llm-ft-spot"]["jobs"] == metrics["llm-ft-ondemand"]["jobs"] == 30
    assert set(result.usage[result.usage.resource_id == "llm-ft-spot"].market) <= {
        "Spot",
        "OnDemand",
    }
