"""The appointment reminder keeps the quiet hours and still comes before the appointment.

Queued by the staff's confirmation (``bot.services.appointments.decide``) at
``appointments.reminder_hours`` before the start; when that moment falls in the
administrators' quiet hours it moves to the nearer of the evening before them and the
morning after (``bot.reminders.quiet.before_deadline``), the morning only if it still leaves
an hour before the appointment.
"""

from __future__ import annotations

from datetime import datetime

from bot.i18n import I18n
from bot.reminders import timing
from bot.services import appointments
from db.sql import fetch_all
from db.timestamps import from_db
from tests.integration.appointments.conftest import AppointmentWorld, booking
from tests.integration.circulation.conftest import at

__all__ = ["booking"]

NOW = at(2026, 11, 16, 9)  # Monday 09:00 in Rome
WEDNESDAY_10 = at(2026, 11, 18, 10)  # the consultation's slot


async def confirm_and_read_reminder(
    world: AppointmentWorld, hours: int, *, now: datetime = NOW
) -> tuple[datetime, str] | None:
    library = world.world.library
    await appointments.set_reminder_hours(library, hours, NOW)
    anna = await world.patron_id("P1")
    booked = await appointments.book(
        library,
        patron_id=anna,
        service_id=world.service.service_id,
        starts_at=WEDNESDAY_10,
        now=NOW,  # booked on Monday; confirmed ``now``
    )
    await appointments.decide(
        library,
        I18n(),
        appointment_id=booked.appointment_id,
        confirm=True,
        staff_user_id=7,
        now=now,
    )
    rows = await fetch_all(
        library.store.reader,
        "SELECT not_before, expires_at FROM outbox WHERE kind = ?",
        (appointments.REMINDER_KIND,),
    )
    if not rows:
        return None
    ((not_before, expires_at),) = rows
    assert from_db(str(expires_at)) == WEDNESDAY_10  # never after it started
    return from_db(str(not_before)), str(not_before)


async def test_a_reminder_outside_the_quiet_hours_goes_at_its_time(
    booking: AppointmentWorld,
) -> None:
    found = await confirm_and_read_reminder(booking, 14)  # Tuesday 20:00
    assert found is not None
    assert found[0] == at(2026, 11, 17, 20)


async def test_a_reminder_due_late_in_the_evening_goes_before_the_quiet_hours(
    booking: AppointmentWorld,
) -> None:
    # 12 hours before 10:00 is 22:00, inside 21:00-08:00: 20:30 is nearer than 08:00.
    found = await confirm_and_read_reminder(booking, 12)
    assert found is not None
    assert found[0] == at(2026, 11, 17, 20, 30)


async def test_a_reminder_due_before_dawn_waits_for_the_morning(
    booking: AppointmentWorld,
) -> None:
    # 3 hours before 10:00 is 07:00: the morning's 08:00 is nearer, and two hours ahead.
    found = await confirm_and_read_reminder(booking, 3)
    assert found is not None
    assert found[0] == at(2026, 11, 18, 8)


async def test_the_quiet_hours_are_the_administrators(booking: AppointmentWorld) -> None:
    library = booking.world.library
    await timing.change_for(library, {"quiet_hours": "22:30-06:00"}, now=NOW, by="test")
    found = await confirm_and_read_reminder(booking, 12)  # 22:00 is not quiet any more
    assert found is not None
    assert found[0] == at(2026, 11, 17, 22)
    await timing.change_for(library, {"quiet_hours": "off"}, now=NOW, by="test")


async def test_no_reminder_when_no_moment_before_the_appointment_is_allowed(
    booking: AppointmentWorld,
) -> None:
    # Confirmed on Tuesday at 20:45 with the reminder 3 hours before (07:00): the evening's
    # 20:30 is past and 08:00 leaves two hours, so the morning it is.
    found = await confirm_and_read_reminder(booking, 3, now=at(2026, 11, 17, 20, 45))
    assert found is not None
    assert found[0] == at(2026, 11, 18, 8)
    # With quiet hours until 09:30, the morning leaves half an hour and the evening is past:
    # the confirmation (sent now) is the last word, no reminder is queued.
    library = booking.world.library
    async with library.store.transaction() as conn:
        await conn.execute("DELETE FROM outbox")
        await conn.execute("DELETE FROM appointments")
    await timing.change_for(
        library,
        {
            "quiet_hours": "21:00-09:30",
            "reminders_hour": "10:00",
            "overdue_hour": "10:00",
            "holds_hour": "10:00",
        },
        now=NOW,
        by="test",
    )
    assert await confirm_and_read_reminder(booking, 3, now=at(2026, 11, 17, 20, 45)) is None
