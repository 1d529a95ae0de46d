"""Damaged catalog files: every good record imported, every bad one reported, none half-written."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from bot.catalog.importer import ImportRefused, import_files
from db.store import Store
from tests.conftest import BNCF, KOHA_952, KOHA_XML


def _records(path: Path) -> list[bytes]:
    """The records of an ISO 2709 file, each with its terminator."""
    return [chunk + b"\x1d" for chunk in path.read_bytes().split(b"\x1d") if chunk.strip()]


def _counts(path: Path) -> tuple[int, int, int, int]:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM records_fts),"
            " (SELECT count(*) FROM record_isbns), (SELECT count(*) FROM items)"
        ).fetchone()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


async def test_a_truncated_file_imports_every_whole_record(
    store: Store, db_path: Path, tmp_path: Path, now: datetime
) -> None:
    records = _records(KOHA_952)
    damaged = tmp_path / "truncated.mrc"
    damaged.write_bytes(b"".join(records[:99]) + records[99][: len(records[99]) // 2])
    summary = await import_files(store, [damaged], now=now)
    assert (summary.read, summary.imported) == (100, 99)
    assert [(problem.position, problem.reason) for problem in summary.skipped] == [
        (100, "truncated record: the file ends in the middle of it")
    ]
    assert _counts(db_path)[:2] == (99, 99)


async def test_a_corrupt_record_in_the_middle_costs_that_record_only(
    store: Store, db_path: Path, tmp_path: Path, now: datetime
) -> None:
    records = _records(KOHA_952)
    records[9] = b"99999" + records[9][5:]  # a lying record length
    directory_damaged = bytearray(records[19])
    directory_damaged[24:36] = b"24X00140000X"  # a directory entry that is not numbers
    records[19] = bytes(directory_damaged)
    records[29] = (
        records[29].replace(b"Heylin", b"Hey\xfflin")
        if b"Heylin" in records[29]
        else records[29][:100] + b"\xff\xfe" + records[29][102:]
    )
    damaged = tmp_path / "damaged.mrc"
    damaged.write_bytes(b"".join(records))
    summary = await import_files(store, [damaged], now=now)
    skipped = {problem.position: problem.reason for problem in summary.skipped}
    assert sorted(skipped) == [10, 20, 30]
    assert "leader says 99999 bytes" in skipped[10]
    assert skipped[20].startswith("damaged record")
    assert "UTF-8" in skipped[30]
    assert summary.read == 435
    assert summary.imported == 432
    assert _counts(db_path)[0] == 432


async def test_a_record_without_a_title_is_skipped_with_the_reason(
    store: Store, tmp_path: Path, now: datetime
) -> None:
    xml = (
        '<collection xmlns="http://www.loc.gov/MARC21/slim">'
        "<record><leader>00000nam a2200000 a 4500</leader>"
        '<controlfield tag="001">A1</controlfield>'
        '<datafield tag="100" ind1="1" ind2=" "><subfield code="a">Nobody</subfield></datafield>'
        "</record>"
        "<record><leader>00000nam a2200000 a 4500</leader>"
        '<controlfield tag="001">A2</controlfield>'
        '<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Somebody</subfield></datafield>'
        "</record></collection>"
    )
    path = tmp_path / "two.xml"
    path.write_text(xml, encoding="utf-8")
    summary = await import_files(store, [path], now=now)
    assert summary.imported == 1
    assert [(problem.position, problem.reason) for problem in summary.skipped] == [
        (1, "no title (245$a)")
    ]


async def test_a_truncated_xml_file_keeps_every_whole_record(
    store: Store, db_path: Path, tmp_path: Path, now: datetime
) -> None:
    text = KOHA_XML.read_text(encoding="utf-8")
    cut = text.index("<record", len(text) // 2)
    damaged = tmp_path / "broken.xml"
    damaged.write_text(text[:cut] + "<record><leader>broken</lead", encoding="utf-8")
    summary = await import_files(store, [damaged], now=now)
    complete = text[:cut].count("</record>")
    assert summary.imported == complete
    (problem,) = summary.skipped
    assert problem.position == complete + 1
    line = text[:cut].count("\n") + 1
    assert problem.reason == f"the file ends in the middle of this record (line {line})"
    assert _counts(db_path)[0] == complete


async def test_a_damaged_xml_record_costs_that_record_only(
    store: Store, db_path: Path, tmp_path: Path, now: datetime
) -> None:
    text = KOHA_XML.read_text(encoding="utf-8")
    starts = [index for index in range(len(text)) if text.startswith("<record", index)]
    tenth = text.index("</datafield>", starts[9])
    # An end tag that does not match its start tag, inside the 10th record only.
    damaged = tmp_path / "damaged.xml"
    damaged.write_text(text[:tenth] + "</subfield>" + text[tenth + 12 :], encoding="utf-8")
    summary = await import_files(store, [damaged], now=now)
    (problem,) = summary.skipped
    assert problem.position == 10
    line = text[:tenth].count("\n") + 1
    assert problem.reason.startswith(f"the XML of this record is damaged at line {line} (")
    assert (summary.read, summary.imported) == (435, 434)
    assert _counts(db_path)[0] == 434


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- exported -->\n'
        '<marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim">{records}'
        "</marc:collection>",
        '<record xmlns="http://www.loc.gov/MARC21/slim">{one}</record>',
    ],
    ids=["prefixed", "one-record-document"],
)
async def test_marcxml_layouts(store: Store, tmp_path: Path, now: datetime, document: str) -> None:
    body = (
        "<marc:leader>00000nam a2200000 a 4500</marc:leader>"
        '<marc:controlfield tag="001">X{n}</marc:controlfield>'
        '<marc:datafield tag="245" ind1="1" ind2="0">'
        '<marc:subfield code="a">Titolo {n}</marc:subfield></marc:datafield>'
    )
    records = "".join(f"<marc:record>{body.format(n=n)}</marc:record>" for n in range(3))
    one = body.format(n=0).replace("marc:", "")
    path = tmp_path / "layout.xml"
    path.write_text(document.format(records=records, one=one), encoding="utf-8")
    summary = await import_files(store, [path], now=now)
    assert summary.skipped == []
    assert summary.imported == (3 if "collection" in document else 1)


async def test_a_record_the_store_refuses_is_skipped_whole(
    store: Store, db_path: Path, now: datetime
) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            "CREATE TRIGGER refuse_daisy BEFORE INSERT ON record_isbns"
            " WHEN NEW.isbn = '9788871006826' BEGIN SELECT RAISE(ABORT, 'refused for test'); END"
        )
    summary = await import_files(store, [BNCF], now=now)
    assert summary.imported == 601
    (problem,) = summary.skipped
    assert "refused for test" in problem.reason
    with sqlite3.connect(db_path) as conn:
        # The record was refused after its row was written in the batch: nothing of it is left.
        assert (
            conn.execute("SELECT count(*) FROM records WHERE title = 'Daisy Miller'").fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM records_fts WHERE records_fts MATCH 'daisy'"
            ).fetchone()[0]
            == 0
        )
    assert _counts(db_path)[:2] == (601, 601)


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "not_marc"), (b"hello, this is not MARC at all\n", "not_marc")],
)
async def test_files_that_are_not_marc_are_refused_before_writing(
    store: Store, db_path: Path, tmp_path: Path, now: datetime, content: bytes, code: str
) -> None:
    bogus = tmp_path / "bogus.mrc"
    bogus.write_bytes(content)
    with pytest.raises(ImportRefused) as refused:
        await import_files(store, [BNCF, bogus], now=now)
    assert refused.value.code == code
    assert _counts(db_path) == (0, 0, 0, 0)


async def test_a_missing_file_or_branch_is_refused_before_writing(
    store: Store, db_path: Path, tmp_path: Path, now: datetime
) -> None:
    with pytest.raises(ImportRefused) as missing:
        await import_files(store, [BNCF, tmp_path / "nope.mrc"], now=now)
    assert missing.value.code == "file_not_found"
    with pytest.raises(ImportRefused) as branch:
        await import_files(store, [BNCF], now=now, branch="NOWHERE")
    assert branch.value.code == "unknown_branch"
    assert _counts(db_path) == (0, 0, 0, 0)
