"""Quiet hours and the administrators' timing: parsing, validation, the morning rule."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.reminders import timing
from bot.reminders.quiet import QuietHours, before_deadline, next_allowed
from bot.settings import RemindersSettings

ROME = ZoneInfo("Europe/Rome")
NIGHT = QuietHours(time(21), time(8))


def rome(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME)


def test_quiet_hours_wait_for_the_morning() -> None:
    assert next_allowed(rome(2026, 3, 10, 20, 59), NIGHT, ROME) == rome(2026, 3, 10, 20, 59)
    assert next_allowed(rome(2026, 3, 10, 21, 0), NIGHT, ROME) == rome(2026, 3, 11, 8, 0)
    assert next_allowed(rome(2026, 3, 11, 3, 0), NIGHT, ROME) == rome(2026, 3, 11, 8, 0)
    assert next_allowed(rome(2026, 3, 11, 8, 0), NIGHT, ROME) == rome(2026, 3, 11, 8, 0)
    # The night summer time starts (29 March 2026): still 08:00 local.
    assert next_allowed(rome(2026, 3, 28, 23, 0), NIGHT, ROME) == rome(2026, 3, 29, 8, 0)
    lunch = QuietHours(time(13), time(14))
    assert next_allowed(rome(2026, 3, 10, 13, 30), lunch, ROME) == rome(2026, 3, 10, 14, 0)
    off = QuietHours(time(0), time(0))
    assert next_allowed(rome(2026, 3, 10, 3, 0), off, ROME) == rome(2026, 3, 10, 3, 0)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    st.times(),
    st.times(),
)
def test_next_allowed_is_never_quiet_and_never_a_day_late(
    naive: datetime, start: time, end: time
) -> None:
    quiet = QuietHours(start.replace(microsecond=0), end.replace(microsecond=0))
    instant = naive.replace(tzinfo=UTC)
    allowed = next_allowed(instant, quiet, ROME)
    assert allowed >= instant
    assert allowed - instant <= timedelta(hours=25)  # 24 h, plus a DST hour
    local = allowed.astimezone(ROME).time().replace(tzinfo=None)
    assert not quiet.contains(local)


def test_timing_defaults_come_from_the_config_file() -> None:
    config = RemindersSettings(due_offsets_days=[7, 1], cycle_hours={"holds": time(8, 30)})
    current = timing.defaults(config)
    assert current.due_offsets_days == (7, 1)
    assert current.cycle_hour("holds") == time(8, 30)
    assert current.cycle_hour("reminders") == time(9)
    assert current.as_text()["quiet_hours"] == "21:00-08:00"


@pytest.mark.parametrize(
    ("key", "text", "code", "usage"),
    [
        ("due_offset", "3", "unknown_setting", True),
        ("due_offsets", "3,x", "bad_offsets", True),
        ("due_offsets", "31", "offset_range", False),
        ("overdue_levels", "first_day,never", "bad_level", True),
        ("reminders_hour", "9", "bad_time", True),
        ("reminders_hour", "25:00", "bad_time", False),
        ("quiet_hours", "21", "bad_quiet_hours", True),
        ("max_notice_age_days", "0", "days_range", False),
        ("hold_reminder_days", "-1", "bad_days", True),
        # Digits to str.isdigit that int() refuses ("²") or that are not ours to read ("١").
        ("hold_reminder_days", "²", "bad_days", True),
        ("max_notice_age_days", "١٢", "bad_days", True),
        ("due_offsets", "3,²", "bad_offsets", True),
        ("reminders_hour", "0²:00", "bad_time", True),
        ("quiet_hours", "21:00-0²:00", "bad_time", True),
    ],
)
def test_a_wrong_value_names_its_reason(key: str, text: str, code: str, usage: bool) -> None:
    with pytest.raises(timing.TimingError) as raised:
        timing.parse_value(key, text)
    assert (raised.value.code, raised.value.usage) == (code, usage)
    assert raised.value.english  # a sentence, with its fields filled in


def test_values_are_normalised() -> None:
    assert timing.parse_value("due_offsets", " 0, 3 ,3 ") == [3, 0]
    assert timing.parse_value("due_offsets", "none") == []
    assert timing.parse_value("overdue_levels", "suspension,first_day") == [
        "first_day",
        "suspension",
    ]
    assert timing.parse_value("quiet_hours", "22:00-7:30") == ["22:00", "07:30"]
    assert timing.parse_value("quiet_hours", "off") == ["00:00", "00:00"]


def test_a_cycle_hour_inside_the_quiet_hours_is_refused() -> None:
    base = timing.defaults(RemindersSettings())
    with pytest.raises(timing.TimingError) as raised:
        timing.check(timing.apply(base, {"overdue_hour": "22:30"}))
    assert raised.value.code == "hour_in_quiet_hours"
    timing.check(timing.apply(base, {"overdue_hour": "22:30", "quiet_hours": ["23:00", "07:00"]}))


def _before(intended: datetime, deadline: datetime, now: datetime) -> datetime | None:
    return before_deadline(intended, deadline, NIGHT, ROME, now=now)


def test_a_notice_with_a_deadline_avoids_the_night_and_still_comes_before_it() -> None:
    monday = rome(2026, 11, 16, 9, 0)
    # Outside the quiet hours: as intended.
    assert _before(rome(2026, 11, 17, 20, 0), rome(2026, 11, 18, 10, 0), monday) == rome(
        2026, 11, 17, 20, 0
    )
    # 22:00 for 10:00: the evening before (20:30) is nearer than the morning.
    assert _before(rome(2026, 11, 17, 22, 0), rome(2026, 11, 18, 10, 0), monday) == rome(
        2026, 11, 17, 20, 30
    )
    # 07:00 for 10:00: the morning (08:00).
    assert _before(rome(2026, 11, 18, 7, 0), rome(2026, 11, 18, 10, 0), monday) == rome(
        2026, 11, 18, 8, 0
    )
    # 06:30 for 08:30: 08:00 would leave half an hour; the evening before it is.
    assert _before(rome(2026, 11, 18, 6, 30), rome(2026, 11, 18, 8, 30), monday) == rome(
        2026, 11, 17, 20, 30
    )
    # ...unless that evening is already past: then nothing fits.
    assert (
        _before(rome(2026, 11, 18, 6, 30), rome(2026, 11, 18, 8, 30), rome(2026, 11, 17, 21, 5))
        is None
    )
    # A reminder at 02:00 belongs to the night that began the evening before.
    assert _before(rome(2026, 11, 18, 2, 0), rome(2026, 11, 18, 8, 30), monday) == rome(
        2026, 11, 17, 20, 30
    )


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
    st.integers(min_value=1, max_value=48 * 60),
    st.integers(min_value=0, max_value=48 * 60),
)
def test_a_placed_notice_is_never_quiet_never_late_and_never_in_the_past(
    naive: datetime, lead_minutes: int, ahead_minutes: int
) -> None:
    now = naive.replace(tzinfo=UTC)
    deadline = now + timedelta(minutes=ahead_minutes + lead_minutes)
    intended = deadline - timedelta(minutes=lead_minutes)
    placed = _before(intended, deadline, now)
    if placed is None:
        return
    assert not NIGHT.contains(placed.astimezone(ROME).time().replace(tzinfo=None))
    assert placed < deadline
    assert placed >= min(intended, now) or placed > now


def test_the_quiet_hours_refusal_names_the_cycle_in_the_readers_language() -> None:
    from bot.i18n import translator

    base = timing.defaults(RemindersSettings())
    with pytest.raises(timing.TimingError) as raised:
        timing.check(timing.apply(base, {"quiet_hours": ["08:00", "10:00"]}))
    italian = raised.value.text(translator("it"))
    assert italian.startswith("Il giro «promemoria di scadenza» partirebbe alle 09:00")
    assert "reminders" not in italian
    english = raised.value.text(translator("en"))
    assert english.startswith("The cycle of the due-date reminders would run at 09:00")
    assert raised.value.english == english
