"""Checks Bot API calls (and the emulator's own answers) against the spec in ``api.json``.

The point of the emulator is that a test fails when the bot sends something Telegram would refuse.
So every request is checked before it is handled: the method exists, required fields are there,
no unknown fields, every value has one of the documented types (recursively through nested objects
such as keyboards and inline results, including the "one of" unions like ``InlineQueryResult``),
and the limits written in the field descriptions hold (see :mod:`bot.sandbox.limits`).

Parameters arrive in three encodings: a JSON body, form-urlencoded, or multipart (PTB 22 sends
form fields, JSON-encoding every non-string value, and multipart when it uploads files). Top-level
values given as strings are therefore converted according to the field's type ("123" for an
Integer, "true" for a Boolean, a JSON text for an object), as Telegram does. Values *inside* a
JSON object must have their JSON type exactly: the spec's types are checked strictly there.

Deliberate strictness beyond Telegram: Telegram ignores unknown parameters, the emulator reports
them, because they mean the bot's code and the spec disagree.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot.sandbox.limits import FieldRules, field_rules
from bot.sandbox.text import EntityParseError, parse, utf16_len
from bot.sandbox.upload import Upload

JsonDict = dict[str, Any]

_ONE_OF = re.compile(r"(Exactly|At most) one of the fields other than (.+?) must be used")
_DISCRIMINATOR = re.compile(r"(?:must be|always) \"?([a-z_0-9]+)\"?")
_INT = re.compile(r"-?\d+")
_PARSE_TARGETS = {"text": "parse_mode", "caption": "parse_mode", "message_text": "parse_mode"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where, what, and Telegram's wording for it."""

    path: str
    message: str
    reason: str

    @property
    def description(self) -> str:
        return f"Bad Request: {self.reason}"


@dataclass(frozen=True)
class _Field:
    name: str
    types: tuple[str, ...]
    required: bool
    rules: FieldRules


@dataclass(frozen=True)
class _Shape:
    """A method or an object type: its fields, plus the extra rules its description states."""

    name: str
    fields: dict[str, _Field]
    subtypes: tuple[str, ...]
    one_of: tuple[str, tuple[str, ...]] | None  # ("Exactly"|"At most", excluded field names)
    string_allowed: bool  # "String can be used instead of this object"
    discriminator: tuple[str, str] | None  # (field name, required value) for union members


