"""The library calendar: when each branch is open, and when the network's van runs.

Built from data (the store's ``branches``, ``branch_hours`` and ``closures`` rows) and never
reading a clock or a file, so every date rule can be tested for any day of any year. A branch
is closed on a day when it has no opening hours that weekday, on an Italian national holiday
(from the ``holidays`` package), on its town's patron saint day, or during a closure set by the
administrators for that branch or for the whole network.

Decisions:

- "Working days" (G13, G18) are the branch's opening days.
- Transport (N1) runs six days out of seven: not on Sunday, and not on national holidays either,
  because the courier is a working service like any other; a closure of the whole network stops
  it too (nobody loads or unloads). A branch's own closure or saint day does not: the van still
  runs between the other libraries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import holidays

ROME = ZoneInfo("Europe/Rome")
SUNDAY = 6
# A branch that is never open would make every "next opening day" loop forever; two years of
# search is more than any real closure lasts.
_SEARCH_DAYS = 731


class CalendarError(ValueError):
    """The calendar cannot answer (an unknown branch, a branch that never opens)."""


class UnknownBranchError(CalendarError):
    """A branch code the calendar was not given."""


@dataclass(frozen=True, slots=True)
class OpeningInterval:
    """One opening interval of a day (``branch_hours`` row): ``opens`` ≤ t < ``closes``."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(f"opening interval {self.opens}-{self.closes} ends before it starts")


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchSchedule:
    """A branch's week (Monday = 0) and its town's patron saint day as (month, day)."""

    code: str
    week: tuple[tuple[OpeningInterval, ...], ...]
    patron_saint_day: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days (Monday first)")

    @classmethod
    def from_rows(
        cls,
        code: str,
        hours: Iterable[tuple[int, time | str, time | str]],
        *,
        patron_saint_day: str | None = None,
    ) -> BranchSchedule:
        """Build from ``branch_hours`` rows ``(weekday, "09:00", "13:00")`` and ``"MM-DD"``."""
        days: list[list[OpeningInterval]] = [[] for _ in range(7)]
        for weekday, opens, closes in hours:
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday {weekday} is not 0 (Monday) .. 6 (Sunday)")
            days[weekday].append(OpeningInterval(_as_time(opens), _as_time(closes)))
        saint = None
        if patron_saint_day:
            month, day = (int(part) for part in patron_saint_day.split("-"))
            date(2000, month, day)  # a leap year accepts 02-29; an impossible day raises
            saint = (month, day)
        week = tuple(tuple(sorted(intervals, key=lambda i: i.opens)) for intervals in days)
        return cls(code=code, week=week, patron_saint_day=saint)

    def hours_on_weekday(self, weekday: int) -> tuple[OpeningInterval, ...]:
        return self.week[weekday]


@dataclass(frozen=True, slots=True, kw_only=True)
class Closure:
    """A closure set by the administrators (``closures`` row); ``branch`` None closes all."""

    first_on: date
    last_on: date
    branch: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.first_on > self.last_on:
            raise ValueError("a closure ends before it starts")

    def covers(self, branch: str, day: date) -> bool:
        return (self.branch is None or self.branch == branch) and (
            self.first_on <= day <= self.last_on
        )


@dataclass(frozen=True, slots=True)
class _NationalHolidays:
    """Italian national holidays per year, computed once per year and kept."""

    country: str
    years: dict[int, frozenset[date]] = field(default_factory=dict)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        known = self.years.get(day.year)
        if known is None:
            table = holidays.country_holidays(self.country, years=day.year)
            known = frozenset(table.keys())
            self.years[day.year] = known
        return day in known


