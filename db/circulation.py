"""Circulation repository: patrons, copies, loans, holds, money and restrictions.

Reads return the circulation domain's facts (``bot.circulation.facts``) or small row types,
so the service layer can hand them to a decision as they are; writes record a decision's
outcome. Every function runs inside the caller's transaction (``Store.transaction``): the
service layer reads the facts and writes the outcome in one ``BEGIN IMMEDIATE`` transaction,
which is what makes two desks racing for the last copy safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.catalog.model import ItemStatus, MaterialType
from bot.circulation import (
    HoldFacts,
    HoldState,
    ItemCondition,
    ItemFacts,
    LoanFacts,
    PatronCategory,
    PatronFacts,
)
from bot.circulation.standing import RestrictionKey, RestrictionKind
from db.sql import fetch_all, fetch_one, fetch_value
from db.timestamps import from_db, to_db

# Patrons ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatronRow:
    patron_id: int
    card: str
    name: str
    category: PatronCategory
    home_branch: str
    registered_on: date
    language: str
    pin_hash: str | None

    @property
    def facts(self) -> PatronFacts:
        return PatronFacts(
            category=self.category,
            registered_on=self.registered_on,
            home_branch=self.home_branch,
            patron_id=self.patron_id,
        )


_PATRON_COLUMNS = (
    "SELECT p.id, p.card, p.name, p.category, b.code, p.registered_on, p.language, p.pin_hash"
    " FROM patrons p JOIN branches b ON b.id = p.home_branch_id"
)


def _patron(row: tuple[Any, ...]) -> PatronRow:
    return PatronRow(
        patron_id=int(row[0]),
        card=str(row[1]),
        name=str(row[2]),
        category=PatronCategory(row[3]),
        home_branch=str(row[4]),
        registered_on=date.fromisoformat(str(row[5])),
        language=str(row[6]),
        pin_hash=None if row[7] is None else str(row[7]),
    )


async def patron_by_card(conn: aiosqlite.Connection, card: str) -> PatronRow | None:
    row = await fetch_one(conn, f"{_PATRON_COLUMNS} WHERE p.card = ?", (card,))
    return _patron(row) if row else None


async def patron_by_id(conn: aiosqlite.Connection, patron_id: int) -> PatronRow | None:
    row = await fetch_one(conn, f"{_PATRON_COLUMNS} WHERE p.id = ?", (patron_id,))
    return _patron(row) if row else None


async def add_patron(
    conn: aiosqlite.Connection,
    *,
    card: str,
    name: str,
    category: PatronCategory,
    home_branch_id: int,
    registered_on: date,
    language: str,
    pin_hash: str | None,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO patrons (card, name, category, home_branch_id, pin_hash, language,"
        " registered_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            card,
            name,
            category.value,
            home_branch_id,
            pin_hash,
            language,
            registered_on.isoformat(),
            to_db(now),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def is_telegram_linked(conn: aiosqlite.Connection, patron_id: int) -> bool:
    return (
        await fetch_one(conn, "SELECT 1 FROM telegram_links WHERE patron_id = ?", (patron_id,))
        is not None
    )


async def add_link_code(
    conn: aiosqlite.Connection, patron_id: int, code_hash: str, expires_at: datetime
) -> None:
    """A new one-time code replaces the patron's unused ones."""
    await conn.execute(
        "DELETE FROM link_codes WHERE patron_id = ? AND used_at IS NULL", (patron_id,)
    )
    await conn.execute(
        "INSERT INTO link_codes (code_hash, patron_id, expires_at) VALUES (?, ?, ?)",
        (code_hash, patron_id, to_db(expires_at)),
    )


# Branches ---------------------------------------------------------------------------------------


async def branch_name(conn: aiosqlite.Connection, code: str) -> str:
    name = await fetch_value(conn, "SELECT name FROM branches WHERE code = ?", (code,))
    return str(name) if name else code


async def branch_id(conn: aiosqlite.Connection, code: str) -> int | None:
    value = await fetch_value(conn, "SELECT id FROM branches WHERE code = ?", (code,))
    return None if value is None else int(value)


