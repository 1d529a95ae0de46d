"""Interlibrary requests (G18, G20): asked by the patron, handled by staff.

A request from another network is recorded as ``requested`` when it is free (provincial,
regional), or ``awaiting_consent`` when the patron pays (national, international): nothing is
ordered, and nothing is owed, until the patron agrees to the cost (G20). Staff then move it
along (ordered, arrived, not available); once the patron has consented, withdrawing still owes
the cost, charged as a service fine, which excludes until paid (G20).

Staff act on a request from the staff group: they set the cost of a paid one (which still waits
for the patron's consent), and mark it ordered, arrived, not available or returned. Each change
the patron did not make herself queues a notice for her in the outbox, in the same transaction
as the change, so that it is never lost: the caller renders it (``notify``), the service
decides when.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.circulation import CalendarError, IllScope, ill_request_decision
from bot.circulation.interlibrary import withdrawal_charge
from bot.reminders.outgoing import OutgoingMessage
from bot.services import accounts
from bot.services.context import Library, Moment, calendar_refusal
from bot.services.errors import Refusal
from db import catalog as catalog_repo
from db import circulation as circulation_repo
from db import interlibrary as repo
from db import outbox

OPEN_STATES = ("requested", "awaiting_consent", "ordered", "arrived")
NOTICE_KIND = "ill_update"

# What staff may do, and from which states (G18, G20: nothing is ordered before consent).
STAFF_STEPS: dict[str, tuple[str, ...]] = {
    "ordered": ("requested",),
    "arrived": ("ordered",),
    "not_available": ("requested", "awaiting_consent", "ordered"),
    "returned": ("arrived",),
}


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


LENDABLE_STATUSES = ("available", "on_loan", "in_transit", "on_hold_shelf")


def lends_any(copies: Sequence[catalog_repo.CopyRow]) -> bool:
    """Whether the network owns a copy it can lend (G18 is for works "not owned")."""
    return any(copy.status in LENDABLE_STATUSES and not copy.not_loanable for copy in copies)


@dataclass(frozen=True, slots=True)
class IllView:
    """One request with what a staff card and a patron notice show (patron's name, language)."""

    request_id: int
    patron_id: int
    card: str
    patron_name: str
    language: str
    home_branch: str
    scope: str
    title: str
    author: str | None
    isbn: str | None
    state: str
    cost_cents: int | None
    consented: bool
    requested_at: datetime | None

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def withdrawal_owes(self) -> bool:
        """Withdrawing now would still owe the cost (G20: consented, so it may be ordered)."""
        return self.consented and bool(self.cost_cents) and self.open


# Renders the patron's notice for a request as it now stands; None: nothing to tell her.
Notify = Callable[[IllView], OutgoingMessage | None]


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
    """Ask for a work the network does not have, within the policy's limits (G18).

    One open request per work: asking again for a work the patron already has an open request
    for is refused (``ill_already_requested``, its id as the detail), so a button pressed twice
    never makes two requests (nor two staff cards, nor two costs).
    """
    title = " ".join(title.split())
    if not title:
        raise Refusal("bad_title", "an interlibrary request needs the title")
    async with library.moment(now) as moment:
        patron = await moment.patron(card)
        # Checked inside the write transaction: two presses of the same button (a double tap,
        # or two updates handled at once) make one request, and the second is told so.
        same = await _open_request_for(moment, patron.patron_id, title, author, record_id)
        if same is not None:
            raise Refusal(
                "ill_already_requested",
                f"card {patron.card} already has open request {same.request_id} for {title!r}",
                detail=str(same.request_id),
            )
        open_requests = Counter(
            IllScope(scope_value)
            for scope_value in await repo.open_scopes(moment.conn, patron.patron_id)
        )
        standing = await accounts.standing(moment, patron)
        held = record_id is not None and lends_any(
            await catalog_repo.copies(
                moment.conn,
                record_id,
                sorted(code for code, rule in moment.policy.sections.items() if not rule.loanable),
                sorted(kind.value for kind in moment.policy.loanability.material_types),
            )
        )
        try:
            decision = ill_request_decision(
                moment.policy,
                moment.calendar,
                standing=standing,
                scope=scope,
                open_requests=open_requests,
                branch=patron.home_branch,
                today=moment.today,
                held_locally=held,
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


def _same_text(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


async def _open_request_for(
    moment: Moment, patron_id: int, title: str, author: str | None, record_id: int | None
) -> repo.IllRow | None:
    """The patron's open request for the same work: the same catalog record, or (typed in)
    the same title and author, whatever the network asked."""
    for row in await repo.requests_of(moment.conn, patron_id, OPEN_STATES):
        if record_id is not None and row.record_id == record_id:
            return row
        if (
            record_id is None
            and row.record_id is None
            and _same_text(row.title, title)
            and _same_text(row.author, author)
        ):
            return row
    return None


async def consent(
    library: Library,
    *,
    card: str,
    request_id: int,
    now: datetime,
    cost_cents: int | None = None,
) -> IllStatus:
    """The patron agrees to the cost: the request may now be ordered (G20).

    ``cost_cents`` is the cost the patron was shown: if staff changed it since, she has not
    agreed to the new one, and the consent is refused.
    """
    async with library.moment(now) as moment:
        row = await _own(moment, card, request_id)
        if row.state != "awaiting_consent":
            raise Refusal("no_consent_needed", f"request {request_id} is {row.state}")
        if row.cost_cents is None:
            raise Refusal("no_cost_yet", f"request {request_id} has no cost yet")
        if cost_cents is not None and cost_cents != row.cost_cents:
            raise Refusal(
                "cost_changed",
                f"request {request_id} costs {row.cost_cents} cents, not {cost_cents}",
                detail=str(row.cost_cents),
            )
        await repo.set_state(moment.conn, request_id, "requested", now, consented=True)
        return IllStatus(row.request_id, row.scope, row.title, "requested", row.cost_cents, None)


async def decline(library: Library, *, card: str, request_id: int, now: datetime) -> IllView:
    """The patron does not agree to the cost: the request is closed, nothing owed (G20)."""
    async with library.moment(now) as moment:
        row = await _own(moment, card, request_id)
        if row.state != "awaiting_consent":
            raise Refusal("no_consent_needed", f"request {request_id} is {row.state}")
        await repo.set_state(moment.conn, request_id, "cancelled", now)
        return await _view(moment, request_id)


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


async def requests(library: Library, *, card: str) -> list[IllView]:
    """The patron's open requests, oldest first (``/holds`` lists them beside the holds)."""
    async with library.store.snapshot() as conn:
        patron = await circulation_repo.patron_by_card(conn, card.strip())
        if patron is None:
            raise Refusal("unknown_card", f"no patron has card {card!r}")
        rows = await repo.requests_of(conn, patron.patron_id, OPEN_STATES)
        return [_as_view(row, patron) for row in rows]


async def view(library: Library, request_id: int) -> IllView | None:
    """One request as it stands (for its staff card), or None when there is none."""
    async with library.store.snapshot() as conn:
        row = await repo.request_by_id(conn, request_id)
        if row is None:
            return None
        patron = await circulation_repo.patron_by_id(conn, row.patron_id)
        assert patron is not None, "ill_requests.patron_id references patrons"
        return _as_view(row, patron)


async def set_cost(
    library: Library, *, request_id: int, cost_cents: int, now: datetime, notify: Notify
) -> IllView:
    """Staff say what a paid request costs; it still waits for the patron's consent (G20).

    Only a request the patron pays for (national, international) has a cost, and only until she
    has agreed to one: after that, a different price would be one she never accepted.
    """
    if cost_cents < 0:
        raise Refusal("bad_cost", f"a cost cannot be negative: {cost_cents}")
    async with library.moment(now) as moment:
        row = await _existing(moment, request_id)
        if row.state != "awaiting_consent":
            raise Refusal("no_cost_now", f"request {request_id} is {row.state}: no cost to set now")
        await repo.set_cost(moment.conn, request_id, cost_cents, now)
        updated = await _view(moment, request_id)
        await _queue_notice(moment, updated, f"cost{cost_cents}", notify)
        return updated


async def staff_step(
    library: Library, *, request_id: int, step: str, now: datetime, notify: Notify
) -> IllView:
    """Staff move a request on (``ordered``, ``arrived``, ``not_available``, ``returned``).

    A paid request cannot be ordered while it waits for the patron's consent (G20): that is
    the refusal ``awaiting_consent``. The patron hears of every step through the outbox.
    """
    allowed_from = STAFF_STEPS.get(step)
    if allowed_from is None:
        raise Refusal("unknown_step", f"no such step for an interlibrary request: {step!r}")
    async with library.moment(now) as moment:
        row = await _existing(moment, request_id)
        if row.state not in allowed_from:
            code = "awaiting_consent" if row.state == "awaiting_consent" else "wrong_state"
            raise Refusal(code, f"request {request_id} is {row.state}: cannot be {step}")
        await repo.set_state(moment.conn, request_id, step, now)
        updated = await _view(moment, request_id)
        await _queue_notice(moment, updated, step, notify)
        return updated


async def _queue_notice(moment: Moment, request: IllView, level: str, notify: Notify) -> None:
    message = notify(request)
    if message is None:
        return
    key = outbox.dedupe_key(request.patron_id, "ill", str(request.request_id), level, moment.today)
    notice = outbox.NewNotice(
        dedupe_key=key,
        patron_id=request.patron_id,
        kind=NOTICE_KIND,
        payload=message.to_payload(),
        not_before=moment.now,
    )
    await outbox.enqueue(moment.conn, notice, moment.now)


async def _existing(moment: Moment, request_id: int) -> repo.IllRow:
    row = await repo.request_by_id(moment.conn, request_id)
    if row is None:
        raise Refusal("unknown_request", f"there is no interlibrary request {request_id}")
    return row


async def _view(moment: Moment, request_id: int) -> IllView:
    row = await _existing(moment, request_id)
    patron = await circulation_repo.patron_by_id(moment.conn, row.patron_id)
    assert patron is not None, "ill_requests.patron_id references patrons"
    return _as_view(row, patron)


def _as_view(row: repo.IllRow, patron: circulation_repo.PatronRow) -> IllView:
    return IllView(
        request_id=row.request_id,
        patron_id=row.patron_id,
        card=patron.card,
        patron_name=patron.name,
        language=patron.language,
        home_branch=patron.home_branch,
        scope=row.scope,
        title=row.title,
        author=row.author,
        isbn=row.isbn,
        state=row.state,
        cost_cents=row.cost_cents,
        consented=row.consented,
        requested_at=row.requested_at,
    )


async def _own(moment: Moment, card: str, request_id: int) -> repo.IllRow:
    patron = await moment.patron(card)
    row = await repo.request_by_id(moment.conn, request_id)
    if row is None or row.patron_id != patron.patron_id:
        raise Refusal("unknown_request", f"card {patron.card} has no request {request_id}")
    return row
