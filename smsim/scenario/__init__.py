"""Scenario files: pydantic models (``schema``), the YAML loader with precise errors (``load``),
and catalog checks (``checks``)."""

from __future__ import annotations

from pathlib import Path


def validate_scenario(data, built, file: str, *, catalog=None):
    """Validate data read by :func:`smsim.scenario.load.read_yaml` as a Scenario and check its
    instance types against the catalog it names. Errors point at the YAML line and field."""
    from smsim.scenario.checks import check_instance_types, check_trace_files
    from smsim.scenario.load import validate_data
    from smsim.scenario.schema import Scenario

    scenario = validate_data(data, built, file, Scenario).with_source(file)
    if catalog is None:
        from smsim.pricing.catalog import load_catalog

        name = scenario.pricing.catalog
        if name != "builtin" and not Path(name).is_absolute():
            name = str(scenario.base_dir / name)
        catalog = load_catalog(name)
    check_instance_types(scenario, catalog, file=file, positions=built.positions)
    check_trace_files(scenario, file=file, positions=built.positions)
    return scenario


def load_scenario(path: str | Path, *, catalog=None):
    """Read and validate a scenario file; check its instance types against the catalog.

    A file with a top-level ``variants:`` list is a what-if: this returns its base scenario
    (``smsim compare`` runs the variants). Raises :class:`smsim.errors.InputError` (file, line,
    column, field path) on any problem.
    """
    from smsim.scenario.load import read_yaml

    data, built = read_yaml(path)
    if "variants" in data:
        from smsim.compare.variants import load_variants

        return load_variants(path, catalog=catalog)[0].scenario
    return validate_scenario(data, built, str(path), catalog=catalog)


def scenario_json_schema() -> dict:
    """The JSON Schema of scenario files, for editor autocompletion."""
    from smsim.scenario.schema import Scenario

    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "smsim scenario"
    return schema
