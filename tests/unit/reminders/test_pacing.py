"""The pacer keeps Telegram's limits exactly, on an injected clock, *as Telegram counts them*:
each message arrives anywhere between the moment it left and the moment its answer came back,
with random delays, and still no second holds more than 30 arrivals, no chat two arrivals
within a second, no group more than 20 within a minute. And with enough chats and fast answers
the sender reaches the ceiling (within the 1 % margin)."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reminders.pacing import Limits, SendPacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sent:
    chat: int
    left: float
    answered: float
    arrived: float


def simulate(
    pacer: SendPacer,
    clock: FakeClock,
    chats: list[int],
    *,
    latency: list[float],
    where: list[float],
    concurrency: int = 4,
    lag: float = 0.0,
) -> list[Sent]:
    """A sender like the dispatcher: the oldest message whose chat is free goes as soon as the
    pacer allows, up to ``concurrency`` in flight; each answer comes ``latency`` later and the
    message "arrives" at a point ``where`` (0..1) between leaving and the answer."""
    waiting = list(enumerate(chats))
    flying: list[tuple[float, int, int]] = []  # (answer at, order, chat)
    sent: list[Sent] = []
    number = itertools.count()
    while waiting or flying:
        candidates = [(pacer.ready_at(chat), order, chat) for order, chat in waiting[:64]]
        best = min(candidates) if candidates and len(flying) < concurrency else None
        if best is not None and (not flying or best[0] <= flying[0][0]):
            at, order, chat = best
            assert at != float("inf")
            clock.now = max(clock.now, at) + lag
            assert pacer.wait_for(chat) == 0
            pacer.record(chat)
            n = next(number)
            span = latency[n % len(latency)]
            arrived = clock.now + span * where[n % len(where)]
            sent.append(Sent(chat, clock.now, clock.now + span, arrived))
            heapq.heappush(flying, (clock.now + span, n, chat))
            waiting.remove((order, chat))
        else:
            answer_at, _, chat = heapq.heappop(flying)
            clock.now = max(clock.now, answer_at)
            pacer.done(chat)
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
    chats=st.lists(st.sampled_from([1, 2, 3, 50, 51, -100, -101, *range(200, 260)]), max_size=300),
    latency=st.lists(st.floats(0.0, 0.4), min_size=1, max_size=7),
    where=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5),
    concurrency=st.integers(1, 8),
)
def test_limits_hold_where_telegram_counts_whatever_the_delays(
    chats: list[int], latency: list[float], where: list[float], concurrency: int
) -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    sent = simulate(pacer, clock, chats, latency=latency, where=where, concurrency=concurrency)
    assert len(sent) == len(chats)
    assert most_in_window([s.arrived for s in sent], 1.0) <= 30
    by_chat: dict[int, list[float]] = defaultdict(list)
    for s in sent:
        by_chat[s.chat].append(s.arrived)
    for chat, times in by_chat.items():
        times.sort()
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))
        if chat < 0:
            assert most_in_window(times, 60.0) <= 20


def test_many_chats_reach_the_ceiling() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    sent = simulate(pacer, clock, list(range(1, 3001)), latency=[0.002], where=[0.5])
    left = [s.left for s in sent]
    rate = (len(left) - 1) / (left[-1] - left[0])
    assert 29.5 < rate <= 30.0
    assert most_in_window([s.arrived for s in sent], 1.0) == 30


def test_small_delays_are_caught_up_without_bursts() -> None:
    """A sender a few milliseconds late on every send still reaches the ceiling, and two sends
    are never closer than the smoothing allows."""
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    sent = simulate(pacer, clock, list(range(1, 3001)), latency=[0.002], where=[1.0], lag=0.005)
    left = [s.left for s in sent]
    assert (len(left) - 1) / (left[-1] - left[0]) > 29.0
    assert min(b - a for a, b in itertools.pairwise(left)) >= pacer.limits.min_spacing - 1e-9


def test_slow_answers_cost_throughput_not_correctness() -> None:
    """At 100 ms per answer the window holds each message a tenth of a second longer."""
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    rng = random.Random(5)
    latency = [rng.uniform(0.05, 0.15) for _ in range(50)]
    sent = simulate(pacer, clock, list(range(1, 1001)), latency=latency, where=[0.0, 1.0])
    left = [s.left for s in sent]
    rate = (len(left) - 1) / (left[-1] - left[0])
    assert 25.0 < rate < 29.0
    assert most_in_window([s.arrived for s in sent], 1.0) <= 30


def test_a_chat_waits_a_second_after_its_answer() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    pacer.record(7)
    assert pacer.wait_for(7) == float("inf")  # until the answer is back
    assert pacer.wait_for(8) < 0.03  # other chats only wait for the overall spacing
    clock.now += 0.3
    pacer.done(7)
    assert pacer.wait_for(7) == pytest.approx(1.01)


def test_a_group_gets_twenty_a_minute() -> None:
    clock = FakeClock()
    pacer = SendPacer(Limits(margin=0.0), clock=clock)
    sent = simulate(pacer, clock, [-5] * 21, latency=[0.0], where=[0.0])
    assert sent[19].left - sent[0].left == pytest.approx(19.0)  # one a second...
    assert sent[20].left - sent[0].left == pytest.approx(60.0)  # ...until twenty in a minute


def test_a_flood_wait_pauses_every_chat() -> None:
    clock = FakeClock()
    pacer = SendPacer(clock=clock)
    pacer.pause(5)
    assert pacer.wait_for(1) == pytest.approx(5)
    assert pacer.wait_for(-9) == pytest.approx(5)
    assert pacer.chat_ready_at(1) < clock.now  # the chats themselves are free
    clock.now += 5
    assert pacer.wait_for(1) == 0
