"""Ginestra's regulation (G1-G20) with the seed's own numbers."""

# Tests are named after the rule IDs of RULES.md (test_G3_...), which are upper case.

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.catalog.model import ItemStatus, MaterialType
from bot.circulation.checkout import CheckoutDecision, checkout_decision
from bot.circulation.facts import (
    ItemCondition,
    ItemFacts,
    LoanFacts,
    PatronCategory,
    PatronFacts,
)
from bot.circulation.fines import item_fine
from bot.circulation.holds import hold_decision, notice_deadline, pickup_deadline
from bot.circulation.interlibrary import (
    document_delivery_decision,
    ill_delivery_target,
    ill_request_decision,
    withdrawal_charge,
)
from bot.circulation.loanability import loanability
from bot.circulation.policy import IllScope, ReplacementMethod
from bot.circulation.policy_loader import merge_policy_data, policy_from_mapping
from bot.circulation.reasons import Reason
from bot.circulation.renewal import (
    RenewalDecision,
    ill_renewal_request_decision,
    renewal_decision,
)
from bot.circulation.replacement import replacement_terms
from bot.circulation.short_loan import (
    ShortLoanDecision,
    ShortLoanWindowKind,
    short_loan_decision,
    short_loan_return_restrictions,
)
from bot.circulation.standing import (
    GOOD_STANDING,
    AccountFacts,
    RestrictionKind,
    Standing,
    StandingStatus,
    assess_standing,
)

from .support import GINESTRA, GINESTRA_CALENDAR, ROME, at, copy, item, loan, loans, patron

TODAY = date(2025, 6, 17)  # a Tuesday
NOW = at(TODAY)
CAL = GINESTRA_CALENDAR


def checkout(
    thing: ItemFacts | None = None,
    *,
    open_loans: Sequence[LoanFacts] = (),
    who: PatronFacts | None = None,
    status: ItemStatus = ItemStatus.AVAILABLE,
    standing: Standing = GOOD_STANDING,
    when: datetime = NOW,
    held_for_another: bool = False,
) -> CheckoutDecision:
    return checkout_decision(
        GINESTRA,
        CAL,
        patron=who or patron(),
        item=thing or item(),
        item_status=status,
        open_loans=open_loans,
        standing=standing,
        branch="GIN",
        now=when,
        held_for_another=held_for_another,
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
        loan(due_on, material, renewals=renewals),
        GINESTRA,
        CAL,
        at(requested_on),
        held_by_others=held_by_others,
    )


def standing_on(
    today: date,
    *open_loans: LoanFacts,
    unpaid_service_cents: int = 0,
    open_restrictions: Sequence[tuple[RestrictionKind, str]] = (),
) -> Standing:
    account = AccountFacts(
        open_loans=open_loans,
        unpaid_service_cents=unpaid_service_cents,
        open_restrictions=open_restrictions,
    )
    return assess_standing(GINESTRA, account, today=today, now=at(today))


# G1 ----------------------------------------------------------------------------------------


def test_G1_loan_is_open_to_anyone_registered_and_free() -> None:
    newcomer = patron(registered_on=TODAY)
    decision = checkout(who=newcomer)
    assert decision.allowed
    # Free: no fee at checkout and no money ever charged for lateness under Ginestra.
    fine = item_fine(GINESTRA, PatronCategory.ADULT, due_on=TODAY, end_on=TODAY + timedelta(400))
    assert fine.amount_cents == 0


# G2 / G3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["GEN", "CHILD", "RAGAZZI", None])
def test_G2_general_sections_for_adults_and_children_are_lent(section: str | None) -> None:
    decision = loanability(item(section=section), GINESTRA, TODAY)
    assert decision.allowed
    assert decision.rule == "G2"


@pytest.mark.parametrize("section", ["LOCAL", "REF", "ref"])
def test_G3_local_history_and_reference_are_not_lent(section: str) -> None:
    decision = checkout(item(section=section))
    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.NOT_LOANABLE, "G3")
    assert decision.detail == "section"


