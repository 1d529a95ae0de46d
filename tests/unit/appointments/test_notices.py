"""The calendar file and the messages a patron gets about an appointment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from bot.appointments import appointment_ics, notices
from bot.i18n import translator

ROME = ZoneInfo("Europe/Rome")
STAMP = datetime(2026, 11, 1, 8, tzinfo=UTC)


def event_of(data: bytes) -> icalendar.Event:
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, icalendar.Event)
    return event


def test_the_event_is_at_the_library_wall_clock_in_summer_and_winter() -> None:
    for starts, hour in (
        (datetime(2026, 7, 1, 8, tzinfo=UTC), 10),  # CEST, UTC+2
        (datetime(2026, 12, 1, 9, tzinfo=UTC), 10),  # CET, UTC+1
    ):
        data = appointment_ics(
            appointment_id=7,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=45),
            zone=ROME,
            summary="Consulenza bibliografica",
            location="Brugherio",
            stamp=STAMP,
        )
        event = event_of(data)
        start = event.decoded("dtstart")
        assert start == starts
        assert (start.hour, str(start.tzinfo)) == (hour, "Europe/Rome")
        assert event["dtstart"].params["TZID"] == "Europe/Rome"
        assert event.decoded("dtend") - start == timedelta(minutes=45)
        assert str(event["uid"]) == "appointment-7@bibliobot"
        assert b"BEGIN:VTIMEZONE" in data
        assert b"TZID:Europe/Rome" in data


def test_the_same_appointment_keeps_its_uid() -> None:
    starts = datetime(2026, 12, 1, 9, tzinfo=UTC)
    first = appointment_ics(
        appointment_id=3, starts_at=starts, ends_at=starts, zone=ROME, summary="a",
        location="b", stamp=STAMP,
    )  # fmt: skip
    later = appointment_ics(
        appointment_id=3, starts_at=starts, ends_at=starts, zone=ROME, summary="a",
        location="b", stamp=STAMP + timedelta(days=2),
    )  # fmt: skip
    assert event_of(first)["uid"] == event_of(later)["uid"]


def test_the_confirmation_in_italian_carries_the_file() -> None:
    t = translator("it")
    starts = datetime(2026, 12, 5, 9, tzinfo=UTC)  # Saturday, 10:00 in Rome
    message = notices.confirmed(
        t,
        appointment_id=4,
        service="Consulenza <bibliografica>",
        branch="Cassina de' Pecchi",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        zone=ROME,
        now=STAMP,
    )
    assert "sabato 5 dicembre 2026 alle 10:00" in message.text
    assert "Consulenza &lt;bibliografica&gt;" in message.text
    assert "Cassina de&#x27; Pecchi" in message.text
    assert message.document is not None
    assert message.document.filename == "appuntamento-4.ics"  # her language, ASCII
    assert event_of(message.document.content()).decoded("dtstart") == starts
    assert [b.callback_data for row in message.buttons for b in row] == ["ap:ls"]


def test_the_reminder_and_the_cancellation_in_english() -> None:
    t = translator("en")
    starts = datetime(2026, 12, 5, 9, tzinfo=UTC)
    reminder = notices.reminder(
        t, service="Bibliographic consultation", branch="Brugherio", starts_at=starts
    )
    assert "is on Saturday, 5 December 2026 at 10:00, at the Brugherio" in reminder.text
    cancelled = notices.cancelled_by_library(
        t, service="Help", branch="Brugherio", starts_at=starts, reason="Flooded <again>"
    )
    assert "The library writes: Flooded &lt;again&gt;" in cancelled.text


def test_the_calendar_file_is_named_in_the_patrons_language() -> None:
    assert notices.calendar_file_name(translator("it"), 12) == "appuntamento-12.ics"
    assert notices.calendar_file_name(translator("en"), 12) == "appointment-12.ics"


class _Wording:
    """A translation of the file name with accents, spaces and a slash."""

    language = "xx"

    def __init__(self, stem: str) -> None:
        self.stem = stem

    def gettext(self, message: str, **values: object) -> str:
        return self.stem.format(**values)


def test_the_calendar_file_name_is_ascii_and_keeps_its_number() -> None:
    for stem, expected in (
        ("rendez-vous n° {number}", "rendez-vous-n-12.ics"),
        ("città/è {number}", "citta-e-12.ics"),
        ("約束{number}", "12.ics"),
        ("日本", "appointment-12.ics"),  # a translation that lost the number
    ):
        name = notices.calendar_file_name(_Wording(stem), 12)  # type: ignore[arg-type]
        assert name == expected, stem
        assert name.isascii()
