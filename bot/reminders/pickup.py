""" "Your hold is ready": queued in the same transaction as the trapping (G13, C4).

The service layer calls :func:`announce_ready` wherever a hold becomes ready (a check-in, a
copy arriving from another library, a copy released by an expired or cancelled hold), so the
patron is told as soon as the copy is on the shelf for her — G13's 24 hours at worst become
the dispatcher's interval. Inside the holds cycle the announcement is :func:`deferred`: the
cycle finds the same holds (ready, not told) and lists them in its one digest per patron.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot.circulation import LibraryCalendar
from bot.i18n import Translator
from bot.reminders import render, timing
from bot.reminders.queue import Run, flush, queue
from bot.services.context import Moment
from db import circulation as circulation_repo
from db import notices
from db.notices import HoldNotice

_log = logging.getLogger(__name__)

KIND = "hold_ready"
LEVEL = "ready"

_deferred: ContextVar[bool] = ContextVar("hold_ready_deferred", default=False)


@contextmanager
def deferred() -> Iterator[None]:
    """Within this block, holds made ready are left for the caller's digest."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def zone_key(calendar: LibraryCalendar) -> str:
    zone = calendar.zone
    return zone.key if isinstance(zone, ZoneInfo) else "Europe/Rome"


async def pickup(
    conn: aiosqlite.Connection,
    t: Translator,
    calendar: LibraryCalendar,
    hold: HoldNotice,
    today: date,
) -> render.Pickup:
    name = await circulation_repo.branch_name(conn, hold.pickup)
    start = max(today, hold.ready_on or today)
    last = hold.expires_on or start
    return render.pickup_of(t, calendar, hold.pickup, name, start, last)


def valid_until(run: Run, hold: HoldNotice) -> datetime | None:
    """A pickup notice is worth sending until the end of the last day to collect."""
    if hold.expires_on is None:
        return None
    return run.start_of(hold.expires_on + timedelta(days=1))


async def announce_ready(moment: Moment, hold_ids: Sequence[int]) -> int:
    """Queue "ready to collect" for these holds, unless already told; return how many."""
    if _deferred.get() or not hold_ids:
        return 0
    run = Run(
        conn=moment.conn,
        timing=await timing.load(moment.conn, moment.reminders),
        zone_key=zone_key(moment.calendar),
        today=moment.today,
        at=moment.now,
        real_now=moment.now,
        languages=moment.languages,
    )
    count = 0
    for hold in await notices.ready_holds_untold(moment.conn, hold_ids):
        t = run.translator(hold.recipient)
        try:
            where = await pickup(moment.conn, t, moment.calendar, hold, moment.today)
            message = render.hold_ready_message(t, hold, where)
        except Exception:
            # The check-in (or arrival) must not fail because its notice cannot be worded:
            # the hold stays "ready, not told", and the holds cycle tells it.
            _log.exception("hold %s: the ready notice could not be rendered", hold.hold_id)
            continue
        queue(
            run,
            hold.recipient,
            KIND,
            message,
            [(KIND, notices.hold_subject(hold.hold_id), LEVEL)],
            valid_until=valid_until(run, hold),
        )
        count += 1
    await flush(run)
    return count
