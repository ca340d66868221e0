"""The platform benchmark input validates and the spot example runs (examples are tests)."""

from __future__ import annotations

from conftest import REPO, SCENARIOS

from smsim.api import catalog_for
from smsim.resources.registry import simulate
from smsim.scenario import load_scenario


def test_platform_and_spot_scenarios():
    platform = load_scenario(REPO / "benchmarks" / "platform.yaml")
    assert len(platform.training_jobs) == 150 and len(platform.notebooks) == 50
    spot = load_scenario(SCENARIOS / "training_spot.yaml")
    result = simulate(spot, catalog=catalog_for(spot))
    metrics = {r.resource_id: r.metrics for r in result.resources}
    assert metrics["llm-ft-spot"]["jobs"] == metrics["llm-ft-ondemand"]["jobs"] == 30
    assert set(result.usage[result.usage.resource_id == "llm-ft-spot"].market) <= {"Spot", "OnDemand"}
