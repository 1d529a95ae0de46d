"""What the handoff keeps in memory (``BotData.handoff``): per-patron locks, flood counters, the
office-hours notices already given. Nothing here needs to survive a restart: the store has the
conversations and every message, which ones the patron was told are held up, and the sweep
relays what staff have not received, from the store."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

RATE_LIMIT = 20  # patron messages relayed per window
RATE_WINDOW = 60.0  # seconds
RETRY_SECONDS = 30.0  # first wait before relaying again what Telegram refused; doubles after
RETRY_ATTEMPTS = 5  # 30 s, 1, 2, 4, 8 minutes; then the sweep below (or her next message)
SWEEP_SECONDS = 600.0  # how often messages still owed to staff are relayed again, for good
SWEEP_FIRST = 60.0  # after a start: messages kept while the bot was down go out soon


@dataclass
class HandoffState:
    limit: int = RATE_LIMIT  # patron messages relayed per RATE_WINDOW
    retry_seconds: float = RETRY_SECONDS  # first wait before relaying a refused message again
    sweep_seconds: float = SWEEP_SECONDS  # how often messages owed to staff are relayed again
    # One lock per Telegram account: a burst of messages creates one topic, not five.
    locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    # When each account's recent messages came (time.monotonic()), for the flood limit.
    recent: dict[int, deque[float]] = field(default_factory=dict)
    # Until when an account has been told it is sending too fast (told once per window).
    warned_until: dict[int, float] = field(default_factory=dict)
    # Per conversation: the opening time the patron was last told staff will answer at.
    closed_notice: dict[int, datetime] = field(default_factory=dict)

    def lock(self, user_id: int) -> asyncio.Lock:
        found = self.locks.get(user_id)
        if found is None:
            found = self.locks[user_id] = asyncio.Lock()
        return found

    def allow(self, user_id: int, now: float) -> bool:
        """Count a message at ``now``; False when the account sent ``limit`` in the window."""
        times = self.recent.setdefault(user_id, deque())
        while times and now - times[0] >= RATE_WINDOW:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def should_warn(self, user_id: int, now: float) -> bool:
        """Tell a flooding patron once per window, not once per message."""
        if self.warned_until.get(user_id, 0.0) > now:
            return False
        self.warned_until[user_id] = now + RATE_WINDOW
        return True
