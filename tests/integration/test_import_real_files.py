"""The real catalog files of tests/data/catalog load with the counts PROVENANCE.md states."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from bot.catalog.importer import ImportSummary, import_files
from db.store import Store
from tests.conftest import BNCF, CATALOG, EVERGREEN_MARC8, KOHA_952, KOHA_XML

EXPECTED = {  # file: (records, copies) as PROVENANCE.md states them
    BNCF: (602, 0),
    KOHA_XML: (435, 0),
    KOHA_952: (435, 958),
    EVERGREEN_MARC8: (500, 0),
}


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_the_copied_files_are_the_ones_provenance_describes() -> None:
    digest = hashlib.sha256(BNCF.read_bytes()).hexdigest()
    provenance = (CATALOG / "PROVENANCE.md").read_text(encoding="utf-8")
    assert digest in provenance


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda path: path.name)
async def test_each_file_imports_with_its_stated_counts(
    store: Store, db_path: Path, now: datetime, path: Path
) -> None:
    records, copies = EXPECTED[path]
    summary = await import_files(store, [path], now=now)
    assert (summary.read, summary.imported, summary.updated, summary.unchanged) == (
        records,
        records,
        0,
        0,
    )
    assert summary.skipped == []
    assert _count(db_path, "SELECT count(*) FROM records") == records
    assert _count(db_path, "SELECT count(*) FROM records_fts") == records
    assert _count(db_path, "SELECT count(*) FROM items") == copies


async def test_a_second_import_reports_nothing_new_and_nothing_changed(
    store: Store, db_path: Path, now: datetime
) -> None:
    first = await import_files(store, list(EXPECTED), now=now)
    with sqlite3.connect(db_path) as conn:
        before = conn.execute(
            "SELECT (SELECT group_concat(content_hash || updated_at) FROM records),"
            " (SELECT count(*) FROM items), (SELECT count(*) FROM record_isbns)"
        ).fetchone()
    second = await import_files(store, list(EXPECTED), now=now.replace(year=2027))
    assert (second.imported, second.updated, second.unchanged) == (0, 0, first.read)
    with sqlite3.connect(db_path) as conn:
        after = conn.execute(
            "SELECT (SELECT group_concat(content_hash || updated_at) FROM records),"
            " (SELECT count(*) FROM items), (SELECT count(*) FROM record_isbns)"
        ).fetchone()
    assert before == after


async def test_marcxml_then_the_same_records_with_holdings(
    store: Store, db_path: Path, now: datetime
) -> None:
    await import_files(store, [KOHA_XML], now=now)
    summary = await import_files(store, [KOHA_952], now=now)
    with_items = _count(db_path, "SELECT count(DISTINCT record_id) FROM items")
    assert summary.imported == 0
    assert summary.updated == with_items == 435 - 25  # PROVENANCE: 25 biblios have no items
    assert summary.unchanged == 25
    assert sorted(summary.branches_created) == ["CPL", "FPL", "MPL"]


async def test_records_read_as_their_catalogers_wrote_them(
    store: Store, db_path: Path, now: datetime
) -> None:
    await import_files(store, list(EXPECTED), now=now)
    with sqlite3.connect(db_path) as conn:
        rows = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT r.title, r.authors, r.year, (SELECT group_concat(isbn) FROM"
                " record_isbns WHERE record_id = r.id), r.language FROM records r"
            )
        }
    daisy = rows["Daisy Miller"]
    assert json.loads(daisy[0])[0] == "James, Henry"
    assert daisy[1:3] == (2008, "9788871006826")
    assert json.loads(rows["Il successo adesso"][0])[0] == "Camenar, Tiziana"
    assert "L'amore borghese" in rows
    assert rows["L'amore borghese"][1] == 1978
    with sqlite3.connect(db_path) as conn:
        shuffles = conn.execute(
            "SELECT r.authors, r.year, ri.isbn FROM records r JOIN record_isbns ri"
            " ON ri.record_id = r.id WHERE r.title = 'E Street shuffle' ORDER BY r.year DESC"
        ).fetchall()
    assert json.loads(shuffles[0][0]) == ["Heylin, Clinton"]  # no Koha authority id 1702
    assert shuffles[0][1:] == (2013, "9780670026623")
    chess = rows["The ideas behind the chess openings"]
    assert json.loads(chess[0]) == ["Fine, Reuben, 1914-1993"]
    assert chess[2] == "9780812917567"  # from the ISBN-10 0812917561
    # MARC-8 decoded: "Félice", "légendes"
    assert json.loads(rows["L'autre monde, mythes et légendes"][0]) == ["Félice, Philippe de"]
    assert rows["L'autre monde, mythes et légendes"][3] == "fre"
    all_text = " ".join(str(value) for row in rows.items() for value in row)
    assert "\x98" not in all_text
    assert "\x9c" not in all_text
    assert "\u0300" not in all_text  # NFD accents were composed


async def test_branch_option_gives_one_copy_to_records_without_holdings(
    store: Store, db_path: Path, now: datetime
) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            "INSERT INTO branches (code, name, created_at) VALUES ('CER', 'Cernusco', 'x')"
        )
    summary = await import_files(store, [BNCF], now=now, branch="CER")
    assert summary.imported == 602
    assert _count(db_path, "SELECT count(*) FROM items WHERE origin = 'generated'") == 602
    again = await import_files(store, [BNCF], now=now, branch="CER")
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 602)
    assert _count(db_path, "SELECT count(*) FROM items") == 602


async def test_summary_json_has_the_interface_shape(store: Store, now: datetime) -> None:
    summary: ImportSummary = await import_files(store, [KOHA_952], now=now)
    payload = summary.as_json()
    assert {"read", "imported", "updated", "unchanged", "skipped"} <= set(payload)
    assert payload["read"] == 435
    assert payload["skipped"] == []


def _everything(path: Path) -> list[object]:
    with sqlite3.connect(path) as conn:
        return [
            conn.execute(sql).fetchall()
            for sql in (
                "SELECT * FROM records ORDER BY id",
                "SELECT * FROM record_isbns ORDER BY record_id, position",
                "SELECT rowid, * FROM records_fts ORDER BY rowid",
                "SELECT * FROM items ORDER BY id",
                "SELECT * FROM branches ORDER BY id",
            )
        ]


async def test_worker_processes_store_exactly_what_one_process_stores(
    tmp_path: Path, now: datetime
) -> None:
    files = [KOHA_952, BNCF, KOHA_XML]
    results = []
    for parallel in (False, True):
        path = tmp_path / f"parallel-{parallel}.sqlite3"
        async with await Store.open(path) as store:
            summary = await import_files(store, files, now=now, parallel=parallel, batch_size=97)
        assert (summary.imported, summary.skipped) == (1037, [])
        results.append(_everything(path))
    assert results[0] == results[1]
