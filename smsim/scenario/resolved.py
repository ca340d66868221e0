"""The scenario as simulated: every default filled in, as YAML.

Stored beside every run, projection and comparison (``scenario.resolved.yaml``), and hashed to
recognise a run already in the store, so it lives with the scenario model, below the layers
that write results.
"""

from __future__ import annotations

import json

import yaml

from smsim.scenario.schema import Scenario

#: The last few resolved YAML texts, by scenario object (kept alive here so ids stay unique): a
#: large scenario takes seconds to dump, and writing a run then recording it needs it twice.
_RESOLVED: dict[int, tuple[Scenario, str]] = {}


def resolved_scenario_yaml(scenario: Scenario) -> str:
    """The scenario with every default filled in, as YAML (what exactly was simulated)."""
    hit = _RESOLVED.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    data = json.loads(scenario.model_dump_json())
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    while len(_RESOLVED) >= 4:
        _RESOLVED.pop(next(iter(_RESOLVED)))
    _RESOLVED[id(scenario)] = (scenario, text)
    return text
