"""The settings table: stored values win, a prefix lists a family, delete restores the default."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from db import settings
from db.store import Store

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def test_put_get_prefix_delete(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.sqlite3") as store:
        assert await settings.get(store.reader, "reminders.timing") is None
        async with store.transaction() as conn:
            await settings.put(conn, "reminders.timing", {"cycle_hour": "09:00"}, NOW, "admin:1")
            await settings.put(conn, "cycles.last_run.holds", "2026-11-21", NOW)
            await settings.put(conn, "cycles.last_run.overdue", "2026-11-20", NOW)
            await settings.put(conn, "cycles.last_run.holds", "2026-11-22", NOW)
        assert await settings.get(store.reader, "reminders.timing") == {"cycle_hour": "09:00"}
        assert await settings.get_prefixed(store.reader, "cycles.last_run.") == {
            "cycles.last_run.holds": "2026-11-22",
            "cycles.last_run.overdue": "2026-11-20",
        }
        async with store.transaction() as conn:
            await settings.delete(conn, "reminders.timing")
        assert await settings.get(store.reader, "reminders.timing") is None
