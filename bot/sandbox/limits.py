"""Value limits that the Bot API spec states only in prose, extracted with regular expressions.

api.json has no structured keys for limits: "callback_data ... 1-64 bytes", "Values between 1-100
are accepted", "At most 100 commands can be specified", "No more than 50 results per query are
allowed". Reading them from the descriptions (instead of hand-copying a table) keeps the emulator
honest when the spec file is updated. Each rule is computed once per field and cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

JsonDict = dict[str, Any]

_LENGTH = re.compile(r"(\d+)-(\d+) (characters|bytes)", re.IGNORECASE)
_VALUE = re.compile(r"(?<![\w.])(\d+)-(\d+)\b(?! (?:characters|bytes))", re.IGNORECASE)
_VALUE_BETWEEN = re.compile(r"[Mm]ust be between (\d+) and (\d+) if specified")
_COUNT_RANGE = re.compile(r"(?:list of|include) (\d+)-(\d+)")
_COUNT_MAX = re.compile(
    r"(?:[Aa]t most|[Uu]p to|[Nn]o more than) (\d+)(?! (?:characters|sizes|kilobytes))"
)
_METHOD_COUNT = re.compile(r"[Nn]o more than (\d+) (\w+)")
_CHARSETS = (
    (re.compile(r"only lowercase English letters, digits and underscores"), "[a-z0-9_]*"),
    (re.compile(r"[Oo]nly (?:characters )?A-Z, a-z, 0-9, _ and - are allowed"), "[A-Za-z0-9_-]*"),
)


@dataclass(frozen=True)
class Range:
    """An inclusive range ``low..high``."""

    low: int
    high: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.low <= value <= self.high


@dataclass(frozen=True)
class FieldRules:
    """What a field's description says about its values, beyond its type."""

    length: Range | None = None
    length_unit: Literal["characters", "bytes"] = "characters"
    after_entities: bool = False
    value: Range | None = None
    count: Range | None = None
    charset: str | None = None

    @property
    def empty(self) -> bool:
        return self == _NO_RULES


_NO_RULES = FieldRules()


def field_rules(field: JsonDict, method_description: list[str] | None = None) -> FieldRules:
    """The limits stated in ``field``'s description (and, for arrays, in its method's text)."""
    description: str = field.get("description", "")
    types: list[str] = field.get("types", [])
    length: Range | None = None
    unit: Literal["characters", "bytes"] = "characters"
    if "String" in types and (match := _LENGTH.search(description)):
        length = Range(int(match.group(1)), int(match.group(2)))
        unit = "bytes" if match.group(3).lower() == "bytes" else "characters"
    value: Range | None = None
    if types == ["Integer"]:
        bounds = [(int(m.group(1)), int(m.group(2))) for m in _VALUE.finditer(description)]
        bounds += [(int(m.group(1)), int(m.group(2))) for m in _VALUE_BETWEEN.finditer(description)]
        if bounds:
            value = Range(min(low for low, _ in bounds), max(high for _, high in bounds))
    count: Range | None = None
    if any(t.startswith("Array of") for t in types):
        count = _count_rule(field["name"], description, method_description or [])
    charset = next((rx for pattern, rx in _CHARSETS if pattern.search(description)), None)
    return FieldRules(
        length=length,
        length_unit=unit,
        after_entities="after entit" in description,
        value=value,
        count=count,
        charset=charset,
    )


def _count_rule(name: str, description: str, method_description: list[str]) -> Range | None:
    if match := _COUNT_RANGE.search(description):
        return Range(int(match.group(1)), int(match.group(2)))
    if match := _COUNT_MAX.search(description):
        return Range(0, int(match.group(1)))
    for line in method_description:
        for match in _METHOD_COUNT.finditer(line):
            if match.group(2) == name:
                return Range(0, int(match.group(1)))
    return None
