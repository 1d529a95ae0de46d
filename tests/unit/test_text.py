"""Text views of catalog strings: display, folding for search, sort keys, ISBD clean-up."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.catalog.text import display, fold, index_text, sort_key, strip_isbd, tokens


def test_non_sort_markers_are_removed_for_display() -> None:
    assert display("\x98Il \x9csuccesso adesso") == "Il successo adesso"


def test_elided_article_inside_markers_is_joined_to_its_word() -> None:
    assert display("\x98L' \x9camore borghese") == "L'amore borghese"


def test_sort_key_drops_the_article_between_markers() -> None:
    assert sort_key("\x98Il \x9csuccesso adesso") == "successo adesso"
    assert sort_key("\x98L' \x9camore borghese") == "amore borghese"


def test_decomposed_accents_are_composed_for_display() -> None:
    shown = display("Cere\u0300")
    assert shown == "Cerè"
    assert unicodedata.is_normalized("NFC", shown)


def test_control_characters_never_reach_the_reader() -> None:
    assert display("Title\x1fwith\x07controls") == "Title with controls"


def test_accent_and_case_folding() -> None:
    assert fold("caffè") == fold("caffe") == fold("CAFFÈ")
    assert fold("Cittá") == fold("citta") == fold("CITTÀ")
    assert fold("Cere\u0300") == fold("Cerè") == "cere"


def test_tokens_split_on_everything_but_letters_and_digits() -> None:
    assert tokens('L\'amore: "AND" (NEAR) 🎉 caffè_latte 2015') == [
        "l",
        "amore",
        "and",
        "near",
        "caffe",
        "latte",
        "2015",
    ]


def test_index_text_joins_folded_words_of_every_part() -> None:
    assert index_text("Città di Dio", None, "Sant'Agostino") == "citta di dio sant agostino"


def test_isbd_punctuation_is_stripped() -> None:
    assert strip_isbd("E Street shuffle :") == "E Street shuffle"
    assert strip_isbd("Heylin, Clinton.") == "Heylin, Clinton"
    assert strip_isbd("Félice, Philippe de.") == "Félice, Philippe de"
    assert strip_isbd("Reuben Fine /") == "Reuben Fine"


def test_initials_and_abbreviations_keep_their_dot() -> None:
    assert strip_isbd("Mastronarde, Donald J.") == "Mastronarde, Donald J."
    assert strip_isbd("New York : D. McKay Co.") == "New York : D. McKay Co."


@given(st.text())
def test_tokens_are_folded_words_only(text: str) -> None:
    for word in tokens(text):
        assert word
        assert all(ch.isalnum() for ch in word)
        assert word == fold(word)


# Letters of the Latin alphabets the network's catalogs use, with their accents (U+00C0-U+024F).
_LATIN_LETTERS = st.characters(
    categories=["Lu", "Ll"], min_codepoint=0x41, max_codepoint=0x24F
) | st.characters(categories=["Mn"], min_codepoint=0x300, max_codepoint=0x36F)


@given(st.text(alphabet=_LATIN_LETTERS, min_size=1))
def test_folding_ignores_case(text: str) -> None:
    assert fold(text.upper()) == fold(text.lower()) == fold(text)


@given(st.text())
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
