"""The running bot sends the outbox: a notice queued by another process goes out within
``[reminders] dispatch_interval_seconds``; one queued in-process goes out at once when nudged;
a patron who blocked the bot gets nothing until she writes to it again."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_application
from bot.handlers.context import BotApplication
from bot.reminders import timing
from bot.reminders.dispatch_job import JOB_NAME, nudge
from bot.reminders.outgoing import OutgoingMessage
from bot.sandbox import run_emulator
from bot.sandbox.emulator import Emulator
from bot.sandbox.testing import format_violations
from bot.settings import load_settings
from db.outbox import NewNotice, enqueue
from db.sql import fetch_one
from db.store import Store
from db.timestamps import from_db
from tests.integration.dispatch.support import Patron, add_patrons, queue_one, rows


@dataclass
class Running:
    emulator: Emulator
    app: BotApplication
    path: Path

    @property
    def store(self) -> Store:
        library = self.app.bot_data.library
        assert library is not None
        return library.store


async def _running(tmp_path: Path, interval: int) -> AsyncIterator[Running]:
    path = tmp_path / "bot.sqlite3"
    async with run_emulator() as sandbox:
        settings = load_settings(
            telegram={"token": sandbox.token, "base_url": sandbox.bot_api_url},
            database={"path": str(path)},
            library={"policy": "cbnem"},
            reminders={"dispatch_interval_seconds": interval},
        )
        app = build_application(settings)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield Running(sandbox.emulator, app, path)
            finally:
                await app.updater.stop()
                await app.stop()
                assert app.post_shutdown is not None
                await app.post_shutdown(app)
        if sandbox.emulator.violations:
            pytest.fail(format_violations(sandbox.emulator.violations))


@pytest.fixture
async def every_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("BIBLIOBOT_")]:
        monkeypatch.delenv(name)
    async for running in _running(tmp_path, interval=1):
        yield running


@pytest.fixture
async def hourly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("BIBLIOBOT_")]:
        monkeypatch.delenv(name)
    async for running in _running(tmp_path, interval=3600):
        yield running


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 3.0) -> None:
    """Wait for a condition on the store (which the emulator cannot observe), polling."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_a_notice_queued_by_another_process_is_sent_within_the_interval(
    every_second: Running,
) -> None:
    emu = every_second.emulator
    (anna,) = await add_patrons(every_second.store, 1, emulator=emu)
    # `bibliobot cycle run` beside the bot: its own connection to the same file.
    async with await Store.open(every_second.path) as other_process:
        row_id = await queue_one(other_process, anna.id, OutgoingMessage(text="Scade"), key="k")
    (sent,) = await emu.wait_for_bot_messages(anna.user_id, within=2.5)
    assert sent.text == "Scade"

    async def recorded() -> bool:
        return (await rows(every_second.store))[row_id].state == "sent"

    await eventually(recorded, "the row recorded as sent")


async def test_a_nudge_sends_at_once(hourly: Running) -> None:
    emu = hourly.emulator
    (anna,) = await add_patrons(hourly.store, 1, emulator=emu)
    await emu.wait_for_calls("setMyCommands")  # started; the tick at start found nothing
    await queue_one(hourly.store, anna.id, OutgoingMessage(text="Pronto al ritiro"), key="k")
    nudge(hourly.app)
    (sent,) = await emu.wait_for_bot_messages(anna.user_id, within=2.0)
    assert sent.text == "Pronto al ritiro"


async def _link(store: Store, patron: Patron) -> tuple[str | None, str | None]:
    row = await fetch_one(
        store.reader,
        "SELECT undeliverable_at, undeliverable_why FROM telegram_links WHERE patron_id = ?",
        (patron.id,),
    )
    assert row is not None
    return row[0], row[1]


