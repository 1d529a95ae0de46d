"""The notice cycles on a real store, with injected time: what is queued, when, and only once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.reminders import timing
from bot.reminders.cycles import run_cycle
from bot.services import loans
from bot.services.context import Languages, Library
from db.store import Store
from tests.integration.circulation.conftest import ROME
from tests.integration.reminders.conftest import World, at, lend, linked, outbox

NOON = time(12, 0)


def local(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME).astimezone(UTC)


async def due_of(world: World, loan_id: int) -> date:
    rows = await world.store.reader.execute_fetchall(
        "SELECT due_on FROM loans WHERE id = ?", (loan_id,)
    )
    return date.fromisoformat(str(next(iter(rows))[0]))


async def set_timing(world: World, **changes: str) -> None:
    async with world.store.transaction() as conn:
        await timing.change(conn, world.library.reminders, changes, now=at(2026, 1, 2), by="test")


async def test_G15_due_reminders_on_the_configured_days_and_hour_only(cbnem: World) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Il barone rampante", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    sent_on: list[date] = []
    day = date(2026, 3, 2)
    while day <= due + timedelta(days=1):
        report = await run_cycle(cbnem.library, "reminders", at=local(day))
        if report.queued:
            sent_on.append(day)
        day += timedelta(days=1)
    assert sent_on == [due - timedelta(days=3), due]
    notices = await outbox(cbnem, "due_reminder")
    assert len(notices) == 2
    for notice in notices:
        assert notice.not_before.astimezone(ROME).time() == time(9, 0)
        assert f"renew:{loan_id}" in notice.callbacks
        assert "Il barone rampante" in notice.text


async def test_changing_the_offsets_in_the_store_changes_the_next_run(cbnem: World) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Marcovaldo", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    await set_timing(cbnem, due_offsets="5,1")
    assert (
        await run_cycle(cbnem.library, "reminders", at=local(due - timedelta(days=3)))
    ).queued == 0
    assert (
        await run_cycle(cbnem.library, "reminders", at=local(due - timedelta(days=5)))
    ).queued == 1
    assert (
        await run_cycle(cbnem.library, "reminders", at=local(due - timedelta(days=1)))
    ).queued == 1
    assert (await run_cycle(cbnem.library, "reminders", at=local(due))).queued == 0


async def test_quiet_hours_hold_a_notice_until_the_morning(cbnem: World) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Palomar", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    # A manual run at 22:30 (bibliobot cycle run --at): decided now, sent at 08:00.
    await run_cycle(cbnem.library, "reminders", at=local(due, 22, 30))
    (notice,) = await outbox(cbnem, "due_reminder")
    assert notice.not_before == local(due + timedelta(days=1), 8, 0)
    # The quiet hours are the administrators': 23:00-07:00 moves it to 07:00.
    await set_timing(cbnem, quiet_hours="23:00-07:00")
    loan_2 = await lend(cbnem, "A1", "Le cosmicomiche", "B2", at(2026, 3, 3))
    due_2 = await due_of(cbnem, loan_2)
    await run_cycle(cbnem.library, "reminders", at=local(due_2, 23, 30))
    notice_2 = (await outbox(cbnem, "due_reminder"))[-1]
    assert notice_2.not_before == local(due_2 + timedelta(days=1), 7, 0)


async def test_G15_three_loans_due_make_one_digest(cbnem: World) -> None:
    await linked(cbnem, "A1")
    ids = [
        await lend(cbnem, "A1", title, f"B{n}", at(2026, 3, 2))
        for n, title in enumerate(["Uno", "Due", "Tre"])
    ]
    due = await due_of(cbnem, ids[0])
    report = await run_cycle(cbnem.library, "reminders", at=local(due - timedelta(days=3)))
    assert report.queued == 1
    assert len(report.notices[0].items) == 3
    (notice,) = await outbox(cbnem, "due_reminder")
    for title in ("Uno", "Due", "Tre"):
        assert title in notice.text
    assert {f"renew:{loan_id}" for loan_id in ids} <= set(notice.callbacks)
    assert "renew:all" in notice.callbacks
    assert "loans:list" in notice.callbacks


async def test_a_cycle_run_twice_or_by_two_processes_queues_one_notice(
    cbnem: World, tmp_path: Path
) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Il visconte dimezzato", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    when = local(due - timedelta(days=3))
    first = await run_cycle(cbnem.library, "reminders", at=when)
    second = await run_cycle(cbnem.library, "reminders", at=when)
    assert (first.queued, second.queued) == (1, 0)
    # Two processes (two stores on one file) running the due day's cycle at the same time.
    other = await Store.open(cbnem.store.path)
    try:
        library_2 = Library(other, cbnem.library.policy, ROME)
        results = await asyncio.gather(
            run_cycle(cbnem.library, "reminders", at=local(due)),
            run_cycle(library_2, "reminders", at=local(due)),
        )
    finally:
        await other.close()
    assert sorted(report.queued for report in results) == [0, 1]
    assert len(await outbox(cbnem, "due_reminder")) == 2


async def test_a_new_loan_on_another_day_gets_its_own_notice(cbnem: World) -> None:
    await linked(cbnem, "A1")
    first = await lend(cbnem, "A1", "Primo", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, first)
    await run_cycle(cbnem.library, "reminders", at=local(due - timedelta(days=3)))
    second = await lend(cbnem, "A1", "Secondo", "B2", at(2026, 3, 4))
    due_2 = await due_of(cbnem, second)
    assert due_2 > due
    report = await run_cycle(cbnem.library, "reminders", at=local(due_2 - timedelta(days=3)))
    assert [item["loan_id"] for item in report.notices[0].items] == [second]
    notices = await outbox(cbnem, "due_reminder")
    assert len(notices) == 2
    assert "Primo" not in notices[1].text


async def test_a_renewed_loan_is_reminded_again_of_its_new_due_date(cbnem: World) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Rinnovato", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    await run_cycle(cbnem.library, "reminders", at=local(due - timedelta(days=3)))
    await loans.renew(cbnem.library, card="A1", barcode="B1", now=local(due - timedelta(days=2)))
    new_due = await due_of(cbnem, loan_id)
    report = await run_cycle(cbnem.library, "reminders", at=local(new_due - timedelta(days=3)))
    assert report.queued == 1


async def test_a_patron_who_turned_reminders_off_gets_no_due_reminder(cbnem: World) -> None:
    patron_id = await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Zitto", "B1", at(2026, 3, 2))
    async with cbnem.store.transaction() as conn:
        await conn.execute(
            "UPDATE telegram_links SET due_reminders = 0 WHERE patron_id = ?", (patron_id,)
        )
    due = await due_of(cbnem, loan_id)
    assert (await run_cycle(cbnem.library, "reminders", at=local(due))).queued == 0
    # Overdue notices are not reminders: they still go.
    assert (
        await run_cycle(cbnem.library, "overdue", at=local(due + timedelta(days=1)))
    ).queued == 1


async def test_dry_run_writes_nothing(cbnem: World) -> None:
    await linked(cbnem, "A1")
    loan_id = await lend(cbnem, "A1", "Anteprima", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    preview = await run_cycle(cbnem.library, "all", at=local(due), dry_run=True)
    assert preview.queued == 0
    assert [notice.card for notice in preview.notices] == ["A1"]
    assert await outbox(cbnem) == []
    assert (await run_cycle(cbnem.library, "all", at=local(due))).queued == 1


async def test_unlinked_patrons_are_not_queued_anything(cbnem: World) -> None:
    await cbnem.patron("U1", "BRU")
    loan_id = await lend(cbnem, "U1", "Nessuno", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan_id)
    assert (await run_cycle(cbnem.library, "all", at=local(due))).notices == []


async def test_values_set_together_are_read_together(cbnem: World) -> None:
    """Quiet hours until 09:30 are only valid with every cycle after them: stored together,
    they are read together, whatever order the store keeps them in."""
    await set_timing(
        cbnem,
        quiet_hours="21:00-09:30",
        reminders_hour="10:00",
        overdue_hour="10:00",
        holds_hour="10:00",
    )
    current = await timing.load_for(cbnem.library)
    assert current.as_text()["quiet_hours"] == "21:00-09:30"
    assert current.cycle_hour("holds") == time(10, 0)
    assert current.overridden == {"quiet_hours", "reminders_hour", "overdue_hour", "holds_hour"}


async def test_a_notice_is_in_a_language_the_library_offers(cbnem: World) -> None:
    """A patron who chose English, in a library that now offers Italian only
    (``[library] languages = ["it"]``), reads her notices in the default language."""
    await linked(cbnem, "A1", language="en")
    await linked(cbnem, "A2", language="en")
    first = await lend(cbnem, "A1", "Il sistema periodico", "B1", at(2026, 3, 2))
    await lend(cbnem, "A2", "La tregua", "B2", at(2026, 3, 2))
    due = await due_of(cbnem, first)
    italian_only = replace(cbnem.library, languages=Languages(("it",), "it"))
    report = await run_cycle(italian_only, "reminders", at=local(due))
    assert [notice.card for notice in report.notices] == ["A1", "A2"]
    for notice in await outbox(cbnem, "due_reminder"):
        assert "Promemoria" in notice.text  # Italian, not "Reminder"
        assert "Reminder" not in notice.text
    # Where English is offered, it is hers.
    await run_cycle(cbnem.library, "overdue", at=local(due + timedelta(days=1)))
    assert all("overdue" in n.text for n in await outbox(cbnem, "overdue"))
