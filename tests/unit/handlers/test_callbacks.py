"""Callback data: short prefixed ids within the Bot API's 64 bytes, parsed without trust."""

from __future__ import annotations

import pytest

from bot.handlers.context import CALLBACK_LIMIT, callback, int_part, parse_callback


def test_a_button_carries_a_prefix_and_its_ids() -> None:
    assert callback("renew", 123, 0) == "renew:123:0"
    assert callback("hold", "pick", 9_999_999_999, "CER") == "hold:pick:9999999999:CER"


def test_more_than_64_bytes_is_refused_when_the_button_is_made() -> None:
    assert len(callback("x", "é" * 31).encode()) == CALLBACK_LIMIT  # 2 + 62 bytes
    with pytest.raises(ValueError, match="callback data of 66 bytes"):
        callback("x", "é" * 32)  # 66 bytes: what Telegram would refuse
    with pytest.raises(ValueError, match="callback data of 0 bytes"):
        callback("")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("renew:12:0", ["12", "0"]),
        ("renew:12", None),
        ("renew:12:0:9", None),
        ("loans:12:0", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_takes_only_the_shape_it_was_asked_for(
    data: str | None, expected: list[str] | None
) -> None:
    assert parse_callback(data, "renew", 2) == expected


@pytest.mark.parametrize("text", ["", "-1", "1e3", "12a", "9" * 12, "١٢", "²", "1²"])
def test_an_id_that_is_not_a_plain_small_number_is_none(text: str) -> None:
    assert int_part(text) is None


def test_a_plain_id_is_read() -> None:
    assert int_part("00042") == 42
    assert int_part("9" * 11) == 99_999_999_999