# Copies -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CopyRow:
    """A copy with what circulation needs: its facts, where it is, what it is doing."""

    item_id: int
    record_id: int
    barcode: str
    status: ItemStatus
    location: str
    transit_arrives_on: date | None
    facts: ItemFacts


_COPY_COLUMNS = (
    "SELECT i.id, i.record_id, i.barcode, i.status, lb.code, i.transit_arrives_on,"
    " i.material_type, hb.code, i.section, i.condition, i.published_on, r.year,"
    " i.not_for_loan, i.loan_days_override"
    " FROM items i JOIN branches hb ON hb.id = i.home_branch_id"
    " JOIN branches lb ON lb.id = i.location_branch_id JOIN records r ON r.id = i.record_id"
)


def _copy(row: tuple[Any, ...]) -> CopyRow:
    return CopyRow(
        item_id=int(row[0]),
        record_id=int(row[1]),
        barcode=str(row[2]),
        status=ItemStatus(row[3]),
        location=str(row[4]),
        transit_arrives_on=date.fromisoformat(str(row[5])) if row[5] else None,
        facts=ItemFacts(
            material_type=MaterialType(row[6]),
            home_branch=str(row[7]),
            section=None if row[8] is None else str(row[8]),
            condition=ItemCondition(row[9]),
            published_on=date.fromisoformat(str(row[10])) if row[10] else None,
            published_year=None if row[11] is None else int(row[11]),
            not_for_loan=bool(row[12]),
            loan_days_override=None if row[13] is None else int(row[13]),
            item_id=int(row[0]),
            record_id=int(row[1]),
        ),
    )


async def copy_by_barcode(conn: aiosqlite.Connection, barcode: str) -> CopyRow | None:
    row = await fetch_one(conn, f"{_COPY_COLUMNS} WHERE i.barcode = ?", (barcode,))
    return _copy(row) if row else None


async def copy_by_id(conn: aiosqlite.Connection, item_id: int) -> CopyRow | None:
    row = await fetch_one(conn, f"{_COPY_COLUMNS} WHERE i.id = ?", (item_id,))
    return _copy(row) if row else None


async def copies_of_record(conn: aiosqlite.Connection, record_id: int) -> list[CopyRow]:
    rows = await fetch_all(
        conn, f"{_COPY_COLUMNS} WHERE i.record_id = ? ORDER BY i.id", (record_id,)
    )
    return [_copy(row) for row in rows]


async def record_title(conn: aiosqlite.Connection, record_id: int) -> str:
    return str(await fetch_value(conn, "SELECT title FROM records WHERE id = ?", (record_id,)))


async def record_exists(conn: aiosqlite.Connection, record_id: int) -> bool:
    return await fetch_one(conn, "SELECT 1 FROM records WHERE id = ?", (record_id,)) is not None


async def move_copy(
    conn: aiosqlite.Connection,
    item_id: int,
    *,
    status: ItemStatus,
    location_id: int,
    arrives_on: date | None,
    now: datetime,
) -> None:
    await conn.execute(
        "UPDATE items SET status = ?, location_branch_id = ?, transit_arrives_on = ?,"
        " updated_at = ? WHERE id = ?",
        (
            status.value,
            location_id,
            arrives_on.isoformat() if arrives_on else None,
            to_db(now),
            item_id,
        ),
    )


async def copies_arriving(conn: aiosqlite.Connection, today: date) -> list[CopyRow]:
    rows = await fetch_all(
        conn,
        f"{_COPY_COLUMNS} WHERE i.status = 'in_transit' AND i.transit_arrives_on <= ?"
        " ORDER BY i.id",
        (today.isoformat(),),
    )
    return [_copy(row) for row in rows]


# Loans ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoanRow:
    loan_id: int
    patron_id: int
    barcode: str
    record_id: int
    title: str
    returned_at: datetime | None
    facts: LoanFacts


_LOAN_COLUMNS = (
    "SELECT l.id, l.patron_id, i.barcode, i.record_id, r.title, l.returned_at,"
    " i.material_type, l.due_on, l.loaned_at, b.code, l.renewals, l.short_loan, l.due_at,"
    " i.section, i.id"
    " FROM loans l JOIN items i ON i.id = l.item_id JOIN records r ON r.id = i.record_id"
    " JOIN branches b ON b.id = l.branch_id"
)


