"""Pacing sends within Telegram's limits: 30 messages a second overall, one a second per chat,
20 a minute per group.

PTB's ``AIORateLimiter`` limits the overall rate and groups, but not private chats, and it
limits by blocking the caller: a dispatcher with 3,000 notices must rather *choose* the next
notice whose chat is free now, instead of waiting a second behind one patron's second notice
while everybody else waits too. So this class answers "when may I send to this chat?"
(:meth:`SendPacer.ready_at`) without blocking, and the dispatcher schedules by that.

The overall limit is a sliding window: at most 30 sends in any 1.03 s (``margin``: 3 %, so that
the jitter between the moment we send and the moment Telegram counts the message cannot push a
1-second window over the limit). Within it, sends are spaced at least ``0.6 × 1.03/30 s`` apart,
so Telegram sees a steady stream, not bursts of 30; and a send that went out a few milliseconds
late (a busy event loop, a slow commit) is caught up on by the next ones, where strict even
spacing would lose that time for good and fall short of the ceiling.

The clock is injected (``time.monotonic`` by default), so the limits are unit-tested exactly.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

OVERALL_PER_SECOND = 30
PRIVATE_INTERVAL = 1.0  # seconds between two messages to one chat
GROUP_PER_MINUTE = 20
MARGIN = 0.03
_NEVER = float("-inf")  # no earlier send constrains this one


def is_group(chat_id: int) -> bool:
    """Groups, supergroups and channels have negative ids; private chats positive ones."""
    return chat_id < 0


@dataclass(frozen=True, slots=True)
class Limits:
    overall_per_second: int = OVERALL_PER_SECOND
    chat_interval: float = PRIVATE_INTERVAL
    group_per_minute: int = GROUP_PER_MINUTE
    margin: float = MARGIN
    smoothing: float = 0.6  # the shortest gap between two sends, as a share of the mean gap

    @property
    def overall_window(self) -> float:
        return 1.0 + self.margin

    @property
    def min_spacing(self) -> float:
        return self.smoothing * self.overall_window / self.overall_per_second

    @property
    def per_chat_interval(self) -> float:
        return self.chat_interval * (1.0 + self.margin)

    @property
    def group_window(self) -> float:
        return 60.0 * (1.0 + self.margin)


class SendPacer:
    """When the next message to a chat may go; :meth:`record` each message actually sent.

    Flood waits (Telegram's 429 ``retry_after``) pause everything (:meth:`pause`), as Telegram
    means them: the bot is sending too fast, whichever chat the refused message was for.
    """

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic):
        self.limits = limits or Limits()
        self.clock = clock
        self._recent: deque[float] = deque(maxlen=self.limits.overall_per_second)
        self._paused_until = float("-inf")
        self._next_by_chat: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}

    def ready_at(self, chat_id: int) -> float:
        """The earliest instant (on :attr:`clock`) a message to ``chat_id`` may be sent."""
        return max(self.overall_ready_at(), self._paused_until, self.chat_ready_at(chat_id))

    def overall_ready_at(self) -> float:
        recent = self._recent
        if not recent:
            return _NEVER
        at = recent[-1] + self.limits.min_spacing
        if len(recent) == recent.maxlen:
            at = max(at, recent[0] + self.limits.overall_window)
        return at

    def chat_ready_at(self, chat_id: int) -> float:
        """The same, counting only this chat's own limits (what tells chats apart when choosing
        which notice goes next; the overall rate delays them all alike)."""
        at = self._next_by_chat.get(chat_id, _NEVER)
        sends = self._group_sends.get(chat_id)
        if sends is not None and len(sends) >= self.limits.group_per_minute:
            at = max(at, sends[-self.limits.group_per_minute] + self.limits.group_window)
        return at

    def wait_for(self, chat_id: int) -> float:
        """Seconds from now until a message to ``chat_id`` may go (0: now)."""
        return max(0.0, self.ready_at(chat_id) - self.clock())

    def record(self, chat_id: int) -> None:
        """A message to ``chat_id`` is being sent now (call only when :meth:`wait_for` is 0)."""
        now = self.clock()
        limits = self.limits
        self._recent.append(now)
        self._next_by_chat[chat_id] = now + limits.per_chat_interval
        if is_group(chat_id):
            sends = self._group_sends.setdefault(chat_id, deque())
            sends.append(now)
            while len(sends) > limits.group_per_minute:
                sends.popleft()
        if len(self._next_by_chat) > 4096:
            self._forget_before(now)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a flood wait)."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def _forget_before(self, now: float) -> None:
        self._next_by_chat = {c: t for c, t in self._next_by_chat.items() if t > now}
        window = self.limits.group_window
        self._group_sends = {
            c: s for c, s in self._group_sends.items() if s and s[-1] > now - window
        }
