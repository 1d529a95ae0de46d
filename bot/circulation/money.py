"""Money is integer euro cents everywhere; these two functions are the only way in and out.

Floats would turn C7's 8 × € 0.10 into 0.8000000000000002; the store, the rules and the JSON all
agree on cents, and only the edges (``pay CARD AMOUNT``, ``"fine": "0.80"``) see euros.
"""

from __future__ import annotations

import re

_EUROS = re.compile(r"^(?P<units>\d{1,9})(?:[.,](?P<cents>\d{1,2}))?$")


def format_euros(cents: int) -> str:
    """``80`` → ``"0.80"``: INTERFACE.md's decimal string with two decimals."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units}.{rest:02d}"


def parse_euros(text: str) -> int:
    """``"0.80"``, ``"0,80"`` or ``"3"`` → cents; a negative or malformed amount is an error.

    Italian staff type a comma as often as a point, so both are accepted.
    """
    match = _EUROS.match(text.strip())
    if match is None:
        raise ValueError(f"not an amount in euros: {text!r} (e.g. 0.80)")
    cents = match.group("cents") or "0"
    return int(match.group("units")) * 100 + int(cents.ljust(2, "0"))
