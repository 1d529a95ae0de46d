"""The dispatcher as a process of its own, for the crash test: drains the outbox of ``--db``
through the Bot API at ``--base-url`` until nothing is left pending, then exits 0.

Prints ``ready`` once it is about to send, so the test kills it while it sends, not while
Python is still importing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from bot.reminders.dispatcher import Dispatcher, DispatchPolicy, standalone_bot
from db.store import Store


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--lease", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    policy = DispatchPolicy(
        lease=timedelta(seconds=args.lease), concurrency=args.concurrency, timeout=5.0
    )
    bot = standalone_bot(args.token, args.base_url, policy)
    async with bot, await Store.open(args.db) as store:
        print("ready", flush=True)
        # settle: wait out the leases a killed predecessor left behind, then stop when empty.
        await Dispatcher(bot, store, policy=policy).drain(settle=args.lease * 4 + 1)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
