"""The demo library is built through the services: due dates relative to the injected today,
a hold on the shelf, a fine, and cards whose printed PINs link a Telegram account."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.circulation import load_policy
from bot.demo.library import ANNA, LUCA, MARCO, PATRONS, ROME, DemoLibrary, build_demo_library
from bot.reminders.cycles import last_run
from bot.reminders.timing import CYCLES
from bot.services import appointments, identity, patrons
from bot.services.context import Library
from bot.services.errors import Refusal
from db.calendar import load_calendar
from db.store import Store

# A Wednesday: yesterday (Tuesday), today and Saturday are all opening days.
WEDNESDAY = datetime.combine(date(2026, 3, 11), time(11, 30), tzinfo=ROME).astimezone(UTC)


async def _built(tmp_path: Path, now: datetime) -> tuple[DemoLibrary, Library]:
    demo = await build_demo_library(tmp_path / "demo.sqlite3", now=now)
    store = await Store.open(demo.path)
    return demo, Library(store, load_policy("cbnem"), ROME)


async def test_loans_fall_due_yesterday_today_and_in_three_days(tmp_path: Path) -> None:
    demo, library = await _built(tmp_path, WEDNESDAY)
    try:
        assert demo.records == 602
        assert demo.today == date(2026, 3, 11)
        anna = await patrons.summary(library, card=ANNA.card, now=WEDNESDAY)
        due = sorted(loan.due_on for loan in anna.loans)
        assert due == [date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 14)]
        assert anna.status == "ok"
        [hold] = anna.holds
        assert hold.state == "ready"
        assert hold.title == "La città perduta dei templari"
        luca = await patrons.summary(library, card=LUCA.card, now=WEDNESDAY)
        assert luca.category == "child"
        assert [loan.due_on for loan in luca.loans] == [date(2026, 3, 23)]
        marco = await patrons.summary(library, card=MARCO.card, now=WEDNESDAY)
        assert marco.fines_owed_cents == demo.fines_cents[MARCO.card] > 0
        assert marco.status == "suspended"  # C8: an unpaid fine
        assert not marco.loans
    finally:
        await library.store.close()


@pytest.mark.parametrize("weekday", range(7))
async def test_a_closed_day_moves_a_due_date_to_the_next_opening_day(
    tmp_path: Path, weekday: int
) -> None:
    # 2026-03-09 is a Monday; whatever today is, the loans due today and in three days are due
    # then if the branch is open, else on its next opening day (G11), never earlier; the
    # overdue one is due on the last opening day before today (Saturday, seen from a Monday).
    now = datetime.combine(
        date(2026, 3, 9) + timedelta(days=weekday), time(12), tzinfo=ROME
    ).astimezone(UTC)
    demo, library = await _built(tmp_path, now)
    try:
        anna = await patrons.summary(library, card=ANNA.card, now=now)
        async with library.store.transaction() as conn:
            calendar = await load_calendar(conn, ROME)
        late, *others = [loan.target for loan in demo.loans[ANNA.card]]
        assert [t - demo.today for t in others] == [timedelta(0), timedelta(3)]
        assert late < demo.today
        assert calendar.is_open(ANNA.branch, late)
        assert calendar.opening_days_between(ANNA.branch, late + timedelta(1), demo.today) in (
            [],
            [demo.today],
        )
        expected = sorted([late] + [calendar.next_opening_day(ANNA.branch, d) for d in others])
        assert sorted(loan.due_on for loan in anna.loans) == expected
        assert len([loan for loan in anna.loans if loan.due_on < demo.today]) == 1
        # The banner prints the real due dates, moved or not.
        assert f"[due {', '.join(day.isoformat() for day in sorted(expected))}]" in demo.banner()
    finally:
        await library.store.close()


async def test_the_cycles_are_recorded_as_run_until_yesterday(tmp_path: Path) -> None:
    demo, library = await _built(tmp_path, WEDNESDAY)
    try:
        for cycle in CYCLES:
            assert await last_run(library, cycle) == demo.today - timedelta(days=1)
    finally:
        await library.store.close()


async def test_the_printed_pins_link_their_cards(tmp_path: Path) -> None:
    demo, library = await _built(tmp_path, WEDNESDAY)
    try:
        with pytest.raises(Refusal) as wrong:
            await identity.link_with_pin(
                library,
                telegram_user_id=2000,
                chat_id=2000,
                card=ANNA.card,
                pin="0000",
                now=WEDNESDAY,
            )
        assert wrong.value.code == "wrong_card_or_pin"
        banner = demo.banner()
        for number, patron in enumerate(PATRONS, start=1):
            assert f"card {patron.card}  PIN {patron.pin}" in banner
            linked = await identity.link_with_pin(
                library,
                telegram_user_id=1000 + number,
                chat_id=1000 + number,
                card=patron.card,
                pin=patron.pin,
                now=WEDNESDAY,
            )
            assert linked.card == patron.card
    finally:
        await library.store.close()


async def test_building_again_starts_from_a_fresh_file(tmp_path: Path) -> None:
    first = await build_demo_library(tmp_path / "demo.sqlite3", now=WEDNESDAY)
    again = await build_demo_library(tmp_path / "demo.sqlite3", now=WEDNESDAY)
    assert (first.records, first.copies) == (again.records, again.copies)


async def test_the_demo_offers_appointments_at_brugherio(tmp_path: Path) -> None:
    demo, library = await _built(tmp_path, WEDNESDAY)
    try:
        offered = await appointments.services_on_offer(library)
        assert [(s.code, s.branch) for s in offered] == [("CONSULT", "BRU"), ("DIGITAL", "BRU")]
        free = await appointments.availability(library, offered[0].service_id, WEDNESDAY)
        # 24 hours' notice from Wednesday 11:30: Thursday 15:00 first (11:00 is too soon).
        first = free.slots[0].starts_at.astimezone(ROME)
        assert (first.date(), first.hour) == (date(2026, 3, 12), 15)
        assert demo.today == date(2026, 3, 11)
    finally:
        await library.store.close()


async def test_the_demo_copies_have_the_catalogs_shelf_marks(tmp_path: Path) -> None:
    """The BNCF file's own holdings (960$g) give the demo's copies their shelf marks, so a
    record's page says where each copy is instead of "no shelf mark"."""
    demo, library = await _built(tmp_path, WEDNESDAY)
    try:
        rows = [
            (str(title), mark)
            for title, mark in await library.store.reader.execute_fetchall(
                "SELECT r.title, i.shelf_mark FROM items i JOIN records r ON r.id = i.record_id"
                " ORDER BY i.barcode"
            )
        ]
        marks: dict[str, list[str | None]] = {}
        for title, mark in rows:
            marks.setdefault(title, []).append(mark)
        # Daisy Miller: two copies at BNCF ($g GEN A14 02758 and 02759).
        assert set(marks["Daisy Miller"]) <= {"GEN A14 02758", "GEN A14 02759"}
        assert marks["Daisy Miller"][0] == "GEN A14 02758"
        with_mark = sum(1 for _, mark in rows if mark)
        assert with_mark / len(rows) > 0.9, (with_mark, len(rows))
        assert demo.copies == len(rows)
    finally:
        await library.store.close()
