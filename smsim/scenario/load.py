"""Load scenario YAML with errors that point at the file, line, column and field path.

The YAML is composed into nodes (which remember their positions) and built into plain Python
by our own walker, so that every validation error can be traced back to a line. The walker
refuses alias bombs (expanded size is capped), binary or oversized files, duplicate keys and
non-mapping documents before pydantic ever sees the data. Explicit tags (``!!python/object``,
``!foo``, ``!!str``) are refused wherever they appear: a scenario is plain data.
"""

from __future__ import annotations

import typing
from pathlib import Path
from types import UnionType
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from smsim.errors import InputError, InputErrors, did_you_mean

#: Largest scenario file accepted (a scenario is configuration, not data).
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Most YAML nodes a document may expand to (aliases included): stops "billion laughs".
MAX_NODES = 200_000
MAX_DEPTH = 64

Position = tuple[int, int]  # 1-based line, column


class _Built:
    """Plain data plus the position of every path in it."""

    def __init__(self) -> None:
        self.positions: dict[tuple, Position] = {}
        self.key_positions: dict[tuple, Position] = {}
        self.nodes = 0


class _PlainLoader(yaml.SafeLoader):
    """A safe loader that refuses every explicit tag (on a scalar, a list or a mapping, and on a
    list item), naming its line and column: a tag would otherwise be ignored or reinterpreted."""

    file = ""

    def get_event(self):
        event = super().get_event()
        tag = getattr(event, "tag", None)
        if tag is not None:
            mark = event.start_mark
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise InputError(f"explicit YAML tag {shown!r} is not allowed in a scenario (scenarios are plain "
                             "data; quote the value if you meant text)",
                             file=self.file, line=mark.line + 1, column=mark.column + 1)
        return event


