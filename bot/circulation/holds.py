"""Holds: who may hold what, the queue, and how long a ready hold waits (G13, C1, C4).

Ginestra holds only items already on loan (G13); the consortium takes both "requests" for
available items and holds on items on loan (C4), from any member library to any pickup library
(C1). The queue is first come, first served: ``(placed_at, hold_id)``, the store's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.circulation.facts import CopyFacts, HoldFacts, HoldState, ItemStatus
from bot.circulation.library_calendar import LibraryCalendar
from bot.circulation.loanability import loanability
from bot.circulation.policy import PickupDayKind, Policy
from bot.circulation.reasons import Decision, Reason
from bot.circulation.standing import Standing

# Copies that will never come back to the shelf cannot fill a hold.
_GONE = frozenset({ItemStatus.LOST, ItemStatus.DAMAGED, ItemStatus.WITHDRAWN})


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldDecision(Decision):
    """``immediate``: a copy is on a shelf now (a C4 "request"), so trap one at once."""

    immediate: bool = False


def holdable_copies(policy: Policy, copies: Sequence[CopyFacts], today: date) -> list[CopyFacts]:
    """The copies that could ever fill a hold: loanable (G3) and not lost or withdrawn."""
    return [
        copy
        for copy in copies
        if copy.status not in _GONE and loanability(copy.item, policy, today).allowed
    ]


def hold_decision(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    standing: Standing,
    copies: Sequence[CopyFacts],
    active_holds: int,
    already_holds_title: bool,
    has_title_on_loan: bool,
    pickup_branch: str,
    today: date,
) -> HoldDecision:
    """May the patron hold the title whose ``copies`` are given, for pickup at ``pickup_branch``?

    ``active_holds`` counts the patron's active holds and requests (C4 counts both);
    ``already_holds_title`` and ``has_title_on_loan`` stop a second hold on the same title and
    a hold on a title the patron has in hand.
    """
    # The standing first (title_hold_decision tells it), then rule C1: pickup at any member
    # library, and only there; then the checks no pickup library changes.
    if standing.refusal is None and not calendar.has_branch(pickup_branch):
        return _refuse(Reason.UNKNOWN_BRANCH, policy.holds.rule, pickup_branch)
    return title_hold_decision(
        policy,
        standing=standing,
        copies=copies,
        active_holds=active_holds,
        already_holds_title=already_holds_title,
        has_title_on_loan=has_title_on_loan,
        today=today,
    )


def title_hold_decision(
    policy: Policy,
    *,
    standing: Standing,
    copies: Sequence[CopyFacts],
    active_holds: int,
    already_holds_title: bool,
    has_title_on_loan: bool,
    today: date,
) -> HoldDecision:
    """:func:`hold_decision` without the pickup library: every check that does not depend on
    where she collects, in the same order, with the same reasons and rules.

    Asked before she chooses a library, so that a refusal that no library would change is
    told at once; ``hold_decision`` still decides when the hold is placed.
    """
    refusal = standing.refusal
    if refusal is not None:
        return _refuse(*refusal)
    rules = policy.holds
    if already_holds_title:
        return _refuse(Reason.ALREADY_HELD, rules.rule)
    if has_title_on_loan:
        return _refuse(Reason.ALREADY_ON_LOAN, rules.rule)
    # rule G13 / C4: at most 5 holds (Ginestra), 20 titles (the consortium).
    if active_holds >= rules.max_active:
        return _refuse(Reason.HOLD_LIMIT, rules.rule, str(rules.max_active))
    candidates = holdable_copies(policy, copies, today)
    if not candidates:
        return _refuse(Reason.NOT_HOLDABLE, policy.loanability.rule)
    on_shelf = any(copy.status is ItemStatus.AVAILABLE for copy in candidates)
    # rule G13: holds only on items already on loan; rule C4: also available items.
    if on_shelf and not rules.on_available_items:
        return _refuse(Reason.ITEM_AVAILABLE, rules.rule)
    return HoldDecision(allowed=True, rule=rules.rule, immediate=on_shelf)


def _refuse(reason: Reason, rule: str | None, detail: str | None = None) -> HoldDecision:
    return HoldDecision(allowed=False, reason=reason, rule=rule, detail=detail)


def copy_for_request(
    policy: Policy, copies: Sequence[CopyFacts], *, pickup_branch: str, today: date
) -> CopyFacts | None:
    """The shelf copy to trap for a C4 request: one at the pickup branch if any, else the
    first other one (which then travels, N1)."""
    shelf = [
        copy
        for copy in holdable_copies(policy, copies, today)
        if copy.status is ItemStatus.AVAILABLE
    ]
    here = [copy for copy in shelf if copy.location_branch == pickup_branch]
    choices = here or shelf
    return choices[0] if choices else None


def pickup_deadline(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    pickup_branch: str,
    ready_on: date,
    notified_on: date | None = None,
) -> date:
    """The last day a ready hold waits for its patron (G13, C4).

    The count starts when the item is at the pickup library *and* the patron has been told
    (C4), so the later of ``ready_on`` and ``notified_on``. Ginestra keeps it 3 opening days
    after that day (its Decision: working days are opening days); the consortium 7 calendar
    days. A last day that falls when the library is closed moves to its next opening day,
    because a patron cannot collect from a closed library.
    """
    rules = policy.holds
    start = max(ready_on, notified_on or ready_on)
    if rules.pickup_day_kind is PickupDayKind.OPENING:
        # rule G13: 3 working (opening) days.
        return calendar.add_opening_days(pickup_branch, start, rules.pickup_days)
    # rule C4: 7 days from when it is available and the patron has been told.
    return calendar.next_opening_day(pickup_branch, start + timedelta(days=rules.pickup_days))


def pickup_expired(expires_on: date, today: date) -> bool:
    """A ready hold is released to the next patron the day after its last pickup day."""
    return today > expires_on


def notice_deadline(policy: Policy, ready_at: datetime) -> datetime | None:
    """By when the patron must be told the item is ready (G13: within 24 hours)."""
    hours = policy.holds.notify_within_hours
    return None if hours is None else ready_at + timedelta(hours=hours)


def queue(holds: Sequence[HoldFacts]) -> list[HoldFacts]:
    """The active holds on one title, first come first served."""
    return sorted((h for h in holds if h.state.active), key=lambda h: (h.placed_at, h.hold_id))


def queue_positions(holds: Sequence[HoldFacts]) -> dict[int, int]:
    """hold_id → position 1..n among the active holds, with no gaps."""
    return {hold.hold_id: position for position, hold in enumerate(queue(holds), start=1)}


def can_be_filled(hold: HoldFacts, today: date) -> bool:
    """Can a copy be trapped for this hold today? Waiting, or a suspension that has ended."""
    if hold.state is HoldState.WAITING:
        return hold.suspended_until is None or hold.suspended_until < today
    if hold.state is HoldState.SUSPENDED:
        return hold.suspended_until is not None and hold.suspended_until < today
    return False


def next_hold_to_fill(holds: Sequence[HoldFacts], today: date) -> HoldFacts | None:
    """The first hold in the queue that a returned copy of the title should fill."""
    return next((hold for hold in queue(holds) if can_be_filled(hold, today)), None)


def title_held_by_others(holds: Sequence[HoldFacts], patron_id: int) -> bool:
    """Does anyone but ``patron_id`` hold the title? (The renewal's ``held_by_others``.)"""
    return any(hold.state.active and hold.patron_id != patron_id for hold in holds)
