"""Conversations with the librarians: conversations (one staff-group topic each), every message
relayed either way (so transcripts survive Telegram), and the accounts banned from the chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from db.sql import fetch_all, fetch_one, fetch_value
from db.timestamps import from_db, to_db


@dataclass(frozen=True, slots=True)
class ConversationRow:
    conversation_id: int
    patron_id: int | None
    telegram_user_id: int
    chat_id: int
    theme: str
    branch: str | None  # the branch code the theme routes to
    topic_id: int | None
    state: str  # open, closed
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    rating: int | None
    language: str | None
    header_posted: bool = False  # the topic's opening message about the patron is there


_CONVERSATION = (
    "SELECT c.id, c.patron_id, c.telegram_user_id, COALESCE(c.chat_id, c.telegram_user_id),"
    " c.theme, b.code, c.topic_id, c.state, c.opened_at, c.closed_at, c.closed_by, c.rating,"
    " c.language, c.header_posted"
    " FROM handoff_conversations c LEFT JOIN branches b ON b.id = c.branch_id"
)


def _conversation(row: tuple[Any, ...]) -> ConversationRow:
    return ConversationRow(
        conversation_id=int(row[0]),
        patron_id=None if row[1] is None else int(row[1]),
        telegram_user_id=int(row[2]),
        chat_id=int(row[3]),
        theme=str(row[4]),
        branch=None if row[5] is None else str(row[5]),
        topic_id=None if row[6] is None else int(row[6]),
        state=str(row[7]),
        opened_at=from_db(str(row[8])),
        closed_at=None if row[9] is None else from_db(str(row[9])),
        closed_by=None if row[10] is None else str(row[10]),
        rating=None if row[11] is None else int(row[11]),
        language=None if row[12] is None else str(row[12]),
        header_posted=bool(row[13]),
    )


async def conversation(conn: aiosqlite.Connection, conversation_id: int) -> ConversationRow | None:
    row = await fetch_one(conn, f"{_CONVERSATION} WHERE c.id = ?", (conversation_id,))
    return _conversation(row) if row else None


async def open_conversation(
    conn: aiosqlite.Connection, telegram_user_id: int
) -> ConversationRow | None:
    row = await fetch_one(
        conn,
        f"{_CONVERSATION} WHERE c.telegram_user_id = ? AND c.state = 'open'",
        (telegram_user_id,),
    )
    return _conversation(row) if row else None


async def latest_conversation(
    conn: aiosqlite.Connection, telegram_user_id: int
) -> ConversationRow | None:
    row = await fetch_one(
        conn,
        f"{_CONVERSATION} WHERE c.telegram_user_id = ? ORDER BY c.id DESC LIMIT 1",
        (telegram_user_id,),
    )
    return _conversation(row) if row else None


async def conversation_of_topic(
    conn: aiosqlite.Connection, topic_id: int
) -> ConversationRow | None:
    """The conversation a staff-group topic belongs to (the latest, should ids ever repeat)."""
    row = await fetch_one(
        conn, f"{_CONVERSATION} WHERE c.topic_id = ? ORDER BY c.id DESC LIMIT 1", (topic_id,)
    )
    return _conversation(row) if row else None


async def earlier_conversations(
    conn: aiosqlite.Connection, telegram_user_id: int, patron_id: int | None, before: int
) -> list[ConversationRow]:
    """The account's (and the card's) conversations before ``before``, newest first."""
    rows = await fetch_all(
        conn,
        f"{_CONVERSATION} WHERE (c.telegram_user_id = ? OR (? IS NOT NULL AND c.patron_id = ?))"
        " AND c.id < ? ORDER BY c.id DESC LIMIT 10",
        (telegram_user_id, patron_id, patron_id, before),
    )
    return [_conversation(row) for row in rows]


async def open_with_undelivered(conn: aiosqlite.Connection) -> list[ConversationRow]:
    """Open conversations with patron messages not yet copied to the staff group (as
    :func:`undelivered` counts them): what the relay's sweep still owes staff."""
    rows = await fetch_all(
        conn,
        f"{_CONVERSATION} WHERE c.state = 'open' AND EXISTS ("
        " SELECT 1 FROM handoff_messages m JOIN handoff_conversations o"
        " ON o.id = m.conversation_id WHERE o.telegram_user_id = c.telegram_user_id"
        " AND m.direction = 'patron' AND m.staff_message_id IS NULL"
        " AND m.patron_message_id IS NOT NULL AND (o.id = c.id OR o.closed_by = 'topic'))"
        " ORDER BY c.id",
    )
    return [_conversation(row) for row in rows]


