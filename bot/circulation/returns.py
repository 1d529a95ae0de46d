"""Where a returned copy goes: to a waiting hold, home, or back on the shelf (C3, N1, G13, C4).

A copy can come back at any member library (C3). If a hold is waiting for its title it is
trapped for the first one in the queue: ready at once when it came back at that hold's pickup
library, otherwise it travels there and is ready on the next transport day (N1). With no hold,
a copy returned away from its home library travels home; at home it goes back on the shelf.

The same routing serves a C4 "request" for a copy on the shelf: pass the copy's location as
``at_branch`` and the new hold as ``holds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.circulation.facts import HoldFacts, ItemFacts
from bot.circulation.holds import next_hold_to_fill, pickup_deadline
from bot.circulation.library_calendar import LibraryCalendar
from bot.circulation.loanability import loanability
from bot.circulation.policy import Policy

TRANSPORT_RULE = "N1"


class ReturnAction(StrEnum):
    RESHELVE = "reshelve"  # at home, nobody waiting: ``available``
    RETURN_HOME = "return_home"  # away from home, nobody waiting: ``in_transit`` home
    HOLD_READY = "hold_ready"  # trapped at the pickup library: hold ``ready``
    HOLD_IN_TRANSIT = "hold_in_transit"  # trapped, travelling to the pickup library


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnRouting:
    """What to do with a returned copy.

    ``destination`` is where the copy will be (its ``location_branch_id``); ``arrives_on`` is
    its ``transit_arrives_on`` when it travels; ``ready_on`` and ``pickup_expires_on`` are the
    hold's, computed from the arrival for a copy in transit (to be confirmed on arrival).
    """

    action: ReturnAction
    destination: str
    rule: str | None
    hold_id: int | None = None
    arrives_on: date | None = None
    ready_on: date | None = None
    pickup_expires_on: date | None = None


def route_returned_item(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    item: ItemFacts,
    at_branch: str,
    holds: Sequence[HoldFacts],
    now: datetime,
) -> ReturnRouting:
    """Route a copy returned (or picked from the shelf) at ``at_branch`` at ``now``.

    ``holds`` are the holds on the copy's title (any state; only fillable ones count). A copy
    that may no longer be lent (G3: found in poor condition, say) fills no hold.
    """
    today = calendar.local_date(now)
    calendar.schedule(at_branch)
    hold = next_hold_to_fill(holds, today) if loanability(item, policy, today).allowed else None
    if hold is not None:
        pickup = hold.pickup_branch
        if pickup == at_branch:
            # rule G13 / C4: trapped where the patron collects it: ready now (or when the
            # library next opens).
            ready_on = calendar.next_opening_day(pickup, today)
            return ReturnRouting(
                action=ReturnAction.HOLD_READY,
                destination=pickup,
                rule=policy.holds.rule,
                hold_id=hold.hold_id,
                ready_on=ready_on,
                pickup_expires_on=pickup_deadline(
                    policy, calendar, pickup_branch=pickup, ready_on=ready_on
                ),
            )
        # rule N1: in transit, ready on the next transport day.
        arrives_on = calendar.transit_arrival(today)
        ready_on = calendar.next_opening_day(pickup, arrives_on)
        return ReturnRouting(
            action=ReturnAction.HOLD_IN_TRANSIT,
            destination=pickup,
            rule=TRANSPORT_RULE,
            hold_id=hold.hold_id,
            arrives_on=arrives_on,
            ready_on=ready_on,
            pickup_expires_on=pickup_deadline(
                policy, calendar, pickup_branch=pickup, ready_on=ready_on
            ),
        )
    if at_branch == item.home_branch:
        return ReturnRouting(action=ReturnAction.RESHELVE, destination=at_branch, rule=None)
    # rule C3 / N1: returned elsewhere, the copy travels home.
    return ReturnRouting(
        action=ReturnAction.RETURN_HOME,
        destination=item.home_branch,
        rule=TRANSPORT_RULE,
        arrives_on=calendar.transit_arrival(today),
    )