async def test_a_patron_who_blocked_the_bot_gets_notices_again_when_she_writes(
    hourly: Running,
) -> None:
    emu, store = hourly.emulator, hourly.store
    (anna,) = await add_patrons(store, 1, emulator=emu)

    async def blocked() -> bool:
        return (await _link(store, anna))[0] is not None

    emu.block_bot(anna.user_id)  # Telegram tells the bot (my_chat_member: kicked)
    await eventually(blocked, "her chat marked undeliverable")
    assert (await _link(store, anna))[1] == "blocked the bot"

    first = await queue_one(store, anna.id, OutgoingMessage(text="Non arriva"), key="k1")
    nudge(hourly.app)

    async def given_up() -> bool:
        return (await rows(store))[first].state == "undeliverable"

    await eventually(given_up, "the notice recorded undeliverable")
    assert (await rows(store))[first].last_error == "blocked: blocked the bot"
    assert emu.calls_to("sendMessage") == []  # Telegram was not even asked

    emu.send_text(anna.user_id, "ciao")  # she comes back (which unblocks the bot)

    async def reopened() -> bool:
        return await _link(store, anna) == (None, None)

    await eventually(reopened, "her chat open again")
    await queue_one(store, anna.id, OutgoingMessage(text="Bentornata"), key="k2")
    nudge(hourly.app)
    found = await emu.wait_for(
        lambda: [m for m in emu.bot_messages(anna.user_id) if m.text == "Bentornata"],
        within=3.0,
        what="the notice after she came back",
    )
    assert len(found) == 1


async def test_only_scheduled_notices_wait_out_the_quiet_hours(every_second: Running) -> None:
    """The running bot's dispatcher reads the administrators' quiet hours: here they are set
    around the real time, so a reminder queued now waits for their end, while a librarian's
    answer goes at once."""
    emu, store = every_second.emulator, every_second.store
    anna, bruno = await add_patrons(store, 2, emulator=emu)
    library = every_second.app.bot_data.library
    assert library is not None
    now = datetime.now(UTC)
    local = now.astimezone(library.zone)

    def hhmm(delta: timedelta) -> str:
        return (local + delta).strftime("%H:%M")

    later = hhmm(timedelta(hours=3))  # the cycles' hours must stay outside the quiet hours
    await timing.change_for(
        library,
        {
            "quiet_hours": f"{hhmm(timedelta(hours=-1))}-{hhmm(timedelta(hours=1))}",
            "reminders_hour": later,
            "overdue_hour": later,
            "holds_hour": later,
        },
        now=now,
        by="test",
    )
    queued = (
        ("r", anna, "due_reminder", "Promemoria"),
        ("a", bruno, "appointment_confirmed", "Confermato"),
    )
    async with (
        await Store.open(every_second.path) as other_process,
        other_process.transaction() as conn,
    ):
        for key, patron, kind, text in queued:
            payload = OutgoingMessage(text=text).to_payload()
            await enqueue(conn, NewNotice(key, patron.id, kind, payload, now), now)
    (sent,) = await emu.wait_for_bot_messages(bruno.user_id, within=2.5)
    assert sent.text == "Confermato"
    await asyncio.sleep(1.5)  # another tick or two: the reminder is still held
    assert emu.bot_messages(anna.user_id) == []
    row = await fetch_one(
        store.reader, "SELECT state, not_before FROM outbox WHERE dedupe_key = 'r'"
    )
    assert row is not None
    assert row[0] == "pending"
    morning = from_db(str(row[1])).astimezone(library.zone)
    assert morning.strftime("%H:%M") == hhmm(timedelta(hours=1))
    assert timedelta(minutes=55) < morning - local <= timedelta(hours=1)


async def test_the_interval_is_the_configured_one(hourly: Running) -> None:
    """With ``dispatch_interval_seconds = 3600`` a notice queued by another process waits for
    the next tick (nothing polls behind the interval's back); the tick sends it."""
    emu = hourly.emulator
    (anna,) = await add_patrons(hourly.store, 1, emulator=emu)
    await emu.wait_for_calls("setMyCommands")  # started; the tick at start found nothing
    assert hourly.app.job_queue is not None
    (job,) = hourly.app.job_queue.get_jobs_by_name(JOB_NAME)
    assert job.job.trigger.interval == timedelta(hours=1)
    async with await Store.open(hourly.path) as other_process:
        await queue_one(other_process, anna.id, OutgoingMessage(text="Al prossimo giro"), key="k")
    await asyncio.sleep(2.0)
    assert emu.bot_messages(anna.user_id) == []
    await job.run(hourly.app)  # the next tick, an hour early
    (sent,) = await emu.wait_for_bot_messages(anna.user_id, within=2.0)
    assert sent.text == "Al prossimo giro"
