"""Checks beyond the schema: instance types exist in the price catalog and are offered for their
component, every non-instance rate a resource is billed at is in the catalog, and every file
the scenario names reads cleanly."""

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


def needed_rates(scenario):
    """``(field path, model, rate_key)`` of every non-instance rate the scenario is billed at: a
    model's ``rate_key`` field, each pair of its ``rate_keys()`` (``(field, rate_key)``), and the
    per-request data fields of instance-backed endpoints."""
    for path, model in _walk(scenario, ()):
        needs = []
        if isinstance(getattr(model, "rate_key", None), str) and "rate_key" in type(model).model_fields:
            needs.append(("rate_key", model.rate_key))
        if callable(getattr(model, "rate_keys", None)):
            needs += model.rate_keys()
        else:
            needs += _endpoint_data_keys(model)
        for field, key in needs:
            yield path + tuple(int(p) if p.isdigit() else p for p in field.split(".")), model, key


def check_rates(scenario, catalog, *, file: str | None = None, positions=None) -> None:
    """Every rate the scenario is billed at (:func:`needed_rates`) must be in the catalog. The error
    names the resource, the rate and the field that needs it, so a run never fails on a missing
    price after simulating."""
    from smsim.scenario.load import _format_path

    errors: list[InputError] = []
    seen: set[tuple] = set()
    for field_path, model, key in needed_rates(scenario):
        if (id(model), key) in seen:
            continue
        seen.add((id(model), key))
        try:
            catalog.rate(key, scenario.region)
        except InputError:
            name = getattr(model, "name", None)
            what = f"{getattr(model, 'kind', 'resource')} {name!r}" if name else "this resource"
            # the field's line, else (a default value) the line of the nearest part of the path written
            at = next((positions[field_path[:k]] for k in range(len(field_path), 0, -1)
                       if positions and field_path[:k] in positions), (None, None))
            line, col = at
            errors.append(InputError(
                f"{what} is billed at rate {key!r}, which catalog {catalog.name!r} does not have"
                f"{_missing_rate_hint(key, catalog)}",
                file=file, line=line, column=col, path=_format_path(field_path),
            ))
    if errors:
        raise InputErrors(errors)


#: Per-request data fields of instance-backed endpoints and their rates (the endpoints' shared
#: data metering, ``smsim.resources.realtime.metering.meter_data``, bills them so).
ENDPOINT_DATA_KEYS = (("data_in_gb_per_request", "endpoint_data_in_gb"),
                      ("data_out_gb_per_request", "endpoint_data_out_gb"))


def _endpoint_data_keys(model) -> list[tuple[str, str]]:
    fields = type(model).model_fields
    return [(f, key) for f, key in ENDPOINT_DATA_KEYS if f in fields and getattr(model, f)]


def _missing_rate_hint(key: str, catalog) -> str:
    from smsim.pricing.catalog import BUILTIN

    why = (f" (no sourced price exists for it; see {catalog.directory / 'SOURCES.md'})"
           if catalog.name == BUILTIN else "")
    return (f"{why}; add a row for it with 'smsim pricing import RATES.csv --out DIR' "
            "(columns rate_key,region,unit,usd,as_of,source) and set pricing.catalog: DIR")
