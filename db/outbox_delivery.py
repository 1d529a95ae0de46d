"""The outbox's delivery side: claim due notices, record what became of each.

A row's life: ``pending`` → ``sending`` (claimed) → ``sent`` | ``undeliverable`` | ``expired``, or
back to ``pending`` with a later ``not_before`` (a transient failure, a flood wait).

**Claiming is a lease.** :func:`claim` moves one due row to ``sending`` and, in the same
statement, pushes its ``not_before`` to the end of the lease; the update only matches a row that
is still due, so two processes never claim the same row (SQLite serialises writers; the second
one's update matches nothing). A ``sending`` row whose lease has passed is due again: that is how
the notice of a process killed mid-send is picked up by the next dispatcher, never lost. (Reusing
``not_before`` as the lease's end keeps the partial index ``outbox_due (state, not_before)`` the
only one the dispatcher needs.) The price is at-least-once delivery: the one notice a killed
process had in flight at that moment may be sent twice.

A notice with a document is two Bot API calls; ``telegram_message_id`` is written as soon as the
text went out (:func:`mark_text_sent`), so a retry sends only the document.

Every instant is passed in (``now``); nothing here reads the clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from db.sql import fetch_all, fetch_one
from db.timestamps import from_db, to_db

# Reasons recorded in ``last_error`` (and, for a blocked chat, ``undeliverable_why``).
NOT_LINKED = "not linked"
BLOCKED = "blocked"
EXPIRED = "expired"

_TARGET = """
    COALESCE(o.chat_id, lp.chat_id) AS target,
    CASE WHEN o.chat_id IS NULL THEN lp.undeliverable_why ELSE lc.undeliverable_why END AS why,
    CASE WHEN o.chat_id IS NULL THEN lp.undeliverable_at ELSE lc.undeliverable_at END AS blocked
"""
# A notice for "the patron's chat" (chat_id NULL) goes to her link's chat; one addressed to a chat
# explicitly is blocked if that chat is a patron's private chat marked undeliverable (a private
# chat's id is the user's id).
_LINKS = """
    LEFT JOIN telegram_links lp ON o.chat_id IS NULL AND lp.patron_id = o.patron_id
    LEFT JOIN telegram_links lc ON o.chat_id IS NOT NULL AND lc.telegram_user_id = o.chat_id
