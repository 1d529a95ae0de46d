"""When staff will read a message sent while the routed branch is closed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.circulation.library_calendar import BranchSchedule, Closure, LibraryCalendar
from bot.services.handoff import first_opening, next_opening

ROME = ZoneInfo("Europe/Rome")
WEEK = [
    *[(day, "09:00", "12:30") for day in range(5)],
    *[(day, "14:30", "19:00") for day in range(5)],
    (5, "09:00", "12:30"),
]
CALENDAR = LibraryCalendar([BranchSchedule.from_rows("BRU", WEEK)], zone=ROME)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def test_open_now_means_no_waiting() -> None:
    assert next_opening(CALENDAR, "BRU", local(2026, 3, 10, 10, 0)) is None  # Tuesday morning


def test_lunch_break_waits_for_the_afternoon() -> None:
    assert next_opening(CALENDAR, "BRU", local(2026, 3, 10, 13, 0)) == local(2026, 3, 10, 14, 30)


def test_saturday_afternoon_waits_for_monday_morning() -> None:
    assert next_opening(CALENDAR, "BRU", local(2026, 3, 14, 15, 0)) == local(2026, 3, 16, 9, 0)


def test_a_holiday_and_a_closure_are_skipped() -> None:
    # Easter Monday 2026 is 6 April (national holiday); closed for works on the 7th too.
    closed = LibraryCalendar(
        [BranchSchedule.from_rows("BRU", WEEK)],
        [Closure(first_on=date(2026, 4, 7), last_on=date(2026, 4, 7), branch="BRU")],
        zone=ROME,
    )
    assert next_opening(closed, "BRU", local(2026, 4, 4, 13, 0)) == local(2026, 4, 8, 9, 0)


def test_a_branch_never_open_has_no_answer() -> None:
    never = LibraryCalendar([BranchSchedule.from_rows("SHUT", [])], zone=ROME)
    assert next_opening(never, "SHUT", local(2026, 3, 10, 10, 0)) is None


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)))
def test_the_answer_is_an_opening_in_the_future(naive: datetime) -> None:
    now = naive.replace(tzinfo=UTC)
    opens = next_opening(CALENDAR, "BRU", now)
    if opens is None:
        assert CALENDAR.is_open_at("BRU", now)
        return
    assert opens > now
    assert CALENDAR.is_open_at("BRU", opens)
    assert not CALENDAR.is_open_at("BRU", opens - timedelta(minutes=1))


# A question no library in particular answers (no card, a general subject): the first to open.
OTHER_WEEK = [(day, "14:00", "18:00") for day in range(6)]
TWO = LibraryCalendar(
    [
        BranchSchedule.from_rows("BRU", WEEK),
        BranchSchedule.from_rows("VIM", OTHER_WEEK),
        BranchSchedule.from_rows("SHUT", []),
    ],
    zone=ROME,
)


def test_any_library_open_means_no_waiting() -> None:
    assert first_opening(TWO, local(2026, 3, 10, 10, 0)) is None  # BRU open, VIM not yet
    assert first_opening(TWO, local(2026, 3, 10, 18, 30)) is None  # VIM closed, BRU open


def test_all_closed_waits_for_the_first_library_to_open() -> None:
    # Tuesday lunchtime: BRU reopens at 14:30, VIM opens at 14:00.
    assert first_opening(TWO, local(2026, 3, 10, 13, 0)) == local(2026, 3, 10, 14, 0)
    # Saturday evening: nobody opens on Sunday; BRU at 9 on Monday comes first.
    assert first_opening(TWO, local(2026, 3, 14, 20, 0)) == local(2026, 3, 16, 9, 0)


def test_a_closure_of_one_library_leaves_the_others() -> None:
    closed = LibraryCalendar(
        [BranchSchedule.from_rows("BRU", WEEK), BranchSchedule.from_rows("VIM", OTHER_WEEK)],
        [Closure(first_on=date(2026, 3, 16), last_on=date(2026, 3, 16), branch="BRU")],
        zone=ROME,
    )
    assert first_opening(closed, local(2026, 3, 14, 20, 0)) == local(2026, 3, 16, 14, 0)


def test_no_library_ever_open_has_no_answer() -> None:
    never = LibraryCalendar([BranchSchedule.from_rows("SHUT", [])], zone=ROME)
    assert first_opening(never, local(2026, 3, 10, 10, 0)) is None


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)))
def test_the_first_opening_is_the_earliest_of_the_libraries(naive: datetime) -> None:
    now = naive.replace(tzinfo=UTC)
    opens = first_opening(TWO, now)
    if opens is None:
        assert TWO.is_open_at("BRU", now) or TWO.is_open_at("VIM", now)
        return
    each = [next_opening(TWO, code, now) for code in ("BRU", "VIM")]
    assert opens == min(o for o in each if o is not None)
