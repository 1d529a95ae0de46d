"""Appointment services, their weekly slots, and the appointments booked in them.

A service is defined per branch (``code`` is unique within a branch); its weekly slots are
``(weekday, "HH:MM")`` in the library's local time; an appointment is a patron's place in one
occurrence of a slot, its start stored as UTC text. Places are counted over appointments that
are ``requested`` or ``confirmed``: a declined or cancelled one frees its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import aiosqlite

from bot.appointments import ServiceRules, WeeklySlot
from db.sql import fetch_all, fetch_one, fetch_value
from db.timestamps import from_db, to_db

ACTIVE_STATES = ("requested", "confirmed")


# Services ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceRow:
    service_id: int
    code: str
    branch: str
    branch_name: str
    name_it: str
    name_en: str
    duration_minutes: int
    capacity: int
    min_notice_hours: int
    max_ahead_days: int
    cancel_cutoff_hours: int

    @property
    def rules(self) -> ServiceRules:
        return ServiceRules(
            branch=self.branch,
            duration=timedelta(minutes=self.duration_minutes),
            capacity=self.capacity,
            min_notice=timedelta(hours=self.min_notice_hours),
            max_ahead_days=self.max_ahead_days,
            cancel_cutoff=timedelta(hours=self.cancel_cutoff_hours),
        )

    def name(self, language: str) -> str:
        """The service's name in the patron's language (Italian for any other)."""
        return self.name_en if language == "en" else self.name_it


@dataclass(frozen=True, slots=True, kw_only=True)
class NewService:
    code: str
    branch_id: int
    name_it: str
    name_en: str
    duration_minutes: int
    capacity: int
    min_notice_hours: int
    max_ahead_days: int
    cancel_cutoff_hours: int


_SERVICE_COLUMNS = (
    "SELECT s.id, s.code, b.code, b.name, s.name_it, s.name_en, s.duration_minutes,"
    " s.capacity, s.min_notice_hours, s.max_ahead_days, s.cancel_cutoff_hours"
    " FROM appointment_services s JOIN branches b ON b.id = s.branch_id"
)


def _service(row: tuple[Any, ...]) -> ServiceRow:
    return ServiceRow(
        service_id=int(row[0]),
        code=str(row[1]),
        branch=str(row[2]),
        branch_name=str(row[3]),
        name_it=str(row[4]),
        name_en=str(row[5]),
        duration_minutes=int(row[6]),
        capacity=int(row[7]),
        min_notice_hours=int(row[8]),
        max_ahead_days=int(row[9]),
        cancel_cutoff_hours=int(row[10]),
    )


async def save_service(conn: aiosqlite.Connection, service: NewService) -> tuple[int, bool]:
    """Add the service, or update the one with the same code at the branch: (id, created)."""
    existing = await fetch_value(
        conn,
        "SELECT id FROM appointment_services WHERE code = ? AND branch_id = ?",
        (service.code, service.branch_id),
    )
    values = (
        service.name_it,
        service.name_en,
        service.duration_minutes,
        service.capacity,
        service.min_notice_hours,
        service.max_ahead_days,
        service.cancel_cutoff_hours,
    )
    if existing is not None:
        await conn.execute(
            "UPDATE appointment_services SET name_it = ?, name_en = ?, duration_minutes = ?,"
            " capacity = ?, min_notice_hours = ?, max_ahead_days = ?, cancel_cutoff_hours = ?"
            " WHERE id = ?",
            (*values, existing),
        )
        return int(existing), False
    cursor = await conn.execute(
        "INSERT INTO appointment_services (code, branch_id, name_it, name_en, duration_minutes,"
        " capacity, min_notice_hours, max_ahead_days, cancel_cutoff_hours)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (service.code, service.branch_id, *values),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid, True


async def services(conn: aiosqlite.Connection, branch: str | None = None) -> list[ServiceRow]:
    """Every service (of one branch), by branch then code."""
    where, params = ("WHERE b.code = ?", (branch,)) if branch else ("", ())
    rows = await fetch_all(conn, f"{_SERVICE_COLUMNS} {where} ORDER BY b.code, s.code", params)
    return [_service(row) for row in rows]


async def service_by_id(conn: aiosqlite.Connection, service_id: int) -> ServiceRow | None:
    row = await fetch_one(conn, f"{_SERVICE_COLUMNS} WHERE s.id = ?", (service_id,))
    return _service(row) if row else None


async def service_by_code(conn: aiosqlite.Connection, code: str, branch: str) -> ServiceRow | None:
    row = await fetch_one(
        conn, f"{_SERVICE_COLUMNS} WHERE s.code = ? AND b.code = ?", (code, branch)
    )
    return _service(row) if row else None


# Weekly slots ------------------------------------------------------------------------------------


async def add_slot(conn: aiosqlite.Connection, service_id: int, slot: WeeklySlot) -> bool:
    """Add a weekly slot; False when the service had it already."""
    cursor = await conn.execute(
        "INSERT INTO appointment_slots (service_id, weekday, starts) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (service_id, slot.weekday, slot.starts.strftime("%H:%M")),
    )
    return cursor.rowcount == 1


async def remove_slot(conn: aiosqlite.Connection, service_id: int, slot: WeeklySlot) -> bool:
    cursor = await conn.execute(
        "DELETE FROM appointment_slots WHERE service_id = ? AND weekday = ? AND starts = ?",
        (service_id, slot.weekday, slot.starts.strftime("%H:%M")),
    )
    return cursor.rowcount == 1


async def weekly_slots(conn: aiosqlite.Connection, service_id: int) -> list[WeeklySlot]:
    rows = await fetch_all(
        conn,
        "SELECT weekday, starts FROM appointment_slots WHERE service_id = ?"
        " ORDER BY weekday, starts",
        (service_id,),
    )
    return [WeeklySlot(int(weekday), time.fromisoformat(starts)) for weekday, starts in rows]


# Appointments ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    appointment_id: int
    service: ServiceRow
    patron_id: int
    starts_at: datetime
    state: str
    created_at: datetime
    staff_chat_id: int | None
    staff_thread_id: int | None
    staff_message_id: int | None
    cancelled_by: str | None
    cancel_reason: str | None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.service.duration_minutes)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


_APPOINTMENT_COLUMNS = (
    "SELECT a.id, a.service_id, a.patron_id, a.starts_at, a.state, a.created_at,"
    " a.staff_chat_id, a.staff_thread_id, a.staff_message_id, a.cancelled_by, a.cancel_reason"
    " FROM appointments a"
)


async def _appointments(
    conn: aiosqlite.Connection, where: str, params: Sequence[Any]
) -> list[AppointmentRow]:
    rows = await fetch_all(conn, f"{_APPOINTMENT_COLUMNS} {where}", params)
    found: dict[int, ServiceRow | None] = {}
    result: list[AppointmentRow] = []
    for row in rows:
        service_id = int(row[1])
        if service_id not in found:
            found[service_id] = await service_by_id(conn, service_id)
        service = found[service_id]
        assert service is not None, "appointments reference their service"
        result.append(
            AppointmentRow(
                appointment_id=int(row[0]),
                service=service,
                patron_id=int(row[2]),
                starts_at=from_db(row[3]),
                state=str(row[4]),
                created_at=from_db(row[5]),
                staff_chat_id=None if row[6] is None else int(row[6]),
                staff_thread_id=None if row[7] is None else int(row[7]),
                staff_message_id=None if row[8] is None else int(row[8]),
                cancelled_by=None if row[9] is None else str(row[9]),
                cancel_reason=None if row[10] is None else str(row[10]),
            )
        )
    return result


async def appointment_by_id(
    conn: aiosqlite.Connection, appointment_id: int
) -> AppointmentRow | None:
    rows = await _appointments(conn, "WHERE a.id = ?", (appointment_id,))
    return rows[0] if rows else None


async def upcoming_of_patron(
    conn: aiosqlite.Connection, patron_id: int, now: datetime
) -> list[AppointmentRow]:
    """The patron's requested and confirmed appointments that have not started, soonest first."""
    return await _appointments(
        conn,
        "WHERE a.patron_id = ? AND a.state IN ('requested', 'confirmed') AND a.starts_at > ?"
        " ORDER BY a.starts_at, a.id",
        (patron_id, to_db(now)),
    )


