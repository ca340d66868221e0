"""Scenario files: pydantic models (``schema``), the YAML loader with precise errors (``load``),
validation and catalog checks (``validate``, ``checks``), and what-if variants (``variants``,
``patch``)."""

from __future__ import annotations

from pathlib import Path


def load_scenario(path: str | Path, *, catalog=None):
    """Read and validate a scenario file; check its instance types against the catalog.

    A file with a top-level ``variants:`` list is a what-if: this returns its base scenario
    (``smsim compare`` runs the variants). Raises :class:`smsim.errors.InputError` (file, line,
    column, field path) on any problem.
    """
    from smsim.scenario.load import read_yaml

    data, built = read_yaml(path)
    if "variants" in data:
        from smsim.scenario.variants import load_variants

        return load_variants(path, catalog=catalog)[0].scenario
    from smsim.scenario.validate import validate_scenario

    return validate_scenario(data, built, str(path), catalog=catalog)


def scenario_json_schema() -> dict:
    """The JSON Schema of scenario files, for editor autocompletion."""
    from smsim.scenario.schema import Scenario

    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "smsim scenario"
    return schema
