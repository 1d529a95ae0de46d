"""Quiet hours: nothing is sent to a patron at night; what falls inside waits for the morning.

Every enqueuer (the cycles, a hold trapped at check-in, an appointment reminder) sets the
outbox row's ``not_before`` with :func:`next_allowed`, so the dispatcher needs to know nothing
about quiet hours: it sends rows whose ``not_before`` has passed.
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
