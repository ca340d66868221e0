"""Scenarios with what-if variants: a base scenario plus named patches over it.

A scenario file may carry a top-level ``variants:`` list. It is not part of
:class:`~smsim.scenario.schema.Scenario`: it is split off the raw YAML before validation, each
variant's patch is merged into a copy of the base data (see :mod:`smsim.scenario.patch`), and
every variant is validated like a scenario file, with errors that name the variant and point at
the patch line that caused them::

    variants:
      - name: g5
        description: GPU hosting instead of CPU
        patch:
          fleets:
            web-hosting: {instance_type: ml.g5.xlarge, count: 1}
      - name: traffic-x2
        traffic_scale: 2.0          # multiplies every endpoint workload's rate_scale

Variants share the base's seed (common random numbers), so a variant may not patch ``seed``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smsim.errors import InputError, InputErrors, did_you_mean
from smsim.scenario.load import _Built, read_yaml
from smsim.scenario.patch import apply_patch, scale_traffic
from smsim.scenario.schema import Scenario
from smsim.scenario.validate import validate_scenario

VARIANT_KEYS = ("name", "description", "patch", "traffic_scale")


@dataclass(frozen=True)
class Variant:
    """One arm of a comparison: a label and the validated scenario it simulates."""

    name: str
    scenario: Scenario
    description: str = ""


def _remapped(built: _Built, data: Any, origins: dict[tuple, tuple]) -> _Built:
    """Positions for the patched data: each path takes the position of where it came from."""
    out = _Built()

    def source(path: tuple) -> tuple:
        for cut in range(len(path), -1, -1):
            if path[:cut] in origins:
                return origins[path[:cut]] + path[cut:]
        return path

    def walk(value: Any, path: tuple) -> None:
        src = source(path)
        if src in built.positions:
            out.positions[path] = built.positions[src]
        if src in built.key_positions:
            out.key_positions[path] = built.key_positions[src]
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, path + (key,))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, path + (i,))

    walk(data, ())
    return out


def _name_errors(exc: InputError, variant: str) -> InputError:
    errors = exc.errors if isinstance(exc, InputErrors) else [exc]
    for err in errors:
        if not err.message.startswith("variant "):
            err.message = f"variant {variant!r}: {err.message}"
    return InputErrors(errors) if isinstance(exc, InputErrors) else errors[0]


def _validate(data: dict, built: _Built, file: str, catalog=None) -> Scenario:
    return validate_scenario(data, built, file, catalog=catalog)


def _check_variant_entry(entry: Any, i: int, built: _Built, file: str, seen: set[str]) -> str:
    where = built.positions.get(("variants", i), (None, None))
    if not isinstance(entry, dict):
        raise InputError("each variant must be a mapping with a name and a patch",
                         file=file, line=where[0], column=where[1], path=f"variants[{i}]")
    for key in entry:
        if key not in VARIANT_KEYS:
            line, col = built.key_positions.get(("variants", i, key), where)
            raise InputError(f"unknown key {key!r}{did_you_mean(key, VARIANT_KEYS)}; allowed keys: "
                             f"{', '.join(VARIANT_KEYS)}", file=file, line=line, column=col,
                             path=f"variants[{i}].{key}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("a variant needs a name", file=file, line=where[0], column=where[1],
                         path=f"variants[{i}].name")
    if name in seen or name == "base":
        line, col = built.positions.get(("variants", i, "name"), where)
        raise InputError(f"variant name {name!r} is used twice (or is the reserved 'base')",
                         file=file, line=line, column=col, path=f"variants[{i}].name")
    patch = entry.get("patch", {}) or {}
    if not isinstance(patch, dict):
        line, col = built.positions.get(("variants", i, "patch"), where)
        raise InputError("patch must be a mapping over the base scenario", file=file, line=line,
                         column=col, path=f"variants[{i}].patch")
    if "seed" in patch or "variants" in patch:
        key = "seed" if "seed" in patch else "variants"
        line, col = built.key_positions.get(("variants", i, "patch", key), where)
        msg = ("variants share the base seed (common random numbers); use --seed instead"
               if key == "seed" else "a variant cannot declare variants")
        raise InputError(msg, file=file, line=line, column=col, path=f"variants[{i}].patch.{key}")
    scale = entry.get("traffic_scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0):
        line, col = built.positions.get(("variants", i, "traffic_scale"), where)
        raise InputError(f"traffic_scale must be a number > 0, found {scale!r}", file=file,
                         line=line, column=col, path=f"variants[{i}].traffic_scale")
    return name


def load_variants(path: str | Path, *, catalog=None) -> list[Variant]:
    """The base scenario (named ``base``) followed by every variant in the file, all validated."""
    file = str(path)
    data, built = read_yaml(path)
    raw_variants = data.pop("variants", None) or []
    if not isinstance(raw_variants, list):
        line, col = built.positions.get(("variants",), (None, None))
        raise InputError("variants must be a list of {name, patch} mappings", file=file,
                         line=line, column=col, path="variants")
    base = _validate(data, built, file, catalog)
    out = [Variant("base", base, base.description)]
    seen: set[str] = set()
    for i, entry in enumerate(raw_variants):
        name = _check_variant_entry(entry, i, built, file, seen)
        seen.add(name)
        try:
            patched, origins = apply_patch(data, entry.get("patch") or {}, ("variants", i, "patch"),
                                           file=file, positions=built.positions)
            if entry.get("traffic_scale") is not None:
                line, col = built.positions.get(("variants", i, "traffic_scale"), (None, None))
                for changed in scale_traffic(patched, float(entry["traffic_scale"]), file=file,
                                             line=line, column=col, path=f"variants[{i}].traffic_scale"):
                    origins[changed] = ("variants", i, "traffic_scale")
            scenario = _validate(patched, _remapped(built, patched, origins), file, catalog)
        except InputError as exc:
            raise _name_errors(exc, name) from None
        out.append(Variant(name, scenario, str(entry.get("description", "") or "")))
    return out


def load_compared(paths: list[str | Path], *, catalog=None) -> list[Variant]:
    """The arms of ``smsim compare``: the first file is the base; its variants, then every other
    file (and its variants), follow. Labels are unique: a file's arms are named after its
    scenario name (or file stem when names clash)."""
    if not paths:
        raise InputError("compare needs at least one scenario file")
    arms: list[Variant] = []
    for n, path in enumerate(paths):
        variants = load_variants(path, catalog=catalog)
        if n == 0:
            arms.extend(variants)
            continue
        label = variants[0].scenario.name
        taken = {a.name for a in arms}
        if label in taken:
            label = Path(path).stem
        if label in taken:
            label = f"{label}-{n}"
        for v in variants:
            arms.append(Variant(label if v.name == "base" else f"{label}/{v.name}", v.scenario,
                                v.description))
    if len(arms) < 2:
        raise InputError(f"{paths[0]}: nothing to compare: give two or more scenario files, or a "
                         "scenario with a 'variants:' list", file=str(paths[0]))
    return arms


def strip_variants(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of raw scenario data without its ``variants`` key."""
    data = copy.deepcopy(data)
    data.pop("variants", None)
    return data
