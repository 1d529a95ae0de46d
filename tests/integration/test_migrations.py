"""Migrations on an empty database, on an existing one, all or nothing, and from two processes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from db import migrate
from db.migrate import Migration, MigrationError, available_migrations
from db.store import Store, StoreError


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


async def test_an_empty_database_gets_every_migration(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        assert await store.schema_version() == len(available_migrations())
    tables = _tables(db_path)
    for table in (
        "branches",
        "branch_hours",
        "closures",
        "records",
        "record_isbns",
        "items",
        "patrons",
        "telegram_links",
        "loans",
        "renewals",
        "holds",
        "fines",
        "payments",
        "suspensions",
        "outbox",
        "handoff_conversations",
        "handoff_messages",
        "appointments",
        "settings",
        "records_fts",
    ):
        assert table in tables


async def test_the_store_is_wal_with_foreign_keys(db_path: Path) -> None:
    async with await Store.open(db_path) as store, store.transaction() as conn:
        mode = await (await conn.execute("PRAGMA journal_mode")).fetchone()
        keys = await (await conn.execute("PRAGMA foreign_keys")).fetchone()
        assert mode is not None
        assert mode[0] == "wal"
        assert keys is not None
        assert keys[0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            await conn.execute(
                "INSERT INTO items (record_id, barcode, home_branch_id, location_branch_id,"
                " material_type, created_at, updated_at) VALUES (999, 'x', 1, 1, 'book',"
                " '', '')"
            )


async def test_reopening_an_existing_database_applies_nothing_and_keeps_data(
    db_path: Path,
) -> None:
    async with await Store.open(db_path) as store, store.transaction() as conn:
        await conn.execute(
            "INSERT INTO branches (code, name, created_at) VALUES ('BRU', 'Brugherio', 'x')"
        )
    async with await Store.open(db_path, migrate=False) as store:
        assert await store.upgrade() == []
        rows = await (await store.reader.execute("SELECT name FROM branches")).fetchall()
        assert [row[0] for row in rows] == ["Brugherio"]


async def test_a_new_migration_applies_on_top_of_existing_data(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Store.open(db_path) as store, store.transaction() as conn:
        await conn.execute(
            "INSERT INTO branches (code, name, created_at) VALUES ('BRU', 'Brugherio', 'x')"
        )
    shipped = available_migrations()
    extra = Migration(
        len(shipped) + 1,
        "branch_phone",
        "-- a later migration\nALTER TABLE branches ADD COLUMN phone TEXT;\n"
        "UPDATE branches SET phone = '039 2893401';\n",
    )
    monkeypatch.setattr(migrate, "available_migrations", lambda: [*shipped, extra])
    async with await Store.open(db_path) as store:
        assert await store.schema_version() == extra.version
        rows = await (await store.reader.execute("SELECT code, phone FROM branches")).fetchall()
        assert [tuple(row) for row in rows] == [("BRU", "039 2893401")]


async def test_a_failing_migration_changes_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Store.open(db_path):
        pass
    shipped = available_migrations()
    broken = Migration(
        len(shipped) + 1,
        "broken",
        "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    )
    monkeypatch.setattr(migrate, "available_migrations", lambda: [*shipped, broken])
    with pytest.raises(StoreError, match="no such table"):
        await Store.open(db_path)
    assert "half_done" not in _tables(db_path)
    monkeypatch.undo()
    async with await Store.open(db_path) as store:
        assert await store.schema_version() == len(shipped)


async def test_a_database_newer_than_the_program_is_refused(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    with pytest.raises(MigrationError, match="newer than this program"):
        await Store.open(db_path)


async def test_four_connections_opening_a_new_database_at_once(db_path: Path) -> None:
    stores = await asyncio.gather(*(Store.open(db_path) for _ in range(4)))
    try:
        versions = {await store.schema_version() for store in stores}
    finally:
        for store in stores:
            await store.close()
    assert versions == {len(available_migrations())}
    with sqlite3.connect(db_path) as conn:
        applied = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert applied == len(available_migrations())


async def test_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("this is not SQLite, just a text file that is long enough " * 20)
    with pytest.raises(StoreError, match="not a database"):
        await Store.open(bogus)
    with pytest.raises(StoreError, match="does not exist"):
        await Store.open(tmp_path / "missing" / "db.sqlite3")


def test_migration_files_split_into_statements() -> None:
    for migration in available_migrations():
        statements = migration.statements()
        assert statements
        assert all(sqlite3.complete_statement(statement) for statement in statements)


def test_four_processes_upgrading_a_new_database_at_once(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith("BIBLIOBOT_")}
    env["BIBLIOBOT_DATABASE__PATH"] = str(tmp_path / "shared.sqlite3")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "db", "upgrade", "--json"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], outcomes
    applied = sorted(version for out, _ in outcomes for version in json.loads(out)["applied"])
    assert applied == [migration.version for migration in available_migrations()]


async def test_wrong_pins_move_out_of_telegram_users_keeping_the_languages(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0008: telegram_users loses its two counting columns (they move to pin_attempts, which
    /forget leaves); the accounts and their languages stay."""
    shipped = available_migrations()
    before = [migration for migration in shipped if migration.version < 8]
    monkeypatch.setattr(migrate, "available_migrations", lambda: before)
    async with await Store.open(db_path) as store, store.transaction() as conn:
        await conn.execute(
            "INSERT INTO telegram_users (telegram_user_id, language, pin_failures, first_seen_at)"
            " VALUES (42, 'en', 3, '2026-01-01T00:00:00Z')"
        )
    monkeypatch.setattr(migrate, "available_migrations", lambda: shipped)
    async with await Store.open(db_path) as store:
        assert await store.schema_version() == len(shipped)
        rows = await store.reader.execute_fetchall("SELECT * FROM telegram_users")
        assert [tuple(row) for row in rows] == [(42, "en", "2026-01-01T00:00:00Z")]
        assert "pin_attempts" in _tables(db_path)
