"""Pacing sends within Telegram's limits: 30 messages a second overall, one a second per chat,
20 a minute per group.

PTB's ``AIORateLimiter`` limits the overall rate and groups, but not private chats, and it
limits by blocking the caller: a dispatcher with 3,000 notices must rather *choose* the next
notice whose chat is free now, instead of waiting a second behind one patron's second notice
while everybody else waits too. So this class answers "when may I send to this chat?"
(:meth:`SendPacer.ready_at`) without blocking, and the dispatcher schedules by that.

**Counted where Telegram counts.** Telegram counts a message when it arrives, somewhere between
the moment we send it and the moment its answer is back; a busy machine or network can delay
one by a quarter of a second, and pacing by the moment of sending alone would then let 31
arrive within one second. So each send occupies its limits from when it leaves
(:meth:`record`) until its answer is back (:meth:`done`), and the window is counted over
those spans: a new message may leave only while fewer than 30 messages could have arrived
within the last second (those in flight, and those answered less than a second ago); a chat's
next message leaves a second after the previous one was *answered*. Whatever the delays, no
second at Telegram then holds more than 30 arrivals, nor a chat two within a second (proved in
the unit tests with random delays). The cost is the answer's latency on each chat's second
and on the window: small against the emulator, ~10 % at 100 ms to Telegram.

Within the window, two sends are at least ``smoothing`` × the mean gap apart, so Telegram sees
a steady stream rather than bursts of 30, while a send a few milliseconds late (a busy event
loop, a slow commit) is still caught up on by the next ones. ``margin`` (1 %) pads the window
and the per-chat second against clock granularity.

The clock is injected (``time.monotonic`` by default), so the limits are unit-tested exactly.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass

OVERALL_PER_SECOND = 30
PRIVATE_INTERVAL = 1.0  # seconds between two messages to one chat
GROUP_PER_MINUTE = 20
MARGIN = 0.01
_NEVER = float("-inf")  # no earlier send constrains this one
_UNKNOWN = float("inf")  # too many in flight: ready when one of them is answered


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
    """When the next message to a chat may go: :meth:`record` each message as it leaves and
    :meth:`done` when its answer (or error) is back.

    Flood waits (Telegram's 429 ``retry_after``) pause everything (:meth:`pause`), as Telegram
    means them: the bot is sending too fast, whichever chat the refused message was for.
    """

    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic):
        self.limits = limits or Limits()
        self.clock = clock
        self._last_release = _NEVER
        self._in_flight = 0
        self._answered: list[float] = []  # when the latest answers came back, ascending
        self._paused_until = _NEVER
        self._next_by_chat: dict[int, float] = {}
        self._busy: dict[int, int] = {}  # chat → messages in flight
        self._group_answered: dict[int, list[float]] = {}

    def ready_at(self, chat_id: int) -> float:
        """The earliest instant (on :attr:`clock`) a message to ``chat_id`` may be sent
        (``inf`` while that depends on an answer not yet back)."""
        busy = _UNKNOWN if self._busy.get(chat_id) else _NEVER
        return max(self.overall_ready_at(), self._paused_until, self.chat_ready_at(chat_id), busy)

    def overall_ready_at(self) -> float:
        limits = self.limits
        # Messages answered within the window, besides those in flight, that still leave room.
        room = limits.overall_per_second - 1 - self._in_flight
        if room < 0:
            return _UNKNOWN
        at = self._last_release + limits.min_spacing
        if len(self._answered) > room:
            at = max(at, self._answered[-(room + 1)] + limits.overall_window)
        return at

    def chat_ready_at(self, chat_id: int) -> float:
        """The same, counting only this chat's own limits (what tells chats apart when choosing
        which notice goes next; the overall rate delays them all alike). For a chat with a
        message in flight, a lower bound that does not move until the answer is back (a second
        after the message left), so the dispatcher's queue keys stay put meanwhile."""
        limits = self.limits
        at = self._next_by_chat.get(chat_id, _NEVER)
        answered = self._group_answered.get(chat_id)
        if answered is not None:
            room = limits.group_per_minute - 1 - self._busy.get(chat_id, 0)
            if room < 0:
                return _UNKNOWN
            if len(answered) > room:
                at = max(at, answered[-(room + 1)] + limits.group_window)
        return at

    def wait_for(self, chat_id: int) -> float:
        """Seconds from now until a message to ``chat_id`` may go (0: now; ``inf``: ask again
        when a message in flight is answered)."""
        return max(0.0, self.ready_at(chat_id) - self.clock())

    def record(self, chat_id: int) -> None:
        """A message to ``chat_id`` leaves now (call only when :meth:`wait_for` is 0)."""
        now = self.clock()
        self._last_release = now
        self._in_flight += 1
        self._busy[chat_id] = self._busy.get(chat_id, 0) + 1
        self._next_by_chat[chat_id] = now + self.limits.per_chat_interval
        if is_group(chat_id):
            self._group_answered.setdefault(chat_id, [])
        if len(self._next_by_chat) > 4096:
            self._forget_before(now)

    def done(self, chat_id: int) -> None:
        """The answer to a message to ``chat_id`` is back (whatever it said)."""
        now = self.clock()
        limits = self.limits
        self._in_flight -= 1
        busy = self._busy.get(chat_id, 0) - 1
        if busy > 0:
            self._busy[chat_id] = busy
        else:
            self._busy.pop(chat_id, None)
        _keep_latest(self._answered, now, limits.overall_per_second)
        self._next_by_chat[chat_id] = max(
            self._next_by_chat.get(chat_id, _NEVER), now + limits.per_chat_interval
        )
        answered = self._group_answered.get(chat_id)
        if answered is not None:
            _keep_latest(answered, now, limits.group_per_minute)

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a flood wait)."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def _forget_before(self, now: float) -> None:
        self._next_by_chat = {
            chat: at for chat, at in self._next_by_chat.items() if at > now or chat in self._busy
        }
        window = self.limits.group_window
        self._group_answered = {
            chat: answered
            for chat, answered in self._group_answered.items()
            if chat in self._busy or (answered and answered[-1] > now - window)
        }


def _keep_latest(instants: list[float], at: float, count: int) -> None:
    """Insert ``at`` in order and keep the latest ``count`` instants."""
    bisect.insort(instants, at)
    del instants[:-count]
