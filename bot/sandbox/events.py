"""A numbered log of everything that changes in the sandbox, and the wake-up behind all waits.

The chat page follows the log (long poll or server-sent events from a sequence number), and
tests await conditions on the world: both need to be woken by any change rather than poll with
sleeps, so every change goes through :meth:`EventLog.emit`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

JsonDict = dict[str, Any]


class EventLog:
    """Events ``{"seq": N, "kind": ..., ...}`` in order; keeps the last ``capacity`` of them."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._events: deque[JsonDict] = deque(maxlen=capacity)
        self._seq = 0
        self._changed = asyncio.Event()
        self.closing = False

    @property
    def last_seq(self) -> int:
        return self._seq

    def emit(self, kind: str, **data: Any) -> JsonDict:
        self._seq += 1
        event = {"seq": self._seq, "kind": kind, **data}
        self._events.append(event)
        self.notify()
        return event

    def notify(self) -> None:
        """Wake every waiter (also used for changes that are not page events)."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def after(self, seq: int) -> list[JsonDict]:
        return [e for e in self._events if e["seq"] > seq]

    async def changed(self, within: float | None = None) -> None:
        """Return at the next change (or after ``within`` seconds, or when closing)."""
        if self.closing:
            return
        waiter = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), within)

    async def wait_after(self, seq: int, within: float) -> list[JsonDict]:
        """Events after ``seq``, waiting up to ``within`` seconds for the first one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not (found := self.after(seq)) and not self.closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.changed(remaining)
        return found

    def close(self) -> None:
        self.closing = True
        self.notify()
