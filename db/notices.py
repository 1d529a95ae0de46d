"""What the notice cycles read, and the ledger of what each patron has been told.

The reads select only what a cycle must announce: open loans due on exactly the days the
timing names, ready holds, recent expiries and standing changes, of patrons whose Telegram
account is linked and reachable, minus what the ledger says was already announced at that
level. The ledger (``notice_ledger``) is written in the same transaction as the outbox row that
carries the digest, so the pair is the cycle's idempotence: run it twice, nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from db.sql import fetch_all
from db.timestamps import from_db, to_db


@dataclass(frozen=True, slots=True)
class Recipient:
    patron_id: int
    card: str
    language: str
    category: str


@dataclass(frozen=True, slots=True)
class LoanDue:
    """An open loan a cycle may announce, with the level it is at today."""

    recipient: Recipient
    loan_id: int
    barcode: str
    title: str
    due_on: date
    level: str
    material_type: str


@dataclass(frozen=True, slots=True)
class HoldNotice:
    recipient: Recipient
    hold_id: int
    title: str
    pickup: str
    ready_on: date | None
    expires_on: date | None
    closed_at: datetime | None
    level: str


@dataclass(frozen=True, slots=True)
class StandingChange:
    """A restriction opened or ended, or a fine charged: each told once."""

    recipient: Recipient
    subject: str  # 'suspension:7', 'fine:12'
    level: str  # opened, ended, charged
    kind: str  # suspension kind, or the fine's kind
    rule: str
    reason: str | None
    amount_cents: int | None
    title: str | None
    at: datetime


def loan_subject(loan_id: int, due_on: date) -> str:
    """A loan at one due date: a renewal (a new due date) starts its reminders afresh."""
    return f"loan:{loan_id}@{due_on.isoformat()}"


def hold_subject(hold_id: int) -> str:
    return f"hold:{hold_id}"


_REACHABLE = " JOIN telegram_links tl ON tl.patron_id = p.id AND tl.undeliverable_at IS NULL"


def _recipient(row: Sequence[Any], start: int) -> Recipient:
    return Recipient(int(row[start]), str(row[start + 1]), str(row[start + 2]), str(row[start + 3]))


async def loans_due_on(
    conn: aiosqlite.Connection,
    kind: str,
    wanted: Sequence[tuple[date, str]],
    *,
    due_reminders_only: bool,
) -> list[LoanDue]:
    """Open loans due on one of the ``wanted`` days, each with its level, not yet announced
    at that level (``kind`` names the ledger's family: due_reminder, overdue)."""
    if not wanted:
        return []
    values = ", ".join("(?, ?)" for _ in wanted)
    params: list[Any] = [value for day, level in wanted for value in (day.isoformat(), level)]
    optout = " AND tl.due_reminders = 1" if due_reminders_only else ""
    rows = await fetch_all(
        conn,
        f"WITH wanted(due_on, level) AS (VALUES {values})"
        " SELECT p.id, p.card, p.language, p.category, l.id, i.barcode, r.title, l.due_on, w.level,"
        " i.material_type"
        " FROM wanted w CROSS JOIN loans l ON l.due_on = w.due_on AND l.returned_at IS NULL"
        " JOIN patrons p ON p.id = l.patron_id"
        f"{_REACHABLE}{optout}"
        " JOIN items i ON i.id = l.item_id JOIN records r ON r.id = i.record_id"
        " WHERE NOT EXISTS (SELECT 1 FROM notice_ledger n WHERE n.kind = ?"
        "   AND n.subject = 'loan:' || l.id || '@' || l.due_on AND n.level = w.level)"
        " ORDER BY p.id, l.due_on, r.title_sort, l.id",
        [*params, kind],
    )
    return [
        LoanDue(
            recipient=_recipient(row, 0),
            loan_id=int(row[4]),
            barcode=str(row[5]),
            title=str(row[6]),
            due_on=date.fromisoformat(str(row[7])),
            level=str(row[8]),
            material_type=str(row[9]),
        )
        for row in rows
    ]


_HOLD_SELECT = (
    "SELECT p.id, p.card, p.language, p.category, h.id, r.title, b.code, h.ready_on, h.expires_on,"
    " h.closed_at"
    " FROM holds h JOIN patrons p ON p.id = h.patron_id"
    f"{_REACHABLE}"
    " JOIN records r ON r.id = h.record_id JOIN branches b ON b.id = h.pickup_branch_id"
)
_NOT_TOLD = (
    " AND NOT EXISTS (SELECT 1 FROM notice_ledger n WHERE n.kind = ?"
    " AND n.subject = 'hold:' || h.id AND n.level = ?)"
)


def _hold(row: Sequence[Any], level: str) -> HoldNotice:
    return HoldNotice(
        recipient=_recipient(row, 0),
        hold_id=int(row[4]),
        title=str(row[5]),
        pickup=str(row[6]),
        ready_on=date.fromisoformat(str(row[7])) if row[7] else None,
        expires_on=date.fromisoformat(str(row[8])) if row[8] else None,
        closed_at=from_db(str(row[9])) if row[9] else None,
        level=level,
    )


async def ready_holds_untold(
    conn: aiosqlite.Connection, hold_ids: Iterable[int] | None = None
) -> list[HoldNotice]:
    """Ready holds whose patron was not told yet (all of them, or those of ``hold_ids``)."""
    where = " WHERE h.state = 'ready'"
    params: list[Any] = []
    if hold_ids is not None:
        ids = list(hold_ids)
        if not ids:
            return []
        where += f" AND h.id IN ({', '.join('?' for _ in ids)})"
        params.extend(ids)
    rows = await fetch_all(
        conn,
        f"{_HOLD_SELECT}{where}{_NOT_TOLD} ORDER BY p.id, h.expires_on, h.id",
        [*params, "hold_ready", "ready"],
    )
    return [_hold(row, "ready") for row in rows]


async def ready_holds_to_tell(
    conn: aiosqlite.Connection, today: date, last_day: date | None
) -> list[HoldNotice]:
    """In one pass over the ready holds: those whose patron was not told yet (level
    ``ready``), and, when ``last_day`` is given, those told before today whose last pickup day
    falls between ``today`` and ``last_day`` and that were not reminded yet (``last_call``)."""
    ending = (
        " OR (h.expires_on >= ? AND h.expires_on <= ? AND h.ready_on < ?"
        " AND NOT EXISTS (SELECT 1 FROM notice_ledger n WHERE n.kind = 'hold_last_call'"
        " AND n.subject = 'hold:' || h.id AND n.level = 'last_call'))"
    )
    params: list[Any] = []
    if last_day is not None:
        params = [today.isoformat(), last_day.isoformat(), today.isoformat()]
    # The conditions name only the hold, so they are checked before the joins (a LEFT JOIN
    # of the ledger would join every ready hold's patron and title first: 3× slower).
    untold = (
        "NOT EXISTS (SELECT 1 FROM notice_ledger n WHERE n.kind = 'hold_ready'"
        " AND n.subject = 'hold:' || h.id AND n.level = 'ready')"
    )
    rows = await fetch_all(
        conn,
        "SELECT p.id, p.card, p.language, p.category, h.id, r.title, b.code, h.ready_on,"
        f" h.expires_on, h.closed_at, {untold}"
        " FROM holds h JOIN patrons p ON p.id = h.patron_id"
        f"{_REACHABLE}"
        " JOIN records r ON r.id = h.record_id JOIN branches b ON b.id = h.pickup_branch_id"
        f" WHERE h.state = 'ready' AND ({untold}{ending if last_day else ''})"
        " ORDER BY p.id, h.expires_on, h.id",
        params,
    )
    return [_hold(row, "ready" if row[10] else "last_call") for row in rows]


async def expired_holds_untold(
    conn: aiosqlite.Connection, since: datetime, until: datetime
) -> list[HoldNotice]:
    """Holds whose pickup time ran out between ``since`` and ``until``, whose patron was not
    told yet."""
    rows = await fetch_all(
        conn,
        f"{_HOLD_SELECT} WHERE h.state = 'expired' AND h.closed_at >= ? AND h.closed_at <= ?"
        f" AND h.expires_on IS NOT NULL{_NOT_TOLD} ORDER BY p.id, h.id",
        (to_db(since), to_db(until), "hold_missed", "missed"),
    )
    return [_hold(row, "missed") for row in rows]


async def standing_changes_untold(
    conn: aiosqlite.Connection, since: datetime, until: datetime
) -> list[StandingChange]:
    """Restrictions opened or ended, and fines charged, between ``since`` and ``until``, not
    told yet."""
    window = (to_db(since), to_db(until))
    opened = await fetch_all(
        conn,
        "SELECT p.id, p.card, p.language, p.category, s.id, s.kind, s.rule, s.reason,"
        " s.started_at"
        f" FROM suspensions s JOIN patrons p ON p.id = s.patron_id{_REACHABLE}"
        " WHERE s.started_at >= ? AND s.started_at <= ? AND NOT EXISTS"
        " (SELECT 1 FROM notice_ledger n WHERE n.kind = 'standing'"
        " AND n.subject = 'suspension:' || s.id AND n.level = 'opened')",
        window,
    )
    ended = await fetch_all(
        conn,
        "SELECT p.id, p.card, p.language, p.category, s.id, s.kind, s.rule, s.reason,"
        " s.ended_at"
        f" FROM suspensions s JOIN patrons p ON p.id = s.patron_id{_REACHABLE}"
        " WHERE s.ended_at >= ? AND s.ended_at <= ? AND NOT EXISTS (SELECT 1 FROM notice_ledger n"
        " WHERE n.kind = 'standing' AND n.subject = 'suspension:' || s.id AND n.level = 'ended')",
        window,
    )
    fined = await fetch_all(
        conn,
        "SELECT p.id, p.card, p.language, p.category, f.id, f.kind, f.rule, f.amount_cents,"
        " f.created_at, r.title"
        f" FROM fines f JOIN patrons p ON p.id = f.patron_id{_REACHABLE}"
        " LEFT JOIN loans l ON l.id = f.loan_id LEFT JOIN items i ON i.id = l.item_id"
        " LEFT JOIN records r ON r.id = i.record_id"
        " WHERE f.created_at >= ? AND f.created_at <= ? AND f.amount_cents > 0"
        " AND NOT EXISTS (SELECT 1 FROM notice_ledger n WHERE n.kind = 'standing'"
        " AND n.subject = 'fine:' || f.id AND n.level = 'charged')",
        window,
    )
    changes = [
        StandingChange(
            recipient=_recipient(row, 0),
            subject=f"suspension:{row[4]}",
            level=level,
            kind=str(row[5]),
            rule=str(row[6]),
            reason=str(row[7]),
            amount_cents=None,
            title=None,
            at=from_db(str(row[8])),
        )
        for level, rows in (("opened", opened), ("ended", ended))
        for row in rows
    ]
    changes += [
        StandingChange(
            recipient=_recipient(row, 0),
            subject=f"fine:{row[4]}",
            level="charged",
            kind=str(row[5]),
            rule=str(row[6]),
            reason=None,
            amount_cents=int(row[7]),
            title=None if row[9] is None else str(row[9]),
            at=from_db(str(row[8])),
        )
        for row in fined
    ]
    return sorted(changes, key=lambda change: (change.recipient.patron_id, change.at))


async def open_lateness_restrictions(
    conn: aiosqlite.Connection,
    *,
    late_before: date,
    kind: str,
    rule: str,
    reason: str,
    now: datetime,
) -> int:
    """Open the ``(kind, rule)`` restriction of every patron with an open loan due before
    ``late_before`` who has none open yet (G16, C8: a loan more than N days late); return how
    many were opened. One statement for the whole network: the same restriction
    ``bot.circulation.standing`` derives for each such patron, written for all at once."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO suspensions (patron_id, kind, rule, reason, started_at)"
        " SELECT DISTINCT l.patron_id, ?, ?, ?, ? FROM loans l"
        " WHERE l.returned_at IS NULL AND l.due_on < ?"
        " AND NOT EXISTS (SELECT 1 FROM suspensions s WHERE s.patron_id = l.patron_id"
        " AND s.kind = ? AND s.rule = ? AND s.ended_at IS NULL)",
        (kind, rule, reason, to_db(now), late_before.isoformat(), kind, rule),
    )
    return max(cursor.rowcount, 0)


async def note_many(
    conn: aiosqlite.Connection,
    entries: Iterable[tuple[str, str, str, int | None, int | None, date]],
) -> None:
    """Record ``(kind, subject, level, patron_id, outbox_id, day)`` entries as told."""
    await conn.executemany(
        "INSERT OR IGNORE INTO notice_ledger (kind, subject, level, patron_id, outbox_id,"
        " noted_on) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (kind, subject, level, patron_id, outbox_id, day.isoformat())
            for kind, subject, level, patron_id, outbox_id, day in entries
        ],
    )


async def expire_notices(conn: aiosqlite.Connection, outbox_ids: Sequence[int]) -> None:
    """Notices decided too late to be worth sending (catch-up): recorded, never sent."""
    await conn.executemany(
        "UPDATE outbox SET state = 'expired', last_error = ? WHERE id = ? AND state = 'pending'",
        [("decided after it stopped being useful", outbox_id) for outbox_id in outbox_ids],
    )
