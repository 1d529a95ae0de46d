"""Opening the store and the one way to write to it.

The store is one SQLite file in WAL mode, opened through aiosqlite with two connections:

* a **writer**, used only inside :meth:`Store.transaction` (``BEGIN IMMEDIATE`` … ``COMMIT``),
  behind an :class:`asyncio.Lock`, so that two coroutines of the bot never interleave their
  statements inside one transaction;
* a **reader** (``query_only``), which sees only committed data and never waits for a writer,
  because WAL readers do not block on writers.

Other processes (the desk CLI beside the running bot) use their own :class:`Store`; SQLite's
file locking plus ``busy_timeout`` serialises their writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType

import aiosqlite

from db.migrate import applied_versions, upgrade
from db.sql import fetch_all

BUSY_TIMEOUT_MS = 10_000
# SQLite's default page cache is 2 MB; a network's catalog is hundreds of MB, and a search that
# misses the cache costs twice as much (bench/search.py). Memory-mapped reads skip a copy.
CACHE_KIB = 65_536
MMAP_BYTES = 1 << 30


class StoreError(Exception):
    """The store cannot be opened or used (bad path, not a database, newer schema)."""


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        await conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        if read_only:
            await conn.execute("PRAGMA query_only = ON")
        else:
            await _switch_to_wal(conn, path)
            # FULL: a committed loan survives a power cut, not only a crash of the process.
            await conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _switch_to_wal(conn: aiosqlite.Connection, path: Path) -> None:
    """WAL is a property of the file: set once, seen by every connection afterwards.

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once (without
    its busy handler) when several processes open a new file together; so try again until the
    busy timeout has passed, as the busy handler would have.
    """
    deadline = asyncio.get_running_loop().time() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            rows = await fetch_all(conn, "PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.02)
            continue
        if not rows or str(rows[0][0]).lower() != "wal":
            raise StoreError(f"{path}: cannot switch to WAL journal mode")
        return


class Store:
    """The circulation store of one library network."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._snapshot_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Store:
        """Open (creating if needed) the database at ``path`` and apply pending migrations."""
        path = Path(path)
        if path.is_dir():
            raise StoreError(f"{path}: is a folder, not a database file")
        if not path.parent.exists():
            raise StoreError(f"{path}: folder {path.parent} does not exist")
        try:
            writer = await _connect(path, read_only=False)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: {exc}") from exc
        try:
            if migrate:
                await upgrade(writer)
            reader = await _connect(path, read_only=True)
        except sqlite3.DatabaseError as exc:
            await writer.close()
            raise StoreError(f"{path}: {exc}") from exc
        except BaseException:
            await writer.close()
            raise
        return cls(path, writer, reader)

    async def upgrade(self) -> list[int]:
        """Apply pending migrations; return the versions applied."""
        async with self._write_lock:
            return await upgrade(self._writer)

    async def schema_version(self) -> int:
        return max(await applied_versions(self._writer), default=0)

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One operation, all or nothing: commit on success, roll back on any exception."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    @property
    def reader(self) -> aiosqlite.Connection:
        """For single-statement reads of committed data (each statement is its own snapshot)."""
        return self._reader

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """Several reads that must agree with each other (one read transaction)."""
        async with self._snapshot_lock:
            await self._reader.execute("BEGIN")
            try:
                yield self._reader
            finally:
                await self._reader.execute("COMMIT")


@asynccontextmanager
async def open_store(path: str | Path) -> AsyncIterator[Store]:
    store = await Store.open(path)
    try:
        yield store
    finally:
        await store.close()