"""
_DUE = "o.state IN ('pending', 'sending') AND o.not_before <= :now"


@dataclass(frozen=True, slots=True)
class DueNotice:
    """A due row as the scheduler sees it: where it would go, for pacing. Not claimed."""

    id: int
    chat_id: int | None  # None: not linked (nowhere to send)
    blocked: bool


@dataclass(frozen=True, slots=True)
class ClaimedNotice:
    """A row this process now holds (``sending``) until it records the outcome or the lease ends.

    ``chat_id`` and ``blocked_why`` are resolved at claim time: a patron who linked another
    chat, or blocked the bot, since the notice was queued is honoured.
    """

    id: int
    dedupe_key: str
    kind: str
    patron_id: int | None
    chat_id: int | None
    addressed: bool  # the row names its chat (a staff group), not "the patron's chat"
    blocked_why: str | None
    payload: dict[str, Any]
    expires_at: datetime | None
    attempts: int  # including this one
    text_message_id: int | None  # the text already went out (a document is still owed)


async def expire_due(conn: aiosqlite.Connection, now: datetime) -> int:
    """Due rows past their ``expires_at`` become ``expired`` without being sent; how many."""
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'expired',"
        " last_error = CASE WHEN last_error IS NULL THEN 'expired'"
        "   ELSE 'expired; last error: ' || last_error END"
        " WHERE state IN ('pending', 'sending') AND not_before <= :now"
        " AND expires_at IS NOT NULL AND expires_at <= :now",
        {"now": to_db(now)},
    )
    return cursor.rowcount


QUIET_EXPIRED = "expired: it would have been stale by the end of the quiet hours"


async def hold_until(
    conn: aiosqlite.Connection, now: datetime, until: datetime, kinds: frozenset[str]
) -> tuple[int, int]:
    """Due notices of ``kinds`` to a person (the patron's chat, or a private chat: a positive
    id) wait until ``until``, the end of the quiet hours; those that would be stale by then are
    recorded expired now, with the reason. ``(held, expired)``."""
    if not kinds:
        return 0, 0
    ordered = sorted(kinds)
    marks = ", ".join("?" for _ in ordered)
    where = (
        f"state IN ('pending', 'sending') AND not_before <= ? AND kind IN ({marks})"
        " AND (chat_id IS NULL OR chat_id > 0)"
    )
    stamp = to_db(now)
    expired = await conn.execute(
        f"UPDATE outbox SET state = 'expired', last_error = ? WHERE {where}"
        " AND expires_at IS NOT NULL AND expires_at <= ?",
        (QUIET_EXPIRED, stamp, *ordered, to_db(until)),
    )
    held = await conn.execute(
        f"UPDATE outbox SET state = 'pending', not_before = ? WHERE {where}",
        (to_db(until), stamp, *ordered),
    )
    return max(held.rowcount, 0), max(expired.rowcount, 0)


async def due(
    conn: aiosqlite.Connection, now: datetime, *, limit: int, per_chat: int
) -> list[DueNotice]:
    """Up to ``limit`` due rows, oldest first, at most ``per_chat`` for any one chat (a chat
    with many notices, paced at one a second, must not hold up everybody else's)."""
    rows = await fetch_all(
        conn,
        f"""
        SELECT id, target, blocked FROM (
            SELECT o.id, {_TARGET},
                   ROW_NUMBER() OVER (
                       PARTITION BY COALESCE(o.chat_id, lp.chat_id, -o.id) ORDER BY o.id
                   ) AS nth
            FROM outbox o {_LINKS}
            WHERE {_DUE}
        ) WHERE nth <= :per_chat ORDER BY id LIMIT :limit
        """,
        {"now": to_db(now), "per_chat": per_chat, "limit": limit},
    )
    return [DueNotice(row[0], row[1], row[2] is not None) for row in rows]


async def claim(
    conn: aiosqlite.Connection, notice_id: int, now: datetime, lease: timedelta
) -> ClaimedNotice | None:
    """Hold one due row for ``lease``; None if it is no longer due (claimed elsewhere, done,
    or expired — an expired row is recorded as such here)."""
    params = {"id": notice_id, "now": to_db(now), "until": to_db(now + lease)}
    await conn.execute(
        "UPDATE outbox SET state = 'expired',"
        " last_error = CASE WHEN last_error IS NULL THEN 'expired'"
        "   ELSE 'expired; last error: ' || last_error END"
        " WHERE id = :id AND state IN ('pending', 'sending') AND not_before <= :now"
        " AND expires_at IS NOT NULL AND expires_at <= :now",
        params,
    )
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, not_before = :until"
        " WHERE id = :id AND state IN ('pending', 'sending') AND not_before <= :now",
        params,
    )
    if cursor.rowcount != 1:
        return None
    row = await fetch_one(
        conn,
        f"""
        SELECT o.id, o.dedupe_key, o.kind, o.patron_id, o.chat_id, o.payload, o.expires_at,
               o.attempts, o.telegram_message_id, {_TARGET}
        FROM outbox o {_LINKS} WHERE o.id = :id
        """,
        params,
    )
    assert row is not None, "the row was just updated in this transaction"
    return ClaimedNotice(
        id=row[0],
        dedupe_key=row[1],
        kind=row[2],
        patron_id=row[3],
        chat_id=row[9],
        addressed=row[4] is not None,
        blocked_why=(row[10] or BLOCKED) if row[11] is not None else None,
        payload=json.loads(row[5]),
        expires_at=from_db(row[6]) if row[6] else None,
        attempts=row[7],
        text_message_id=row[8],
    )


async def mark_sent(
    conn: aiosqlite.Connection, notice_id: int, now: datetime, message_id: int
) -> None:
    """Delivered: when, and the message's id in the chat (the text's, for a text + document)."""
    await conn.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?, telegram_message_id = ?, last_error = NULL"
        " WHERE id = ?",
        (to_db(now), message_id, notice_id),
    )


async def mark_text_sent(conn: aiosqlite.Connection, notice_id: int, message_id: int) -> None:
    """The text of a notice with a document went out; a retry sends only the document."""
    await conn.execute(
        "UPDATE outbox SET telegram_message_id = ? WHERE id = ?", (message_id, notice_id)
    )


async def mark_undeliverable(conn: aiosqlite.Connection, notice_id: int, reason: str) -> None:
    """Never to be sent: Telegram refused for good (or there is no chat); ``reason`` says why."""
    await conn.execute(
        "UPDATE outbox SET state = 'undeliverable', last_error = ? WHERE id = ?",
        (reason, notice_id),
    )


async def mark_expired(conn: aiosqlite.Connection, notice_id: int, reason: str) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'expired', last_error = ? WHERE id = ?", (reason, notice_id)
    )


