"""Backups of the live store with SQLite's online backup API.

Copying the file with ``cp`` while the bot runs can catch a page half-written or miss what is
still in the ``-wal`` file; SQLite's backup API copies a consistent snapshot of committed data
page by page, and the bot (and the desk) keep writing meanwhile, because WAL readers do not
block writers. The copy is written beside its final name and renamed only once it is complete
and passes ``PRAGMA integrity_check``, so a backup file is never half a database.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from db.store import BUSY_TIMEOUT_MS

PAGES_PER_STEP = 4096  # between steps the source is free for writers


class BackupError(Exception):
    """The backup cannot be made; nothing was left at the target."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    bytes: int
    schema_version: int

    def as_json(self) -> dict[str, object]:
        return {"backup": str(self.path), "bytes": self.bytes, "version": self.schema_version}


def backup_store(source: Path, target: Path) -> Backup:
    """Copy the store at ``source`` to ``target`` (a new file) while others may be writing."""
    if not source.is_file():
        raise BackupError("no_database", f"{source}: no such database file")
    if target.exists():
        raise BackupError("exists", f"{target}: exists already (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BackupError("no_folder", f"{target}: folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=PAGES_PER_STEP)
                # A standalone file: no -wal beside it to lose when it is copied elsewhere.
                dst.execute("PRAGMA journal_mode = DELETE")
                (check,) = dst.execute("PRAGMA integrity_check").fetchone()
                if check != "ok":
                    raise BackupError("corrupt", f"the copy fails its integrity check: {check}")
                versions = dst.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(partial, target)
    except sqlite3.DatabaseError as error:
        partial.unlink(missing_ok=True)
        raise BackupError("backup_failed", f"{source}: {error}") from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, target.stat().st_size, int(versions[0] or 0))
