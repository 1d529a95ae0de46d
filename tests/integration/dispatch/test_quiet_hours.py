"""The running bot's dispatcher keeps the quiet hours: a scheduled notice that comes due at
night (the bot was down all evening, a retry fell after 21:00, a long queue was still draining)
waits for the morning, or is recorded expired if it would be stale by then; an answer to what a
patron asked for, and a staff card, are not held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot.reminders import timing
from bot.reminders.dispatch_job import SCHEDULED_KINDS
from bot.reminders.dispatcher import Dispatcher, QuietRule
from bot.reminders.outgoing import OutgoingMessage
from bot.reminders.quiet import QuietHours
from bot.settings import RemindersSettings
from db.outbox import NewNotice, enqueue
from db.outbox_delivery import QUIET_EXPIRED
from db.timestamps import from_db
from tests.integration.dispatch.conftest import Outbox
from tests.integration.dispatch.support import add_patrons, rows

ROME = ZoneInfo("Europe/Rome")


def rome(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ROME).astimezone(UTC)


async def stored_quiet_hours(conn: aiosqlite.Connection) -> QuietHours:
    return (await timing.load(conn, RemindersSettings())).quiet


RULE = QuietRule(SCHEDULED_KINDS, ROME, stored_quiet_hours)


async def queue(
    box: Outbox,
    key: str,
    patron_id: int | None,
    kind: str,
    text: str,
    *,
    due: datetime,
    expires_at: datetime | None = None,
    chat_id: int | None = None,
) -> int:
    async with box.store.transaction() as conn:
        notice = NewNotice(
            key,
            patron_id,
            kind,
            OutgoingMessage(text=text).to_payload(),
            not_before=due,
            expires_at=expires_at,
            chat_id=chat_id,
        )
        row_id = await enqueue(conn, notice, due)
    assert row_id is not None
    return row_id


async def drain_at(box: Outbox, instant: datetime) -> None:
    await Dispatcher(box.bot, box.store, now=lambda: instant, quiet=RULE).drain()


async def not_before(box: Outbox, row_id: int) -> datetime:
    found = await box.store.reader.execute_fetchall(
        "SELECT not_before FROM outbox WHERE id = ?", (row_id,)
    )
    return from_db(str(next(iter(found))[0]))


async def test_a_reminder_due_before_an_outage_waits_for_the_morning(outbox: Outbox) -> None:
    emu = outbox.emulator
    anna, bruno = await add_patrons(outbox.store, 2, emulator=emu)
    staff = emu.add_group("Staff", forum=False)
    # Queued by the 09:00 cycle; the bot was down until 23:40.
    reminder = await queue(
        outbox, "r", anna.id, "due_reminder", "Promemoria", due=rome(23, 9),
        expires_at=rome(25, 0),
    )  # fmt: skip
    stale = await queue(
        outbox, "s", anna.id, "overdue", "Scaduto", due=rome(23, 9), expires_at=rome(24, 0)
    )
    answer = await queue(
        outbox, "a", bruno.id, "appointment_confirmed", "Confermato", due=rome(23, 23, 30)
    )
    card = await queue(
        outbox, "c", None, "ill_staff_card", "Richiesta", due=rome(23, 23, 30), chat_id=staff.id
    )
    await drain_at(outbox, rome(23, 23, 40))
    found = await rows(outbox.store)
    assert emu.bot_messages(anna.user_id) == []  # nothing at night
    assert (found[reminder].state, await not_before(outbox, reminder)) == ("pending", rome(24, 8))
    assert (found[stale].state, found[stale].last_error) == ("expired", QUIET_EXPIRED)
    # The librarian's answer to Bruno's request, and the staff card, go now.
    assert [m.text for m in emu.bot_messages(bruno.user_id)] == ["Confermato"]
    assert [m.text for m in emu.bot_messages(staff.id)] == ["Richiesta"]
    assert (found[answer].state, found[card].state) == ("sent", "sent")
    # Still night at 07:59; at 08:00 the reminder goes.
    await drain_at(outbox, rome(24, 7, 59))
    assert emu.bot_messages(anna.user_id) == []
    await drain_at(outbox, rome(24, 8))
    assert [m.text for m in emu.bot_messages(anna.user_id)] == ["Promemoria"]
    assert (await rows(outbox.store))[reminder].state == "sent"


async def test_the_quiet_hours_held_are_the_administrators(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row = await queue(outbox, "h", anna.id, "holds", "Pronto", due=rome(23, 20, 0))
    async with outbox.store.transaction() as conn:
        await timing.change(
            conn,
            RemindersSettings(),
            {"quiet_hours": "20:00-07:00", "holds_hour": "08:30"},
            now=rome(23, 19),
            by="test",
        )
    await drain_at(outbox, rome(23, 20, 15))
    assert emu.bot_messages(anna.user_id) == []
    assert await not_before(outbox, row) == rome(24, 7)
    async with outbox.store.transaction() as conn:
        await timing.change(
            conn, RemindersSettings(), {"quiet_hours": "off"}, now=rome(23, 20, 20), by="test"
        )
        await conn.execute(
            "UPDATE outbox SET not_before = ? WHERE id = ?",
            ("2026-11-23T19:00:00.000000Z", row),
        )
    await drain_at(outbox, rome(23, 20, 30))
    assert [m.text for m in emu.bot_messages(anna.user_id)] == ["Pronto"]


async def test_a_retry_that_falls_in_the_night_waits_too(outbox: Outbox) -> None:
    emu = outbox.emulator
    (anna,) = await add_patrons(outbox.store, 1, emulator=emu)
    row = await queue(outbox, "t", anna.id, "due_reminder", "Riprova", due=rome(23, 20, 58))
    emu.inject_fault("server_error", method="sendMessage")
    # Fails at 20:59:50; the back-off (15 s) brings it to 21:00:05.
    await drain_at(outbox, rome(23, 20, 59) + timedelta(seconds=50))
    assert (await rows(outbox.store))[row].state == "pending"
    retry_at = await not_before(outbox, row)
    assert retry_at > rome(23, 21)
    await drain_at(outbox, retry_at + timedelta(seconds=1))
    assert (await rows(outbox.store))[row].state == "pending"
    assert await not_before(outbox, row) == rome(24, 8)
    assert len(emu.calls_to("sendMessage")) == 1
