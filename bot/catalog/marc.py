"""Reading MARC files (MARC21, MARCXML, UNIMARC) with pymarc, record by record, robustly.

pymarc parses; this module decides how to call it and how to survive real files:

* **Format detection**: MARCXML starts with ``<``; ISO 2709 is UNIMARC when its first record
  has a 200 (title) and no 245, otherwise MARC21.
* **Encodings**: MARC21 declares UTF-8 in leader/09 (``a``), else it is MARC-8 and pymarc
  converts it. UNIMARC leaves leader/09 blank and declares UTF-8 in 100$a/26-27 (``50``), so
  UNIMARC is read with ``force_utf8`` (pymarc's default would read it as MARC-8 and garble it).
* **Resynchronisation**: ISO 2709 records are split on the record terminator (0x1D) before
  pymarc parses each one, instead of trusting each record's length field as ``MARCReader``
  does; MARCXML is split on its ``<record>`` elements before SAX parses them. A corrupt length,
  a damaged record or a truncated file then costs that record only, and the reader reports it
  with its position instead of losing its place for the rest of the file.

Splitting (cheap, in order) and parsing (costly, per batch) are separate steps so that the
importer can parse batches in worker processes (see bot/catalog/parsing.py).
"""

from __future__ import annotations

import logging
import re
import xml.sax
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.sax.handler import feature_namespaces

import pymarc

END_OF_RECORD = b"\x1d"
_READ_SIZE = 1 << 20
_LEADER_LENGTH = 24

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes read so far, file size)."""


class MarcSyntax(StrEnum):
    AUTO = "auto"
    MARC21 = "marc21"
    MARCXML = "marcxml"
    UNIMARC = "unimarc"


class MarcFileError(Exception):
    """The file as a whole cannot be read (missing, empty, not MARC)."""


@dataclass(frozen=True, slots=True)
class RawChunk:
    """One record's bytes as found in the file (not parsed yet), or why it cannot be had."""

    position: int  # 1-based, in file order
    data: bytes | None
    error: str | None = None
    line: int = 1  # where it starts (MARCXML), for error messages


@dataclass(frozen=True, slots=True)
class XmlFrame:
    """What turns one ``<record>`` element of a MARCXML file back into a document: the file's
    prolog and root start tag (with its namespace declarations), and the root's end tag."""

    prefix: bytes
    suffix: bytes


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record of a file: parsed, or the reason it could not be."""

    position: int  # 1-based, in file order
    record: pymarc.Record | None
    error: str | None = None


def detect_syntax(path: Path) -> MarcSyntax:
    """Guess the syntax of a MARC file from its first bytes and its first record."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError as exc:
        raise MarcFileError(f"{path}: cannot read: {exc.strerror}") from exc
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise MarcFileError(f"{path}: the file is empty")
    if stripped.startswith(b"<"):
        return MarcSyntax.MARCXML
    if not stripped[:5].isdigit():
        raise MarcFileError(f"{path}: not a MARC file (neither ISO 2709 nor MARCXML)")
    return MarcSyntax.UNIMARC if _looks_unimarc(stripped) else MarcSyntax.MARC21


def _looks_unimarc(data: bytes) -> bool:
    """UNIMARC has its title in 200 and no 245; MARC21 the other way round."""
    try:
        base = int(data[12:17])
        directory = data[_LEADER_LENGTH : base - 1].decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return data[20:24] == b"450 "
    tags = {directory[index : index + 3] for index in range(0, len(directory) - 2, 12)}
    if "245" in tags:
        return False
    if "200" in tags:
        return True
    return data[20:24] == b"450 "


# ISO 2709 -------------------------------------------------------------------------------------


def iso2709_chunks(path: Path, progress: ProgressCallback | None = None) -> Iterator[RawChunk]:
    """Each record's bytes (without its terminator), in file order."""
    size = path.stat().st_size
    position = 0
    consumed = 0
    pending = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(_READ_SIZE)
            if not block:
                break
            pending += block
            *chunks, pending = pending.split(END_OF_RECORD)
            for chunk in chunks:
                consumed += len(chunk) + 1
                chunk = chunk.lstrip(b"\r\n\t \x00")
                if chunk:
                    position += 1
                    yield RawChunk(position, chunk)
            if progress is not None:
                progress(consumed, size)
    if pending.strip(b"\r\n\t \x00\x1a"):
        yield RawChunk(position + 1, None, "truncated record: the file ends in the middle of it")
    if progress is not None:
        progress(size, size)


