"""The consortium's regulation (C1-C9) with the seed's own numbers."""

# Tests are named after the rule IDs of RULES.md (test_C7_...), which are upper case.

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from bot.catalog.model import ItemStatus, MaterialType
from bot.circulation.checkout import CheckoutDecision, checkout_decision
from bot.circulation.facts import (
    CopyFacts,
    HoldState,
    ItemFacts,
    LoanFacts,
    PatronCategory,
)
from bot.circulation.fines import Lateness, item_fine, patron_fines
from bot.circulation.holds import (
    HoldDecision,
    copy_for_request,
    hold_decision,
    next_hold_to_fill,
    pickup_deadline,
    queue_positions,
    title_held_by_others,
    title_hold_decision,
)
from bot.circulation.policy import Policy, ReplacementMethod
from bot.circulation.policy_loader import merge_policy_data, policy_from_mapping
from bot.circulation.reasons import Reason
from bot.circulation.renewal import RenewalDecision, renewal_decision
from bot.circulation.replacement import replacement_terms
from bot.circulation.returns import ReturnAction, route_returned_item
from bot.circulation.standing import (
    GOOD_STANDING,
    AccountFacts,
    RestrictionKind,
    Standing,
    StandingStatus,
    assess_standing,
)

from .support import CBNEM, CBNEM_CALENDAR, at, copy, hold, item, loan, loans, patron

CAL = CBNEM_CALENDAR
TODAY = date(2025, 3, 4)  # a Tuesday
ADULT = PatronCategory.ADULT
CHILD = PatronCategory.CHILD


def book(**overrides: Any) -> ItemFacts:
    return item(home_branch="COL", **overrides)


def checkout(
    thing: ItemFacts | None = None,
    *,
    open_loans: Sequence[LoanFacts] = (),
    branch: str = "COL",
    policy: Policy = CBNEM,
) -> CheckoutDecision:
    return checkout_decision(
        policy,
        CAL,
        patron=patron(home_branch="COL"),
        item=thing or book(),
        item_status=ItemStatus.AVAILABLE,
        open_loans=open_loans,
        standing=GOOD_STANDING,
        branch=branch,
        now=at(TODAY),
    )


def place_hold(
    copies: Sequence[CopyFacts], *, active_holds: int = 0, pickup: str = "COL"
) -> HoldDecision:
    return hold_decision(
        CBNEM,
        CAL,
        standing=GOOD_STANDING,
        copies=copies,
        active_holds=active_holds,
        already_holds_title=False,
        has_title_on_loan=False,
        pickup_branch=pickup,
        today=TODAY,
    )


def renew(
    due_on: date,
    requested_on: date,
    *,
    material: MaterialType = MaterialType.BOOK,
    renewals: int = 0,
    held_by_others: bool = False,
) -> RenewalDecision:
    return renewal_decision(
        loan(due_on, material, renewals=renewals, branch="COL"),
        CBNEM,
        CAL,
        at(requested_on),
        held_by_others=held_by_others,
    )


def fines(category: PatronCategory, *periods: tuple[date, date], owed: int = 0) -> int:
    lateness = [Lateness(key=n, due_on=due, end_on=end) for n, (due, end) in enumerate(periods)]
    return patron_fines(CBNEM, category, lateness, owed_elsewhere_cents=owed).total_cents


def standing(today: date, *open_loans: LoanFacts, **facts: int) -> Standing:
    account = AccountFacts(
        open_loans=open_loans,
        unpaid_fines_cents=facts.get("unpaid_fines_cents", 0),
        open_restrictions=[(RestrictionKind.SUSPENSION, "C8")] if facts.get("open") else (),
    )
    return assess_standing(CBNEM, account, today=today, now=at(today))


DUE = date(2025, 3, 13)  # a Thursday


# C1 ----------------------------------------------------------------------------------------


