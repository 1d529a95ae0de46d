"""The demo's clock: "jump to three days later" runs the notice cycles as on that day.

Nobody waits three days in a demo. The page's clock control asks for a date; the cycles run as
the running bot's own tick would have run them on every day up to that one, at their hours
(:func:`bot.reminders.schedule.run_due`, the catch-up), and what they queued in the outbox is
then sent as at that instant by the product's dispatcher (:func:`drain_once`), through the Bot
API — into the patrons' chats on the page. The
store keeps the real dates of everything else: only the cycles and the sending are told another
day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.demo.page import ClockJump, JsonDict
from bot.handlers.context import BotApplication
from bot.reminders import timing as timing_mod
from bot.reminders.dispatcher import drain_once
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
        # After the quiet hours, if the last cycle's hour falls inside them.
        sending_at = next_allowed(at, timing.quiet, library.zone)
        # Beside the bot's own dispatcher: one pacer, so that both keep Telegram's limits.
        running = app.bot_data.dispatcher
        pacer = running.pacer if running is not None else None
        sent = await drain_once(app.bot, library.store, sending_at, pacer=pacer)
        span = f"{days[0]}" if len(days) == 1 else f"{days[0]} to {days[-1]}" if days else ""
        summary = (
            f"cycles run for {span}: {queued} notice(s) queued, {sent.sent} sent"
            if days
            else f"the cycles had already run for {day}: nothing new"
        )
        return {
            "date": day.isoformat(),
            "at": at.isoformat(),
            "days": [d.isoformat() for d in days],
            "queued": queued,
            "sending_at": sending_at.isoformat(),
            "sent": sent.sent,
            "undeliverable": sent.undeliverable,
            "summary": summary,
        }

    return jump
