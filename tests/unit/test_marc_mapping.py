"""MARC21 and UNIMARC records become catalog entries: what is kept, what is dropped."""

from __future__ import annotations

import pytest
from pymarc import Field, Indicators, Leader, Record, Subfield

from bot.catalog.mapping import MappingError, map_record
from bot.catalog.model import ItemStatus, MaterialType


def _record(leader: str = "00000nam a2200000 a 4500") -> Record:
    record = Record()
    record.leader = Leader(leader)
    return record


def _field(tag: str, ind: str = "  ", **codes: str | list[str]) -> Field:
    subfields: list[Subfield] = []
    for code, value in codes.items():
        code = code.removeprefix("s")  # s9 -> 9, so digits can be keyword arguments
        for one in value if isinstance(value, list) else [value]:
            subfields.append(Subfield(code, one))
    return Field(tag=tag, indicators=Indicators(ind[0], ind[1]), subfields=subfields)


def _marc21(*fields: Field, control: str | None = "ocm123") -> Record:
    record = _record()
    if control:
        record.add_field(Field(tag="001", data=control))
    record.add_field(Field(tag="008", data="120829t20132012nyu           000 0 eng  "))
    record.add_field(*fields)
    return record


def test_marc21_title_subtitle_and_responsibility() -> None:
    data = map_record(
        _marc21(
            _field(
                "245",
                "14",
                a="The ideas behind the chess openings :",
                b="a primer /",
                c="Reuben Fine.",
            )
        ),
        "marc21",
    )
    assert data.title == "The ideas behind the chess openings"
    assert data.subtitle == "a primer"
    assert data.responsibility == "Reuben Fine"
    assert data.title_sort == "ideas behind the chess openings"  # 4 non-filing characters


def test_authority_ids_never_reach_a_displayed_author() -> None:
    data = map_record(
        _marc21(
            _field("245", "10", a="E Street shuffle"),
            _field("100", "1 ", a="Heylin, Clinton.", s9="1702"),
            _field("700", "1 ", a="Springsteen, Bruce,", e="interviewee.", s0="n123", s4="ive"),
            _field("650", " 0", a="Rock musicians", z="United States", v="Biography.", s9="1705"),
        ),
        "marc21",
    )
    assert data.authors == ("Heylin, Clinton", "Springsteen, Bruce")
    assert data.subjects == ("Rock musicians -- United States -- Biography",)


def test_year_falls_back_to_the_fixed_field_and_isbns_are_normalised() -> None:
    data = map_record(
        _marc21(
            _field("245", "10", a="No imprint"),
            _field("020", a=["0812917561 :", "9780670026623 (alk. paper)", "0812917562"]),
            _field("020", z="9780000000000"),
        ),
        "marc21",
    )
    assert data.year == 2013
    assert data.language == "eng"
    assert data.isbns == ("9780812917567", "9780670026623")  # the invalid one is dropped


def test_publisher_and_year_from_264_before_260() -> None:
    data = map_record(
        _marc21(
            _field("245", "10", a="Two imprints"),
            _field("264", " 1", a="Milano :", b="Mondadori,", c="2019."),
            _field("260", a="Roma :", b="Other,", c="1990."),
        ),
        "marc21",
    )
    assert (data.publisher, data.year) == ("Mondadori", 2019)


def test_record_without_a_title_is_refused() -> None:
    with pytest.raises(MappingError, match="no title"):
        map_record(_marc21(_field("100", "1 ", a="Nobody")), "marc21")


def test_source_key_prefers_the_control_number_qualified_by_its_agency() -> None:
    record = _marc21(_field("245", "10", a="T"), control="2609914")
    record.add_field(Field(tag="003", data="csc"))
    assert map_record(record, "marc21").source_key == "cn:csc/2609914"
    assert (
        map_record(_marc21(_field("245", "10", a="T"), control="2609914"), "marc21").source_key
        == "cn:2609914"
    )


def test_source_key_without_control_number() -> None:
    koha = _marc21(_field("245", "10", a="T"), _field("999", c="155", d="155"), control=None)
    assert map_record(koha, "marc21").source_key == "koha:155"
    by_isbn = _marc21(_field("245", "10", a="T"), _field("020", a="0812917561"), control=None)
    assert map_record(by_isbn, "marc21").source_key == "isbn:9780812917567"
    plain = _marc21(_field("245", "10", a="T"), control=None)
    assert map_record(plain, "marc21").source_key.startswith("fp:")


def test_koha_952_holdings_become_copies() -> None:
    data = map_record(
        _marc21(
            _field("245", "10", a="Holdings"),
            _field(
                "952", a="CPL", b="MPL", c="GEN", o="945.09 ROS", p="3999900000001", y="BK", s7="0"
            ),
            _field("952", a="CPL", c="REF", p="3999900000002", y="VM", s7="1", s4="1"),
            _field("952", a="FPL", p="3999900000003", s1="1"),
            _field("952", a="FPL", p="3999900000004", s0="1"),
        ),
        "marc21",
    )
    first, reference, lost, withdrawn = data.items
    assert (first.barcode, first.branch_code, first.location_code) == (
        "3999900000001",
        "CPL",
        "MPL",
    )
    assert (first.shelf_mark, first.section, first.material_type) == (
        "945.09 ROS",
        "GEN",
        MaterialType.BOOK,
    )
    assert not first.not_for_loan
    assert reference.not_for_loan
    assert reference.condition == "poor"
    assert reference.material_type is MaterialType.AUDIOVISUAL
    assert lost.status is ItemStatus.LOST
    assert withdrawn.status is ItemStatus.WITHDRAWN


