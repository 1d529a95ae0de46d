"""Fixtures for the emulator's own tests: a served emulator that fails on spec violations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox import RunningEmulator, run_emulator
from bot.sandbox.testing import format_violations


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningEmulator]:
    """A served emulator; the test fails at teardown if the bot broke the Bot API spec."""
    async with run_emulator() as running:
        yield running
    if running.emulator.violations:
        pytest.fail(format_violations(running.emulator.violations))
