"""From a pymarc record to :class:`RecordData`: MARC21 and UNIMARC field by field.

Only what patrons search and read is kept: title, responsibility, authors, subjects, ISBNs,
publisher, year, language, and the holdings that become copies. Authority links ($0, $3, $9)
and relator codes ($4) are dropped, so ``Heylin, Clinton.$91702`` is shown as ``Heylin,
Clinton``. Holdings come from Koha's 952 (MARC21), the standard 852 (MARC21) or 995 (UNIMARC,
the Koha/BibLibre convention), in that order of preference.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

import pymarc

from bot.catalog import isbn as isbn_tools
from bot.catalog.model import ItemData, ItemStatus, MaterialType, RecordData, generated_barcode
from bot.catalog.text import display, fold, sort_key, strip_isbd, tokens


class MappingError(Exception):
    """The record cannot become a catalog entry; the message says why, for the summary."""


_YEAR = re.compile(r"(?<![0-9])(1[0-9]{3}|20[0-9]{2})(?![0-9])")
_LANGUAGE = re.compile(r"^[a-z]{3}$")
_BRANCH_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")

# Item type codes seen in Koha, SBN and Sirsi exports, upper-cased.
_ITEM_TYPES: dict[str, MaterialType] = {
    **dict.fromkeys(
        ("BK", "BOOK", "BOOKS", "LIB", "LIBRO", "LIBRI", "MONO", "MON", "FIC", "NF"),
        MaterialType.BOOK,
    ),
    **dict.fromkeys(
        (
            "VM",
            "DVD",
            "BLURAY",
            "BLU-RAY",
            "BR",
            "VIDEO",
            "VHS",
            "MU",
            "CD",
            "CDM",
            "MUSIC",
            "MUSICA",
            "AV",
            "AUDIOVISIVO",
            "MULTIMEDIA",
            "CDROM",
            "CD-ROM",
            "GAME",
            "VG",
        ),
        MaterialType.AUDIOVISUAL,
    ),
    **dict.fromkeys(
        ("PER", "SER", "SERIAL", "PERIODICAL", "PERIODICO", "RIVISTA", "MAG", "MAGAZINE", "CR"),
        MaterialType.PERIODICAL,
    ),
    **dict.fromkeys(
        ("AB", "AUDIOBOOK", "AUDIOLIBRO", "SR", "LIBROPARLATO"), MaterialType.AUDIOBOOK
    ),
    **dict.fromkeys(("EB", "EBOOK", "E-BOOK", "MLOL"), MaterialType.EBOOK),
}


class _Fields:
    """A record's fields by tag: pymarc's ``get_fields`` walks every field on each call, and a
    mapping asks for some twenty tags, which made it the import's hottest loop."""

    __slots__ = ("_by_tag", "leader")

    def __init__(self, record: pymarc.Record):
        self.leader = str(record.leader or "")
        by_tag: dict[str, list[tuple[int, pymarc.Field]]] = {}
        for position, field in enumerate(record.fields):
            by_tag.setdefault(field.tag, []).append((position, field))
        self._by_tag = by_tag

    def get(self, *tags: str) -> list[pymarc.Field]:
        """The fields with these tags, in record order."""
        if len(tags) == 1:
            return [field for _, field in self._by_tag.get(tags[0], ())]
        found = [entry for tag in tags for entry in self._by_tag.get(tag, ())]
        found.sort(key=lambda entry: entry[0])
        return [field for _, field in found]


def map_record(record: pymarc.Record, flavour: str) -> RecordData:
    """Map one parsed record; raise :class:`MappingError` if it has no usable title."""
    fields = _Fields(record)
    data = _map_unimarc(fields) if flavour == "unimarc" else _map_marc21(fields)
    return _checked_items(data)


def _checked_items(data: RecordData) -> RecordData:
    """Leave out copies the store could not hold, saying which and why."""
    kept: list[ItemData] = []
    notes: list[str] = []
    barcodes: set[str] = set()
    for item in data.items:
        if not (_BRANCH_CODE.match(item.branch_code) and _BRANCH_CODE.match(item.location_code)):
            notes.append(
                f"copy {item.barcode!r} left out: {item.branch_code!r} is not a branch code"
            )
        elif len(item.barcode) > 64:
            notes.append(
                f"copy {item.barcode[:20]!r}... left out: barcode longer than 64 characters"
            )
        elif item.barcode in barcodes:
            notes.append(f"copy {item.barcode!r} left out: the barcode is repeated in the record")
        else:
            barcodes.add(item.barcode)
            kept.append(item)
    if not notes:
        return data
    return replace(data, items=tuple(kept), notes=data.notes + tuple(notes))


