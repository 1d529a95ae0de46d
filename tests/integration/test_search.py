"""Catalog search against a real store: folding, prefixes, ranking, ISBNs, pages, availability."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.catalog.model import ItemData, ItemStatus, MaterialType, RecordData
from bot.catalog.search import match_expression, record_detail, search
from db.catalog import upsert_records
from db.store import Store

HOSTILE = [
    '"',
    '""',
    "'",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(a b)",
    "a AND",
    "AND OR NOT",
    "*",
    "-",
    "- -x",
    "(",
    ")",
    "((",
    "title:x",
    "^x",
    "x*",
    "*x",
    "{title}: x",
    "caffè*",
    "\\",
    "\x00",
    "🎉",
    "🎉📚",
    "👨‍👩‍👧",
    "ᾀ",
    "Ⅻ",
    "\u202e",
    "a" * 5000,
    "x " * 2500,
    "é" * 5000,
    "SELECT * FROM records; --",
    "<script>alert(1)</script>",
    "%",
    "_",
    "",
    "   ",
]


def _record(
    key: str,
    title: str,
    authors: tuple[str, ...] = (),
    subjects: tuple[str, ...] = (),
    items: tuple[ItemData, ...] = (),
    isbns: tuple[str, ...] = (),
) -> RecordData:
    return RecordData(
        source_key=key,
        marc_format="manual",
        title=title,
        title_sort=title.lower(),
        authors=authors,
        subjects=subjects,
        items=items,
        isbns=isbns,
    )


def _copy(barcode: str, branch: str, **changes: object) -> ItemData:
    values: dict[str, object] = {
        "barcode": barcode,
        "branch_code": branch,
        "location_code": branch,
        "shelf_mark": None,
        "material_type": MaterialType.BOOK,
        "section": None,
        "not_for_loan": False,
        "condition": "good",
        "status": ItemStatus.AVAILABLE,
    }
    values.update(changes)
    return ItemData(**values)  # type: ignore[arg-type]


async def test_accents_and_case_do_not_matter(catalog: Store) -> None:
    plain = await search(catalog, "citta")
    assert plain.total > 0
    for variant in ("città", "Cittá", "CITTÀ", "Citta\u0300"):
        page = await search(catalog, variant)
        assert page.total == plain.total
        assert [hit.record_id for hit in page.hits] == [hit.record_id for hit in plain.hits]


async def test_nfd_text_in_the_catalog_matches_composed_queries(catalog: Store) -> None:
    # BNCF writes "Cerè" decomposed; patrons type it composed, or without the accent.
    for query in ("Cerè", "cere", "Roberto Cere"):
        page = await search(catalog, query)
        assert any(hit.title == "Il successo adesso" for hit in page.hits), query


async def test_the_last_word_matches_as_a_prefix(catalog: Store) -> None:
    page = await search(catalog, "springst")
    assert "E Street shuffle" in {hit.title for hit in page.hits}  # subject "Springsteen, Bruce"
    assert (await search(catalog, "spri")).total >= page.total  # a shorter prefix finds more
    assert (await search(catalog, "E Street shuf")).total == 2
    assert (await search(catalog, "shuf E Street")).total == 0  # only the last word is a prefix


async def test_isbn10_and_isbn13_find_the_same_record(catalog: Store) -> None:
    by_10 = await search(catalog, "0-8129-1756-1")
    by_13 = await search(catalog, "978-0-8129-1756-7")
    assert by_10.total == by_13.total == 1
    assert by_10.hits[0].record_id == by_13.hits[0].record_id
    assert by_10.hits[0].title == "The ideas behind the chess openings"


async def test_title_matches_rank_before_author_before_subject(store: Store, now: datetime) -> None:
    async with store.transaction() as conn:
        await upsert_records(
            conn,
            [
                _record("s", "Gardening for beginners", subjects=("Ginestra -- Botany",)),
                _record("a", "Poems of the broom", authors=("Ginestra, Anna",)),
                _record("t", "La ginestra", authors=("Leopardi, Giacomo",)),
            ],
            now=now,
        )
    page = await search(store, "ginestra")
    assert [hit.title for hit in page.hits] == [
        "La ginestra",
        "Poems of the broom",
        "Gardening for beginners",
    ]


async def test_pages_of_five(catalog: Store) -> None:
    first = await search(catalog, "de")
    assert first.total > 10
    second = await search(catalog, "de", page=2)
    assert len(first.hits) == len(second.hits) == 5
    assert not {hit.record_id for hit in first.hits} & {hit.record_id for hit in second.hits}
    beyond = await search(catalog, "de", page=first.pages + 1)
    assert beyond.hits == ()
    assert beyond.total == first.total
    last = await search(catalog, "de", page=first.pages)
    assert 1 <= len(last.hits) <= 5
    assert (first.pages - 1) * 5 + len(last.hits) == first.total


async def test_availability_per_branch(store: Store, db_path: Path, now: datetime) -> None:
    async with store.transaction() as conn:
        await upsert_records(
            conn,
            [
                _record(
                    "r1",
                    "Il barone rampante",
                    authors=("Calvino, Italo",),
                    items=(
                        _copy("B1", "BRU"),
                        _copy("B2", "BRU"),
                        _copy("V1", "VIM"),
                        _copy("C1", "CER"),
                        _copy("C2", "CER", section="REF"),
                        _copy("C3", "CER", not_for_loan=True),
                        _copy("L1", "COL", status=ItemStatus.LOST),
                    ),
                )
            ],
            now=now,
        )
    with sqlite3.connect(db_path) as conn:  # a loan on C1, as circulation will record it
        conn.execute(
            "INSERT INTO patrons (card, name, category, home_branch_id, registered_on,"
            " created_at) VALUES ('P1', 'Anna', 'adult', 1, '2026-01-01', 'x')"
        )
        conn.execute("UPDATE items SET status = 'on_loan' WHERE barcode = 'C1'")
        conn.execute(
            "INSERT INTO loans (item_id, patron_id, branch_id, loaned_at, due_on)"
            " SELECT id, 1, location_branch_id, 'x', '2026-12-12' FROM items"
            " WHERE barcode = 'C1'"
        )
    (hit,) = (await search(store, "barone rampante", not_loanable_sections=["REF"])).hits
    by_code = {branch.code: branch for branch in hit.branches}
    assert set(by_code) == {"BRU", "VIM", "CER"}  # the lost copy is not shown
    assert (by_code["BRU"].on_shelf, by_code["VIM"].on_shelf) == (2, 1)
    assert (by_code["CER"].on_shelf, by_code["CER"].on_loan, by_code["CER"].not_loanable) == (
        0,
        1,
        2,
    )
    assert hit.on_shelf == 3
    assert hit.earliest_due == "2026-12-12"
    detail = await record_detail(store, hit.record_id, not_loanable_sections=["REF"])
    assert detail is not None
    copies = {copy.barcode: copy for copy in detail.copies}
    assert set(copies) == {"B1", "B2", "V1", "C1", "C2", "C3"}
    assert copies["C1"].due_on == "2026-12-12"
    assert copies["C2"].not_loanable
    assert copies["C3"].not_loanable
    assert not copies["B1"].not_loanable


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_text_is_a_search_not_an_error(catalog: Store, text: str) -> None:
    page = await search(catalog, text)
    assert page.total >= len(page.hits) >= 0


async def test_nothing_found_is_an_empty_page(catalog: Store) -> None:
    page = await search(catalog, "zzzyqxw nonexistent")
    assert (page.total, page.hits, page.pages) == (0, (), 1)


@given(st.text(max_size=300))
def test_any_text_gives_a_valid_fts5_expression(text: str) -> None:
    expression = match_expression(text)
    if expression is None:
        return
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('caffe latte citta')")
    conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


@given(text=st.text(max_size=200))
async def test_any_text_returns_a_page_from_the_store(store: Store, text: str) -> None:
    page = await search(store, text)
    assert isinstance(page.total, int)


async def test_function_words_do_not_narrow_or_slow_a_search(store: Store, now: datetime) -> None:
    async with store.transaction() as conn:
        await upsert_records(
            conn,
            [
                _record("rosa", "Il nome della rosa", authors=("Eco, Umberto",)),
                _record("rosa2", "Nome di rosa", authors=("Altri, Autore",)),
                _record("the", "The The", authors=("Band, The",)),
            ],
            now=now,
        )
    assert match_expression("il nome della rosa") == '"nome" "rosa"*'
    titles = {hit.title for hit in (await search(store, "il nome della rosa")).hits}
    assert titles == {"Il nome della rosa", "Nome di rosa"}
    # Only function words: they are the search.
    assert match_expression("The The") == '"the" "the"*'
    assert (await search(store, "the the")).hits[0].title == "The The"


async def test_an_exact_title_comes_before_every_other_match(store: Store, now: datetime) -> None:
    histories = [
        _record(f"h{number}", f"Storia {subject}", authors=("Storia, Anna",))
        for number, subject in enumerate(("d'Italia", "di Roma", "della musica", "antica"))
    ]
    async with store.transaction() as conn:
        await upsert_records(
            conn,
            [_record("morante", "La storia", authors=("Morante, Elsa",)), *histories],
            now=now,
        )
    page = await search(store, "storia")
    assert page.hits[0].title == "La storia"
    assert page.total == 5
    second = await search(store, "storia", page=2, page_size=2)
    first = await search(store, "storia", page=1, page_size=2)
    third = await search(store, "storia", page=3, page_size=2)
    seen = [hit.record_id for part in (first, second, third) for hit in part.hits]
    assert len(seen) == len(set(seen)) == 5  # no record repeated or lost across pages


async def test_ranking_happens_within_a_window_of_recent_matches(
    store: Store, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.catalog import search as search_module

    async with store.transaction() as conn:
        await upsert_records(
            conn,
            [
                _record(f"w{number}", f"Viaggio numero {number}", authors=("Autore, Primo",))
                for number in range(30)
            ],
            now=now,
        )
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    page = await search(store, "viaggio", page_size=5)
    assert (page.total, page.total_is_exact) == (10, False)  # "more than 10"
    assert page.pages == 2  # the window's pages
    assert (await search(store, "viaggio numero 7")).total_is_exact
    newest = await search(store, "viaggio", page=2, page_size=5)
    shown = {int(hit.title.split()[-1]) for hit in (*page.hits, *newest.hits)}
    assert shown == set(range(20, 30))  # the ten most recently added


async def test_function_words_alone_list_the_newest_matches(store: Store, now: datetime) -> None:
    async with store.transaction() as conn:
        await upsert_records(
            conn,
            [_record(f"f{number}", f"Della {word}") for number, word in enumerate("abc")],
            now=now,
        )
        await upsert_records(conn, [_record("della", "Della")], now=now)
    page = await search(store, "della")
    # The exact title first, then newest first (no relevance for a function word).
    assert [hit.title for hit in page.hits] == ["Della", "Della c", "Della b", "Della a"]


async def test_reading_room_sections_ignore_case_and_types_can_be_excluded(
    store: Store, now: datetime
) -> None:
    async with store.transaction() as conn:
        await upsert_records(
            conn,
            [
                _record(
                    "mix",
                    "Rivista di storia",
                    items=(
                        _copy("R1", "BRU", section="Ref"),
                        _copy("P1", "BRU", material_type=MaterialType.PERIODICAL),
                        _copy("B1", "BRU"),
                    ),
                )
            ],
            now=now,
        )
    (hit,) = (
        await search(
            store, "rivista", not_loanable_sections=["REF"], not_loanable_types=["periodical"]
        )
    ).hits
    assert (hit.on_shelf, hit.not_loanable) == (1, 2)
