"""Properties that must hold for any input, not just the seed's examples (Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.catalog.model import ItemStatus, MaterialType
from bot.circulation.checkout import checkout_decision
from bot.circulation.facts import HoldState, PatronCategory
from bot.circulation.fines import Lateness, patron_fines
from bot.circulation.holds import queue_positions
from bot.circulation.library_calendar import LibraryCalendar
from bot.circulation.policy import Policy
from bot.circulation.renewal import renewal_decision
from bot.circulation.short_loan import short_loan_window
from bot.circulation.standing import GOOD_STANDING

from .support import (
    CBNEM,
    CBNEM_CALENDAR,
    GINESTRA,
    GINESTRA_CALENDAR,
    at,
    hold,
    item,
    loan,
    patron,
)

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
categories = st.sampled_from(list(PatronCategory))
presets = st.sampled_from([GINESTRA, CBNEM])
branches = st.sampled_from(sorted(CBNEM_CALENDAR.branch_codes))
lent_types = st.sampled_from(
    [MaterialType.BOOK, MaterialType.AUDIOVISUAL, MaterialType.AUDIOBOOK, MaterialType.PERIODICAL]
)


def calendar_of(policy: Policy) -> tuple[LibraryCalendar, str]:
    return (GINESTRA_CALENDAR, "GIN") if policy is GINESTRA else (CBNEM_CALENDAR, "COL")


# Fines ---------------------------------------------------------------------------------------

lateness_lists = st.lists(
    st.tuples(st.integers(min_value=0, max_value=400), st.integers(min_value=-5, max_value=500)),
    max_size=12,
)


@settings(max_examples=300)
@given(category=categories, periods=lateness_lists, owed=st.integers(0, 3000))
def test_a_fine_never_exceeds_its_caps(
    category: PatronCategory, periods: list[tuple[int, int]], owed: int
) -> None:
    rules = CBNEM.fines
    assert rules is not None
    caps = rules.caps.get(category)
    start = date(2025, 1, 1)
    items = [
        Lateness(
            key=n,
            due_on=start + timedelta(days=offset),
            end_on=start + timedelta(days=offset + late),
        )
        for n, (offset, late) in enumerate(periods)
    ]
    result = patron_fines(CBNEM, category, items, owed_elsewhere_cents=owed)
    assert result.total_cents == sum(result.by_key.values())
    for (_, late), key in zip(periods, range(len(periods)), strict=True):
        amount = result.by_key[key]
        own = late * 10 if late > 7 else 0  # C6 grace, C7 € 0.10 a day from day one
        assert 0 <= amount <= min(own, caps.one_title_cents)
    for group in result.groups:
        if len(group) > 1:
            assert sum(result.by_key[key] for key in group) <= caps.several_titles_cents
    assert result.total_cents + owed <= max(2000, owed)
    assert result.total_cents <= 2000


@given(
    category=categories, late=st.integers(min_value=-10, max_value=1000), owed=st.integers(0, 3000)
)
def test_one_late_item_owes_exactly_ten_cents_a_day_within_its_caps(
    category: PatronCategory, late: int, owed: int
) -> None:
    rules = CBNEM.fines
    assert rules is not None
    due = date(2025, 3, 13)
    result = patron_fines(
        CBNEM,
        category,
        [Lateness(key=1, due_on=due, end_on=due + timedelta(days=late))],
        owed_elsewhere_cents=owed,
    )
    own = 10 * late if late > 7 else 0
    cap = 1000 if category is not PatronCategory.CHILD else 500
    assert result.total_cents == max(0, min(own, cap, 2000 - owed))


@given(periods=lateness_lists)
def test_ginestra_never_charges_money(periods: list[tuple[int, int]]) -> None:
    start = date(2025, 1, 1)
    items = [
        Lateness(key=n, due_on=start + timedelta(o), end_on=start + timedelta(o + late))
        for n, (o, late) in enumerate(periods)
    ]
    assert patron_fines(GINESTRA, PatronCategory.ADULT, items).total_cents == 0


# Renewals ------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    policy=presets,
    material=lent_types,
    due=days,
    asked=st.integers(min_value=-40, max_value=40),
    renewals=st.integers(min_value=0, max_value=3),
    held=st.booleans(),
)
def test_a_renewal_never_extends_a_loan_whose_title_another_patron_holds(
    policy: Policy, material: MaterialType, due: date, asked: int, renewals: int, held: bool
) -> None:
    calendar, branch = calendar_of(policy)
    decision = renewal_decision(
        loan(due, material, renewals=renewals, branch=branch),
        policy,
        calendar,
        at(due + timedelta(days=asked)),
        held_by_others=held,
    )
    if held:
        assert not decision.allowed
        assert decision.new_due_on is None
    if decision.allowed:
        assert decision.new_due_on is not None
        assert decision.new_due_on > due
        assert renewals < 2
        assert calendar.is_open(branch, decision.new_due_on)


# The calendar --------------------------------------------------------------------------------


@given(branch=branches, day=days, n=st.integers(min_value=0, max_value=40))
def test_add_opening_days_always_lands_on_an_open_day(branch: str, day: date, n: int) -> None:
    landed = CBNEM_CALENDAR.add_opening_days(branch, day, n)
    assert CBNEM_CALENDAR.is_open(branch, landed)
    assert landed >= day
    if n > 0:
        between = [
            day + timedelta(days=k)
            for k in range(1, (landed - day).days + 1)
            if CBNEM_CALENDAR.is_open(branch, day + timedelta(days=k))
        ]
        assert len(between) == n


@settings(max_examples=300)
@given(
    policy=presets,
    category=categories,
    material=lent_types,
    day=days,
    override=st.none() | st.integers(min_value=1, max_value=120),
)
def test_a_due_date_never_lands_on_a_closed_day(
    policy: Policy,
    category: PatronCategory,
    material: MaterialType,
    day: date,
    override: int | None,
) -> None:
    calendar, branch = calendar_of(policy)
    decision = checkout_decision(
        policy,
        calendar,
        patron=patron(category, home_branch=branch),
        item=item(
            material,
            home_branch=branch,
            published_on=date(2000, 1, 1),
            loan_days_override=override,
        ),
        item_status=ItemStatus.AVAILABLE,
        open_loans=(),
        standing=GOOD_STANDING,
        branch=branch,
        now=at(day),
    )
    if not decision.allowed:
        assert material is MaterialType.PERIODICAL
        assert policy is GINESTRA
        return
    assert decision.due is not None
    due = decision.due.due_on
    assert calendar.is_open(branch, due)
    earliest = day + timedelta(days=decision.due.loan_days)
    assert due >= earliest
    # It is the *first* opening day from the computed date (G11), not any later one.
    assert not any(
        calendar.is_open(branch, earliest + timedelta(days=k)) for k in range((due - earliest).days)
    )


@given(day=days, hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_a_short_loan_always_ends_after_it_starts_on_an_opening_day(
    day: date, hour: int, minute: int
) -> None:
    rules = GINESTRA.short_loan
    assert rules is not None
    now = at(day, hour, minute)
    window = short_loan_window(rules, GINESTRA_CALENDAR, branch="GIN", now=now)
    if hour < 12 or (day.weekday() != 5 and hour < 13):
        assert window is None
        return
    if window is not None:
        assert window.due_at > now
        assert GINESTRA_CALENDAR.is_open("GIN", window.due_on)
        assert window.due_on > day


# Holds ---------------------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.sampled_from(list(HoldState)), st.integers(min_value=0, max_value=5)),
        max_size=20,
    )
)
def test_queue_positions_are_1_to_n_without_gaps_in_placement_order(
    rows: list[tuple[HoldState, int]],
) -> None:
    holds = [
        hold(n, state=state, placed_at=at(date(2025, 1, 1) + timedelta(days=day)))
        for n, (state, day) in enumerate(rows)
    ]
    positions = queue_positions(holds)
    active = [h for h in holds if h.state.active]
    assert sorted(positions.values()) == list(range(1, len(active) + 1))
    assert set(positions) == {h.hold_id for h in active}
    for first in active:
        for second in active:
            if (first.placed_at, first.hold_id) < (second.placed_at, second.hold_id):
                assert positions[first.hold_id] < positions[second.hold_id]
