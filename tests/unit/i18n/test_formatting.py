"""Dates, times, money and numbers: the exact strings patrons read, in the library's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import I18n, Translator, to_local, translator
from bot.i18n.formatting import DateStyle

NBSP = "\xa0"
DAY = date(2026, 12, 12)  # a Saturday


@pytest.fixture
def it() -> Translator:
    return translator("it")


@pytest.fixture
def en() -> Translator:
    return translator("en")


@pytest.mark.parametrize(
    ("style", "italian", "english"),
    [
        ("medium", "12 dic 2026", "12 Dec 2026"),
        ("full", "sabato 12 dicembre 2026", "Saturday, 12 December 2026"),
        ("day", "12 dic", "12 Dec"),
        ("weekday", "sab 12 dic", "Sat 12 Dec"),
    ],
)
def test_dates(
    style: DateStyle, italian: str, english: str, it: Translator, en: Translator
) -> None:
    assert it.format_date(DAY, style) == italian
    assert en.format_date(DAY, style) == english


def test_the_default_date_style_is_medium(it: Translator) -> None:
    assert it.format_date(date(2027, 1, 8)) == "8 gen 2027"


def test_date_and_time(it: Translator, en: Translator) -> None:
    instant = datetime(2026, 12, 12, 8, 5, tzinfo=UTC)  # 09:05 in Rome (winter, UTC+1)
    assert it.format_datetime(instant) == "12 dic 2026, 09:05"
    assert en.format_datetime(instant) == "12 Dec 2026, 09:05"
    assert it.format_time(instant) == "09:05"
    assert en.format_time(time(18, 30)) == "18:30"


@pytest.mark.parametrize(
    ("cents", "italian", "english"),
    [
        (80, f"0,80{NBSP}€", "€0.80"),
        (0, f"0,00{NBSP}€", "€0.00"),
        (1000, f"10,00{NBSP}€", "€10.00"),
        (123456, f"1.234,56{NBSP}€", "€1,234.56"),
        (-80, f"-0,80{NBSP}€", "-€0.80"),
    ],
)
def test_money_from_integer_cents(
    cents: int, italian: str, english: str, it: Translator, en: Translator
) -> None:
    assert it.format_money(cents) == italian
    assert en.format_money(cents) == english


def test_numbers_percentages_and_lists(it: Translator, en: Translator) -> None:
    assert it.format_number(12345) == "12.345"
    assert en.format_number(12345) == "12,345"
    assert it.format_percent(15) == "15%"
    branches = ["Brugherio", "Vimodrone", "Cologno"]
    assert it.format_list(branches) == "Brugherio, Vimodrone e Cologno"
    assert en.format_list(branches) == "Brugherio, Vimodrone and Cologno"
    assert it.format_list(["Brugherio"]) == "Brugherio"


def test_weekday_names_for_opening_hours(it: Translator, en: Translator) -> None:
    assert [it.weekday_name(day) for day in range(7)] == [
        "lunedì",
        "martedì",
        "mercoledì",
        "giovedì",
        "venerdì",
        "sabato",
        "domenica",
    ]
    assert en.weekday_name(0) == "Monday"
    assert it.weekday_name(DAY.weekday(), "abbreviated") == "sab"
    assert en.weekday_name(6, "abbreviated") == "Sun"


# -- time zone ------------------------------------------------------------------------------


def test_late_on_new_years_eve_in_utc_is_new_years_day_in_rome(it: Translator) -> None:
    instant = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert it.local(instant) == datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Europe/Rome"))
    assert it.local_date(instant) == date(2027, 1, 1)
    assert it.format_date(instant) == "1 gen 2027"
    assert it.format_datetime(instant) == "1 gen 2027, 00:30"


def test_summer_time_is_two_hours_ahead(en: Translator) -> None:
    instant = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    assert en.format_datetime(instant) == "1 Jul 2026, 00:30"


def test_a_naive_timestamp_is_read_as_utc(it: Translator) -> None:
    assert it.format_datetime(datetime(2026, 12, 31, 23, 30)) == "1 gen 2027, 00:30"


def test_a_plain_date_is_already_the_librarys(it: Translator) -> None:
    assert it.local_date(date(2026, 12, 31)) == date(2026, 12, 31)


def test_the_librarys_own_time_zone_is_used() -> None:
    lisbon = I18n(timezone="Europe/Lisbon").translator("it")
    assert lisbon.format_datetime(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == (
        "31 dic 2026, 23:30"
    )


def test_to_local_accepts_any_aware_instant() -> None:
    rome = ZoneInfo("Europe/Rome")
    new_york = datetime(2026, 12, 31, 18, 30, tzinfo=ZoneInfo("America/New_York"))
    assert to_local(new_york, rome) == datetime(2027, 1, 1, 0, 30, tzinfo=rome)
