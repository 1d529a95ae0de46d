"""``bibliobot cycle run`` and ``bibliobot settings reminders``: the real console entry."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import BNCF
from tests.integration.test_cli_desk import BRU_WEEK, Desk


def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Desk, date]:
    """A CBNEM desk with one linked patron and one book lent on 2 March 2026."""
    desk = Desk(tmp_path, "cbnem", monkeypatch)
    desk.given("branch", "add", "BRU", "--name", "Brugherio")
    desk.given("branch", "hours", "BRU", BRU_WEEK)
    desk.given("import-marc", str(BNCF))
    record = desk.record_id("Daisy Miller")
    desk.copy(record, "BRU001", "BRU")
    desk.given("patron", "add", "--card", "1001", "--name", "Maria Rossi", "--category", "adult",
               "--branch", "BRU", "--registered", "2025-01-10")  # fmt: skip
    loan = desk.given("checkout", "1001", "BRU001", "--at", "2026-03-02T10:00")
    with sqlite3.connect(tmp_path / "desk.sqlite3") as conn:
        conn.execute(
            "INSERT INTO telegram_links (patron_id, telegram_user_id, chat_id, linked_at)"
            " SELECT id, 42, 42, '2026-01-01T00:00:00.000000Z' FROM patrons WHERE card = '1001'"
        )
    return desk, date.fromisoformat(loan["due"])


def outbox_count(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "desk.sqlite3") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def never_tried(tmp_path: Path) -> bool:
    """No row was ever claimed or sent (a command never talks to Telegram)."""
    with sqlite3.connect(tmp_path / "desk.sqlite3") as conn:
        rows = conn.execute("SELECT state, attempts, sent_at FROM outbox").fetchall()
    return all(
        state in ("pending", "expired") and not attempts and not sent
        for state, attempts, sent in rows
    )


def test_cycle_run_previews_then_queues_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, due = scene(tmp_path, monkeypatch)
    at = f"{due - timedelta(days=3)}T09:00"
    preview = desk.ok("cycle", "run", "reminders", "--at", at, "--dry-run")
    assert preview["cycle"] == "reminders"
    assert preview["queued"] == 0
    assert preview["at"].startswith(f"{due - timedelta(days=3)}T09:00:00+0")  # library time
    (notice,) = preview["notices"]
    assert (notice["card"], notice["kind"]) == ("1001", "due_reminder")
    assert [item["barcode"] for item in notice["items"]] == ["BRU001"]
    assert "Daisy Miller" in notice["text"]  # the message as it would be sent
    shown = desk.run("cycle", "run", "reminders", "--at", at, "--dry-run")
    assert "would queue 1 notice(s)" in shown.stdout
    assert "    📅 Promemoria: 1 prestito sta per scadere" in shown.stdout  # her language
    assert outbox_count(tmp_path) == 0  # a dry run writes nothing
    assert desk.ok("cycle", "run", "reminders", "--at", at)["queued"] == 1
    assert desk.ok("cycle", "run", "all", "--at", at)["queued"] == 0
    assert outbox_count(tmp_path) == 1
    # The command only queues (this one, decided for a day long past, is recorded expired
    # at once): the running bot sends, and counts Telegram's limits.
    assert never_tried(tmp_path)
    text = desk.run("cycle", "run", "overdue", "--at", f"{due + timedelta(days=1)}T09:00")
    assert text.returncode == 0
    assert "overdue for" in text.stdout
    assert "queued 1" in text.stdout


def test_settings_reminders_show_and_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk, due = scene(tmp_path, monkeypatch)
    shown = desk.ok("settings", "reminders", "show")
    assert shown["values"]["due_offsets"] == "3,0"
    assert shown["values"]["quiet_hours"] == "21:00-08:00"
    assert shown["set_by_administrators"] == []
    changed = desk.ok("settings", "reminders", "set", "due_offsets=5,1", "quiet_hours=22:00-07:00")
    assert changed["values"]["due_offsets"] == "5,1"
    assert changed["set_by_administrators"] == ["due_offsets", "quiet_hours"]
    # The next run follows the stored offsets: nothing at 3 days, a reminder at 5.
    assert (
        desk.ok("cycle", "run", "reminders", "--at", f"{due - timedelta(days=3)}T09:00")["queued"]
        == 0
    )
    assert (
        desk.ok("cycle", "run", "reminders", "--at", f"{due - timedelta(days=5)}T09:00")["queued"]
        == 1
    )

    assert desk.refused("settings", "reminders", "set", "due_offsets=40")["error"] == "offset_range"
    late = desk.refused("settings", "reminders", "set", "reminders_hour=23:00")
    assert late["error"] == "hour_in_quiet_hours"
    assert "22:00-07:00" in late["message"]
    for bad in ("nonsense=1", "due_offsets=tre", "quiet_hours=sempre", "due_offsets"):
        result = desk.run("settings", "reminders", "set", bad)
        assert result.returncode == 2, (bad, result.stderr)
        assert result.stderr.startswith("error: ")
    # The refusals changed nothing; "default" goes back to the configuration file.
    assert desk.ok("settings", "reminders", "show")["values"]["due_offsets"] == "5,1"
    back = desk.ok("settings", "reminders", "set", "due_offsets=default")
    assert back["values"]["due_offsets"] == "3,0"
    assert back["set_by_administrators"] == ["quiet_hours"]