def test_G3_items_in_bad_condition_are_not_lent() -> None:
    decision = checkout(item(condition=ItemCondition.POOR))
    assert (decision.reason, decision.detail) == (Reason.NOT_LOANABLE, "condition")


def test_G3_newspapers_and_periodicals_are_not_lent() -> None:
    decision = checkout(item(MaterialType.PERIODICAL))
    assert (decision.reason, decision.rule, decision.detail) == (
        Reason.NOT_LOANABLE,
        "G3",
        "material_type",
    )


def test_G3_a_dvd_published_17_months_ago_is_refused_19_months_ago_lent() -> None:
    recent = item(MaterialType.AUDIOVISUAL, published_on=date(2024, 1, 17))  # 17 months
    decision = checkout(recent)
    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.NOT_LOANABLE, "G3")
    assert decision.detail == "recent_release"
    assert loanability(recent, GINESTRA, TODAY).loanable_from == date(2025, 7, 17)
    older = item(MaterialType.AUDIOVISUAL, published_on=date(2023, 11, 17))  # 19 months
    assert checkout(older).allowed
    exactly = item(MaterialType.AUDIOVISUAL, published_on=date(2023, 12, 17))  # 18 months
    assert checkout(exactly).allowed


def test_G3_recent_audiobooks_too_and_a_year_alone_assumes_its_last_day() -> None:
    assert not checkout(item(MaterialType.AUDIOBOOK, published_on=date(2025, 1, 1))).allowed
    # Only the record's year (2023): treated as 31 Dec 2023, loanable from 30 Jun 2025.
    by_year = item(MaterialType.AUDIOVISUAL, published_year=2023)
    assert not loanability(by_year, GINESTRA, TODAY).allowed
    assert loanability(by_year, GINESTRA, date(2025, 6, 30)).allowed
    # Books have no 18-month rule.
    assert checkout(item(published_on=TODAY)).allowed


def test_G3_a_copy_flagged_not_for_loan_is_not_lent() -> None:
    assert checkout(item(not_for_loan=True)).detail == "not_for_loan_flag"


# G4 ----------------------------------------------------------------------------------------


def short(
    when: datetime,
    *,
    thing: ItemFacts | None = None,
    who: PatronFacts | None = None,
    open_loans: Sequence[LoanFacts] = (),
    standing: Standing = GOOD_STANDING,
) -> ShortLoanDecision:
    return short_loan_decision(
        GINESTRA,
        CAL,
        patron=who or patron(),
        item=thing or item(section="REF"),
        standing=standing,
        open_loans=open_loans,
        branch="GIN",
        now=when,
    )


def rome(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME)


def test_G4_weekend_window_saturday_1230_to_monday_0900() -> None:
    saturday = date(2025, 3, 8)
    decision = short(at(saturday, 12, 30))
    assert decision.allowed
    assert decision.rule == "G4"
    assert decision.window is not None
    assert decision.window.kind is ShortLoanWindowKind.WEEKEND
    assert decision.window.due_at == rome(date(2025, 3, 10), 9)
    assert decision.window.due_at.tzinfo is UTC
    assert decision.window.due_on == date(2025, 3, 10)
    assert short(at(saturday, 12, 29)).reason is Reason.OUTSIDE_SHORT_LOAN_WINDOW


def test_G4_weekday_before_a_holiday_1300_to_0900_after_the_holiday() -> None:
    # Wednesday 24 December 2025: Christmas and Santo Stefano follow, then Saturday 27.
    decision = short(at(date(2025, 12, 24), 13))
    assert decision.window is not None
    assert decision.window.kind is ShortLoanWindowKind.BEFORE_HOLIDAY
    assert decision.window.due_at == rome(date(2025, 12, 27), 9)
    # Thursday 24 April 2025, before Liberation Day: back Saturday 26 at 09:00.
    april = short(at(date(2025, 4, 24), 13, 15))
    assert april.window is not None
    assert april.window.due_at == rome(date(2025, 4, 26), 9)
    assert short(at(date(2025, 4, 24), 12, 59)).reason is Reason.OUTSIDE_SHORT_LOAN_WINDOW


