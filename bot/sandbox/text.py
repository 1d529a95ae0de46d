"""Telegram's text formatting, approximated: HTML, MarkdownV2 and Markdown to text + entities.

Why the emulator parses at all: the Bot API limits ("1-4096 characters after entities parsing")
apply to the text *after* markup is removed, a bot that forgets to escape a catalog title
("<Fiabe>" or "Vol. 2") gets "can't parse entities" from Telegram in production, and the chat page
needs entities to show formatting. The parsers follow TDLib's rules closely enough for those three
purposes; they are not byte-for-byte TDLib. Known simplifications: MarkdownV2's ``>`` block quotes
are per-line, ``tg://user?id=`` links become ``text_link`` (not ``text_mention``), and no
automatic url/mention/hashtag entities are detected in the bot's text.

Counting: entity offsets and lengths are UTF-16 code units, as the Bot API documents. For the
"N-M characters" limits the emulator also counts UTF-16 code units (see :func:`utf16_len`): it is
the stricter of the two plausible readings (code points or UTF-16 units), so a text the emulator
accepts is within Telegram's limit whichever way Telegram counts; they differ only for characters
outside the Basic Multilingual Plane, such as most emoji.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

JsonDict = dict[str, Any]


class EntityParseError(ValueError):
    """Markup Telegram would refuse; the message follows "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets and of the emulator's limits."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class ParsedText:
    """Plain text and its entities, as Telegram stores a formatted message."""

    text: str
    entities: list[JsonDict] = field(default_factory=list)


def parse(text: str, parse_mode: str | None) -> ParsedText:
    """Parse ``text`` according to ``parse_mode`` (None or "" means plain text), then strip.

    Raises EntityParseError for markup Telegram refuses, or for an unknown parse mode.
    """
    mode = (parse_mode or "").lower()
    if mode == "":
        return _strip(ParsedText(text))
    if mode == "html":
        return _strip(_HtmlParser(text).run())
    if mode == "markdownv2":
        return _strip(_MarkdownV2Parser(text).run())
    if mode == "markdown":
        return _strip(_LegacyMarkdownParser(text).run())
    raise EntityParseError(f"unsupported parse_mode {parse_mode!r}")


def _strip(parsed: ParsedText) -> ParsedText:
    """Trim surrounding whitespace as Telegram does and clip entities to the remaining text."""
    text = parsed.text
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    shift = utf16_len(text[:lead])
    limit = utf16_len(stripped)
    entities: list[JsonDict] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, entities)


