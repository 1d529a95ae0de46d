"""ISBN normalisation: ISBN-10 and ISBN-13 of one book must find the same record.

Every ISBN is stored as its ISBN-13 (978 prefix for converted ISBN-10s). A string with a wrong
check digit is not an ISBN: cataloguers record cancelled or mistyped numbers in 020$z/010$z, and
the importer reads only the valid ones.
"""

from __future__ import annotations

import re

_CANDIDATE = re.compile(r"(?<![0-9])(97[89][0-9]{10}|[0-9]{9}[0-9Xx])(?![0-9])")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]")


def _isbn10_check(first9: str) -> str:
    total = sum((10 - index) * int(digit) for index, digit in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(first12: str) -> str:
    total = sum((1 if index % 2 == 0 else 3) * int(digit) for index, digit in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid(isbn: str) -> bool:
    isbn = isbn.upper()
    if not isbn.isascii():  # "²" and "١" are digits to str.isdigit, and int() refuses "²"
        return False
    if len(isbn) == 10 and isbn[:9].isdigit():
        return isbn[9] == _isbn10_check(isbn[:9])
    if len(isbn) == 13 and isbn.isdigit():
        return isbn[12] == _isbn13_check(isbn[:12])
    return False


def to_isbn13(isbn10: str) -> str:
    core = "978" + isbn10[:9]
    return core + _isbn13_check(core)


def to_isbn10(isbn13: str) -> str | None:
    """The ISBN-10 of a 978 ISBN-13; 979 numbers have none."""
    if not isbn13.startswith("978"):
        return None
    core = isbn13[3:12]
    return core + _isbn10_check(core)


def normalize(raw: str) -> str | None:
    """The ISBN-13 found at the start of a catalog value (``0812917561 :`` etc.), or None."""
    compact = _SEPARATORS.sub("", raw)
    match = _CANDIDATE.search(compact)
    if match is None:
        return None
    isbn = match.group(1).upper()
    if not is_valid(isbn):
        return None
    return to_isbn13(isbn) if len(isbn) == 10 else isbn


def parse_query(text: str) -> str | None:
    """If a whole search query is one ISBN (with or without hyphens), its ISBN-13."""
    compact = _SEPARATORS.sub("", text.strip())
    if compact.upper().startswith("ISBN"):
        compact = compact[4:].lstrip(":")
    if len(compact) not in (10, 13):
        return None
    compact = compact.upper()
    if not is_valid(compact):
        return None
    return to_isbn13(compact) if len(compact) == 10 else compact
