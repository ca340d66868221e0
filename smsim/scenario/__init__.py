"""Scenario files: pydantic models (``schema``) and the YAML loader with precise errors (``load``)."""
