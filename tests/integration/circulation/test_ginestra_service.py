"""Ginestra's regulation (G3-G17) through the service layer, on a real store.

One branch, Montevarchi, open Monday to Saturday; San Lorenzo (10 August) is its patron saint
day. 25 November 2026 is a Wednesday.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.circulation.standing import RestrictionKind
from bot.services import accounts, holds, loans, patrons
from bot.services.errors import Refusal
from tests.integration.circulation.conftest import World, at


async def test_G11_a_due_date_on_christmas_moves_to_the_next_opening_day(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.title_with_copies("La coscienza di Zeno", ("MON-1", "MON"))
    loan = await loans.checkout(ginestra.library, card="G1", barcode="MON-1", now=at(2026, 11, 25))
    # 30 days: Friday 25 December; Santo Stefano and Sunday are closed too: Monday 28.
    assert (loan.due_on, loan.moved_from) == (date(2026, 12, 28), date(2026, 12, 25))


async def test_G11_the_towns_patron_saint_day_is_a_closed_day(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.title_with_copies("Senilità", ("MON-1", "MON"))
    loan = await loans.checkout(ginestra.library, card="G1", barcode="MON-1", now=at(2026, 7, 11))
    assert (loan.due_on, loan.moved_from) == (date(2026, 8, 11), date(2026, 8, 10))


async def test_G3_a_recent_dvd_and_the_local_history_section_stay_in_the_library(
    ginestra: World,
) -> None:
    await ginestra.patron("G1", "MON")
    record = await ginestra.record("Un film")
    await ginestra.copy(record, "DVD-NEW", "MON", kind="audiovisual", published=date(2025, 6, 25))
    await ginestra.copy(record, "DVD-OLD", "MON", kind="audiovisual", published=date(2025, 4, 25))
    local = await ginestra.record("Storia di Montevarchi")
    await ginestra.copy(local, "LOC-1", "MON", section="LOCAL")
    for barcode in ("DVD-NEW", "LOC-1"):
        with pytest.raises(Refusal) as refused:
            await loans.checkout(ginestra.library, card="G1", barcode=barcode, now=at(2026, 11, 25))
        assert (refused.value.code, refused.value.rule) == ("not_loanable", "G3")
    dvd = await loans.checkout(ginestra.library, card="G1", barcode="DVD-OLD", now=at(2026, 11, 25))
    assert dvd.due_on == date(2026, 12, 2)  # G9: 7 days


async def test_G13_holds_only_on_copies_on_loan_kept_three_opening_days(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.patron("G2", "MON")
    await ginestra.patron("G3", "MON")
    record = await ginestra.title_with_copies("Il giorno della civetta", ("MON-1", "MON"))
    with pytest.raises(Refusal) as on_shelf:
        await holds.place_hold(
            ginestra.library, card="G2", record_id=record, pickup="MON", now=at(2026, 11, 2)
        )
    assert (on_shelf.value.code, on_shelf.value.rule) == ("item_available", "G13")
    await loans.checkout(ginestra.library, card="G1", barcode="MON-1", now=at(2026, 11, 2))
    await holds.place_hold(
        ginestra.library, card="G2", record_id=record, pickup="MON", now=at(2026, 11, 3)
    )
    await holds.place_hold(
        ginestra.library, card="G3", record_id=record, pickup="MON", now=at(2026, 11, 4)
    )
    # Back on Friday 4 December: kept Saturday 5, Monday 7, Wednesday 9 (8th: Immacolata).
    back = await loans.checkin(ginestra.library, barcode="MON-1", now=at(2026, 12, 4))
    assert back.hold_trapped is not None
    ready = (await patrons.summary(ginestra.library, card="G2", now=at(2026, 12, 4))).holds[0]
    assert (ready.state, ready.expires_on) == ("ready", date(2026, 12, 9))
    expired = await holds.expire_pickups(ginestra.library, now=at(2026, 12, 10, 9))
    assert len(expired) == 1
    g3 = (await patrons.summary(ginestra.library, card="G3", now=at(2026, 12, 10))).holds[0]
    assert (g3.state, g3.position) == ("ready", 1)


async def test_G13_a_sixth_hold_is_refused(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.patron("G2", "MON")
    for number in range(6):
        await ginestra.title_with_copies(f"Libro {number}", (f"B{number}", "MON"))
        await loans.checkout(ginestra.library, card="G1", barcode=f"B{number}", now=at(2026, 11, 2))
    records = [
        row[0]
        for row in await ginestra.store.reader.execute_fetchall(
            "SELECT id FROM records ORDER BY id"
        )
    ]
    for record in records[:5]:
        await holds.place_hold(
            ginestra.library, card="G2", record_id=record, pickup="MON", now=at(2026, 11, 3)
        )
    with pytest.raises(Refusal) as refused:
        await holds.place_hold(
            ginestra.library, card="G2", record_id=records[5], pickup="MON", now=at(2026, 11, 3)
        )
    assert (refused.value.code, refused.value.rule) == ("hold_limit", "G13")


async def test_G14_renewal_from_the_request_date_with_a_kept_receipt(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.title_with_copies("Il gattopardo", ("MON-1", "MON"))
    await loans.checkout(ginestra.library, card="G1", barcode="MON-1", now=at(2026, 12, 5))
    # Due Monday 4 January; renewed on 31 December: one calendar month from the request.
    renewed = await loans.renew(
        ginestra.library, card="G1", barcode="MON-1", now=at(2026, 12, 31), channel="telegram"
    )
    assert renewed.due_on == date(2027, 2, 1)  # 31 January is a Sunday
    rows = await ginestra.store.reader.execute_fetchall(
        "SELECT receipt, old_due_on, new_due_on, channel FROM renewals"
    )
    assert [tuple(row) for row in rows] == [
        (renewed.receipt, "2027-01-04", "2027-02-01", "telegram")
    ]
    with pytest.raises(Refusal) as late:
        await loans.renew(ginestra.library, card="G1", barcode="MON-1", now=at(2027, 2, 2))
    assert late.value.code == "too_late"


async def test_G16_suspended_past_30_days_excluded_past_90_until_staff_lift_it(
    ginestra: World,
) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.title_with_copies("Libro", ("MON-1", "MON"))
    await ginestra.title_with_copies("Altro", ("MON-2", "MON"))
    await loans.checkout(ginestra.library, card="G1", barcode="MON-1", now=at(2026, 1, 12))
    # Due 11 February: 31 days late on 14 March.
    suspended = await patrons.summary(ginestra.library, card="G1", now=at(2026, 3, 14))
    assert (suspended.status, suspended.restrictions[0].rule) == ("suspended", "G16")
    # 90 days late on 12 May: still suspended; 91 on 13 May: excluded.
    assert (await patrons.summary(ginestra.library, card="G1", now=at(2026, 5, 12))).status == (
        "suspended"
    )
    assert (await patrons.summary(ginestra.library, card="G1", now=at(2026, 5, 13))).status == (
        "excluded"
    )
    # Returning the book ends the suspension, not the exclusion.
    await loans.checkin(ginestra.library, barcode="MON-1", now=at(2026, 5, 14))
    after = await patrons.summary(ginestra.library, card="G1", now=at(2026, 5, 14))
    assert [(r.kind, r.rule, r.lifted_by) for r in after.restrictions] == [
        ("exclusion", "G16", "staff")
    ]
    assert after.fines_owed_cents == 0  # Ginestra sanctions without money
    with pytest.raises(Refusal) as refused:
        await loans.checkout(ginestra.library, card="G1", barcode="MON-2", now=at(2026, 5, 14))
    assert refused.value.code == "excluded"
    lifted = await accounts.lift_restriction(
        ginestra.library,
        card="G1",
        key=(RestrictionKind.EXCLUSION, "G16"),
        now=at(2026, 5, 15),
        by="desk:test",
    )
    assert lifted.status.value == "ok"
    await loans.checkout(ginestra.library, card="G1", barcode="MON-2", now=at(2026, 5, 15))


async def test_G4_a_short_loan_over_the_weekend(ginestra: World) -> None:
    await ginestra.patron("G1", "MON", registered=date(2026, 1, 10))
    record = await ginestra.record("Enciclopedia")
    await ginestra.copy(record, "REF-1", "MON", section="REF")
    loan = await loans.checkout(
        ginestra.library, card="G1", barcode="REF-1", now=at(2026, 11, 28, 12, 45), short_loan=True
    )
    # Saturday 12:30 to Monday 09:00.
    assert loan.due_on == date(2026, 11, 30)
    assert loan.short_loan_until is not None
    assert loan.short_loan_until.astimezone(at(2026, 1, 1).tzinfo).hour in (8, 9)
    with pytest.raises(Refusal) as refused:
        await loans.renew(ginestra.library, card="G1", barcode="REF-1", now=at(2026, 11, 29))
    assert refused.value.code == "not_renewable"


async def test_G17_a_lost_book_in_print_is_replaced_not_paid(ginestra: World) -> None:
    await ginestra.patron("G1", "MON")
    await ginestra.title_with_copies("Libro", ("MON-1", "MON"))
    await loans.checkout(ginestra.library, card="G1", barcode="MON-1", now=at(2026, 11, 2))
    method, amount = await loans.declare_lost(
        ginestra.library, barcode="MON-1", now=at(2026, 11, 20)
    )
    assert amount is None
    assert method
    assert (
        await patrons.summary(ginestra.library, card="G1", now=at(2026, 11, 20))
    ).fines_owed_cents == 0