def _pos(node: yaml.Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: yaml.Node, path: tuple, built: _Built, file: str, constructor, depth: int = 0) -> Any:
    built.nodes += 1
    if built.nodes > MAX_NODES:
        line, col = _pos(node)
        raise InputError(
            f"document expands to more than {MAX_NODES:,} YAML nodes (an alias bomb?); refusing to load it",
            file=file, line=line, column=col,
        )
    if depth > MAX_DEPTH:
        line, col = _pos(node)
        raise InputError(f"nesting deeper than {MAX_DEPTH} levels (a recursive alias?)", file=file, line=line, column=col)
    built.positions.setdefault(path, _pos(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, col = _pos(key_node)
                raise InputError("mapping keys must be plain scalars", file=file, line=line, column=col,
                                 path=_format_path(path) or None)
            key = constructor.construct_object(key_node)
            if isinstance(key, (int, float, bool)) or key is None:
                key = str(key_node.value)
            if key in out:
                line, col = _pos(key_node)
                raise InputError(f"duplicate key {key!r}", file=file, line=line, column=col,
                                 path=_format_path(path + (key,)))
            built.key_positions[path + (key,)] = _pos(key_node)
            out[key] = _build(value_node, path + (key,), built, file, constructor, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, path + (i,), built, file, constructor, depth + 1) for i, item in enumerate(node.value)
        ]
    return constructor.construct_object(node)


def read_yaml(path: str | Path) -> tuple[Any, _Built]:
    """Read one YAML document safely; returns the data and the position index."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise InputError("file not found", file=file)
    if path.is_dir():
        raise InputError("is a directory, expected a YAML scenario file", file=file)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"file is {size:,} bytes; a scenario may be at most {MAX_FILE_BYTES:,} bytes "
            "(put large data in a trace file and reference it)", file=file,
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InputError("this is a binary file, not a YAML scenario", file=file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"not valid UTF-8 text (byte {exc.start}); is this a binary file?", file=file, line=line) from None
    if not text.strip():
        raise InputError("the file is empty; expected a scenario mapping (name, horizon, ...)", file=file)
    try:
        loader = _PlainLoader(text)
        loader.file = file
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        line = text[: exc.position].count("\n") + 1
        raise InputError(f"character {exc.character!r} is not allowed in YAML; is this a binary file?",
                         file=file, line=line) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}: {problem}"
        raise InputError(f"YAML syntax error: {problem}", file=file, line=line, column=col) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", file=file) from None
    finally:
        loader.dispose()
    if node is None:
        raise InputError("the file holds no YAML document; expected a scenario mapping", file=file)
    built = _Built()
    constructor = yaml.constructor.SafeConstructor()
    try:
        data = _build(node, (), built, file, constructor)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise InputError(f"YAML error: {exc.problem}", file=file,
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from None
    except RecursionError:
        raise InputError("YAML nesting too deep", file=file) from None
    if not isinstance(data, dict):
        line, col = _pos(node)
        found = type(data).__name__ if data is not None else "null"
        raise InputError(f"expected a mapping at the top level (name: ..., horizon: ...), found a {found}",
                         file=file, line=line, column=col)
    return data, built


def _format_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _data_path(loc: tuple, data: Any) -> tuple[tuple, bool]:
    """Map a pydantic error location onto the data (dropping union tags and validator names).

    Returns the path and whether its last element exists in the data.
    """
    path: list = []
    current = data
    exists = True
    for part in loc:
        if isinstance(current, dict) and part in current or isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and current.get("kind") == part:
            continue  # discriminated-union tag
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # validator wrappers
        else:
            path.append(part)
            exists = False
            break
    return tuple(path), exists


def _model_at(model: type[BaseModel], path: tuple, data: Any) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``path`` (for did-you-mean)."""
    current_type: Any = model
    current_data = data
    for part in path:
        current_type = _unwrap(current_type, current_data)
        if isinstance(part, int):
            args = typing.get_args(current_type)
            current_type = args[0] if args else Any
        elif isinstance(current_type, type) and issubclass(current_type, BaseModel):
            field = current_type.model_fields.get(part)
            if field is None:
                return None
            current_type = field.annotation
        elif typing.get_origin(current_type) is dict:
            current_type = typing.get_args(current_type)[1]
        else:
            return None
        current_data = current_data[part] if isinstance(current_data, (dict, list)) else None
    current_type = _unwrap(current_type, current_data)
    return current_type if isinstance(current_type, type) and issubclass(current_type, BaseModel) else None


def _unwrap(tp: Any, data: Any) -> Any:
    """Strip Annotated/Optional and pick the union member whose ``kind`` matches the data."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            chosen = None
            kind = data.get("kind") if isinstance(data, dict) else None
            for member in members:
                m = _unwrap(member, None)
                if isinstance(m, type) and issubclass(m, BaseModel):
                    field = m.model_fields.get("kind")
                    if field is not None and kind is not None and kind in typing.get_args(field.annotation):
                        chosen = m
                        break
            if chosen is None and len(members) == 1:
                chosen = members[0]
            if chosen is None:
                for member in members:
                    m = _unwrap(member, None)
                    if isinstance(m, type) and issubclass(m, BaseModel):
                        chosen = m if kind is None else chosen
                        break
            if chosen is None:
                return tp
            tp = chosen
            continue
        return tp


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_errors(exc: ValidationError, model: type[BaseModel], data: Any, built: _Built, file: str) -> InputErrors:
    """Turn a pydantic ValidationError into InputErrors with line, column and field path."""
    errors: list[InputError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        path, exists = _data_path(loc, data)
        kind = err.get("type", "")
        msg = err.get("msg", "invalid value")
        msg = msg.removeprefix("Value error, ")
        if kind == "extra_forbidden":
            parent = _model_at(model, path[:-1], data)
            allowed = list(parent.model_fields) if parent else []
            msg = f"unknown key {path[-1]!r}{did_you_mean(path[-1], allowed)}"
            if allowed:
                msg += f"; allowed keys: {', '.join(allowed)}"
            line, col = built.key_positions.get(path, built.positions.get(path, (None, None)))
        elif kind == "missing":
            msg = f"missing required key {path[-1]!r}"
            parent_path = path[:-1]
            line, col = built.positions.get(parent_path, (None, None))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            parent = path if exists else path[:-1]
            ctx = err.get("ctx", {})
            expected = ctx.get("expected_tags", "")
            found = ctx.get("tag", None)
            if kind == "union_tag_invalid":
                options = [t.strip().strip("'") for t in str(expected).split(",")]
                msg = f"unknown kind {found!r}{did_you_mean(found, options)}; expected one of {expected}"
            else:
                msg = f"missing 'kind'; expected one of {expected}"
            line, col = built.positions.get(parent + ("kind",), built.positions.get(parent, (None, None)))
        else:
            if exists and "input" in err:
                msg = f"{msg} (found {_describe(err['input'])})"
            line, col = built.positions.get(path, (None, None))
            if line is None:
                probe = path
                while probe and probe not in built.positions:
                    probe = probe[:-1]
                line, col = built.positions.get(probe, (None, None))
        errors.append(InputError(msg, file=file, line=line, column=col, path=_format_path(path) or None))
    return InputErrors(errors)


def validate_data(data: Any, built: _Built, file: str, model: type[BaseModel]):
    """Validate data read by :func:`read_yaml` as ``model``; errors point at the YAML."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_errors(exc, model, data, built, file) from None


def load_model(path: str | Path, model: type[BaseModel]):
    """Read ``path`` and validate it as ``model``; raise InputErrors pointing at the YAML."""
    data, built = read_yaml(path)
    return validate_data(data, built, str(path), model), built


def position_of(built: _Built, path: tuple) -> Position | tuple[None, None]:
    return built.positions.get(path, (None, None))
