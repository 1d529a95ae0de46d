"""The demo's clock: "jump to three days later" runs the notice cycles as on that day.

Nobody waits three days in a demo. The page's clock control asks for a date; the cycles run as
the running bot's own tick would have run them on every day up to that one, at their hours
(:func:`bot.reminders.schedule.run_due`, the catch-up), and what they queued in the outbox is
then sent as at that instant, through the Bot API — into the patrons' chats on the page. The
store keeps the real dates of everything else: only the cycles and the sending are told another
day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.demo.page import ClockJump, JsonDict
from bot.handlers.context import BotApplication
from bot.reminders import timing as timing_mod
from bot.reminders.quiet import next_allowed
from bot.reminders.schedule import run_due


def clock_for(app: BotApplication) -> ClockJump:
    async def jump(day: date) -> JsonDict:
        library = app.bot_data.library
        assert library is not None, "the bot has started"
        async with library.store.snapshot() as conn:
            timing = await timing_mod.load(conn, library.reminders)
        latest = max(timing.cycle_hour(name) for name in timing_mod.CYCLES)
        # A minute after the last cycle's hour: every cycle of that day is due.
        at = datetime.combine(day, latest, tzinfo=library.zone) + timedelta(minutes=1)
        reports = await run_due(library, at)
        queued = sum(report.queued for report in reports)
        days = sorted({report.day for report in reports})
        sending_at = next_allowed(at, timing.quiet, library.zone)
        summary = (
            f"cycles run for {days[0]}…{days[-1]}: {queued} notice(s) queued"
            if days
            else f"the cycles had already run for {day}: nothing new"
        )
        return {
            "date": day.isoformat(),
            "at": at.isoformat(),
            "days": [d.isoformat() for d in days],
            "queued": queued,
            "sending_at": sending_at.isoformat(),
            "summary": summary,
        }

    return jump