def _loan(row: tuple[Any, ...]) -> LoanRow:
    return LoanRow(
        loan_id=int(row[0]),
        patron_id=int(row[1]),
        barcode=str(row[2]),
        record_id=int(row[3]),
        title=str(row[4]),
        returned_at=from_db(str(row[5])) if row[5] else None,
        facts=LoanFacts(
            material_type=MaterialType(row[6]),
            due_on=date.fromisoformat(str(row[7])),
            loaned_at=from_db(str(row[8])),
            branch=str(row[9]),
            renewals=int(row[10]),
            short_loan=bool(row[11]),
            due_at=from_db(str(row[12])) if row[12] else None,
            section=None if row[13] is None else str(row[13]),
            loan_id=int(row[0]),
            item_id=int(row[14]),
            record_id=int(row[3]),
        ),
    )


async def open_loans(conn: aiosqlite.Connection, patron_id: int) -> list[LoanRow]:
    rows = await fetch_all(
        conn,
        f"{_LOAN_COLUMNS} WHERE l.patron_id = ? AND l.returned_at IS NULL ORDER BY l.due_on, l.id",
        (patron_id,),
    )
    return [_loan(row) for row in rows]


async def open_loan_of_copy(conn: aiosqlite.Connection, item_id: int) -> LoanRow | None:
    row = await fetch_one(
        conn, f"{_LOAN_COLUMNS} WHERE l.item_id = ? AND l.returned_at IS NULL", (item_id,)
    )
    return _loan(row) if row else None


async def returned_late_loans(
    conn: aiosqlite.Connection, patron_id: int, late_since: date
) -> list[tuple[LoanRow, int]]:
    """Returned loans of the patron that were late and carry an overdue fine, with its amount,
    whose lateness reached past ``late_since`` (candidates for "late at the same time")."""
    rows = await fetch_all(
        conn,
        f"{_LOAN_COLUMNS.replace('SELECT ', 'SELECT f.amount_cents, ', 1)}"
        " JOIN fines f ON f.loan_id = l.id AND f.kind = 'overdue'"
        " WHERE l.patron_id = ? AND l.returned_at IS NOT NULL AND l.returned_at >= ?",
        (patron_id, late_since.isoformat()),
    )
    return [(_loan(row[1:]), int(row[0])) for row in rows]