def test_G4_evening_window_1830_to_0900_next_day() -> None:
    tuesday = date(2025, 3, 4)
    decision = short(at(tuesday, 18, 30))
    assert decision.window is not None
    assert decision.window.kind is ShortLoanWindowKind.EVENING
    assert decision.window.due_at == rome(date(2025, 3, 5), 9)
    assert short(at(tuesday, 17, 0)).reason is Reason.OUTSIDE_SHORT_LOAN_WINDOW
    # Friday evening: back Saturday morning.
    friday = short(at(date(2025, 3, 7), 18, 45))
    assert friday.window is not None
    assert friday.window.due_at == rome(date(2025, 3, 8), 9)


def test_G4_only_for_patrons_registered_30_days_in_good_standing() -> None:
    when = at(date(2025, 3, 4), 18, 30)
    assert short(when, who=patron(registered_on=date(2025, 2, 2))).allowed  # 30 days
    too_new = short(when, who=patron(registered_on=date(2025, 2, 3)))  # 29 days
    assert (too_new.reason, too_new.rule) == (Reason.REGISTERED_TOO_RECENTLY, "G4")
    overdue = short(when, open_loans=[loan(date(2025, 3, 3))])
    assert overdue.reason is Reason.OVERDUE_LOANS
    suspended = standing_on(date(2025, 3, 4), loan(date(2025, 1, 1)))
    assert short(when, standing=suspended).reason is Reason.SUSPENDED


def test_G4_at_most_3_items_and_only_normally_excluded_material() -> None:
    when = at(date(2025, 3, 4), 18, 30)
    out = [loan(date(2025, 3, 5), short_loan=True, loan_id=n) for n in range(3)]
    assert short(when, open_loans=out[:2]).allowed
    limited = short(when, open_loans=out)
    assert (limited.reason, limited.detail) == (Reason.SHORT_LOAN_LIMIT, "3")
    forty = loans(20) + loans(10, MaterialType.AUDIOVISUAL) + loans(10, MaterialType.AUDIOBOOK)
    assert short(when, open_loans=forty).reason is Reason.LOAN_LIMIT  # still a loan (G8)
    ordinary = short(when, thing=item(section="GEN"))
    assert ordinary.reason is Reason.SHORT_LOAN_NOT_ELIGIBLE
    for excluded in (
        item(MaterialType.PERIODICAL),
        item(condition=ItemCondition.POOR),
        item(section="LOCAL"),
        item(MaterialType.AUDIOVISUAL, published_on=date(2025, 1, 1)),
    ):
        assert short(when, thing=excluded).allowed


def test_G4_not_returned_excludes_from_all_services_over_7_days_from_short_loan() -> None:
    due_at = rome(date(2025, 3, 5), 9).astimezone(UTC)
    out = loan(date(2025, 3, 5), short_loan=True, due_at=due_at)
    on_time = assess_standing(
        GINESTRA, AccountFacts(open_loans=[out]), today=date(2025, 3, 5), now=due_at
    )
    assert on_time.status is StandingStatus.OK
    one_hour_late = assess_standing(
        GINESTRA,
        AccountFacts(open_loans=[out]),
        today=date(2025, 3, 5),
        now=due_at + timedelta(hours=1),
    )
    assert one_hour_late.status is StandingStatus.EXCLUDED
    assert one_hour_late.refusal == (Reason.EXCLUDED, "G4")
    assert not one_hour_late.short_loan_barred
    eight_days = assess_standing(
        GINESTRA,
        AccountFacts(open_loans=[out]),
        today=date(2025, 3, 13),
        now=due_at + timedelta(days=7, hours=1),
    )
    assert eight_days.short_loan_barred
    kinds = {(r.kind, r.rule) for r in eight_days.to_open}
    assert (RestrictionKind.SHORT_LOAN_EXCLUSION, "G4") in kinds
    # Returned: the exclusion from all services ends; the one from the short loan stays.
    after = assess_standing(
        GINESTRA,
        AccountFacts(
            open_restrictions=[
                (RestrictionKind.EXCLUSION, "G4"),
                (RestrictionKind.SHORT_LOAN_EXCLUSION, "G4"),
            ]
        ),
        today=date(2025, 3, 14),
        now=at(date(2025, 3, 14)),
    )
    assert after.status is StandingStatus.OK
    assert after.to_close == ((RestrictionKind.EXCLUSION, "G4"),)
    assert after.short_loan_barred
    assert short(at(date(2025, 3, 14), 18, 30), standing=after).reason is (
        Reason.SHORT_LOAN_EXCLUDED
    )