def test_C1_one_card_holds_on_any_library_pickup_at_any_library() -> None:
    at_brugherio = [copy(ItemStatus.ON_LOAN, location="BRU", home_branch="BRU")]
    assert place_hold(at_brugherio, pickup="BUS").allowed
    assert place_hold(at_brugherio, pickup="COL").allowed
    unknown = place_hold(at_brugherio, pickup="MILANO")
    assert (unknown.reason, unknown.detail) == (Reason.UNKNOWN_BRANCH, "MILANO")


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("suspended", Reason.SUSPENDED),
        ("held", Reason.ALREADY_HELD),
        ("on_loan", Reason.ALREADY_ON_LOAN),
        ("limit", Reason.HOLD_LIMIT),
        ("not_for_loan", Reason.NOT_HOLDABLE),
        ("allowed", None),
    ],
)
def test_C1_what_no_pickup_library_changes_is_decided_without_one(
    case: str, reason: Reason | None
) -> None:
    """``title_hold_decision`` (asked at "Reserve") gives what ``hold_decision`` gives for any
    member library: the same reason, rule and detail; only the library itself is left out."""
    facts: dict[str, Any] = {
        "standing": standing(TODAY, unpaid_fines_cents=80)
        if case == "suspended"
        else GOOD_STANDING,
        "copies": [
            copy(
                ItemStatus.ON_LOAN,
                location="BRU",
                home_branch="BRU",
                not_for_loan=case == "not_for_loan",
            )
        ],
        "active_holds": CBNEM.holds.max_active if case == "limit" else 3,
        "already_holds_title": case == "held",
        "has_title_on_loan": case == "on_loan",
        "today": TODAY,
    }
    early = title_hold_decision(CBNEM, **facts)
    assert (early.allowed, early.reason) == (reason is None, reason)
    for pickup in ("BRU", "BUS", "COL"):
        assert hold_decision(CBNEM, CAL, pickup_branch=pickup, **facts) == early
    if reason is Reason.HOLD_LIMIT:
        assert (early.rule, early.detail) == ("C4", str(CBNEM.holds.max_active))
    # A library outside the network is refused only once one is chosen.
    unknown = hold_decision(CBNEM, CAL, pickup_branch="MILANO", **facts)
    expected = Reason.SUSPENDED if case == "suspended" else Reason.UNKNOWN_BRANCH
    assert unknown.reason is expected


# C2 ----------------------------------------------------------------------------------------


def test_C2_30_days_books_7_days_audiovisual() -> None:
    decision = checkout()
    assert decision.due is not None
    assert (decision.due.due_on, decision.due.rule) == (date(2025, 4, 3), "C2")
    dvd = checkout(book(material_type=MaterialType.AUDIOVISUAL, published_on=TODAY))
    assert dvd.allowed  # the consortium has no 18-month rule
    assert dvd.due is not None
    assert dvd.due.due_on == date(2025, 3, 11)


def test_C2_at_most_20_loans_in_the_whole_system_10_audiovisual() -> None:
    # Loans made at other member libraries count the same.
    twenty = [
        loan(date(2099, 1, 1), branch=code, loan_id=n)
        for n, code in enumerate(["BRU", "BUS", "COL", "BRU"] * 5)
    ]
    decision = checkout(open_loans=twenty, branch="BUS")
    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.LOAN_LIMIT, "C2")
    assert checkout(open_loans=twenty[:19]).allowed
    dvd = book(material_type=MaterialType.AUDIOVISUAL)
    eleventh = checkout(dvd, open_loans=loans(10, MaterialType.AUDIOVISUAL))
    assert (eleventh.reason, eleventh.rule) == (Reason.TYPE_LIMIT, "C2")
    assert checkout(open_loans=loans(10, MaterialType.AUDIOVISUAL)).allowed  # a book is fine


def test_C2_special_sections_may_have_other_limits() -> None:
    policy = policy_from_mapping(
        merge_policy_data(CBNEM.model_dump(mode="json"), {"sections": {"NOV": {"limit": 2}}})
    )
    two_new = [loan(date(2099, 1, 1), section="nov", loan_id=n) for n in range(2)]
    decision = checkout(book(section="NOV"), open_loans=two_new, policy=policy)
    assert (decision.reason, decision.rule, decision.detail) == (
        Reason.SECTION_LIMIT,
        "C2",
        "NOV",
    )
    assert checkout(book(section="NOV"), open_loans=two_new[:1], policy=policy).allowed
    assert checkout(book(section="GEN"), open_loans=two_new, policy=policy).allowed


