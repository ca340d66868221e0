"""A scenario from the data the loader read: validated by its schema, then checked against the
price catalog it names."""

from __future__ import annotations

from pathlib import Path

from smsim.pricing.catalog import load_catalog
from smsim.scenario.checks import check_instance_types, check_rates
from smsim.scenario.load import validate_data
from smsim.scenario.schema import Scenario


def validate_scenario(data, built, file: str, *, catalog=None):
    """Validate data read by :func:`smsim.scenario.load.read_yaml` as a Scenario and check its
    instance types and rates against the catalog it names. Errors point at the YAML line and field."""
    scenario = validate_data(data, built, file, Scenario).with_source(file)
    if catalog is None:
        name = scenario.pricing.catalog
        if name != "builtin" and not Path(name).is_absolute():
            name = str(scenario.base_dir / name)
        catalog = load_catalog(name)
    check_instance_types(scenario, catalog, file=file, positions=built.positions)
    check_rates(scenario, catalog, file=file, positions=built.positions)
    scenario._positions = built.positions
    return scenario
