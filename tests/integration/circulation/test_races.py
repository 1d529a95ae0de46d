"""Fifty desks (or patrons in the chat) race for the last copy, each on its own connection.

Each contender opens its own :class:`Store` (its own SQLite connections, as separate processes
would have) and all start at once. The store's ``BEGIN IMMEDIATE`` lets one operation at a time
read and write; exactly one checkout may win, every other gets a clear reason, and the store
stays consistent.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.services import holds, loans
from bot.services.context import Library
from bot.services.errors import Refusal
from db.store import Store
from tests.integration.circulation.conftest import World, at

CONTENDERS = 50


async def _contenders(world: World, count: int) -> list[Library]:
    stores = await asyncio.gather(*(Store.open(world.store.path) for _ in range(count)))
    return [Library(store, world.library.policy, world.library.zone) for store in stores]


def _consistency(path: Path) -> tuple[int, list[tuple[str, int]]]:
    with sqlite3.connect(path) as conn:
        doubled = conn.execute(
            "SELECT count(*) FROM (SELECT item_id FROM loans WHERE returned_at IS NULL"
            " GROUP BY item_id HAVING count(*) > 1)"
        ).fetchone()[0]
        statuses = conn.execute(
            "SELECT i.status, (SELECT count(*) FROM loans l WHERE l.item_id = i.id"
            " AND l.returned_at IS NULL) FROM items i"
        ).fetchall()
    return int(doubled), [(str(status), int(count)) for status, count in statuses]


async def test_fifty_checkouts_of_one_copy(cbnem: World) -> None:
    await cbnem.title_with_copies("L'ultimo esemplare", ("BRU-1", "BRU"))
    for number in range(CONTENDERS):
        await cbnem.patron(f"P{number}", "BRU")
    libraries = await _contenders(cbnem, CONTENDERS)
    try:
        outcomes = await asyncio.gather(
            *(
                loans.checkout(library, card=f"P{number}", barcode="BRU-1", now=at(2026, 11, 23))
                for number, library in enumerate(libraries)
            ),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(*(library.store.close() for library in libraries))
    won = [outcome for outcome in outcomes if isinstance(outcome, loans.LoanReceipt)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Refusal)]
    assert len(won) == 1
    assert len(refused) == CONTENDERS - 1
    assert {refusal.code for refusal in refused} == {"not_available"}
    doubled, statuses = _consistency(cbnem.store.path)
    assert doubled == 0
    assert statuses == [("on_loan", 1)]


async def test_fifty_requests_for_the_last_copy_on_the_shelf(cbnem: World) -> None:
    record = await cbnem.title_with_copies("Richiestissimo", ("BRU-1", "BRU"))
    for number in range(CONTENDERS):
        await cbnem.patron(f"P{number}", "BRU")
    libraries = await _contenders(cbnem, CONTENDERS)
    try:
        outcomes = await asyncio.gather(
            *(
                holds.place_hold(
                    library,
                    card=f"P{number}",
                    record_id=record,
                    pickup="BRU",
                    now=at(2026, 11, 23),
                )
                for number, library in enumerate(libraries)
            ),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(*(library.store.close() for library in libraries))
    placed = [outcome for outcome in outcomes if isinstance(outcome, holds.HoldStatus)]
    assert len(placed) == CONTENDERS  # every request is queued, none is lost
    ready = [hold for hold in placed if hold.state == "ready"]
    assert len(ready) == 1  # the one copy is kept for one patron
    with sqlite3.connect(cbnem.store.path) as conn:
        positions = conn.execute(
            "SELECT count(*), min(placed_at) FROM holds WHERE state IN ('waiting', 'ready')"
        ).fetchone()
        kept = conn.execute("SELECT status FROM items").fetchall()
    assert positions[0] == CONTENDERS
    assert kept == [("on_hold_shelf",)]


async def test_checkouts_and_requests_racing_for_one_copy(cbnem: World) -> None:
    record = await cbnem.title_with_copies("Conteso", ("BRU-1", "BRU"))
    for number in range(CONTENDERS):
        await cbnem.patron(f"P{number}", "BRU")
    libraries = await _contenders(cbnem, CONTENDERS)

    async def contend(number: int, library: Library) -> object:
        if number % 2:
            return await loans.checkout(
                library, card=f"P{number}", barcode="BRU-1", now=at(2026, 11, 23)
            )
        return await holds.place_hold(
            library, card=f"P{number}", record_id=record, pickup="BRU", now=at(2026, 11, 23)
        )

    try:
        outcomes = await asyncio.gather(
            *(contend(number, library) for number, library in enumerate(libraries)),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(*(library.store.close() for library in libraries))
    unexpected = [
        o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Refusal)
    ]
    assert unexpected == []
    lent = [o for o in outcomes if isinstance(o, loans.LoanReceipt)]
    kept = [o for o in outcomes if isinstance(o, holds.HoldStatus) and o.state == "ready"]
    assert len(lent) + len(kept) == 1  # the copy went to exactly one patron
    doubled, statuses = _consistency(cbnem.store.path)
    assert doubled == 0
    assert statuses in ([("on_loan", 1)], [("on_hold_shelf", 0)])
