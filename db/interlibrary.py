"""Interlibrary requests as the store keeps them (``ill_requests``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from db.sql import fetch_all, fetch_one
from db.timestamps import from_db, to_db


@dataclass(frozen=True, slots=True)
class IllRow:
    request_id: int
    patron_id: int
    scope: str
    title: str
    state: str
    cost_cents: int | None
    consented: bool
    author: str | None = None
    isbn: str | None = None
    record_id: int | None = None
    requested_at: datetime | None = None
    updated_at: datetime | None = None


async def open_scopes(conn: aiosqlite.Connection, patron_id: int) -> list[str]:
    """The scope of each of the patron's requests not yet closed."""
    rows = await fetch_all(
        conn,
        "SELECT scope FROM ill_requests WHERE patron_id = ?"
        " AND state IN ('requested', 'awaiting_consent', 'ordered', 'arrived')",
        (patron_id,),
    )
    return [str(row[0]) for row in rows]


async def add_request(
    conn: aiosqlite.Connection,
    *,
    patron_id: int,
    scope: str,
    title: str,
    author: str | None,
    isbn: str | None,
    record_id: int | None,
    state: str,
    cost_cents: int | None,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO ill_requests (patron_id, scope, title, author, isbn, record_id, state,"
        " cost_cents, requested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            patron_id,
            scope,
            title,
            author,
            isbn,
            record_id,
            state,
            cost_cents,
            to_db(now),
            to_db(now),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


_COLUMNS = (
    "id, patron_id, scope, title, state, cost_cents, consented_at IS NOT NULL, author, isbn,"
    " record_id, requested_at, updated_at"
)


def _row(row: Sequence[Any]) -> IllRow:
    return IllRow(
        int(row[0]),
        int(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        None if row[5] is None else int(row[5]),
        bool(row[6]),
        None if row[7] is None else str(row[7]),
        None if row[8] is None else str(row[8]),
        None if row[9] is None else int(row[9]),
        from_db(str(row[10])),
        from_db(str(row[11])),
    )


async def request_by_id(conn: aiosqlite.Connection, request_id: int) -> IllRow | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM ill_requests WHERE id = ?", (request_id,))
    return None if row is None else _row(row)


async def requests_of(
    conn: aiosqlite.Connection, patron_id: int, states: Sequence[str]
) -> list[IllRow]:
    """The patron's requests in ``states``, oldest first (the order she asked in)."""
    marks = ", ".join("?" for _ in states)
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM ill_requests WHERE patron_id = ? AND state IN ({marks})"
        " ORDER BY id",
        (patron_id, *states),
    )
    return [_row(row) for row in rows]


async def set_cost(
    conn: aiosqlite.Connection, request_id: int, cost_cents: int, now: datetime
) -> None:
    await conn.execute(
        "UPDATE ill_requests SET cost_cents = ?, updated_at = ? WHERE id = ?",
        (cost_cents, to_db(now), request_id),
    )


@dataclass(frozen=True, slots=True)
class StaffCard:
    """Where a request's card was posted in the staff group."""

    chat_id: int
    thread_id: int | None
    message_id: int


async def staff_card(conn: aiosqlite.Connection, request_id: int) -> StaffCard | None:
    row = await fetch_one(
        conn,
        "SELECT chat_id, thread_id, message_id FROM ill_staff_cards WHERE request_id = ?",
        (request_id,),
    )
    if row is None:
        return None
    return StaffCard(int(row[0]), None if row[1] is None else int(row[1]), int(row[2]))


async def put_staff_card(
    conn: aiosqlite.Connection, request_id: int, card: StaffCard, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO ill_staff_cards (request_id, chat_id, thread_id, message_id, posted_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET"
        " chat_id = excluded.chat_id, thread_id = excluded.thread_id,"
        " message_id = excluded.message_id, posted_at = excluded.posted_at",
        (request_id, card.chat_id, card.thread_id, card.message_id, to_db(now)),
    )


async def set_state(
    conn: aiosqlite.Connection, request_id: int, state: str, now: datetime, consented: bool = False
) -> None:
    await conn.execute(
        "UPDATE ill_requests SET state = ?, updated_at = ?,"
        " consented_at = CASE WHEN ? THEN ? ELSE consented_at END WHERE id = ?",
        (state, to_db(now), consented, to_db(now), request_id),
    )


async def queued_staff_card(conn: aiosqlite.Connection, request_id: int) -> StaffCard | None:
    """A card the outbox delivered because Telegram refused it at first (``staff:ill_card:ID``)."""
    row = await fetch_one(
        conn,
        "SELECT chat_id, json_extract(payload, '$.thread_id'), telegram_message_id FROM outbox"
        " WHERE dedupe_key = ? AND state = 'sent' AND telegram_message_id IS NOT NULL",
        (staff_card_key(request_id),),
    )
    if row is None or row[0] is None:
        return None
    return StaffCard(int(row[0]), None if row[1] is None else int(row[1]), int(row[2]))


def staff_card_key(request_id: int) -> str:
    """The outbox key of a request's card queued for the staff group."""
    return f"staff:ill_card:{request_id}"
