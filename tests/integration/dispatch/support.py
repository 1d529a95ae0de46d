"""A store with patrons linked to emulator users, and notices queued for them.

Shared by the dispatcher's tests, its crash test's child process and ``bench/dispatch.py``. The
patrons are written with plain SQL (thousands of them in a blink); everything the dispatcher
reads — the outbox rows, the links — is the real schema in a real SQLite file.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.reminders.outgoing import Attachment, Button, OutgoingMessage
from bot.sandbox.emulator import Emulator
from db.outbox import NewNotice, dedupe_key, enqueue
from db.sql import fetch_all, fetch_one
from db.store import Store
from db.timestamps import to_db

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FIRST_USER_ID = 700_000
_KEY_IN_TEXT = re.compile(r"\[n(\d+)\]")


@dataclass(frozen=True, slots=True)
class Patron:
    id: int
    user_id: int  # her Telegram user id = her private chat's id


async def add_patrons(
    store: Store, count: int, *, emulator: Emulator | None = None, linked: bool = True
) -> list[Patron]:
    """``count`` patrons (linked to Telegram users who started the bot, unless ``linked`` is
    False); the users are created in ``emulator`` too when one is given."""
    async with store.transaction() as conn:
        branch = await fetch_one(conn, "SELECT id FROM branches WHERE code = 'OUTBOX'")
        if branch is None:
            cursor = await conn.execute(
                "INSERT INTO branches (code, name, created_at) VALUES ('OUTBOX', 'Outbox', ?)",
                (to_db(T0),),
            )
            branch_id = cursor.lastrowid
        else:
            branch_id = branch[0]
        first = (await fetch_one(conn, "SELECT count(*) FROM patrons")) or (0,)
        patrons = []
        for number in range(first[0] + 1, first[0] + count + 1):
            cursor = await conn.execute(
                "INSERT INTO patrons (card, name, category, home_branch_id, registered_on,"
                " created_at) VALUES (?, ?, 'adult', ?, '2026-01-01', ?)",
                (f"OB{number:06d}", f"Patron {number}", branch_id, to_db(T0)),
            )
            assert cursor.lastrowid is not None
            patron = Patron(cursor.lastrowid, FIRST_USER_ID + number)
            if linked:
                await conn.execute(
                    "INSERT INTO telegram_links (patron_id, telegram_user_id, chat_id, linked_at)"
                    " VALUES (?, ?, ?, ?)",
                    (patron.id, patron.user_id, patron.user_id, to_db(T0)),
                )
            patrons.append(patron)
    if emulator is not None:
        for patron in patrons:
            emulator.add_user(f"Patron {patron.id}", user_id=patron.user_id, started=True)
    return patrons


def tagged(number: int) -> str:
    """A notice's text carries its number, so the emulator's transcript can be counted."""
    return f"<b>Promemoria</b> [n{number}]: restituisci <i>Il nome della rosa</i> entro venerdì."


def numbers_received(emulator: Emulator, chat_ids: list[int]) -> Counter[int]:
    """How many times each tagged notice reached its chat (documents are not counted)."""
    received: Counter[int] = Counter()
    for chat_id in chat_ids:
        for message in emulator.bot_messages(chat_id):
            found = _KEY_IN_TEXT.search(message.text or "")
            if found:
                received[int(found.group(1))] += 1
    return received


async def queue_notices(
    store: Store,
    patrons: list[Patron],
    per_patron: int,
    *,
    now: datetime = T0,
    expires_in: timedelta | None = None,
    with_buttons: bool = True,
) -> list[int]:
    """``per_patron`` notices for each patron, interleaved as a cycle would queue them (all of
    one kind for everybody, then the next kind); their outbox ids."""
    ids = []
    async with store.transaction() as conn:
        number = await _next_number(store)
        for kind in range(per_patron):
            for patron in patrons:
                number += 1
                message = OutgoingMessage(
                    text=tagged(number),
                    buttons=((Button(text="Rinnova", callback_data=f"renew:{number}"),),)
                    if with_buttons
                    else (),
                )
                notice = NewNotice(
                    dedupe_key(patron.id, f"due{kind}", f"loan:{number}", "3", date(2026, 11, 23)),
                    patron.id,
                    "due",
                    message.to_payload(),
                    not_before=now,
                    expires_at=now + expires_in if expires_in else None,
                )
                new_id = await enqueue(conn, notice, now)
                assert new_id is not None
                ids.append(new_id)
    return ids


async def queue_one(
    store: Store,
    patron_id: int | None,
    message: OutgoingMessage,
    *,
    key: str,
    now: datetime | None = None,
    chat_id: int | None = None,
    expires_at: datetime | None = None,
) -> int:
    """One notice (queued and due at ``now``, the real time by default)."""
    now = now or datetime.now(UTC)
    async with store.transaction() as conn:
        notice = NewNotice(key, patron_id, "test", message.to_payload(), now, expires_at, chat_id)
        new_id = await enqueue(conn, notice, now)
    assert new_id is not None
    return new_id


def with_document(text: str) -> OutgoingMessage:
    calendar = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    return OutgoingMessage(
        text=text, document=Attachment.of("appuntamento.ics", calendar, "text/calendar")
    )


async def _next_number(store: Store) -> int:
    """Past every number used so far (each notice has one; n rows used at most 1..n·10)."""
    rows = await fetch_all(store.reader, "SELECT count(*) FROM outbox")
    return int(rows[0][0]) * 10


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    state: str
    attempts: int
    last_error: str | None
    sent_at: str | None
    telegram_message_id: int | None


async def rows(store: Store) -> dict[int, Row]:
    found = await fetch_all(
        store.reader,
        "SELECT id, state, attempts, last_error, sent_at, telegram_message_id FROM outbox",
    )
    return {row[0]: Row(*row) for row in found}
