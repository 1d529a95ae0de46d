"""A small library network in a real SQLite store, for the service layer's tests.

The CBNEM world has the consortium's seven branches, open Monday to Saturday (Saturday
mornings only) and closed on Sunday; the Ginestra world has one branch, Montevarchi, with the
same week and San Lorenzo (10 August) as its patron saint day. Times are given in the
library's local time, as a librarian would read them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.catalog.model import MaterialType, RecordData
from bot.circulation import PatronCategory, load_policy
from bot.demo.library import BRANCHES, WEEK
from bot.services import patrons
from bot.services.context import Library
from db import calendar as calendar_repo
from db.catalog import add_branch, upsert_records
from db.items import add_item
from db.store import Store

ROME = ZoneInfo("Europe/Rome")
# The consortium's seven libraries and their week: the demo's, defined once (bot/demo/library.py).
CBNEM_BRANCHES = BRANCHES


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A local time in Rome, as an aware UTC instant (what the services take)."""
    return datetime(year, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


@dataclass
class World:
    library: Library
    branches: dict[str, int]

    @property
    def store(self) -> Store:
        return self.library.store

    async def record(self, title: str, *, year: int | None = None) -> int:
        async with self.store.transaction() as conn:
            result = await upsert_records(
                conn,
                [
                    RecordData(
                        source_key=f"t:{title}:{year}",
                        marc_format="manual",
                        title=title,
                        title_sort=title.lower(),
                        year=year,
                    )
                ],
                now=at(2026, 1, 1),
            )
        return result.outcomes[0].record_id

    async def copy(
        self,
        record_id: int,
        barcode: str,
        branch: str,
        *,
        kind: str = "book",
        section: str | None = None,
        published: date | None = None,
        condition: str = "good",
    ) -> None:
        async with self.store.transaction() as conn:
            await add_item(
                conn,
                record_id=record_id,
                barcode=barcode,
                branch_code=branch,
                material_type=MaterialType(kind),
                section=section,
                published_on=published,
                condition=condition,
                now=at(2026, 1, 1),
            )

    async def title_with_copies(
        self, title: str, *copies: tuple[str, str], kind: str = "book"
    ) -> int:
        record_id = await self.record(title)
        for barcode, branch in copies:
            await self.copy(record_id, barcode, branch, kind=kind)
        return record_id

    async def patron(
        self,
        card: str,
        branch: str,
        *,
        category: str = "adult",
        registered: date = date(2025, 1, 10),
    ) -> None:
        await patrons.add_patron(
            self.library,
            card=card,
            name=f"Patron {card}",
            category=PatronCategory(category),
            branch=branch,
            registered_on=registered,
            now=at(registered.year, registered.month, registered.day),
        )

    async def status(self, barcode: str) -> tuple[str, str]:
        """A copy's status and where it is (or is travelling to)."""
        rows = await self.store.reader.execute_fetchall(
            "SELECT i.status, b.code FROM items i JOIN branches b ON b.id = i.location_branch_id"
            " WHERE i.barcode = ?",
            (barcode,),
        )
        row = next(iter(rows))
        return str(row[0]), str(row[1])


async def _world(path: Path, policy: str, branches: dict[str, str], saint: str | None) -> World:
    store = await Store.open(path)
    ids: dict[str, int] = {}
    async with store.transaction() as conn:
        for code, name in branches.items():
            branch_id, _ = await add_branch(conn, code, name, at(2026, 1, 1))
            await calendar_repo.set_hours(conn, branch_id, WEEK)
            await calendar_repo.set_patron_saint_day(conn, branch_id, saint)
            ids[code] = branch_id
    return World(Library(store, load_policy(policy), ROME), ids)


@pytest.fixture
async def cbnem(tmp_path: Path) -> AsyncIterator[World]:
    world = await _world(tmp_path / "cbnem.sqlite3", "cbnem", CBNEM_BRANCHES, None)
    try:
        yield world
    finally:
        await world.store.close()


@pytest.fixture
async def ginestra(tmp_path: Path) -> AsyncIterator[World]:
    world = await _world(tmp_path / "ginestra.sqlite3", "ginestra", {"MON": "Montevarchi"}, "08-10")
    try:
        yield world
    finally:
        await world.store.close()
