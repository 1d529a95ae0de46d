"""Catalog search as patrons use it: any text in, a page of records with availability out.

Patrons type anything: quotes, ``AND``, ``NEAR``, ``*``, ``-``, parentheses, emoji, a pasted
paragraph. None of it may reach FTS5 as syntax. :func:`match_expression` keeps only the words
(letters and digits, folded like the index), drops function words when there are others
(``il nome della rosa`` searches ``nome rosa``), and quotes each one, so the expression is
always valid; words are ANDed, and the last one also matches as a prefix (``calv`` finds
Calvino).

Order of results: records whose whole title is the query come first (a patron typing
``La storia`` wants Morante's novel, not the thousand histories); then FTS5's bm25 with column
weights that put title matches before author matches before subject matches (see the
migration that creates ``records_fts``), within a ranking window (:data:`RANK_WINDOW`, see
:func:`db.catalog.match_page`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.catalog import isbn as isbn_tools
from bot.catalog.text import content_words, is_meaningful, tokens
from db import catalog as catalog_repo
from db.store import Store

PAGE_SIZE = 5
MAX_WORDS = 8  # more words than this only narrow a search to nothing
MAX_WORD_LENGTH = 40
MIN_PREFIX_LENGTH = 3  # shorter prefixes match half the index and help nobody
# Prefixes of 3-4 letters have their own index (records_fts prefix='3 4'): FTS5 reads one list
# instead of merging every word that starts with them.
# Matches ranked by relevance, and counted, at most: past it a patron is told "more than 500".
# Evergreen also checks relevance for a bounded number of matches (superpage_size *
# max_superpages); 500 keeps the slowest searches near 5 ms at a million records
# (db.catalog.match_page, docs/PERFORMANCE.md).
RANK_WINDOW = 500
EXACT_TITLES = 10  # exact-title matches put first at most


def match_expression(text: str) -> str | None:
    """The FTS5 expression for a patron's text, or None when it has no words at all."""
    words = _query_words(text)
    if not words:
        return None
    parts = [f'"{word}"' for word in words]
    if len(words[-1]) >= MIN_PREFIX_LENGTH:
        parts[-1] += "*"
    return " ".join(parts)


def _query_words(text: str) -> list[str]:
    return content_words([word[:MAX_WORD_LENGTH] for word in tokens(text)])[:MAX_WORDS]


@dataclass(frozen=True, slots=True)
class BranchAvailability:
    code: str
    name: str
    on_shelf: int
    on_loan: int
    not_loanable: int
    elsewhere: int


