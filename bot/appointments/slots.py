"""Which appointment slots may be booked, and until when one may be cancelled.

A service (a bibliographic consultation at one branch, say) has weekly slots ("Monday 10:00"),
a duration, a capacity (people per slot), a minimum notice, a booking horizon in days and a
cancellation cut-off. A slot on a given day is bookable when:

- the day is within the horizon: from the library's today up to ``max_ahead_days`` after it;
- its start is at least ``min_notice`` after now (so never in the past);
- the branch is open that day in the library calendar (weekly hours, national holidays, the
  town's patron saint day and the administrators' closures all count);
- fewer than ``capacity`` appointments are requested or confirmed in it.

Times are wall-clock times in the library's time zone (a 10:00 slot is at 10:00 in winter and in
summer); every instant handed in or out is an aware datetime, stored as UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.circulation import LibraryCalendar


class AppointmentReason(StrEnum):
    """Why a booking or a cancellation is refused (stable codes, as in ``--json``)."""

    NOT_A_SLOT = "not_a_slot"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    BRANCH_CLOSED = "branch_closed"
    SLOT_FULL = "slot_full"
    ALREADY_BOOKED = "already_booked"
    PAST_CUTOFF = "past_cutoff"
    UNKNOWN_APPOINTMENT = "unknown_appointment"
    ALREADY_DECIDED = "already_decided"
    ALREADY_STARTED = "already_started"
    UNKNOWN_SERVICE = "unknown_service"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRules:
    """What booking a service allows (an ``appointment_services`` row, as rules)."""

    branch: str
    duration: timedelta
    capacity: int
    min_notice: timedelta
    max_ahead_days: int
    cancel_cutoff: timedelta

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError("an appointment lasts some time")
        if self.capacity < 1:
            raise ValueError("a slot has room for one person at least")
        if self.min_notice < timedelta(0) or self.cancel_cutoff < timedelta(0):
            raise ValueError("notice and cut-off are not negative")
        if self.max_ahead_days < 1:
            raise ValueError("one may book one day ahead at least")


@dataclass(frozen=True, slots=True, order=True)
class WeeklySlot:
    """A slot every week: ``weekday`` (Monday = 0) at ``starts`` (library-local time)."""

    weekday: int
    starts: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday {self.weekday} is not 0 (Monday) .. 6 (Sunday)")


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable occurrence: its start and end (UTC) and the places still free."""

    starts_at: datetime
    ends_at: datetime
    free: int


def _utc(calendar: LibraryCalendar, day: date, at: time) -> datetime:
    return calendar.instant(day, at).astimezone(UTC)


def booking_refusal(
    rules: ServiceRules,
    weekly: Iterable[WeeklySlot],
    calendar: LibraryCalendar,
    starts_at: datetime,
    taken: int,
    now: datetime,
) -> AppointmentReason | None:
    """Why ``starts_at`` cannot be booked now with ``taken`` places taken; None if it can.

    The service layer calls this inside the booking transaction, with ``taken`` counted in that
    same transaction, so two patrons pressing the last place at once cannot both get it.
    """
    local = calendar.local(starts_at)
    slot = WeeklySlot(local.weekday(), local.time().replace(tzinfo=None))
    if slot not in set(weekly) or _utc(calendar, local.date(), slot.starts) != starts_at:
        return AppointmentReason.NOT_A_SLOT
    if starts_at < now + rules.min_notice:
        return AppointmentReason.TOO_SOON
    if local.date() > calendar.local_date(now) + timedelta(days=rules.max_ahead_days):
        return AppointmentReason.TOO_FAR
    if not calendar.is_open(rules.branch, local.date()):
        return AppointmentReason.BRANCH_CLOSED
    if taken >= rules.capacity:
        return AppointmentReason.SLOT_FULL
    return None


def bookable_slots(
    rules: ServiceRules,
    weekly: Iterable[WeeklySlot],
    calendar: LibraryCalendar,
    taken: Mapping[datetime, int],
    now: datetime,
) -> list[Slot]:
    """Every slot that may be booked now, in time order, with its free places.

    ``taken`` maps a slot's start (UTC) to the appointments requested or confirmed in it.
    """
    pattern = sorted(set(weekly))
    today = calendar.local_date(now)
    slots: list[Slot] = []
    for offset in range(rules.max_ahead_days + 1):
        day = today + timedelta(days=offset)
        for weekly_slot in pattern:
            if weekly_slot.weekday != day.weekday():
                continue
            starts_at = _utc(calendar, day, weekly_slot.starts)
            used = taken.get(starts_at, 0)
            if booking_refusal(rules, pattern, calendar, starts_at, used, now) is None:
                slots.append(Slot(starts_at, starts_at + rules.duration, rules.capacity - used))
    return slots


def bookable_days(slots: Iterable[Slot], zone: tzinfo) -> list[date]:
    """The library-local days that have at least one bookable slot, in order."""
    return sorted({slot.starts_at.astimezone(zone).date() for slot in slots})


def can_cancel(rules: ServiceRules, starts_at: datetime, now: datetime) -> bool:
    """A patron may cancel up to ``cancel_cutoff`` before the start; later, she calls."""
    return now <= starts_at - rules.cancel_cutoff


def reminder_time(starts_at: datetime, hours_before: int, now: datetime) -> datetime | None:
    """When to remind the patron, or None when that moment is already past (she has just
    booked, and a reminder now would only repeat the confirmation)."""
    at = starts_at - timedelta(hours=hours_before)
    return at if at > now else None
