"""Run the demo: build the library, start the emulator, the real bot against it, and the page.

The bot is the product's own ``build_application(settings)``, with ``[telegram] base_url``
pointing at the emulator instead of Telegram and the staff forum group, the staff member and an
administrator made in the emulator; nothing of the bot knows it is a demo. One thing differs:
the notice cycles run when the page's clock is moved, not at their hour of the real day (the
bot's minute tick is taken off), so that the notices of the demo's first day wait for the
person trying it to link a card instead of going out, undeliverable, the second the bot starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.demo.clock import clock_for
from bot.demo.library import DemoLibrary, build_demo_library
from bot.demo.page import build_page_app, serve_page
from bot.handlers.context import BotApplication
from bot.reminders import schedule
from bot.sandbox import RunningEmulator, run_emulator
from bot.settings import DatabaseSettings, LibrarySettings, Settings, TelegramSettings

JsonDict = dict[str, Any]
STAFF_GROUP = "Biblioteche CBNEM · staff"


@dataclass(frozen=True)
class RunningDemo:
    """What a started demo is made of (the browser test reads it)."""

    url: str
    library: DemoLibrary
    sandbox: RunningEmulator
    app: BotApplication
    info: JsonDict


def demo_settings(
    base: Settings, sandbox: RunningEmulator, path: Path, staff: JsonDict
) -> Settings:
    """The administrator's settings, with Telegram replaced by the emulator and the demo's store."""
    return Settings(
        telegram=TelegramSettings(
            token=sandbox.token,
            base_url=sandbox.bot_api_url,
            staff_chat_id=staff["chat_id"],
            admin_user_ids=[staff["user_id"]],
        ),
        database=DatabaseSettings(path=path),
        library=LibrarySettings(
            policy="cbnem",
            timezone="Europe/Rome",
            default_language=base.library.default_language,
            languages=base.library.languages,
        ),
        reminders=base.reminders,
    )


@asynccontextmanager
async def running_demo(
    base: Settings,
    *,
    path: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    on_library: Callable[[DemoLibrary], None] | None = None,
) -> AsyncIterator[RunningDemo]:
    """Everything started; stopped (bot first, then page and emulator) on exit."""
    library = await build_demo_library(path)
    if on_library is not None:
        on_library(library)
    async with run_emulator() as sandbox:
        emu = sandbox.emulator
        users = []
        for patron in library.patrons:
            first, _, last = patron.name.partition(" ")
            user = emu.add_user(first, last_name=last or None, language_code=patron.language)
            users.append(
                {
                    "user_id": user.id,
                    "name": patron.name,
                    "card": patron.card,
                    "pin": patron.pin,
                    "category": patron.category.value,
                    "story": patron.story,
                    "story_it": patron.story_it,
                }
            )
        librarian = emu.add_user("Giulia", last_name="Bibliotecaria", language_code="it")
        group = emu.add_group(STAFF_GROUP, forum=True, admins=[librarian.id])
        staff = {"user_id": librarian.id, "name": "Giulia", "chat_id": group.id}
        settings = demo_settings(base, sandbox, path, staff)
        app = build_application(settings)
        async with app:
            assert app.post_init is not None
            await app.post_init(app)
            stop_cycle_tick(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=10)
            try:
                info: JsonDict = {
                    "bot": emu.bot.to_api(),
                    "patrons": users,
                    "staff": staff,
                    "today": library.today.isoformat(),
                }
                page = build_page_app(emu, info, clock_for(app))
                async with serve_page(page, host, port) as url:
                    yield RunningDemo(url, library, sandbox, app, info)
            finally:
                await app.updater.stop()
                await app.stop()
                if app.post_shutdown is not None:
                    await app.post_shutdown(app)


def stop_cycle_tick(app: BotApplication) -> None:
    """The page's clock is the demo's scheduler (see the module's docstring)."""
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(schedule.JOB_NAME):
        job.schedule_removal()


async def serve_forever(base: Settings, *, path: Path, host: str, port: int) -> None:
    def show(library: DemoLibrary) -> None:
        print(library.banner(), flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Stop as cleanly on `kill` as on Ctrl-C: the bot stops, then the page and emulator.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    async with running_demo(base, path=path, host=host, port=port, on_library=show) as demo:
        used = int(demo.url.rstrip("/").rsplit(":", 1)[1])
        if port and used != port:
            print(f"\nPort {port} is taken: the page uses port {used}.", flush=True)
        print(f"\nChat page: {demo.url}   (Ctrl-C to stop)", flush=True)
        await stop.wait()
    print("demo stopped", flush=True)
