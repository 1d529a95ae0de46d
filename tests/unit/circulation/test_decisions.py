"""What every decision shares, and the standing's bookkeeping for rows staff opened."""

from __future__ import annotations

from datetime import date

import pytest

from bot.circulation.library_calendar import UnknownBranchError
from bot.circulation.policy import Policy
from bot.circulation.reasons import Decision, Reason
from bot.circulation.returns import route_returned_item
from bot.circulation.standing import AccountFacts, RestrictionKind, StandingStatus, assess_standing

from .support import CBNEM, CBNEM_CALENDAR, GINESTRA, at, item


def test_a_decision_has_a_reason_exactly_when_it_refuses() -> None:
    assert Decision(allowed=True, rule="C5").reason is None
    assert Decision(allowed=False, reason=Reason.ON_HOLD, rule="C5").reason == "on_hold"
    with pytest.raises(ValueError, match="reason"):
        Decision(allowed=False)
    with pytest.raises(ValueError, match="reason"):
        Decision(allowed=True, reason=Reason.TOO_LATE)


def test_reason_codes_are_stable_snake_case_words() -> None:
    for reason in Reason:
        assert reason.value == reason.name.lower()
        assert reason.value.replace("_", "").isalpha()


@pytest.mark.parametrize("policy", [GINESTRA, CBNEM], ids=["ginestra", "cbnem"])
def test_a_restriction_staff_opened_holds_until_staff_end_it(policy: Policy) -> None:
    today = date(2025, 3, 4)
    standing = assess_standing(
        policy,
        AccountFacts(open_restrictions=[(RestrictionKind.EXCLUSION, "staff")]),
        today=today,
        now=at(today),
    )
    assert standing.status is StandingStatus.EXCLUDED
    assert standing.refusal == (Reason.EXCLUDED, "staff")
    assert standing.to_close == ()
    assert standing.staff_keys == ((RestrictionKind.EXCLUSION, "staff"),)
    assert standing.restrictions[0].reason is Reason.STAFF_RESTRICTION


def test_a_return_at_a_branch_the_calendar_does_not_know_is_an_error() -> None:
    with pytest.raises(UnknownBranchError):
        route_returned_item(
            CBNEM,
            CBNEM_CALENDAR,
            item=item(home_branch="COL"),
            at_branch="X",
            holds=[],
            now=at(date(2025, 3, 4)),
        )
