"""Load a policy: a preset by name, or a TOML file that may extend a preset or another file.

``extends = "cbnem"`` (or a path, relative to the extending file) deep-merges the file over its
base: tables merge key by key, any other value (numbers, strings, arrays) replaces the base's.
So a library that only lends DVDs for 14 days writes two lines, and keeps every other number of
the regulation it follows.

A wrong value stops with :class:`PolicyError`, whose message is one line naming the key, for the
same reason as the settings (library administrators read it, not Python programmers).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.circulation.policy import Policy

PRESETS = ("ginestra", "cbnem")
_MAX_DEPTH = 8


class PolicyError(ValueError):
    """A policy that cannot be loaded, phrased as the one line an administrator sees."""


def load_policy(name_or_path: str | os.PathLike[str]) -> Policy:
    """Load a preset (``"ginestra"``, ``"cbnem"``) or a policy TOML file.

    A file that does not set ``name`` is named after itself (its stem), so that a summary never
    shows a derived policy under its preset's name.
    """
    source = os.fspath(name_or_path)
    data = _resolve(source, base_dir=Path.cwd(), seen=())
    data.setdefault("name", source if source in PRESETS else Path(source).stem)
    return policy_from_mapping(data, source=_label(source))


def policy_from_mapping(data: Mapping[str, Any], *, source: str = "policy") -> Policy:
    """Validate already-merged policy data (tests and the admin panel build policies so)."""
    try:
        return Policy.model_validate(dict(data))
    except ValidationError as exc:
        raise PolicyError(f"policy error: {source}: {describe_policy_error(exc)}") from None


def merge_policy_data(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, every other value in ``override`` wins."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = merge_policy_data(below, value)
        else:
            merged[key] = value
    return merged


def preset_text(name: str) -> str:
    """The TOML text of a shipped preset (the admin panel shows it)."""
    if name not in PRESETS:
        raise PolicyError(f"policy error: unknown preset {name!r} (choose {', '.join(PRESETS)})")
    return _preset_dir().joinpath(f"{name}.toml").read_text("utf-8")


def describe_policy_error(exc: ValidationError) -> str:
    """``loans.limits.adult.total: must be >= 0 (got -1)``: the first problem, on one line."""
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"] if part != "[key]")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "missing"
    elif "input" in error and not isinstance(error["input"], Mapping):
        message = f"{message} (got {error['input']!r})"
    return f"{location}: {message}" if location else message


def _preset_dir() -> Traversable:
    return resources.files("bot.circulation").joinpath("presets")


def _resolve(source: str, *, base_dir: Path, seen: tuple[str, ...]) -> dict[str, Any]:
    identity = source if source in PRESETS else str((base_dir / source).resolve())
    if identity in seen:
        chain = " -> ".join((*seen, identity))
        raise PolicyError(f"policy error: extends: a cycle ({chain})")
    if len(seen) >= _MAX_DEPTH:
        raise PolicyError("policy error: extends: too many levels")
    if source in PRESETS:
        data = _parse(preset_text(source), source)
        next_dir = base_dir
    else:
        path = base_dir / source
        data = _parse(_read(path), _label(source))
        next_dir = path.parent
    _fold_sections(data, _label(source))
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise PolicyError(
            f"policy error: {_label(source)}: extends: must be a preset name or a path"
        )
    base = _resolve(parent, base_dir=next_dir, seen=(*seen, identity))
    base.pop("name", None)  # a derived policy never inherits its base's name
    return merge_policy_data(base, data)


def _fold_sections(data: dict[str, Any], label: str) -> None:
    """Fold ``[sections.CODE]`` keys, so a derived ``[sections.ref]`` overrides ``REF``."""
    sections = data.get("sections")
    if not isinstance(sections, dict):
        return
    folded: dict[str, Any] = {}
    for code, rules in sections.items():
        key = code.strip().casefold()
        if key in folded:
            raise PolicyError(f"policy error: {label}: sections.{code}: listed twice")
        folded[key] = rules
    data["sections"] = folded


def _read(path: Path) -> str:
    if path.suffix != ".toml" and not path.is_file():
        raise PolicyError(
            f"policy error: {path}: not a preset ({', '.join(PRESETS)}) nor a .toml file"
        )
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise PolicyError(f"policy error: {path}: no such file") from None
    except OSError as exc:
        raise PolicyError(f"policy error: {path}: cannot read: {exc.strerror}") from None


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy error: {label}: not valid TOML: {exc}") from None


def _label(source: str) -> str:
    return source if source in PRESETS else os.path.basename(source) or source