class _Builder:
    """Accumulates output text while tracking the UTF-16 offset for entity positions."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[JsonDict] = []

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.offset += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.offset > start:
            self.entities.append({"type": kind, "offset": start, "length": self.offset - start})
            self.entities[-1].update(extra)

    def result(self) -> ParsedText:
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.parts), ordered)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_HTML_SUPPORTED = {*_HTML_SIMPLE, "span", "a", "blockquote", "tg-emoji", "tg-time"}
_HTML_START = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][\w-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)"
    r"\s*/?>"
)
_HTML_END = re.compile(r"</([a-zA-Z0-9-]*)\s*>")
_HTML_ATTR = re.compile(r"([a-zA-Z][\w-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str]
    language: str | None = None


class _HtmlParser:
    """Telegram's HTML subset; unknown tags and unbalanced tags are errors, as in TDLib."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out = _Builder()
        self.stack: list[_OpenTag] = []

    def run(self) -> ParsedText:
        src, i = self.source, 0
        while i < len(src):
            char = src[i]
            if char == "&":
                match = _HTML_ENTITY.match(src, i)
                if match:
                    self.out.add(html.unescape(match.group(0)))
                    i = match.end()
                    continue
                self.out.add("&")
                i += 1
            elif char == "<":
                i = self._tag(i)
            else:
                j = i
                while j < len(src) and src[j] not in "&<":
                    j += 1
                self.out.add(src[i:j])
                i = j
        if self.stack:
            name = self.stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        return self.out.result()

    def _tag(self, i: int) -> int:
        src = self.source
        where = _byte_offset(src, i)
        if src.startswith("</", i):
            end = _HTML_END.match(src, i)
            if not end:
                raise EntityParseError(f"Unclosed end tag at byte offset {where}")
            self._close(end.group(1).lower(), where)
            return end.end()
        start = _HTML_START.match(src, i)
        if not start:
            raise EntityParseError(f"Unsupported start tag at byte offset {where}")
        name = start.group(1).lower()
        if name not in _HTML_SUPPORTED:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {where}')
        attrs: dict[str, str] = {}
        for attr in _HTML_ATTR.finditer(start.group(2)):
            value = next((v for v in attr.group(2, 3, 4) if v is not None), "")
            attrs[attr.group(1).lower()] = html.unescape(value)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {where}'
            )
        self.stack.append(_OpenTag(name, self.out.offset, attrs))
        return start.end()

    def _close(self, name: str, where: int) -> None:
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {where}")
        tag = self.stack.pop()
        if name and name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {where}, expected "</{tag.name}>", '
                f'found "</{name}>"'
            )
        parent = self.stack[-1] if self.stack else None
        if tag.name == "code" and parent is not None and parent.name == "pre":
            language = tag.attrs.get("class", "")
            if language.startswith("language-"):
                parent.language = language.removeprefix("language-")
            return
        self._emit(tag)

    def _emit(self, tag: _OpenTag) -> None:
        out = self.out
        if tag.name in _HTML_SIMPLE and tag.name != "pre":
            out.entity(_HTML_SIMPLE[tag.name], tag.start)
        elif tag.name == "pre":
            if tag.language:
                out.entity("pre", tag.start, language=tag.language)
            else:
                out.entity("pre", tag.start)
        elif tag.name == "span":
            out.entity("spoiler", tag.start)
        elif tag.name == "a":
            href = tag.attrs.get("href", "")
            if href:
                out.entity("text_link", tag.start, url=href)
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
            out.entity(kind, tag.start)
        elif tag.name == "tg-emoji":
            out.entity("custom_emoji", tag.start, custom_emoji_id=tag.attrs.get("emoji-id", ""))
        elif tag.name == "tg-time":
            unix = tag.attrs.get("unix", "0")
            out.entity("date_time", tag.start, unix_time=int(unix) if unix.isdigit() else 0)


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_TOGGLES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough"}
_MDV2_TOGGLES["||"] = "spoiler"
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "[": "TextUrl",
    "![": "CustomEmoji",
}


