"""The library calendar: opening days, holidays, closures, working days and transport."""

# Tests are named after the rule IDs of RULES.md (test_G3_...), which are upper case.

from __future__ import annotations

from datetime import date, time

import holidays
import pytest

from bot.circulation.library_calendar import (
    BranchSchedule,
    CalendarError,
    Closure,
    LibraryCalendar,
    OpeningInterval,
    UnknownBranchError,
)

from .support import CBNEM_CALENDAR, GINESTRA_CALENDAR, ROME, WEEK, at


def test_opening_hours_follow_the_week() -> None:
    tuesday = date(2025, 3, 4)
    assert GINESTRA_CALENDAR.hours("GIN", tuesday) == (
        OpeningInterval(time(9), time(13)),
        OpeningInterval(time(14, 30), time(19)),
    )
    assert GINESTRA_CALENDAR.hours("GIN", date(2025, 3, 3)) == (
        OpeningInterval(time(14, 30), time(19)),
    )
    assert not GINESTRA_CALENDAR.is_open("GIN", date(2025, 3, 9))  # Sunday
    assert GINESTRA_CALENDAR.is_open_at("GIN", at(tuesday, 10))
    assert not GINESTRA_CALENDAR.is_open_at("GIN", at(tuesday, 13, 30))


def test_national_holidays_come_from_the_holidays_package() -> None:
    italy = holidays.country_holidays("IT", years=2025)
    for day in (date(2025, 1, 6), date(2025, 4, 21), date(2025, 6, 2), date(2025, 12, 8)):
        assert day in italy
        assert GINESTRA_CALENDAR.is_national_holiday(day)
        assert not GINESTRA_CALENDAR.is_open("GIN", day)
    assert GINESTRA_CALENDAR.is_open("GIN", date(2025, 4, 22))


def test_the_patron_saint_day_closes_only_its_town() -> None:
    saint = date(2025, 5, 20)  # COL's patron saint in the test data, a Tuesday
    assert not CBNEM_CALENDAR.is_open("COL", saint)
    assert CBNEM_CALENDAR.is_holiday("COL", saint)
    assert CBNEM_CALENDAR.is_open("BRU", saint)
    assert not CBNEM_CALENDAR.is_holiday("BRU", saint)


def test_closures_per_branch_and_network_wide() -> None:
    august = date(2025, 8, 12)
    assert not CBNEM_CALENDAR.is_open("BUS", august)
    assert CBNEM_CALENDAR.is_open("COL", august)
    assert CBNEM_CALENDAR.next_opening_day("BUS", august) == date(2025, 8, 26)  # Monday shut
    network = LibraryCalendar(
        [BranchSchedule.from_rows("A", WEEK), BranchSchedule.from_rows("B", WEEK)],
        closures=[Closure(first_on=date(2025, 12, 27), last_on=date(2025, 12, 31))],
        zone=ROME,
    )
    assert not network.is_open("A", date(2025, 12, 30))
    assert not network.is_open("B", date(2025, 12, 30))
    assert network.next_opening_day("A", date(2025, 12, 27)) == date(2026, 1, 2)


def test_G11_a_due_date_on_christmas_moves_past_santo_stefano() -> None:
    # 25 December 2025 is a Thursday; the holidays package lists 26 December (Santo Stefano)
    # too, so the next opening day of a branch open on Saturdays is Saturday 27.
    italy = holidays.country_holidays("IT", years=2025)
    assert date(2025, 12, 25) in italy
    assert date(2025, 12, 26) in italy
    assert GINESTRA_CALENDAR.next_opening_day("GIN", date(2025, 12, 25)) == date(2025, 12, 27)
    assert GINESTRA_CALENDAR.next_opening_day("GIN", date(2025, 12, 27)) == date(2025, 12, 27)


def test_G13_working_days_are_opening_days() -> None:
    # Friday 25 April 2025 is Liberation Day: the first opening day after Thursday 24 is
    # Saturday 26, and the 3rd is Tuesday 29 (Sunday closed, Monday 28 open).
    thursday = date(2025, 4, 24)
    assert GINESTRA_CALENDAR.add_opening_days("GIN", thursday, 1) == date(2025, 4, 26)
    assert GINESTRA_CALENDAR.add_opening_days("GIN", date(2025, 4, 24), 3) == date(2025, 4, 29)
    assert GINESTRA_CALENDAR.add_opening_days("GIN", date(2025, 3, 9), 0) == date(2025, 3, 10)
    assert GINESTRA_CALENDAR.opening_days_between("GIN", date(2025, 3, 8), date(2025, 3, 11)) == [
        date(2025, 3, 8),
        date(2025, 3, 10),
        date(2025, 3, 11),
    ]


def test_N1_transport_runs_six_days_out_of_seven() -> None:
    saturday, sunday = date(2025, 3, 8), date(2025, 3, 9)
    assert CBNEM_CALENDAR.is_transport_day(saturday)
    assert not CBNEM_CALENDAR.is_transport_day(sunday)
    assert CBNEM_CALENDAR.transit_arrival(saturday) == date(2025, 3, 10)
    assert CBNEM_CALENDAR.transit_arrival(date(2025, 3, 4)) == date(2025, 3, 5)
    # Decision: national holidays stop the van too; a branch's own closure does not.
    assert CBNEM_CALENDAR.transit_arrival(date(2025, 12, 24)) == date(2025, 12, 27)
    assert CBNEM_CALENDAR.is_transport_day(date(2025, 8, 12))  # BUS closed, van runs
    week_days = [date(2025, 3, 3 + n) for n in range(7)]
    assert sum(CBNEM_CALENDAR.is_transport_day(day) for day in week_days) == 6


def test_local_date_uses_the_library_time_zone() -> None:
    from datetime import UTC, datetime

    late_evening_utc = datetime(2025, 6, 30, 22, 30, tzinfo=UTC)  # 00:30 on 1 July in Rome
    assert GINESTRA_CALENDAR.local_date(late_evening_utc) == date(2025, 7, 1)
    with pytest.raises(ValueError, match="aware"):
        GINESTRA_CALENDAR.local_date(datetime(2025, 7, 1, 10))


def test_bad_calendar_data_is_refused() -> None:
    with pytest.raises(UnknownBranchError):
        GINESTRA_CALENDAR.is_open("NOPE", date(2025, 3, 4))
    with pytest.raises(ValueError, match="ends before"):
        OpeningInterval(time(13), time(9))
    with pytest.raises(ValueError, match="weekday"):
        BranchSchedule.from_rows("X", [(7, "09:00", "12:00")])
    with pytest.raises(ValueError, match="day is out of range"):
        BranchSchedule.from_rows("X", WEEK, patron_saint_day="02-30")
    never = LibraryCalendar([BranchSchedule.from_rows("SHUT", [])], zone=ROME)
    with pytest.raises(CalendarError, match="closed for two years"):
        never.next_opening_day("SHUT", date(2025, 1, 1))
    closure = Closure(first_on=date(2025, 1, 1), last_on=date(2025, 1, 2), branch="X")
    with pytest.raises(UnknownBranchError):
        LibraryCalendar([], closures=[closure])
