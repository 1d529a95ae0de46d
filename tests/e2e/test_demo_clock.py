"""The demo's clock: jumping to a later day runs the notice cycles as on that day."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.demo.library import ANNA
from bot.demo.runner import RunningDemo, running_demo
from bot.reminders import schedule
from bot.sandbox.testing import format_violations
from bot.services import identity
from bot.settings import load_settings


@pytest.fixture
async def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningDemo]:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("BIBLIOBOT_")]:
        monkeypatch.delenv(name)
    async with running_demo(load_settings(), path=tmp_path / "demo.sqlite3", port=0) as running:
        yield running
    if running.sandbox.emulator.violations:
        pytest.fail(format_violations(running.sandbox.emulator.violations))


async def jump(demo: RunningDemo, day: str) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{demo.url}demo/clock", json={"date": day}) as response,
    ):
        body: dict[str, object] = await response.json()
    assert body["ok"] is True, body
    result = body["result"]
    assert isinstance(result, dict)
    return result


async def test_three_days_later_the_loan_due_then_is_reminded(demo: RunningDemo) -> None:
    library = demo.app.bot_data.library
    assert library is not None
    anna = demo.info["patrons"][0]["user_id"]
    emu = demo.sandbox.emulator
    # The clock is the demo's only scheduler: the bot's minute tick is off, so nothing is
    # decided (and lost on a card not linked yet) before the person trying it moves the clock.
    assert demo.app.job_queue is not None
    assert not demo.app.job_queue.get_jobs_by_name(schedule.JOB_NAME)
    # She has written to the bot (Telegram lets a bot write only to who started it) and linked
    # her card (the browser test goes through the dialogue; here the service does it).
    started = emu.send_command(anna, "start")
    await emu.wait_for_reply(anna, after=started)
    await identity.link_with_pin(
        library,
        telegram_user_id=anna,
        chat_id=anna,
        card=ANNA.card,
        pin=ANNA.pin,
        now=datetime.now(UTC),
    )
    today = demo.library.today
    later = (today + timedelta(days=3)).isoformat()
    result = await jump(demo, later)
    # The bot ran until yesterday: today's cycles run first, then each day up to the chosen one.
    assert result["days"] == [(today + timedelta(days=n)).isoformat() for n in range(4)]
    assert int(result["queued"]) >= 3  # type: ignore[call-overload]
    # Luca and Marco have linked no Telegram account: theirs are undeliverable, never lost.
    assert int(result["sent"]) + int(result["undeliverable"]) == result["queued"]  # type: ignore[call-overload]
    # In Anna's chat: the reminder naming the book due in three days, the overdue notice for
    # the loan due before today, and her hold to collect.
    late, _, in_three_days = demo.library.loans[ANNA.card]
    notices = [message.body for message in emu.bot_messages(anna)]
    assert any(in_three_days.title in body for body in notices)
    assert any(late.title in body for body in notices)
    assert any("La città perduta dei templari" in body for body in notices)
    rows = await library.store.reader.execute_fetchall(
        "SELECT o.state FROM outbox o JOIN patrons p ON p.id = o.patron_id WHERE p.card = ?",
        (ANNA.card,),
    )
    assert {state for (state,) in rows} == {"sent"}
    # Asking again for the same day decides nothing twice.
    again = await jump(demo, later)
    assert again["queued"] == 0
    # The page, reloaded, goes on from the day the clock was moved to.
    async with aiohttp.ClientSession() as session, session.get(f"{demo.url}demo/info") as got:
        info = await got.json()
    assert (info["today"], info["clock_day"]) == (today.isoformat(), later)


async def test_a_date_that_is_not_one_changes_nothing(demo: RunningDemo) -> None:
    library = demo.app.bot_data.library
    assert library is not None

    async def state() -> list[object]:
        outbox = await library.store.reader.execute_fetchall("SELECT id, state FROM outbox")
        runs = await library.store.reader.execute_fetchall(
            "SELECT key, value FROM settings WHERE key LIKE 'cycles.%'"
        )
        return [list(outbox), list(runs)]

    before = await state()
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{demo.url}demo/clock", json={"date": "tomorrow"}) as response,
    ):
        body = await response.json()
    assert (response.status, body["ok"]) == (400, False)
    assert "YYYY-MM-DD" in body["error"]
    assert await state() == before
