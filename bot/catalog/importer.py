"""``bibliobot import-marc``: load catalog files into the store, idempotently.

Records are parsed and mapped in a worker thread while the previous batch is written, each
batch in its own transaction. If the store refuses a batch (a constraint a record breaks), the
batch is written again record by record, so only the offending record is skipped — with its
position and the reason — and no record is ever half-written. Re-importing a file changes
nothing: records are matched by control number (or ISBN), copies by barcode, and a record whose
content is unchanged is not touched.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.catalog.mapping import MappingError, map_record
from bot.catalog.marc import MarcFileError, MarcSyntax, detect_syntax, read_records
from bot.catalog.model import RecordData
from db import catalog as catalog_repo
from db.store import Store

BATCH_SIZE = 1000

Progress = Callable[[str, int, int, int], None]
"""Called with (file name, bytes read, file size, records read)."""


class ImportRefused(Exception):
    """The import cannot start (unreadable file, not MARC, unknown branch); nothing was written."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    position: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "position": self.position, "reason": self.reason}


@dataclass(slots=True)
class FileSummary:
    path: str
    syntax: str
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "format": self.syntax,
            "read": self.read,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [problem.as_json() for problem in self.skipped],
        }


@dataclass(slots=True)
class ImportSummary:
    files: list[FileSummary] = field(default_factory=list)
    branches_created: list[str] = field(default_factory=list)

    def _total(self, name: str) -> int:
        return sum(int(getattr(summary, name)) for summary in self.files)

    @property
    def read(self) -> int:
        return self._total("read")

    @property
    def imported(self) -> int:
        return self._total("imported")

    @property
    def updated(self) -> int:
        return self._total("updated")

    @property
    def unchanged(self) -> int:
        return self._total("unchanged")

    @property
    def skipped(self) -> list[Problem]:
        return [problem for summary in self.files for problem in summary.skipped]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for summary in self.files for problem in summary.warnings]

    def as_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [problem.as_json() for problem in self.skipped],
            "warnings": [problem.as_json() for problem in self.warnings],
            "branches_created": self.branches_created,
            "files": [summary.as_json() for summary in self.files],
        }


@dataclass(frozen=True, slots=True)
class _Parsed:
    position: int
    record: RecordData | None
    error: str | None


def _parsed_records(
    path: Path, syntax: MarcSyntax, on_progress: Callable[[int, int], None] | None
) -> Iterator[_Parsed]:
    for raw, flavour in read_records(path, syntax, on_progress):
        if raw.record is None:
            yield _Parsed(raw.position, None, raw.error or "unreadable record")
            continue
        try:
            yield _Parsed(raw.position, map_record(raw.record, flavour), None)
        except MappingError as exc:
            yield _Parsed(raw.position, None, str(exc))
        except Exception as exc:  # a record pymarc accepted but that is malformed inside
            yield _Parsed(raw.position, None, f"malformed record: {type(exc).__name__}: {exc}")


def _take(source: Iterator[_Parsed], size: int) -> list[_Parsed]:
    batch: list[_Parsed] = []
    for parsed in source:
        batch.append(parsed)
        if len(batch) >= size:
            break
    return batch


async def import_files(
    store: Store,
    paths: Sequence[Path],
    *,
    now: datetime,
    syntax: MarcSyntax = MarcSyntax.AUTO,
    branch: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import every file; refuse before writing anything if one cannot be read."""
    plan: list[tuple[Path, MarcSyntax]] = []
    for path in paths:
        if not path.is_file():
            raise ImportRefused("file_not_found", f"{path}: no such file")
        try:
            detected = detect_syntax(path) if syntax is MarcSyntax.AUTO else syntax
        except MarcFileError as exc:
            raise ImportRefused("not_marc", str(exc)) from exc
        plan.append((path, detected))
    if branch is not None:
        known = await catalog_repo.branch_ids(store.reader, [branch])
        if branch not in known:
            raise ImportRefused(
                "unknown_branch",
                f"--branch {branch}: no such branch (add it with `bibliobot branch add`)",
            )

    summary = ImportSummary()
    for path, detected in plan:
        file_summary = FileSummary(str(path), detected.value)
        summary.files.append(file_summary)
        await _import_file(
            store, path, detected, file_summary, summary, now, branch, progress, batch_size
        )
    return summary


async def _import_file(
    store: Store,
    path: Path,
    syntax: MarcSyntax,
    file_summary: FileSummary,
    summary: ImportSummary,
    now: datetime,
    branch: str | None,
    progress: Progress | None,
    batch_size: int,
) -> None:
    counter = {"records": 0}
    size = path.stat().st_size  # noqa: ASYNC240 (one stat call, before any work)

    def on_progress(done: int, total: int) -> None:
        if progress is not None:
            progress(path.name, done, total, counter["records"])

    source = _parsed_records(path, syntax, on_progress)
    pending = asyncio.ensure_future(asyncio.to_thread(_take, source, batch_size))
    while True:
        batch = await pending
        if not batch:
            break
        counter["records"] += len(batch)
        # Parse the next batch while this one is written.
        pending = asyncio.ensure_future(asyncio.to_thread(_take, source, batch_size))
        file_summary.read += len(batch)
        for parsed in batch:
            if parsed.record is None:
                file_summary.skipped.append(
                    Problem(str(path), parsed.position, parsed.error or "unreadable")
                )
        good = [(parsed.position, parsed.record) for parsed in batch if parsed.record is not None]
        if good:
            await _write(store, good, file_summary, summary, now, branch)
    on_progress(size, size)


async def _write(
    store: Store,
    batch: list[tuple[int, RecordData]],
    file_summary: FileSummary,
    summary: ImportSummary,
    now: datetime,
    branch: str | None,
) -> None:
    try:
        async with store.transaction() as conn:
            result = await catalog_repo.upsert_records(
                conn, [record for _, record in batch], now=now, default_branch=branch
            )
    except sqlite3.OperationalError:
        raise  # locked, disk full, read-only: not the record's fault, stop the import
    except sqlite3.Error as exc:
        if len(batch) > 1:
            for one in batch:
                await _write(store, [one], file_summary, summary, now, branch)
            return
        position = batch[0][0]
        file_summary.skipped.append(
            Problem(file_summary.path, position, f"the store refused it: {exc}")
        )
        return
    summary.branches_created.extend(result.branches_created)
    for (position, _), outcome in zip(batch, result.outcomes, strict=True):
        if outcome.outcome == "imported":
            file_summary.imported += 1
        elif outcome.outcome == "updated":
            file_summary.updated += 1
        else:
            file_summary.unchanged += 1
        file_summary.warnings.extend(
            Problem(file_summary.path, position, warning) for warning in outcome.warnings
        )
