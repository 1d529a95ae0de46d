"""What the patron is told about an appointment outside the booking dialogue, rendered in her
language when it is decided (the outbox stores the rendered message; the dispatcher sends it).

Confirmation (with the .ics file), decline, cancellation by the library (with its reason) and
the reminder before the appointment.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from bot.appointments.ics import appointment_ics
from bot.i18n import Translator
from bot.reminders.outgoing import Attachment, Button, OutgoingMessage

ICS_MIME = "text/calendar"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def calendar_file_name(t: Translator, appointment_id: int) -> str:
    """The .ics file's name in the patron's language ("appuntamento-12.ics"), ASCII only: a
    translation with accents or spaces loses them, never the file its extension."""
    # TRANSLATORS: the calendar file's name, without the ".ics" (accents are dropped).
    stem = t.gettext("appointment-{number}", number=appointment_id)
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    safe = _UNSAFE.sub("-", ascii_stem).strip("-_")[:60]
    if str(appointment_id) not in safe:
        safe = f"appointment-{appointment_id}"
    return f"{safe}.ics"


def when(t: Translator, starts_at: datetime) -> str:
    """ "sabato 12 dicembre 2026 alle 10:00" / "Saturday, 12 December 2026 at 10:00"."""
    # TRANSLATORS: an appointment's day and hour, e.g. "sabato 12 dicembre 2026 alle 10:00".
    return t.gettext(
        "{date} at {time}", date=t.format_date(starts_at, "full"), time=t.format_time(starts_at)
    )


def my_appointments_button(t: Translator) -> Button:
    return Button(text=t.gettext("📅 My appointments"), callback_data="ap:ls")


def confirmed(
    t: Translator,
    *,
    appointment_id: int,
    service: str,
    branch: str,
    starts_at: datetime,
    ends_at: datetime,
    zone: ZoneInfo,
    now: datetime,
) -> OutgoingMessage:
    ics = appointment_ics(
        appointment_id=appointment_id,
        starts_at=starts_at,
        ends_at=ends_at,
        zone=zone,
        summary=service,
        location=branch,
        stamp=now,
    )
    text = t.gettext(
        "✅ Your appointment is confirmed: <b>{service}</b>, {when}, at the {branch} library.\n\n"
        "Open the calendar file below to add it to your phone's calendar. "
        "To cancel it, use /appointment.",
        service=escape(service),
        when=when(t, starts_at),
        branch=escape(branch),
    )
    return OutgoingMessage(
        text=text,
        buttons=((my_appointments_button(t),),),
        document=Attachment.of(calendar_file_name(t, appointment_id), ics, ICS_MIME),
    )


def declined(t: Translator, *, service: str, branch: str, starts_at: datetime) -> OutgoingMessage:
    text = t.gettext(
        "Sorry: the {branch} library cannot give you the appointment you asked for "
        "(<b>{service}</b>, {when}). You can choose another time with /appointment.",
        service=escape(service),
        when=when(t, starts_at),
        branch=escape(branch),
    )
    return OutgoingMessage(text=text)


def cancelled_by_library(
    t: Translator, *, service: str, branch: str, starts_at: datetime, reason: str
) -> OutgoingMessage:
    text = t.gettext(
        "❌ The {branch} library has cancelled your appointment (<b>{service}</b>, {when}).\n\n"
        "The library writes: {reason}",
        service=escape(service),
        when=when(t, starts_at),
        branch=escape(branch),
        reason=escape(reason),
    )
    return OutgoingMessage(text=text, buttons=((my_appointments_button(t),),))


def reminder(t: Translator, *, service: str, branch: str, starts_at: datetime) -> OutgoingMessage:
    text = t.gettext(
        "⏰ A reminder: your appointment <b>{service}</b> is on {when}, at the {branch} library.",
        service=escape(service),
        when=when(t, starts_at),
        branch=escape(branch),
    )
    return OutgoingMessage(text=text, buttons=((my_appointments_button(t),),))
