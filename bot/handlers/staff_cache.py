"""The staff group's recent membership answers (kept in ``BotData.staff``; see staff_access)."""

from __future__ import annotations

from dataclasses import dataclass, field

STAFF_CACHE_SECONDS = 60.0


@dataclass
class StaffCache:
    """Recent answers of the staff group, per Telegram user: (is staff, when checked).

    Times are ``time.monotonic()`` values: a wall-clock change must not make an answer
    immortal or expire them all.
    """

    ttl: float = STAFF_CACHE_SECONDS
    answers: dict[int, tuple[bool, float]] = field(default_factory=dict)

    def get(self, user_id: int, now: float) -> bool | None:
        found = self.answers.get(user_id)
        if found is None:
            return None
        answer, checked = found
        if now - checked >= self.ttl:
            del self.answers[user_id]
            return None
        return answer

    def put(self, user_id: int, answer: bool, now: float) -> None:
        self.answers[user_id] = (answer, now)

    def forget(self, user_id: int | None = None) -> None:
        """Drop one user's answer (or all): after a membership change the bot saw."""
        if user_id is None:
            self.answers.clear()
        else:
            self.answers.pop(user_id, None)