# C3 ----------------------------------------------------------------------------------------


def test_C3_return_at_any_library_travels_home() -> None:
    saturday = date(2025, 3, 8)
    routing = route_returned_item(
        CBNEM, CAL, item=book(), at_branch="BRU", holds=[], now=at(saturday)
    )
    assert routing.action is ReturnAction.RETURN_HOME
    assert routing.destination == "COL"
    assert routing.arrives_on == date(2025, 3, 10)  # no van on Sunday
    home = route_returned_item(CBNEM, CAL, item=book(), at_branch="COL", holds=[], now=at(TODAY))
    assert (home.action, home.destination, home.arrives_on) == (ReturnAction.RESHELVE, "COL", None)


def test_C3_a_return_fills_the_first_waiting_hold() -> None:
    queue = [
        hold(7, patron_id=3, pickup="BUS", placed_at=at(date(2025, 2, 2))),
        hold(5, patron_id=2, pickup="BRU", placed_at=at(date(2025, 2, 1))),
    ]
    ready = route_returned_item(
        CBNEM, CAL, item=book(), at_branch="BRU", holds=queue, now=at(TODAY)
    )
    assert (ready.action, ready.hold_id, ready.destination) == (ReturnAction.HOLD_READY, 5, "BRU")
    assert ready.ready_on == TODAY
    assert ready.pickup_expires_on == date(2025, 3, 11)
    # Returned on Saturday at COL for the hold picked up at BUS, which is closed on Mondays.
    travelling = route_returned_item(
        CBNEM, CAL, item=book(), at_branch="COL", holds=queue[:1], now=at(date(2025, 3, 8))
    )
    assert travelling.action is ReturnAction.HOLD_IN_TRANSIT
    assert (travelling.hold_id, travelling.destination) == (7, "BUS")
    assert travelling.arrives_on == date(2025, 3, 10)
    assert travelling.ready_on == date(2025, 3, 11)
    assert travelling.pickup_expires_on == date(2025, 3, 18)


# C4 ----------------------------------------------------------------------------------------


def test_C4_at_most_20_titles_requested_or_held() -> None:
    copies = [copy(ItemStatus.ON_LOAN, location="COL")]
    assert place_hold(copies, active_holds=19).allowed
    decision = place_hold(copies, active_holds=20)
    assert (decision.reason, decision.rule, decision.detail) == (Reason.HOLD_LIMIT, "C4", "20")


def test_C4_available_items_may_be_requested() -> None:
    copies = [
        copy(ItemStatus.AVAILABLE, location="BRU"),
        copy(ItemStatus.AVAILABLE, location="COL"),
        copy(ItemStatus.ON_LOAN, location="COL"),
    ]
    decision = place_hold(copies)
    assert (decision.allowed, decision.immediate, decision.rule) == (True, True, "C4")
    chosen = copy_for_request(CBNEM, copies, pickup_branch="COL", today=TODAY)
    assert chosen is not None
    assert chosen.location_branch == "COL"
    elsewhere = copy_for_request(CBNEM, copies[:1], pickup_branch="BUS", today=TODAY)
    assert elsewhere is not None
    assert elsewhere.location_branch == "BRU"


def test_C4_kept_7_days_from_when_available_and_told() -> None:
    ready, told = date(2025, 3, 4), date(2025, 3, 5)
    assert pickup_deadline(CBNEM, CAL, pickup_branch="COL", ready_on=ready) == date(2025, 3, 11)
    assert pickup_deadline(
        CBNEM, CAL, pickup_branch="COL", ready_on=ready, notified_on=told
    ) == date(2025, 3, 12)
    # A last day on a Sunday moves to the library's next opening day.
    assert pickup_deadline(
        CBNEM, CAL, pickup_branch="COL", ready_on=date(2025, 3, 1), notified_on=date(2025, 3, 2)
    ) == date(2025, 3, 10)