async def closed_with_undelivered(conn: aiosqlite.Connection) -> list[ConversationRow]:
    """Conversations ended by staff, the patron or a ban that still hold patron messages never
    copied to the staff group (Telegram refused them until the end): staff are owed them in
    the conversation's topic. Those of a lost topic go on with its successor instead."""
    rows = await fetch_all(
        conn,
        f"{_CONVERSATION} WHERE c.state = 'closed' AND c.closed_by IN ('staff', 'patron', 'ban')"
        " AND EXISTS (SELECT 1 FROM handoff_messages m WHERE m.conversation_id = c.id"
        " AND m.direction = 'patron' AND m.staff_message_id IS NULL"
        " AND m.patron_message_id IS NOT NULL) ORDER BY c.id",
    )
    return [_conversation(row) for row in rows]


async def conversations_for_export(
    conn: aiosqlite.Connection, *, conversation_id: int | None = None, card: str | None = None
) -> list[ConversationRow]:
    where, params = "", ()  # type: tuple[str, tuple[Any, ...]]
    if conversation_id is not None:
        where, params = " WHERE c.id = ?", (conversation_id,)
    elif card is not None:
        where = " WHERE c.patron_id = (SELECT id FROM patrons WHERE card = ?)"
        params = (card,)
    rows = await fetch_all(conn, f"{_CONVERSATION}{where} ORDER BY c.id", params)
    return [_conversation(row) for row in rows]