def test_G4_a_return_more_than_7_days_late_leaves_the_short_loan_exclusion() -> None:
    due_at = rome(date(2025, 3, 5), 9).astimezone(UTC)
    out = loan(date(2025, 3, 5), short_loan=True, due_at=due_at)
    week_late = due_at + timedelta(days=7)
    assert short_loan_return_restrictions(GINESTRA, out, returned_at=week_late) == ()
    late = short_loan_return_restrictions(
        GINESTRA, out, returned_at=due_at + timedelta(days=7, minutes=1)
    )
    assert [(r.kind, r.rule) for r in late] == [(RestrictionKind.SHORT_LOAN_EXCLUSION, "G4")]


def test_G4_a_short_loan_is_not_renewed() -> None:
    out = loan(date(2025, 3, 5), short_loan=True)
    decision = renewal_decision(out, GINESTRA, CAL, at(date(2025, 3, 4)), held_by_others=False)
    assert (decision.reason, decision.rule) == (Reason.NOT_RENEWABLE, "G4")


# G5 ----------------------------------------------------------------------------------------


def test_G5_institutions_have_their_own_quantities_and_periods() -> None:
    school = patron(PatronCategory.INSTITUTION)
    forty = loans(20) + loans(10, MaterialType.AUDIOVISUAL) + loans(10, MaterialType.AUDIOBOOK)
    assert checkout(open_loans=forty).reason is Reason.LOAN_LIMIT
    assert checkout(open_loans=forty, who=school).allowed
    adult_due = checkout().due
    school_due = checkout(who=school).due
    assert adult_due is not None
    assert school_due is not None
    assert school_due.loan_days != adult_due.loan_days
    assert school_due.loan_days == GINESTRA.loans.days.institution.book


# G7 ----------------------------------------------------------------------------------------


def test_G7_a_loan_is_personal_a_copy_on_loan_is_not_lent_to_another() -> None:
    assert checkout(status=ItemStatus.ON_LOAN).reason is Reason.NOT_AVAILABLE
    assert checkout(status=ItemStatus.IN_TRANSIT).reason is Reason.NOT_AVAILABLE
    assert checkout(status=ItemStatus.ON_HOLD_SHELF, held_for_another=True).reason is Reason.ON_HOLD
    assert checkout(status=ItemStatus.ON_HOLD_SHELF).allowed  # the patron's own hold


# G8 ----------------------------------------------------------------------------------------


def test_G8_a_41st_item_is_refused() -> None:
    forty = loans(20) + loans(10, MaterialType.AUDIOVISUAL) + loans(5, MaterialType.AUDIOBOOK)
    forty += loans(5, MaterialType.EBOOK)
    assert len(forty) == 40
    decision = checkout(open_loans=forty)
    assert (decision.allowed, decision.reason, decision.rule) == (False, Reason.LOAN_LIMIT, "G8")
    assert checkout(open_loans=forty[:39]).reason is Reason.TYPE_LIMIT  # 20 books already


