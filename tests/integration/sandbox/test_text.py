"""Telegram's formatting as the emulator approximates it: text, entities, errors."""

from __future__ import annotations

import pytest

from bot.sandbox.text import EntityParseError, parse, user_entities, utf16_len


def test_html_entities_offsets_in_utf16() -> None:
    parsed = parse('📚 <b>Il <i>barone</i></b> &amp; <a href="https://x.it">link</a>', "HTML")
    assert parsed.text == "📚 Il barone & link"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 6, "length": 6},
        {"type": "text_link", "offset": 15, "length": 4, "url": "https://x.it"},
    ]


def test_html_pre_with_language_and_spoiler() -> None:
    parsed = parse(
        '<pre><code class="language-python">x = 1</code></pre><tg-spoiler>s</tg-spoiler>', "HTML"
    )
    assert parsed.text == "x = 1s"
    assert parsed.entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 5, "length": 1},
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("a < b", "Unsupported start tag at byte offset 2"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<b>x</i>", "Unmatched end tag"),
        ("<b>x", "Can't find end tag"),
        ("x</b>", "Unexpected end tag"),
    ],
)
def test_html_errors(source: str, error: str) -> None:
    with pytest.raises(EntityParseError, match=error):
        parse(source, "HTML")


def test_markdown_v2() -> None:
    parsed = parse(r"*Il barone* \- _vol\. 2_ [sito](https://x.it/a\)b) `a.b`", "MarkdownV2")
    assert parsed.text == "Il barone - vol. 2 sito a.b"
    kinds = [(e["type"], e["offset"], e["length"]) for e in parsed.entities]
    assert kinds == [("bold", 0, 9), ("italic", 12, 6), ("text_link", 19, 4), ("code", 24, 3)]
    assert parsed.entities[2]["url"] == "https://x.it/a)b"


@pytest.mark.parametrize("source", ["Vol. 2", "1-2", "(a)", "*open"])
def test_markdown_v2_errors(source: str) -> None:
    with pytest.raises(EntityParseError):
        parse(source, "MarkdownV2")


def test_legacy_markdown_and_strip() -> None:
    parsed = parse("  *a* _b_ [c](https://x.it)  ", "Markdown")
    assert parsed.text == "a b c"
    assert [e["type"] for e in parsed.entities] == ["bold", "italic", "text_link"]


def test_user_commands_and_utf16() -> None:
    assert user_entities("/start link-1 e /help@bot") == [
        {"type": "bot_command", "offset": 0, "length": 6},
        {"type": "bot_command", "offset": 16, "length": 9},
    ]
    assert user_entities("a/b") == []
    assert utf16_len("è📚") == 3
