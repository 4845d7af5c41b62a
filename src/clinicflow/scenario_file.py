"""Reading and writing scenario files (YAML) with strict, one-line errors.

Validation errors from pydantic are rewritten here into the form a practice's staff can act
on: ``file:line: providers[2].sessions.tue[0].end: expected … , got …``. The YAML is parsed
once into nodes so that each field path can be mapped back to its line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .domain.base import FieldProblem
from .domain.scenario import CrossReferenceProblem, Scenario
from .errors import InputError
from .tables import read_text

# ---------------------------------------------------------------------------------------------
# YAML with line numbers and duplicate-key detection


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int):
        self.key, self.line = key, line


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_index(
    node: yaml.Node | None, path: tuple = (), out: dict | None = None, seen: set[int] | None = None
) -> dict[tuple, int]:
    """Map each field path to the 1-based line where its value starts.

    A node reached again through a YAML alias (``*name``) is indexed once, at its first path: an
    alias that refers to its own parent would otherwise recurse forever, and nested aliases would
    multiply the work.
    """
    out = {} if out is None else out
    seen = set() if seen is None else seen
    if node is None:
        return out
    out[path] = node.start_mark.line + 1
    if id(node) in seen:
        return out
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            # YAML ints as keys (walk_ins_by_hour) are still looked up by their text
            out.setdefault((*path, key), k.start_mark.line + 1)
            _line_index(v, (*path, key), out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _line_index(v, (*path, i), out, seen)
    return out


def read_yaml(path: str | Path) -> tuple[Any, dict[tuple, int]]:
    """Parse a YAML file; return the data and a path → line index. Raises InputError."""
    p = Path(path)
    text = read_text(p)
    try:
        data = yaml.load(text, Loader=_StrictLoader)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except _DuplicateKey as e:
        raise InputError(
            p, None, f"duplicate key {e.key!r} (each key may appear once)", line=e.line
        ) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(p, None, f"not valid YAML: {e.problem or e.context}", line=line) from None
    except yaml.YAMLError as e:
        raise InputError(p, None, f"not valid YAML: {e}") from None
    except RecursionError:  # PyYAML composes nested collections recursively: [[[[… thousands deep
        raise InputError(
            p, None, "not valid YAML: nested too deeply (expected a few levels of mappings and lists)"
        ) from None
    return data, _line_index(node)


# ---------------------------------------------------------------------------------------------
# Field paths


def format_path(parts: Iterable[Any]) -> str:
    """('providers', 2, 'sessions', 'tue', 0, 'end') → 'providers[2].sessions.tue[0].end'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _data_path(data: Any, loc: tuple) -> tuple:
    """Follow pydantic's ``loc`` through the raw data, dropping the parts pydantic adds that are
    not in the file (union tags such as 'lognormal', validator names)."""
    out: list[Any] = []
    cur = data
    for part in loc:
        if (isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)) or (
            isinstance(cur, dict) and part in cur
        ):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and part.isdigit() and int(part) in cur:
            out.append(int(part))
            cur = cur[int(part)]
        elif isinstance(cur, dict) and isinstance(part, str) and (key := _key_by_repr(cur, part)) is not None:
            out.append(key)  # a key YAML read as a date or a number: pydantic names it by its repr
            cur = cur[key]
        elif isinstance(cur, dict) and part in _ALIASES and _ALIASES[part] in cur:
            out.append(_ALIASES[part])
            cur = cur[_ALIASES[part]]
        elif cur is None or not isinstance(cur, (dict, list)):
            # a missing value or a scalar where a mapping was expected: keep the field name
            if isinstance(part, (int, str)) and not _is_tag(part):
                out.append(part)
            cur = None
        elif isinstance(cur, dict) and _is_field_name(part):
            out.append(part)  # a missing required field
            cur = None
    return tuple(out)


_ALIASES = {"mean_": "mean", "sd_": "sd"}


def _key_by_repr(mapping: dict, part: str) -> Any:
    return next((k for k in mapping if not isinstance(k, str) and repr(k) == part), None)


def _shown(value: Any) -> str:
    """A value quoted back to the person as they wrote it (a YAML date as 2026-01-05, not its repr)."""
    import datetime as dt

    return repr(value.isoformat()) if isinstance(value, (dt.date, dt.time)) else repr(value)


_TAGS = {"deterministic", "exponential", "lognormal", "gamma", "normal", "empirical"}


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _TAGS or "[" in part or part.startswith("function-"))


def _is_field_name(part: Any) -> bool:
    return isinstance(part, str) and not _is_tag(part)


