"""``bibliobot import-marc``: load catalog files into the store, idempotently.

Records are parsed and mapped (bot/catalog/parsing.py) while earlier batches are written, each
batch in its own transaction: in worker processes, one per core, for files big enough to pay
for starting them, else in a worker thread. If the store refuses a batch (a constraint a
record breaks), the batch is written again record by record, so only the offending record is
skipped — with its position and the reason — and no record is ever half-written.
Re-importing a file changes nothing: records are matched by control number (or ISBN), copies
by barcode, and a record whose content is unchanged is not touched.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from bot.catalog.marc import MarcFileError, MarcSyntax, RawChunk, XmlFrame, detect_syntax
from bot.catalog.model import StorableRecord
from bot.catalog.parsing import Prepared, parse_batch, raw_chunks
from db import catalog as catalog_repo
from db.store import Store

BATCH_SIZE = 1000
# Below this many bytes in all, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 4 << 20

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


async def import_files(
    store: Store,
    paths: Sequence[Path],
    *,
    now: datetime,
    syntax: MarcSyntax = MarcSyntax.AUTO,
    branch: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    parallel: bool | None = None,
) -> ImportSummary:
    """Import every file; refuse before writing anything if one cannot be read.

    ``parallel``: parse in worker processes (None: when there are several cores and the
    files are big enough).
    """
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

    workers = os.cpu_count() or 1
    if parallel is None:
        total = sum(path.stat().st_size for path, _ in plan)
        parallel = workers > 1 and total >= PARALLEL_MIN_BYTES
    summary = ImportSummary()
    pool: Executor | None = None
    depth = 2  # batches parsed ahead of the one being written
    if parallel:
        depth = 2 * max(2, workers)
        # spawn, not fork: the event loop and the store's threads must not be copied.
        pool = ProcessPoolExecutor(max(2, workers), mp_context=multiprocessing.get_context("spawn"))
    try:
        for path, detected in plan:
            file_summary = FileSummary(str(path), detected.value)
            summary.files.append(file_summary)
            await _import_file(
                store,
                path,
                detected,
                file_summary,
                summary,
                now,
                branch,
                progress,
                batch_size,
                pool,
                depth,
            )
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
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
    pool: Executor | None,
    depth: int,
) -> None:
    counter = {"records": 0}
    size = path.stat().st_size  # noqa: ASYNC240 (one stat call, before any work)

    def on_progress(done: int, total: int) -> None:
        if progress is not None:
            progress(path.name, done, total, counter["records"])

    frame, chunks = raw_chunks(path, syntax, on_progress)
    async for batch in _parsed_batches(chunks, syntax, frame, pool, batch_size, depth):
        counter["records"] += len(batch)
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


def _batched(chunks: Iterable[RawChunk], size: int) -> Iterator[list[RawChunk]]:
    iterator = iter(chunks)
    while batch := list(islice(iterator, size)):
        yield batch


async def _parsed_batches(
    chunks: Iterator[RawChunk],
    syntax: MarcSyntax,
    frame: XmlFrame | None,
    pool: Executor | None,
    batch_size: int,
    depth: int,
) -> AsyncIterator[list[Prepared]]:
    """Parsed batches in file order, ``depth`` of them being parsed ahead (``pool`` None:
    the default thread pool)."""
    loop = asyncio.get_running_loop()
    in_flight: deque[asyncio.Future[list[Prepared]]] = deque()
    try:
        for raw in _batched(chunks, batch_size):
            in_flight.append(loop.run_in_executor(pool, parse_batch, raw, syntax, frame))
            if len(in_flight) >= depth:
                yield await in_flight.popleft()
        while in_flight:
            yield await in_flight.popleft()
    finally:
        for future in in_flight:
            future.cancel()


async def _write(
    store: Store,
    batch: list[tuple[int, StorableRecord]],
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
