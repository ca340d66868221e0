"""Scenario files: pydantic models (``schema``), the YAML loader with precise errors (``load``),
and catalog checks (``checks``)."""

from __future__ import annotations

from pathlib import Path


def load_scenario(path: str | Path, *, catalog=None):
    """Read and validate a scenario file; check its instance types against the catalog.

    Raises :class:`smsim.errors.InputError` (file, line, column, field path) on any problem.
    """
    from smsim.scenario.checks import check_instance_types
    from smsim.scenario.load import load_model
    from smsim.scenario.schema import Scenario

    scenario, built = load_model(path, Scenario)
    scenario = scenario.with_source(str(path))
    if catalog is None:
        from smsim.pricing.catalog import load_catalog

        catalog_name = scenario.pricing.catalog
        if catalog_name != "builtin" and not Path(catalog_name).is_absolute():
            catalog_name = str(scenario.base_dir / catalog_name)
        catalog = load_catalog(catalog_name)
    check_instance_types(scenario, catalog, file=str(path), positions=built.positions)
    return scenario


def scenario_json_schema() -> dict:
    """The JSON Schema of scenario files, for editor autocompletion."""
    from smsim.scenario.schema import Scenario

    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "smsim scenario"
    return schema
