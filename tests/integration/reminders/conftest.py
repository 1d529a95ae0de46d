"""The circulation worlds (real SQLite stores) with patrons linked to Telegram, and the outbox
read back as the dispatcher will read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.services import loans
from db import circulation as repo
from db import identity
from db.timestamps import from_db
from tests.integration.circulation.conftest import World, at, cbnem, ginestra

__all__ = ["Notice", "World", "at", "cbnem", "ginestra", "lend", "linked", "outbox"]


async def linked(world: World, card: str, branch: str = "BRU", *, language: str = "it") -> int:
    """A patron with a linked Telegram account (chat id = a number derived from the card)."""
    await world.patron(card, branch)
    async with world.store.transaction() as conn:
        patron = await repo.patron_by_card(conn, card)
        assert patron is not None
        await identity.add_link(
            conn,
            patron.patron_id,
            1000 + patron.patron_id,
            1000 + patron.patron_id,
            at(2025, 1, 10),
        )
        await conn.execute(
            "UPDATE patrons SET language = ? WHERE id = ?", (language, patron.patron_id)
        )
        return patron.patron_id


async def lend(
    world: World, card: str, title: str, barcode: str, when: datetime, branch: str = "BRU"
) -> int:
    await world.title_with_copies(title, (barcode, branch))
    receipt = await loans.checkout(world.library, card=card, barcode=barcode, now=when)
    return receipt.loan_id


@dataclass(frozen=True)
class Notice:
    outbox_id: int
    patron_id: int | None
    kind: str
    state: str
    not_before: datetime
    expires_at: datetime | None
    payload: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.payload["text"])

    @property
    def callbacks(self) -> list[str]:
        return [
            str(button["callback_data"])
            for row in self.payload.get("buttons", [])
            for button in row
            if "callback_data" in button
        ]


async def outbox(world: World, kind: str | None = None) -> list[Notice]:
    rows = await world.store.reader.execute_fetchall(
        "SELECT id, patron_id, kind, state, not_before, expires_at, payload FROM outbox"
        + (" WHERE kind = ?" if kind else "")
        + " ORDER BY id",
        (kind,) if kind else (),
    )
    return [
        Notice(
            int(row[0]),
            None if row[1] is None else int(row[1]),
            str(row[2]),
            str(row[3]),
            from_db(str(row[4])),
            from_db(str(row[5])) if row[5] else None,
            json.loads(str(row[6])),
        )
        for row in rows
    ]
