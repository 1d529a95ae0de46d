"""Catch-up after an outage (Koha's trigger_date): each missed day runs once, in order; what is
still worth sending is queued, the rest is recorded as expired — nothing silently lost."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.reminders import schedule
from bot.reminders.cycles import last_run
from db import settings
from tests.integration.circulation.conftest import ROME
from tests.integration.reminders.conftest import World, at, lend, linked, outbox
from tests.integration.reminders.test_cycles import due_of, local


async def test_after_a_3_day_outage_each_missed_notice_is_sent_once_or_expired(
    cbnem: World,
) -> None:
    anna = await linked(cbnem, "A1")
    soon = await lend(cbnem, "A1", "In scadenza", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, soon)
    bruno = await linked(cbnem, "A2")
    late = await lend(cbnem, "A2", "In ritardo", "B2", at(2026, 3, 1))
    due_late = await due_of(cbnem, late)
    assert due_late == due - timedelta(days=1)
    # The bot last ran its cycles 4 days before the due date, then was down for 3 days.
    down_from = due - timedelta(days=4)
    async with cbnem.store.transaction() as conn:
        for name in ("reminders", "overdue", "holds"):
            await settings.put(
                conn, f"cycles.last_run.{name}", down_from.isoformat(), at(2026, 1, 1)
            )
    restarted = local(due, 10, 30)
    reports = await schedule.run_due(cbnem.library, restarted)
    days = sorted({(report.cycle, report.day) for report in reports})
    missed = [down_from + timedelta(days=n) for n in (1, 2, 3, 4)]
    assert days == sorted(
        (name, day) for name in ("reminders", "overdue", "holds") for day in missed
    )
    for name in ("reminders", "overdue", "holds"):
        assert await last_run(cbnem.library, name) == due
    reminders = await outbox(cbnem, "due_reminder")
    states = sorted((n.patron_id, n.not_before.astimezone(ROME).date(), n.state) for n in reminders)
    # "Due on <date>" decided for days now past its use is recorded as expired; "due today"
    # is sent; Bruno's "due today" of yesterday is expired too (his overdue notice replaces it).
    # (His 3-days reminder fell on the last day the bot ran: not a missed day.)
    assert states == [
        (anna, due - timedelta(days=3), "expired"),
        (anna, due, "pending"),
        (bruno, due_late, "expired"),
    ]
    overdue = await outbox(cbnem, "overdue")
    assert [(n.patron_id, n.state) for n in overdue] == [(bruno, "pending")]
    # Running again (a second tick, or a restart) decides nothing new.
    assert await schedule.run_due(cbnem.library, restarted + timedelta(minutes=1)) == []
    assert len(await outbox(cbnem)) == len(reminders) + len(overdue)


async def test_first_start_runs_today_only_once_its_hour_has_come(cbnem: World) -> None:
    today = date(2026, 3, 10)
    assert await schedule.run_due(cbnem.library, local(today, 7, 0)) == []
    reports = await schedule.run_due(cbnem.library, local(today, 9, 1))
    assert sorted(report.cycle for report in reports) == ["holds", "overdue", "reminders"]
    assert {report.day for report in reports} == {today}


async def test_a_new_cycle_hour_takes_effect_without_a_restart(cbnem: World) -> None:
    from bot.reminders import timing

    today = date(2026, 3, 10)
    async with cbnem.store.transaction() as conn:
        await timing.change(
            conn, cbnem.library.reminders, {"holds_hour": "11:00"}, now=at(2026, 3, 9), by="t"
        )
    reports = await schedule.run_due(cbnem.library, local(today, 10, 0))
    assert sorted(report.cycle for report in reports) == ["overdue", "reminders"]
    reports = await schedule.run_due(cbnem.library, local(today, 11, 0))
    assert [(report.cycle, report.at) for report in reports] == [("holds", local(today, 11, 0))]


def test_missed_days_are_capped_and_ordered() -> None:
    today = date(2026, 3, 10)
    assert schedule.missed_days(today - timedelta(days=3), today, True) == [
        today - timedelta(days=2),
        today - timedelta(days=1),
        today,
    ]
    assert schedule.missed_days(today - timedelta(days=1), today, False) == []
    assert schedule.missed_days(today, today, True) == []
    long_ago = schedule.missed_days(today - timedelta(days=400), today, True)
    assert len(long_ago) == schedule.CATCH_UP_DAYS
    assert long_ago[-1] == today


async def test_a_failing_cycle_is_retried_and_does_not_hold_back_the_others(
    cbnem: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.reminders import cycles

    async def broken(*args: object) -> None:
        raise RuntimeError("the holds cycle fails (injected)")

    monkeypatch.setattr(cycles, "_holds", broken)
    today = date(2026, 3, 10)
    reports = await schedule.run_due(cbnem.library, local(today, 9, 5))
    assert sorted(report.cycle for report in reports) == ["overdue", "reminders"]
    assert await last_run(cbnem.library, "holds") is None
    monkeypatch.undo()
    reports = await schedule.run_due(cbnem.library, local(today, 9, 6))
    assert [report.cycle for report in reports] == ["holds"]
    assert await last_run(cbnem.library, "holds") == today


async def test_a_notice_older_than_the_maximum_age_is_recorded_expired(cbnem: World) -> None:
    """Evergreen's max_delay: after a 6-day outage with ``max_notice_age_days = 2``, the
    first-day overdue notice (decided for 5 days ago) is not sent: it is written, expired,
    with the reason; the next level is sent when its day comes."""
    from bot.reminders import timing

    anna = await linked(cbnem, "A1")
    loan = await lend(cbnem, "A1", "Troppo tardi", "B1", at(2026, 3, 2))
    due = await due_of(cbnem, loan)
    async with cbnem.store.transaction() as conn:
        await timing.change(
            conn, cbnem.library.reminders, {"max_notice_age_days": "2"}, now=at(2026, 3, 2), by="t"
        )
        for name in ("reminders", "overdue", "holds"):
            await settings.put(conn, f"cycles.last_run.{name}", due.isoformat(), at(2026, 3, 2))
    reports = await schedule.run_due(cbnem.library, local(due + timedelta(days=6), 10, 30))
    overdue = [r for r in reports if r.cycle == "overdue"]
    assert [r.day for r in overdue] == [due + timedelta(days=n) for n in range(1, 7)]
    assert [(n.card, n.expired) for r in overdue for n in r.notices] == [("A1", True)]
    rows = await cbnem.store.reader.execute_fetchall(
        "SELECT patron_id, state, last_error, sent_at FROM outbox WHERE kind = 'overdue'"
    )
    assert [tuple(row) for row in rows] == [
        (anna, "expired", "decided after it stopped being useful", None)
    ]
    # The grace period's end (day 8) is told on its day.
    reports = await schedule.run_due(cbnem.library, local(due + timedelta(days=8), 9, 5))
    levels = [item["level"] for r in reports for n in r.notices for item in n.items]
    assert levels == ["grace_end"]
