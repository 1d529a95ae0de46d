"""Helpers for tests that use the sandbox; free of pytest so the package does not need it.

A fixture in a conftest (``pytest.fail`` instead of the final assert if you prefer)::

    @pytest.fixture
    async def sandbox() -> AsyncIterator[RunningEmulator]:
        async with sandbox_session() as running:
            yield running

fails the test at teardown when the bot made any call that breaks the Bot API spec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter

from bot.sandbox.core import Violation
from bot.sandbox.emulator import Emulator
from bot.sandbox.server import RunningEmulator, run_emulator


def format_violations(violations: Iterable[Violation]) -> str:
    lines = [f"- {v}\n    params: {v.params}" for v in violations]
    return "the bot made Bot API calls that break the spec:\n" + "\n".join(lines)


def assert_no_violations(emulator: Emulator) -> None:
    """AssertionError listing every recorded violation, if there is any."""
    if emulator.violations:
        raise AssertionError(format_violations(emulator.violations))


@asynccontextmanager
async def sandbox_session(**emulator_options: Any) -> AsyncIterator[RunningEmulator]:
    """Serve a fresh emulator; on a clean exit, fail if any violation was recorded."""
    async with run_emulator(Emulator(**emulator_options)) as running:
        yield running
    assert_no_violations(running.emulator)


AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@asynccontextmanager
async def polling_app(
    running: RunningEmulator,
    setup: Callable[[AnyApplication], None] | None = None,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] | None = None,
) -> AsyncIterator[AnyApplication]:
    """A real PTB Application pointed at the emulator, initialized, started and polling.

    ``setup`` adds handlers before start; pass your own ``builder`` to configure more (the
    token and URLs are set here).
    """
    chosen = builder if builder is not None else ApplicationBuilder()
    chosen = chosen.token(running.token).base_url(running.bot_api_url)
    chosen = chosen.base_file_url(running.file_url)
    if rate_limiter is not None:
        chosen = chosen.rate_limiter(rate_limiter)
    app = chosen.build()
    if setup is not None:
        setup(app)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
