"""Small typed helpers over aiosqlite, so repositories read as SQL and nothing else."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> list[tuple[Any, ...]]:
    """Every row of a query, in one round trip to the database thread."""
    rows: Iterable[Any] = await conn.execute_fetchall(sql, params)
    return [tuple(row) for row in rows]


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> tuple[Any, ...] | None:
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None


async def fetch_value(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> Any:
    """The first column of the first row, or None."""
    row = await fetch_one(conn, sql, params)
    return row[0] if row else None