def parse_iso2709(chunk: RawChunk, *, unimarc: bool) -> RawRecord:
    """pymarc's parse of one record, or the reason it failed."""
    data = chunk.data
    if data is None:
        return RawRecord(chunk.position, None, chunk.error)
    position = chunk.position
    if len(data) < _LEADER_LENGTH or not data[:5].isdigit():
        return RawRecord(position, None, "not a MARC record: the leader is missing or damaged")
    declared = int(data[:5])
    actual = len(data) + 1
    if declared != actual:
        return RawRecord(
            position,
            None,
            f"damaged record: the leader says {declared} bytes, the record has {actual}",
        )
    try:
        record = pymarc.Record(
            data=data + END_OF_RECORD,
            to_unicode=True,
            force_utf8=unimarc,
            hide_utf8_warnings=True,
        )
    except UnicodeDecodeError as exc:
        encoding = "UTF-8" if unimarc or data[9:10] == b"a" else "MARC-8"
        return RawRecord(position, None, f"bad characters for {encoding} at byte {exc.start}")
    except Exception as exc:  # pymarc raises many exception types for damaged records
        return RawRecord(position, None, f"damaged record: {_describe(exc)}")
    return RawRecord(position, record)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


# MARCXML --------------------------------------------------------------------------------------

_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL)
_START_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)(?=[\s/>])[^>]*>")
_RECORD_START = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?record(?=[\s/>])")
_RECORD_END = re.compile(rb"</(?:[A-Za-z_][\w.\-]*:)?record\s*>")


def _frame(head: bytes) -> tuple[XmlFrame, int]:
    """The wrapper of the file's records, and where the records begin."""
    offset = len(head) - len(head.lstrip(b"\xef\xbb\xbf"))
    while match := _PROLOG_ITEM.match(head, offset):
        offset = match.end()
    root = _START_TAG.search(head, offset)
    if root is None:
        raise MarcFileError("no root element")
    name = root.group(1)
    if name.split(b":")[-1] == b"record":  # a file of one record, without a collection
        return XmlFrame(head[: root.start()], b""), root.start()
    return XmlFrame(head[: root.end()], b"</" + name + b">"), root.end()


def marcxml_chunks(
    path: Path, progress: ProgressCallback | None = None
) -> tuple[XmlFrame, Iterator[RawChunk]]:
    """The file's frame, and each ``<record>`` element's bytes in file order."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    try:
        frame, start = _frame(head)
    except MarcFileError as exc:
        raise MarcFileError(f"{path}: not MARCXML ({exc})") from exc
    return frame, _record_elements(path, start, progress)


def _element_end(buffer: bytes, opening: re.Match[bytes]) -> int | None:
    """Where the ``<record>`` element starting at ``opening`` ends, if it is all in ``buffer``."""
    tag_end = buffer.find(b">", opening.end())
    if tag_end == -1:
        return None
    if buffer[tag_end - 1 : tag_end] == b"/":  # <record/>
        return tag_end + 1
    closing = _RECORD_END.search(buffer, tag_end)
    return closing.end() if closing else None


def _record_elements(
    path: Path, start: int, progress: ProgressCallback | None
) -> Iterator[RawChunk]:
    size = path.stat().st_size
    position = 0
    with path.open("rb") as handle:
        line = 1 + handle.read(start).count(b"\n")
        consumed = start
        buffer = b""
        offset = 0  # where the unread part of buffer begins
        exhausted = False
        while True:
            opening = _RECORD_START.search(buffer, offset)
            end = _element_end(buffer, opening) if opening is not None else None
            if opening is not None and end is not None:
                line += buffer.count(b"\n", offset, opening.start())
                position += 1
                yield RawChunk(position, buffer[opening.start() : end], line=line)
                line += buffer.count(b"\n", opening.start(), end)
                offset = end
                continue
            if exhausted:
                break
            block = handle.read(_READ_SIZE)
            if not block:
                exhausted = True
                continue
            consumed += len(block)
            # Drop what was read; keep an unfinished record, or a tail that may hold a
            # "<record" tag cut in two by the read.
            keep = opening.start() if opening is not None else max(offset, len(buffer) - 64)
            line += buffer.count(b"\n", offset, keep)
            buffer = buffer[keep:] + block
            offset = 0
            if progress is not None:
                progress(consumed, size)
        unfinished = _RECORD_START.search(buffer, offset)
        if unfinished is not None:
            yield RawChunk(
                position + 1,
                None,
                "the file ends in the middle of this record",
                line=line + buffer.count(b"\n", offset, unfinished.start()),
            )
    if progress is not None:
        progress(size, size)


class _CollectingHandler(pymarc.XmlHandler):
    """pymarc's SAX handler, keeping the records it completes (or why one failed)."""

    def __init__(self) -> None:
        super().__init__(strict=False)  # type: ignore[no-untyped-call]
        self.done: list[pymarc.Record | str] = []
        self._failed: str | None = None

    def startElementNS(  # noqa: N802 (the SAX API's name)
        self, name: tuple[str | None, str], qname: str | None, attrs: Any
    ) -> None:
        if name[1] == "record":
            self._failed = None
        try:
            super().startElementNS(name, qname, attrs)  # type: ignore[no-untyped-call]
        except Exception as exc:
            self._fail(exc)

    def endElementNS(  # noqa: N802 (the SAX API's name)
        self, name: tuple[str | None, str], qname: str | None
    ) -> None:
        if name[1] == "record" and self._failed is not None:
            self.done.append(self._failed)
            self._record = None
            self._failed = None
            self._text = []
            return
        try:
            super().endElementNS(name, qname)  # type: ignore[no-untyped-call]
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        if self._failed is None:
            self._failed = f"damaged record: {_describe(exc)}"
        self._field = None
        self._text = []

    def process_record(self, record: pymarc.Record) -> None:
        self.done.append(record)