async def add_conversation(
    conn: aiosqlite.Connection,
    *,
    patron_id: int | None,
    telegram_user_id: int,
    chat_id: int,
    theme: str,
    branch: str | None,
    language: str | None,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO handoff_conversations (patron_id, telegram_user_id, chat_id, theme,"
        " branch_id, state, opened_at, language)"
        " VALUES (?, ?, ?, ?, (SELECT id FROM branches WHERE code = ?), 'open', ?, ?)",
        (patron_id, telegram_user_id, chat_id, theme, branch, to_db(now), language),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


async def set_topic(conn: aiosqlite.Connection, conversation_id: int, topic_id: int) -> None:
    """A new topic: its header is still to be posted."""
    await conn.execute(
        "UPDATE handoff_conversations SET topic_id = ?, header_posted = 0 WHERE id = ?",
        (topic_id, conversation_id),
    )


async def set_header_posted(conn: aiosqlite.Connection, conversation_id: int) -> None:
    await conn.execute(
        "UPDATE handoff_conversations SET header_posted = 1 WHERE id = ?", (conversation_id,)
    )


async def close(
    conn: aiosqlite.Connection, conversation_id: int, *, by: str, now: datetime
) -> bool:
    cursor = await conn.execute(
        "UPDATE handoff_conversations SET state = 'closed', closed_at = ?, closed_by = ?"
        " WHERE id = ? AND state = 'open'",
        (to_db(now), by, conversation_id),
    )
    return cursor.rowcount > 0


async def reopen(conn: aiosqlite.Connection, conversation_id: int) -> None:
    await conn.execute(
        "UPDATE handoff_conversations SET state = 'open', closed_at = NULL, closed_by = NULL"
        " WHERE id = ?",
        (conversation_id,),
    )


async def rate(conn: aiosqlite.Connection, conversation_id: int, rating: int) -> None:
    await conn.execute(
        "UPDATE handoff_conversations SET rating = ? WHERE id = ?", (rating, conversation_id)
    )


# Messages ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageRow:
    message_id: int
    conversation_id: int
    direction: str  # patron, staff, note, system
    sender_user_id: int | None
    sender_name: str | None
    content_type: str
    text: str | None
    file_id: str | None
    patron_message_id: int | None
    staff_message_id: int | None
    created_at: datetime
    edited_at: datetime | None


_MESSAGE = (
    "SELECT m.id, m.conversation_id, m.direction, m.sender_user_id, m.sender_name,"
    " m.content_type, m.text, m.file_id, m.patron_message_id, m.staff_message_id,"
    " m.created_at, m.edited_at FROM handoff_messages m"
)


def _message(row: tuple[Any, ...]) -> MessageRow:
    return MessageRow(
        message_id=int(row[0]),
        conversation_id=int(row[1]),
        direction=str(row[2]),
        sender_user_id=None if row[3] is None else int(row[3]),
        sender_name=None if row[4] is None else str(row[4]),
        content_type=str(row[5]),
        text=None if row[6] is None else str(row[6]),
        file_id=None if row[7] is None else str(row[7]),
        patron_message_id=None if row[8] is None else int(row[8]),
        staff_message_id=None if row[9] is None else int(row[9]),
        created_at=from_db(str(row[10])),
        edited_at=None if row[11] is None else from_db(str(row[11])),
    )


async def add_message(
    conn: aiosqlite.Connection,
    *,
    conversation_id: int,
    direction: str,
    sender_user_id: int | None,
    sender_name: str | None,
    content_type: str,
    text: str | None,
    file_id: str | None,
    patron_message_id: int | None,
    staff_message_id: int | None,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO handoff_messages (conversation_id, direction, sender_user_id, sender_name,"
        " content_type, text, file_id, patron_message_id, staff_message_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            conversation_id,
            direction,
            sender_user_id,
            sender_name,
            content_type,
            text,
            file_id,
            patron_message_id,
            staff_message_id,
            to_db(now),
        ),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


async def set_copies(
    conn: aiosqlite.Connection,
    message_id: int,
    *,
    conversation_id: int,
    patron_message_id: int | None = None,
    staff_message_id: int | None = None,
) -> None:
    """Where the relayed copy went (and, after a lost topic, to which conversation)."""
    await conn.execute(
        "UPDATE handoff_messages SET conversation_id = ?,"
        " patron_message_id = COALESCE(?, patron_message_id),"
        " staff_message_id = COALESCE(?, staff_message_id) WHERE id = ?",
        (conversation_id, patron_message_id, staff_message_id, message_id),
    )


async def message_from_patron(
    conn: aiosqlite.Connection, telegram_user_id: int, patron_message_id: int
) -> MessageRow | None:
    """The stored message with this id in the patron's private chat."""
    row = await fetch_one(
        conn,
        f"{_MESSAGE} JOIN handoff_conversations c ON c.id = m.conversation_id"
        " WHERE c.telegram_user_id = ? AND m.patron_message_id = ? ORDER BY m.id DESC LIMIT 1",
        (telegram_user_id, patron_message_id),
    )
    return _message(row) if row else None


async def message_in_staff_chat(
    conn: aiosqlite.Connection, staff_message_id: int
) -> MessageRow | None:
    row = await fetch_one(
        conn,
        f"{_MESSAGE} WHERE m.staff_message_id = ? ORDER BY m.id DESC LIMIT 1",
        (staff_message_id,),
    )
    return _message(row) if row else None


async def undelivered(
    conn: aiosqlite.Connection, telegram_user_id: int, conversation_id: int
) -> list[MessageRow]:
    """The patron's messages not yet copied to the staff group: of this conversation, and of
    the conversations before it that lost their topic."""
    rows = await fetch_all(
        conn,
        f"{_MESSAGE} JOIN handoff_conversations c ON c.id = m.conversation_id"
        " WHERE c.telegram_user_id = ? AND m.direction = 'patron'"
        " AND m.staff_message_id IS NULL AND m.patron_message_id IS NOT NULL"
        " AND (c.id = ? OR c.closed_by = 'topic') ORDER BY m.id",
        (telegram_user_id, conversation_id),
    )
    return [_message(row) for row in rows]


async def undelivered_of(conn: aiosqlite.Connection, conversation_id: int) -> list[MessageRow]:
    """The patron's messages of this one conversation not yet copied to the staff group."""
    rows = await fetch_all(
        conn,
        f"{_MESSAGE} WHERE m.conversation_id = ? AND m.direction = 'patron'"
        " AND m.staff_message_id IS NULL AND m.patron_message_id IS NOT NULL ORDER BY m.id",
        (conversation_id,),
    )
    return [_message(row) for row in rows]


async def mark_held_up(conn: aiosqlite.Connection, telegram_user_id: int) -> None:
    """The patron was told her messages not yet relayed are held up."""
    await conn.execute(
        "UPDATE handoff_messages SET held_up = 1 WHERE direction = 'patron'"
        " AND staff_message_id IS NULL AND patron_message_id IS NOT NULL AND conversation_id IN"
        " (SELECT id FROM handoff_conversations WHERE telegram_user_id = ?)",
        (telegram_user_id,),
    )


async def clear_held_up_relayed(conn: aiosqlite.Connection, telegram_user_id: int) -> bool:
    """Forget the held-up mark of her messages that have reached staff since; True when there
    were some (she is owed word that they got through)."""
    cursor = await conn.execute(
        "UPDATE handoff_messages SET held_up = 0 WHERE held_up = 1"
        " AND staff_message_id IS NOT NULL AND conversation_id IN"
        " (SELECT id FROM handoff_conversations WHERE telegram_user_id = ?)",
        (telegram_user_id,),
    )
    return cursor.rowcount > 0


async def edit_message(
    conn: aiosqlite.Connection, message_id: int, text: str | None, now: datetime
) -> None:
    await conn.execute(
        "UPDATE handoff_messages SET text = ?, edited_at = ? WHERE id = ?",
        (text, to_db(now), message_id),
    )


async def messages(conn: aiosqlite.Connection, conversation_id: int) -> list[MessageRow]:
    rows = await fetch_all(
        conn, f"{_MESSAGE} WHERE m.conversation_id = ? ORDER BY m.id", (conversation_id,)
    )
    return [_message(row) for row in rows]


async def message_counts(conn: aiosqlite.Connection, conversation_id: int) -> dict[str, int]:
    rows = await fetch_all(
        conn,
        "SELECT direction, count(*) FROM handoff_messages WHERE conversation_id = ?"
        " GROUP BY direction",
        (conversation_id,),
    )
    return {str(direction): int(n) for direction, n in rows}


# Bans -------------------------------------------------------------------------------------------


async def ban(
    conn: aiosqlite.Connection,
    telegram_user_id: int,
    *,
    by: int | None,
    reason: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO handoff_bans (telegram_user_id, banned_at, banned_by, reason)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (telegram_user_id) DO UPDATE SET"
        " banned_at = excluded.banned_at, banned_by = excluded.banned_by,"
        " reason = excluded.reason",
        (telegram_user_id, to_db(now), by, reason),
    )


async def unban(conn: aiosqlite.Connection, telegram_user_id: int) -> bool:
    cursor = await conn.execute(
        "DELETE FROM handoff_bans WHERE telegram_user_id = ?", (telegram_user_id,)
    )
    return cursor.rowcount > 0


async def is_banned(conn: aiosqlite.Connection, telegram_user_id: int) -> bool:
    found = await fetch_value(
        conn, "SELECT 1 FROM handoff_bans WHERE telegram_user_id = ?", (telegram_user_id,)
    )
    return found is not None