def test_G8_an_11th_dvd_a_21st_book_a_6th_audiobook_are_refused() -> None:
    dvd = item(MaterialType.AUDIOVISUAL, published_on=date(2020, 1, 1))
    decision = checkout(dvd, open_loans=loans(10, MaterialType.AUDIOVISUAL))
    assert (decision.reason, decision.rule, decision.detail) == (
        Reason.TYPE_LIMIT,
        "G8",
        "audiovisual",
    )
    assert checkout(dvd, open_loans=loans(9, MaterialType.AUDIOVISUAL)).allowed
    assert checkout(open_loans=loans(20)).reason is Reason.TYPE_LIMIT
    assert checkout(open_loans=loans(19)).allowed
    audiobook = item(MaterialType.AUDIOBOOK, published_on=date(2020, 1, 1))
    assert checkout(audiobook, open_loans=loans(5, MaterialType.AUDIOBOOK)).reason is (
        Reason.TYPE_LIMIT
    )


# G9 / G10 / G11 ----------------------------------------------------------------------------


def test_G9_periods_30_days_books_7_days_audiovisual() -> None:
    book = checkout()
    assert book.due is not None
    assert (book.due.due_on, book.due.loan_days, book.due.rule) == (date(2025, 7, 17), 30, "G9")
    dvd = checkout(item(MaterialType.AUDIOVISUAL, published_on=date(2020, 1, 1)))
    assert dvd.due is not None
    assert dvd.due.due_on == date(2025, 6, 24)


def test_G10_a_section_or_a_copy_may_set_another_period() -> None:
    data = merge_policy_data(
        GINESTRA.model_dump(mode="json"), {"sections": {"CONCORSO": {"loan_days": 14}}}
    )
    policy = policy_from_mapping(data)
    by_section = checkout_decision(
        policy,
        CAL,
        patron=patron(),
        item=item(section="concorso"),
        item_status=ItemStatus.AVAILABLE,
        open_loans=(),
        standing=GOOD_STANDING,
        branch="GIN",
        now=NOW,
    )
    assert by_section.due is not None
    assert (by_section.due.due_on, by_section.due.rule) == (date(2025, 7, 1), "G10")
    by_copy = checkout(item(loan_days_override=60, section="concorso"))
    assert by_copy.due is not None
    assert (by_copy.due.due_on, by_copy.due.rule) == (date(2025, 8, 16), "G10")


def test_G11_a_loan_due_on_christmas_moves_to_the_next_opening_day() -> None:
    decision = checkout(when=at(date(2025, 11, 25)))  # + 30 days = Thursday 25 December
    assert decision.due is not None
    assert decision.due.moved_from == date(2025, 12, 25)
    assert decision.due.due_on == date(2025, 12, 27)  # 26 is Santo Stefano, 27 a Saturday
    assert decision.due.moved_rule == "G11"
    sunday = checkout(when=at(date(2025, 2, 7)))  # + 30 days = Sunday 9 March
    assert sunday.due is not None
    assert sunday.due.due_on == date(2025, 3, 10)


# G13 ---------------------------------------------------------------------------------------


def test_G13_holds_only_on_items_on_loan() -> None:
    decision = hold_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        copies=[copy(ItemStatus.ON_LOAN), copy(ItemStatus.AVAILABLE)],
        active_holds=0,
        already_holds_title=False,
        has_title_on_loan=False,
        pickup_branch="GIN",
        today=TODAY,
    )
    assert (decision.allowed, decision.reason, decision.rule) == (
        False,
        Reason.ITEM_AVAILABLE,
        "G13",
    )
    on_loan = hold_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        copies=[copy(ItemStatus.ON_LOAN), copy(ItemStatus.LOST)],
        active_holds=4,
        already_holds_title=False,
        has_title_on_loan=False,
        pickup_branch="GIN",
        today=TODAY,
    )
    assert on_loan.allowed
    assert not on_loan.immediate


def test_G13_a_6th_hold_is_refused() -> None:
    decision = hold_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        copies=[copy(ItemStatus.ON_LOAN)],
        active_holds=5,
        already_holds_title=False,
        has_title_on_loan=False,
        pickup_branch="GIN",
        today=TODAY,
    )
    assert (decision.reason, decision.rule) == (Reason.HOLD_LIMIT, "G13")