# C5 ----------------------------------------------------------------------------------------


def test_C5_asked_4_days_before_due_is_too_early_3_days_before_is_accepted() -> None:
    early = renew(DUE, DUE - timedelta(days=4))
    assert (early.allowed, early.reason, early.rule) == (False, Reason.TOO_EARLY, "C5")
    accepted = renew(DUE, DUE - timedelta(days=3))
    assert accepted.allowed
    assert accepted.new_due_on == date(2025, 4, 12)  # 30 days from the due date


def test_C5_6_days_late_is_accepted_7_days_late_is_too_late() -> None:
    late = renew(DUE, DUE + timedelta(days=6))
    assert late.allowed
    assert late.new_due_on == date(2025, 4, 12)  # still from the due date
    too_late = renew(DUE, DUE + timedelta(days=7))
    assert (too_late.allowed, too_late.reason, too_late.rule) == (False, Reason.TOO_LATE, "C5")


def test_C5_refused_when_another_patron_holds_the_title() -> None:
    decision = renew(DUE, DUE, held_by_others=True)
    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.ON_HOLD, "C5")


def test_C5_7_days_for_audiovisual_and_at_most_2_per_title() -> None:
    dvd = renew(DUE, DUE - timedelta(days=1), material=MaterialType.AUDIOVISUAL)
    assert dvd.new_due_on == date(2025, 3, 20)
    second = renew(DUE, DUE, renewals=1)
    assert (second.allowed, second.renewals, second.renewals_left) == (True, 2, 0)
    third = renew(DUE, DUE, renewals=2)
    assert (third.reason, third.rule) == (Reason.RENEWAL_LIMIT, "C5")


def test_C5_the_new_due_date_avoids_closed_days() -> None:
    # Due Friday 14 March + 30 days = Sunday 13 April: moved to Monday 14 April.
    decision = renew(date(2025, 3, 14), date(2025, 3, 14))
    assert (decision.new_due_on, decision.moved_from) == (date(2025, 4, 14), date(2025, 4, 13))


# C6 / C7 -----------------------------------------------------------------------------------


def test_C6_returning_up_to_7_days_late_costs_nothing() -> None:
    seven = item_fine(CBNEM, ADULT, due_on=DUE, end_on=DUE + timedelta(days=7))
    assert (seven.days_late, seven.amount_cents, seven.rule) == (7, 0, "C6")
    assert item_fine(CBNEM, ADULT, due_on=DUE, end_on=DUE).amount_cents == 0
    assert fines(ADULT, (DUE, DUE + timedelta(days=7))) == 0


def test_C7_8_days_late_costs_80_cents_counted_from_the_first_day() -> None:
    eight = item_fine(CBNEM, ADULT, due_on=DUE, end_on=DUE + timedelta(days=8))
    assert (eight.days_late, eight.amount_cents, eight.rule) == (8, 80, "C7")
    assert fines(ADULT, (DUE, DUE + timedelta(days=8))) == 80
    assert fines(ADULT, (DUE, DUE + timedelta(days=31))) == 310


def test_C7_one_title_is_capped_at_10_euros_for_adults_5_for_children() -> None:
    late = (DUE, DUE + timedelta(days=200))
    assert fines(ADULT, late) == 1000
    assert fines(CHILD, late) == 500
    assert fines(ADULT, (DUE, DUE + timedelta(days=100))) == 1000
    assert fines(ADULT, (DUE, DUE + timedelta(days=99))) == 990


def test_C7_several_titles_are_capped_at_20_euros_for_adults_10_for_children() -> None:
    late = (DUE, DUE + timedelta(days=200))
    assert fines(ADULT, late, late, late) == 2000
    assert fines(CHILD, late, late, late) == 1000
    two_months = (DUE, DUE + timedelta(days=60))
    assert fines(ADULT, two_months, two_months) == 1200  # under the cap: 6 + 6 euros
    result = patron_fines(
        CBNEM,
        CHILD,
        [Lateness(key=k, due_on=DUE, end_on=DUE + timedelta(days=200)) for k in (9, 4)],
    )
    assert result.by_key == {4: 500, 9: 500}
    assert result.groups == ((4, 9),)


