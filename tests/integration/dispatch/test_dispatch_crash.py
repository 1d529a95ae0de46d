"""Kill -9 the dispatcher at random moments while it sends; restart it. No notice is lost, and
none is sent twice except the one in flight at a kill (at most one per kill: the child sends one
at a time; the at-least-once price of not knowing whether Telegram got it).

The emulator runs in this process; the dispatcher is a child process with the database path and
the emulator's address. Each notice's text carries its number, so the emulator's transcript
says how many times each one arrived.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path

import pytest

from bot.sandbox import run_emulator
from db.store import Store
from tests.integration.dispatch.support import (
    T0,
    add_patrons,
    numbers_received,
    queue_notices,
    rows,
)

ROOT = Path(__file__).resolve().parents[3]
TRIALS = 20
LEASE = 0.5
QUEUED = T0.replace(year=2020)  # long ago: due whatever today's date is


async def _spawn(db: Path, base_url: str, token: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.dispatch.crash_child",
        "--db",
        str(db),
        "--base-url",
        base_url,
        "--token",
        token,
        "--lease",
        str(LEASE),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )


async def _ready(child: asyncio.subprocess.Process) -> None:
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), timeout=20)
    assert line.strip() == b"ready", line


@pytest.mark.slow
async def test_killed_at_random_moments_no_notice_is_lost_or_doubled(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db = tmp_path / "crash.sqlite3"
    async with run_emulator() as sandbox:
        emu = sandbox.emulator
        async with await Store.open(db) as store:
            patrons = await add_patrons(store, 150, emulator=emu)
            ids = await queue_notices(store, patrons, 2, now=QUEUED)
        kills = 0
        for _ in range(TRIALS):
            child = await _spawn(db, sandbox.bot_api_url, sandbox.token)
            await _ready(child)
            # At most 0.4 s of sending per trial, 30 a second: 20 trials send at most 240 of
            # the 300 notices, so every trial ends in a kill, never in a drained outbox.
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            if child.returncode is None:
                child.send_signal(signal.SIGKILL)
                kills += 1
            await child.wait()
        chats = [p.user_id for p in patrons]
        before_final = len(numbers_received(emu, chats))
        final = await _spawn(db, sandbox.bot_api_url, sandbox.token)
        await _ready(final)
        assert await asyncio.wait_for(final.wait(), timeout=60) == 0

        received = numbers_received(emu, chats)
        async with await Store.open(db) as store:
            found = await rows(store)
        states = {found[i].state for i in ids}
        doubled = {number: count for number, count in received.items() if count > 1}
        context = (
            f"seed {seed}, {kills} kills, {before_final} notices sent between kills, "
            f"doubled {doubled}"
        )
        print(context)
        assert states == {"sent"}, context
        assert len(received) == len(ids), context  # every notice arrived
        assert sum(count - 1 for count in doubled.values()) <= kills, context
        assert kills == TRIALS, context  # every trial killed a dispatcher mid-drain
        assert 0 < before_final < len(ids), context  # the kills interrupted real sending
        assert not emu.violations
