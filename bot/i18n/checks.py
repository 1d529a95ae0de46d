"""Checks on the catalogs, kept in the package so the tests and any future command share them.

A catalog can be wrong in ways no type checker sees: a message left untranslated (the patron
reads English in an Italian chat), a translation that drops or renames a placeholder (the text
loses the date, or the formatting falls back to English), a template older than the code (new
messages that no translator was ever asked for). Each function returns the problems it found,
as lines a person can act on; an empty list means the check passed.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

COMMENT_TAGS = ("TRANSLATORS:",)

MessageKey = tuple[str | None, str | tuple[str, ...]]


def key(message: Message) -> MessageKey:
    """A message's identity: its context and its id (both forms for a plural)."""
    ids = message.id
    return (message.context, tuple(ids) if isinstance(ids, list | tuple) else ids)


def messages(catalog: Catalog) -> Iterator[Message]:
    """The catalog's messages, without the header entry."""
    return (message for message in catalog if message.id)


def _forms(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(form or "") for form in value]
    return [str(value or "")]


def _label(message: Message) -> str:
    first = _forms(message.id)[0]
    return f"[{message.context}] {first!r}" if message.context else repr(first)


def placeholders(text: str) -> set[str] | None:
    """The named ``str.format`` fields of ``text`` (``{date}`` → ``date``); None if malformed."""
    try:
        fields = {
            name.split(".", 1)[0].split("[", 1)[0]
            for _, name, _, _ in string.Formatter().parse(text)
            if name is not None
        }
    except ValueError:
        return None
    return fields


def untranslated(catalog: Catalog) -> list[str]:
    """Messages with an empty translation (in any plural form) or only a fuzzy one."""
    problems = []
    for message in messages(catalog):
        forms = _forms(message.string)
        if message.pluralizable:
            forms += [""] * (catalog.num_plurals - len(forms))
        if message.fuzzy:
            problems.append(f"{_label(message)}: fuzzy (not reviewed), not used")
        elif not all(form.strip() for form in forms):
            problems.append(f"{_label(message)}: no {catalog.locale} translation")
    return problems


def placeholder_mismatches(catalog: Catalog) -> list[str]:
    """Translations whose placeholders differ from those of their message id."""
    problems = []
    for message in messages(catalog):
        expected: set[str] = set()
        for source in _forms(message.id):
            found = placeholders(source)
            if found is None:
                problems.append(f"{_label(message)}: malformed braces in the message id")
                break
            expected |= found
        for form in _forms(message.string):
            if not form:
                continue  # reported by untranslated()
            got = placeholders(form)
            if got is None:
                problems.append(f"{_label(message)}: malformed braces in {form!r}")
            elif got != expected:
                missing = ", ".join(sorted(expected - got)) or "-"
                extra = ", ".join(sorted(got - expected)) or "-"
                problems.append(
                    f"{_label(message)}: translation {form!r} lacks {{{missing}}}, "
                    f"has unknown {{{extra}}}"
                )
    return problems


def convention_problems(catalog: Catalog) -> list[str]:
    """Message ids that break the conventions of :mod:`bot.i18n`: ``%`` formatting, positional
    ``{}``/``{0}`` fields, or braces that do not parse."""
    problems = []
    for message in messages(catalog):
        if message.python_format:
            problems.append(f"{_label(message)}: %-formatting; use named {{placeholders}}")
        for source in _forms(message.id):
            found = placeholders(source)
            if found is None:
                problems.append(f"{_label(message)}: malformed braces")
            elif any(not name.isidentifier() for name in found):
                problems.append(f"{_label(message)}: positional placeholder; name it")
    return problems


def extract(source_dir: Path, mapping_file: Path) -> Catalog:
    """What ``pybabel extract -F mapping_file`` finds under ``source_dir``, as a catalog."""
    with mapping_file.open(encoding="utf-8") as handle:
        # babel ships this parser untyped; it returns ([(pattern, method)], {pattern: options}).
        method_map, options_map = parse_mapping_cfg(handle, str(mapping_file))  # type: ignore[no-untyped-call]
    catalog = Catalog()
    found = extract_from_dir(
        source_dir,
        method_map,
        options_map,
        keywords=DEFAULT_KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=False,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def drift(expected: Catalog, actual: Catalog, *, what: str) -> list[str]:
    """Messages in one catalog and not the other (``what`` names ``actual`` in the report)."""
    wanted = {key(message): message for message in messages(expected)}
    present = {key(message): message for message in messages(actual)}
    problems = [f"{_label(wanted[k])}: missing from {what}" for k in wanted.keys() - present]
    problems += [f"{_label(present[k])}: stale in {what}" for k in present.keys() - wanted]
    return sorted(problems)
