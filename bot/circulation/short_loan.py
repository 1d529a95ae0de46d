"""The short loan (prestito breve): normally excluded material for a night or a weekend (G4).

Three windows, read from the regulation in the library's local time:

- weekend: from Saturday 12:30 to Monday 09:00;
- the weekday before a holiday: from 13:00 to 09:00 of the day after the holiday (after the
  last one, when holidays follow each other; a town's patron saint day is a holiday there);
- evening: from 18:30 to 09:00 the next day.

A checkout earlier in the day than every window that applies is refused; when several apply
(a Saturday evening) the longest wins. The end moves to the lending branch's next opening day
when it falls on a closed one (G11's reading: a return cannot be due when nobody is there),
keeping the hour.

The sanctions: a short loan not returned by its end excludes the patron from all services
until it comes back; more than 7 days late also excludes from the short loan, until staff
lift it (see :mod:`bot.circulation.standing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from bot.circulation.checkout import limit_refusal
from bot.circulation.dates import days_late
from bot.circulation.facts import ItemFacts, LoanFacts, PatronFacts
from bot.circulation.library_calendar import LibraryCalendar
from bot.circulation.loanability import loanability
from bot.circulation.policy import Policy, ShortLoanRules
from bot.circulation.reasons import Decision, Reason
from bot.circulation.standing import (
    Lift,
    Restriction,
    RestrictionKind,
    Standing,
)

SATURDAY = 5


class ShortLoanWindowKind(StrEnum):
    WEEKEND = "weekend"
    BEFORE_HOLIDAY = "before_holiday"
    EVENING = "evening"


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortLoanWindow:
    """The window a short loan made now falls in, and when it ends (aware, UTC)."""

    kind: ShortLoanWindowKind
    due_at: datetime
    due_on: date  # the end's local date (``loans.due_on``)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortLoanDecision(Decision):
    window: ShortLoanWindow | None = None


def short_loan_window(
    rules: ShortLoanRules, calendar: LibraryCalendar, *, branch: str, now: datetime
) -> ShortLoanWindow | None:
    """The window a short loan started at ``now`` at ``branch`` belongs to, if any."""
    local = calendar.local(now)
    day, clock = local.date(), local.time().replace(tzinfo=None)
    ends: list[tuple[ShortLoanWindowKind, date]] = []
    # rule G4: weekend, Saturday 12:30 -> Monday 09:00.
    if day.weekday() == SATURDAY and clock >= rules.saturday_from:
        ends.append((ShortLoanWindowKind.WEEKEND, day + timedelta(days=2)))
    # rule G4: weekday before a holiday, 13:00 -> 09:00 of the day after the holiday.
    if day.weekday() < SATURDAY and clock >= rules.before_holiday_from:
        after = day + timedelta(days=1)
        if calendar.is_holiday(branch, after):
            while calendar.is_holiday(branch, after):
                after += timedelta(days=1)
            ends.append((ShortLoanWindowKind.BEFORE_HOLIDAY, after))
    # rule G4: evening, 18:30 -> 09:00 the next day.
    if clock >= rules.evening_from:
        ends.append((ShortLoanWindowKind.EVENING, day + timedelta(days=1)))
    if not ends:
        return None
    kind, end_day = max(ends, key=lambda pair: pair[1])
    end_day = calendar.next_opening_day(branch, end_day)
    due_at = calendar.instant(end_day, rules.ends_at).astimezone(UTC)
    return ShortLoanWindow(kind=kind, due_at=due_at, due_on=end_day)


def short_loan_decision(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    patron: PatronFacts,
    item: ItemFacts,
    standing: Standing,
    open_loans: Sequence[LoanFacts],
    branch: str,
    now: datetime,
) -> ShortLoanDecision:
    """May ``patron`` take ``item`` on short loan at ``now``, and until when?

    Only material excluded from ordinary loan qualifies (G4: "normally excluded"): a copy that
    can be lent ordinarily is refused as ``short_loan_not_eligible``, so that it is lent for its
    full period instead. "In good standing with ordinary loan" is read as: not suspended or
    excluded, and no ordinary loan past its due date.
    """
    rules = policy.short_loan

    def refuse(reason: Reason, rule: str | None, detail: str | None = None) -> ShortLoanDecision:
        return ShortLoanDecision(allowed=False, reason=reason, rule=rule, detail=detail)

    if rules is None:
        return refuse(Reason.NOT_OFFERED, None)
    today = calendar.local_date(now)
    refusal = standing.refusal
    if refusal is not None:
        return refuse(*refusal)
    # rule G4: more than 7 days late once -> excluded from this service.
    if standing.short_loan_barred:
        return refuse(Reason.SHORT_LOAN_EXCLUDED, rules.rule)
    # rule G4: registered for at least 30 days ...
    if (today - patron.registered_on).days < rules.min_registration_days:
        return refuse(Reason.REGISTERED_TOO_RECENTLY, rules.rule, str(rules.min_registration_days))
    # ... and in good standing with ordinary loan.
    if any(not loan.short_loan and days_late(loan.due_on, today) > 0 for loan in open_loans):
        return refuse(Reason.OVERDUE_LOANS, rules.rule)
    if item.material_type in policy.loans.digital_only:
        return refuse(Reason.DIGITAL_ONLY, policy.loans.digital_rule)
    if loanability(item, policy, today).allowed:
        return refuse(Reason.SHORT_LOAN_NOT_ELIGIBLE, rules.rule)
    # rule G4: at most 3 items ...
    if sum(1 for loan in open_loans if loan.short_loan) >= rules.max_items:
        return refuse(Reason.SHORT_LOAN_LIMIT, rules.rule, str(rules.max_items))
    # ... and, being loans, within the ordinary limits (G8).
    limited = limit_refusal(policy, patron.category, item, open_loans)
    if limited is not None:
        return refuse(limited.reason or Reason.LOAN_LIMIT, limited.rule, limited.detail)
    window = short_loan_window(rules, calendar, branch=branch, now=now)
    if window is None:
        return refuse(Reason.OUTSIDE_SHORT_LOAN_WINDOW, rules.rule)
    return ShortLoanDecision(allowed=True, rule=rules.rule, detail=window.kind.value, window=window)


def short_loan_return_restrictions(
    policy: Policy, loan: LoanFacts, *, returned_at: datetime
) -> tuple[Restriction, ...]:
    """The sticky restriction a short loan returned at ``returned_at`` leaves behind (G4).

    Returned more than 7 days late: excluded from the short loan until staff lift it. (The
    exclusion from all services lasted while it was out; it ends with the return.)
    """
    rules = policy.short_loan
    if rules is None or not loan.short_loan:
        return ()
    end = loan.due_at or datetime.combine(loan.due_on, time.max, tzinfo=UTC)
    if returned_at - end > timedelta(days=rules.short_loan_exclusion_after_days_late):
        return (
            Restriction(
                kind=RestrictionKind.SHORT_LOAN_EXCLUSION,
                rule=rules.rule,
                reason=Reason.SHORT_LOAN_LATE,
                lifted_by=Lift.STAFF,
            ),
        )
    return ()
