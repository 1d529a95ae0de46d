"""Parsing and mapping batches of raw records: the CPU-bound half of an import.

The importer runs :func:`parse_batch` in worker processes for big files (one per core), so
that pymarc's parsing and the mapping run in parallel while the main process writes to the
store; Python's GIL would otherwise serialise them. Everything here is a plain function of
picklable arguments for that reason, and imports nothing from the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bot.catalog.mapping import MappingError, map_record
from bot.catalog.marc import (
    MarcSyntax,
    ProgressCallback,
    RawChunk,
    RawRecord,
    XmlFrame,
    detect_syntax,
    flavour_of,
    iso2709_chunks,
    marcxml_chunks,
    parse_iso2709,
    parse_marcxml,
)
from bot.catalog.model import RecordData, StorableRecord


@dataclass(frozen=True, slots=True)
class Parsed:
    """One record of a file, mapped, or the reason it is skipped."""

    position: int
    record: RecordData | None
    error: str | None = None


class Prepared(NamedTuple):
    """One record of a file ready for the store (as a worker process returns it), or the
    reason it is skipped."""

    position: int
    record: StorableRecord | None
    error: str | None


def raw_chunks(
    path: Path, syntax: MarcSyntax, progress: ProgressCallback | None = None
) -> tuple[XmlFrame | None, Iterator[RawChunk]]:
    """Split a file into its records' bytes (``syntax`` must not be AUTO)."""
    if syntax is MarcSyntax.MARCXML:
        return marcxml_chunks(path, progress)
    return None, iso2709_chunks(path, progress)


def parse_batch(
    chunks: Sequence[RawChunk], syntax: MarcSyntax, frame: XmlFrame | None
) -> list[Prepared]:
    """Parse and map a batch of raw records, in file order, ready for the store."""
    return [
        Prepared(parsed.position, parsed.record.storable() if parsed.record else None, parsed.error)
        for parsed in _parse_batch(chunks, syntax, frame)
    ]


def _parse_batch(
    chunks: Sequence[RawChunk], syntax: MarcSyntax, frame: XmlFrame | None
) -> list[Parsed]:
    if syntax is MarcSyntax.MARCXML:
        if frame is None:
            raise ValueError("MARCXML needs the file's frame")
        return [_mapped(raw, syntax) for raw in parse_marcxml(chunks, frame)]
    # Each record is mapped as soon as it is parsed, so that only one pymarc record is alive at
    # a time: a thousand of them alive at once keep Python's cyclic garbage collector busy.
    unimarc = syntax is MarcSyntax.UNIMARC
    return [_mapped(parse_iso2709(chunk, unimarc=unimarc), syntax) for chunk in chunks]


def _mapped(raw: RawRecord, syntax: MarcSyntax) -> Parsed:
    if raw.record is None:
        return Parsed(raw.position, None, raw.error or "unreadable record")
    try:
        return Parsed(raw.position, map_record(raw.record, flavour_of(raw.record, syntax)))
    except MappingError as exc:
        return Parsed(raw.position, None, str(exc))
    except Exception as exc:  # a record pymarc accepted but that is malformed inside
        return Parsed(raw.position, None, f"malformed record: {type(exc).__name__}: {exc}")


def parse_file(path: Path, syntax: MarcSyntax = MarcSyntax.AUTO) -> Iterator[Parsed]:
    """Every record of a file, parsed and mapped here, one batch at a time (scripts, tests)."""
    if syntax is MarcSyntax.AUTO:
        syntax = detect_syntax(path)
    frame, chunks = raw_chunks(path, syntax)
    batch: list[RawChunk] = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) == 500:
            yield from _parse_batch(batch, syntax, frame)
            batch = []
    yield from _parse_batch(batch, syntax, frame)
