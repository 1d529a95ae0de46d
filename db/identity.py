"""Telegram accounts and library cards: links, one-time codes, wrong PINs, languages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from db.sql import fetch_one
from db.timestamps import from_db, to_db


@dataclass(frozen=True, slots=True)
class LinkRow:
    patron_id: int
    telegram_user_id: int
    chat_id: int
    due_reminders: bool


async def link_of_user(conn: aiosqlite.Connection, telegram_user_id: int) -> LinkRow | None:
    row = await fetch_one(
        conn,
        "SELECT patron_id, telegram_user_id, chat_id, due_reminders FROM telegram_links"
        " WHERE telegram_user_id = ?",
        (telegram_user_id,),
    )
    return LinkRow(int(row[0]), int(row[1]), int(row[2]), bool(row[3])) if row else None


async def link_of_patron(conn: aiosqlite.Connection, patron_id: int) -> LinkRow | None:
    row = await fetch_one(
        conn,
        "SELECT patron_id, telegram_user_id, chat_id, due_reminders FROM telegram_links"
        " WHERE patron_id = ?",
        (patron_id,),
    )
    return LinkRow(int(row[0]), int(row[1]), int(row[2]), bool(row[3])) if row else None


async def add_link(
    conn: aiosqlite.Connection, patron_id: int, telegram_user_id: int, chat_id: int, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO telegram_links (patron_id, telegram_user_id, chat_id, linked_at)"
        " VALUES (?, ?, ?, ?)",
        (patron_id, telegram_user_id, chat_id, to_db(now)),
    )


async def remove_link(conn: aiosqlite.Connection, telegram_user_id: int) -> bool:
    cursor = await conn.execute(
        "DELETE FROM telegram_links WHERE telegram_user_id = ?", (telegram_user_id,)
    )
    return cursor.rowcount > 0


async def set_due_reminders(conn: aiosqlite.Connection, telegram_user_id: int, on: bool) -> None:
    await conn.execute(
        "UPDATE telegram_links SET due_reminders = ? WHERE telegram_user_id = ?",
        (int(on), telegram_user_id),
    )


@dataclass(frozen=True, slots=True)
class UserRow:
    telegram_user_id: int
    language: str | None


async def user(conn: aiosqlite.Connection, telegram_user_id: int) -> UserRow | None:
    row = await fetch_one(
        conn,
        "SELECT telegram_user_id, language FROM telegram_users WHERE telegram_user_id = ?",
        (telegram_user_id,),
    )
    if row is None:
        return None
    return UserRow(int(row[0]), row[1])


async def ensure_user(conn: aiosqlite.Connection, telegram_user_id: int, now: datetime) -> None:
    await conn.execute(
        "INSERT OR IGNORE INTO telegram_users (telegram_user_id, first_seen_at) VALUES (?, ?)",
        (telegram_user_id, to_db(now)),
    )


async def set_user_language(
    conn: aiosqlite.Connection, telegram_user_id: int, language: str, now: datetime
) -> None:
    await ensure_user(conn, telegram_user_id, now)
    await conn.execute(
        "UPDATE telegram_users SET language = ? WHERE telegram_user_id = ?",
        (language, telegram_user_id),
    )


async def set_patron_language(conn: aiosqlite.Connection, patron_id: int, language: str) -> None:
    await conn.execute("UPDATE patrons SET language = ? WHERE id = ?", (language, patron_id))


async def account_failures(
    conn: aiosqlite.Connection, account_hash: str
) -> tuple[int, datetime | None]:
    """An account's wrong PINs in a row and its lock (``pin_attempts``, kept by /forget)."""
    row = await fetch_one(
        conn,
        "SELECT failures, locked_until FROM pin_attempts WHERE account_hash = ?",
        (account_hash,),
    )
    if row is None:
        return 0, None
    return int(row[0]), from_db(str(row[1])) if row[1] else None


async def forget_ended_locks(conn: aiosqlite.Connection, now: datetime) -> None:
    """Locks that are over, with nothing counted since: nothing left to keep."""
    await conn.execute(
        "DELETE FROM pin_attempts WHERE failures = 0 AND locked_until <= ?", (to_db(now),)
    )


async def set_account_failures(
    conn: aiosqlite.Connection, account_hash: str, failures: int, locked_until: datetime | None
) -> None:
    """Record the count; nothing to count (no failure, no lock) leaves no row."""
    if failures == 0 and locked_until is None:
        await conn.execute("DELETE FROM pin_attempts WHERE account_hash = ?", (account_hash,))
        return
    await conn.execute(
        "INSERT INTO pin_attempts (account_hash, failures, locked_until) VALUES (?, ?, ?)"
        " ON CONFLICT (account_hash) DO UPDATE SET failures = excluded.failures,"
        " locked_until = excluded.locked_until",
        (account_hash, failures, to_db(locked_until) if locked_until else None),
    )


async def card_failures(conn: aiosqlite.Connection, patron_id: int) -> tuple[int, datetime | None]:
    row = await fetch_one(
        conn, "SELECT failures, locked_until FROM pin_failures WHERE patron_id = ?", (patron_id,)
    )
    if row is None:
        return 0, None
    return int(row[0]), from_db(str(row[1])) if row[1] else None


async def set_card_failures(
    conn: aiosqlite.Connection, patron_id: int, failures: int, locked_until: datetime | None
) -> None:
    await conn.execute(
        "INSERT INTO pin_failures (patron_id, failures, locked_until) VALUES (?, ?, ?)"
        " ON CONFLICT (patron_id) DO UPDATE SET failures = excluded.failures,"
        " locked_until = excluded.locked_until",
        (patron_id, failures, to_db(locked_until) if locked_until else None),
    )


async def use_link_code(conn: aiosqlite.Connection, code_hash: str, now: datetime) -> int | None:
    """The patron of an unused, unexpired code, which is used up by this call."""
    row = await fetch_one(
        conn,
        "SELECT patron_id FROM link_codes WHERE code_hash = ? AND used_at IS NULL"
        " AND expires_at > ?",
        (code_hash, to_db(now)),
    )
    if row is None:
        return None
    await conn.execute(
        "UPDATE link_codes SET used_at = ? WHERE code_hash = ?", (to_db(now), code_hash)
    )
    return int(row[0])


async def forget_user(conn: aiosqlite.Connection, telegram_user_id: int) -> None:
    """Everything this Telegram account left that the library need not keep. Its count of
    wrong PINs (``pin_attempts``, under a hash of the id) stays: forgetting must not be a way
    to guess more PINs."""
    await conn.execute("DELETE FROM telegram_links WHERE telegram_user_id = ?", (telegram_user_id,))
    await conn.execute("DELETE FROM telegram_users WHERE telegram_user_id = ?", (telegram_user_id,))
    await conn.execute(
        "DELETE FROM handoff_messages WHERE conversation_id IN"
        " (SELECT id FROM handoff_conversations WHERE telegram_user_id = ?)",
        (telegram_user_id,),
    )
    await conn.execute(
        "DELETE FROM handoff_conversations WHERE telegram_user_id = ?", (telegram_user_id,)
    )
