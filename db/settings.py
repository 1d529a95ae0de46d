"""Administrator-owned values edited at run time, one JSON value per key.

Keys are namespaced by feature (``reminders.timing``, ``handoff.themes``, ``handoff.canned``,
``cycles.last_run.reminders`` ...). The configuration file gives defaults; once a value is stored
here it wins, so an administrator's change in the bot or with ``bibliobot settings`` takes effect
at the next use, with no restart. Validation belongs to the feature that owns the key.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from db.sql import fetch_all, fetch_value
from db.timestamps import to_db


async def get(conn: aiosqlite.Connection, key: str) -> Any | None:
    """The stored value for ``key`` (decoded JSON), or None when nobody set it."""
    text = await fetch_value(conn, "SELECT value FROM settings WHERE key = ?", (key,))
    return None if text is None else json.loads(text)


async def get_prefixed(conn: aiosqlite.Connection, prefix: str) -> dict[str, Any]:
    """Every stored value whose key starts with ``prefix`` (e.g. ``cycles.last_run.``)."""
    rows = await fetch_all(
        conn,
        "SELECT key, value FROM settings WHERE key >= ? AND key < ? ORDER BY key",
        (prefix, prefix + "\U0010ffff"),
    )
    return {str(key): json.loads(value) for key, value in rows}


async def put(
    conn: aiosqlite.Connection, key: str, value: Any, now: datetime, by: str | None = None
) -> None:
    """Store ``value`` under ``key`` (call inside ``store.transaction()``)."""
    await conn.execute(
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        (key, json.dumps(value, ensure_ascii=False), to_db(now), by),
    )


async def delete(conn: aiosqlite.Connection, key: str) -> None:
    """Forget ``key``: the configuration's default applies again."""
    await conn.execute("DELETE FROM settings WHERE key = ?", (key,))
