"""Calendar arithmetic the rules need and the standard library lacks."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the end of a shorter month.

    G14's renewal is "one month" and its Decision line reads it as a calendar month, so
    31 January + 1 month is 28 (or 29) February, never 3 March. Negative ``months`` go back,
    which the 18-month rule (G3) uses.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def days_late(due_on: date, on: date) -> int:
    """Whole calendar days after the due date (0 on or before it).

    C6/C7's Decision: days are calendar days, and the first day late is the day after the due
    date, so returning on the due date is 0 days late and the next day is 1.
    """
    return max(0, (on - due_on).days)
