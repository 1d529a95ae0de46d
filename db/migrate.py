"""Numbered migrations (``db/migrations/NNNN_name.sql``), applied in order, all or nothing.

Every command that opens the store calls :func:`upgrade`, and ``bibliobot db upgrade`` calls it
on purpose. The pending migrations run inside one ``BEGIN IMMEDIATE`` transaction, so two
processes starting at once cannot both apply them, and a failing migration leaves the database
exactly as it was.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

import aiosqlite

from db.sql import fetch_all
from db.timestamps import to_db

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """The database cannot be brought to this program's schema."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """Split the script into statements, keeping CREATE TRIGGER ... END blocks whole."""
        result: list[str] = []
        buffer = ""
        for line in self.sql.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                statement = buffer.strip()
                if _has_code(statement):
                    result.append(statement)
                buffer = ""
        if _has_code(buffer):
            raise MigrationError(f"migration {self.version:04d}: unterminated statement at the end")
        return result


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


def available_migrations() -> list[Migration]:
    """The migrations shipped with this program, in order."""
    folder = resources.files("db") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(
                Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8"))
            )
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration numbers must run 1..n without gaps, found {versions}")
    return found


async def applied_versions(conn: aiosqlite.Connection) -> list[int]:
    rows = await fetch_all(
        conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    )
    if not rows:
        return []
    rows = await fetch_all(conn, "SELECT version FROM schema_migrations ORDER BY version")
    return [int(row[0]) for row in rows]


async def upgrade(conn: aiosqlite.Connection, now: datetime | None = None) -> list[int]:
    """Apply every pending migration in one transaction; return the versions applied."""
    migrations = available_migrations()
    known = {migration.version for migration in migrations}
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = set(await applied_versions(conn))
        newer = sorted(done - known)
        if newer:
            raise MigrationError(
                f"the database has schema version {max(newer)}, newer than this program "
                f"knows ({max(known, default=0)}): upgrade Bibliobot before opening it"
            )
        stamp = to_db(now or datetime.now(UTC))
        applied: list[int] = []
        for migration in migrations:
            if migration.version in done:
                continue
            for statement in migration.statements():
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, stamp),
            )
            applied.append(migration.version)
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return applied