# Shared helpers -------------------------------------------------------------------------------


def _values(field: pymarc.Field, codes: str) -> list[str]:
    return [
        value for code, value in field.subfields if code in codes and value and not value.isspace()
    ]


class _Subfields:
    """A holdings field's first value per subfield code, cleaned for display when read: a copy
    is described by a dozen subfields, read once each, so the field is walked once."""

    __slots__ = ("_raw",)

    def __init__(self, field: pymarc.Field):
        # Reversed, so that the first occurrence of a code is the one kept.
        self._raw = {code: value for code, value in reversed(field.subfields) if value}

    def get(self, code: str) -> str | None:
        value = self._raw.get(code)
        if value is None:
            return None
        return display(value) or None


def _joined(field: pymarc.Field, codes: str, separator: str = " ") -> str:
    return display(separator.join(_values(field, codes)))


def _first(fields: _Fields, tag: str, code: str) -> str | None:
    for field in fields.get(tag):
        for value in _values(field, code):
            return value
    return None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """Drop empty values and repeats that differ only in accents or case, keeping order."""
    kept: list[str] = []
    seen: set[str] = set()
    for value in values:
        key = fold(value)
        if value and key not in seen:
            seen.add(key)
            kept.append(value)
    return tuple(kept)


def _control(fields: _Fields, tag: str) -> str | None:
    found = fields.get(tag)
    if not found or not found[0].is_control_field():
        return None
    value = (found[0].data or "").strip()
    return value or None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def _language(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().lower()[:3]
    return code if _LANGUAGE.match(code) else None


def _isbns(fields: _Fields, tag: str) -> tuple[str, ...]:
    found: list[str] = []
    for field in fields.get(tag):
        for value in _values(field, "a"):
            normalized = isbn_tools.normalize(value)
            if normalized and normalized not in found:
                found.append(normalized)
    return tuple(found)


def _material_from_leader(fields: _Fields) -> MaterialType:
    leader = fields.leader
    kind = leader[6:7]
    level = leader[7:8]
    if kind in ("a", "t") and level in ("s", "b"):
        return MaterialType.PERIODICAL
    if kind == "i":
        return MaterialType.AUDIOBOOK
    if kind in ("g", "j", "m", "l", "r", "k"):
        return MaterialType.AUDIOVISUAL
    return MaterialType.BOOK


def _material(code: str | None, fallback: MaterialType) -> MaterialType:
    if code:
        known = _ITEM_TYPES.get(code.strip().upper())
        if known is not None:
            return known
    return fallback


def _source_key(fields: _Fields, isbns: Sequence[str], fingerprint: Sequence[object]) -> str:
    """Identity across re-imports: control number, else system number, else ISBN, else content."""
    control = _control(fields, "001")
    if control:
        qualifier = _control(fields, "003")
        return f"cn:{qualifier}/{control}" if qualifier else f"cn:{control}"
    system = _first(fields, "035", "a")
    if system:
        return f"sys:{system.strip()}"
    koha = _first(fields, "999", "c")
    if koha and koha.strip().isdigit():
        return f"koha:{koha.strip()}"
    if isbns:
        return f"isbn:{isbns[0]}"
    digest = hashlib.blake2b(repr(tuple(fingerprint)).encode(), digest_size=10).hexdigest()
    return f"fp:{digest}"


def _flag(value: str | None) -> bool:
    return bool(value and value.strip() not in ("", "0"))


# MARC21 ---------------------------------------------------------------------------------------

_MARC21_NAME_FIELDS = ("100", "110", "111", "700", "710", "711")
_MARC21_NAME_CODES = {
    "100": "abcdq",
    "700": "abcdq",
    "110": "abcdn",
    "710": "abcdn",
    "111": "acdnq",
    "711": "acdnq",
}
_MARC21_SUBJECT_FIELDS = ("600", "610", "611", "630", "648", "650", "651", "653", "655")


def _map_marc21(fields: _Fields) -> RecordData:
    fields_245 = fields.get("245")
    if not fields_245 or not _values(fields_245[0], "a"):
        raise MappingError("no title (245$a)")
    title_field = fields_245[0]
    title = strip_isbd(_joined(title_field, "anp"))
    if not title:
        raise MappingError("no title (245$a)")
    subtitle = strip_isbd(_joined(title_field, "b")) or None
    responsibility = strip_isbd(_joined(title_field, "c")) or None
    nonfiling = title_field.indicator2
    skip = int(nonfiling) if nonfiling and nonfiling.isascii() and nonfiling.isdigit() else 0
    title_sort = " ".join(tokens(title[skip:] if 0 < skip < len(title) else title))

    authors = _unique(
        strip_isbd(_joined(field, _MARC21_NAME_CODES[field.tag]))
        for field in fields.get(*_MARC21_NAME_FIELDS)
    )
    subjects = _unique(
        _subject(field, "abcdt", "vxyz") for field in fields.get(*_MARC21_SUBJECT_FIELDS)
    )
    isbns = _isbns(fields, "020")

    publisher = None
    year_text = None
    for field in fields.get("264"):
        if field.indicator2 == "1":
            publisher = publisher or _first_value(field, "b")
            year_text = year_text or _first_value(field, "c")
    for field in fields.get("260"):
        publisher = publisher or _first_value(field, "b")
        year_text = year_text or _first_value(field, "c")
    fixed = _control(fields, "008") or ""
    year = _year(year_text) or (_year(fixed[7:11]) if len(fixed) >= 11 else None)
    language = _language(fixed[35:38] if len(fixed) >= 38 else None) or _language(
        _first(fields, "041", "a")
    )
    material = _material_from_leader(fields)
    source_key = _source_key(fields, isbns, (title, authors, year, publisher))
    items = _marc21_items(fields, source_key, material)
    return RecordData(
        source_key=source_key,
        marc_format="marc21",
        title=title,
        title_sort=title_sort,
        subtitle=subtitle,
        responsibility=responsibility,
        authors=authors,
        subjects=subjects,
        isbns=isbns,
        publisher=publisher,
        year=year,
        language=language,
        material_type=material,
        items=items,
    )


def _first_value(field: pymarc.Field, code: str) -> str | None:
    values = _values(field, code)
    return strip_isbd(display(values[0])) or None if values else None


def _subject(field: pymarc.Field, main: str, subdivisions: str) -> str:
    head = strip_isbd(_joined(field, main))
    parts = [head] if head else []
    parts += [strip_isbd(display(value)) for value in _values(field, subdivisions)]
    return " -- ".join(part for part in parts if part)


def _marc21_items(fields: _Fields, source_key: str, material: MaterialType) -> tuple[ItemData, ...]:
    items: list[ItemData] = []
    koha = fields.get("952")
    for ordinal, field in enumerate(koha, start=1):
        sub = _Subfields(field)
        home = sub.get("a") or sub.get("b")
        if not home:
            continue
        barcode = sub.get("p")
        if not barcode:
            number = sub.get("9")
            barcode = f"koha-{number}" if number else generated_barcode(source_key, home, ordinal)
        status = ItemStatus.AVAILABLE
        if _flag(sub.get("0")):
            status = ItemStatus.WITHDRAWN
        elif _flag(sub.get("1")):
            status = ItemStatus.LOST
        items.append(
            ItemData(
                barcode=barcode,
                branch_code=home,
                location_code=sub.get("b") or home,
                shelf_mark=sub.get("o"),
                material_type=_material(sub.get("y"), material),
                section=sub.get("c"),
                not_for_loan=_flag(sub.get("7")),
                condition="poor" if _flag(sub.get("4")) else "good",
                status=status,
            )
        )
    if koha:
        return tuple(items)
    for ordinal, field in enumerate(fields.get("852"), start=1):
        sub = _Subfields(field)
        home = sub.get("a")
        barcode = sub.get("p")
        if not home or not (barcode or _BRANCH_CODE.match(home)):
            # LC records carry 852s that describe other institutions' copies ("852 $aBritish
            # Library") or patterns ("852 $xuniversal pattern"): a copy of ours has a branch
            # code in $a, or a barcode in $p.
            continue
        shelf = " ".join(value for value in (sub.get(code) for code in "hij") if value)
        items.append(
            ItemData(
                barcode=barcode or generated_barcode(source_key, home, ordinal),
                branch_code=home,
                location_code=home,
                shelf_mark=shelf or None,
                material_type=material,
                section=sub.get("b"),
                not_for_loan=False,
                condition="good",
                status=ItemStatus.AVAILABLE,
            )
        )
    return tuple(items)


# UNIMARC --------------------------------------------------------------------------------------

_UNIMARC_NAME_CODES = {
    "700": "abd",
    "701": "abd",
    "702": "abd",
    "710": "abcd",
    "711": "abcd",
    "712": "abcd",
}
_UNIMARC_SUBJECT_FIELDS = ("600", "601", "602", "604", "605", "606", "607", "608", "610")


def _map_unimarc(fields: _Fields) -> RecordData:
    fields_200 = fields.get("200")
    if not fields_200 or not _values(fields_200[0], "a"):
        raise MappingError("no title (200$a)")
    title_field = fields_200[0]
    raw_titles = _values(title_field, "a")
    part = " ".join(_values(title_field, "hi"))
    raw_title = " ; ".join(raw_titles) + (f". {part}" if part else "")
    title = strip_isbd(display(raw_title))
    if not title:
        raise MappingError("no title (200$a)")
    subtitle = strip_isbd(_joined(title_field, "e", " : ")) or None
    responsibility = strip_isbd(_joined(title_field, "fg", " ; ")) or None

    authors = _unique(
        strip_isbd(_unimarc_name(field)) for field in fields.get(*_UNIMARC_NAME_CODES)
    )
    subjects = _unique(
        _subject(field, "a", "jxyz") for field in fields.get(*_UNIMARC_SUBJECT_FIELDS)
    )
    isbns = _isbns(fields, "010")

    publisher = None
    year_text = None
    for tag in ("210", "214"):
        for field in fields.get(tag):
            publisher = publisher or _first_value(field, "c")
            year_text = year_text or _first_value(field, "d")
    general = _first(fields, "100", "a") or ""
    year = _year(year_text) or (_year(general[9:13]) if len(general) >= 13 else None)
    language = _language(_first(fields, "101", "a"))
    material = _material_from_leader(fields)
    source_key = _source_key(fields, isbns, (title, authors, year, publisher))
    return RecordData(
        source_key=source_key,
        marc_format="unimarc",
        title=title,
        title_sort=sort_key(raw_title),
        subtitle=subtitle,
        responsibility=responsibility,
        authors=authors,
        subjects=subjects,
        isbns=isbns,
        publisher=publisher,
        year=year,
        language=language,
        material_type=material,
        items=_unimarc_items(fields, source_key, material),
    )


def _unimarc_name(field: pymarc.Field) -> str:
    """``$aJames$b, Henry`` → ``James, Henry``: SBN keeps the comma inside $b."""
    pieces: list[str] = []
    for code, value in field.subfields:
        if code not in _UNIMARC_NAME_CODES[field.tag] or not value.strip():
            continue
        if code == "b" and value.lstrip().startswith(","):
            pieces.append(value.strip())
            continue
        if code == "b" and pieces:
            pieces.append(", " + value.strip())
            continue
        pieces.append((" " if pieces else "") + value.strip())
    return display("".join(pieces))


def _unimarc_items(
    fields: _Fields, source_key: str, material: MaterialType
) -> tuple[ItemData, ...]:
    items: list[ItemData] = []
    for ordinal, field in enumerate(fields.get("995"), start=1):
        sub = _Subfields(field)
        home = sub.get("b") or sub.get("a") or sub.get("c")
        if not home:
            continue
        items.append(
            ItemData(
                barcode=sub.get("f") or generated_barcode(source_key, home, ordinal),
                branch_code=home,
                location_code=sub.get("c") or home,
                shelf_mark=sub.get("k"),
                material_type=_material(sub.get("r"), material),
                section=sub.get("e"),
                not_for_loan=_flag(sub.get("o")),
                condition="good",
                status=ItemStatus.LOST if _flag(sub.get("2")) else ItemStatus.AVAILABLE,
            )
        )
    return tuple(items)
