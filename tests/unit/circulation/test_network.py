"""The network rules the pure domain expresses: transport (N1) and the digital library (N4)."""

# Tests are named after the rule IDs of RULES.md (test_N1_...), which are upper case.

from __future__ import annotations

from datetime import date

import pytest

from bot.catalog.model import ItemStatus, MaterialType
from bot.circulation.checkout import checkout_decision
from bot.circulation.facts import ItemCondition
from bot.circulation.policy import Policy
from bot.circulation.returns import ReturnAction, route_returned_item
from bot.circulation.short_loan import short_loan_decision
from bot.circulation.standing import GOOD_STANDING

from .support import CBNEM, CBNEM_CALENDAR, GINESTRA, GINESTRA_CALENDAR, at, hold, item, patron


def test_N1_a_copy_sent_to_fill_a_hold_arrives_on_the_next_transport_day() -> None:
    queue = [hold(1, pickup="BRU")]
    weekday = route_returned_item(
        CBNEM,
        CBNEM_CALENDAR,
        item=item(home_branch="COL"),
        at_branch="COL",
        holds=queue,
        now=at(date(2025, 3, 4)),
    )
    assert (weekday.action, weekday.rule) == (ReturnAction.HOLD_IN_TRANSIT, "N1")
    assert weekday.arrives_on == date(2025, 3, 5)
    # Returned on Saturday 19 April 2025: no van on Easter Sunday nor on Easter Monday.
    easter = route_returned_item(
        CBNEM,
        CBNEM_CALENDAR,
        item=item(home_branch="COL"),
        at_branch="COL",
        holds=queue,
        now=at(date(2025, 4, 19)),
    )
    assert easter.arrives_on == date(2025, 4, 22)
    assert easter.ready_on == date(2025, 4, 22)


def test_N1_a_copy_that_may_no_longer_be_lent_fills_no_hold() -> None:
    ruined = item(home_branch="GIN", condition=ItemCondition.POOR)
    routing = route_returned_item(
        GINESTRA,
        GINESTRA_CALENDAR,
        item=ruined,
        at_branch="GIN",
        holds=[hold(1)],
        now=at(date(2025, 3, 4)),
    )
    assert (routing.action, routing.hold_id) == (ReturnAction.RESHELVE, None)


@pytest.mark.parametrize("policy", [GINESTRA, CBNEM], ids=["ginestra", "cbnem"])
def test_N4_e_books_are_lent_by_the_digital_library_not_at_the_desk(policy: Policy) -> None:
    calendar = GINESTRA_CALENDAR if policy is GINESTRA else CBNEM_CALENDAR
    branch = "GIN" if policy is GINESTRA else "COL"
    decision = checkout_decision(
        policy,
        calendar,
        patron=patron(home_branch=branch),
        item=item(MaterialType.EBOOK, home_branch=branch),
        item_status=ItemStatus.AVAILABLE,
        open_loans=(),
        standing=GOOD_STANDING,
        branch=branch,
        now=at(date(2025, 3, 4)),
    )
    assert (decision.allowed, decision.reason, decision.rule) == (False, "digital_only", "N4")
    # The period the bot tells patrons about (G9: 14 days on MLOL).
    assert policy.loans.days.adult.ebook == 14


def test_N4_no_short_loan_of_e_books_either() -> None:
    decision = short_loan_decision(
        GINESTRA,
        GINESTRA_CALENDAR,
        patron=patron(),
        item=item(MaterialType.EBOOK),
        standing=GOOD_STANDING,
        open_loans=(),
        branch="GIN",
        now=at(date(2025, 3, 4), 18, 30),
    )
    assert (decision.reason, decision.rule) == ("digital_only", "N4")
