"""What every operation needs: the store, the regulation, and a consistent view of one moment.

:class:`Library` is built once (from the settings) and passed to every service function.
Inside an operation, :class:`Moment` bundles the transaction's connection with the calendar as
the store holds it now, the time the operation acts at (``now``, injected: the desk back-dates
with ``--at``, tests choose it) and the library-local ``today``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiosqlite

from bot.circulation import CalendarError, LibraryCalendar, Policy, load_policy
from bot.services.errors import Refusal
from bot.settings import SUPPORTED_LANGUAGES, RemindersSettings, Settings
from db import circulation as repo
from db.calendar import load_calendar
from db.store import Store


@dataclass(frozen=True, slots=True)
class Languages:
    """The languages the library offers (``[library] languages``) and its default one: a
    notice written for a patron whose stored language is no longer offered is written in the
    default language."""

    offered: tuple[str, ...] = SUPPORTED_LANGUAGES
    default: str = "it"


@dataclass(frozen=True, slots=True)
class Library:
    """A library network: its store, its regulation and its time zone."""

    store: Store
    policy: Policy
    zone: ZoneInfo
    # The file's reminder timing; administrators' changes in the store win (bot.reminders).
    reminders: RemindersSettings = field(default_factory=RemindersSettings)
    languages: Languages = field(default_factory=Languages)

    @classmethod
    def from_settings(cls, store: Store, settings: Settings) -> Library:
        return cls(
            store,
            load_policy(settings.library.policy),
            settings.library.zone,
            settings.reminders,
            Languages(tuple(settings.library.languages), settings.library.default_language),
        )

    @asynccontextmanager
    async def moment(self, now: datetime) -> AsyncIterator[Moment]:
        """One operation: a write transaction and everything it decides on."""
        async with self.store.transaction() as conn:
            calendar = await load_calendar(conn, self.zone)
            yield Moment(conn, self.policy, calendar, now, self.reminders, self.languages)


@dataclass(frozen=True, slots=True)
class Moment:
    conn: aiosqlite.Connection
    policy: Policy
    calendar: LibraryCalendar
    now: datetime
    reminders: RemindersSettings = field(default_factory=RemindersSettings)
    languages: Languages = field(default_factory=Languages)

    @property
    def today(self) -> date:
        return self.calendar.local_date(self.now)

    async def patron(self, card: str) -> repo.PatronRow:
        patron = await repo.patron_by_card(self.conn, card.strip())
        if patron is None:
            raise Refusal("unknown_card", f"no patron has card {card!r}")
        return patron

    async def copy(self, barcode: str) -> repo.CopyRow:
        copy = await repo.copy_by_barcode(self.conn, barcode.strip())
        if copy is None:
            raise Refusal("unknown_item", f"no copy has barcode {barcode!r}")
        return copy

    async def branch_id(self, code: str) -> int:
        branch = await repo.branch_id(self.conn, code)
        if branch is None:
            raise Refusal("unknown_branch", f"no branch has code {code!r}")
        if not any(self.calendar.schedule(code).week):
            raise Refusal(
                "no_opening_hours",
                f"branch {code} has no opening hours yet: due dates and pickup days are counted "
                f"in opening days (G11, G13); set them with `bibliobot branch hours {code} ...`",
            )
        return branch


def calendar_refusal(error: CalendarError) -> Refusal:
    """A calendar that cannot answer (a branch that is never open) as a refusal for staff."""
    return Refusal("no_opening_hours", f"the library calendar cannot answer: {error}")
