"""The patron flood limit: at most ``limit`` messages in any window of RATE_WINDOW seconds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.handlers.handoff_state import RATE_LIMIT, RATE_WINDOW, HandoffState


def test_the_twenty_first_message_of_a_minute_is_refused_then_allowed_later() -> None:
    state = HandoffState()
    assert all(state.allow(1, now=float(n)) for n in range(RATE_LIMIT))
    assert not state.allow(1, now=30.0)
    assert state.allow(2, now=30.0)  # another patron is not affected
    assert state.allow(1, now=RATE_WINDOW + 0.5)  # the first message left the window


def test_a_flooding_patron_is_warned_once_per_window() -> None:
    state = HandoffState()
    assert state.should_warn(1, now=0.0)
    assert not state.should_warn(1, now=10.0)
    assert state.should_warn(1, now=RATE_WINDOW + 1)


@given(st.lists(st.floats(min_value=0, max_value=300), max_size=80).map(sorted))
def test_never_more_than_the_limit_in_any_window(times: list[float]) -> None:
    state = HandoffState(limit=5)
    allowed = [t for t in times if state.allow(7, t)]
    for start in allowed:
        inside = [t for t in allowed if start <= t < start + RATE_WINDOW]
        assert len(inside) <= 5


def test_one_lock_per_patron() -> None:
    state = HandoffState()
    assert state.lock(1) is state.lock(1)
    assert state.lock(1) is not state.lock(2)
