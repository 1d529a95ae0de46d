"""The consortium's rules (C1-C9, N1) through the service layer, on a real store.

The pure rules are tested one by one in tests/unit/circulation; here each rule is followed
through the store as the desk and the chat will drive it: what is written, what a patron sees.
Dates: 23 November 2026 is a Monday; 8 December and 25-26 December are national holidays.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.circulation import PatronCategory
from bot.services import accounts, holds, loans, patrons
from bot.services.errors import Refusal
from tests.integration.circulation.conftest import World, at


async def test_C1_one_card_borrows_and_holds_at_every_member_library(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.patron("B1", "COL")
    near = await cbnem.title_with_copies("Il barone rampante", ("VIM-1", "VIM"))
    far = await cbnem.title_with_copies("Le città invisibili", ("COL-1", "COL"))
    loan = await loans.checkout(cbnem.library, card="A1", barcode="VIM-1", now=at(2026, 11, 23))
    assert loan.due_on == date(2026, 12, 23)
    await loans.checkout(cbnem.library, card="B1", barcode="COL-1", now=at(2026, 11, 23))
    hold = await holds.place_hold(
        cbnem.library, card="A1", record_id=far, pickup="CER", now=at(2026, 11, 23)
    )
    assert (hold.state, hold.position, hold.pickup) == ("waiting", 1, "CER")
    assert near != far


async def test_C2_the_limits_count_loans_in_every_library(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    codes = list(cbnem.branches)
    for number in range(21):
        await cbnem.title_with_copies(f"Libro {number}", (f"B{number}", codes[number % 7]))
    for number in range(20):
        await loans.checkout(cbnem.library, card="A1", barcode=f"B{number}", now=at(2026, 11, 23))
    with pytest.raises(Refusal) as refused:
        await loans.checkout(cbnem.library, card="A1", barcode="B20", now=at(2026, 11, 23))
    assert (refused.value.code, refused.value.rule) == ("loan_limit", "C2")
    assert await cbnem.status("B20") == ("available", codes[20 % 7])


async def test_C3_a_copy_returned_elsewhere_travels_home(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Marcovaldo", ("BRU-1", "BRU"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    back = await loans.checkin(cbnem.library, barcode="BRU-1", branch="VIM", now=at(2026, 11, 23))
    assert (back.in_transit_to, back.hold_trapped, back.card) == ("BRU", None, "A1")
    assert await cbnem.status("BRU-1") == ("in_transit", "BRU")
    await holds.receive_transits(cbnem.library, now=at(2026, 11, 23, 18))
    assert await cbnem.status("BRU-1") == ("in_transit", "BRU")  # the van comes tomorrow
    await holds.receive_transits(cbnem.library, now=at(2026, 11, 24, 8))
    assert await cbnem.status("BRU-1") == ("available", "BRU")


async def test_C3_N1_a_returned_copy_fills_the_waiting_hold_no_van_on_sunday(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.patron("B1", "CER")
    record = await cbnem.title_with_copies("Se una notte d'inverno", ("BRU-1", "BRU"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    hold = await holds.place_hold(
        cbnem.library, card="B1", record_id=record, pickup="CER", now=at(2026, 11, 3)
    )
    # Returned at Vimodrone on Saturday: it travels to Cernusco, arriving on Monday (N1).
    back = await loans.checkin(cbnem.library, barcode="BRU-1", branch="VIM", now=at(2026, 11, 28))
    assert (back.hold_trapped, back.in_transit_to) == (hold.hold_id, "CER")
    summary = await patrons.summary(cbnem.library, card="B1", now=at(2026, 11, 28))
    assert summary.holds[0].state == "in_transit"
    await holds.receive_transits(cbnem.library, now=at(2026, 11, 29, 12))  # Sunday: no van
    assert await cbnem.status("BRU-1") == ("in_transit", "CER")
    await holds.receive_transits(cbnem.library, now=at(2026, 11, 30, 8))
    assert await cbnem.status("BRU-1") == ("on_hold_shelf", "CER")
    ready = (await patrons.summary(cbnem.library, card="B1", now=at(2026, 11, 30))).holds[0]
    # rule C4: kept 7 days from when it is at the pickup library.
    assert (ready.state, ready.ready_on, ready.expires_on) == (
        "ready",
        date(2026, 11, 30),
        date(2026, 12, 7),
    )


async def test_C4_a_request_keeps_a_copy_from_the_shelf_at_once(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    record = await cbnem.title_with_copies("Lezioni americane", ("BRU-1", "BRU"), ("VIM-1", "VIM"))
    hold = await holds.place_hold(
        cbnem.library, card="A1", record_id=record, pickup="BRU", now=at(2026, 11, 23)
    )
    assert (hold.state, hold.expires_on) == ("ready", date(2026, 11, 30))
    assert await cbnem.status("BRU-1") == ("on_hold_shelf", "BRU")
    assert await cbnem.status("VIM-1") == ("available", "VIM")
    # Collecting it is a checkout of the copy kept for her; the hold is fulfilled.
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 24))
    assert (await patrons.summary(cbnem.library, card="A1", now=at(2026, 11, 24))).holds == ()


async def test_C4_a_copy_kept_for_someone_else_is_not_lent(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.patron("B1", "BRU")
    record = await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    await holds.place_hold(
        cbnem.library, card="A1", record_id=record, pickup="BRU", now=at(2026, 11, 23)
    )
    with pytest.raises(Refusal) as refused:
        await loans.checkout(cbnem.library, card="B1", barcode="BRU-1", now=at(2026, 11, 23))
    assert refused.value.code in {"on_hold", "not_available"}


async def test_C4_an_uncollected_hold_passes_to_the_next_patron(cbnem: World) -> None:
    for card in ("A1", "B1", "C1"):
        await cbnem.patron(card, "BRU")
    record = await cbnem.title_with_copies("Il sentiero dei nidi di ragno", ("BRU-1", "BRU"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    first = await holds.place_hold(
        cbnem.library, card="B1", record_id=record, pickup="BRU", now=at(2026, 11, 3)
    )
    second = await holds.place_hold(
        cbnem.library, card="C1", record_id=record, pickup="BRU", now=at(2026, 11, 4)
    )
    assert (first.position, second.position) == (1, 2)
    await loans.checkin(cbnem.library, barcode="BRU-1", branch="BRU", now=at(2026, 11, 23))
    b1 = (await patrons.summary(cbnem.library, card="B1", now=at(2026, 11, 23))).holds[0]
    assert (b1.state, b1.expires_on) == ("ready", date(2026, 11, 30))
    assert await holds.expire_pickups(cbnem.library, now=at(2026, 11, 30, 19)) == []
    expired = await holds.expire_pickups(cbnem.library, now=at(2026, 12, 1, 8))
    assert [(e.hold_id, e.next_hold_id) for e in expired] == [(first.hold_id, second.hold_id)]
    c1 = (await patrons.summary(cbnem.library, card="C1", now=at(2026, 12, 1))).holds[0]
    assert (c1.state, c1.position) == ("ready", 1)
    assert (await patrons.summary(cbnem.library, card="B1", now=at(2026, 12, 1))).holds == ()


async def test_C5_renewal_window_and_holds_through_the_store(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.patron("B1", "BRU")
    record = await cbnem.title_with_copies("Il cavaliere inesistente", ("BRU-1", "BRU"))
    loan = await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    assert loan.due_on == date(2026, 12, 2)
    with pytest.raises(Refusal) as early:
        await loans.renew(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 28))
    assert early.value.code == "too_early"
    renewed = await loans.renew(
        cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 29), channel="telegram"
    )
    # From the current due date: 2 December + 30 days = 1 January, a holiday: 2 January.
    assert (renewed.due_on, renewed.renewals) == (date(2027, 1, 2), 1)
    assert renewed.receipt.startswith("R-2026-")
    await holds.place_hold(
        cbnem.library, card="B1", record_id=record, pickup="BRU", now=at(2026, 12, 30)
    )
    with pytest.raises(Refusal) as held:
        await loans.renew(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 12, 31))
    assert (held.value.code, held.value.rule) == ("on_hold", "C5")


@pytest.mark.parametrize(("days_late", "owed"), [(7, 0), (8, 80), (200, 1000)])
async def test_C6_C7_one_book_returned_late(cbnem: World, days_late: int, owed: int) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    loan = await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 1, 5))
    returned = date.fromordinal(loan.due_on.toordinal() + days_late)
    back = await loans.checkin(
        cbnem.library, barcode="BRU-1", now=at(returned.year, returned.month, returned.day)
    )
    assert back.fine_cents == owed
    summary = await patrons.summary(cbnem.library, card="A1", now=at(2026, 12, 31))
    assert summary.fines_owed_cents == owed


@pytest.mark.parametrize(("category", "total"), [("adult", 2000), ("child", 1000)])
@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1)])
async def test_C7_three_books_late_together_share_the_several_titles_cap(
    cbnem: World, category: str, total: int, order: tuple[int, int, int]
) -> None:
    await cbnem.patron("K1", "BRU", category=category)
    for number in range(3):
        await cbnem.title_with_copies(f"Libro {number}", (f"B{number}", "BRU"))
        await loans.checkout(cbnem.library, card="K1", barcode=f"B{number}", now=at(2026, 1, 5))
    # Due 4 February; returned 200 days later, one after the other, in any order.
    fines = [
        (
            await loans.checkin(cbnem.library, barcode=f"B{number}", now=at(2026, 8, 24, 10 + i))
        ).fine_cents
        for i, number in enumerate(order)
    ]
    assert sum(fines) == total
    summary = await patrons.summary(cbnem.library, card="K1", now=at(2026, 8, 25))
    assert summary.fines_owed_cents == total


async def test_C8_an_unpaid_fine_suspends_until_it_is_paid(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    await cbnem.title_with_copies("Marcovaldo", ("BRU-2", "BRU"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 10, 1))
    back = await loans.checkin(cbnem.library, barcode="BRU-1", now=at(2026, 11, 9))
    assert back.fine_cents == 90  # due 31 October, 9 days late
    summary = await patrons.summary(cbnem.library, card="A1", now=at(2026, 11, 9))
    assert (summary.status, summary.restrictions[0].rule) == ("suspended", "C8")
    with pytest.raises(Refusal) as refused:
        await loans.checkout(cbnem.library, card="A1", barcode="BRU-2", now=at(2026, 11, 9))
    assert (refused.value.code, refused.value.rule) == ("suspended", "C8")
    with pytest.raises(Refusal) as too_much:
        await accounts.pay(cbnem.library, card="A1", amount_cents=91, now=at(2026, 11, 10))
    assert too_much.value.code == "exceeds_balance"
    partly = await accounts.pay(cbnem.library, card="A1", amount_cents=50, now=at(2026, 11, 10))
    assert (partly.owed_cents, partly.status) == (40, "suspended")
    paid = await accounts.pay(cbnem.library, card="A1", amount_cents=40, now=at(2026, 11, 10))
    assert (paid.owed_cents, paid.status) == (0, "ok")
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-2", now=at(2026, 11, 10))


async def test_C8_more_than_30_days_late_suspends_every_library(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    await cbnem.title_with_copies("Marcovaldo", ("VIM-1", "VIM"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 9, 1))
    # Due 1 October; on 31 October 30 days late (allowed), on 1 November 31 (suspended).
    on_30 = await patrons.summary(cbnem.library, card="A1", now=at(2026, 10, 31))
    assert on_30.status == "ok"
    with pytest.raises(Refusal) as refused:
        await loans.checkout(cbnem.library, card="A1", barcode="VIM-1", now=at(2026, 11, 2))
    assert refused.value.code == "suspended"


async def test_C9_a_lost_out_of_print_book_costs_at_least_10_euros(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    _, amount = await loans.declare_lost(
        cbnem.library,
        barcode="BRU-1",
        now=at(2026, 11, 20),
        in_print=False,
        cover_price_cents=650,
    )
    assert amount == 1000
    assert await cbnem.status("BRU-1") == ("lost", "BRU")
    summary = await patrons.summary(cbnem.library, card="A1", now=at(2026, 11, 20))
    assert (summary.loans, summary.fines_owed_cents) == ((), 1000)


async def test_G6_anyone_may_bring_a_copy_back(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    back = await loans.checkin(cbnem.library, barcode="BRU-1", now=at(2026, 11, 20))  # no card
    assert back.card == "A1"
    assert (await patrons.summary(cbnem.library, card="A1", now=at(2026, 11, 20))).loans == ()


async def test_G7_a_loan_is_personal(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.patron("B1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    loan = await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    with pytest.raises(Refusal) as refused:
        await loans.renew(cbnem.library, card="B1", barcode="BRU-1", now=at(2026, 11, 30))
    assert refused.value.code == "not_your_loan"
    summary = await patrons.summary(cbnem.library, card="A1", now=at(2026, 11, 30))
    assert [(line.barcode, line.due_on, line.renewals) for line in summary.loans] == [
        ("BRU-1", loan.due_on, 0)
    ]


async def test_G12_the_patron_gets_the_list_of_current_loans(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    await cbnem.title_with_copies("Film", ("BRU-2", "BRU"), kind="audiovisual")
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-2", now=at(2026, 11, 3))
    summary = await patrons.summary(cbnem.library, card="A1", now=at(2026, 11, 12))
    # Nearest due date first; the film (7 days, due 10 November) is 2 days late.
    assert [(line.barcode, line.due_on, line.overdue_days) for line in summary.loans] == [
        ("BRU-2", date(2026, 11, 10), 2),
        ("BRU-1", date(2026, 12, 2), 0),
    ]


async def test_G15_each_loan_gives_its_due_date_on_a_receipt(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    loan = await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    assert loan.as_json()["due"] == "2026-12-02"
    assert loan.receipt == f"P-2026-{loan.loan_id:06d}"


async def test_unknown_card_copy_and_branch_are_refused_by_name(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    for call, code in [
        (
            loans.checkout(cbnem.library, card="ZZ", barcode="BRU-1", now=at(2026, 11, 2)),
            "unknown_card",
        ),
        (
            loans.checkout(cbnem.library, card="A1", barcode="NOPE", now=at(2026, 11, 2)),
            "unknown_item",
        ),
        (
            loans.checkout(
                cbnem.library, card="A1", barcode="BRU-1", branch="XX", now=at(2026, 11, 2)
            ),
            "unknown_branch",
        ),
        (loans.checkin(cbnem.library, barcode="BRU-1", now=at(2026, 11, 2)), "not_on_loan"),
    ]:
        with pytest.raises(Refusal) as refused:
            await call
        assert refused.value.code == code
    assert await cbnem.status("BRU-1") == ("available", "BRU")


async def test_C9_a_ruined_copy_is_paid_like_a_lost_one_and_leaves_the_shelf(cbnem: World) -> None:
    await cbnem.patron("A1", "BRU")
    await cbnem.title_with_copies("Palomar", ("BRU-1", "BRU"))
    await loans.checkout(cbnem.library, card="A1", barcode="BRU-1", now=at(2026, 11, 2))
    _, amount = await loans.declare_lost(
        cbnem.library,
        barcode="BRU-1",
        now=at(2026, 11, 20),
        in_print=False,
        cover_price_cents=1500,
        damaged=True,
    )
    assert amount == 1500
    assert await cbnem.status("BRU-1") == ("damaged", "BRU")


async def test_a_registration_date_to_come_is_refused(cbnem: World) -> None:
    with pytest.raises(Refusal) as refused:
        await patrons.add_patron(
            cbnem.library,
            card="F1",
            name="Futuro",
            category=PatronCategory.ADULT,
            branch="BRU",
            registered_on=date(2027, 1, 1),
            now=at(2026, 11, 23),
        )
    assert refused.value.code == "bad_date"