def test_G13_titles_that_cannot_be_lent_cannot_be_held() -> None:
    decision = hold_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        copies=[copy(ItemStatus.ON_LOAN, section="REF"), copy(ItemStatus.WITHDRAWN)],
        active_holds=0,
        already_holds_title=False,
        has_title_on_loan=False,
        pickup_branch="GIN",
        today=TODAY,
    )
    assert decision.reason is Reason.NOT_HOLDABLE


def test_G13_kept_3_opening_days_and_told_within_24_hours() -> None:
    tuesday = date(2025, 3, 4)
    assert pickup_deadline(GINESTRA, CAL, pickup_branch="GIN", ready_on=tuesday) == date(2025, 3, 7)
    thursday = date(2025, 3, 6)  # Friday, Saturday, (Sunday closed), Monday
    assert pickup_deadline(GINESTRA, CAL, pickup_branch="GIN", ready_on=thursday) == date(
        2025, 3, 10
    )
    ready_at = at(tuesday, 11)
    assert notice_deadline(GINESTRA, ready_at) == ready_at + timedelta(hours=24)


# G14 ---------------------------------------------------------------------------------------


def test_G14_a_3rd_renewal_is_refused() -> None:
    assert renew(date(2025, 3, 10), date(2025, 3, 5), renewals=1).allowed
    decision = renew(date(2025, 3, 10), date(2025, 3, 5), renewals=2)
    assert (decision.allowed, decision.reason, decision.rule) == (
        False,
        Reason.RENEWAL_LIMIT,
        "G14",
    )


def test_G14_asked_on_or_before_the_due_date_not_after() -> None:
    on_due = renew(date(2025, 3, 4), date(2025, 3, 4))
    assert on_due.allowed
    assert on_due.new_due_on == date(2025, 4, 4)
    late = renew(date(2025, 3, 4), date(2025, 3, 5))
    assert (late.allowed, late.reason, late.rule) == (False, Reason.TOO_LATE, "G14")


def test_G14_runs_from_the_request_one_calendar_month_for_books() -> None:
    january = renew(date(2025, 2, 10), date(2025, 1, 31))
    assert january.new_due_on == date(2025, 2, 28)
    leap = renew(date(2024, 2, 10), date(2024, 1, 31))
    assert leap.new_due_on == date(2024, 2, 29)
    assert january.renewals == 1
    assert january.renewals_left == 1


def test_G14_seven_days_from_the_request_for_cd_and_dvd() -> None:
    dvd = renew(date(2025, 3, 6), date(2025, 3, 5), material=MaterialType.AUDIOVISUAL)
    assert dvd.new_due_on == date(2025, 3, 12)
    cd = renew(date(2025, 3, 6), date(2025, 3, 5), material=MaterialType.AUDIOBOOK)
    assert cd.new_due_on == date(2025, 3, 12)


def test_G14_refused_if_anybody_else_holds_the_title() -> None:
    decision = renew(date(2025, 3, 10), date(2025, 3, 5), held_by_others=True)
    assert (decision.reason, decision.rule) == (Reason.ON_HOLD, "G14")


def test_G14_a_renewal_that_would_not_extend_is_refused() -> None:
    # Lent 1 February, due 3 March; renewing that same day would end on 1 March.
    decision = renew(date(2025, 3, 3), date(2025, 2, 1))
    assert decision.reason is Reason.TOO_EARLY


# G16 ---------------------------------------------------------------------------------------


def test_G16_more_than_30_days_late_suspends_until_returned() -> None:
    assert standing_on(TODAY, loan(date(2025, 5, 18))).status is StandingStatus.OK  # 30 days
    suspended = standing_on(TODAY, loan(date(2025, 5, 17)))  # 31 days
    assert suspended.status is StandingStatus.SUSPENDED
    assert suspended.refusal == (Reason.SUSPENDED, "G16")
    assert checkout(standing=suspended).reason is Reason.SUSPENDED
    returned = standing_on(TODAY, open_restrictions=[(RestrictionKind.SUSPENSION, "G16")])
    assert returned.status is StandingStatus.OK
    assert returned.to_close == ((RestrictionKind.SUSPENSION, "G16"),)