class _MarkdownV2Parser:
    """MarkdownV2: every reserved character outside an entity must be escaped with a backslash."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out = _Builder()
        self.stack: list[tuple[str, int, int]] = []  # (marker, output offset, source index)

    def run(self) -> ParsedText:
        src, i = self.source, 0
        quote_start: int | None = None
        while i < len(src):
            at_line_start = i == 0 or src[i - 1] == "\n"
            if at_line_start and quote_start is not None and not src.startswith(">", i):
                self.out.entity("blockquote", quote_start)
                quote_start = None
            char = src[i]
            if at_line_start and char == ">":
                quote_start = self.out.offset if quote_start is None else quote_start
                i += 1
            elif char == "\\" and i + 1 < len(src):
                self.out.add(src[i + 1])
                i += 2
            elif char == "`":
                i = self._code(i)
            elif src.startswith("||", i) or src.startswith("__", i):
                self._toggle(_MDV2_TOGGLES[src[i : i + 2]], i)
                i += 2
            elif char in "*_~":
                self._toggle(_MDV2_TOGGLES[char], i)
                i += 1
            elif src.startswith("![", i):
                self.stack.append(("![", self.out.offset, i))
                i += 2
            elif char == "[":
                self.stack.append(("[", self.out.offset, i))
                i += 1
            elif char == "]" and self.stack and self.stack[-1][0] in ("[", "!["):
                i = self._link(i)
            elif char in _MDV2_RESERVED:
                raise EntityParseError(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                self.out.add(char)
                i += 1
        if quote_start is not None:
            self.out.entity("blockquote", quote_start)
        if self.stack:
            marker, _, index = self.stack[-1]
            name = _ENTITY_NAMES.get(marker, marker)
            where = _byte_offset(self.source, index)
            raise EntityParseError(f"Can't find end of {name} entity at byte offset {where}")
        return self.out.result()

    def _toggle(self, kind: str, index: int) -> None:
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == kind:
                _, start, _ = self.stack.pop(position)
                self.out.entity(kind, start)
                return
        self.stack.append((kind, self.out.offset, index))

    def _code(self, i: int) -> int:
        src = self.source
        fence = "```" if src.startswith("```", i) else "`"
        j = i + len(fence)
        language = ""
        if fence == "```":
            newline = src.find("\n", j)
            first_line = src[j:newline] if newline != -1 else ""
            if newline != -1 and first_line and " " not in first_line and "`" not in first_line:
                language, j = first_line, newline + 1
        start = self.out.offset
        while j < len(src):
            if src[j] == "\\" and j + 1 < len(src):
                self.out.add(src[j + 1])
                j += 2
            elif src.startswith(fence, j):
                if fence == "`":
                    self.out.entity("code", start)
                elif language:
                    self.out.entity("pre", start, language=language)
                else:
                    self.out.entity("pre", start)
                return j + len(fence)
            else:
                self.out.add(src[j])
                j += 1
        name = "Code" if fence == "`" else "Pre"
        where = _byte_offset(src, i)
        raise EntityParseError(f"Can't find end of {name} entity at byte offset {where}")

    def _link(self, i: int) -> int:
        src = self.source
        marker, start, index = self.stack.pop()
        if not src.startswith("(", i + 1):
            return i + 1
        close = i + 2
        url_chars: list[str] = []
        while close < len(src) and src[close] != ")":
            if src[close] == "\\" and close + 1 < len(src):
                close += 1
            url_chars.append(src[close])
            close += 1
        if close >= len(src):
            where = _byte_offset(src, index)
            name = _ENTITY_NAMES[marker]
            raise EntityParseError(f"Can't find end of a URL at byte offset {where} ({name})")
        url = "".join(url_chars)
        if marker == "![":
            emoji_id = url.split("id=", 1)[1] if "id=" in url else ""
            self.out.entity("custom_emoji", start, custom_emoji_id=emoji_id)
        else:
            self.out.entity("text_link", start, url=url)
        return close + 1


class _LegacyMarkdownParser:
    """The legacy "Markdown" mode: ``*bold*``, ``_italic_``, code, pre and ``[text](url)``."""

    _KINDS: ClassVar[dict[str, str]] = {"*": "bold", "_": "italic"}

    def __init__(self, source: str) -> None:
        self.source = source
        self.out = _Builder()

    def run(self) -> ParsedText:
        src, i = self.source, 0
        while i < len(src):
            char = src[i]
            if char == "\\" and i + 1 < len(src) and src[i + 1] in "_*`[":
                self.out.add(src[i + 1])
                i += 2
            elif char in "*_`" or char == "[":
                i = self._entity(i)
            else:
                self.out.add(char)
                i += 1
        return self.out.result()

    def _entity(self, i: int) -> int:
        src = self.source
        where = _byte_offset(src, i)
        error = f"Can't find end of the entity starting at byte offset {where}"
        start = self.out.offset
        if src.startswith("```", i):
            end = src.find("```", i + 3)
            if end == -1:
                raise EntityParseError(error)
            self.out.add(src[i + 3 : end])
            self.out.entity("pre", start)
            return end + 3
        char = src[i]
        if char == "[":
            close = src.find("](", i)
            end = src.find(")", close + 2) if close != -1 else -1
            if close == -1 or end == -1:
                raise EntityParseError(error)
            self.out.add(src[i + 1 : close])
            self.out.entity("text_link", start, url=src[close + 2 : end])
            return end + 1
        end = src.find(char, i + 1)
        if end == -1:
            raise EntityParseError(error)
        self.out.add(src[i + 1 : end])
        self.out.entity(self._KINDS.get(char, "code"), start)
        return end + 1


_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def user_entities(text: str) -> list[JsonDict]:
    """Entities Telegram adds to a user's plain message: one ``bot_command`` per command.

    PTB's CommandHandler needs the ``bot_command`` entity at offset 0 to recognise ``/start``.
    """
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group(0)),
        }
        for match in _COMMAND.finditer(text)
    ]
