"""Quiet hours: nothing is sent to a patron at night; what falls inside waits for the morning.

Every enqueuer of a scheduled notice (the cycles, a hold trapped at check-in, an appointment
reminder) sets the outbox row's ``not_before`` with :func:`next_allowed` (or, for a notice with
a deadline, :func:`before_deadline`), so a row says when it will go. The running bot's
dispatcher enforces the same hours once more when it sends (``bot.reminders.dispatch_job``):
a notice that comes due at night all the same — the bot was down all evening, a retry fell
after 21:00, a long queue was still draining — waits for the morning too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local times ``start`` ≤ t < ``end``, across midnight when ``start`` > ``end`` (21–08);
    ``start == end`` means no quiet hours at all."""

    start: time
    end: time

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, moment: time) -> bool:
        if not self.enabled:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def next_allowed(instant: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    """``instant`` itself outside the quiet hours, else the first instant after them (UTC)."""
    local = instant.astimezone(zone)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return instant.astimezone(UTC)
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        day += timedelta(days=1)  # 22:30 waits for tomorrow's 08:00
    morning = datetime.combine(day, quiet.end, tzinfo=zone)
    # Across a DST change the wall-clock time may not exist; fold through UTC keeps it sane.
    return morning.astimezone(UTC)


# An appointment reminder moved out of the quiet hours to the evening before goes this long
# before they begin (room for a queue still draining), and to the morning only if the morning
# still leaves at least MORNING_LEAD before the appointment.
EVENING_MARGIN = timedelta(minutes=30)
MORNING_LEAD = timedelta(hours=1)


def quiet_began(instant: datetime, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    """When the quiet period holding ``instant`` began (UTC); ``instant`` must be quiet."""
    local = instant.astimezone(zone)
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) < quiet.end:
        day -= timedelta(days=1)  # 03:00 is in the night that began yesterday at 21:00
    return datetime.combine(day, quiet.start, tzinfo=zone).astimezone(UTC)


def before_deadline(
    intended: datetime,
    deadline: datetime,
    quiet: QuietHours,
    zone: ZoneInfo,
    *,
    now: datetime,
) -> datetime | None:
    """When to send a notice meant for ``intended`` that is only useful before ``deadline``
    (an appointment's reminder), never in the quiet hours; None if no moment fits.

    Outside the quiet hours: ``intended`` itself. Inside: whichever of two moments is nearer
    to ``intended`` — the evening before the quiet hours began (``EVENING_MARGIN`` before
    them), if that is still to come, and the morning they end, if it leaves ``MORNING_LEAD``
    before the deadline. A reminder for 10:00 due at 22:00 (12 hours before) goes at 20:30;
    one for 10:00 due at 07:00 (3 hours before) goes at 08:00; one for 08:30 due at 06:30
    goes at 20:30 the evening before.
    """
    if not quiet.contains(intended.astimezone(zone).time().replace(tzinfo=None)):
        return intended.astimezone(UTC)
    candidates: list[datetime] = []
    evening = quiet_began(intended, quiet, zone) - EVENING_MARGIN
    if evening > now and not quiet.contains(evening.astimezone(zone).time().replace(tzinfo=None)):
        candidates.append(evening)
    morning = next_allowed(intended, quiet, zone)
    if morning + MORNING_LEAD <= deadline and morning > now:
        candidates.append(morning)
    if not candidates:
        return None
    return min(candidates, key=lambda moment: abs(moment - intended))
