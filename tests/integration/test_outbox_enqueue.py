"""The outbox's write side against a real SQLite file: one notice per key, payloads round-trip."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.reminders.outgoing import Attachment, Button, OutgoingMessage
from db.outbox import NewNotice, dedupe_key, enqueue
from db.sql import fetch_all
from db.store import Store

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def test_a_key_is_queued_once(tmp_path: Path) -> None:
    message = OutgoingMessage(
        text="<b>Due soon</b>",
        buttons=((Button(text="Renew", callback_data="renew:1"),),),
        document=Attachment.of("a.ics", b"BEGIN:VCALENDAR", "text/calendar"),
    )
    key = dedupe_key(1, "due", "loan:1", "3", date(2026, 11, 22))
    notice = NewNotice(key, None, "due", message.to_payload(), NOW)
    async with await Store.open(tmp_path / "s.sqlite3") as store:
        async with store.transaction() as conn:
            first = await enqueue(conn, notice, NOW)
            second = await enqueue(conn, notice, NOW)
        rows = await fetch_all(store.reader, "SELECT id, payload, state FROM outbox")
    assert first is not None
    assert second is None
    assert len(rows) == 1
    assert rows[0][2] == "pending"
    assert OutgoingMessage.from_payload(json.loads(rows[0][1])) == message


def test_a_callback_over_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="1-64 bytes"):
        Button(text="x", callback_data="x" * 65)
