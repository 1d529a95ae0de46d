"""Shared test data: the two presets, a calendar for each, and builders with sane defaults.

Module-level values rather than fixtures, so Hypothesis tests can use them too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.catalog.model import ItemStatus, MaterialType
from bot.circulation.facts import (
    CopyFacts,
    HoldFacts,
    HoldState,
    ItemFacts,
    LoanFacts,
    PatronCategory,
    PatronFacts,
)
from bot.circulation.library_calendar import BranchSchedule, Closure, LibraryCalendar
from bot.circulation.policy_loader import load_policy

ROME = ZoneInfo("Europe/Rome")
GINESTRA = load_policy("ginestra")
CBNEM = load_policy("cbnem")

# A common Italian week: Monday afternoon, Tuesday to Friday morning and afternoon, Saturday
# morning, closed on Sunday.
WEEK = [
    (0, "14:30", "19:00"),
    *((day, "09:00", "13:00") for day in range(1, 6)),
    *((day, "14:30", "19:00") for day in range(1, 5)),
]
# Open every day but Sunday, mornings and afternoons (for the properties).
WIDE_WEEK = [(day, "09:00", "19:00") for day in range(6)]

GINESTRA_CALENDAR = LibraryCalendar(
    [BranchSchedule.from_rows("GIN", WEEK, patron_saint_day="08-10")], zone=ROME
)
CBNEM_CALENDAR = LibraryCalendar(
    [
        BranchSchedule.from_rows("COL", WEEK, patron_saint_day="05-20"),
        BranchSchedule.from_rows("BRU", WEEK, patron_saint_day="05-15"),
        # Monday closed all day, as many small libraries.
        BranchSchedule.from_rows("BUS", [row for row in WEEK if row[0] != 0]),
    ],
    closures=[Closure(first_on=date(2025, 8, 11), last_on=date(2025, 8, 23), branch="BUS")],
    zone=ROME,
)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware UTC instant for a local Rome hour on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=ROME).astimezone(UTC)


def patron(
    category: PatronCategory = PatronCategory.ADULT,
    registered_on: date = date(2020, 1, 1),
    home_branch: str = "GIN",
    patron_id: int = 1,
) -> PatronFacts:
    return PatronFacts(
        category=category, registered_on=registered_on, home_branch=home_branch, patron_id=patron_id
    )


def item(material: MaterialType = MaterialType.BOOK, **overrides: Any) -> ItemFacts:
    values: dict[str, Any] = {"material_type": material, "home_branch": "GIN", "section": "GEN"}
    values.update(overrides)
    return ItemFacts(**values)


def loan(
    due_on: date,
    material: MaterialType = MaterialType.BOOK,
    *,
    renewals: int = 0,
    branch: str = "GIN",
    **overrides: Any,
) -> LoanFacts:
    values: dict[str, Any] = {
        "material_type": material,
        "due_on": due_on,
        "loaned_at": at(date(2000, 1, 1)),
        "branch": branch,
        "renewals": renewals,
    }
    values.update(overrides)
    return LoanFacts(**values)


def loans(count: int, material: MaterialType = MaterialType.BOOK) -> list[LoanFacts]:
    return [loan(date(2099, 1, 1), material, loan_id=n) for n in range(count)]


def copy(status: ItemStatus, *, location: str = "GIN", **overrides: Any) -> CopyFacts:
    return CopyFacts(item=item(**overrides), status=status, location_branch=location)


def hold(
    hold_id: int,
    *,
    patron_id: int = 2,
    placed_at: datetime | None = None,
    state: HoldState = HoldState.WAITING,
    pickup: str = "GIN",
    **overrides: Any,
) -> HoldFacts:
    return HoldFacts(
        hold_id=hold_id,
        patron_id=patron_id,
        placed_at=placed_at or at(date(2025, 1, 1), 9, hold_id % 50),
        state=state,
        pickup_branch=pickup,
        **overrides,
    )