class ApiSpec:
    """The Bot API as described by api.json, with validators for requests and responses."""

    def __init__(self, data: JsonDict) -> None:
        self.version: str = data.get("version", "")
        self.methods = {
            name: _shape(m, m.get("description", [])) for name, m in data["methods"].items()
        }
        self.returns: dict[str, tuple[str, ...]] = {
            name: tuple(m.get("returns", [])) for name, m in data["methods"].items()
        }
        self.types = {name: _shape(t, []) for name, t in data["types"].items()}

    def has_method(self, name: str) -> bool:
        return name in self.methods

    def field_names(self, method: str) -> set[str]:
        return set(self.methods[method].fields)

    def check_request(self, method: str, raw: dict[str, Any]) -> tuple[JsonDict, list[Problem]]:
        """Validate one call; return its parameters converted to JSON values, and the problems.

        ``raw`` maps parameter names to what arrived: JSON values (JSON body), strings (form
        fields) or :class:`Upload` (multipart file parts).
        """
        shape = self.methods[method]
        params: JsonDict = {}
        problems: list[Problem] = []
        for name, value in raw.items():
            if value is None:
                continue  # JSON null: the same as leaving the parameter out
            spec_field = shape.fields.get(name)
            if spec_field is None:
                if not _is_attachment(name, raw):
                    problems.append(
                        Problem(name, "unknown parameter", f'unknown parameter "{name}"')
                    )
                continue
            converted = self._convert_top(value, spec_field.types)
            if isinstance(converted, Problem):
                problems.append(Problem(name, converted.message, converted.reason))
                continue
            params[name] = converted
        problems += self._check_object(shape, params, "", top=True)
        return params, problems

    def check_value(
        self, types: tuple[str, ...] | list[str], value: Any, path: str
    ) -> list[Problem]:
        """Validate a JSON value against spec type names (used for the emulator's answers)."""
        return self._check(tuple(types), value, path, limits=False)

    # -- conversion of top-level parameters -------------------------------------------------

    def _convert_top(self, value: Any, types: tuple[str, ...]) -> Any:
        if isinstance(value, Upload):
            if "InputFile" in types:
                return value
            return Problem("", "a file was uploaded for a non-file field", "wrong file upload")
        if not isinstance(value, str):
            return value
        if "Integer" in types and _INT.fullmatch(value.strip()):
            return int(value)
        if "String" in types:
            return value
        if "Boolean" in types and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if "Float" in types:
            try:
                return float(value)
            except ValueError:
                pass
        if any(t not in ("Integer", "Boolean", "Float", "InputFile") for t in types):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                expected = " or ".join(types)
                return Problem("", f"not a JSON {expected}", f"can't parse {expected} JSON object")
        expected = " or ".join(types)
        return Problem(
            "", f"{value!r} is not {expected}", f"wrong parameter type, expected {expected}"
        )

    # -- recursive checks ---------------------------------------------------------------------

    def _check(
        self, types: tuple[str, ...], value: Any, path: str, limits: bool = True
    ) -> list[Problem]:
        """Problems of ``value`` against the union ``types``; empty when one alternative fits."""
        alternatives = _expand(types)
        if len(alternatives) == 1:
            return self._check_one(alternatives[0], value, path, limits)
        best: list[Problem] | None = None
        best_score = -1
        for type_name in alternatives:
            problems = self._check_one(type_name, value, path, limits)
            if not problems:
                return []
            score = self._affinity(type_name, value)
            if score > best_score:
                best, best_score = problems, score
        if best is None or not isinstance(value, dict | list):
            return [_wrong_type(path, types, value)]
        return best

    def _affinity(self, type_name: str, value: Any) -> int:
        """How much ``value`` looks like ``type_name``; picks the most useful error of a union."""
        shape = self.types.get(type_name)
        if shape is None or not isinstance(value, dict):
            return 0
        if shape.discriminator and value.get(shape.discriminator[0]) == shape.discriminator[1]:
            return 1000
        return sum(1 for key in value if key in shape.fields)

    def _check_one(self, type_name: str, value: Any, path: str, limits: bool) -> list[Problem]:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [_wrong_type(path, (type_name,), value)]
            inner = (type_name.removeprefix("Array of "),)
            out: list[Problem] = []
            for index, item in enumerate(value):
                out += self._check(inner, item, f"{path}[{index}]", limits)
            return out
        primitive = _PRIMITIVES.get(type_name)
        if primitive is not None:
            return [] if primitive(value) else [_wrong_type(path, (type_name,), value)]
        shape = self.types.get(type_name)
        if shape is None:
            return [Problem(path, f"unknown spec type {type_name}", f"unknown type {type_name}")]
        if shape.string_allowed and isinstance(value, str):
            return []
        if shape.subtypes:
            if isinstance(value, dict) and (wrong := self._undiscriminated(shape, value, path)):
                return [wrong]
            return self._check(shape.subtypes, value, path, limits)
        if not isinstance(value, dict):
            return [_wrong_type(path, (type_name,), value)]
        return self._check_object(shape, value, path, limits=limits)

    def _undiscriminated(self, union: _Shape, value: JsonDict, path: str) -> Problem | None:
        """A problem when ``value``'s type/status tag names none of the union's members."""
        tags = [self.types[name].discriminator for name in union.subtypes if name in self.types]
        keys = {tag[0] for tag in tags if tag is not None}
        if len(keys) != 1 or None in tags:
            return None
        key = keys.pop()
        allowed = sorted({tag[1] for tag in tags if tag is not None})
        where = f"{path}.{key}" if path else key
        if key not in value:
            return _missing(where, key)
        if value[key] in allowed:
            return None
        message = f"{value[key]!r} is not one of {allowed}"
        return Problem(where, message, f'unsupported {union.name} "{value[key]}"')

    def _check_object(
        self, shape: _Shape, value: JsonDict, path: str, top: bool = False, limits: bool = True
    ) -> list[Problem]:
        problems: list[Problem] = []
        prefix = f"{path}." if path else ""
        for name, declared in shape.fields.items():
            if declared.required and name not in value:
                problems.append(_missing(f"{prefix}{name}", name))
        if shape.discriminator:
            key, expected = shape.discriminator
            if key in value and value[key] != expected:
                problems.append(
                    Problem(f"{prefix}{key}", f"must be {expected!r}", f"{key} must be {expected}")
                )
        for name, item in value.items():
            spec_field = shape.fields.get(name)
            where = f"{prefix}{name}"
            if spec_field is None:
                if not top:
                    problems.append(Problem(where, "unknown field", f'unknown field "{where}"'))
                continue
            if top and isinstance(item, Upload):
                continue
            found = self._check(spec_field.types, item, where, limits)
            if found:
                problems += found
                continue
            if limits:
                problems += _check_rules(spec_field, item, where, value)
        if shape.one_of and limits:
            problems += _check_one_of(shape, value, path)
        return problems


@functools.cache
def load_spec() -> ApiSpec:
    """The packaged spec, read once per process (it is ~900 kB of JSON)."""
    text = resources.files("bot.sandbox").joinpath("api.json").read_text(encoding="utf-8")
    return ApiSpec(json.loads(text))


def _shape(raw: JsonDict, method_description: list[str]) -> _Shape:
    fields = {
        f["name"]: _Field(
            f["name"], tuple(f["types"]), bool(f["required"]), field_rules(f, method_description)
        )
        for f in raw.get("fields", [])
    }
    description = " ".join(raw.get("description", []))
    one_of: tuple[str, tuple[str, ...]] | None = None
    if match := _ONE_OF.search(description):
        names = re.split(r",\s*(?:and\s+)?|\s+and\s+", match.group(2))
        one_of = (match.group(1), tuple(n.strip() for n in names if n.strip()))
    discriminator: tuple[str, str] | None = None
    for key in ("type", "status", "source"):
        spec_field = _raw_field(raw, key)
        if spec_field and (found := _DISCRIMINATOR.search(spec_field["description"])):
            discriminator = (key, found.group(1))
            break
    return _Shape(
        name=raw["name"],
        fields=fields,
        subtypes=tuple(raw.get("subtypes", [])),
        one_of=one_of,
        string_allowed="String can be used instead of this object" in description,
        discriminator=discriminator,
    )