async def add_loan(
    conn: aiosqlite.Connection,
    *,
    item_id: int,
    patron_id: int,
    branch_id: int,
    now: datetime,
    due_on: date,
    due_at: datetime | None,
    short_loan: bool,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO loans (item_id, patron_id, branch_id, loaned_at, due_on, due_at,"
        " short_loan) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            item_id,
            patron_id,
            branch_id,
            to_db(now),
            due_on.isoformat(),
            to_db(due_at) if due_at else None,
            int(short_loan),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def close_loan(
    conn: aiosqlite.Connection, loan_id: int, *, now: datetime, branch_id: int
) -> None:
    await conn.execute(
        "UPDATE loans SET returned_at = ?, return_branch_id = ? WHERE id = ?",
        (to_db(now), branch_id, loan_id),
    )


async def renew_loan(
    conn: aiosqlite.Connection,
    loan: LoanRow,
    *,
    new_due_on: date,
    renewals: int,
    now: datetime,
    channel: str,
) -> str:
    """Extend a loan and keep the renewal with its receipt number; return the receipt."""
    cursor = await conn.execute(
        "INSERT INTO renewals (loan_id, requested_at, old_due_on, new_due_on, receipt, channel)"
        " VALUES (?, ?, ?, ?, 'pending', ?)",
        (loan.loan_id, to_db(now), loan.facts.due_on.isoformat(), new_due_on.isoformat(), channel),
    )
    renewal_id = cursor.lastrowid
    assert renewal_id is not None
    receipt = receipt_number("R", renewal_id, now)
    await conn.execute("UPDATE renewals SET receipt = ? WHERE id = ?", (receipt, renewal_id))
    await conn.execute(
        "UPDATE loans SET due_on = ?, renewals = ? WHERE id = ?",
        (new_due_on.isoformat(), renewals, loan.loan_id),
    )
    return receipt


def receipt_number(kind: str, number: int, now: datetime) -> str:
    """``R-2026-000123``: the kind (P loan, R renewal), the year, the row's number. The store is
    the authority a receipt is checked against, so a sequence number is enough."""
    return f"{kind}-{now.year}-{number:06d}"


# Holds ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldRow:
    hold_id: int
    record_id: int
    patron_id: int
    title: str
    item_id: int | None
    ready_on: date | None
    facts: HoldFacts


_HOLD_COLUMNS = (
    "SELECT h.id, h.record_id, h.patron_id, r.title, h.item_id, h.ready_on, h.placed_at,"
    " h.state, b.code, h.suspended_until, h.expires_on"
    " FROM holds h JOIN records r ON r.id = h.record_id"
    " JOIN branches b ON b.id = h.pickup_branch_id"
)
_ACTIVE = "('waiting', 'suspended', 'in_transit', 'ready')"


def _hold(row: tuple[Any, ...]) -> HoldRow:
    return HoldRow(
        hold_id=int(row[0]),
        record_id=int(row[1]),
        patron_id=int(row[2]),
        title=str(row[3]),
        item_id=None if row[4] is None else int(row[4]),
        ready_on=date.fromisoformat(str(row[5])) if row[5] else None,
        facts=HoldFacts(
            hold_id=int(row[0]),
            patron_id=int(row[2]),
            placed_at=from_db(str(row[6])),
            state=HoldState(row[7]),
            pickup_branch=str(row[8]),
            suspended_until=date.fromisoformat(str(row[9])) if row[9] else None,
            expires_on=date.fromisoformat(str(row[10])) if row[10] else None,
        ),
    )


async def active_holds_on_record(conn: aiosqlite.Connection, record_id: int) -> list[HoldRow]:
    rows = await fetch_all(
        conn,
        f"{_HOLD_COLUMNS} WHERE h.record_id = ? AND h.state IN {_ACTIVE}"
        " ORDER BY h.placed_at, h.id",
        (record_id,),
    )
    return [_hold(row) for row in rows]


async def active_holds_of_patron(conn: aiosqlite.Connection, patron_id: int) -> list[HoldRow]:
    rows = await fetch_all(
        conn,
        f"{_HOLD_COLUMNS} WHERE h.patron_id = ? AND h.state IN {_ACTIVE}"
        " ORDER BY h.placed_at, h.id",
        (patron_id,),
    )
    return [_hold(row) for row in rows]


async def hold_by_id(conn: aiosqlite.Connection, hold_id: int) -> HoldRow | None:
    row = await fetch_one(conn, f"{_HOLD_COLUMNS} WHERE h.id = ?", (hold_id,))
    return _hold(row) if row else None


async def hold_for_copy(conn: aiosqlite.Connection, item_id: int) -> HoldRow | None:
    """The hold a copy is trapped for (in transit to it, or waiting on its shelf)."""
    row = await fetch_one(
        conn,
        f"{_HOLD_COLUMNS} WHERE h.item_id = ? AND h.state IN ('in_transit', 'ready')",
        (item_id,),
    )
    return _hold(row) if row else None


async def ready_holds_expired(conn: aiosqlite.Connection, today: date) -> list[HoldRow]:
    rows = await fetch_all(
        conn,
        f"{_HOLD_COLUMNS} WHERE h.state = 'ready' AND h.expires_on < ? ORDER BY h.id",
        (today.isoformat(),),
    )
    return [_hold(row) for row in rows]


async def add_hold(
    conn: aiosqlite.Connection,
    *,
    record_id: int,
    patron_id: int,
    pickup_branch_id: int,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO holds (record_id, patron_id, pickup_branch_id, placed_at, state)"
        " VALUES (?, ?, ?, ?, 'waiting')",
        (record_id, patron_id, pickup_branch_id, to_db(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def set_hold_state(
    conn: aiosqlite.Connection,
    hold_id: int,
    state: HoldState,
    *,
    item_id: int | None = None,
    ready_on: date | None = None,
    expires_on: date | None = None,
    suspended_until: date | None = None,
    closed_at: datetime | None = None,
) -> None:
    await conn.execute(
        "UPDATE holds SET state = ?, item_id = ?, ready_on = ?, expires_on = ?,"
        " suspended_until = ?, closed_at = ? WHERE id = ?",
        (
            state.value,
            item_id,
            ready_on.isoformat() if ready_on else None,
            expires_on.isoformat() if expires_on else None,
            suspended_until.isoformat() if suspended_until else None,
            to_db(closed_at) if closed_at else None,
            hold_id,
        ),
    )


# Money ------------------------------------------------------------------------------------------


async def add_fine(
    conn: aiosqlite.Connection,
    *,
    patron_id: int,
    loan_id: int | None,
    kind: str,
    rule: str,
    amount_cents: int,
    note: str | None,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO fines (patron_id, loan_id, kind, rule, amount_cents, note, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (patron_id, loan_id, kind, rule, amount_cents, note, to_db(now), to_db(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@dataclass(frozen=True, slots=True)
class FineRow:
    fine_id: int
    loan_id: int | None
    kind: str
    rule: str
    amount_cents: int
    note: str | None
    created_at: datetime


async def fines_of_patron(conn: aiosqlite.Connection, patron_id: int) -> list[FineRow]:
    rows = await fetch_all(
        conn,
        "SELECT id, loan_id, kind, rule, amount_cents, note, created_at FROM fines"
        " WHERE patron_id = ? ORDER BY created_at, id",
        (patron_id,),
    )
    return [
        FineRow(
            int(r[0]),
            None if r[1] is None else int(r[1]),
            str(r[2]),
            str(r[3]),
            int(r[4]),
            None if r[5] is None else str(r[5]),
            from_db(str(r[6])),
        )
        for r in rows
    ]


async def paid_cents(conn: aiosqlite.Connection, patron_id: int) -> int:
    value = await fetch_value(
        conn,
        "SELECT COALESCE(SUM(amount_cents), 0) FROM payments WHERE patron_id = ?",
        (patron_id,),
    )
    return int(value)


async def add_payment(
    conn: aiosqlite.Connection, patron_id: int, amount_cents: int, now: datetime, note: str | None
) -> int:
    cursor = await conn.execute(
        "INSERT INTO payments (patron_id, amount_cents, paid_at, note) VALUES (?, ?, ?, ?)",
        (patron_id, amount_cents, to_db(now), note),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


# Restrictions -----------------------------------------------------------------------------------


async def open_restrictions(conn: aiosqlite.Connection, patron_id: int) -> list[RestrictionKey]:
    rows = await fetch_all(
        conn,
        "SELECT kind, rule FROM suspensions WHERE patron_id = ? AND ended_at IS NULL",
        (patron_id,),
    )
    return [(RestrictionKind(row[0]), str(row[1])) for row in rows]


async def open_restriction(
    conn: aiosqlite.Connection,
    patron_id: int,
    key: RestrictionKey,
    reason: str,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT OR IGNORE INTO suspensions (patron_id, kind, rule, reason, started_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (patron_id, key[0].value, key[1], reason, to_db(now)),
    )


async def end_restriction(
    conn: aiosqlite.Connection, patron_id: int, key: RestrictionKey, now: datetime, by: str
) -> bool:
    cursor = await conn.execute(
        "UPDATE suspensions SET ended_at = ?, ended_by = ? WHERE patron_id = ? AND kind = ?"
        " AND rule = ? AND ended_at IS NULL",
        (to_db(now), by, patron_id, key[0].value, key[1]),
    )
    return cursor.rowcount > 0


async def patrons_with_open_loans_due_before(
    conn: aiosqlite.Connection, day: date
) -> Sequence[int]:
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT patron_id FROM loans WHERE returned_at IS NULL AND due_on < ?",
        (day.isoformat(),),
    )
    return [int(row[0]) for row in rows]