def check_input_files(scenario, *, file: str | None = None, positions=None) -> None:
    """Read every file the scenario refers to (request and count traces, predictive-scaling
    histories) and raise, all at once, the errors a run would meet: missing files, bad rows
    (named by file, row, line and column), and traces that do not cover the horizon without
    ``repeat``. No arrivals are drawn and nothing is simulated.

    ``smsim validate`` and every run call this one function, so both report the same errors.
    Problems that concern the scenario rather than a file's rows point at the scenario field.
    """
    from pathlib import Path

    from smsim.scenario.load import _format_path
    from smsim.workload.spec import check_workload

    file = file or scenario.source
    positions = positions if positions is not None else getattr(scenario, "_positions", None) or {}
    base_dir = scenario.base_dir
    horizon_s = float(scenario.horizon.duration_s)
    errors: list[InputError] = []
    for field_path, trace in trace_files(scenario):
        if not trace.is_file():
            line, col = positions.get(field_path, (None, None))
            what = "is a folder, not a trace file" if trace.is_dir() else "trace file not found"
            errors.append(InputError(f"{what}: {trace}", file=file, line=line, column=col,
                                     path=_format_path(field_path)))
    if errors:  # a missing file is named at the scenario field that names it
        raise errors[0] if len(errors) == 1 else InputErrors(errors)

    def locate(exc: InputError, field_path: tuple) -> InputError:
        if exc.file is not None:
            return exc
        line, col = positions.get(field_path, (None, None))
        return InputError(exc.message, file=file, line=line, column=col, path=_format_path(field_path))

    for path, model in _walk(scenario, ()):
        fields = type(model).model_fields
        if "workload" in fields and getattr(model, "workload", None) is not None:
            try:
                check_workload(model.workload, horizon_s, base_dir)
            except InputErrors as exc:
                errors.extend(locate(e, path + ("workload",)) for e in exc.errors)
            except InputError as exc:
                errors.append(locate(exc, path + ("workload",)))
        if callable(getattr(model, "load_trial_log", None)):
            try:
                model.load_trial_log(base_dir)
            except InputError as exc:
                if exc.file is not None:
                    errors.append(exc)
                else:
                    field = tuple(exc.path.split(".")) if exc.path else ()
                    errors.append(locate(InputError(exc.message), path + field))
        if getattr(model, "kind", None) == "llm":
            from smsim.resources.llm.layout import resolve
            from smsim.resources.llm.requests import missing_tokens

            try:
                resolve(model, base_dir)  # the model fits the instance; a profile table reads
            except InputError as exc:
                rel = (exc.path or "").split(f"endpoints.{model.name}.", 1)[-1]
                where = (("instance_type",) if rel == "instance_type" else
                         ("inference_component", "accelerators_per_copy") if rel.startswith("inference_component")
                         else ("step_model",))
                errors.append(locate(exc, path + where))
            try:
                missing_tokens(model, base_dir)  # a recorded trace has its token columns
            except InputError as exc:
                line, col = positions.get(path + ("workload",), (None, None))
                errors.append(InputError(exc.message, file=file, line=line, column=col,
                                         path=_format_path(path + ("workload",))))
        if getattr(model, "kind", None) == "predictive" and getattr(model, "history", None):
            from smsim.resources.scaling.predictive import read_history

            hist = Path(model.history)
            if not hist.is_absolute():
                hist = Path(base_dir) / hist
            try:
                if not hist.is_file():
                    raise InputError(f"predictive history file not found: {hist}")
                read_history(hist, scenario.horizon.start)
            except InputError as exc:
                errors.append(locate(exc, path + ("history",)))
        if getattr(model, "kind", None) in ("fleet", "s3", "serverless") and getattr(model, "steps_file", None):
            from smsim.resources.steps_file import read_steps_file

            steps = Path(model.steps_file).expanduser()
            try:
                _, volumes = read_steps_file(steps if steps.is_absolute() else Path(base_dir) / steps,
                                             {"fleet": "count", "s3": "gb"}.get(model.kind, "gb_s_per_hour"))
                if volumes is not None and getattr(model, "volume_gb_steps", None) is not None:
                    raise InputError("the steps file has a volume_gb column and volume_gb_steps is given too; "
                                     "give the volumes once")
            except InputError as exc:
                errors.append(locate(exc, path + ("steps_file",)))
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
        elif getattr(model, "kind", None) == "fleet" and getattr(model, "steps_file", None):
            file = Path(model.steps_file).expanduser()
            out.append((path + ("steps_file",), file if file.is_absolute() else scenario.base_dir / file))
    return out
