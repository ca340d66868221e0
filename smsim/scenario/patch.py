"""Variant patches: a deep merge over the raw scenario data, with list items addressed by name.

Rules (applied to the YAML data before validation, so a variant is checked exactly like a file):

* a mapping merges into a mapping key by key, recursively;
* ``null`` removes the key (or, inside a section, the named resource);
* a resource section (``fleets``, ``endpoints``, ...: a list of mappings with ``name``) is
  patched with a mapping from resource name to patch, e.g.
  ``{fleets: {web-hosting: {instance_type: ml.g5.xlarge}}}``; a name not in the section adds a
  new resource (the patch must then be its full spec);
* any other value, lists included, replaces the old value whole.

The merge also returns where every merged value came from, so a validation error in a patched
field points at the line of the patch, not of the base.
"""

from __future__ import annotations

import copy
from typing import Any

from smsim.errors import InputError, did_you_mean
from smsim.resources.registry import SECTIONS as REGISTERED_SECTIONS

Path_ = tuple


def _is_named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value)


def _descend_origins(origins: dict[Path_, Path_], dst: Path_, src: Path_, value: Any) -> None:
    """Record that ``dst`` and everything under it came from ``src`` in the file."""
    origins[dst] = src
    if isinstance(value, dict):
        for key, item in value.items():
            _descend_origins(origins, dst + (key,), src + (key,), item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _descend_origins(origins, dst + (i,), src + (i,), item)


def apply_patch(base: dict[str, Any], patch: dict[str, Any], patch_path: Path_ = (), *,
                file: str | None = None, positions: dict | None = None
                ) -> tuple[dict[str, Any], dict[Path_, Path_]]:
    """``base`` with ``patch`` merged in (neither is modified) and the origin map.

    The origin map sends a path in the result to the path in the file its value came from: the
    patch's path (under ``patch_path``) for patched values, the same path for untouched ones
    (paths missing from the map are untouched). ``positions`` (path -> line, column) only
    serves error messages about the patch itself.
    """
    result = copy.deepcopy(base)
    origins: dict[Path_, Path_] = {}
    _merge(result, patch, (), patch_path, origins, file, positions or {})
    return result, origins


def _where(positions: dict, path: Path_) -> tuple[int | None, int | None]:
    return positions.get(path, (None, None))


def _merge(target: dict, patch: dict, dst: Path_, src: Path_, origins: dict, file, positions) -> None:
    for key, value in patch.items():
        here_dst, here_src = dst + (key,), src + (key,)
        if value is None:
            target.pop(key, None)
            continue
        old = target.get(key)
        if isinstance(value, dict) and _is_named_list(old) and old:
            _merge_section(old, value, here_dst, here_src, origins, file, positions)
        elif isinstance(value, dict) and isinstance(old, dict):
            origins.setdefault(here_dst, here_src)
            _merge(old, value, here_dst, here_src, origins, file, positions)
        elif isinstance(value, dict) and key in _SECTIONS_HINT and old is None:
            target[key] = []
            _merge_section(target[key], value, here_dst, here_src, origins, file, positions)
        else:
            target[key] = copy.deepcopy(value)
            _descend_origins(origins, here_dst, here_src, value)


#: Keys that are resource sections even when the base scenario has none yet (every registered
#: section, plus older section names kept for patches written against them).
_SECTIONS_HINT = set(REGISTERED_SECTIONS) | {"serverless", "async_endpoints"}


def _merge_section(items: list, patch: dict, dst: Path_, src: Path_, origins: dict, file, positions) -> None:
    names = [item["name"] for item in items]
    removed: list[int] = []
    for name, value in patch.items():
        here_src = src + (name,)
        if name in names:
            i = names.index(name)
            if value is None:
                removed.append(i)
                continue
            if not isinstance(value, dict):
                line, col = _where(positions, here_src)
                raise InputError(f"a resource patch must be a mapping of fields, found {value!r}",
                                 file=file, line=line, column=col, path=_fmt(here_src))
            origins.setdefault(dst + (i,), dst + (i,))
            _merge(items[i], value, dst + (i,), here_src, origins, file, positions)
            continue
        if value is None:
            line, col = _where(positions, here_src)
            raise InputError(f"cannot remove {name!r}: no resource of that name in this section"
                             f"{did_you_mean(name, names)}", file=file, line=line, column=col,
                             path=_fmt(here_src))
        hint = did_you_mean(name, names)
        if hint:
            line, col = _where(positions, here_src)
            raise InputError(f"no resource named {name!r} in this section{hint}; to add a resource, "
                             "give it a name unlike the existing ones", file=file, line=line,
                             column=col, path=_fmt(here_src))
        if not isinstance(value, dict):
            line, col = _where(positions, here_src)
            raise InputError(f"a new resource must be a mapping (its full spec), found {value!r}",
                             file=file, line=line, column=col, path=_fmt(here_src))
        items.append({"name": name, **copy.deepcopy(value)})
        names.append(name)
        _descend_origins(origins, dst + (len(items) - 1,), here_src, value)
        origins[dst + (len(items) - 1, "name")] = here_src
    if not removed:
        return
    # Removing shifts later items: renumber their origins, and point untouched ones at the base.
    keep = [i for i in range(len(items)) if i not in set(removed)]
    new_index = {old: new for new, old in enumerate(keep)}
    n = len(dst)
    moved: dict[Path_, Path_] = {}
    for key in list(origins):
        if key[:n] == dst and len(key) > n:
            value = origins.pop(key)
            old = key[n]
            if old in new_index:
                moved[dst + (new_index[old],) + key[n + 1:]] = value
    origins.update(moved)
    for old, new in new_index.items():
        origins.setdefault(dst + (new,), dst + (old,))
    items[:] = [items[i] for i in keep]


def _fmt(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def scale_traffic(data: dict[str, Any], factor: float, *, file: str | None = None,
                  line: int | None = None, column: int | None = None, path: str | None = None
                  ) -> list[tuple]:
    """Multiply every endpoint workload's ``rate_scale`` by ``factor`` (in place).

    Returns the data paths changed. A scenario without endpoints has no traffic to scale; that
    is an error rather than a silent no-op, since the variant would otherwise equal the base.
    """
    endpoints = data.get("endpoints") or []
    if not endpoints:
        raise InputError(f"traffic_scale {factor:g} has nothing to scale: the scenario has no endpoints",
                         file=file, line=line, column=column, path=path)
    changed, recorded = [], []
    for i, endpoint in enumerate(endpoints):
        if not isinstance(endpoint, dict):
            continue
        if "compute_gb_second_per_hour_steps" in endpoint or (endpoint.get("kind") == "serverless"
                                                               and "steps_file" in endpoint):
            recorded.append(str(endpoint.get("name")))  # replays billed compute: no traffic to scale
            continue
        workload = endpoint.setdefault("workload", {})
        if not isinstance(workload, dict):
            continue
        workload["rate_scale"] = float(workload.get("rate_scale", 1.0)) * float(factor)
        changed.append(("endpoints", i, "workload", "rate_scale"))
    if not changed and recorded:
        raise InputError(f"traffic_scale {factor:g} has nothing to scale: the endpoints {', '.join(recorded)} "
                         "replay recorded compute; give them a workload to scale", file=file, line=line,
                         column=column, path=path)
    return changed
