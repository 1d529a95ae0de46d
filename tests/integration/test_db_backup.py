"""``bibliobot db backup``: a consistent copy of the live store, taken while others write."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.backup import BackupError, backup_store
from db.catalog import add_branch
from db.store import Store
from tests.integration.test_cli_catalog import as_json, run

NOW = datetime(2026, 3, 11, 9, tzinfo=UTC)


def branch_codes(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT code FROM branches ORDER BY code")]


def leftovers(folder: Path) -> list[Path]:
    return list(folder.glob(".*partial"))


async def test_a_backup_taken_during_a_write_has_what_was_committed(tmp_path: Path) -> None:
    source = tmp_path / "live.sqlite3"
    async with await Store.open(source) as store:
        async with store.transaction() as conn:
            await add_branch(conn, "BRU", "Brugherio", NOW)
        # The bot is in the middle of another operation: its write is not committed yet.
        async with store.transaction() as conn:
            await add_branch(conn, "VIM", "Vimodrone", NOW)
            made = backup_store(source, tmp_path / "copy.sqlite3")
        assert branch_codes(made.path) == ["BRU"]
        assert branch_codes(source) == ["BRU", "VIM"]
        assert made.schema_version == await store.schema_version()
    with sqlite3.connect(made.path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert not leftovers(tmp_path)


def test_never_overwrites_and_never_creates_a_database(tmp_path: Path) -> None:
    target = tmp_path / "copy.sqlite3"
    target.write_bytes(b"an older backup")
    with pytest.raises(BackupError) as missing:
        backup_store(tmp_path / "none.sqlite3", tmp_path / "other.sqlite3")
    assert missing.value.code == "no_database"
    assert not (tmp_path / "none.sqlite3").exists()
    not_a_db = tmp_path / "notes.sqlite3"
    not_a_db.write_text("not a database")
    with pytest.raises(BackupError) as garbage:
        backup_store(not_a_db, tmp_path / "other.sqlite3")
    assert garbage.value.code == "backup_failed"
    assert not (tmp_path / "other.sqlite3").exists()
    assert not leftovers(tmp_path)


def test_the_command_into_a_folder_then_refusing_to_overwrite(tmp_path: Path) -> None:
    assert run(tmp_path, "branch", "add", "BRU", "--name", "Brugherio").returncode == 0
    folder = tmp_path / "backups"
    folder.mkdir()
    first = as_json(run(tmp_path, "db", "backup", str(folder), "--json"))
    made = Path(first["backup"])
    assert made.parent == folder
    assert made.name.startswith("bibliobot-")
    assert first["bytes"] == made.stat().st_size > 0
    assert branch_codes(made) == ["BRU"]
    again = run(tmp_path, "db", "backup", str(made), "--json")
    assert (again.returncode, as_json(again)["error"]) == (1, "exists")
