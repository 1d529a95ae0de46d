"""What the catalog holds, independent of MARC and of SQLite."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from bot.catalog.text import index_text, title_key


class MaterialType(StrEnum):
    """The material types the loan rules distinguish (G8, G9, C2)."""

    BOOK = "book"
    AUDIOVISUAL = "audiovisual"
    PERIODICAL = "periodical"
    AUDIOBOOK = "audiobook"
    EBOOK = "ebook"


class ItemStatus(StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    IN_TRANSIT = "in_transit"
    ON_HOLD_SHELF = "on_hold_shelf"
    LOST = "lost"
    DAMAGED = "damaged"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class ItemData:
    """A copy as a catalog file describes it (holdings field)."""

    barcode: str
    branch_code: str
    location_code: str
    shelf_mark: str | None
    material_type: MaterialType
    section: str | None
    not_for_loan: bool
    condition: str  # "good" | "poor"
    status: ItemStatus  # only used when the copy is new: circulation owns it afterwards

    def catalog_fields(self) -> tuple[object, ...]:
        """The fields a re-import may change on an existing copy (never its circulation status)."""
        return (
            self.branch_code,
            self.shelf_mark,
            self.material_type.value,
            self.section,
            self.not_for_loan,
            self.condition,
        )


@dataclass(frozen=True, slots=True)
class RecordData:
    """A bibliographic record mapped from MARC, ready to be stored and indexed."""

    source_key: str
    marc_format: str  # "marc21" | "unimarc" | "manual"
    title: str
    title_sort: str
    subtitle: str | None = None
    responsibility: str | None = None
    authors: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    isbns: tuple[str, ...] = ()
    publisher: str | None = None
    year: int | None = None
    language: str | None = None
    material_type: MaterialType = MaterialType.BOOK
    items: tuple[ItemData, ...] = field(default=(), compare=False)
    # Problems with parts of the record (a copy left out, ...) for the import summary.
    notes: tuple[str, ...] = field(default=(), compare=False)
    # Derived once, where the record is built (the importer's parsing thread), never again.
    title_key: str = field(init=False, compare=False)
    index_columns: tuple[str, str, str, str] = field(init=False, compare=False, repr=False)
    content_hash: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # title_key: the meaningful words of the title, for exact-title matches (search.py).
        object.__setattr__(self, "title_key", title_key(self.title))
        # What the search index stores: title, authors, subjects, other (publisher, ISBNs).
        columns = (
            index_text(self.title, self.subtitle),
            index_text(*self.authors, self.responsibility),
            index_text(*self.subjects),
            index_text(self.publisher, *self.isbns),
        )
        object.__setattr__(self, "index_columns", columns)
        # Changes exactly when a stored or indexed value changes (copies are compared apart),
        # so a re-import after an upgrade that indexes differently refreshes the records.
        payload = repr(
            (
                self.source_key,
                self.marc_format,
                self.title,
                self.title_sort,
                self.subtitle,
                self.responsibility,
                self.authors,
                self.subjects,
                self.isbns,
                self.publisher,
                self.year,
                self.language,
                self.title_key,
                columns,
            )
        )
        digest = hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    @property
    def display_author(self) -> str | None:
        return self.authors[0] if self.authors else None


def generated_barcode(source_key: str, branch: str, ordinal: int) -> str:
    """A stable barcode for a copy the catalog file describes without one."""
    digest = hashlib.blake2b(source_key.encode(), digest_size=5).hexdigest()
    return f"{branch}-{digest}-{ordinal}"


def generated_item(record: RecordData, branch: str) -> ItemData:
    """The one copy given at ``import-marc --branch`` to a record whose file lists none."""
    return ItemData(
        barcode=generated_barcode(record.source_key, branch, 1),
        branch_code=branch,
        location_code=branch,
        shelf_mark=None,
        material_type=record.material_type,
        section=None,
        not_for_loan=False,
        condition="good",
        status=ItemStatus.AVAILABLE,
    )
