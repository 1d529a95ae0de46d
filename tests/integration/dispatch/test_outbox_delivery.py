"""The outbox's delivery side on a real SQLite file: claims never overlap, even between
processes (two stores on one file); a lease that ends makes the row due again; expiry wins."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.reminders.outgoing import OutgoingMessage
from db import outbox_delivery as outbox
from db.store import Store
from tests.integration.dispatch.support import T0, add_patrons, queue_notices, queue_one

LEASE = timedelta(minutes=2)


async def test_two_processes_never_claim_the_same_row(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    async with await Store.open(path) as first, await Store.open(path) as second:
        patrons = await add_patrons(first, 50)
        ids = await queue_notices(first, patrons, 2)

        async def claim_all(store: Store) -> list[int]:
            won = []
            for row_id in ids:
                async with store.transaction() as conn:
                    if await outbox.claim(conn, row_id, T0, LEASE) is not None:
                        won.append(row_id)
            return won

        a, b = await asyncio.gather(claim_all(first), claim_all(second))
    assert sorted(a + b) == sorted(ids)  # every row claimed once, by one of them
    assert not set(a) & set(b)


async def test_a_lease_that_ends_makes_the_row_due_again(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "o.sqlite3") as store:
        (anna,) = await add_patrons(store, 1)
        row_id = await queue_one(store, anna.id, OutgoingMessage(text="x"), key="k", now=T0)
        async with store.transaction() as conn:
            held = await outbox.claim(conn, row_id, T0, LEASE)
            assert held is not None
            assert held.attempts == 1
            assert held.chat_id == anna.user_id
            # the holder is alive: nobody else may take it
            assert await outbox.claim(conn, row_id, T0 + LEASE / 2, LEASE) is None
        assert await outbox.due(store.reader, T0 + LEASE / 2, limit=10, per_chat=5) == []
        # the holder died: after the lease, the row is due and claimed again
        later = T0 + LEASE + timedelta(seconds=1)
        (due,) = await outbox.due(store.reader, later, limit=10, per_chat=5)
        assert due.id == row_id
        async with store.transaction() as conn:
            again = await outbox.claim(conn, row_id, later, LEASE)
        assert again is not None
        assert again.attempts == 2


async def test_a_row_past_its_expiry_is_expired_not_claimed(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "o.sqlite3") as store:
        (anna,) = await add_patrons(store, 1)
        row_id = await queue_one(
            store, anna.id, OutgoingMessage(text="x"), key="k", now=T0, expires_at=T0
        )
        async with store.transaction() as conn:
            assert await outbox.claim(conn, row_id, T0, LEASE) is None
        assert await outbox.count_by_state(store.reader) == {"expired": 1}


async def test_due_rows_are_oldest_first_and_few_per_chat(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "o.sqlite3") as store:
        anna, bruno = await add_patrons(store, 2)
        (nobody,) = await add_patrons(store, 1, linked=False)
        ids = [
            await queue_one(store, patron.id, OutgoingMessage(text="x"), key=f"k{n}", now=T0)
            for n, patron in enumerate([anna] * 8 + [bruno, nobody, nobody])
        ]
        due = await outbox.due(store.reader, T0, limit=100, per_chat=3)
    assert [row.id for row in due] == ids[:3] + ids[8:]
    assert [row.chat_id for row in due] == [anna.user_id] * 3 + [bruno.user_id, None, None]
