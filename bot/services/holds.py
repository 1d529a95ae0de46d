"""Holds and requests: placing, cancelling, suspending, and the pickup shelf (G13, C1, C4).

The queue is not stored: a hold's position is its rank among the title's active holds by
``(placed_at, id)``, so positions stay 1..n without gaps whatever is cancelled or expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.catalog.model import ItemStatus
from bot.circulation import (
    CalendarError,
    CopyFacts,
    HoldState,
    Standing,
    copy_for_request,
    hold_decision,
    queue_positions,
    title_hold_decision,
)
from bot.services import accounts
from bot.services.context import Library, Moment, calendar_refusal
from bot.services.errors import Refusal
from bot.services.routing import Routed, arrive, route_copy
from db import circulation as repo


@dataclass(frozen=True, slots=True)
class HoldStatus:
    hold_id: int
    record_id: int
    title: str
    state: str
    position: int | None
    pickup: str
    ready_on: date | None
    expires_on: date | None
    suspended_until: date | None

    def as_json(self) -> dict[str, object]:
        return {
            "hold_id": self.hold_id,
            "record_id": self.record_id,
            "title": self.title,
            "state": self.state,
            "position": self.position,
            "pickup": self.pickup,
            "ready_on": self.ready_on.isoformat() if self.ready_on else None,
            "expires": self.expires_on.isoformat() if self.expires_on else None,
            "suspended_until": self.suspended_until.isoformat() if self.suspended_until else None,
        }


async def hold_status(moment: Moment, hold: repo.HoldRow) -> HoldStatus:
    queue = await repo.active_holds_on_record(moment.conn, hold.record_id)
    positions = queue_positions([entry.facts for entry in queue])
    return HoldStatus(
        hold_id=hold.hold_id,
        record_id=hold.record_id,
        title=hold.title,
        state=hold.facts.state.value,
        position=positions.get(hold.hold_id),
        pickup=hold.facts.pickup_branch,
        ready_on=hold.ready_on,
        expires_on=hold.facts.expires_on,
        suspended_until=hold.facts.suspended_until,
    )


@dataclass(frozen=True, slots=True)
class _HoldFacts:
    """What the hold decision weighs about one patron and one title, read from the store."""

    patron: repo.PatronRow
    copies: list[repo.CopyRow]
    facts: list[CopyFacts]
    standing: Standing
    active_holds: int
    already_holds_title: bool
    has_title_on_loan: bool


async def _hold_facts(moment: Moment, card: str, record_id: int) -> _HoldFacts:
    patron = await moment.patron(card)
    if not await repo.record_exists(moment.conn, record_id):
        raise Refusal("unknown_record", f"record {record_id} does not exist")
    copies = await repo.copies_of_record(moment.conn, record_id)
    mine = await repo.active_holds_of_patron(moment.conn, patron.patron_id)
    loans = await repo.open_loans(moment.conn, patron.patron_id)
    return _HoldFacts(
        patron=patron,
        copies=copies,
        facts=[
            CopyFacts(item=copy.facts, status=copy.status, location_branch=copy.location)
            for copy in copies
        ],
        standing=await accounts.standing(moment, patron, loans),
        active_holds=len(mine),
        already_holds_title=any(hold.record_id == record_id for hold in mine),
        has_title_on_loan=any(loan.record_id == record_id for loan in loans),
    )


async def place_hold(
    library: Library, *, card: str, record_id: int, pickup: str, now: datetime
) -> HoldStatus:
    """A hold on a title for pickup at any member library (C1); on a copy that is on the shelf
    where the rules allow it (C4's request), the copy is kept for the patron at once."""
    async with library.moment(now) as moment:
        known = await _hold_facts(moment, card, record_id)
        pickup_id = await moment.branch_id(pickup)
        decision = hold_decision(
            moment.policy,
            moment.calendar,
            standing=known.standing,
            copies=known.facts,
            active_holds=known.active_holds,
            already_holds_title=known.already_holds_title,
            has_title_on_loan=known.has_title_on_loan,
            pickup_branch=pickup,
            today=moment.today,
        )
        if not decision.allowed:
            raise Refusal.of(decision, "hold")
        hold_id = await repo.add_hold(
            moment.conn,
            record_id=record_id,
            patron_id=known.patron.patron_id,
            pickup_branch_id=pickup_id,
            now=now,
        )
        if decision.immediate:
            chosen = copy_for_request(
                moment.policy, known.facts, pickup_branch=pickup, today=moment.today
            )
            if chosen is not None:
                copy = next(c for c in known.copies if c.item_id == chosen.item.item_id)
                await route_copy(moment, copy, copy.location)
        hold = await repo.hold_by_id(moment.conn, hold_id)
        assert hold is not None
        return await hold_status(moment, hold)


async def reserve_refusal(
    library: Library, *, card: str, record_id: int, now: datetime
) -> Refusal | None:
    """What :func:`place_hold` would refuse whatever the pickup library (a suspended or
    excluded card, the title already on loan or on hold, the hold limit reached, a title that
    cannot be reserved), with the same reason and rule; or None.

    Asked when she presses "Reserve", before she picks a library, so that she is not walked
    through the choice to be refused at the end; nothing is placed (``place_hold`` decides
    again, as things may change in between).
    """
    async with library.moment(now) as moment:
        try:
            known = await _hold_facts(moment, card, record_id)
        except Refusal as refusal:  # a card or a title gone since: what "Confirm" would say
            return refusal
        decision = title_hold_decision(
            moment.policy,
            standing=known.standing,
            copies=known.facts,
            active_holds=known.active_holds,
            already_holds_title=known.already_holds_title,
            has_title_on_loan=known.has_title_on_loan,
            today=moment.today,
        )
    return None if decision.allowed else Refusal.of(decision, "hold")


async def _own_hold(moment: Moment, card: str, hold_id: int) -> repo.HoldRow:
    patron = await moment.patron(card)
    hold = await repo.hold_by_id(moment.conn, hold_id)
    if hold is None or hold.patron_id != patron.patron_id:
        # The same answer for someone else's hold as for none: ids reveal nothing.
        raise Refusal("unknown_hold", f"card {patron.card} has no hold {hold_id}")
    if not hold.facts.state.active:
        raise Refusal("hold_closed", f"hold {hold_id} is already {hold.facts.state.value}")
    return hold


async def cancel_hold(library: Library, *, card: str, hold_id: int, now: datetime) -> Routed | None:
    """Cancel one's own hold; a copy kept for it goes to the next in the queue, or home."""
    async with library.moment(now) as moment:
        hold = await _own_hold(moment, card, hold_id)
        await repo.set_hold_state(moment.conn, hold.hold_id, HoldState.CANCELLED, closed_at=now)
        return await _release(moment, hold)


async def _release(moment: Moment, hold: repo.HoldRow) -> Routed | None:
    """The copy a closed hold was keeping goes on: to the next hold, or home."""
    if hold.item_id is None:
        return None
    copy = await repo.copy_by_id(moment.conn, hold.item_id)
    if copy is None or copy.status is ItemStatus.IN_TRANSIT:
        return None  # still travelling: routed when it arrives
    return await route_copy(moment, copy, copy.location)


async def suspend_hold(
    library: Library, *, card: str, hold_id: int, until: date, now: datetime
) -> HoldStatus:
    """Keep one's place in the queue without being served until ``until`` (holidays)."""
    async with library.moment(now) as moment:
        hold = await _own_hold(moment, card, hold_id)
        if hold.facts.state not in (HoldState.WAITING, HoldState.SUSPENDED):
            raise Refusal(
                "hold_not_waiting",
                f"hold {hold_id} is {hold.facts.state.value}: only a waiting hold is suspended",
            )
        if until <= moment.today:
            raise Refusal("bad_date", "a suspension ends after today")
        await repo.set_hold_state(moment.conn, hold_id, HoldState.SUSPENDED, suspended_until=until)
        updated = await repo.hold_by_id(moment.conn, hold_id)
        assert updated is not None
        return await hold_status(moment, updated)


async def resume_hold(library: Library, *, card: str, hold_id: int, now: datetime) -> HoldStatus:
    async with library.moment(now) as moment:
        hold = await _own_hold(moment, card, hold_id)
        if hold.facts.state is not HoldState.SUSPENDED:
            raise Refusal("hold_not_suspended", f"hold {hold_id} is not suspended")
        await repo.set_hold_state(moment.conn, hold_id, HoldState.WAITING)
        # A copy may have come back while it was suspended.
        for copy in await repo.copies_of_record(moment.conn, hold.record_id):
            if copy.status is ItemStatus.AVAILABLE and moment.policy.holds.on_available_items:
                await route_copy(moment, copy, copy.location)
                break
        updated = await repo.hold_by_id(moment.conn, hold_id)
        assert updated is not None
        return await hold_status(moment, updated)


@dataclass(frozen=True, slots=True)
class Expiry:
    """A ready hold not collected in time, and where its copy went next."""

    hold_id: int
    patron_id: int
    record_id: int
    title: str
    next_hold_id: int | None
    next_action: str | None


async def expire_pickups(library: Library, *, now: datetime) -> list[Expiry]:
    """Release the ready holds whose last pickup day has passed (G13, C4): the copy goes to the
    next in the queue, who is then told, as is the patron who missed it (reminders)."""
    async with library.moment(now) as moment:
        return await expire_pickups_in(moment)


async def expire_pickups_in(moment: Moment) -> list[Expiry]:
    """:func:`expire_pickups` inside the caller's operation (the holds cycle's transaction)."""
    expired: list[Expiry] = []
    for hold in await repo.ready_holds_expired(moment.conn, moment.today):
        await repo.set_hold_state(
            moment.conn,
            hold.hold_id,
            HoldState.EXPIRED,
            item_id=hold.item_id,
            ready_on=hold.ready_on,
            expires_on=hold.facts.expires_on,
            closed_at=moment.now,
        )
        routed = await _release(moment, hold)
        expired.append(
            Expiry(
                hold.hold_id,
                hold.patron_id,
                hold.record_id,
                hold.title,
                routed.hold_id if routed else None,
                routed.action if routed else None,
            )
        )
    return expired


async def receive_transits(library: Library, *, now: datetime) -> list[Routed]:
    """Copies due to arrive by today are at their destination (N1): ready for their hold, or
    on the shelf. (Scanning a copy on arrival does the same for that copy at once.)"""
    async with library.moment(now) as moment:
        return await receive_transits_in(moment)


async def receive_transits_in(moment: Moment) -> list[Routed]:
    """:func:`receive_transits` inside the caller's operation (the holds cycle's transaction)."""
    try:
        arriving = await repo.copies_arriving(moment.conn, moment.today)
        return [await arrive(moment, copy) for copy in arriving]
    except CalendarError as error:
        raise calendar_refusal(error) from error