def test_C7_each_group_late_at_the_same_time_is_capped_on_its_own() -> None:
    spring = (date(2025, 1, 10), date(2025, 7, 28))  # 199 days
    autumn = (date(2025, 9, 1), date(2026, 3, 20))
    # A child: three titles late together (capped at 10 euros) and one late months later.
    assert fines(CHILD, spring, spring, spring, autumn) == 1500
    # An adult: the several-titles cap per group, and never more than 20 euros in all.
    assert fines(ADULT, spring, autumn) == 2000
    assert fines(ADULT, spring, spring, autumn) == 2000


def test_C7_never_more_than_20_euros_counting_what_is_already_owed() -> None:
    eight = (DUE, DUE + timedelta(days=8))
    assert fines(ADULT, eight, owed=1500) == 80
    assert fines(ADULT, eight, owed=1950) == 50
    assert fines(ADULT, eight, owed=2500) == 0


# C8 ----------------------------------------------------------------------------------------


def test_C8_an_unpaid_fine_suspends_in_every_library_until_paid() -> None:
    unpaid = standing(TODAY, unpaid_fines_cents=80)
    assert unpaid.status is StandingStatus.SUSPENDED
    assert unpaid.refusal == (Reason.SUSPENDED, "C8")
    assert [r.reason for r in unpaid.restrictions] == [Reason.UNPAID_FINES]
    paid = standing(TODAY, open=1)
    assert paid.status is StandingStatus.OK
    assert paid.to_close == ((RestrictionKind.SUSPENSION, "C8"),)


def test_C8_more_than_30_days_late_suspends_never_excludes() -> None:
    assert standing(TODAY, loan(TODAY - timedelta(days=30))).status is StandingStatus.OK
    late = standing(TODAY, loan(TODAY - timedelta(days=31)))
    assert late.status is StandingStatus.SUSPENDED
    assert late.to_open[0].key == (RestrictionKind.SUSPENSION, "C8")
    very_late = standing(TODAY, loan(TODAY - timedelta(days=400)))
    assert very_late.status is StandingStatus.SUSPENDED
    # Still late: the open row stays open.
    assert standing(TODAY, loan(TODAY - timedelta(days=31)), open=1).to_close == ()


# C9 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cover_price", "owed"), [(1850, 1850), (1000, 1000), (700, 1000), (None, 1000)]
)
def test_C9_out_of_print_the_cover_price_at_least_10_euros(
    cover_price: int | None, owed: int
) -> None:
    terms = replacement_terms(CBNEM, in_print=False, cover_price_cents=cover_price)
    assert (terms.method, terms.amount_cents, terms.rule) == (
        ReplacementMethod.COVER_PRICE,
        owed,
        "C9",
    )


def test_C9_in_print_the_patron_buys_it_again() -> None:
    terms = replacement_terms(CBNEM, in_print=True, cover_price_cents=1850)
    assert (terms.method, terms.amount_cents) == (ReplacementMethod.BUY_AGAIN, None)


def test_queue_is_first_come_first_served_with_no_gaps() -> None:
    holds = [
        hold(1, patron_id=10, placed_at=at(date(2025, 2, 3))),
        hold(2, patron_id=11, placed_at=at(date(2025, 2, 1)), state=HoldState.CANCELLED),
        hold(
            3,
            patron_id=12,
            placed_at=at(date(2025, 2, 2)),
            state=HoldState.SUSPENDED,
            suspended_until=date(2025, 3, 31),
        ),
        hold(4, patron_id=13, placed_at=at(date(2025, 2, 3))),
    ]
    assert queue_positions(holds) == {3: 1, 1: 2, 4: 3}
    first = next_hold_to_fill(holds, TODAY)
    assert first is not None
    assert first.hold_id == 1  # the suspended one is skipped, not dropped
    after = next_hold_to_fill(holds, date(2025, 4, 1))
    assert after is not None
    assert after.hold_id == 3
    assert title_held_by_others(holds, patron_id=10)
    assert not title_held_by_others(holds[1:2], patron_id=10)
