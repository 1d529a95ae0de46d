"""The library calendar as the store keeps it: opening hours, patron saint days, closures.

:func:`load_calendar` builds the pure :class:`LibraryCalendar` the circulation rules take, from
the ``branches``, ``branch_hours`` and ``closures`` rows; the administrators edit those rows
with ``bibliobot branch hours`` and ``bibliobot closure add``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, tzinfo

import aiosqlite

from bot.circulation import BranchSchedule, Closure, LibraryCalendar
from db.sql import fetch_all, fetch_one


async def load_calendar(conn: aiosqlite.Connection, zone: tzinfo) -> LibraryCalendar:
    """Every branch with its week, saint day and closures."""
    branches = await fetch_all(conn, "SELECT id, code, patron_saint_day FROM branches")
    hours = await fetch_all(conn, "SELECT branch_id, weekday, opens, closes FROM branch_hours")
    by_branch: dict[int, list[tuple[int, str, str]]] = {}
    for branch_id, weekday, opens, closes in hours:
        by_branch.setdefault(int(branch_id), []).append((int(weekday), opens, closes))
    codes = {int(row[0]): str(row[1]) for row in branches}
    schedules = [
        BranchSchedule.from_rows(
            str(code), by_branch.get(int(branch_id), ()), patron_saint_day=saint
        )
        for branch_id, code, saint in branches
    ]
    closures = [
        Closure(
            first_on=date.fromisoformat(first_on),
            last_on=date.fromisoformat(last_on),
            branch=codes[int(branch_id)] if branch_id is not None else None,
            reason=reason,
        )
        for branch_id, first_on, last_on, reason in await fetch_all(
            conn, "SELECT branch_id, first_on, last_on, reason FROM closures"
        )
    ]
    return LibraryCalendar(schedules, closures, zone=zone)


async def has_opening_hours(conn: aiosqlite.Connection, branch_id: int) -> bool:
    row = await fetch_one(
        conn, "SELECT 1 FROM branch_hours WHERE branch_id = ? LIMIT 1", (branch_id,)
    )
    return row is not None


async def set_hours(
    conn: aiosqlite.Connection, branch_id: int, week: Sequence[tuple[int, time, time]]
) -> None:
    """Replace a branch's weekly opening hours."""
    await conn.execute("DELETE FROM branch_hours WHERE branch_id = ?", (branch_id,))
    await conn.executemany(
        "INSERT INTO branch_hours (branch_id, weekday, opens, closes) VALUES (?, ?, ?, ?)",
        [
            (branch_id, weekday, opens.strftime("%H:%M"), closes.strftime("%H:%M"))
            for weekday, opens, closes in week
        ],
    )


async def set_patron_saint_day(
    conn: aiosqlite.Connection, branch_id: int, month_day: str | None
) -> None:
    await conn.execute(
        "UPDATE branches SET patron_saint_day = ? WHERE id = ?", (month_day, branch_id)
    )


async def add_closure(
    conn: aiosqlite.Connection,
    branch_id: int | None,
    first_on: date,
    last_on: date,
    reason: str | None,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO closures (branch_id, first_on, last_on, reason) VALUES (?, ?, ?, ?)",
        (branch_id, first_on.isoformat(), last_on.isoformat(), reason),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
