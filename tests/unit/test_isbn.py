"""ISBN-10 and ISBN-13 of one book are the same key."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.catalog import isbn


def test_isbn10_becomes_its_isbn13() -> None:
    assert isbn.normalize("0812917561 :") == "9780812917567"


def test_isbn13_is_kept_and_qualifiers_are_ignored() -> None:
    assert isbn.normalize("9780670026623 (alk. paper)") == "9780670026623"


def test_lowercase_x_check_digit() -> None:
    assert isbn.normalize("017443474x") == "9780174434740"


def test_wrong_check_digit_is_not_an_isbn() -> None:
    assert isbn.normalize("0812917562") is None
    assert isbn.normalize("9780670026624") is None


def test_hyphenated_query_is_an_isbn() -> None:
    assert isbn.parse_query("978-88-7100-682-6") == "9788871006826"
    assert isbn.parse_query("ISBN 88-7100-682-X") is None  # wrong check digit
    assert isbn.parse_query("isbn: 0-8129-1756-1") == "9780812917567"


def test_words_are_not_isbns() -> None:
    assert isbn.parse_query("promessi sposi") is None
    assert isbn.parse_query("1984") is None


def test_digits_that_are_not_ascii_are_not_an_isbn() -> None:
    """A search for "²²²²²²²²²²" (digits to ``str.isdigit``) is words, not a crash."""
    for text in ("²" * 10, "²" * 13, "١٢٣٤٥٦٧٨٩٠", "88710068²6"):
        assert isbn.parse_query(text) is None
        assert not isbn.is_valid(text)


def test_979_has_no_isbn10() -> None:
    assert isbn.to_isbn10("9791032705179") is None


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_isbn10_and_isbn13_round_trip(first9: str) -> None:
    isbn10 = first9 + isbn._isbn10_check(first9)
    isbn13 = isbn.to_isbn13(isbn10)
    assert isbn.is_valid(isbn10)
    assert isbn.is_valid(isbn13)
    assert isbn.to_isbn10(isbn13) == isbn10
    assert isbn.normalize(isbn10) == isbn.normalize(isbn13) == isbn13
    assert isbn.parse_query(f"{isbn10[:2]}-{isbn10[2:6]}-{isbn10[6:]}") == isbn13
