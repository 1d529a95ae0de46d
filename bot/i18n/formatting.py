"""Dates, times, money and numbers in the patron's language and the library's time zone.

Every timestamp the store keeps is UTC; every date a patron reads is the library's
(INTERFACE.md, "Time"). So an aware datetime is always moved to the library's zone before it is
formatted, and a naive one is read as UTC, the store's convention. A plain ``date`` (a due
date, ``loans.due_on``) is already a library date and is shown as it is.

English is formatted with British conventions (``en_GB``: "12 Dec 2026", 24-hour clock,
"€0.80"): the patrons who ask for English are in an Italian library, where day-month order and
the 24-hour clock are what every sign and receipt uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers

#: The babel locale each supported language is formatted with.
FORMAT_LOCALES = {"it": "it_IT", "en": "en_GB"}

#: ``medium`` "12 dic 2026" · ``full`` "sabato 12 dicembre 2026" · ``day`` "12 dic" ·
#: ``weekday`` "sab 12 dic" (English: "12 Dec 2026", "Saturday, 12 December 2026", "12 Dec",
#: "Sat 12 Dec").
DateStyle = Literal["medium", "full", "day", "weekday"]
_SKELETONS = {"day": "MMMd", "weekday": "MMMEd"}

WeekdayWidth = Literal["wide", "abbreviated"]


def format_locale(language: str) -> Locale:
    """The babel locale for ``language``; Italian for a code babel does not know."""
    try:
        return Locale.parse(FORMAT_LOCALES.get(language, language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FORMAT_LOCALES["it"])


def to_local(instant: datetime, zone: ZoneInfo) -> datetime:
    """The library's wall-clock time at ``instant`` (aware; a naive one is read as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(zone)


def local_date(value: date | datetime, zone: ZoneInfo) -> date:
    """The library's date of an instant, or the date itself."""
    if isinstance(value, datetime):
        return to_local(value, zone).date()
    return value


def format_date(value: date | datetime, locale: Locale, zone: ZoneInfo, style: DateStyle) -> str:
    day = local_date(value, zone)
    if style in _SKELETONS:
        return babel_dates.format_skeleton(_SKELETONS[style], day, locale=locale)
    return babel_dates.format_date(day, style, locale=locale)


def format_time(value: time | datetime, locale: Locale, zone: ZoneInfo) -> str:
    """Hours and minutes: "09:05" in both languages."""
    clock = to_local(value, zone).time() if isinstance(value, datetime) else value
    return babel_dates.format_time(clock, "short", locale=locale)


def format_datetime(value: datetime, locale: Locale, zone: ZoneInfo) -> str:
    """A medium date and a short time joined as the locale joins them: "12 dic 2026, 09:05"."""
    local = to_local(value, zone)
    pattern = str(babel_dates.get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", format_date(local, locale, zone, "medium")).replace(
        "{0}", format_time(local, locale, zone)
    )


def weekday_name(weekday: int, locale: Locale, width: WeekdayWidth) -> str:
    """The name of ``weekday`` (0 is Monday, as ``date.weekday()``): "lunedì", "Monday"."""
    return str(babel_dates.get_day_names(width, locale=locale)[weekday % 7])


def format_money(cents: int, locale: Locale) -> str:
    """Euros from integer cents: "0,80 €" (with a no-break space), "€0.80"."""
    return babel_numbers.format_currency(Decimal(cents) / 100, "EUR", locale=locale)


def format_number(value: int, locale: Locale) -> str:
    """An integer with the locale's grouping: "12.345", "12,345"."""
    return babel_numbers.format_decimal(value, locale=locale)


def format_percent(points: int, locale: Locale) -> str:
    """A percentage from whole points: 15 → "15%"."""
    return babel_numbers.format_percent(Decimal(points) / 100, locale=locale)


def format_list(items: Sequence[str], locale: Locale) -> str:
    """ "Brugherio, Vimodrone e Cologno" / "Brugherio, Vimodrone and Cologno"."""
    return babel_lists.format_list(list(items), locale=locale)
