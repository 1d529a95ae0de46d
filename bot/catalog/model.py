"""What the catalog holds, independent of MARC and of SQLite."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from bot.catalog.text import index_text, title_key

# Part of every record's content hash: raise it when the derived values (title_key, the index
# columns) are computed differently, so that the next import refreshes every record.
INDEXING_VERSION = 1


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

    def storable(self) -> StorableItem:
        return StorableItem(
            self.barcode,
            self.branch_code,
            self.location_code,
            self.shelf_mark,
            self.material_type.value,
            self.section,
            int(self.not_for_loan),
            self.condition,
            self.status.value,
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
        # Changes exactly when a stored or indexed value changes (copies are compared apart);
        # the derived values follow from the others and INDEXING_VERSION.
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
                INDEXING_VERSION,
            )
        )
        digest = hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()
        object.__setattr__(self, "content_hash", digest)

    @property
    def display_author(self) -> str | None:
        return self.authors[0] if self.authors else None

    def storable(self) -> StorableRecord:
        """The record as the store writes it, built where the record is mapped (a worker
        process for big imports): plain tuples travel between processes cheaply."""
        return StorableRecord(
            source_key=self.source_key,
            content_hash=self.content_hash,
            columns=(
                self.marc_format,
                self.title,
                self.subtitle,
                self.title_sort,
                self.title_key,
                self.responsibility,
                json.dumps(list(self.authors), ensure_ascii=False),
                json.dumps(list(self.subjects), ensure_ascii=False),
                self.publisher,
                self.year,
                self.language,
            ),
            index_columns=self.index_columns,
            isbns=self.isbns,
            material_type=self.material_type.value,
            items=tuple(item.storable() for item in self.items),
            notes=self.notes,
        )


class StorableItem(NamedTuple):
    """A copy's catalog columns, in plain values (see :meth:`RecordData.storable`)."""

    barcode: str
    branch_code: str
    location_code: str
    shelf_mark: str | None
    material_type: str
    section: str | None
    not_for_loan: int
    condition: str
    status: str

    def catalog_fields(self) -> tuple[object, ...]:
        """What a re-import may change on an existing copy, as the store returns it."""
        return (
            self.branch_code,
            self.shelf_mark,
            self.material_type,
            self.section,
            self.not_for_loan,
            self.condition,
        )


class StorableRecord(NamedTuple):
    """A record's rows as the store writes them (see :meth:`RecordData.storable`)."""

    source_key: str
    content_hash: str
    # records columns: marc_format, title, subtitle, title_sort, title_key, responsibility,
    # authors (JSON), subjects (JSON), publisher, year, language
    columns: tuple[object, ...]
    index_columns: tuple[str, str, str, str]
    isbns: tuple[str, ...]
    material_type: str
    items: tuple[StorableItem, ...]
    notes: tuple[str, ...]


def generated_barcode(source_key: str, branch: str, ordinal: int) -> str:
    """A stable barcode for a copy the catalog file describes without one."""
    digest = hashlib.blake2b(source_key.encode(), digest_size=5).hexdigest()
    return f"{branch}-{digest}-{ordinal}"


def generated_item(source_key: str, material_type: str, branch: str) -> StorableItem:
    """The one copy given at ``import-marc --branch`` to a record whose file lists none."""
    return StorableItem(
        barcode=generated_barcode(source_key, branch, 1),
        branch_code=branch,
        location_code=branch,
        shelf_mark=None,
        material_type=material_type,
        section=None,
        not_for_loan=0,
        condition="good",
        status=ItemStatus.AVAILABLE.value,
    )
