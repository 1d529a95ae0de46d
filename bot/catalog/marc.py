"""Reading MARC files (MARC21, MARCXML, UNIMARC) with pymarc, record by record, robustly.

pymarc parses; this module decides how to call it and how to survive real files:

* **Format detection**: MARCXML starts with ``<``; ISO 2709 is UNIMARC when its first record
  has a 200 (title) and no 245, otherwise MARC21.
* **Encodings**: MARC21 declares UTF-8 in leader/09 (``a``), else it is MARC-8 and pymarc
  converts it. UNIMARC leaves leader/09 blank and declares UTF-8 in 100$a/26-27 (``50``), so
  UNIMARC is read with ``force_utf8`` (pymarc's default would read it as MARC-8 and garble it).
* **Resynchronisation**: ISO 2709 records are split on the record terminator (0x1D) before
  pymarc parses each one, instead of trusting each record's length field as ``MARCReader``
  does. A corrupt length or a truncated record then costs that record only, and the reader
  reports it with its position instead of losing its place for the rest of the file.
"""

from __future__ import annotations

import logging
import xml.sax
from collections.abc import Callable, Iterator
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


def read_records(
    path: Path, syntax: MarcSyntax, progress: ProgressCallback | None = None
) -> Iterator[tuple[RawRecord, str]]:
    """Yield every record of the file with its flavour (``marc21`` or ``unimarc``)."""
    if syntax is MarcSyntax.AUTO:
        syntax = detect_syntax(path)
    if syntax is MarcSyntax.MARCXML:
        for raw in _read_marcxml(path, progress):
            yield raw, _flavour(raw.record)
    else:
        unimarc = syntax is MarcSyntax.UNIMARC
        flavour = "unimarc" if unimarc else "marc21"
        for raw in _read_iso2709(path, unimarc=unimarc, progress=progress):
            yield raw, flavour


def _flavour(record: pymarc.Record | None) -> str:
    if record is not None and not record.get_fields("245") and record.get_fields("200"):
        return "unimarc"
    return "marc21"


# ISO 2709 -------------------------------------------------------------------------------------


def _read_iso2709(
    path: Path, *, unimarc: bool, progress: ProgressCallback | None
) -> Iterator[RawRecord]:
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
                if not chunk:
                    continue
                position += 1
                yield _parse_chunk(position, chunk, unimarc=unimarc)
            if progress is not None:
                progress(consumed, size)
    if pending.strip(b"\r\n\t \x00\x1a"):
        position += 1
        yield RawRecord(position, None, "truncated record: the file ends in the middle of it")
    if progress is not None:
        progress(size, size)


def _parse_chunk(position: int, chunk: bytes, *, unimarc: bool) -> RawRecord:
    if len(chunk) < _LEADER_LENGTH or not chunk[:5].isdigit():
        return RawRecord(position, None, "not a MARC record: the leader is missing or damaged")
    declared = int(chunk[:5])
    actual = len(chunk) + 1
    if declared != actual:
        return RawRecord(
            position,
            None,
            f"damaged record: the leader says {declared} bytes, the record has {actual}",
        )
    try:
        record = pymarc.Record(
            data=chunk + END_OF_RECORD,
            to_unicode=True,
            force_utf8=unimarc,
            hide_utf8_warnings=True,
        )
    except UnicodeDecodeError as exc:
        encoding = "UTF-8" if unimarc or chunk[9:10] == b"a" else "MARC-8"
        return RawRecord(position, None, f"bad characters for {encoding} at byte {exc.start}")
    except Exception as exc:  # pymarc raises many exception types for damaged records
        return RawRecord(position, None, f"damaged record: {_describe(exc)}")
    return RawRecord(position, record)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


# MARCXML --------------------------------------------------------------------------------------


class _StreamingHandler(pymarc.XmlHandler):
    """pymarc's handler, collecting records (or per-record errors) as they complete."""

    def __init__(self) -> None:
        super().__init__(strict=False)  # type: ignore[no-untyped-call]
        self.done: list[RawRecord] = []
        self.position = 0
        self._failed: str | None = None

    def startElementNS(  # noqa: N802 (the SAX API's name)
        self, name: tuple[str | None, str], qname: str | None, attrs: Any
    ) -> None:
        if name[1] == "record":
            self.position += 1
            self._failed = None
        try:
            super().startElementNS(name, qname, attrs)  # type: ignore[no-untyped-call]
        except Exception as exc:
            self._fail(exc)

    def endElementNS(  # noqa: N802 (the SAX API's name)
        self, name: tuple[str | None, str], qname: str | None
    ) -> None:
        if name[1] == "record" and self._failed is not None:
            self.done.append(RawRecord(self.position, None, self._failed))
            self._record = None
            self._failed = None
            self._text = []
            return
        try:
            super().endElementNS(name, qname)  # type: ignore[no-untyped-call]
        except Exception as exc:
            self._fail(exc)

    @property
    def in_record(self) -> bool:
        return self._record is not None or self._failed is not None

    def _fail(self, exc: Exception) -> None:
        if self._failed is None:
            self._failed = f"damaged record: {_describe(exc)}"
        self._field = None
        self._text = []

    def process_record(self, record: pymarc.Record) -> None:
        self.done.append(RawRecord(self.position, record))


def _read_marcxml(path: Path, progress: ProgressCallback | None) -> Iterator[RawRecord]:
    handler = _StreamingHandler()
    parser = xml.sax.make_parser()
    parser.setFeature(feature_namespaces, 1)
    parser.setContentHandler(handler)
    size = path.stat().st_size
    consumed = 0
    with path.open("rb") as handle:
        try:
            while True:
                block = handle.read(_READ_SIZE)
                if not block:
                    parser.close()  # type: ignore[attr-defined]
                    break
                consumed += len(block)
                parser.feed(block)  # type: ignore[attr-defined]
                yield from _drain(handler)
                if progress is not None:
                    progress(consumed, size)
        except xml.sax.SAXParseException as exc:
            yield from _drain(handler)
            yield RawRecord(
                handler.position if handler.in_record else handler.position + 1,
                None,
                f"the XML is damaged at line {exc.getLineNumber()}, column "
                f"{exc.getColumnNumber()} ({exc.getMessage()}); the rest of the file was not read",
            )
            return
    yield from _drain(handler)
    if progress is not None:
        progress(size, size)


def _drain(handler: _StreamingHandler) -> Iterator[RawRecord]:
    done, handler.done = handler.done, []
    yield from done


# pymarc logs a warning for every malformed indicator; the import summary reports what matters.
logging.getLogger("pymarc").setLevel(logging.ERROR)