async def reschedule(
    conn: aiosqlite.Connection,
    notice_id: int,
    not_before: datetime,
    error: str,
    *,
    count_attempt: bool = True,
) -> None:
    """Back to ``pending`` until ``not_before``. A flood wait is Telegram pacing us, not the
    notice failing: ``count_attempt=False`` gives the attempt back."""
    await conn.execute(
        "UPDATE outbox SET state = 'pending', not_before = ?, last_error = ?,"
        " attempts = attempts - ? WHERE id = ?",
        (to_db(not_before), error, 0 if count_attempt else 1, notice_id),
    )


async def release(conn: aiosqlite.Connection, notice_ids: list[int], now: datetime) -> None:
    """Give back rows claimed but not tried: due again now, the attempt not counted."""
    marks = ", ".join("?" for _ in notice_ids)
    await conn.execute(
        "UPDATE outbox SET state = 'pending', not_before = ?, attempts = attempts - 1"
        f" WHERE state = 'sending' AND id IN ({marks})",
        (to_db(now), *notice_ids),
    )


async def move_to_thread(conn: aiosqlite.Connection, notice_id: int, thread_id: int | None) -> None:
    """Send a notice to another forum topic (None: to the chat itself) from now on: a staff
    card whose topic was deleted. Only the topic changes; the rest of the payload stays as it
    is stored (it may have been rewritten since the notice was claimed)."""
    if thread_id is None:
        await conn.execute(
            "UPDATE outbox SET payload = json_remove(payload, '$.thread_id') WHERE id = ?",
            (notice_id,),
        )
        return
    await conn.execute(
        "UPDATE outbox SET payload = json_set(payload, '$.thread_id', ?) WHERE id = ?",
        (thread_id, notice_id),
    )


async def readdress(conn: aiosqlite.Connection, notice_id: int, chat_id: int) -> None:
    """A group became a supergroup (Telegram's ChatMigrated): send to its new id."""
    await conn.execute("UPDATE outbox SET chat_id = ? WHERE id = ?", (chat_id, notice_id))


# -- the patron's chat ---------------------------------------------------------------------------


async def mark_chat_undeliverable(
    conn: aiosqlite.Connection, notice: ClaimedNotice, now: datetime, why: str
) -> None:
    """Telegram refused the notice's chat for good (403): write nothing more to it until the
    patron comes back. A group's chat matches no link, which is right: there is nobody to wait
    for."""
    if notice.addressed:
        if notice.chat_id is not None:
            await mark_user_undeliverable(conn, notice.chat_id, now, why)
        return
    await conn.execute(
        "UPDATE telegram_links SET undeliverable_at = ?, undeliverable_why = ?"
        " WHERE patron_id = ? AND undeliverable_at IS NULL",
        (to_db(now), why, notice.patron_id),
    )


async def mark_user_undeliverable(
    conn: aiosqlite.Connection, telegram_user_id: int, now: datetime, why: str
) -> None:
    """The same, by the user (a private chat's id is the user's id)."""
    await conn.execute(
        "UPDATE telegram_links SET undeliverable_at = ?, undeliverable_why = ?"
        " WHERE telegram_user_id = ? AND undeliverable_at IS NULL",
        (to_db(now), why, telegram_user_id),
    )


async def is_chat_undeliverable(conn: aiosqlite.Connection, telegram_user_id: int) -> bool:
    row = await fetch_one(
        conn,
        "SELECT 1 FROM telegram_links WHERE telegram_user_id = ? AND undeliverable_at IS NOT NULL",
        (telegram_user_id,),
    )
    return row is not None


async def clear_chat_undeliverable(conn: aiosqlite.Connection, telegram_user_id: int) -> bool:
    """She wrote to the bot again: her chat takes notices again. True if it was blocked."""
    cursor = await conn.execute(
        "UPDATE telegram_links SET undeliverable_at = NULL, undeliverable_why = NULL"
        " WHERE telegram_user_id = ? AND undeliverable_at IS NOT NULL",
        (telegram_user_id,),
    )
    return cursor.rowcount == 1


async def count_by_state(conn: aiosqlite.Connection) -> dict[str, int]:
    rows = await fetch_all(conn, "SELECT state, count(*) FROM outbox GROUP BY state")
    return {state: count for state, count in rows}


async def next_due(conn: aiosqlite.Connection) -> datetime | None:
    """When the earliest pending (or leased) row becomes due, if any."""
    row = await fetch_one(
        conn, "SELECT min(not_before) FROM outbox WHERE state IN ('pending', 'sending')"
    )
    return from_db(row[0]) if row and row[0] else None
