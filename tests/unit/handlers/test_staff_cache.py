"""The staff membership cache: an answer lives for its time-to-live, then is asked again."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.handlers.staff_cache import STAFF_CACHE_SECONDS, StaffCache


def test_an_answer_is_kept_for_a_minute_then_forgotten() -> None:
    cache = StaffCache()
    cache.put(7, True, now=100.0)
    assert cache.get(7, now=100.0 + STAFF_CACHE_SECONDS - 0.1) is True
    assert cache.get(7, now=100.0 + STAFF_CACHE_SECONDS) is None
    assert 7 not in cache.answers


def test_forget_one_or_all() -> None:
    cache = StaffCache()
    cache.put(1, True, now=0.0)
    cache.put(2, False, now=0.0)
    cache.forget(1)
    assert cache.get(1, now=0.0) is None
    assert cache.get(2, now=0.0) is False
    cache.forget()
    assert cache.answers == {}


@given(
    answer=st.booleans(),
    put_at=st.floats(min_value=0, max_value=1e6),
    later=st.floats(min_value=0, max_value=1e3),
)
def test_never_an_answer_older_than_the_ttl(answer: bool, put_at: float, later: float) -> None:
    cache = StaffCache()
    cache.put(1, answer, now=put_at)
    got = cache.get(1, now=put_at + later)
    assert got == (answer if put_at + later - put_at < STAFF_CACHE_SECONDS else None)