def _model_at(model: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The pydantic model class that owns the last mapping in ``path`` (for 'expected one of')."""
    import typing

    cur: Any = model
    for part in path:
        if isinstance(part, int):
            args = typing.get_args(cur)
            cur = args[0] if args else None
            continue
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            fields = cur.model_fields
            name = next((n for n, f in fields.items() if (f.alias or n) == part), None)
            if name is None:
                return None
            cur = _unwrap(fields[name].annotation)
        else:
            args = typing.get_args(cur)
            if args and typing.get_origin(cur) is dict:
                cur = _unwrap(args[1])
            else:
                return None
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    import types
    import typing

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else tp
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin is list:
        return list[_unwrap(typing.get_args(tp)[0])]
    return tp


def _expected_fields(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _describe(err: dict, data: Any, root: type[BaseModel]) -> tuple[tuple, str]:
    """Turn one pydantic error into (path, message)."""
    ctx = err.get("ctx") or {}
    exc = ctx.get("error")
    if isinstance(exc, CrossReferenceProblem):
        return tuple(exc.path), exc.message
    path = _data_path(data, tuple(err["loc"]))
    if isinstance(exc, FieldProblem):
        return (*path, *exc.sub), exc.message
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(root, path[:-1])
        allowed = _expected_fields(owner) if owner else []
        key = path[-1] if path else "?"
        hint = difflib.get_close_matches(str(key), allowed, n=1)
        msg = f"unknown field {key!r}"
        if hint:
            msg += f" (did you mean {hint[0]!r}?)"
        elif allowed:
            msg += f" (expected one of: {', '.join(allowed)})"
        return path, msg
    if kind == "missing":
        return path, "required field is missing"
    if kind == "union_tag_invalid":
        return (*path, "dist"), (
            f"unknown distribution {ctx.get('tag')!r} (expected one of: {ctx.get('expected_tags')})"
        )
    if kind == "union_tag_not_found":
        return (
            path,
            "expected a number or a distribution with a 'dist' key (e.g. {dist: lognormal, mean: 20, sd: 8})",
        )
    if kind == "literal_error":
        return path, f"expected {ctx.get('expected')}, got {_shown(value)}"
    if kind in ("model_type", "dict_type"):
        shown = "" if value is None else f", got {_shown(value)}"
        return path, f"expected a mapping of fields (name: value){shown}"
    if kind in ("value_error", "assertion_error"):
        msg = str(exc) if exc is not None else err["msg"]
        return path, msg
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    if value is not None and not isinstance(value, (dict, list)):
        msg += f", got {value!r}"
    return path, msg


def validation_to_input_error(
    exc: ValidationError, file: str | Path | None, data: Any, lines: dict[tuple, int], root: type[BaseModel]
) -> InputError:
    errors = exc.errors(include_url=False)
    path, message = _describe(errors[0], data, root)
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    line = None
    for k in range(len(path), -1, -1):
        if path[:k] in lines:
            line = lines[path[:k]]
            break
    return InputError(file, format_path(path) or None, message, line=line)


# ---------------------------------------------------------------------------------------------
# Public API


def scenario_from_dict(data: Any, file: str | Path | None = None, lines: dict | None = None) -> Scenario:
    """Validate a mapping (e.g. parsed YAML, or a scenario with overrides) into a Scenario."""
    if not isinstance(data, dict):
        raise InputError(
            file, None, "expected a mapping of scenario fields at the top level (clinic:, providers: …)"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise validation_to_input_error(e, file, data, lines or {}, Scenario) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file. Raises ``InputError`` with one line on any problem."""
    data, lines = read_yaml(path)
    return scenario_from_dict(data, path, lines)


def require_clinic_sessions(scenario: Scenario, path: str | Path) -> None:
    """Simulating and comparing need clinic sessions; a surgery-only scenario (OR blocks, no
    session) is valid for ``clinicflow surgery`` and refused here in one line naming the file."""
    if not scenario.has_clinic_sessions:
        raise InputError(
            path,
            "providers",
            "no provider has a clinic session (expected sessions under providers[].sessions; "
            "a surgery-only scenario's OR blocks are planned with clinicflow surgery)",
        )


def scenario_to_dict(scenario: Scenario) -> dict:
    """The scenario as plain data, in the file's vocabulary (times "HH:MM"), without defaults."""
    return scenario.model_dump(mode="json", by_alias=True, exclude_none=True)


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as YAML text that loads back to an equal Scenario."""
    return yaml.safe_dump(scenario_to_dict(scenario), sort_keys=False, allow_unicode=True, width=100)


def write_scenario(scenario: Scenario, path: str | Path) -> None:
    Path(path).write_text(dump_scenario(scenario), encoding="utf-8")
