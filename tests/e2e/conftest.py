"""End-to-end: the real PTB application, built by ``build_application(settings)``, polling the
project's Bot API emulator over HTTP on 127.0.0.1, on a real SQLite store.

The store is seeded through the service layer (branches with opening hours, a few records with
copies, patrons with PINs), exactly as the desk would. Every test fails at teardown if the bot
made a Bot API call that breaks the spec (the emulator's validator).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.app import build_application
from bot.circulation import PatronCategory
from bot.handlers.context import BotApplication
from bot.reminders import schedule
from bot.sandbox import RunningEmulator, run_emulator
from bot.sandbox.emulator import Emulator
from bot.sandbox.testing import format_violations
from bot.sandbox.world import User
from bot.services import patrons
from bot.settings import load_settings
from tests.integration.circulation.conftest import CBNEM_BRANCHES, World, _world, at


@dataclass
class BotWorld:
    emulator: Emulator
    app: BotApplication
    world: World
    # With the ``staff_bot`` fixture: the staff forum group ([telegram] staff_chat_id) and its
    # members (a librarian who is a plain member, the head librarian who is an administrator).
    staff_chat_id: int | None = None
    staff: list[User] = field(default_factory=list)

    async def patron_with_pin(
        self, card: str, pin: str, branch: str = "BRU", category: str = "adult"
    ) -> None:
        await patrons.add_patron(
            self.world.library,
            card=card,
            name=f"Anna {card}",
            category=PatronCategory(category),
            branch=branch,
            pin=pin,
            now=at(2025, 1, 10),
        )


@pytest.fixture
async def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotWorld]:
    async with _running_bot(tmp_path, monkeypatch, staff_group=False) as running:
        yield running


@pytest.fixture
async def staff_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotWorld]:
    """The same, with a staff forum group configured: ``staff[0]`` is a librarian (a member),
    ``staff[1]`` the head librarian (an administrator who can manage topics)."""
    async with _running_bot(tmp_path, monkeypatch, staff_group=True) as running:
        yield running


@asynccontextmanager
async def _running_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, staff_group: bool
) -> AsyncIterator[BotWorld]:
    monkeypatch.chdir(tmp_path)  # no ./bibliobot.toml, no stray environment
    for name in [name for name in os.environ if name.startswith("BIBLIOBOT_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "bot.sqlite3"
    world = await _world(path, "cbnem", CBNEM_BRANCHES, None)
    async with run_emulator() as running:
        emulator = running.emulator
        staff: list[User] = []
        staff_chat_id = None
        if staff_group:
            librarian = emulator.add_user("Giulia", language_code="it")
            head = emulator.add_user("Marco", language_code="it")
            chat = emulator.add_group(
                "Biblioteche — staff",
                forum=True,
                members={librarian.id: "member"},
                admins=[head.id],
            )
            staff, staff_chat_id = [librarian, head], chat.id
        app = _application(running, path, staff_chat_id)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            stop_cycles(app)  # the tests here act at the real time: no cycle runs behind them
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield BotWorld(emulator, app, world, staff_chat_id, staff)
            finally:
                await app.updater.stop()
                await app.stop()
                if app.post_shutdown is not None:
                    await app.post_shutdown(app)
                await world.store.close()
        if emulator.violations:
            pytest.fail(format_violations(emulator.violations))


# The Telegram user id the configuration names as an administrator (``/admin``).
ADMIN_ID = 7_000_001


def stop_cycles(app: BotApplication) -> None:
    """Remove the reminder cycles' tick (tests that need a cycle run it themselves)."""
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(schedule.JOB_NAME):
        job.schedule_removal()


def _application(running: RunningEmulator, path: Path, staff_chat_id: int | None) -> BotApplication:
    settings = load_settings(
        telegram={
            "token": running.token,
            "base_url": running.bot_api_url,
            "staff_chat_id": staff_chat_id,
            "admin_user_ids": [ADMIN_ID],
        },
        database={"path": str(path)},
        library={"policy": "cbnem"},
    )
    return build_application(settings)
