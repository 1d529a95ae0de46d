"""Copies added by hand at the desk (``bibliobot item add``), for catalogs without holdings."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from bot.catalog.model import MaterialType
from db.sql import fetch_all
from db.timestamps import to_db


class ItemRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


async def add_item(
    conn: aiosqlite.Connection,
    *,
    record_id: int,
    barcode: str,
    branch_code: str,
    material_type: MaterialType,
    now: datetime,
    section: str | None = None,
    shelf_mark: str | None = None,
    published_on: date | None = None,
    condition: str = "good",
) -> int:
    """Add one copy; refuse an unknown record or branch, or a barcode already in use."""
    if not await fetch_all(conn, "SELECT 1 FROM records WHERE id = ?", (record_id,)):
        raise ItemRefused("unknown_record", f"record {record_id} does not exist")
    branch = await fetch_all(conn, "SELECT id FROM branches WHERE code = ?", (branch_code,))
    if not branch:
        raise ItemRefused("unknown_branch", f"branch {branch_code} does not exist")
    taken = await fetch_all(conn, "SELECT record_id FROM items WHERE barcode = ?", (barcode,))
    if taken:
        raise ItemRefused(
            "barcode_in_use", f"barcode {barcode} is already a copy of record {taken[0][0]}"
        )
    stamp = to_db(now)
    cursor = await conn.execute(
        "INSERT INTO items (record_id, barcode, home_branch_id, location_branch_id, shelf_mark,"
        " material_type, section, condition, published_on, origin, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'manual', ?, ?)",
        (
            record_id,
            barcode,
            branch[0][0],
            branch[0][0],
            shelf_mark,
            material_type.value,
            section,
            condition,
            published_on.isoformat() if published_on else None,
            stamp,
            stamp,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
