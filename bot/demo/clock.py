"""The demo's clock: "jump to three days later" runs the notice cycles of every day up to then.

Nobody waits three days in a demo. The page's clock control asks for a date; the cycles then run
for each day not run yet, in order, as the running bot's own tick would have run them had it been
up all along: each day at its cycles' hours (:func:`bot.reminders.schedule.run_due`), and what
they queued in the outbox is sent as at that moment of that day by the product's dispatcher
(:func:`drain_once`), through the Bot API — into the patrons' chats on the page. Day by day, not
in one catch-up: a catch-up is for a bot that was down, and it rightly drops as expired what
stopped being useful meanwhile (the reminder of a loan due on a day already past); the demo's bot
was not down. The store keeps the real dates of everything else: only the cycles and the sending
are told another day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.demo.page import ClockJump, JsonDict
from bot.handlers.context import BotApplication
from bot.reminders import timing as timing_mod
from bot.reminders.cycles import last_run
from bot.reminders.dispatcher import DrainReport, drain_once
from bot.reminders.quiet import next_allowed
from bot.reminders.schedule import CATCH_UP_DAYS, run_due

MAX_DAYS = CATCH_UP_DAYS  # a jump further than this runs the older days as one catch-up


def clock_for(app: BotApplication) -> ClockJump:
    async def jump(day: date) -> JsonDict:
        library = app.bot_data.library
        assert library is not None, "the bot has started"
        async with library.store.snapshot() as conn:
            timing = await timing_mod.load(conn, library.reminders)
        latest = max(timing.cycle_hour(name) for name in timing_mod.CYCLES)
        runs = [await last_run(library, name) for name in timing_mod.CYCLES]
        done = min((run for run in runs if run is not None), default=day - timedelta(days=1))
        first = max(done + timedelta(days=1), day - timedelta(days=MAX_DAYS - 1))
        reports = []
        sent = DrainReport()
        # Beside the bot's own dispatcher: one pacer, so that both keep Telegram's limits.
        running = app.bot_data.dispatcher
        pacer = running.pacer if running is not None else None
        # And its way of posting a staff card again whose topic was deleted meanwhile.
        rethread = running.rethread if running is not None else None
        at = datetime.combine(day, latest, tzinfo=library.zone) + timedelta(minutes=1)
        sending_at = next_allowed(at, timing.quiet, library.zone)
        for n in range(max((day - first).days + 1, 0)):
            # A minute after the day's last cycle hour: every cycle of that day is due.
            on = first + timedelta(days=n)
            at = datetime.combine(on, latest, tzinfo=library.zone) + timedelta(minutes=1)
            reports += await run_due(library, at)
            # After the quiet hours, if the last cycle's hour falls inside them.
            sending_at = next_allowed(at, timing.quiet, library.zone)
            sent.add(
                await drain_once(app.bot, library.store, sending_at, pacer=pacer, rethread=rethread)
            )
        queued = sum(report.queued for report in reports)
        days = sorted({report.day for report in reports})
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
            "expired": sent.expired,
            "summary": summary,
        }

    return jump