async def upcoming_at(
    conn: aiosqlite.Connection, now: datetime, branch: str | None = None
) -> list[AppointmentRow]:
    """Requested and confirmed appointments that have not started (of one branch), soonest
    first: the desk's view, also when a staff card could not be posted."""
    where = (
        "WHERE a.state IN ('requested', 'confirmed') AND a.starts_at > ?"
        " AND (? IS NULL OR a.service_id IN (SELECT s.id FROM appointment_services s"
        " JOIN branches b ON b.id = s.branch_id WHERE b.code = ?))"
        " ORDER BY a.starts_at, a.id"
    )
    return await _appointments(conn, where, (to_db(now), branch, branch))


async def taken_places(
    conn: aiosqlite.Connection, service_id: int, start: datetime, end: datetime
) -> dict[datetime, int]:
    """Places taken per slot start in ``start`` .. ``end`` (requested or confirmed)."""
    rows = await fetch_all(
        conn,
        "SELECT starts_at, count(*) FROM appointments WHERE service_id = ?"
        " AND state IN ('requested', 'confirmed') AND starts_at >= ? AND starts_at <= ?"
        " GROUP BY starts_at",
        (service_id, to_db(start), to_db(end)),
    )
    return {from_db(starts_at): int(count) for starts_at, count in rows}


