"""Booking, deciding and cancelling appointments against a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest

from bot.i18n import I18n
from bot.reminders.outgoing import OutgoingMessage
from bot.services import appointments
from bot.services.context import Library
from bot.services.errors import Refusal
from db.sql import fetch_all
from db.store import Store
from tests.integration.appointments.conftest import AppointmentWorld, consultation
from tests.integration.circulation.conftest import CBNEM_BRANCHES, _world, at

NOW = at(2026, 11, 16, 9)  # Monday 09:00 in Rome
WEDNESDAY = at(2026, 11, 18, 10)
I18N = I18n()


async def outbox_rows(world: AppointmentWorld) -> list[tuple[str, str, str, str, str | None]]:
    rows = await fetch_all(
        world.world.store.reader,
        "SELECT kind, state, not_before, payload, expires_at FROM outbox ORDER BY id",
    )
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4]) for r in rows]


async def test_the_offer_lists_open_slots_with_free_places(booking: AppointmentWorld) -> None:
    library = booking.world.library
    offer = await appointments.availability(library, booking.service.service_id, NOW)
    first = [slot.starts_at for slot in offer.slots[:3]]
    assert first == [WEDNESDAY, at(2026, 11, 21, 10), at(2026, 11, 23, 10)]
    patron = await booking.patron_id("P1")
    await appointments.book(
        library,
        patron_id=patron,
        service_id=booking.service.service_id,
        starts_at=WEDNESDAY,
        now=NOW,
    )
    after = await appointments.availability(library, booking.service.service_id, NOW)
    assert WEDNESDAY not in [slot.starts_at for slot in after.slots]
    assert [s.service_id for s in await appointments.services_on_offer(library)] == [
        booking.service.service_id
    ]


async def test_a_slot_is_booked_once_per_patron_and_up_to_capacity(
    booking: AppointmentWorld,
) -> None:
    library = booking.world.library
    sid = booking.service.service_id
    anna, luca = await booking.patron_id("P1"), await booking.patron_id("P2")
    booked = await appointments.book(
        library, patron_id=anna, service_id=sid, starts_at=WEDNESDAY, now=NOW
    )
    assert booked.state == "requested"
    with pytest.raises(Refusal) as twice:
        await appointments.book(
            library, patron_id=anna, service_id=sid, starts_at=WEDNESDAY, now=NOW
        )
    assert twice.value.code == "already_booked"
    with pytest.raises(Refusal) as full:
        await appointments.book(
            library, patron_id=luca, service_id=sid, starts_at=WEDNESDAY, now=NOW
        )
    assert full.value.code == "slot_full"
    with pytest.raises(Refusal) as soon:
        await appointments.book(
            library, patron_id=luca, service_id=sid, starts_at=WEDNESDAY, now=WEDNESDAY
        )
    assert soon.value.code == "too_soon"
    with pytest.raises(Refusal) as odd:
        await appointments.book(
            library, patron_id=luca, service_id=sid, starts_at=at(2026, 11, 19, 10), now=NOW
        )
    assert odd.value.code == "not_a_slot"


async def test_two_processes_race_for_the_last_place(tmp_path: Path) -> None:
    """Two stores on one file (as two processes), several patrons pressing at once: the slot's
    capacity is never exceeded, and everyone else hears "full"."""
    path = tmp_path / "race.sqlite3"
    world = await _world(path, "cbnem", CBNEM_BRANCHES, None)
    other = await Store.open(path)
    try:
        service = await consultation(world, capacity=2)
        helper = AppointmentWorld(world, service)
        patrons = [await helper.patron_id(f"R{n}") for n in range(6)]
        libraries = [world.library, Library(other, world.library.policy, world.library.zone)]

        async def attempt(index: int) -> str:
            try:
                await appointments.book(
                    libraries[index % 2],
                    patron_id=patrons[index],
                    service_id=service.service_id,
                    starts_at=WEDNESDAY,
                    now=NOW,
                )
            except Refusal as refusal:
                return refusal.code
            return "booked"

        outcomes = await asyncio.gather(*(attempt(i) for i in range(len(patrons))))
        assert sorted(outcomes) == ["booked", "booked", *["slot_full"] * 4]
        rows = await fetch_all(
            world.store.reader,
            "SELECT count(*) FROM appointments WHERE starts_at = ? AND state = 'requested'",
            (WEDNESDAY.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),),
        )
        assert rows[0][0] == 2
    finally:
        await other.close()
        await world.store.close()


async def test_confirming_queues_the_ics_and_the_reminder(booking: AppointmentWorld) -> None:
    library = booking.world.library
    anna = await booking.patron_id("P1")
    booked = await appointments.book(
        library,
        patron_id=anna,
        service_id=booking.service.service_id,
        starts_at=WEDNESDAY,
        now=NOW,
    )
    outcome = await appointments.decide(
        library,
        I18N,
        appointment_id=booked.appointment_id,
        confirm=True,
        staff_user_id=7,
        now=NOW,
    )
    assert outcome.appointment.state == "confirmed"
    assert outcome.card == "P1"
    rows = await outbox_rows(booking)
    assert [(kind, state) for kind, state, *_ in rows] == [
        ("appointment_confirmed", "pending"),
        ("appointment_reminder", "pending"),
    ]
    message = OutgoingMessage.from_payload(json.loads(rows[0][3]))
    assert "Consulenza bibliografica" in message.text  # the patron's card speaks Italian
    assert message.document is not None
    assert message.document.mime_type == "text/calendar"
    event = icalendar.Calendar.from_ical(message.document.content()).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start == WEDNESDAY
    assert str(start.tzinfo) == "Europe/Rome"
    assert start.hour == 10
    assert event["dtstart"].params["TZID"] == "Europe/Rome"
    assert event.decoded("dtend") - start == timedelta(minutes=30)
    assert str(event["location"]) == "Brugherio"
    assert str(event["uid"]) == f"appointment-{booked.appointment_id}@bibliobot"
    # The reminder goes out 24 hours before (the default), and not after the start.
    reminder_not_before, reminder_expires = rows[1][2], rows[1][4]
    assert reminder_not_before == (WEDNESDAY - timedelta(hours=24)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    assert reminder_expires == WEDNESDAY.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with pytest.raises(Refusal) as again:
        await appointments.decide(
            library,
            I18N,
            appointment_id=booked.appointment_id,
            confirm=False,
            staff_user_id=7,
            now=NOW,
        )
    assert again.value.code == "already_decided"


async def test_the_reminder_offset_is_the_administrators(booking: AppointmentWorld) -> None:
    library = booking.world.library
    await appointments.set_reminder_hours(library, 2, NOW)
    anna = await booking.patron_id("P1")
    booked = await appointments.book(
        library,
        patron_id=anna,
        service_id=booking.service.service_id,
        starts_at=WEDNESDAY,
        now=NOW,
    )
    await appointments.decide(
        library,
        I18N,
        appointment_id=booked.appointment_id,
        confirm=True,
        staff_user_id=7,
        now=NOW,
    )
    rows = await outbox_rows(booking)
    assert rows[1][0] == "appointment_reminder"
    assert rows[1][2] == (WEDNESDAY - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_patron_cancels_inside_the_cut_off_only(booking: AppointmentWorld) -> None:
    library = booking.world.library
    sid = booking.service.service_id
    anna, luca = await booking.patron_id("P1"), await booking.patron_id("P2")
    booked = await appointments.book(
        library, patron_id=anna, service_id=sid, starts_at=WEDNESDAY, now=NOW
    )
    await appointments.decide(
        library,
        I18N,
        appointment_id=booked.appointment_id,
        confirm=True,
        staff_user_id=7,
        now=NOW,
    )
    # Someone else's appointment is not hers to cancel (and looks as if it did not exist).
    with pytest.raises(Refusal) as not_hers:
        await appointments.cancel_by_patron(
            library, patron_id=luca, appointment_id=booked.appointment_id, now=NOW
        )
    assert not_hers.value.code == "unknown_appointment"
    # 23 hours before: past the 24-hour cut-off; nothing changes.
    late = WEDNESDAY - timedelta(hours=23)
    with pytest.raises(Refusal) as refused:
        await appointments.cancel_by_patron(
            library, patron_id=anna, appointment_id=booked.appointment_id, now=late
        )
    assert refused.value.code == "past_cutoff"
    assert [a.state for a in await appointments.upcoming(library, anna, NOW)] == ["confirmed"]
    # 25 hours before: cancelled, the place is free again and the reminder withdrawn.
    cancelled = await appointments.cancel_by_patron(
        library,
        patron_id=anna,
        appointment_id=booked.appointment_id,
        now=WEDNESDAY - timedelta(hours=25),
    )
    assert cancelled.state == "cancelled"
    assert cancelled.cancelled_by == "patron"
    assert await appointments.upcoming(library, anna, NOW) == []
    rows = await outbox_rows(booking)
    assert [(kind, state) for kind, state, *_ in rows] == [
        ("appointment_confirmed", "pending"),
        ("appointment_reminder", "expired"),
    ]
    await appointments.book(library, patron_id=luca, service_id=sid, starts_at=WEDNESDAY, now=NOW)


async def test_staff_cancel_tells_the_patron_why(booking: AppointmentWorld) -> None:
    library = booking.world.library
    anna = await booking.patron_id("P1")
    booked = await appointments.book(
        library,
        patron_id=anna,
        service_id=booking.service.service_id,
        starts_at=WEDNESDAY,
        now=NOW,
    )
    await appointments.decide(
        library,
        I18N,
        appointment_id=booked.appointment_id,
        confirm=True,
        staff_user_id=7,
        now=NOW,
    )
    with pytest.raises(Refusal) as empty:
        await appointments.cancel_by_staff(
            library, I18N, appointment_id=booked.appointment_id, reason="   ", now=NOW
        )
    assert empty.value.code == "bad_reason"
    # Staff may cancel even after the patron's cut-off.
    late = WEDNESDAY - timedelta(hours=2)
    outcome = await appointments.cancel_by_staff(
        library, I18N, appointment_id=booked.appointment_id, reason="La <sala> è chiusa", now=late
    )
    assert outcome.appointment.cancel_reason == "La <sala> è chiusa"
    rows = await outbox_rows(booking)
    assert [(kind, state) for kind, state, *_ in rows] == [
        ("appointment_confirmed", "pending"),
        ("appointment_reminder", "expired"),
        ("appointment_cancelled", "pending"),
    ]
    text = OutgoingMessage.from_payload(json.loads(rows[2][3])).text
    assert "La &lt;sala&gt; è chiusa" in text


async def test_declining_frees_the_place(booking: AppointmentWorld) -> None:
    library = booking.world.library
    sid = booking.service.service_id
    anna, luca = await booking.patron_id("P1"), await booking.patron_id("P2")
    booked = await appointments.book(
        library, patron_id=anna, service_id=sid, starts_at=WEDNESDAY, now=NOW
    )
    await appointments.decide(
        library,
        I18N,
        appointment_id=booked.appointment_id,
        confirm=False,
        staff_user_id=7,
        now=NOW,
    )
    rows = await outbox_rows(booking)
    assert [kind for kind, *_ in rows] == ["appointment_declined"]
    again = await appointments.book(
        library, patron_id=luca, service_id=sid, starts_at=WEDNESDAY, now=NOW
    )
    assert again.state == "requested"


async def test_a_request_whose_time_has_passed_is_not_confirmed(booking: AppointmentWorld) -> None:
    library = booking.world.library
    anna = await booking.patron_id("P1")
    booked = await appointments.book(
        library, patron_id=anna, service_id=booking.service.service_id, starts_at=WEDNESDAY,
        now=NOW,
    )  # fmt: skip
    with pytest.raises(Refusal) as late:
        await appointments.decide(
            library, I18N, appointment_id=booked.appointment_id, confirm=True, staff_user_id=7,
            now=WEDNESDAY,
        )  # fmt: skip
    assert late.value.code == "already_started"
    assert await outbox_rows(booking) == []
    declined = await appointments.decide(
        library, I18N, appointment_id=booked.appointment_id, confirm=False, staff_user_id=7,
        now=WEDNESDAY,
    )  # fmt: skip
    assert declined.appointment.state == "declined"


async def test_the_desk_lists_what_is_booked(booking: AppointmentWorld) -> None:
    library = booking.world.library
    sid = booking.service.service_id
    anna, luca = await booking.patron_id("P1"), await booking.patron_id("P2")
    saturday = at(2026, 11, 21, 10)
    await appointments.book(library, patron_id=luca, service_id=sid, starts_at=saturday, now=NOW)
    first = await appointments.book(
        library, patron_id=anna, service_id=sid, starts_at=WEDNESDAY, now=NOW
    )
    await appointments.cancel_by_patron(
        library, patron_id=anna, appointment_id=first.appointment_id, now=NOW
    )
    await appointments.book(library, patron_id=anna, service_id=sid, starts_at=WEDNESDAY, now=NOW)
    listed = await appointments.booked(library, NOW)
    assert [(item.card, item.appointment.starts_at) for item in listed] == [
        ("P1", WEDNESDAY),
        ("P2", saturday),
    ]
    assert await appointments.booked(library, NOW, "VIM") == []
    assert await appointments.booked(library, saturday) == []
