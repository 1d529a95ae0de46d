"""The network at a glance, for administrators (``/admin``, N6): loans, holds, notices.

Counts only, read in one snapshot so that they agree with each other; nothing personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.context import Library
from db.sql import fetch_all, fetch_value


@dataclass(frozen=True, slots=True)
class Statistics:
    open_loans: int
    overdue_loans: int
    active_holds: int
    ready_holds: int
    linked_patrons: int
    notices: dict[str, int]  # outbox state -> rows (pending, sending, sent, undeliverable, ...)

    def as_json(self) -> dict[str, object]:
        return {
            "open_loans": self.open_loans,
            "overdue_loans": self.overdue_loans,
            "active_holds": self.active_holds,
            "ready_holds": self.ready_holds,
            "linked_patrons": self.linked_patrons,
            "notices": self.notices,
        }


async def network_statistics(library: Library, *, now: datetime) -> Statistics:
    today = now.astimezone(library.zone).date().isoformat()
    async with library.store.snapshot() as conn:
        open_loans = await fetch_value(conn, "SELECT COUNT(*) FROM loans WHERE returned_at IS NULL")
        overdue = await fetch_value(
            conn, "SELECT COUNT(*) FROM loans WHERE returned_at IS NULL AND due_on < ?", (today,)
        )
        holds = await fetch_all(
            conn,
            "SELECT state, COUNT(*) FROM holds"
            " WHERE state IN ('waiting', 'suspended', 'in_transit', 'ready') GROUP BY state",
        )
        linked = await fetch_value(conn, "SELECT COUNT(*) FROM telegram_links")
        notices = await fetch_all(conn, "SELECT state, COUNT(*) FROM outbox GROUP BY state")
    by_state = {str(state): int(count) for state, count in holds}
    counts = {"pending": 0, "sending": 0, "sent": 0, "undeliverable": 0, "expired": 0}
    counts.update({str(state): int(count) for state, count in notices})
    return Statistics(
        open_loans=int(open_loans),
        overdue_loans=int(overdue),
        active_holds=sum(by_state.values()),
        ready_holds=by_state.get("ready", 0),
        linked_patrons=int(linked),
        notices=counts,
    )
