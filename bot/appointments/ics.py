"""The calendar file (.ics) a patron gets with a confirmed appointment.

One VEVENT with the start and end in the library's time zone (``DTSTART;TZID=Europe/Rome``,
and the VTIMEZONE that defines it, so that any calendar application puts it at the right hour
even across a daylight-saving change), the service as SUMMARY, the branch as LOCATION, and a
UID built from the appointment's id: the same appointment always has the same UID, so opening
a second copy of the file updates the event instead of duplicating it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//Bibliobot//Appointments//IT"


def appointment_uid(appointment_id: int, domain: str = "bibliobot") -> str:
    return f"appointment-{appointment_id}@{domain}"


def appointment_ics(
    *,
    appointment_id: int,
    starts_at: datetime,
    ends_at: datetime,
    zone: ZoneInfo,
    summary: str,
    location: str,
    description: str = "",
    stamp: datetime,
) -> bytes:
    """The .ics file's bytes (UTF-8, CRLF lines as RFC 5545 wants)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", appointment_uid(appointment_id))
    event.add("dtstamp", stamp)
    event.add("dtstart", starts_at.astimezone(zone))
    event.add("dtend", ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("location", location)
    if description:
        event.add("description", description)
    calendar.add_component(event)
    # The zone's rules around the event only: a year either side keeps the file small.
    local = starts_at.astimezone(zone).date()
    calendar.add_missing_timezones(
        first_date=local - timedelta(days=366), last_date=local + timedelta(days=366)
    )
    return bytes(calendar.to_ical())
