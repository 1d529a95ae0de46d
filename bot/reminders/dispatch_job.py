"""The running bot drains the outbox: every ``[reminders] dispatch_interval_seconds`` (PTB's
JobQueue), and at once when nudged after an enqueue in this process.

A notice queued by another process (``bibliobot cycle run`` beside the bot) is seen at the next
tick, so it is sent within the interval. Only the running bot sends: every other command only
queues, so Telegram's limits (counted by the dispatcher's pacer, in this process) hold for the
bot as a whole. The tick only *starts* a drain as a task of the
application and returns, so a long drain (thousands of notices at 30 a second) never makes
APScheduler skip ticks; a tick during a drain makes that drain look again before it ends. The
drain stops taking new notices as soon as the application stops (``app.running``), finishes the
sends in flight, and PTB waits for it before shutting the bot down.
"""

from __future__ import annotations

import aiosqlite

from bot.handlers.context import BotApplication, BotContext
from bot.reminders import cycles, pickup
from bot.reminders import timing as timing_mod
from bot.reminders.dispatcher import Dispatcher, DispatchPolicy, QuietRule, Rethread
from bot.reminders.quiet import QuietHours
from bot.services.appointments import REMINDER_KIND
from bot.services.context import Library

JOB_NAME = "outbox-dispatch"

# The notices whose hour the administrators' timing decides: never sent in the quiet hours.
# (An answer to what the patron asked for — an appointment decided, an interlibrary update —
# goes when the librarian gives it, as the librarian's replies in /librarian do.)
SCHEDULED_KINDS = frozenset(
    {cycles.DUE_KIND, cycles.OVERDUE_KIND, cycles.HOLDS_KIND, pickup.KIND, REMINDER_KIND}
)


def quiet_rule(library: Library) -> QuietRule:
    """The quiet hours in force (the administrators', read at every pass)."""

    async def hours(conn: aiosqlite.Connection) -> QuietHours:
        return (await timing_mod.load(conn, library.reminders)).quiet

    return QuietRule(SCHEDULED_KINDS, library.zone, hours)


def start_dispatching(
    app: BotApplication, policy: DispatchPolicy | None = None, rethread: Rethread | None = None
) -> Dispatcher:
    """Create the application's dispatcher and schedule its ticks (the first one right away:
    what was queued while the bot was down goes out first). ``rethread``: see
    :class:`~bot.reminders.dispatcher.Dispatcher` (the staff cards' lost topics)."""
    settings, library = app.bot_data.settings, app.bot_data.library
    assert settings is not None, "build_application sets the settings"
    assert library is not None, "call after the store is open"
    dispatcher = Dispatcher(
        app.bot,
        library.store,
        policy=policy,
        keep_going=lambda: app.running,
        quiet=quiet_rule(library),
        rethread=rethread,
    )
    app.bot_data.dispatcher = dispatcher
    assert app.job_queue is not None, "python-telegram-bot[job-queue] is a dependency"

    async def tick(_: BotContext) -> None:
        nudge(app)

    app.job_queue.run_repeating(
        tick, interval=settings.reminders.dispatch_interval_seconds, first=0, name=JOB_NAME
    )
    return dispatcher


def nudge(app: BotApplication) -> None:
    """Send what was just queued now rather than at the next tick (call after the enqueuing
    transaction committed)."""
    dispatcher = app.bot_data.dispatcher
    if dispatcher is not None:
        dispatcher.nudge(lambda drain: app.create_task(drain, name="outbox-drain"))


async def stop_dispatching(app: BotApplication) -> None:
    """Let a drain still running finish its sends (before the store closes)."""
    dispatcher = app.bot_data.dispatcher
    if dispatcher is not None:
        dispatcher.stop()
        await dispatcher.wait_idle()
        app.bot_data.dispatcher = None