def test_G16_more_than_90_days_late_excludes_until_staff_lift_it() -> None:
    assert standing_on(TODAY, loan(date(2025, 3, 19))).status is StandingStatus.SUSPENDED  # 90
    excluded = standing_on(TODAY, loan(date(2025, 3, 18)))  # 91 days
    assert excluded.status is StandingStatus.EXCLUDED
    assert excluded.refusal == (Reason.EXCLUDED, "G16")
    assert (RestrictionKind.EXCLUSION, "G16") in {r.key for r in excluded.to_open}
    # Returned, but the exclusion row is still open: it stays until staff end it.
    later = standing_on(
        TODAY,
        open_restrictions=[(RestrictionKind.EXCLUSION, "G16"), (RestrictionKind.SUSPENSION, "G16")],
    )
    assert later.status is StandingStatus.EXCLUDED
    assert later.to_close == ((RestrictionKind.SUSPENSION, "G16"),)
    lifted = standing_on(TODAY)
    assert lifted.status is StandingStatus.OK


# G17 ---------------------------------------------------------------------------------------


def test_G17_replace_with_the_same_edition_or_an_item_of_equal_value() -> None:
    in_print = replacement_terms(GINESTRA, in_print=True, cover_price_cents=1800)
    assert (in_print.method, in_print.amount_cents, in_print.rule) == (
        ReplacementMethod.SAME_OR_EQUIVALENT_EDITION,
        None,
        "G17",
    )
    out = replacement_terms(GINESTRA, in_print=False)
    assert out.method is ReplacementMethod.EQUAL_VALUE_ITEM
    assert out.amount_cents is None
    valuable = replacement_terms(GINESTRA, in_print=True, valuable=True)
    assert valuable.method is ReplacementMethod.BOUND_REPRODUCTION


# G18 ---------------------------------------------------------------------------------------


def test_G18_three_provincial_plus_three_wider_open_requests() -> None:
    provincial = ill_request_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        scope=IllScope.PROVINCIAL,
        open_requests={IllScope.PROVINCIAL: 3, IllScope.REGIONAL: 0},
        branch="GIN",
        today=date(2025, 3, 4),
    )
    assert (provincial.reason, provincial.rule) == (Reason.ILL_LIMIT, "G18")
    regional = ill_request_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        scope=IllScope.REGIONAL,
        open_requests={IllScope.PROVINCIAL: 3, IllScope.NATIONAL: 2},
        branch="GIN",
        today=date(2025, 3, 4),
    )
    assert regional.allowed
    international = ill_request_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        scope=IllScope.INTERNATIONAL,
        open_requests={IllScope.REGIONAL: 1, IllScope.NATIONAL: 2},
        branch="GIN",
        today=date(2025, 3, 4),
    )
    assert international.reason is Reason.ILL_LIMIT


def test_G18_provincial_and_regional_free_national_at_the_patrons_cost() -> None:
    decisions = {
        scope: ill_request_decision(
            GINESTRA,
            CAL,
            standing=GOOD_STANDING,
            scope=scope,
            open_requests={},
            branch="GIN",
            today=date(2025, 3, 4),
        )
        for scope in IllScope
    }
    assert not decisions[IllScope.PROVINCIAL].patron_pays
    assert not decisions[IllScope.REGIONAL].patron_pays
    assert decisions[IllScope.NATIONAL].patron_pays
    assert decisions[IllScope.NATIONAL].needs_consent
    assert decisions[IllScope.INTERNATIONAL].patron_pays
    # Provincial within 5 working days, regional within 7 (from Tuesday 4 March 2025).
    assert decisions[IllScope.PROVINCIAL].deliver_by == date(2025, 3, 10)
    assert decisions[IllScope.REGIONAL].deliver_by == date(2025, 3, 12)
    assert decisions[IllScope.NATIONAL].deliver_by is None
    assert ill_delivery_target(
        GINESTRA, CAL, scope=IllScope.PROVINCIAL, branch="GIN", requested_on=date(2025, 4, 24)
    ) == date(2025, 5, 2)  # 26, 28, 29, 30 April, (1 May), 2 May


