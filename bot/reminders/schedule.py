"""When the cycles run: a frequent tick asks "is a run due?" against the stored timing.

A tick every minute (PTB's JobQueue, i.e. APScheduler) rather than one ``run_daily`` job per
cycle, because the hour is the administrators' to change at any time: the tick reads the
timing from the store each time, so a new hour takes effect the same day, without a restart.

The tick is also the catch-up (Koha's ``trigger_date``): each cycle remembers the last day it
ran for (``cycles.last_run.<name>``); when the bot was down for days, the next tick runs every
missed day in order, each as at that day's cycle hour, so each missed notice is decided once —
sent if still worth sending, recorded as expired otherwise. A bot started for the first time
runs today's cycle only (once its hour has come).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from bot.handlers.context import BotApplication, BotContext
from bot.reminders import timing as timing_mod
from bot.reminders.cycles import CycleReport, last_run, run_cycle
from bot.services.context import Library

_log = logging.getLogger(__name__)

TICK_SECONDS = 60
# Older missed days are not replayed (a log line says so): whatever they would decide is past
# the longest maximum age administrators may set, so it would only be recorded as expired.
CATCH_UP_DAYS = timing_mod.MAX_AGE_DAYS
JOB_NAME = "reminder-cycles"


def missed_days(last: date | None, today: date, hour_passed: bool) -> list[date]:
    """The days a cycle still has to run for, oldest first."""
    latest = today if hour_passed else today - timedelta(days=1)
    if last is None:
        return [today] if hour_passed else []
    first = max(last + timedelta(days=1), latest - timedelta(days=CATCH_UP_DAYS - 1))
    if last + timedelta(days=1) < first:
        _log.warning(
            "cycles: %s days missed before %s are not replayed (older than any notice's "
            "maximum age)",
            (first - last).days - 1,
            first,
        )
    return [first + timedelta(days=n) for n in range((latest - first).days + 1)]


async def run_due(library: Library, now: datetime) -> list[CycleReport]:
    """Run every cycle pass that is due at ``now`` (including missed days); return them."""
    async with library.store.snapshot() as conn:
        timing = await timing_mod.load(conn, library.reminders)
    local = now.astimezone(library.zone)
    reports: list[CycleReport] = []
    for name in timing_mod.CYCLES:
        hour = timing.cycle_hour(name)
        days = missed_days(
            await last_run(library, name), local.date(), local.time().replace(tzinfo=None) >= hour
        )
        for day in days:
            at = datetime.combine(day, hour, tzinfo=library.zone)
            try:
                report = await run_cycle(library, name, at=at, real_now=now)
            except Exception:
                # Nothing of this pass was committed; its day stays unrun, so the next tick
                # tries it again. The other cycles go on meanwhile.
                _log.exception("cycle %s for %s failed; it will be tried again", name, day)
                break
            reports.append(report)
            _log.info(
                "cycle %s for %s: %d queued, %d expired",
                name,
                day,
                report.queued,
                report.expired,
            )
    return reports


async def tick(context: BotContext) -> None:
    """The JobQueue callback: never lets an error stop the next tick."""
    library = context.bot_data.library
    if library is None:
        return
    try:
        await run_due(library, datetime.now(UTC))
    except Exception:  # a failed pass is retried at the next tick: nothing was committed
        _log.exception("cycles: a pass failed; it will be tried again")


def start(app: BotApplication, *, interval: float = TICK_SECONDS) -> None:
    """Register the tick (called when the application starts); the first tick, a second
    after start-up, is the catch-up."""
    queue = app.job_queue
    if queue is None:
        raise RuntimeError("the JobQueue is needed (python-telegram-bot[job-queue])")
    for job in queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    queue.run_repeating(tick, interval=interval, first=1, name=JOB_NAME)