def test_852_of_another_institution_is_not_a_copy_of_ours() -> None:
    data = map_record(
        _marc21(
            _field("245", "10", a="LC record"),
            _field("852", "41", a="British Library", b="HMNTS", j="YK.2011.b.6476"),
            _field("852", x="universal pattern"),
            _field("852", a="BRU", b="Ragazzi", h="R 853", i="ROD", p="B000123"),
        ),
        "marc21",
    )
    assert [
        (item.barcode, item.branch_code, item.section, item.shelf_mark) for item in data.items
    ] == [("B000123", "BRU", "Ragazzi", "R 853 ROD")]


def test_copies_with_unusable_branch_codes_are_left_out_with_a_note() -> None:
    data = map_record(
        _marc21(
            _field("245", "10", a="Odd holdings"),
            _field("952", a="Main library of the town", p="X1"),
            _field("952", a="MPL", p="X2"),
            _field("952", a="MPL", p="X2"),
        ),
        "marc21",
    )
    assert [item.barcode for item in data.items] == ["X2"]
    assert len(data.notes) == 2


def test_material_type_from_the_leader_when_the_item_type_is_unknown() -> None:
    record = _record("00000ngm a2200000 a 4500")
    record.add_field(_field("245", "10", a="A film"), _field("952", a="MPL", p="D1", y="ZZZ"))
    data = map_record(record, "marc21")
    assert data.material_type is MaterialType.AUDIOVISUAL
    assert data.items[0].material_type is MaterialType.AUDIOVISUAL
    serial = _record("00000nas a2200000 a 4500")
    serial.add_field(_field("245", "00", a="Internazionale"))
    assert map_record(serial, "marc21").material_type is MaterialType.PERIODICAL


# UNIMARC --------------------------------------------------------------------------------------


def _unimarc(*fields: Field) -> Record:
    record = _record("01043nam0 22002533i 450 ")
    record.add_field(Field(tag="001", data="AGR0002256"))
    record.add_field(_field("100", a="20180212d2015    ||||0itac50      ba"))
    record.add_field(*fields)
    return record


def test_unimarc_title_with_non_sort_markers_and_nfd_accents() -> None:
    data = map_record(
        _unimarc(
            _field(
                "200",
                "1 ",
                a="\x98Il \x9csuccesso adesso",
                e="diventa il venditore",
                f="Tiziana Camenar",
                g="prefazione di Roberto Cere\u0300",
            ),
            _field("101", "| ", a="ita"),
            _field("210", a="Milano", c="Mind", d="2015"),
        ),
        "unimarc",
    )
    assert data.title == "Il successo adesso"
    assert data.title_sort == "successo adesso"
    assert data.subtitle == "diventa il venditore"
    assert data.responsibility == "Tiziana Camenar ; prefazione di Roberto Cerè"
    assert (data.publisher, data.year, data.language) == ("Mind", 2015, "ita")
    assert data.source_key == "cn:AGR0002256"


def test_unimarc_names_join_surname_and_forename_without_authority_ids() -> None:
    data = map_record(
        _unimarc(
            _field("200", "1 ", a="Daisy Miller"),
            _field(
                "700", " 1", a="James", b=", Henry", f=" <1843-1916>", s3="CFIV000435", s4="070"
            ),
            _field("702", " 1", a="Rossi", b=", Laura", c=" <anglista>", s3="MILV266142"),
            _field("606", a="Lingua inglese", x="Letture", s2="FIR", s3="CFIC123"),
        ),
        "unimarc",
    )
    assert data.authors == ("James, Henry", "Rossi, Laura")
    assert data.subjects == ("Lingua inglese -- Letture",)


def test_unimarc_year_falls_back_to_field_100() -> None:
    data = map_record(_unimarc(_field("200", "1 ", a="Senza data")), "unimarc")
    assert data.year == 2015


def test_unimarc_995_holdings() -> None:
    data = map_record(
        _unimarc(
            _field("200", "1 ", a="Con copie"),
            _field(
                "995", b="CER", c="BRU", f="CER0001", k="853 CAL", e="Narrativa", r="DVD", o="1"
            ),
        ),
        "unimarc",
    )
    (item,) = data.items
    assert (item.barcode, item.branch_code, item.location_code) == ("CER0001", "CER", "BRU")
    assert (item.shelf_mark, item.section, item.material_type, item.not_for_loan) == (
        "853 CAL",
        "Narrativa",
        MaterialType.AUDIOVISUAL,
        True,
    )


def test_a_non_filing_indicator_that_is_not_an_ascii_digit_is_ignored() -> None:
    """ "²" is a digit to ``str.isdigit`` but not to ``int``: the record is imported, sorted
    on its whole title, instead of being skipped as malformed."""
    data = map_record(_marc21(_field("245", "1²", a="Il nome della rosa")), "marc21")
    assert data.title == "Il nome della rosa"
    assert data.title_sort == "il nome della rosa"