def test_G18_only_for_works_the_library_does_not_own_and_patrons_in_good_standing() -> None:
    owned = ill_request_decision(
        GINESTRA,
        CAL,
        standing=GOOD_STANDING,
        scope=IllScope.PROVINCIAL,
        open_requests={},
        branch="GIN",
        today=date(2025, 3, 4),
        held_locally=True,
    )
    assert owned.reason is Reason.HELD_LOCALLY
    suspended = standing_on(TODAY, loan(date(2025, 1, 1)))
    refused = ill_request_decision(
        GINESTRA,
        CAL,
        standing=suspended,
        scope=IllScope.PROVINCIAL,
        open_requests={},
        branch="GIN",
        today=TODAY,
    )
    assert refused.reason is Reason.EXCLUDED  # more than 90 days late


def test_G18_ill_renewal_is_asked_at_least_5_days_before_due() -> None:
    due = date(2025, 3, 20)
    asked = ill_renewal_request_decision(GINESTRA, due_on=due, today=date(2025, 3, 15))
    assert (asked.allowed, asked.rule, asked.detail) == (True, "G18", "lender_decides")
    late = ill_renewal_request_decision(GINESTRA, due_on=due, today=date(2025, 3, 16))
    assert (late.reason, late.rule) == (Reason.TOO_LATE, "G18")


# G19 ---------------------------------------------------------------------------------------


def test_G19_at_most_15_percent_and_3_requests_a_week_paid() -> None:
    tuesday = date(2025, 3, 4)

    fifteen = document_delivery_decision(
        GINESTRA,
        standing=GOOD_STANDING,
        pages=30,
        total_pages=200,
        previous_requests_on=(),
        today=tuesday,
    )
    assert fifteen.allowed
    assert fifteen.patron_pays
    more = document_delivery_decision(
        GINESTRA,
        standing=GOOD_STANDING,
        pages=31,
        total_pages=200,
        previous_requests_on=(),
        today=tuesday,
    )
    assert (more.reason, more.rule) == (Reason.COPY_SHARE_EXCEEDED, "G19")
    week = [date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 4)]
    fourth = document_delivery_decision(
        GINESTRA,
        standing=GOOD_STANDING,
        pages=10,
        total_pages=200,
        previous_requests_on=week,
        today=date(2025, 3, 6),
    )
    assert fourth.reason is Reason.DOCUMENT_DELIVERY_LIMIT
    next_week = document_delivery_decision(
        GINESTRA,
        standing=GOOD_STANDING,
        pages=10,
        total_pages=200,
        previous_requests_on=week,
        today=date(2025, 3, 10),
    )
    assert next_week.allowed


# G20 ---------------------------------------------------------------------------------------


def test_G20_an_ordered_paid_service_is_owed_and_excludes_until_paid() -> None:
    assert withdrawal_charge(GINESTRA, cost_cents=850, consented=True) == (850, "G20")
    assert withdrawal_charge(GINESTRA, cost_cents=850, consented=False) == (0, "G20")
    unpaid = standing_on(TODAY, unpaid_service_cents=850)
    assert unpaid.status is StandingStatus.EXCLUDED
    assert unpaid.refusal == (Reason.EXCLUDED, "G20")
    assert checkout(standing=unpaid).reason is Reason.EXCLUDED
    paid = standing_on(TODAY, open_restrictions=[(RestrictionKind.EXCLUSION, "G20")])
    assert paid.status is StandingStatus.OK
    assert paid.to_close == ((RestrictionKind.EXCLUSION, "G20"),)
