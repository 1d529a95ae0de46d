"""A network with an appointment service, on a real SQLite file.

Brugherio (open Monday to Saturday) offers a bibliographic consultation on Monday and
Wednesday at 10:00 and Saturday at 10:00, one person per slot, 24 hours' notice, 30 days
ahead, cancellable up to 24 hours before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path

import pytest

from bot.appointments import WeeklySlot
from bot.services import appointments
from db import circulation as circulation_repo
from db.appointments import ServiceRow
from tests.integration.circulation.conftest import CBNEM_BRANCHES, World, _world

SLOTS = (WeeklySlot(0, time(10)), WeeklySlot(2, time(10)), WeeklySlot(5, time(10)))


@dataclass
class AppointmentWorld:
    world: World
    service: ServiceRow

    async def patron_id(self, card: str) -> int:
        async with self.world.store.snapshot() as conn:
            patron = await circulation_repo.patron_by_card(conn, card)
        if patron is None:
            await self.world.patron(card, "BRU")
            return await self.patron_id(card)
        return patron.patron_id


async def consultation(world: World, capacity: int = 1) -> ServiceRow:
    service, _ = await appointments.define_service(
        world.library,
        appointments.ServiceDefinition(
            code="CONSULT",
            branch="BRU",
            name_it="Consulenza bibliografica",
            name_en="Bibliographic consultation",
            capacity=capacity,
        ),
    )
    for slot in SLOTS:
        await appointments.add_slot(world.library, code="CONSULT", branch="BRU", slot=slot)
    return service


@pytest.fixture
async def booking(tmp_path: Path) -> AsyncIterator[AppointmentWorld]:
    world = await _world(tmp_path / "appointments.sqlite3", "cbnem", CBNEM_BRANCHES, None)
    try:
        yield AppointmentWorld(world, await consultation(world))
    finally:
        await world.store.close()
