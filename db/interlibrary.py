"""Interlibrary requests as the store keeps them (``ill_requests``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from db.sql import fetch_all, fetch_one
from db.timestamps import to_db


@dataclass(frozen=True, slots=True)
class IllRow:
    request_id: int
    patron_id: int
    scope: str
    title: str
    state: str
    cost_cents: int | None
    consented: bool


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


async def request_by_id(conn: aiosqlite.Connection, request_id: int) -> IllRow | None:
    row = await fetch_one(
        conn,
        "SELECT id, patron_id, scope, title, state, cost_cents, consented_at IS NOT NULL"
        " FROM ill_requests WHERE id = ?",
        (request_id,),
    )
    if row is None:
        return None
    return IllRow(
        int(row[0]),
        int(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        None if row[5] is None else int(row[5]),
        bool(row[6]),
    )


async def set_state(
    conn: aiosqlite.Connection, request_id: int, state: str, now: datetime, consented: bool = False
) -> None:
    await conn.execute(
        "UPDATE ill_requests SET state = ?, updated_at = ?,"
        " consented_at = CASE WHEN ? THEN ? ELSE consented_at END WHERE id = ?",
        (state, to_db(now), consented, to_db(now), request_id),
    )
