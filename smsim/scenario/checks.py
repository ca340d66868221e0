"""Checks beyond the schema: instance types exist in the price catalog and are offered for their
component; trace files the scenario names exist."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from smsim.errors import InputError, InputErrors


def _walk(obj, path: tuple):
    """Yield ``(path, model)`` for every pydantic model inside ``obj``."""
    if isinstance(obj, BaseModel):
        yield path, obj
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), path + (name,))
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _walk(item, path + (i,))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _walk(item, path + (key,))


def check_instance_types(scenario, catalog, *, file: str | None = None, positions=None) -> None:
    """Every ``instance_type`` (and each of ``instance_types``) must be in the catalog and offered
    for the model's ``component`` (a field, or a ``COMPONENT`` class attribute) in the region."""
    from smsim.scenario.load import _format_path

    errors: list[InputError] = []
    region = scenario.region
    for path, model in _walk(scenario, ()):
        fields = type(model).model_fields
        component = getattr(model, "component", None) or getattr(type(model), "COMPONENT", None)
        checks = []
        if "instance_type" in fields and isinstance(model.instance_type, str):
            checks.append((path + ("instance_type",), model.instance_type))
        if "instance_types" in fields:
            for i, t in enumerate(model.instance_types or []):
                checks.append((path + ("instance_types", i), t))
        for field_path, itype in checks:
            try:
                if component:
                    catalog.check_offered(itype, component, region)
                else:
                    catalog.instance(itype)
            except InputError as exc:
                line, col = (positions.get(field_path, (None, None)) if positions else (None, None))
                errors.append(InputError(exc.message, file=file, line=line, column=col, path=_format_path(field_path)))
    if errors:
        raise InputErrors(errors)


def trace_files(scenario) -> list[tuple[tuple, Path]]:
    """``(field path, file)`` of every trace file the scenario reads (relative paths resolved
    against the scenario's folder, as the simulation resolves them)."""
    from smsim.workload.spec import TraceWorkload

    out = []
    for path, model in _walk(scenario, ()):
        if isinstance(model, TraceWorkload):
            file = Path(model.path).expanduser()
            out.append((path + ("path",), file if file.is_absolute() else scenario.base_dir / file))
    return out


def check_trace_files(scenario, *, file: str | None = None, positions=None) -> None:
    """Every trace file the scenario names exists (checked before a run, not found during it)."""
    from smsim.scenario.load import _format_path

    errors = []
    for path, trace in trace_files(scenario):
        if not trace.is_file():
            line, col = (positions or {}).get(path, (None, None))
            what = "is a folder, not a trace file" if trace.is_dir() else "trace file not found"
            errors.append(InputError(f"{what}: {trace}", file=file, line=line, column=col,
                                     path=_format_path(path)))
    if errors:
        raise errors[0] if len(errors) == 1 else InputErrors(errors)
