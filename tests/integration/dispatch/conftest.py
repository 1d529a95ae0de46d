"""A served emulator, a store on a real SQLite file, and a PTB ``Bot`` talking to the one about
the other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram import Bot

from bot.sandbox import RunningEmulator, run_emulator
from bot.sandbox.emulator import Emulator
from bot.sandbox.testing import format_violations
from db.store import Store


@dataclass
class Outbox:
    running: RunningEmulator
    bot: Bot
    store: Store

    @property
    def emulator(self) -> Emulator:
        return self.running.emulator


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    async with run_emulator() as running:
        bot = Bot(running.token, base_url=running.bot_api_url, base_file_url=running.file_url)
        async with bot, await Store.open(tmp_path / "outbox.sqlite3") as store:
            yield Outbox(running, bot, store)
    if running.emulator.violations:
        pytest.fail(format_violations(running.emulator.violations))
