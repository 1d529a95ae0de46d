"""May this copy be lent at all? (G2, G3.)

Separate from the checkout decision because holds (G13: only loanable copies can be held),
returns (a copy that may not be lent fills no hold) and the short loan (G4: only for copies
that may *not* be lent ordinarily) ask the same question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.circulation.dates import add_months
from bot.circulation.facts import ItemFacts
from bot.circulation.policy import Policy
from bot.circulation.reasons import Decision, Reason


class NotLoanableBecause(StrEnum):
    """The ``detail`` of a ``not_loanable`` refusal: which clause of G3 applies."""

    NOT_FOR_LOAN_FLAG = "not_for_loan_flag"
    SECTION = "section"
    CONDITION = "condition"
    MATERIAL_TYPE = "material_type"
    RECENT_RELEASE = "recent_release"


@dataclass(frozen=True, slots=True, kw_only=True)
class Loanability(Decision):
    """``allowed`` when the copy may be lent ordinarily; ``loanable_from`` when it will be."""

    loanable_from: date | None = None


def loanability(item: ItemFacts, policy: Policy, today: date) -> Loanability:
    """Whether ``item`` may be lent on ``today`` under ``policy``.

    ``loanable_from`` tells a patron when a recent DVD becomes loanable (G3's 18 months are a
    copyright rule, so the answer changes with time and not with anyone's decision).
    """
    rules = policy.loanability

    def refuse(because: NotLoanableBecause, until: date | None = None) -> Loanability:
        return Loanability(
            allowed=False,
            reason=Reason.NOT_LOANABLE,
            rule=rules.rule,
            detail=because.value,
            loanable_from=until,
        )

    # rule G3: a copy flagged by the catalog, a whole section, a bad condition, a type.
    if item.not_for_loan:
        return refuse(NotLoanableBecause.NOT_FOR_LOAN_FLAG)
    section = policy.section(item.section)
    if section is not None and not section.loanable:
        return refuse(NotLoanableBecause.SECTION)
    if item.condition in rules.conditions:
        return refuse(NotLoanableBecause.CONDITION)
    if item.material_type in rules.material_types:
        return refuse(NotLoanableBecause.MATERIAL_TYPE)
    # rule G3: audiovisual and electronic resources published in the last 18 months.
    if item.material_type in rules.recent_release_types and rules.recent_release_months:
        published = publication_date(item)
        if published is not None:
            free_on = add_months(published, rules.recent_release_months)
            if today < free_on:
                return refuse(NotLoanableBecause.RECENT_RELEASE, free_on)
    # rule G2: everything else (the general sections for adults and children) is lent.
    return Loanability(allowed=True, rule=rules.loanable_rule)


def publication_date(item: ItemFacts) -> date | None:
    """The copy's publication date, or the last day of its record's year when only that is known.

    Assuming 31 December errs on the side of the copyright rule (G3): a DVD of "2025" is not
    lent before mid-2027 even if it came out in January.
    """
    if item.published_on is not None:
        return item.published_on
    if item.published_year is not None:
        return date(item.published_year, 12, 31)
    return None
