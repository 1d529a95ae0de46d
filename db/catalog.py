"""Catalog repository: records, their ISBNs and search index, copies, and branches.

Writes come in batches (:func:`upsert_records`) because importing a catalog means hundreds of
thousands of records: a batch is a handful of ``executemany`` calls inside the caller's
transaction instead of a round trip per row, which is what keeps the import close to the speed
of parsing alone (bench/import_marc.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import aiosqlite

from bot.catalog.model import RecordData, StorableItem, StorableRecord, generated_item
from db.sql import fetch_all
from db.timestamps import to_db

_CHUNK = 500

Outcome = Literal["imported", "updated", "unchanged"]


@dataclass(slots=True)
class RecordOutcome:
    outcome: Outcome
    record_id: int
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BatchResult:
    outcomes: list[RecordOutcome]
    branches_created: list[str]


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _marks(count: int) -> str:
    return ",".join("?" * count)


async def _select_in(
    conn: aiosqlite.Connection, sql: str, values: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with one ``IN ({})`` placeholder) for all values, in chunks."""
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(values):
        rows.extend(await fetch_all(conn, sql.format(_marks(len(chunk))), tuple(chunk)))
    return rows


# Branches -------------------------------------------------------------------------------------


async def branch_list(conn: aiosqlite.Connection) -> list[tuple[str, str, bool]]:
    """Every branch by name: (code, name, whether it has opening hours)."""
    rows = await fetch_all(
        conn,
        "SELECT b.code, b.name, EXISTS (SELECT 1 FROM branch_hours h WHERE h.branch_id = b.id)"
        " FROM branches b ORDER BY b.name, b.code",
    )
    return [(str(code), str(name), bool(has_hours)) for code, name, has_hours in rows]


async def branch_ids(conn: aiosqlite.Connection, codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(codes))
    rows = await _select_in(conn, "SELECT code, id FROM branches WHERE code IN ({})", wanted)
    return {str(row[0]): int(row[1]) for row in rows}


async def ensure_branches(
    conn: aiosqlite.Connection, codes: Iterable[str], now: datetime
) -> tuple[dict[str, int], list[str]]:
    """Ids of the branches with these codes, creating unknown ones (named after their code)."""
    wanted = sorted(set(codes))
    known = await branch_ids(conn, wanted)
    missing = [code for code in wanted if code not in known]
    if missing:
        stamp = to_db(now)
        await conn.executemany(
            "INSERT INTO branches (code, name, created_at) VALUES (?, ?, ?)",
            [(code, code, stamp) for code in missing],
        )
        known.update(await branch_ids(conn, missing))
    return known, missing


