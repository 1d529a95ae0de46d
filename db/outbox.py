"""The outbox's write side: queue a notice, once.

A notice's ``dedupe_key`` names what it is about (patron, kind, subject, level, day); the key is
UNIQUE, so a cycle run twice, or by two processes at once, queues it once. Call
:func:`enqueue` inside the transaction that made the decision (``store.transaction()``), so the
decision and its notice are committed together or not at all.

The delivery side (claiming due rows, marking them sent, undeliverable or expired) belongs to the
dispatcher.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from db.sql import fetch_all
from db.timestamps import to_db


def dedupe_key(patron_id: int, kind: str, subject: str, level: str, day: date) -> str:
    """``patron:kind:subject:level:day``: what makes two notices the same notice."""
    return f"{patron_id}:{kind}:{subject}:{level}:{day.isoformat()}"


@dataclass(frozen=True, slots=True)
class NewNotice:
    dedupe_key: str
    patron_id: int | None
    kind: str
    payload: dict[str, Any]
    not_before: datetime
    expires_at: datetime | None = None
    # None: the dispatcher sends to the patron's linked Telegram chat at sending time.
    chat_id: int | None = None


async def enqueue(conn: aiosqlite.Connection, notice: NewNotice, now: datetime) -> int | None:
    """Queue ``notice`` unless one with the same key exists; the new row's id, else None."""
    cursor = await conn.execute(
        "INSERT INTO outbox (dedupe_key, patron_id, chat_id, kind, payload, created_at,"
        " not_before, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (dedupe_key) DO NOTHING",
        (
            notice.dedupe_key,
            notice.patron_id,
            notice.chat_id,
            notice.kind,
            json.dumps(notice.payload, ensure_ascii=False, separators=(",", ":")),
            to_db(now),
            to_db(notice.not_before),
            to_db(notice.expires_at) if notice.expires_at else None,
        ),
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


async def expire_pending(
    conn: aiosqlite.Connection, key: str, now: datetime, why: str = "withdrawn"
) -> bool:
    """Withdraw a notice not sent yet (an appointment cancelled before its reminder went out):
    the row stays, as ``expired`` with ``why`` as its last error. False when there was no
    pending row under ``key`` (never queued, or already sent)."""
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'expired', last_error = ?, expires_at = ?"
        " WHERE dedupe_key = ? AND state = 'pending'",
        (why, to_db(now), key),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Where the dispatcher put a notice addressed to a chat (a staff card, say)."""

    chat_id: int
    thread_id: int | None
    message_id: int


async def sent_message(conn: aiosqlite.Connection, key: str) -> SentMessage | None:
    """The message a notice addressed to a chat became, once sent (None: not sent yet, or
    never)."""
    rows = await fetch_all(
        conn,
        "SELECT chat_id, json_extract(payload, '$.thread_id'), telegram_message_id FROM outbox"
        " WHERE dedupe_key = ? AND state = 'sent' AND chat_id IS NOT NULL"
        " AND telegram_message_id IS NOT NULL",
        (key,),
    )
    if not rows:
        return None
    chat_id, thread_id, message_id = rows[0]
    return SentMessage(int(chat_id), None if thread_id is None else int(thread_id), int(message_id))


async def unsent_payload(conn: aiosqlite.Connection, key: str) -> dict[str, Any] | None:
    """The payload of the notice under ``key`` while it is not sent yet (else None)."""
    rows = await fetch_all(
        conn,
        "SELECT payload FROM outbox WHERE dedupe_key = ? AND state IN ('pending', 'sending')",
        (key,),
    )
    if not rows:
        return None
    payload = json.loads(str(rows[0][0]))
    return payload if isinstance(payload, dict) else None


async def replace_pending(conn: aiosqlite.Connection, key: str, payload: dict[str, Any]) -> bool:
    """Rewrite a notice not sent yet (a staff card whose appointment changed meanwhile goes
    out as things now stand; a send already under way uses what it read, a retry the new
    text). False when there is no unsent row under ``key``."""
    cursor = await conn.execute(
        "UPDATE outbox SET payload = ? WHERE dedupe_key = ? AND state IN ('pending', 'sending')",
        (json.dumps(payload, ensure_ascii=False, separators=(",", ":")), key),
    )
    return cursor.rowcount == 1


async def enqueue_many(
    conn: aiosqlite.Connection, notices: Sequence[NewNotice], now: datetime
) -> dict[str, int | None]:
    """:func:`enqueue` for a batch (a cycle's thousands of digests in a few statements):
    each dedupe key → the new row's id, or None when a row with that key already existed."""
    found: dict[str, int | None] = {}
    for start in range(0, len(notices), _CHUNK):
        chunk = notices[start : start + _CHUNK]
        keys = [notice.dedupe_key for notice in chunk]
        marks = ", ".join("?" for _ in keys)
        existing = {
            str(row[0])
            for row in await fetch_all(
                conn, f"SELECT dedupe_key FROM outbox WHERE dedupe_key IN ({marks})", keys
            )
        }
        fresh = [notice for notice in chunk if notice.dedupe_key not in existing]
        await conn.executemany(
            "INSERT INTO outbox (dedupe_key, patron_id, chat_id, kind, payload, created_at,"
            " not_before, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            [_row(notice, now) for notice in fresh],
        )
        ids = {
            str(row[0]): int(row[1])
            for row in await fetch_all(
                conn, f"SELECT dedupe_key, id FROM outbox WHERE dedupe_key IN ({marks})", keys
            )
        }
        for key in keys:
            found[key] = None if key in existing else ids.get(key)
    return found


_CHUNK = 400  # keys per IN (...) list: well under SQLite's 32766 variables


def _row(notice: NewNotice, now: datetime) -> tuple[object, ...]:
    return (
        notice.dedupe_key,
        notice.patron_id,
        notice.chat_id,
        notice.kind,
        json.dumps(notice.payload, ensure_ascii=False, separators=(",", ":")),
        to_db(now),
        to_db(notice.not_before),
        to_db(notice.expires_at) if notice.expires_at else None,
    )