def _sax(document: bytes) -> list[pymarc.Record | str]:
    handler = _CollectingHandler()
    parser = xml.sax.make_parser()
    parser.setFeature(feature_namespaces, 1)
    parser.setContentHandler(handler)
    parser.feed(document)  # type: ignore[attr-defined]
    parser.close()  # type: ignore[attr-defined]
    return handler.done


def parse_marcxml(chunks: Sequence[RawChunk], frame: XmlFrame) -> list[RawRecord]:
    """Parse several ``<record>`` elements: in one document when they are all well formed,
    else one by one, so a damaged element costs only its own record."""
    wanted = [chunk for chunk in chunks if chunk.data is not None]
    if wanted:
        try:
            parsed = _sax(
                frame.prefix + b"".join(chunk.data or b"" for chunk in wanted) + frame.suffix
            )
        except xml.sax.SAXParseException:
            pass
        else:
            if len(parsed) == len(wanted):
                by_position = dict(zip((chunk.position for chunk in wanted), parsed, strict=True))
                return [_raw_from(chunk, by_position.get(chunk.position)) for chunk in chunks]
    return [_parse_one(chunk, frame) for chunk in chunks]


def _parse_one(chunk: RawChunk, frame: XmlFrame) -> RawRecord:
    if chunk.data is None:
        return RawRecord(chunk.position, None, f"{chunk.error} (line {chunk.line})")
    try:
        parsed = _sax(frame.prefix + chunk.data + frame.suffix)
    except xml.sax.SAXParseException as exc:
        line = chunk.line + (exc.getLineNumber() or 1) - 1 - frame.prefix.count(b"\n")
        return RawRecord(
            chunk.position,
            None,
            f"the XML of this record is damaged at line {line} ({exc.getMessage()})",
        )
    if len(parsed) != 1:
        return RawRecord(chunk.position, None, "damaged record: not one <record> element")
    return _raw_from(chunk, parsed[0])


def _raw_from(chunk: RawChunk, parsed: pymarc.Record | str | None) -> RawRecord:
    if chunk.data is None:
        return RawRecord(chunk.position, None, f"{chunk.error} (line {chunk.line})")
    if isinstance(parsed, str):
        return RawRecord(chunk.position, None, parsed)
    return RawRecord(chunk.position, parsed)


def flavour_of(record: pymarc.Record | None, syntax: MarcSyntax) -> str:
    """``unimarc`` or ``marc21``: MARCXML records say it by their fields."""
    if syntax is MarcSyntax.UNIMARC:
        return "unimarc"
    if syntax is MarcSyntax.MARC21 or record is None:
        return "marc21"
    if not record.get_fields("245") and record.get_fields("200"):
        return "unimarc"
    return "marc21"


# pymarc logs a warning for every malformed indicator; the import summary reports what matters.
logging.getLogger("pymarc").setLevel(logging.ERROR)
