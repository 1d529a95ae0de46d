"""The pacer keeps Telegram's limits exactly, on an injected clock: a greedy sender that always
sends as soon as the pacer allows never exceeds 30 a second, one a second per chat, 20 a minute
per group, and still reaches the ceiling (within the 3 % margin) when there are enough chats."""

from __future__ import annotations

import itertools
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reminders.pacing import Limits, SendPacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def greedy(pacer: SendPacer, clock: FakeClock, chats: list[int], lag: list[float]) -> list[float]:
    """Send to ``chats`` in order, each as soon as allowed (plus a little lag); the instants."""
    sent = []
    for index, chat in enumerate(chats):
        clock.now = max(clock.now, pacer.ready_at(chat)) + lag[index % len(lag)]
        assert pacer.wait_for(chat) == 0
        pacer.record(chat)
        sent.append(clock.now)
    return sent


def most_in_window(instants: list[float], window: float) -> int:
    """The largest number of instants in any half-open window [t, t + window)."""
    instants = sorted(instants)
    best, start = 0, 0
    for end, at in enumerate(instants):
        while at - instants[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@settings(max_examples=60, deadline=None)
@given(
    chats=st.lists(st.sampled_from([1, 2, 3, 50, 51, -100, -101, *range(200, 260)]), max_size=400),
    lag=st.lists(st.floats(0, 0.05), min_size=1, max_size=5),
)
def test_limits_hold_for_any_sequence(chats: list[int], lag: list[float]) -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    instants = greedy(pacer, clock, chats, lag)
    assert most_in_window(instants, 1.0) <= 30
    by_chat: dict[int, list[float]] = defaultdict(list)
    for chat, at in zip(chats, instants, strict=True):
        by_chat[chat].append(at)
    for chat, times in by_chat.items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 1.0 for gap in gaps)
        if chat < 0:
            assert most_in_window(times, 60.0) <= 20


def test_many_chats_reach_the_ceiling() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    instants = greedy(pacer, clock, list(range(1, 3001)), [0.0])
    rate = (len(instants) - 1) / (instants[-1] - instants[0])
    assert 29.0 < rate <= 30.0
    assert most_in_window(instants, 1.0) == 30


def test_one_chat_gets_one_message_a_second() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    pacer.record(7)
    assert pacer.wait_for(7) == pytest.approx(1.03)
    assert pacer.wait_for(8) < 0.04  # other chats only wait for the overall spacing


def test_a_group_gets_twenty_a_minute() -> None:
    clock = FakeClock()
    pacer = SendPacer(Limits(margin=0.0), clock=clock)
    instants = greedy(pacer, clock, [-5] * 21, [0.0])
    assert instants[19] - instants[0] == pytest.approx(19.0)  # one a second...
    assert instants[20] - instants[0] == pytest.approx(60.0)  # ...until twenty in a minute


def test_a_flood_wait_pauses_every_chat() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    pacer.pause(5)
    assert pacer.wait_for(1) == pytest.approx(5)
    assert pacer.wait_for(-9) == pytest.approx(5)
    assert pacer.chat_ready_at(1) < clock.now  # the chats themselves are free
    clock.now += 5
    assert pacer.wait_for(1) == 0


def test_small_delays_are_caught_up_without_bursts() -> None:
    """A sender a few milliseconds late on every send (a busy loop, a commit) still reaches the
    ceiling, and two sends are never closer than the smoothing allows."""
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    instants = greedy(pacer, clock, list(range(1, 3001)), [0.004, 0.0, 0.006])
    rate = (len(instants) - 1) / (instants[-1] - instants[0])
    assert rate > 29.0
    assert most_in_window(instants, 1.0) <= 30
    smallest = min(b - a for a, b in itertools.pairwise(instants))
    assert smallest >= pacer.limits.min_spacing - 1e-9