async def add_branch(
    conn: aiosqlite.Connection, code: str, name: str, now: datetime, town: str | None = None
) -> tuple[int, bool]:
    """Create a branch, or rename an existing one; return (id, created)."""
    rows = await fetch_all(conn, "SELECT id FROM branches WHERE code = ?", (code,))
    if rows:
        await conn.execute(
            "UPDATE branches SET name = ?, town = COALESCE(?, town) WHERE id = ?",
            (name, town, rows[0][0]),
        )
        return int(rows[0][0]), False
    cursor = await conn.execute(
        "INSERT INTO branches (code, name, town, created_at) VALUES (?, ?, ?, ?)",
        (code, name, town, to_db(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid, True


# Records --------------------------------------------------------------------------------------


_ITEM_COLUMNS = (
    "SELECT i.barcode, i.id, i.record_id, hb.code, i.shelf_mark, i.material_type, i.section,"
    " i.not_for_loan, i.condition FROM items i JOIN branches hb ON hb.id = i.home_branch_id"
    " WHERE i.barcode IN ({})"
)


async def upsert_records(
    conn: aiosqlite.Connection,
    batch: Sequence[RecordData | StorableRecord],
    *,
    now: datetime,
    default_branch: str | None = None,
) -> BatchResult:
    """Insert new records, update changed ones, leave the rest; the caller holds a transaction.

    Records are matched by ``source_key``; a record known only by its ISBN (``isbn:`` key)
    also matches an existing record carrying that ISBN. Copies are matched by barcode and a
    re-import only changes their catalog fields, never their circulation status. Records with
    no copies in the file get one generated copy at ``default_branch`` when it is given.
    """
    stamp = to_db(now)
    records = [data if isinstance(data, StorableRecord) else data.storable() for data in batch]

    branch_codes = {
        code
        for data in records
        for item in data.items
        for code in (item.branch_code, item.location_code)
    }
    if default_branch:
        branch_codes.add(default_branch)
    branches, created = await ensure_branches(conn, branch_codes, now)

    keys = list({data.source_key for data in records})
    existing: dict[str, tuple[int, str]] = {
        str(row[0]): (int(row[1]), str(row[2]))
        for row in await _select_in(
            conn, "SELECT source_key, id, content_hash FROM records WHERE source_key IN ({})", keys
        )
    }
    isbn_keys = [key[5:] for key in keys if key.startswith("isbn:") and key not in existing]
    if isbn_keys:
        by_isbn = await _select_in(
            conn,
            "SELECT ri.isbn, r.id, r.content_hash FROM record_isbns ri JOIN records r"
            " ON r.id = ri.record_id WHERE ri.isbn IN ({}) ORDER BY r.id DESC",
            isbn_keys,
        )
        for row in by_isbn:
            existing[f"isbn:{row[0]}"] = (int(row[1]), str(row[2]))

    next_id = int((await fetch_all(conn, "SELECT COALESCE(MAX(id), 0) FROM records"))[0][0])

    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    reindexed: list[tuple[int]] = []
    fts_rows: list[tuple[Any, ...]] = []
    isbn_rows: list[tuple[str, int, int]] = []
    outcomes: list[RecordOutcome] = []
    record_ids: list[int] = []

    for data in records:
        found = existing.get(data.source_key)
        if found is None:
            next_id += 1
            record_id = next_id
            inserts.append((record_id, data.source_key, *data.columns, data.content_hash, stamp))
            outcome: Outcome = "imported"
        else:
            record_id, old_hash = found
            if old_hash == data.content_hash:
                outcome = "unchanged"
            else:
                updates.append((*data.columns, data.content_hash, stamp, record_id))
                reindexed.append((record_id,))
                outcome = "updated"
        if outcome != "unchanged":
            fts_rows.append((record_id, *data.index_columns))
            isbn_rows.extend((isbn, record_id, index) for index, isbn in enumerate(data.isbns))
        existing[data.source_key] = (record_id, data.content_hash)
        record_ids.append(record_id)
        outcomes.append(RecordOutcome(outcome, record_id, list(data.notes)))

    if inserts:
        await conn.executemany(
            "INSERT INTO records (id, source_key, marc_format, title, subtitle, title_sort,"
            " title_key, responsibility, authors, subjects, publisher, year, language,"
            " content_hash, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?15,?15)",
            inserts,
        )
    if updates:
        await conn.executemany(
            "UPDATE records SET marc_format = ?, title = ?, subtitle = ?, title_sort = ?,"
            " title_key = ?, responsibility = ?, authors = ?, subjects = ?, publisher = ?,"
            " year = ?, language = ?, content_hash = ?, updated_at = ? WHERE id = ?",
            updates,
        )
        await conn.executemany("DELETE FROM record_isbns WHERE record_id = ?", reindexed)
        await conn.executemany("DELETE FROM records_fts WHERE rowid = ?", reindexed)
    if isbn_rows:
        await conn.executemany(
            "INSERT OR IGNORE INTO record_isbns (isbn, record_id, position) VALUES (?, ?, ?)",
            isbn_rows,
        )
    if fts_rows:
        await conn.executemany(
            "INSERT INTO records_fts (rowid, title, authors, subjects, other)"
            " VALUES (?, ?, ?, ?, ?)",
            fts_rows,
        )

    # Copies ----------------------------------------------------------------------------------
    wanted: list[tuple[int, StorableItem, str]] = []
    for position, data in enumerate(records):
        if data.items:
            wanted.extend((position, item, "marc") for item in data.items)
        elif default_branch:
            item = generated_item(data.source_key, data.material_type, default_branch)
            wanted.append((position, item, "generated"))

    stored: dict[str, tuple[Any, ...]] = {
        str(row[0]): row
        for row in await _select_in(conn, _ITEM_COLUMNS, [item.barcode for _, item, _ in wanted])
    }
    item_inserts: list[tuple[Any, ...]] = []
    item_updates: list[tuple[Any, ...]] = []
    for position, item, origin in wanted:
        record_id = record_ids[position]
        result = outcomes[position]
        current = stored.get(item.barcode)
        if current is not None and current[2] != record_id:
            result.warnings.append(
                f"copy {item.barcode!r} left out: the barcode belongs to record {current[2]}"
            )
            continue
        catalog_fields = item.catalog_fields()
        home = branches[item.branch_code]
        if current is None:
            item_inserts.append(
                (
                    record_id,
                    item.barcode,
                    home,
                    branches[item.location_code],
                    item.shelf_mark,
                    item.material_type,
                    item.section,
                    item.condition,
                    item.not_for_loan,
                    item.status,
                    origin,
                    stamp,
                )
            )
        elif current[3:] != catalog_fields:
            item_updates.append(
                (
                    home,
                    item.shelf_mark,
                    item.material_type,
                    item.section,
                    item.not_for_loan,
                    item.condition,
                    stamp,
                    item.barcode,
                )
            )
        else:
            continue
        # A later record of the batch with the same barcode must see this one as the owner.
        stored[item.barcode] = (item.barcode, None, record_id, *catalog_fields)
        if result.outcome == "unchanged":
            result.outcome = "updated"
    if item_inserts:
        await conn.executemany(
            "INSERT INTO items (record_id, barcode, home_branch_id, location_branch_id,"
            " shelf_mark, material_type, section, condition, not_for_loan, status, origin,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?12,?12)",
            item_inserts,
        )
    if item_updates:
        await conn.executemany(
            "UPDATE items SET home_branch_id = ?, shelf_mark = ?, material_type = ?,"
            " section = ?, not_for_loan = ?, condition = ?, updated_at = ? WHERE barcode = ?",
            item_updates,
        )
    return BatchResult(outcomes, created)


# Search ---------------------------------------------------------------------------------------


# One page of matches, best first, within the ranking window (see match_page), with how many
# matches the window holds. ?1 expression, ?2 window, ?3 limit, ?4 offset.
RANKED_PAGE_SQL = (
    "SELECT id, count(*) OVER () FROM (SELECT rowid AS id, rank FROM records_fts"
    " WHERE records_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2)"
    " ORDER BY rank, id DESC LIMIT ?3 OFFSET ?4"
)
# The same without relevance: newest first.
PLAIN_PAGE_SQL = (
    "SELECT id, count(*) OVER () FROM (SELECT rowid AS id FROM records_fts"
    " WHERE records_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2)"
    " ORDER BY id DESC LIMIT ?3 OFFSET ?4"
)


async def match_page(
    conn: aiosqlite.Connection,
    expression: str,
    limit: int,
    offset: int,
    window: int,
    *,
    ranked: bool = True,
) -> tuple[list[int], int]:
    """Ids of one page of the records matching an FTS5 expression, best first, and how many
    matches there are, counted up to ``window``.

    bm25 costs one to two microseconds per matching row, so a word found in a tenth of a large
    catalog would take tens of milliseconds to rank in full. Like Evergreen's search (which
    checks relevance only up to superpage_size * max_superpages records), ranking is done
    within a window: the ``window`` most recently added matches. Queries that match fewer
    records than the window, nearly all of them, are ranked exactly; for the others the
    patron is told there are more than ``window`` and is better served by another word.

    bm25 also counts every record holding each word (for its rarity weight), which for a
    function word means most of the catalog: ``ranked=False`` lists newest first instead,
    for queries made of function words only, whose relevance would mean nothing anyway.
    """
    rows = await fetch_all(
        conn,
        RANKED_PAGE_SQL if ranked else PLAIN_PAGE_SQL,
        (expression, window, limit, offset),
    )
    if rows or offset == 0:
        return [int(row[0]) for row in rows], int(rows[0][1]) if rows else 0
    # A page past the end: still say how many there are.
    counted = await fetch_all(
        conn,
        "SELECT count(*) FROM (SELECT rowid FROM records_fts WHERE records_fts MATCH ? LIMIT ?)",
        (expression, window),
    )
    return [], int(counted[0][0])


async def records_by_title_key(conn: aiosqlite.Connection, key: str, limit: int) -> list[int]:
    """Records whose title is exactly these words (newest editions first)."""
    rows = await fetch_all(
        conn,
        "SELECT id FROM records WHERE title_key = ? ORDER BY year DESC, id DESC LIMIT ?",
        (key, limit),
    )
    return [int(row[0]) for row in rows]


async def records_by_isbn(conn: aiosqlite.Connection, isbn13: str) -> list[int]:
    rows = await fetch_all(
        conn, "SELECT record_id FROM record_isbns WHERE isbn = ? ORDER BY record_id", (isbn13,)
    )
    return [int(row[0]) for row in rows]


@dataclass(frozen=True, slots=True)
class RecordRow:
    record_id: int
    title: str
    subtitle: str | None
    responsibility: str | None
    authors: tuple[str, ...]
    subjects: tuple[str, ...]
    publisher: str | None
    year: int | None
    language: str | None
    isbns: tuple[str, ...]


_RECORD_COLUMNS = (
    "SELECT r.id, r.title, r.subtitle, r.responsibility, r.authors, r.subjects, r.publisher,"
    " r.year, r.language, (SELECT group_concat(isbn, ' ') FROM (SELECT isbn FROM"
    " record_isbns WHERE record_id = r.id ORDER BY position))"
)


def _record_row_from(row: Sequence[Any]) -> RecordRow:
    return RecordRow(
        record_id=int(row[0]),
        title=row[1],
        subtitle=row[2],
        responsibility=row[3],
        authors=tuple(json.loads(row[4])),
        subjects=tuple(json.loads(row[5])),
        publisher=row[6],
        year=row[7],
        language=row[8],
        isbns=tuple(row[9].split()) if row[9] else (),
    )


async def records(conn: aiosqlite.Connection, ids: Sequence[int]) -> dict[int, RecordRow]:
    rows = await _select_in(
        conn, f"{_RECORD_COLUMNS} FROM records r WHERE r.id IN ({{}})", list(ids)
    )
    return {int(row[0]): _record_row_from(row) for row in rows}


@dataclass(frozen=True, slots=True)
class BranchCopies:
    """How the copies of one record stand at one branch."""

    record_id: int
    code: str
    name: str
    on_shelf: int
    on_loan: int
    not_loanable: int
    elsewhere: int  # in transit or waiting on the hold shelf for someone
    earliest_due: str | None


# Copies that exist for patrons: lost, damaged and withdrawn ones are not shown.
_VISIBLE = "i.status NOT IN ('lost', 'damaged', 'withdrawn')"


def _not_loanable_sql(sections: Sequence[str], types: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The SQL test of a copy the policy does not lend, with its parameters. Section codes are
    compared ignoring case, as the policy reads them (``REF`` = ``ref``)."""
    condition = "(i.not_for_loan = 1 OR i.condition = 'poor'"
    params = [code.upper() for code in sections]
    if sections:
        condition += f" OR upper(coalesce(i.section, '')) IN ({_marks(len(sections))})"
    if types:
        condition += f" OR i.material_type IN ({_marks(len(types))})"
        params += list(types)
    return condition + ")", params


def _copies_by_branch_sql(not_loanable: str) -> str:
    """Per branch, for the record ``r.id``: a JSON list of [code, name, on the shelf, on loan,
    not loanable, elsewhere, earliest due date], read from the covering index on items."""
    return (
        "(SELECT json_group_array(json_array(code, name, on_shelf, on_loan, not_loanable,"
        " elsewhere, due)) FROM (SELECT b.code AS code, b.name AS name,"
        f" SUM(i.status = 'available' AND NOT {not_loanable}) AS on_shelf,"
        " SUM(i.status = 'on_loan') AS on_loan,"
        f" SUM(i.status = 'available' AND {not_loanable}) AS not_loanable,"
        " SUM(i.status IN ('in_transit', 'on_hold_shelf')) AS elsewhere,"
        " MIN(l.due_on) AS due"
        " FROM items i JOIN branches b ON b.id = i.location_branch_id"
        " LEFT JOIN loans l ON l.item_id = i.id AND l.returned_at IS NULL"
        f" WHERE i.record_id = r.id AND {_VISIBLE} GROUP BY b.id ORDER BY b.name))"
    )


async def records_with_copies(
    conn: aiosqlite.Connection,
    ids: Sequence[int],
    not_loanable_sections: Sequence[str] = (),
    not_loanable_types: Sequence[str] = (),
) -> dict[int, tuple[RecordRow, list[BranchCopies]]]:
    """Records and, per branch, how their copies stand: one statement for a page of results."""
    if not ids:
        return {}
    not_loanable, params = _not_loanable_sql(not_loanable_sections, not_loanable_types)
    rows = await fetch_all(
        conn,
        f"{_RECORD_COLUMNS}, {_copies_by_branch_sql(not_loanable)} FROM records r"
        f" WHERE r.id IN ({_marks(len(ids))})",
        (*params, *params, *ids),
    )
    result: dict[int, tuple[RecordRow, list[BranchCopies]]] = {}
    for row in rows:
        record = _record_row_from(row)
        branches = [
            BranchCopies(
                record.record_id,
                code,
                name,
                int(on_shelf),
                int(on_loan),
                int(not_loanable_count),
                int(elsewhere),
                due,
            )
            for code, name, on_shelf, on_loan, not_loanable_count, elsewhere, due in json.loads(
                row[10]
            )
        ]
        result[record.record_id] = (record, branches)
    return result


@dataclass(frozen=True, slots=True)
class CopyRow:
    barcode: str
    branch_code: str
    branch_name: str
    shelf_mark: str | None
    material_type: str
    section: str | None
    status: str
    not_loanable: bool
    due_on: str | None


async def copies(
    conn: aiosqlite.Connection,
    record_id: int,
    not_loanable_sections: Sequence[str] = (),
    not_loanable_types: Sequence[str] = (),
) -> list[CopyRow]:
    """Every visible copy of a record, for its detail page."""
    not_loanable, params = _not_loanable_sql(not_loanable_sections, not_loanable_types)
    rows = await fetch_all(
        conn,
        f"SELECT i.barcode, b.code, b.name, i.shelf_mark, i.material_type, i.section, i.status,"
        f" {not_loanable}, l.due_on FROM items i JOIN branches b ON b.id = i.location_branch_id"
        " LEFT JOIN loans l ON l.item_id = i.id AND l.returned_at IS NULL"
        f" WHERE i.record_id = ? AND {_VISIBLE} ORDER BY b.name, i.shelf_mark, i.barcode",
        (*params, record_id),
    )
    return [
        CopyRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8])
        for row in rows
    ]