@dataclass(frozen=True, slots=True)
class Hit:
    record_id: int
    title: str
    subtitle: str | None
    authors: tuple[str, ...]
    year: int | None
    publisher: str | None
    isbns: tuple[str, ...]
    branches: tuple[BranchAvailability, ...] = field(default=())
    earliest_due: str | None = None

    @property
    def author(self) -> str | None:
        return self.authors[0] if self.authors else None

    @property
    def on_shelf(self) -> int:
        return sum(branch.on_shelf for branch in self.branches)

    @property
    def on_loan(self) -> int:
        return sum(branch.on_loan for branch in self.branches)

    @property
    def not_loanable(self) -> int:
        return sum(branch.not_loanable for branch in self.branches)

    def as_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "title": self.title,
            "subtitle": self.subtitle,
            "author": self.author,
            "authors": list(self.authors),
            "year": self.year,
            "publisher": self.publisher,
            "isbn": list(self.isbns),
            "available": self.on_shelf,
            "on_loan": self.on_loan,
            "not_loanable": self.not_loanable,
            "earliest_due": self.earliest_due,
            "branches": [
                {
                    "code": branch.code,
                    "name": branch.name,
                    "on_shelf": branch.on_shelf,
                    "on_loan": branch.on_loan,
                    "not_loanable": branch.not_loanable,
                    "elsewhere": branch.elsewhere,
                }
                for branch in self.branches
            ],
        }


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: str
    total: int
    page: int
    page_size: int
    hits: tuple[Hit, ...]
    by_isbn: bool = False

    @property
    def total_is_exact(self) -> bool:
        """False when there are so many matches that counting stopped at RANK_WINDOW."""
        return self.total < RANK_WINDOW

    @property
    def pages(self) -> int:
        """Pages a patron can reach (the ranking window bounds them, see RANK_WINDOW)."""
        reachable = min(self.total, RANK_WINDOW)
        return max(1, -(-reachable // self.page_size))

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "total_is_exact": self.total_is_exact,
            "page": self.page,
            "pages": self.pages,
            "results": [hit.as_json() for hit in self.hits],
        }


async def search(
    store: Store,
    text: str,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    not_loanable_sections: Sequence[str] = (),
    not_loanable_types: Sequence[str] = (),
) -> SearchPage:
    """One page of results for any text; never raises for what the text contains."""
    page = max(1, page)
    conn = store.reader
    offset = (page - 1) * page_size
    isbn13 = isbn_tools.parse_query(text)
    if isbn13 is not None:
        ids = await catalog_repo.records_by_isbn(conn, isbn13)
        if ids:
            hits = await _hits(
                store, ids[offset : offset + page_size], not_loanable_sections, not_loanable_types
            )
            return SearchPage(text, len(ids), page, page_size, hits, by_isbn=True)
    expression = match_expression(text)
    if expression is None:
        return SearchPage(text, 0, page, page_size, ())
    words = _query_words(text)
    exact = await catalog_repo.records_by_title_key(conn, " ".join(words), EXACT_TITLES)
    relevance = any(is_meaningful(word) for word in words)
    if not exact:
        ids, total = await catalog_repo.match_page(
            conn, expression, page_size, offset, RANK_WINDOW, ranked=relevance
        )
    else:
        # Exact titles lead every page sequence; the ranked ones follow without repeating them.
        ranked, total = await catalog_repo.match_page(
            conn, expression, offset + page_size + len(exact), 0, RANK_WINDOW, ranked=relevance
        )
        exact_set = set(exact)
        combined = exact + [record_id for record_id in ranked if record_id not in exact_set]
        ids = combined[offset : offset + page_size]
    hits = await _hits(store, ids, not_loanable_sections, not_loanable_types)
    return SearchPage(text, total, page, page_size, hits)


async def _hits(
    store: Store,
    ids: Sequence[int],
    not_loanable_sections: Sequence[str],
    not_loanable_types: Sequence[str] = (),
) -> tuple[Hit, ...]:
    found = await catalog_repo.records_with_copies(
        store.reader, ids, not_loanable_sections, not_loanable_types
    )
    hits: list[Hit] = []
    for record_id in ids:
        if record_id not in found:  # deleted between the two reads
            continue
        row, entries = found[record_id]
        dues = [entry.earliest_due for entry in entries if entry.earliest_due]
        hits.append(
            Hit(
                record_id=record_id,
                title=row.title,
                subtitle=row.subtitle,
                authors=row.authors,
                year=row.year,
                publisher=row.publisher,
                isbns=row.isbns,
                branches=tuple(
                    BranchAvailability(
                        entry.code,
                        entry.name,
                        entry.on_shelf,
                        entry.on_loan,
                        entry.not_loanable,
                        entry.elsewhere,
                    )
                    for entry in entries
                ),
                earliest_due=min(dues) if dues else None,
            )
        )
    return tuple(hits)


@dataclass(frozen=True, slots=True)
class RecordDetail:
    record: catalog_repo.RecordRow
    copies: tuple[catalog_repo.CopyRow, ...]


async def record_detail(
    store: Store,
    record_id: int,
    not_loanable_sections: Sequence[str] = (),
    not_loanable_types: Sequence[str] = (),
) -> RecordDetail | None:
    """A record with every copy in every branch (shelf mark, status, due date)."""
    async with store.snapshot() as conn:
        rows = await catalog_repo.records(conn, [record_id])
        if record_id not in rows:
            return None
        copies = await catalog_repo.copies(
            conn, record_id, not_loanable_sections, not_loanable_types
        )
    return RecordDetail(rows[record_id], tuple(copies))
