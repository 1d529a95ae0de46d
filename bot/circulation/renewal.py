"""Renewal: may this loan be extended now, and to when? (G14, C5, G18.)

The two regulations differ in three ways, all read from the policy: the window (Ginestra: any
time up to the due date; the consortium: from 3 days before to 6 days after), the base
(Ginestra counts from the day of the request, the consortium from the current due date) and the
extension (one calendar month or 7 days; 30 or 7 days). Both refuse when another patron holds
the title, and both allow two renewals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.circulation.checkout import settle_due_date
from bot.circulation.dates import add_months
from bot.circulation.facts import LoanFacts
from bot.circulation.library_calendar import LibraryCalendar
from bot.circulation.policy import Extension, Policy, RenewalBase
from bot.circulation.reasons import Decision, Reason
from bot.circulation.standing import Standing


@dataclass(frozen=True, slots=True, kw_only=True)
class RenewalDecision(Decision):
    """On approval: the new due date, the count after this renewal and how many remain."""

    old_due_on: date
    new_due_on: date | None = None
    renewals: int | None = None
    renewals_left: int | None = None
    moved_from: date | None = None  # the new date before G11 moved it off a closed day


def renewal_decision(
    loan: LoanFacts,
    policy: Policy,
    calendar: LibraryCalendar,
    now: datetime,
    *,
    held_by_others: bool,
    standing: Standing | None = None,
) -> RenewalDecision:
    """May ``loan`` be renewed at the instant ``now``?

    ``held_by_others`` is whether any other patron has an active hold (waiting, suspended, in
    transit or ready) on the loan's title (C5's Decision: "on hold" means any active hold by
    another patron). ``standing`` is the borrower's; a suspended or excluded patron may not
    renew. Checks run in the order a patron can act on: standing, whether the loan can be
    renewed at all, the count, the window, then the queue.
    """
    rules = policy.renewals
    today = calendar.local_date(now)

    def refuse(reason: Reason, rule: str | None, detail: str | None = None) -> RenewalDecision:
        return RenewalDecision(
            allowed=False, reason=reason, rule=rule, detail=detail, old_due_on=loan.due_on
        )

    if standing is not None and standing.refusal is not None:
        return refuse(*standing.refusal)
    # rule G4: a short loan lasts a night or a weekend and is not renewed.
    if loan.short_loan:
        rule = policy.short_loan.rule if policy.short_loan is not None else rules.rule
        return refuse(Reason.NOT_RENEWABLE, rule, "short_loan")
    extension = rules.extension.get(loan.material_type)
    if extension is None:
        return refuse(Reason.NOT_RENEWABLE, rules.rule, loan.material_type.value)
    # rule G14 / C5: at most 2 renewals.
    if loan.renewals >= rules.max_renewals:
        return refuse(Reason.RENEWAL_LIMIT, rules.rule, str(rules.max_renewals))
    # rule C5: from the 3rd day before the due date ...
    if rules.earliest_days_before_due is not None:
        opens = loan.due_on - timedelta(days=rules.earliest_days_before_due)
        if today < opens:
            return refuse(Reason.TOO_EARLY, rules.rule, opens.isoformat())
    # ... up to the 6th day late (C5); on or before the due date (G14).
    closes = loan.due_on + timedelta(days=rules.latest_days_after_due)
    if today > closes:
        return refuse(Reason.TOO_LATE, rules.rule, closes.isoformat())
    # rule G14 / C5: refused if another patron holds the title.
    if rules.refuse_if_held and held_by_others:
        return refuse(Reason.ON_HOLD, rules.rule)

    # rule G14: from the day of the request; rule C5: from the current due date.
    base = today if rules.base is RenewalBase.REQUEST_DATE else loan.due_on
    extended = extend(base, extension)
    due = settle_due_date(
        policy,
        calendar,
        branch=loan.branch,
        due_on=extended,
        rule=rules.rule,
        loan_days=(extended - base).days,
    )
    if due.due_on <= loan.due_on:
        # A renewal asked so early that it would not move the due date forward (a book lent on
        # 1 February, due 3 March, renewed the same day to 1 March) is no renewal at all.
        return refuse(Reason.TOO_EARLY, rules.rule, "would_not_extend")
    done = loan.renewals + 1
    return RenewalDecision(
        allowed=True,
        rule=rules.rule,
        old_due_on=loan.due_on,
        new_due_on=due.due_on,
        renewals=done,
        renewals_left=rules.max_renewals - done,
        moved_from=due.moved_from,
    )


def extend(base: date, extension: Extension) -> date:
    """``base`` plus the extension: calendar months first (G14's Decision), then days."""
    return add_months(base, extension.months) + timedelta(days=extension.days)


def ill_renewal_request_decision(policy: Policy, *, due_on: date, today: date) -> Decision:
    """May a patron ask to renew an interlibrary loan today? (G18.)

    The lending library decides; the desk only forwards requests made at least 5 days before
    the due date, so that the answer can come back in time. Allowed means "forward it".
    """
    ill = policy.interlibrary
    if ill is None:
        return Decision(allowed=False, reason=Reason.NOT_OFFERED, rule=None)
    # rule G18: ask at least 5 days before the due date.
    last_day = due_on - timedelta(days=ill.renewal_notice_days)
    if today > last_day:
        return Decision(
            allowed=False, reason=Reason.TOO_LATE, rule=ill.rule, detail=last_day.isoformat()
        )
    return Decision(allowed=True, rule=ill.rule, detail="lender_decides")
