"""The facts a circulation decision is taken on, independent of how the store keeps them.

Each type mirrors the columns of ``db/migrations/0001_initial.sql`` that the rules read (branch
codes instead of row ids, dates instead of text), so a repository builds one from a row in a
line, and a test builds one by hand without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.catalog.model import ItemStatus, MaterialType

__all__ = [
    "CopyFacts",
    "HoldFacts",
    "HoldState",
    "ItemCondition",
    "ItemFacts",
    "ItemStatus",
    "LoanFacts",
    "MaterialType",
    "PatronCategory",
    "PatronFacts",
]


class PatronCategory(StrEnum):
    """``patrons.category``: the rules give each category its own numbers (G5, C7)."""

    ADULT = "adult"
    CHILD = "child"
    INSTITUTION = "institution"


class ItemCondition(StrEnum):
    """``items.condition``: G3 excludes items in bad condition from loan."""

    GOOD = "good"
    POOR = "poor"


class HoldState(StrEnum):
    """``holds.state``."""

    WAITING = "waiting"
    SUSPENDED = "suspended"
    IN_TRANSIT = "in_transit"
    READY = "ready"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def active(self) -> bool:
        """An active hold counts against the limit, holds a queue place and blocks renewals."""
        return self in _ACTIVE_HOLD_STATES


_ACTIVE_HOLD_STATES = frozenset(
    {HoldState.WAITING, HoldState.SUSPENDED, HoldState.IN_TRANSIT, HoldState.READY}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PatronFacts:
    """A patron as the rules see them (``patrons`` row)."""

    category: PatronCategory
    registered_on: date
    home_branch: str
    patron_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemFacts:
    """A copy as the rules see it (``items`` row).

    ``published_year`` is the record's year, used only when the copy has no ``published_on``:
    the 18-month rule (G3) then assumes the last day of that year, so that a missing date never
    lends a DVD the copyright rule still protects.
    """

    material_type: MaterialType
    home_branch: str
    section: str | None = None
    condition: ItemCondition = ItemCondition.GOOD
    published_on: date | None = None
    published_year: int | None = None
    not_for_loan: bool = False
    loan_days_override: int | None = None
    item_id: int | None = None
    record_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyFacts:
    """A copy with where it is and what it is doing: what a hold decision looks at."""

    item: ItemFacts
    status: ItemStatus
    location_branch: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanFacts:
    """An open (or just closed) loan (``loans`` row plus the copy's type and section).

    ``branch`` is the lending branch, whose calendar moves the due date (G11). ``due_at`` is
    set for short loans only (G4), which end at an hour rather than on a day.
    """

    material_type: MaterialType
    due_on: date
    loaned_at: datetime
    branch: str
    renewals: int = 0
    short_loan: bool = False
    due_at: datetime | None = None
    section: str | None = None
    loan_id: int | None = None
    item_id: int | None = None
    record_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldFacts:
    """A hold (``holds`` row). Queue order is ``(placed_at, hold_id)``, as the store's index."""

    hold_id: int
    patron_id: int
    placed_at: datetime
    state: HoldState
    pickup_branch: str
    suspended_until: date | None = None
    expires_on: date | None = None
