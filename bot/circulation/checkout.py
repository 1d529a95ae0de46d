"""Checkout: may this patron take this copy now, and until when? (G1, G7-G11, C2, N4.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.circulation.facts import ItemFacts, ItemStatus, LoanFacts, PatronCategory, PatronFacts
from bot.circulation.library_calendar import LibraryCalendar
from bot.circulation.loanability import loanability
from bot.circulation.policy import Policy
from bot.circulation.reasons import Decision, Reason
from bot.circulation.standing import Standing


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDate:
    """A loan's due date and how it was reached, for the receipt and for disputes."""

    due_on: date
    loan_days: int
    rule: str  # the rule that set the period (G9, G10, C2)
    moved_from: date | None = None  # the date before a closed day moved it
    moved_rule: str | None = None  # G11, when it moved


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutDecision(Decision):
    """``due`` is set exactly when the checkout is allowed."""

    due: DueDate | None = None


def due_date(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    category: PatronCategory,
    item: ItemFacts,
    branch: str,
    today: date,
) -> DueDate | None:
    """The due date of a loan of ``item`` made at ``branch`` on ``today``.

    The period is the copy's own override, else its section's, else the category's period for
    the material type (G10 before G9/C2), in calendar days from today. A due date on a day the
    lending branch is closed moves to its next opening day (G11), because that is the branch the
    patron knows and the one whose calendar the regulation means. None when the policy gives
    the type no period.
    """
    rules = policy.loans
    section = policy.section(item.section)
    # rule G10: special initiatives (per copy, per section) set other periods.
    if item.loan_days_override is not None:
        days, rule = item.loan_days_override, rules.override_rule
    elif section is not None and section.loan_days is not None:
        days, rule = section.loan_days, rules.override_rule
    else:
        # rule G9 / C2: the period per material type (and patron category, G5).
        period = rules.days.get(category).for_type(item.material_type)
        if period is None:
            return None
        days, rule = period, rules.rule
    return settle_due_date(
        policy, calendar, branch=branch, due_on=today + timedelta(days), rule=rule, loan_days=days
    )


def settle_due_date(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    branch: str,
    due_on: date,
    rule: str,
    loan_days: int,
) -> DueDate:
    """Move a computed due date off a closed day of the lending branch (G11)."""
    rules = policy.loans
    # rule G11: a due date on a holiday or closure moves to the next opening day.
    if rules.move_due_to_opening_day:
        settled = calendar.next_opening_day(branch, due_on)
        if settled != due_on:
            return DueDate(
                due_on=settled,
                loan_days=loan_days,
                rule=rule,
                moved_from=due_on,
                moved_rule=rules.closed_day_rule,
            )
    return DueDate(due_on=due_on, loan_days=loan_days, rule=rule)


def checkout_decision(
    policy: Policy,
    calendar: LibraryCalendar,
    *,
    patron: PatronFacts,
    item: ItemFacts,
    item_status: ItemStatus,
    open_loans: Sequence[LoanFacts],
    standing: Standing,
    branch: str,
    now: datetime,
    held_for_another: bool = False,
) -> CheckoutDecision:
    """May ``patron`` borrow ``item`` at ``branch`` at ``now``, and until when?

    ``open_loans`` are the patron's open loans across the whole network (C2 counts "in the whole
    system"); ``held_for_another`` says the copy is trapped for someone else's hold. Checks run
    from the patron to the copy to the counts, so the reason is the one staff can act on first.
    Registration is the only condition on the patron (G1): no residence, no fee.
    """
    rules = policy.loans
    today = calendar.local_date(now)

    def refuse(reason: Reason, rule: str | None, detail: str | None = None) -> CheckoutDecision:
        return CheckoutDecision(allowed=False, reason=reason, rule=rule, detail=detail)

    refusal = standing.refusal
    if refusal is not None:
        return refuse(*refusal)
    # rule N4: e-books are lent by the digital library, not at the desk.
    if item.material_type in rules.digital_only:
        return refuse(Reason.DIGITAL_ONLY, rules.digital_rule)
    # rule G2 / G3
    loanable = loanability(item, policy, today)
    if not loanable.allowed:
        return refuse(Reason.NOT_LOANABLE, loanable.rule, loanable.detail)
    # rule G7: a loan is personal; a copy on loan goes back to the desk before anyone else
    # takes it, and a copy waiting on the hold shelf is for the patron who held it.
    if held_for_another:
        return refuse(Reason.ON_HOLD, policy.holds.rule)
    if item_status not in (ItemStatus.AVAILABLE, ItemStatus.ON_HOLD_SHELF):
        return refuse(Reason.NOT_AVAILABLE, None, item_status.value)
    limited = limit_refusal(policy, patron.category, item, open_loans)
    if limited is not None:
        return limited
    due = due_date(
        policy, calendar, category=patron.category, item=item, branch=branch, today=today
    )
    if due is None:
        return refuse(Reason.NOT_LOANABLE, policy.loanability.rule, "material_type")
    return CheckoutDecision(allowed=True, rule=due.rule, due=due)


def limit_refusal(
    policy: Policy,
    category: PatronCategory,
    item: ItemFacts,
    open_loans: Sequence[LoanFacts],
) -> CheckoutDecision | None:
    """The refusal one more loan of ``item`` would meet against the limits, if any (G8, C2).

    Every open loan counts, short loans included: a copy out of the building is out.
    """
    rules = policy.loans
    limits = rules.limits.get(category)
    # rule G8 / C2: the overall limit ...
    if len(open_loans) >= limits.total:
        return CheckoutDecision(
            allowed=False,
            reason=Reason.LOAN_LIMIT,
            rule=rules.limits_rule,
            detail=str(limits.total),
        )
    # ... and the limit per material type.
    per_type = limits.for_type(item.material_type)
    by_type = Counter(loan.material_type for loan in open_loans)
    if per_type is not None and by_type[item.material_type] >= per_type:
        return CheckoutDecision(
            allowed=False,
            reason=Reason.TYPE_LIMIT,
            rule=rules.limits_rule,
            detail=item.material_type.value,
        )
    # rule C2: special sections may have other limits.
    section = policy.section(item.section)
    if section is not None and section.limit is not None and item.section is not None:
        code = item.section.strip().casefold()
        same = sum(
            1 for loan in open_loans if loan.section and loan.section.strip().casefold() == code
        )
        if same >= section.limit:
            return CheckoutDecision(
                allowed=False,
                reason=Reason.SECTION_LIMIT,
                rule=rules.override_rule,
                detail=item.section,
            )
    return None
