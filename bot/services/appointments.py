"""Appointments: administrators define services and weekly slots; patrons book, the staff
confirm or decline, either side cancels; the patron hears of it through the outbox.

Every operation is one transaction. Booking counts the places taken in the slot inside its
``BEGIN IMMEDIATE`` transaction, so two patrons pressing the last place at once (in this
process or in two) get one booking and one "just taken". What the patron is told later (the
confirmation with its .ics file, a decline, a cancellation by the library, the reminder
``appointments.reminder_hours`` before) is rendered in her language and queued in the same
transaction as the decision; cancelling withdraws a reminder not sent yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import aiosqlite

from bot.appointments import (
    AppointmentReason,
    Slot,
    WeeklySlot,
    bookable_slots,
    booking_refusal,
    can_cancel,
    notices,
    reminder_time,
)
from bot.i18n import I18n
from bot.reminders import timing
from bot.reminders.quiet import before_deadline
from bot.services.context import Library
from bot.services.errors import Refusal
from db import appointments as repo
from db import circulation as circulation_repo
from db import outbox
from db import settings as settings_repo
from db.calendar import load_calendar

REMINDER_HOURS_KEY = "appointments.reminder_hours"
REMINDER_KIND = "appointment_reminder"  # a scheduled notice: held back by the quiet hours
DEFAULT_REMINDER_HOURS = 24
STAFF_TOPIC_KEY = "appointments.staff_topic_id"
NAME_LIMIT = 80
REASON_LIMIT = 500


# Administrators: services and slots -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceDefinition:
    """What ``bibliobot appointment service add`` asks for."""

    code: str
    branch: str
    name_it: str
    name_en: str
    duration_minutes: int = 30
    capacity: int = 1
    min_notice_hours: int = 24
    max_ahead_days: int = 30
    cancel_cutoff_hours: int = 24


def _check_definition(definition: ServiceDefinition) -> None:
    code = definition.code
    if not code or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum():
        raise Refusal(
            "bad_service_code", f"{code!r}: a service code is 1-32 letters, digits, - or _"
        )
    for label, name in (("--name-it", definition.name_it), ("--name-en", definition.name_en)):
        if not name.strip() or len(name) > NAME_LIMIT:
            raise Refusal("bad_service_name", f"{label} must be 1-{NAME_LIMIT} characters")
    checks = (
        ("--duration", definition.duration_minutes, 5, 8 * 60),
        ("--capacity", definition.capacity, 1, 100),
        ("--min-notice-hours", definition.min_notice_hours, 0, 24 * 60),
        ("--max-ahead-days", definition.max_ahead_days, 1, 366),
        ("--cancel-cutoff-hours", definition.cancel_cutoff_hours, 0, 24 * 60),
    )
    for label, value, low, high in checks:
        if not low <= value <= high:
            raise Refusal("bad_service_rule", f"{label} {value}: must be {low} to {high}")


async def define_service(
    library: Library, definition: ServiceDefinition
) -> tuple[repo.ServiceRow, bool]:
    """Add a service at a branch, or change the one with that code there: (service, created)."""
    _check_definition(definition)
    async with library.store.transaction() as conn:
        branch_id = await circulation_repo.branch_id(conn, definition.branch)
        if branch_id is None:
            raise Refusal("unknown_branch", f"no branch has code {definition.branch!r}")
        service_id, created = await repo.save_service(
            conn,
            repo.NewService(
                code=definition.code,
                branch_id=branch_id,
                name_it=definition.name_it.strip(),
                name_en=definition.name_en.strip(),
                duration_minutes=definition.duration_minutes,
                capacity=definition.capacity,
                min_notice_hours=definition.min_notice_hours,
                max_ahead_days=definition.max_ahead_days,
                cancel_cutoff_hours=definition.cancel_cutoff_hours,
            ),
        )
        service = await repo.service_by_id(conn, service_id)
    assert service is not None
    return service, created


async def _service(conn: aiosqlite.Connection, code: str, branch: str) -> repo.ServiceRow:
    service = await repo.service_by_code(conn, code, branch)
    if service is None:
        raise Refusal(
            "unknown_service",
            f"no appointment service {code!r} at branch {branch!r}"
            " (add it with `bibliobot appointment service add`)",
        )
    return service


@dataclass(frozen=True, slots=True)
class SlotChange:
    service: repo.ServiceRow
    slot: WeeklySlot
    changed: bool
    # The slot starts or ends outside the branch's opening hours that weekday (a warning: the
    # administrator may mean it, e.g. a consultation before opening).
    outside_hours: bool


async def add_slot(library: Library, *, code: str, branch: str, slot: WeeklySlot) -> SlotChange:
    async with library.store.transaction() as conn:
        service = await _service(conn, code, branch)
        changed = await repo.add_slot(conn, service.service_id, slot)
        calendar = await load_calendar(conn, library.zone)
    hours = calendar.schedule(branch).hours_on_weekday(slot.weekday)
    end = (datetime.combine(date(2000, 1, 3), slot.starts) + service.rules.duration).time()
    inside = any(i.opens <= slot.starts and end <= i.closes for i in hours)
    return SlotChange(service, slot, changed, outside_hours=not inside)


async def remove_slot(library: Library, *, code: str, branch: str, slot: WeeklySlot) -> SlotChange:
    async with library.store.transaction() as conn:
        service = await _service(conn, code, branch)
        changed = await repo.remove_slot(conn, service.service_id, slot)
    return SlotChange(service, slot, changed, outside_hours=False)


@dataclass(frozen=True, slots=True)
class ServiceOverview:
    service: repo.ServiceRow
    slots: tuple[WeeklySlot, ...]


async def overview(library: Library, branch: str | None = None) -> list[ServiceOverview]:
    """Every service with its weekly slots (``bibliobot appointment list``)."""
    async with library.store.snapshot() as conn:
        found = await repo.services(conn, branch)
        return [
            ServiceOverview(service, tuple(await repo.weekly_slots(conn, service.service_id)))
            for service in found
        ]


async def booked(library: Library, now: datetime, branch: str | None = None) -> list[StaffOutcome]:
    """Every upcoming request and confirmed appointment, with its patron (the desk's list)."""
    async with library.store.snapshot() as conn:
        found = await repo.upcoming_at(conn, now, branch)
        result = []
        for appointment in found:
            card, name, _ = await _patron_language(conn, appointment.patron_id)
            result.append(StaffOutcome(appointment, card, name))
    return result


async def reminder_hours(conn: aiosqlite.Connection) -> int:
    value = await settings_repo.get(conn, REMINDER_HOURS_KEY)
    return value if isinstance(value, int) and value >= 0 else DEFAULT_REMINDER_HOURS


async def set_reminder_hours(
    library: Library, hours: int, now: datetime, by: str | None = None
) -> None:
    """How long before an appointment the patron is reminded (0: no reminder). Applies to
    appointments confirmed from now on."""
    if not 0 <= hours <= 24 * 14:
        raise Refusal("bad_reminder_hours", f"{hours}: the reminder is 0 to 336 hours before")
    async with library.store.transaction() as conn:
        await settings_repo.put(conn, REMINDER_HOURS_KEY, hours, now, by)


# Patrons: what can be booked ----------------------------------------------------------------------


async def services_on_offer(library: Library) -> list[repo.ServiceRow]:
    """Services that have weekly slots, by branch then code."""
    async with library.store.snapshot() as conn:
        return [
            service
            for service in await repo.services(conn)
            if await repo.weekly_slots(conn, service.service_id)
        ]


@dataclass(frozen=True, slots=True)
class Availability:
    service: repo.ServiceRow
    slots: tuple[Slot, ...]


async def availability(library: Library, service_id: int, now: datetime) -> Availability:
    """The service's bookable slots from ``now`` on (refused when the service is gone)."""
    async with library.store.snapshot() as conn:
        service = await repo.service_by_id(conn, service_id)
        if service is None:
            raise Refusal(AppointmentReason.UNKNOWN_SERVICE, f"no service {service_id}")
        weekly = await repo.weekly_slots(conn, service_id)
        calendar = await load_calendar(conn, library.zone)
        horizon = now + timedelta(days=service.max_ahead_days + 2)
        taken = await repo.taken_places(conn, service_id, now, horizon)
    return Availability(service, tuple(bookable_slots(service.rules, weekly, calendar, taken, now)))


def _refusal(reason: AppointmentReason, message: str) -> Refusal:
    return Refusal(reason.value, message)


async def book(
    library: Library, *, patron_id: int, service_id: int, starts_at: datetime, now: datetime
) -> repo.AppointmentRow:
    """Request a place: checked and written in one transaction (the last place goes once)."""
    async with library.store.transaction() as conn:
        service = await repo.service_by_id(conn, service_id)
        if service is None:
            raise _refusal(AppointmentReason.UNKNOWN_SERVICE, f"no service {service_id}")
        if await repo.patron_has_slot(conn, service_id, patron_id, starts_at):
            raise _refusal(AppointmentReason.ALREADY_BOOKED, "the patron has this slot already")
        weekly = await repo.weekly_slots(conn, service_id)
        calendar = await load_calendar(conn, library.zone)
        taken = await repo.taken_in_slot(conn, service_id, starts_at)
        reason = booking_refusal(service.rules, weekly, calendar, starts_at, taken, now)
        if reason is not None:
            raise _refusal(reason, f"slot {starts_at.isoformat()} refused: {reason.value}")
        appointment_id = await repo.add_appointment(
            conn,
            service_id=service_id,
            patron_id=patron_id,
            starts_at=starts_at,
            note=None,
            now=now,
        )
        appointment = await repo.appointment_by_id(conn, appointment_id)
    assert appointment is not None
    return appointment


async def upcoming(library: Library, patron_id: int, now: datetime) -> list[repo.AppointmentRow]:
    async with library.store.snapshot() as conn:
        return await repo.upcoming_of_patron(conn, patron_id, now)


async def own_appointment(
    library: Library, patron_id: int, appointment_id: int
) -> repo.AppointmentRow:
    """The patron's own appointment; anyone else's answers as if it did not exist."""
    async with library.store.snapshot() as conn:
        appointment = await repo.appointment_by_id(conn, appointment_id)
    if appointment is None or appointment.patron_id != patron_id:
        raise _refusal(AppointmentReason.UNKNOWN_APPOINTMENT, f"no appointment {appointment_id}")
    return appointment


def reminder_key(appointment: repo.AppointmentRow, library: Library) -> str:
    day = appointment.starts_at.astimezone(library.zone).date()
    return outbox.dedupe_key(
        appointment.patron_id,
        REMINDER_KIND,
        str(appointment.appointment_id),
        "before",
        day,
    )


def _notice_key(appointment: repo.AppointmentRow, kind: str, library: Library) -> str:
    day = appointment.starts_at.astimezone(library.zone).date()
    return outbox.dedupe_key(
        appointment.patron_id, kind, str(appointment.appointment_id), "once", day
    )


async def cancel_by_patron(
    library: Library, *, patron_id: int, appointment_id: int, now: datetime
) -> repo.AppointmentRow:
    """The patron cancels her own appointment, up to the service's cut-off."""
    async with library.store.transaction() as conn:
        appointment = await repo.appointment_by_id(conn, appointment_id)
        if appointment is None or appointment.patron_id != patron_id or not appointment.active:
            raise _refusal(
                AppointmentReason.UNKNOWN_APPOINTMENT, f"no active appointment {appointment_id}"
            )
        if not can_cancel(appointment.service.rules, appointment.starts_at, now):
            raise _refusal(AppointmentReason.PAST_CUTOFF, "past the cancellation cut-off")
        await repo.cancel(conn, appointment_id, by="patron", reason=None, now=now)
        await outbox.expire_pending(conn, reminder_key(appointment, library), now, "cancelled")
        cancelled = await repo.appointment_by_id(conn, appointment_id)
    assert cancelled is not None
    return cancelled


# Staff: deciding and cancelling ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffOutcome:
    """The appointment after the staff acted, and the patron's card (for the staff card)."""

    appointment: repo.AppointmentRow
    card: str
    patron_name: str


async def _patron_language(conn: aiosqlite.Connection, patron_id: int) -> tuple[str, str, str]:
    patron = await circulation_repo.patron_by_id(conn, patron_id)
    if patron is None:
        return "", "", ""
    return patron.card, patron.name, patron.language


async def decide(
    library: Library,
    i18n: I18n,
    *,
    appointment_id: int,
    confirm: bool,
    staff_user_id: int,
    now: datetime,
) -> StaffOutcome:
    """Confirm (the patron gets the .ics, and a reminder is queued) or decline a request."""
    async with library.store.transaction() as conn:
        appointment = await repo.appointment_by_id(conn, appointment_id)
        if appointment is None:
            raise _refusal(
                AppointmentReason.UNKNOWN_APPOINTMENT, f"no appointment {appointment_id}"
            )
        if confirm and appointment.state == "requested" and appointment.starts_at <= now:
            raise _refusal(
                AppointmentReason.ALREADY_STARTED,
                f"appointment {appointment_id} started at {appointment.starts_at.isoformat()}",
            )
        state = "confirmed" if confirm else "declined"
        if not await repo.decide(conn, appointment_id, state, by=staff_user_id, now=now):
            raise _refusal(
                AppointmentReason.ALREADY_DECIDED,
                f"appointment {appointment_id} is {appointment.state} already",
            )
        card, name, language = await _patron_language(conn, appointment.patron_id)
        t = i18n.translator(language)
        service = appointment.service
        label = service.name(t.language)
        kind = "appointment_confirmed" if confirm else "appointment_declined"
        if confirm:
            message = notices.confirmed(
                t,
                appointment_id=appointment_id,
                service=label,
                branch=service.branch_name,
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
                zone=library.zone,
                now=now,
            )
        else:
            message = notices.declined(
                t, service=label, branch=service.branch_name, starts_at=appointment.starts_at
            )
        await outbox.enqueue(
            conn,
            outbox.NewNotice(
                dedupe_key=_notice_key(appointment, kind, library),
                patron_id=appointment.patron_id,
                kind=kind,
                payload=message.to_payload(),
                not_before=now,
                expires_at=appointment.starts_at,
            ),
            now,
        )
        if confirm:
            await _queue_reminder(conn, library, i18n, appointment, language, now)
        decided = await repo.appointment_by_id(conn, appointment_id)
    assert decided is not None
    return StaffOutcome(decided, card, name)


async def _queue_reminder(
    conn: aiosqlite.Connection,
    library: Library,
    i18n: I18n,
    appointment: repo.AppointmentRow,
    language: str,
    now: datetime,
) -> None:
    hours = await reminder_hours(conn)
    at = reminder_time(appointment.starts_at, hours, now) if hours else None
    if at is not None:
        # Never at night (the administrators' quiet hours), and still before it starts.
        quiet = (await timing.load(conn, library.reminders)).quiet
        at = before_deadline(at, appointment.starts_at, quiet, library.zone, now=now)
    if at is None:
        return
    t = i18n.translator(language)
    message = notices.reminder(
        t,
        service=appointment.service.name(t.language),
        branch=appointment.service.branch_name,
        starts_at=appointment.starts_at,
    )
    await outbox.enqueue(
        conn,
        outbox.NewNotice(
            dedupe_key=reminder_key(appointment, library),
            patron_id=appointment.patron_id,
            kind=REMINDER_KIND,
            payload=message.to_payload(),
            not_before=at,
            expires_at=appointment.starts_at,
        ),
        now,
    )


async def cancel_by_staff(
    library: Library,
    i18n: I18n,
    *,
    appointment_id: int,
    reason: str,
    now: datetime,
) -> StaffOutcome:
    """The library cancels (any time before it starts), telling the patron why."""
    reason = " ".join(reason.split())
    if not reason or len(reason) > REASON_LIMIT:
        raise Refusal("bad_reason", f"the reason is 1-{REASON_LIMIT} characters")
    async with library.store.transaction() as conn:
        appointment = await repo.appointment_by_id(conn, appointment_id)
        if appointment is None:
            raise _refusal(
                AppointmentReason.UNKNOWN_APPOINTMENT, f"no appointment {appointment_id}"
            )
        if not await repo.cancel(conn, appointment_id, by="staff", reason=reason, now=now):
            raise _refusal(
                AppointmentReason.ALREADY_DECIDED,
                f"appointment {appointment_id} is {appointment.state} already",
            )
        await outbox.expire_pending(conn, reminder_key(appointment, library), now, "cancelled")
        card, name, language = await _patron_language(conn, appointment.patron_id)
        if appointment.starts_at > now:
            t = i18n.translator(language)
            message = notices.cancelled_by_library(
                t,
                service=appointment.service.name(t.language),
                branch=appointment.service.branch_name,
                starts_at=appointment.starts_at,
                reason=reason,
            )
            await outbox.enqueue(
                conn,
                outbox.NewNotice(
                    dedupe_key=_notice_key(appointment, "appointment_cancelled", library),
                    patron_id=appointment.patron_id,
                    kind="appointment_cancelled",
                    payload=message.to_payload(),
                    not_before=now,
                    expires_at=appointment.starts_at,
                ),
                now,
            )
        cancelled = await repo.appointment_by_id(conn, appointment_id)
    assert cancelled is not None
    return StaffOutcome(cancelled, card, name)


async def staff_view(library: Library, appointment_id: int) -> StaffOutcome | None:
    """An appointment with its patron, for the staff card."""
    async with library.store.snapshot() as conn:
        appointment = await repo.appointment_by_id(conn, appointment_id)
        if appointment is None:
            return None
        card, name, _ = await _patron_language(conn, appointment.patron_id)
    return StaffOutcome(appointment, card, name)


async def remember_staff_card(
    library: Library, appointment_id: int, *, chat_id: int, thread_id: int | None, message_id: int
) -> None:
    async with library.store.transaction() as conn:
        await repo.set_staff_card(
            conn, appointment_id, chat_id=chat_id, thread_id=thread_id, message_id=message_id
        )


async def staff_topic(library: Library) -> int | None:
    async with library.store.snapshot() as conn:
        value = await settings_repo.get(conn, STAFF_TOPIC_KEY)
    return value if isinstance(value, int) else None


async def remember_staff_topic(library: Library, thread_id: int | None, now: datetime) -> None:
    async with library.store.transaction() as conn:
        if thread_id is None:
            await settings_repo.delete(conn, STAFF_TOPIC_KEY)
        else:
            await settings_repo.put(conn, STAFF_TOPIC_KEY, thread_id, now, "bot")
