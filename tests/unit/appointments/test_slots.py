"""Which appointment slots are offered: minimum notice, horizon, closed days, capacity."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.appointments import (
    AppointmentReason,
    ServiceRules,
    Slot,
    WeeklySlot,
    bookable_days,
    bookable_slots,
    booking_refusal,
    can_cancel,
    reminder_time,
)
from bot.circulation import BranchSchedule, Closure, LibraryCalendar

ROME = ZoneInfo("Europe/Rome")
# Monday to Friday 9-13 and 14:30-19, Saturday 9-12:30; Sunday closed. Saint day 24 June.
WEEK = [
    *((day, "09:00", "13:00") for day in range(5)),
    *((day, "14:30", "19:00") for day in range(5)),
    (5, "09:00", "12:30"),
]
CALENDAR = LibraryCalendar(
    [BranchSchedule.from_rows("BRU", WEEK, patron_saint_day="06-24")],
    closures=[Closure(first_on=date(2026, 12, 21), last_on=date(2026, 12, 23), branch="BRU")],
    zone=ROME,
)
# Monday 10:00, Wednesday 10:00 and 15:00, Saturday 10:00, and a Sunday slot the branch
# never opens for.
WEEKLY = [
    WeeklySlot(0, time(10)),
    WeeklySlot(2, time(10)),
    WeeklySlot(2, time(15)),
    WeeklySlot(5, time(10)),
    WeeklySlot(6, time(10)),
]


def rules(**changes: object) -> ServiceRules:
    values: dict[str, object] = {
        "branch": "BRU",
        "duration": timedelta(minutes=30),
        "capacity": 1,
        "min_notice": timedelta(hours=24),
        "max_ahead_days": 30,
        "cancel_cutoff": timedelta(hours=24),
    }
    values.update(changes)
    return ServiceRules(**values)  # type: ignore[arg-type]


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ROME).astimezone(UTC)


def starts(slots: list[Slot]) -> list[datetime]:
    return [slot.starts_at for slot in slots]


# Monday 16 November 2026, 09:00 in Rome.
NOW = at(date(2026, 11, 16), 9)


def test_slots_follow_the_weekly_pattern_in_local_time() -> None:
    slots = bookable_slots(rules(max_ahead_days=7), WEEKLY, CALENDAR, {}, NOW)
    assert starts(slots) == [
        at(date(2026, 11, 18), 10),  # Wednesday
        at(date(2026, 11, 18), 15),
        at(date(2026, 11, 21), 10),  # Saturday
        at(date(2026, 11, 23), 10),  # next Monday, the horizon's last day
    ]
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in slots)
    assert all(slot.free == 1 for slot in slots)


def test_minimum_notice_hides_slots_too_close() -> None:
    # Monday 09:00: today's 10:00 is an hour away; with 24 hours' notice it is gone ...
    assert at(date(2026, 11, 16), 10) not in starts(
        bookable_slots(rules(), WEEKLY, CALENDAR, {}, NOW)
    )
    # ... with no notice it is offered; once it has started it never is.
    no_notice = rules(min_notice=timedelta(0))
    assert at(date(2026, 11, 16), 10) in starts(
        bookable_slots(no_notice, WEEKLY, CALENDAR, {}, NOW)
    )
    later = at(date(2026, 11, 16), 10, 1)
    assert at(date(2026, 11, 16), 10) not in starts(
        bookable_slots(no_notice, WEEKLY, CALENDAR, {}, later)
    )
    # 48 hours' notice from Monday 09:00: Wednesday 10:00 is 49 hours away, still offered.
    two_days = rules(min_notice=timedelta(hours=48))
    assert starts(bookable_slots(two_days, WEEKLY, CALENDAR, {}, NOW))[0] == at(
        date(2026, 11, 18), 10
    )
    assert (
        booking_refusal(
            two_days, WEEKLY, CALENDAR, at(date(2026, 11, 18), 10), 0, at(date(2026, 11, 16), 11)
        )
        == AppointmentReason.TOO_SOON
    )


def test_the_horizon_counts_library_days_from_today() -> None:
    slots = bookable_slots(rules(max_ahead_days=9), WEEKLY, CALENDAR, {}, NOW)
    assert starts(slots)[-1] == at(date(2026, 11, 25), 15)  # Wednesday, today + 9
    refusal = booking_refusal(
        rules(max_ahead_days=9), WEEKLY, CALENDAR, at(date(2026, 11, 28), 10), 0, NOW
    )
    assert refusal == AppointmentReason.TOO_FAR


def test_closed_days_are_never_offered() -> None:
    slots = bookable_slots(rules(max_ahead_days=60), WEEKLY, CALENDAR, {}, NOW)
    days = bookable_days(slots, ROME)
    assert all(day.weekday() != 6 for day in days)  # Sunday: the branch has no hours
    assert date(2026, 12, 21) not in days  # the branch's closure (a Monday)
    assert date(2026, 12, 23) not in days  # ... to Wednesday
    assert date(2026, 12, 19) in days  # the Saturday before is open
    assert date(2026, 12, 28) in days
    # National holidays: Tuesday 8 December is not a slot day anyway; Saturday 26 December
    # (Santo Stefano) would be.
    assert date(2026, 12, 26) not in days
    assert (
        booking_refusal(
            rules(max_ahead_days=60), WEEKLY, CALENDAR, at(date(2026, 12, 26), 10), 0, NOW
        )
        == AppointmentReason.BRANCH_CLOSED
    )


def test_the_patron_saint_day_closes_the_branch() -> None:
    june = at(date(2027, 6, 20), 9)  # Sunday 20 June 2027; Wednesday 23, Thursday 24
    weekly = [WeeklySlot(3, time(10))]  # Thursdays
    days = bookable_days(bookable_slots(rules(), weekly, CALENDAR, {}, june), ROME)
    assert date(2027, 6, 24) not in days
    assert date(2027, 7, 1) in days


def test_capacity_counts_places_taken() -> None:
    wednesday = at(date(2026, 11, 18), 10)
    taken = {wednesday: 2}
    full = bookable_slots(rules(capacity=2, max_ahead_days=3), WEEKLY, CALENDAR, taken, NOW)
    assert wednesday not in starts(full)
    roomy = bookable_slots(rules(capacity=3, max_ahead_days=3), WEEKLY, CALENDAR, taken, NOW)
    assert [slot.free for slot in roomy if slot.starts_at == wednesday] == [1]
    assert (
        booking_refusal(rules(capacity=2), WEEKLY, CALENDAR, wednesday, 2, NOW)
        == AppointmentReason.SLOT_FULL
    )


def test_only_the_weekly_pattern_is_bookable() -> None:
    tuesday = at(date(2026, 11, 24), 10)
    assert booking_refusal(rules(), WEEKLY, CALENDAR, tuesday, 0, NOW) == (
        AppointmentReason.NOT_A_SLOT
    )
    off_by_a_minute = at(date(2026, 11, 25), 10, 1)
    assert booking_refusal(rules(), WEEKLY, CALENDAR, off_by_a_minute, 0, NOW) == (
        AppointmentReason.NOT_A_SLOT
    )


def test_wall_clock_time_holds_across_daylight_saving() -> None:
    # Summer time ends on Sunday 25 October 2026: 10:00 is 08:00 UTC before, 09:00 UTC after.
    before = at(date(2026, 10, 19), 9)
    slots = bookable_slots(rules(max_ahead_days=9), [WeeklySlot(0, time(10))], CALENDAR, {}, before)
    assert starts(slots) == [
        datetime(2026, 10, 26, 9, tzinfo=UTC),
    ]
    summer = bookable_slots(
        rules(max_ahead_days=9), [WeeklySlot(2, time(10))], CALENDAR, {}, before
    )
    assert starts(summer) == [
        datetime(2026, 10, 21, 8, tzinfo=UTC),
        datetime(2026, 10, 28, 9, tzinfo=UTC),
    ]


def test_cancel_up_to_the_cut_off() -> None:
    start = at(date(2026, 11, 20), 10)
    assert can_cancel(rules(), start, start - timedelta(hours=24))
    assert not can_cancel(rules(), start, start - timedelta(hours=23, minutes=59))
    assert can_cancel(rules(cancel_cutoff=timedelta(0)), start, start)


def test_the_reminder_is_before_the_start_unless_already_past() -> None:
    start = at(date(2026, 11, 20), 10)
    assert reminder_time(start, 24, NOW) == start - timedelta(hours=24)
    assert reminder_time(start, 24, start - timedelta(hours=2)) is None


@settings(max_examples=60, deadline=None)
@given(
    minutes=st.integers(min_value=0, max_value=60 * 24 * 120),
    notice=st.integers(min_value=0, max_value=96),
    ahead=st.integers(min_value=1, max_value=40),
    capacity=st.integers(min_value=1, max_value=3),
    taken_every=st.integers(min_value=1, max_value=4),
)
def test_every_offered_slot_can_be_booked_and_every_bookable_one_is_offered(
    minutes: int, notice: int, ahead: int, capacity: int, taken_every: int
) -> None:
    now = NOW + timedelta(minutes=minutes)
    service = rules(min_notice=timedelta(hours=notice), max_ahead_days=ahead, capacity=capacity)
    everything = bookable_slots(
        rules(min_notice=timedelta(0), max_ahead_days=ahead + 2, capacity=capacity),
        WEEKLY,
        CALENDAR,
        {},
        now - timedelta(days=1),
    )
    taken = {slot.starts_at: index % taken_every for index, slot in enumerate(everything)}
    offered = bookable_slots(service, WEEKLY, CALENDAR, taken, now)
    assert starts(offered) == sorted(set(starts(offered)))
    for slot in offered:
        used = taken.get(slot.starts_at, 0)
        assert booking_refusal(service, WEEKLY, CALENDAR, slot.starts_at, used, now) is None
        assert slot.free == capacity - used > 0
        assert slot.starts_at >= now + timedelta(hours=notice)
        assert CALENDAR.is_open("BRU", CALENDAR.local_date(slot.starts_at))
    offered_set = set(starts(offered))
    for candidate in everything:
        used = taken.get(candidate.starts_at, 0)
        if booking_refusal(service, WEEKLY, CALENDAR, candidate.starts_at, used, now) is None:
            assert candidate.starts_at in offered_set