def _raw_field(raw: JsonDict, name: str) -> JsonDict | None:
    """The spec entry of field ``name`` in a raw method/type entry, if any."""
    return next((f for f in raw.get("fields", []) if f["name"] == name), None)


def _expand(types: tuple[str, ...]) -> list[str]:
    """Split the alternative spellings "Integer or String" into separate type names."""
    out: list[str] = []
    for type_name in types:
        out += [part.strip() for part in type_name.split(" or ")]
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "Integer": _is_int,
    "Float": lambda v: _is_int(v) or isinstance(v, float),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
    "InputFile": lambda v: (
        isinstance(v, Upload) or (isinstance(v, str) and v.startswith("attach://"))
    ),
}


def _is_attachment(name: str, raw: dict[str, Any]) -> bool:
    """A multipart part referenced elsewhere as ``attach://name`` is not an unknown field."""
    return isinstance(raw.get(name), Upload) and any(
        isinstance(v, str) and f"attach://{name}" in v for v in raw.values()
    )


def _wrong_type(path: str, types: tuple[str, ...], value: Any) -> Problem:
    expected = " or ".join(types)
    got = type(value).__name__
    return Problem(path, f"expected {expected}, got {got}", f'field "{path}" must be {expected}')


_MISSING_REASONS = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "callback_query_id": "query is too old and response timeout expired or query ID is invalid",
}


def _missing(path: str, name: str) -> Problem:
    reason = _MISSING_REASONS.get(path, f'parameter "{path}" is required')
    return Problem(path, "required field is missing", reason)


def _length_reason(path: str, too_long: bool) -> str:
    leaf = path.rsplit(".", 1)[-1]
    if leaf == "callback_data":
        return "BUTTON_DATA_INVALID"
    if path == "text" or leaf == "message_text":
        return "message is too long" if too_long else "message text is empty"
    if leaf == "caption":
        return "message caption is too long"
    return f'field "{path}" is too long' if too_long else f'field "{path}" is too short'


def _check_rules(spec_field: _Field, value: Any, path: str, siblings: JsonDict) -> list[Problem]:
    rules = spec_field.rules
    problems: list[Problem] = []
    if isinstance(value, str):
        measured = value
        mode_key = _PARSE_TARGETS.get(spec_field.name, f"{spec_field.name}_parse_mode")
        mode = siblings.get(mode_key)
        if isinstance(mode, str) and mode:
            try:
                measured = parse(value, mode).text
            except EntityParseError as error:
                return [Problem(path, str(error), f"can't parse entities: {error}")]
        elif rules.after_entities:
            measured = value.strip()
        if rules.length is not None:
            size = (
                len(measured.encode("utf-8"))
                if rules.length_unit == "bytes"
                else utf16_len(measured)
            )
            if size not in rules.length:
                low, high = rules.length.low, rules.length.high
                problems.append(
                    Problem(
                        path,
                        f"{size} {rules.length_unit}, allowed {low}-{high}",
                        _length_reason(path, size > high),
                    )
                )
        if rules.charset and not re.fullmatch(rules.charset, value):
            problems.append(
                Problem(path, f"characters outside {rules.charset}", f'field "{path}" is invalid')
            )
    if rules.value is not None and _is_int(value) and value not in rules.value:
        low, high = rules.value.low, rules.value.high
        problems.append(
            Problem(path, f"{value} outside {low}-{high}", f'field "{path}" must be {low}-{high}')
        )
    if rules.count is not None and isinstance(value, list) and len(value) not in rules.count:
        low, high = rules.count.low, rules.count.high
        reason = (
            "RESULTS_TOO_MUCH"
            if path == "results"
            else f'field "{path}" must have {low}-{high} items'
        )
        problems.append(Problem(path, f"{len(value)} items, allowed {low}-{high}", reason))
    return problems


def _check_one_of(shape: _Shape, value: JsonDict, path: str) -> list[Problem]:
    assert shape.one_of is not None
    rule, excluded = shape.one_of
    used = [name for name in value if name not in excluded and name in shape.fields]
    if rule == "Exactly" and len(used) != 1:
        where = path or shape.name
        message = f"exactly one of the {shape.name} action fields must be set, found {used}"
        if not used:
            reason = (
                "can't parse inline keyboard button: "
                "Text buttons are unallowed in the inline keyboard"
            )
        else:
            reason = f"can't parse {shape.name}: more than one action field in {where}"
        return [Problem(where, message, reason)]
    if rule == "At most" and len(used) > 1:
        where = path or shape.name
        return [Problem(where, f"at most one action field, found {used}", f"can't parse {where}")]
    return []
