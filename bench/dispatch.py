"""Outbox dispatch rate against Telegram's ceiling of 30 messages a second.

    .venv/bin/python bench/dispatch.py                      # 3,000 notices to 1,000 patrons
    .venv/bin/python bench/dispatch.py --notices 600 --patrons 200

The project's Bot API emulator runs in this process (validating every call against the spec, as
in the tests); the dispatcher runs in a child process of its own, as a deployment would run it
beside (or inside) the bot, on a real SQLite file: it claims, sends and records every notice
(``bot.reminders.dispatcher.drain_once``). The rate is read from the emulator's side: when each
``sendMessage`` arrived. Reported: the sustained rate (messages ÷ time from the first to the
last), the most messages that arrived within any one second (must never exceed 30), the
smallest gap between two messages to one chat (must never be under 1 s), and how long the
drain took end to end in the child.

Each patron gets ``notices ÷ patrons`` notices (queued as a cycle would: everybody's first, then
everybody's second…), each with an inline button, so the per-chat limit is exercised too.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.reminders.dispatcher import Dispatcher, DispatchPolicy, standalone_bot  # noqa: E402
from bot.reminders.pacing import OVERALL_PER_SECOND, SendPacer  # noqa: E402
from bot.sandbox import RunningEmulator, run_emulator  # noqa: E402
from bot.sandbox.emulator import Emulator  # noqa: E402
from db.store import Store  # noqa: E402
from tests.integration.dispatch.support import T0, add_patrons, queue_notices  # noqa: E402


def most_in_window(instants: list[float], window: float) -> int:
    instants = sorted(instants)
    best, start = 0, 0
    for end, at in enumerate(instants):
        while at - instants[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class LoggingPacer(SendPacer):
    """The pacer, noting when it let each message go (the dispatcher's side of the rate)."""

    def __init__(self) -> None:
        super().__init__()
        self.released: list[float] = []  # on the pacer's clock
        self.log: list[tuple[int, float]] = []  # (chat, wall clock), to compare with arrivals

    def record(self, chat_id: int) -> None:
        self.released.append(self.clock())
        self.log.append((chat_id, time.time()))
        super().record(chat_id)


async def child(db: str, base_url: str, token: str) -> None:
    """The dispatcher's process: drain everything, print what it did."""
    policy = DispatchPolicy()
    pacer = LoggingPacer()
    async with standalone_bot(token, base_url, policy) as bot, await Store.open(db) as store:
        started = time.perf_counter()
        report = await Dispatcher(bot, store, policy=policy, pacer=pacer).drain()
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "sent": report.sent,
                "undeliverable": report.undeliverable,
                "retried": report.retried,
                "drain_seconds": round(seconds, 2),
                "released_most_in_any_second": most_in_window(pacer.released, 1.0),
                "log": pacer.log,
                "child_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
                "child_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            }
        ),
        flush=True,
    )


async def measure(notices: int, patrons: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "dispatch.sqlite3"
        async with run_emulator(Emulator()) as sandbox:
            emulator = sandbox.emulator
            async with await Store.open(db) as store:
                people = await add_patrons(store, patrons, emulator=emulator)
                queued = T0.replace(year=2020)  # long ago: due now
                await queue_notices(store, people, notices // patrons, now=queued)
            print(f"  queued {notices:,} notices for {patrons:,} patrons", file=sys.stderr)
            result = await drain_measured(db, sandbox)
    result.update(notices=notices, patrons=patrons)
    return result


async def drain_measured(db: Path, sandbox: RunningEmulator) -> dict[str, object]:
    """Drain ``db``'s outbox by the dispatcher in a process of its own to ``sandbox``, whose
    users are the patrons' chats; the rate as the emulator saw the messages arrive. (Also
    ``bench/cycles.py``'s, on the digests a cycle queued at a million loans.)"""
    emulator = sandbox.emulator
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        str(db),
        sandbox.bot_api_url,
        sandbox.token,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the dispatcher process failed ({process.returncode})")
    result: dict[str, object] = json.loads(output)
    calls = [c for c in emulator.calls_to("sendMessage") if c.status == 200]
    violations = len(emulator.violations)
    log = result.pop("log")
    assert isinstance(log, list)
    released: dict[str, list[float]] = defaultdict(list)
    for chat, at in log:
        released[str(chat)].append(at)
    instants = sorted(c.at for c in calls)
    by_chat: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        by_chat[str(call.params["chat_id"])].append(call.at)
    gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(sorted(times))]
    # How late each message reached the emulator after the pacer let it go (k-th to k-th, per
    # chat): the jitter the margin must absorb for the emulator to count what the pacer did.
    delays = sorted(
        arrival - release
        for chat, times in by_chat.items()
        for arrival, release in zip(sorted(times), released[chat], strict=False)
    )
    rate = (len(instants) - 1) / (instants[-1] - instants[0])
    result.update(
        messages_received=len(instants),
        rate_per_second=round(rate, 2),
        ceiling_per_second=OVERALL_PER_SECOND,
        rate_of_ceiling=round(rate / OVERALL_PER_SECOND, 4),
        most_in_any_second=most_in_window(instants, 1.0),
        smallest_gap_in_one_chat_s=round(min(gaps), 3) if gaps else None,
        release_to_arrival_ms={
            "p50": round(1000 * delays[len(delays) // 2], 1),
            "p99": round(1000 * delays[int(len(delays) * 0.99)], 1),
            "max": round(1000 * delays[-1], 1),
        },
        spec_violations=violations,
    )
    return result


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        asyncio.run(child(*sys.argv[2:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notices", type=int, default=3000)
    parser.add_argument("--patrons", type=int, default=1000)
    args = parser.parse_args()
    result = asyncio.run(measure(args.notices, args.patrons))
    result.update(
        cores=os.cpu_count(),
        load_average_after=[round(x, 2) for x in os.getloadavg()],
        sqlite=sqlite3.sqlite_version,
        python=sys.version.split()[0],
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
