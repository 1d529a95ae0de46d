"""Holds ready for pickup, pickup expiry, and standing changes: each told once, at the right
moment (G13, C4, C7, C8, G16)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.reminders.cycles import run_cycle
from bot.services import holds, loans
from db import circulation as repo
from db import identity
from tests.integration.reminders.conftest import World, at, lend, linked, outbox
from tests.integration.reminders.test_cycles import due_of, local


async def hold_row(world: World, hold_id: int) -> repo.HoldRow:
    async with world.store.snapshot() as conn:
        hold = await repo.hold_by_id(conn, hold_id)
    assert hold is not None
    return hold


async def queue_of_two(world: World, branch: str) -> tuple[int, int, int]:
    """A title lent to L1 and held by H1 then H2; returns (record, hold 1, hold 2)."""
    await linked(world, "L1", branch)
    await linked(world, "H1", branch)
    await linked(world, "H2", branch)
    await lend(world, "L1", "Il sentiero dei nidi di ragno", "C1", at(2026, 3, 2), branch)
    rows = await world.store.reader.execute_fetchall(
        "SELECT record_id FROM items WHERE barcode = 'C1'"
    )
    record = int(next(iter(rows))[0])
    first = await holds.place_hold(
        world.library, card="H1", record_id=record, pickup=branch, now=at(2026, 3, 3)
    )
    second = await holds.place_hold(
        world.library, card="H2", record_id=record, pickup=branch, now=at(2026, 3, 4)
    )
    return record, first.hold_id, second.hold_id


async def test_G13_a_trapped_copy_is_announced_in_the_checkin_transaction(ginestra: World) -> None:
    _, first, _ = await queue_of_two(ginestra, "MON")
    result = await loans.checkin(ginestra.library, barcode="C1", now=at(2026, 3, 10, 17, 0))
    assert result.hold_trapped == first
    (notice,) = await outbox(ginestra, "hold_ready")
    hold = await hold_row(ginestra, first)
    assert notice.patron_id == hold.patron_id
    # G13: told within 24 hours — here at once (17:00 is outside the quiet hours).
    assert notice.not_before == at(2026, 3, 10, 17, 0)
    assert "Montevarchi" in notice.text
    assert "holds:list" in notice.callbacks
    assert hold.facts.expires_on is not None
    assert f"{hold.facts.expires_on.year}" in notice.text
    # The branch, its opening hours up to the last day, and the last day to collect.
    assert "Ultimo giorno per il ritiro" in notice.text  # her language: Italian
    assert "09:00–12:30" in notice.text
    # The holds cycle that day finds nothing new to say.
    report = await run_cycle(ginestra.library, "holds", at=local(date(2026, 3, 11)))
    assert report.notices == []


async def test_G13_a_copy_trapped_late_in_the_evening_is_announced_the_next_morning(
    ginestra: World,
) -> None:
    await queue_of_two(ginestra, "MON")
    await loans.checkin(ginestra.library, barcode="C1", now=at(2026, 3, 10, 22, 15))
    (notice,) = await outbox(ginestra, "hold_ready")
    assert notice.not_before == at(2026, 3, 11, 8, 0)  # within 24 hours (G13), not at night


async def test_G13_the_holds_cycle_tells_a_ready_hold_nobody_announced(ginestra: World) -> None:
    await ginestra.patron("L1", "MON")
    await ginestra.patron("H1", "MON")
    await lend(ginestra, "L1", "Ultimo viene il corvo", "C1", at(2026, 3, 2), "MON")
    rows = await ginestra.store.reader.execute_fetchall(
        "SELECT record_id FROM items WHERE barcode = 'C1'"
    )
    record = int(next(iter(rows))[0])
    hold = await holds.place_hold(
        ginestra.library, card="H1", record_id=record, pickup="MON", now=at(2026, 3, 3)
    )
    await loans.checkin(ginestra.library, barcode="C1", now=at(2026, 3, 10))
    assert await outbox(ginestra) == []  # H1 has no Telegram account yet
    async with ginestra.store.transaction() as conn:
        patron = await repo.patron_by_card(conn, "H1")
        assert patron is not None
        await identity.add_link(conn, patron.patron_id, 77, 77, at(2026, 3, 10, 12))
    report = await run_cycle(ginestra.library, "holds", at=local(date(2026, 3, 11), 8, 30))
    assert [(n.card, n.items[0]["hold_id"], n.items[0]["level"]) for n in report.notices] == [
        ("H1", hold.hold_id, "ready")
    ]


async def test_G13_pickup_reminder_the_day_before_then_expiry_passes_the_copy_on(
    ginestra: World,
) -> None:
    _, first, second = await queue_of_two(ginestra, "MON")
    await loans.checkin(ginestra.library, barcode="C1", now=at(2026, 3, 10, 11))
    expires_on = (await hold_row(ginestra, first)).facts.expires_on
    assert expires_on is not None
    day = date(2026, 3, 11)
    levels: dict[date, list[tuple[str, str]]] = {}
    while day <= expires_on + timedelta(days=1):
        report = await run_cycle(ginestra.library, "holds", at=local(day, 8, 30))
        for notice in report.notices:
            for item in notice.items:
                levels.setdefault(day, []).append((notice.card, str(item["level"])))
        day += timedelta(days=1)
    assert levels[expires_on - timedelta(days=1)] == [("H1", "last_call")]
    after = expires_on + timedelta(days=1)
    # The next patron gets the copy and is told; the one who missed it is told too.
    assert sorted(levels[after]) == [("H1", "missed"), ("H2", "ready")]
    assert set(levels) == {expires_on - timedelta(days=1), after}
    assert (await hold_row(ginestra, first)).facts.state.value == "expired"
    assert (await hold_row(ginestra, second)).facts.state.value == "ready"
    missed = [n for n in await outbox(ginestra, "holds") if "Il sentiero" in n.text]
    assert len(missed) == 3


async def test_C4_a_copy_arriving_from_another_library_is_announced_on_arrival(
    cbnem: World,
) -> None:
    await linked(cbnem, "L1")
    await linked(cbnem, "H1")
    await lend(cbnem, "L1", "La giornata d'uno scrutatore", "C1", at(2026, 3, 2))
    rows = await cbnem.store.reader.execute_fetchall(
        "SELECT record_id FROM items WHERE barcode = 'C1'"
    )
    record = int(next(iter(rows))[0])
    hold = await holds.place_hold(
        cbnem.library, card="H1", record_id=record, pickup="CER", now=at(2026, 3, 3)
    )
    await loans.checkin(cbnem.library, barcode="C1", branch="BRU", now=at(2026, 3, 10))
    assert await outbox(cbnem, "hold_ready") == []  # travelling to Cernusco (N1)
    report = await run_cycle(cbnem.library, "holds", at=local(date(2026, 3, 12), 8, 30))
    assert [(n.card, n.items[0]["hold_id"]) for n in report.notices] == [("H1", hold.hold_id)]
    assert "Cernusco sul Naviglio" in (await outbox(cbnem, "holds"))[0].text


async def test_C8_suspension_after_30_days_late_is_opened_and_told_once(cbnem: World) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Se una notte d'inverno", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    day_31 = due + timedelta(days=31)
    report = await run_cycle(cbnem.library, "overdue", at=local(day_31))
    (notice,) = report.notices
    kinds = sorted((str(item["level"]), str(item.get("kind", ""))) for item in notice.items)
    assert kinds == [("opened", "suspension"), ("suspension", "")]
    rows = await cbnem.store.reader.execute_fetchall(
        "SELECT kind, rule FROM suspensions WHERE ended_at IS NULL"
    )
    assert [tuple(row) for row in rows] == [("suspension", "C8")]
    assert (await run_cycle(cbnem.library, "overdue", at=local(day_31, 10))).notices == []
    assert (
        await run_cycle(cbnem.library, "overdue", at=local(day_31 + timedelta(days=1)))
    ).notices == []


async def test_C7_a_fine_charged_at_checkin_and_the_suspension_ending_are_told_once(
    cbnem: World,
) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Lezioni americane", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    await loans.checkin(cbnem.library, barcode="B1", now=local(due + timedelta(days=10), 11))
    report = await run_cycle(cbnem.library, "overdue", at=local(due + timedelta(days=11)))
    items = [item for notice in report.notices for item in notice.items]
    levels = sorted(str(item["level"]) for item in items)
    assert levels == ["charged", "opened"]  # C7 € 1.00, and C8: an unpaid fine suspends
    assert next(item["amount_cents"] for item in items if item["level"] == "charged") == 100
    (notice,) = await outbox(cbnem, "overdue")
    assert "1,00" in notice.text
    from bot.services import accounts

    await accounts.pay(
        cbnem.library, card="A1", amount_cents=100, now=local(due + timedelta(days=12), 10)
    )
    report = await run_cycle(cbnem.library, "overdue", at=local(due + timedelta(days=13)))
    assert [item["level"] for notice in report.notices for item in notice.items] == ["ended"]
    assert (
        await run_cycle(cbnem.library, "overdue", at=local(due + timedelta(days=14)))
    ).notices == []


async def test_G16_ginestra_overdue_levels_say_what_comes_next(ginestra: World) -> None:
    await linked(ginestra, "A1", "MON", language="en")
    loan_id = await lend(ginestra, "A1", "Il cavaliere inesistente", "B1", at(2026, 3, 2), "MON")
    due = await due_of(ginestra, loan_id)
    first = await run_cycle(ginestra.library, "overdue", at=local(due + timedelta(days=1)))
    assert [item["level"] for item in first.notices[0].items] == ["first_day"]
    texts = [n.text for n in await outbox(ginestra, "overdue")]
    assert "suspended (rule G16)" in texts[0]  # no fines at Ginestra: the next step is G16
    # No grace level without fines; the suspension level on day 31, exclusion on day 91.
    sent = []
    for days in range(2, 92):
        report = await run_cycle(ginestra.library, "overdue", at=local(due + timedelta(days=days)))
        if report.notices:
            sent.append(days)
    assert sent == [31, 91]
    last = (await outbox(ginestra, "overdue"))[-1].text
    assert "excluded" in last
    assert "G16" in last


async def test_G13_a_notice_that_cannot_be_worded_never_fails_the_checkin(
    ginestra: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.reminders import render

    _, first, _ = await queue_of_two(ginestra, "MON")

    def broken(*args: object) -> None:
        raise ValueError("a rendering bug (injected)")

    monkeypatch.setattr(render, "hold_ready_message", broken)
    result = await loans.checkin(ginestra.library, barcode="C1", now=at(2026, 3, 10, 11))
    assert result.hold_trapped == first  # the check-in and the trapping are kept
    assert await outbox(ginestra) == []
    monkeypatch.undo()
    report = await run_cycle(ginestra.library, "holds", at=local(date(2026, 3, 11), 8, 30))
    assert [(n.items[0]["hold_id"], n.items[0]["level"]) for n in report.notices] == [
        (first, "ready")
    ]
