"""Where a copy goes next, and what its hold becomes: one place for every path a copy takes.

A copy comes back (check-in), arrives after travelling, is released by a cancelled or expired
hold, or is requested from the shelf (C4): in each case the domain's
:func:`~bot.circulation.returns.route_returned_item` decides (the first hold in the queue
traps it, N1 transport, home or shelf) and this module writes the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.catalog.model import ItemStatus
from bot.circulation import CalendarError, HoldState, pickup_deadline
from bot.circulation.returns import ReturnAction, route_returned_item
from bot.reminders import pickup as pickup_notices
from bot.services.context import Moment, calendar_refusal
from bot.services.errors import Refusal
from db import circulation as repo


@dataclass(frozen=True, slots=True)
class Routed:
    """What happened to a copy: the hold it now serves, where it travels to."""

    action: str  # reshelve, return_home, hold_ready, hold_in_transit
    barcode: str
    hold_id: int | None = None
    in_transit_to: str | None = None
    arrives_on: date | None = None
    ready_on: date | None = None
    expires_on: date | None = None


async def route_copy(moment: Moment, copy: repo.CopyRow, at_branch: str) -> Routed:
    """Send a copy that is at ``at_branch`` (and free) where the rules say."""
    keeping = await repo.hold_for_copy(moment.conn, copy.item_id)
    if keeping is not None:
        # Re-routing a copy kept for a hold would leave that hold without it (or give the
        # copy to two holds): it moves on only when the hold is collected or ends.
        raise Refusal("kept_for_hold", f"copy {copy.barcode} is kept for hold {keeping.hold_id}")
    holds = await repo.active_holds_on_record(moment.conn, copy.record_id)
    try:
        routing = route_returned_item(
            moment.policy,
            moment.calendar,
            item=copy.facts,
            at_branch=at_branch,
            holds=[hold.facts for hold in holds],
            now=moment.now,
        )
    except CalendarError as error:
        raise calendar_refusal(error) from error
    destination = await repo.branch_id(moment.conn, routing.destination)
    assert destination is not None
    ready: int | None = None
    if routing.action is ReturnAction.HOLD_READY:
        assert routing.hold_id is not None
        await repo.set_hold_state(
            moment.conn,
            routing.hold_id,
            HoldState.READY,
            item_id=copy.item_id,
            ready_on=routing.ready_on,
            expires_on=routing.pickup_expires_on,
        )
        status = ItemStatus.ON_HOLD_SHELF
        ready = routing.hold_id
    elif routing.action is ReturnAction.HOLD_IN_TRANSIT:
        assert routing.hold_id is not None
        await repo.set_hold_state(
            moment.conn,
            routing.hold_id,
            HoldState.IN_TRANSIT,
            item_id=copy.item_id,
            ready_on=routing.ready_on,
            expires_on=routing.pickup_expires_on,
        )
        status = ItemStatus.IN_TRANSIT
    elif routing.action is ReturnAction.RETURN_HOME:
        status = ItemStatus.IN_TRANSIT
    else:
        status = ItemStatus.AVAILABLE
    await repo.move_copy(
        moment.conn,
        copy.item_id,
        status=status,
        location_id=destination,
        arrives_on=routing.arrives_on if status is ItemStatus.IN_TRANSIT else None,
        now=moment.now,
    )
    if ready is not None:
        # rule G13 / C4: the patron is told in the same transaction that keeps the copy.
        await pickup_notices.announce_ready(moment, [ready])
    travelling = status is ItemStatus.IN_TRANSIT
    return Routed(
        action=routing.action.value,
        barcode=copy.barcode,
        hold_id=routing.hold_id,
        in_transit_to=routing.destination if travelling else None,
        arrives_on=routing.arrives_on if travelling else None,
        ready_on=routing.ready_on,
        expires_on=routing.pickup_expires_on,
    )


async def arrive(moment: Moment, copy: repo.CopyRow) -> Routed:
    """A copy in transit reached its destination: ready for its hold, or routed afresh."""
    hold = await repo.hold_for_copy(moment.conn, copy.item_id)
    if hold is None or hold.facts.state is not HoldState.IN_TRANSIT:
        return await route_copy(moment, copy, copy.location)
    pickup = hold.facts.pickup_branch
    try:
        ready_on = moment.calendar.next_opening_day(pickup, moment.today)
        expires_on = pickup_deadline(
            moment.policy, moment.calendar, pickup_branch=pickup, ready_on=ready_on
        )
    except CalendarError as error:
        raise calendar_refusal(error) from error
    await repo.set_hold_state(
        moment.conn,
        hold.hold_id,
        HoldState.READY,
        item_id=copy.item_id,
        ready_on=ready_on,
        expires_on=expires_on,
    )
    location = await repo.branch_id(moment.conn, pickup)
    assert location is not None
    await repo.move_copy(
        moment.conn,
        copy.item_id,
        status=ItemStatus.ON_HOLD_SHELF,
        location_id=location,
        arrives_on=None,
        now=moment.now,
    )
    await pickup_notices.announce_ready(moment, [hold.hold_id])  # rule G13 / C4
    return Routed(
        action="hold_ready",
        barcode=copy.barcode,
        hold_id=hold.hold_id,
        ready_on=ready_on,
        expires_on=expires_on,
    )
