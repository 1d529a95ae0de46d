"""Money in and out of cents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.circulation.money import format_euros, parse_euros


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0.00"), (80, "0.80"), (1000, "10.00"), (2005, "20.05"), (-5, "-0.05")]
)
def test_format_euros(cents: int, text: str) -> None:
    assert format_euros(cents) == text


@pytest.mark.parametrize(
    ("text", "cents"), [("0.80", 80), ("0,8", 80), ("3", 300), (" 12.05 ", 1205), ("10,00", 1000)]
)
def test_parse_euros(text: str, cents: int) -> None:
    assert parse_euros(text) == cents


@pytest.mark.parametrize("text", ["", "-1", "1.234", "1e3", "abc", "1.", "€5"])
def test_parse_euros_refuses_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_euros(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_format_then_parse_is_the_identity(cents: int) -> None:
    assert parse_euros(format_euros(cents)) == cents