async def taken_in_slot(conn: aiosqlite.Connection, service_id: int, starts_at: datetime) -> int:
    value = await fetch_value(
        conn,
        "SELECT count(*) FROM appointments WHERE service_id = ? AND starts_at = ?"
        " AND state IN ('requested', 'confirmed')",
        (service_id, to_db(starts_at)),
    )
    return int(value or 0)


async def patron_has_slot(
    conn: aiosqlite.Connection, service_id: int, patron_id: int, starts_at: datetime
) -> bool:
    value = await fetch_value(
        conn,
        "SELECT 1 FROM appointments WHERE service_id = ? AND patron_id = ? AND starts_at = ?"
        " AND state IN ('requested', 'confirmed')",
        (service_id, patron_id, to_db(starts_at)),
    )
    return value is not None


async def add_appointment(
    conn: aiosqlite.Connection,
    *,
    service_id: int,
    patron_id: int,
    starts_at: datetime,
    note: str | None,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO appointments (service_id, patron_id, starts_at, state, note, created_at,"
        " updated_at) VALUES (?, ?, ?, 'requested', ?, ?, ?)",
        (service_id, patron_id, to_db(starts_at), note, to_db(now), to_db(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def decide(
    conn: aiosqlite.Connection,
    appointment_id: int,
    state: str,
    *,
    by: int | None,
    now: datetime,
) -> bool:
    """Confirm or decline a requested appointment; False if it was no longer requested."""
    cursor = await conn.execute(
        "UPDATE appointments SET state = ?, decided_by = ?, decided_at = ?, updated_at = ?"
        " WHERE id = ? AND state = 'requested'",
        (state, by, to_db(now), to_db(now), appointment_id),
    )
    return cursor.rowcount == 1


async def cancel(
    conn: aiosqlite.Connection,
    appointment_id: int,
    *,
    by: str,
    reason: str | None,
    now: datetime,
) -> bool:
    """Cancel a requested or confirmed appointment; False if it was not active any more."""
    cursor = await conn.execute(
        "UPDATE appointments SET state = 'cancelled', cancelled_by = ?, cancel_reason = ?,"
        " updated_at = ? WHERE id = ? AND state IN ('requested', 'confirmed')",
        (by, reason, to_db(now), appointment_id),
    )
    return cursor.rowcount == 1


async def set_staff_card(
    conn: aiosqlite.Connection,
    appointment_id: int,
    *,
    chat_id: int,
    thread_id: int | None,
    message_id: int,
) -> None:
    """Where the request's card is in the staff group (to edit it when things change)."""
    await conn.execute(
        "UPDATE appointments SET staff_chat_id = ?, staff_thread_id = ?, staff_message_id = ?"
        " WHERE id = ?",
        (chat_id, thread_id, message_id, appointment_id),
    )
