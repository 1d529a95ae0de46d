"""Interlibrary requests (G18, G20): asked by the patron, handled by staff.

A request from another network is recorded as ``requested`` when it is free (provincial,
regional), or ``awaiting_consent`` when the patron pays (national, international): nothing is
ordered, and nothing is owed, until the patron agrees to the cost (G20). Staff then move it
along (ordered, arrived, not available); once the patron has consented, withdrawing still owes
the cost, charged as a service fine, which excludes until paid (G20).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from bot.circulation import CalendarError, IllScope, ill_request_decision
from bot.circulation.interlibrary import withdrawal_charge
from bot.services import accounts
from bot.services.context import Library, Moment, calendar_refusal
from bot.services.errors import Refusal
from db import circulation as circulation_repo
from db import interlibrary as repo

OPEN_STATES = ("requested", "awaiting_consent", "ordered", "arrived")


@dataclass(frozen=True, slots=True)
class IllStatus:
    request_id: int
    scope: str
    title: str
    state: str
    cost_cents: int | None
    deliver_by: date | None

    def as_json(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "scope": self.scope,
            "title": self.title,
            "state": self.state,
            "cost_cents": self.cost_cents,
            "deliver_by": self.deliver_by.isoformat() if self.deliver_by else None,
        }


async def request(
    library: Library,
    *,
    card: str,
    scope: IllScope,
    title: str,
    now: datetime,
    author: str | None = None,
    isbn: str | None = None,
    record_id: int | None = None,
    cost_cents: int | None = None,
) -> IllStatus:
    """Ask for a work the network does not have, within the policy's limits (G18)."""
    title = " ".join(title.split())
    if not title:
        raise Refusal("bad_title", "an interlibrary request needs the title")
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        open_requests = Counter(
            IllScope(scope_value)
            for scope_value in await repo.open_scopes(moment.conn, patron.patron_id)
        )
        standing = await accounts.standing(moment, patron)
        try:
            decision = ill_request_decision(
                moment.policy,
                moment.calendar,
                standing=standing,
                scope=scope,
                open_requests=open_requests,
                branch=patron.home_branch,
                today=moment.today,
            )
        except CalendarError as error:
            raise calendar_refusal(error) from error
        if not decision.allowed:
            raise Refusal.of(decision, "interlibrary request")
        state = "awaiting_consent" if decision.needs_consent else "requested"
        request_id = await repo.add_request(
            moment.conn,
            patron_id=patron.patron_id,
            scope=scope.value,
            title=title,
            author=author,
            isbn=isbn,
            record_id=record_id,
            state=state,
            cost_cents=cost_cents if decision.patron_pays else None,
            now=now,
        )
        return IllStatus(request_id, scope.value, title, state, cost_cents, decision.deliver_by)


async def consent(library: Library, *, card: str, request_id: int, now: datetime) -> IllStatus:
    """The patron agrees to the cost: the request may now be ordered (G20)."""
    async with library.moment(now) as moment:
        row = await _own(moment, card, request_id)
        if row.state != "awaiting_consent":
            raise Refusal("no_consent_needed", f"request {request_id} is {row.state}")
        await repo.set_state(moment.conn, request_id, "requested", now, consented=True)
        return IllStatus(row.request_id, row.scope, row.title, "requested", row.cost_cents, None)


async def withdraw(library: Library, *, card: str, request_id: int, now: datetime) -> int:
    """The patron no longer wants it: after consent to a cost, the cost is still owed (G20)."""
    async with library.moment(now) as moment:
        row = await _own(moment, card, request_id)
        if row.state not in OPEN_STATES:
            raise Refusal("request_closed", f"request {request_id} is already {row.state}")
        owed, rule = withdrawal_charge(
            moment.policy, cost_cents=row.cost_cents or 0, consented=row.consented
        )
        await repo.set_state(moment.conn, request_id, "cancelled", now)
        if owed and rule:
            await circulation_repo.add_fine(
                moment.conn,
                patron_id=row.patron_id,
                loan_id=None,
                kind="service",
                rule=rule,
                amount_cents=owed,
                note=f"interlibrary request {request_id} withdrawn after consent",
                now=now,
            )
            patron = await circulation_repo.patron_by_id(moment.conn, row.patron_id)
            assert patron is not None
            await accounts.standing(moment, patron)
        return owed


async def _own(moment: Moment, card: str, request_id: int) -> repo.IllRow:
    patron = await moment.patron(card)
    row = await repo.request_by_id(moment.conn, request_id)
    if row is None or row.patron_id != patron.patron_id:
        raise Refusal("unknown_request", f"card {patron.card} has no request {request_id}")
    return row
