"""How instants and days are written to the store.

Instants are UTC text with a fixed width, so that comparing two of them as text compares them in
time; days are ISO dates in the library's time zone. Keeping the two formats in one place is what
lets every query compare stored values with ``<`` and ``>`` safely.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db(instant: datetime) -> str:
    """Write an aware datetime as fixed-width UTC text."""
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return instant.astimezone(UTC).strftime(_FORMAT)


def from_db(text: str) -> datetime:
    """Read text written by :func:`to_db` back as an aware UTC datetime."""
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def day_to_db(day: date) -> str:
    return day.isoformat()


def day_from_db(text: str) -> date:
    return date.fromisoformat(text)
