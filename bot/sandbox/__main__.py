"""``python -m bot.sandbox [PORT]``: serve an empty emulator until interrupted.

For poking at the Bot API and the control API by hand (curl, a browser) while building the chat
page; ``bibliobot demo`` starts its own, populated one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from bot.sandbox.server import run_emulator


async def _serve(port: int) -> None:
    async with run_emulator(port=port) as running:
        print(f"Bot API: {running.bot_api_url}{running.token}/getMe", flush=True)
        print(f"control: {running.url}/_sandbox/state", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(port))


if __name__ == "__main__":
    main()