class LibraryCalendar:
    """Opening days and hours of every branch, and the network's transport days.

    The calendar is a value: the service layer builds it from the store when branches, hours
    or closures change, and passes it to the decisions.
    """

    __slots__ = ("_branches", "_closures", "_national", "_transport_weekdays", "zone")

    def __init__(
        self,
        branches: Iterable[BranchSchedule],
        closures: Iterable[Closure] = (),
        *,
        zone: tzinfo = ROME,
        country: str = "IT",
        transport_weekdays: Iterable[int] = (0, 1, 2, 3, 4, 5),
    ) -> None:
        self._branches: Mapping[str, BranchSchedule] = {b.code: b for b in branches}
        self._closures: tuple[Closure, ...] = tuple(closures)
        self._national = _NationalHolidays(country)
        self._transport_weekdays = frozenset(transport_weekdays)
        self.zone = zone
        for closure in self._closures:
            if closure.branch is not None:
                self.schedule(closure.branch)

    # -- the branches ----------------------------------------------------------------------

    @property
    def branch_codes(self) -> frozenset[str]:
        return frozenset(self._branches)

    def schedule(self, branch: str) -> BranchSchedule:
        try:
            return self._branches[branch]
        except KeyError:
            raise UnknownBranchError(f"unknown branch {branch!r}") from None

    def has_branch(self, branch: str) -> bool:
        return branch in self._branches

    # -- time zone -------------------------------------------------------------------------

    def local(self, now: datetime) -> datetime:
        """``now`` (aware) in the library's time zone."""
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime (UTC)")
        return now.astimezone(self.zone)

    def local_date(self, now: datetime) -> date:
        """The library's "today" at the instant ``now``: every day count starts here."""
        return self.local(now).date()

    def instant(self, day: date, at: time) -> datetime:
        """The aware instant of a local day and hour (a short loan's end, G4)."""
        return datetime.combine(day, at, tzinfo=self.zone)

    # -- which days are holidays and closures ----------------------------------------------

    def is_national_holiday(self, day: date) -> bool:
        return day in self._national

    def is_patron_saint_day(self, branch: str, day: date) -> bool:
        saint = self.schedule(branch).patron_saint_day
        return saint is not None and (day.month, day.day) == saint

    def is_holiday(self, branch: str, day: date) -> bool:
        """A public holiday where the branch is: national, or the town's patron saint."""
        return self.is_national_holiday(day) or self.is_patron_saint_day(branch, day)

    def closure(self, branch: str, day: date) -> Closure | None:
        """The administrators' closure of the branch (or of the network) on ``day``, if any."""
        self.schedule(branch)
        return next((c for c in self._closures if c.covers(branch, day)), None)

    def is_network_closed(self, day: date) -> bool:
        return any(c.branch is None and c.first_on <= day <= c.last_on for c in self._closures)

    # -- opening days ----------------------------------------------------------------------

    def hours(self, branch: str, day: date) -> tuple[OpeningInterval, ...]:
        """The day's opening intervals; empty when the branch is closed that day."""
        schedule = self.schedule(branch)
        if self.is_holiday(branch, day) or self.closure(branch, day) is not None:
            return ()
        return schedule.hours_on_weekday(day.weekday())

    def is_open(self, branch: str, day: date) -> bool:
        return bool(self.hours(branch, day))

    def is_open_at(self, branch: str, now: datetime) -> bool:
        local = self.local(now)
        moment = local.time().replace(tzinfo=None)
        return any(i.opens <= moment < i.closes for i in self.hours(branch, local.date()))

    def next_opening_day(self, branch: str, day: date) -> date:
        """``day`` if the branch opens then, else the first opening day after it (G11)."""
        return self._first(branch, day, lambda d: self.is_open(branch, d))

    def opening_day_after(self, branch: str, day: date) -> date:
        """The first opening day strictly after ``day``."""
        return self.next_opening_day(branch, day + timedelta(days=1))

    def add_opening_days(self, branch: str, day: date, n: int) -> date:
        """The ``n``-th opening day after ``day`` ("working days", G13, G18).

        ``n = 0`` is ``day`` itself if open, else the next opening day; the answer is always a
        day the branch is open.
        """
        if n < 0:
            raise ValueError("count opening days forward only")
        current = self.next_opening_day(branch, day) if n == 0 else day
        for _ in range(n):
            current = self.opening_day_after(branch, current)
        return current

    def opening_days_between(self, branch: str, start: date, end: date) -> Sequence[date]:
        """The branch's opening days in ``start`` .. ``end``, both included."""
        days: list[date] = []
        day = start
        while day <= end:
            if self.is_open(branch, day):
                days.append(day)
            day += timedelta(days=1)
        return days

    # -- transport (N1) --------------------------------------------------------------------

    def is_transport_day(self, day: date) -> bool:
        """Does the van run on ``day``? (N1: six days out of seven, not on Sunday.)"""
        return (
            day.weekday() in self._transport_weekdays
            and not self.is_national_holiday(day)
            and not self.is_network_closed(day)
        )

    def next_transport_day(self, day: date) -> date:
        """The first transport day strictly after ``day``."""
        return self._first(None, day + timedelta(days=1), self.is_transport_day)

    def transit_arrival(self, sent_on: date) -> date:
        """When an item sent on ``sent_on`` arrives: the next transport day (N1)."""
        return self.next_transport_day(sent_on)

    # ---------------------------------------------------------------------------------------

    def _first(self, branch: str | None, start: date, good: Callable[[date], bool]) -> date:
        day = start
        for _ in range(_SEARCH_DAYS):
            if good(day):
                return day
            day += timedelta(days=1)
        what = f"branch {branch!r} is" if branch else "the transport is"
        raise CalendarError(f"{what} closed for two years from {start.isoformat()}")


def _as_time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)
