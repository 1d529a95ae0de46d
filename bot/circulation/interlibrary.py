"""Interlibrary loan (G18), document delivery (G19) and paying for what was ordered (G20).

The product does not talk to other libraries: staff do. These decisions say whether a request
may be taken, who pays, and by when it should arrive, so the desk and the bot give the same
answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.circulation.library_calendar import LibraryCalendar
from bot.circulation.policy import IllScope, Policy
from bot.circulation.reasons import Decision, Reason
from bot.circulation.standing import Standing


@dataclass(frozen=True, slots=True, kw_only=True)
class IllDecision(Decision):
    """``needs_consent``: the patron pays, so the request waits for consent (G20)."""

    patron_pays: bool = False
    needs_consent: bool = False
    deliver_by: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentDeliveryDecision(Decision):
    patron_pays: bool = False
    needs_consent: bool = False


def ill_delivery_target(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    scope: IllScope,
    branch: str,
    requested_on: date,
) -> date | None:
    """By when the item should be at ``branch`` (G18: provincial 5, regional 7 working days).

    Working days are the requesting branch's opening days (the reading RULES.md gives for G13).
    None for national and international loans, whose time depends on the lender and the post.
    """
    ill = policy.interlibrary
    scope_rules = None if ill is None else ill.scopes.get(scope)
    if scope_rules is None or scope_rules.delivery_working_days is None:
        return None
    return calendar.add_opening_days(branch, requested_on, scope_rules.delivery_working_days)


def ill_request_decision(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    standing: Standing,
    scope: IllScope,
    open_requests: Mapping[IllScope, int],
    branch: str,
    today: date,
    held_locally: bool = False,
) -> IllDecision:
    """May the patron ask for an interlibrary loan of ``scope`` today?

    ``open_requests`` counts the patron's requests not yet closed (requested, awaiting consent,
    ordered, arrived) per scope. ``held_locally``: the library owns the work, so G18 (for works
    "not owned by the library") does not apply.
    """
    ill = policy.interlibrary
    if ill is None or scope not in ill.scopes:
        return IllDecision(allowed=False, reason=Reason.NOT_OFFERED, rule=None, detail=scope.value)
    refusal = standing.refusal
    if refusal is not None:
        return IllDecision(allowed=False, reason=refusal[0], rule=refusal[1])
    if held_locally and ill.refuse_if_held_locally:
        return IllDecision(allowed=False, reason=Reason.HELD_LOCALLY, rule=ill.rule)
    # rule G18: 3 open provincial requests + 3 regional/national/international.
    for name, quota in sorted(ill.quotas.items()):
        if scope in quota.scopes:
            used = sum(open_requests.get(s, 0) for s in quota.scopes)
            if used >= quota.max_open:
                return IllDecision(
                    allowed=False, reason=Reason.ILL_LIMIT, rule=ill.rule, detail=name
                )
    # rule G18: provincial and regional free; national and international at the patron's cost.
    pays = ill.scopes[scope].patron_pays
    return IllDecision(
        allowed=True,
        rule=ill.rule,
        patron_pays=pays,
        needs_consent=pays,
        deliver_by=ill_delivery_target(
            policy, calendar, scope=scope, branch=branch, requested_on=today
        ),
    )


def document_delivery_decision(
    policy: Policy,
    *,
    standing: Standing,
    pages: int,
    total_pages: int,
    previous_requests_on: Sequence[date],
    today: date,
) -> DocumentDeliveryDecision:
    """May the patron ask for a copy of ``pages`` of a ``total_pages`` book or issue? (G19.)

    "3 requests a week" counts the calendar week (Monday to Sunday) of ``today``, in which
    ``previous_requests_on`` (the patron's earlier requests) fall.
    """
    rules = policy.document_delivery
    if rules is None:
        return DocumentDeliveryDecision(allowed=False, reason=Reason.NOT_OFFERED, rule=None)
    refusal = standing.refusal
    if refusal is not None:
        return DocumentDeliveryDecision(allowed=False, reason=refusal[0], rule=refusal[1])
    if pages <= 0 or total_pages <= 0:
        raise ValueError("pages and total_pages must be positive")
    # rule G19: at most 15 % of a book or an issue (integers: no rounding at the edge).
    if pages * 100 > total_pages * rules.max_share_percent:
        return DocumentDeliveryDecision(
            allowed=False,
            reason=Reason.COPY_SHARE_EXCEEDED,
            rule=rules.rule,
            detail=str(rules.max_share_percent),
        )
    # rule G19: at most 3 requests a week.
    week = today.isocalendar()[:2]
    this_week = sum(1 for day in previous_requests_on if day.isocalendar()[:2] == week)
    if this_week >= rules.max_requests_per_week:
        return DocumentDeliveryDecision(
            allowed=False,
            reason=Reason.DOCUMENT_DELIVERY_LIMIT,
            rule=rules.rule,
            detail=str(rules.max_requests_per_week),
        )
    # rule G19: paid.
    return DocumentDeliveryDecision(
        allowed=True,
        rule=rules.rule,
        patron_pays=rules.patron_pays,
        needs_consent=rules.patron_pays,
    )


def withdrawal_charge(
    policy: Policy, *, cost_cents: int, consented: bool
) -> tuple[int, str | None]:
    """What a patron still owes on withdrawing a paid request: ``(cents, rule)`` (G20).

    Once the patron has agreed to the cost and the service was ordered, it is owed even if the
    patron no longer wants it; before consent nothing was ordered, so nothing is owed. Until
    it is paid the patron is excluded (see :mod:`bot.circulation.standing`).
    """
    rule = policy.standing.unpaid_services_rule
    if rule is None or not consented:
        return 0, rule
    # rule G20: a paid service ordered is paid even if no longer wanted.
    return cost_cents, rule
