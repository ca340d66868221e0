"""The scenario as simulated: every default filled in, as YAML.

Stored beside every run, projection and comparison (``scenario.resolved.yaml``), and hashed to
recognise a run already in the store, so it lives with the scenario model, below the layers
that write results.
"""

from __future__ import annotations

import json

import yaml

from smsim.scenario.schema import Scenario


def resolved_scenario_yaml(scenario: Scenario) -> str:
    """The scenario with every default filled in, as YAML (what exactly was simulated)."""
    data = json.loads(scenario.model_dump_json())
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
